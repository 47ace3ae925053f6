//! edgescope: OpenTelemetry for the code that runs closest to users — browser pages and edge
//! workers — compiled to WebAssembly.
//!
//! The crate has two layers:
//! - a plain-Rust core with no JavaScript in it: [`Sdk`] keeps open spans, the active-span
//!   stack, bounded queues of finished spans and log records, and encodes batches as OTLP/JSON;
//!   [`propagation`] reads and writes W3C `traceparent`. All of it is tested with a native
//!   `cargo test`.
//! - a thin platform layer: the clock and randomness (`crypto.getRandomValues`,
//!   `performance.timeOrigin + performance.now()` on wasm32) and, on wasm32, the exports
//!   that the npm package's JavaScript entry points call (plain ones in the npm build). Network
//!   I/O, timers and page lifecycle live in that JavaScript, which is small.
//!
//! ```
//! use edgescope::{Config, Sdk, SpanKind};
//!
//! let mut sdk = Sdk::new(Config { service_name: "checkout".into(), ..Config::default() });
//! let span = sdk.start_span("load cart", SpanKind::Internal, None);
//! sdk.set_attribute(span, "cart.items", 3i64.into());
//! sdk.end_span(span);
//! let body = sdk.take_traces_json().expect("one span is queued");
//! assert!(body.contains(r#""name":"load cart""#));
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

extern crate alloc;

mod diagnostics;
#[cfg(any(target_arch = "wasm32", feature = "otel-api"))]
mod global;
/// The npm package's exports: only in builds that ask for them (`npm` does), so that a Rust
/// app linking this crate does not export the JavaScript API's functions from its own module.
#[cfg(all(target_arch = "wasm32", feature = "js-exports"))]
pub mod js;
#[cfg(feature = "otel-api")]
pub mod otel;
mod platform;
pub mod propagation;
pub mod redact;
pub mod retry;
mod sampler;
mod sdk;
mod text;

/// Single-threaded wasm needs no locking allocator; this one is a few hundred bytes.
#[cfg(all(target_arch = "wasm32", feature = "npm"))]
#[global_allocator]
// SAFETY: wasm32 without the atomics feature runs one thread, which is what
// `AssumeSingleThreaded` requires.
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

/// The npm build has no `std`, so no panic hook that formats messages: a panic (a bug, never
/// bad input) traps, the JavaScript layer catches the error, and the SDK stops recording.
#[cfg(all(target_arch = "wasm32", feature = "npm", not(feature = "std")))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

pub use diagnostics::Diagnostics;
pub use edgescope_otlp::{AnyValue, KeyValue, SpanKind, StatusCode};
pub use propagation::SpanContext;
pub use sampler::Sampler;
pub use sdk::{Config, Handle, Sdk, Severity, StartOptions};
