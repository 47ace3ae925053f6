//! edgescope: OpenTelemetry for the code that runs closest to users — browser pages and edge
//! workers — compiled to WebAssembly.
//!
//! The crate has two layers:
//! - a plain-Rust core with no JavaScript in it: [`Sdk`] keeps open spans, the active-span
//!   stack, bounded queues of finished spans and log records, and encodes batches as OTLP/JSON;
//!   [`propagation`] reads and writes W3C `traceparent`. All of it is tested with a native
//!   `cargo test`.
//! - a thin platform layer: the clock and randomness (`crypto.getRandomValues`,
//!   `performance.timeOrigin + performance.now()` on wasm32) and, on wasm32, the
//!   `#[wasm_bindgen]` exports that the npm package's JavaScript entry points call. Network
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
#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

mod diagnostics;
#[cfg(target_arch = "wasm32")]
pub mod js;
mod platform;
pub mod propagation;
pub mod retry;
mod sampler;
mod sdk;

pub use diagnostics::Diagnostics;
pub use edgescope_otlp::{AnyValue, KeyValue, SpanKind, StatusCode};
pub use propagation::SpanContext;
pub use sampler::Sampler;
pub use sdk::{Config, Handle, Sdk, Severity};
