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

/// `v.remove(i)` when `i` is in bounds, else nothing. `Vec::remove`'s own bounds assertion
/// formats a panic message, whose code and text the wasm module would carry for call sites
/// whose index is always in bounds anyway.
pub(crate) fn remove_at<T>(v: &mut alloc::vec::Vec<T>, i: usize) {
    let len = v.len();
    if i < len {
        // SAFETY: `i < len`: the element at `i` is read out once, the `len - i - 1` after it
        // move down over it (within the vector's initialised elements), and the length is cut
        // before the element is dropped, as `Vec::remove` does it.
        unsafe {
            let p = v.as_mut_ptr().add(i);
            let item = core::ptr::read(p);
            core::ptr::copy(p.add(1), p, len - i - 1);
            v.set_len(len - 1);
            drop(item);
        }
    }
}

/// Drops the first `n` elements of `v` (all of them when `n` is larger), as `v.drain(..n)`
/// does, without the range check that formats a panic message.
pub(crate) fn drop_front<T: Copy>(v: &mut alloc::vec::Vec<T>, n: usize) {
    let len = v.len();
    let n = n.min(len);
    // SAFETY: `n <= len`: the `len - n` initialised elements after the first `n` move to the
    // front (`ptr::copy` allows the overlap), and `T: Copy` has nothing to drop.
    unsafe {
        let p = v.as_mut_ptr();
        core::ptr::copy(p.add(n), p, len - n);
        v.set_len(len - n);
    }
}

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
pub use sdk::{Config, Correlation, Handle, Sdk, Severity, StartOptions};

#[cfg(test)]
mod tests {
    use alloc::rc::Rc;
    use alloc::vec;

    #[test]
    fn remove_at_removes_the_element_in_order_and_drops_it_once_and_ignores_an_index_out_of_bounds() {
        let tokens: vec::Vec<Rc<u8>> = (0..4).map(Rc::new).collect();
        let mut v = tokens.clone();
        super::remove_at(&mut v, 1);
        assert_eq!(v.iter().map(|t| **t).collect::<vec::Vec<_>>(), vec![0, 2, 3]);
        // The removed element was dropped (only `tokens` holds it), the others were not.
        assert_eq!(tokens.iter().map(Rc::strong_count).collect::<vec::Vec<_>>(), vec![2, 1, 2, 2]);
        super::remove_at(&mut v, 3);
        assert_eq!(v.len(), 3);
        super::remove_at(&mut v, 2);
        super::remove_at(&mut v, 0);
        assert_eq!(v.iter().map(|t| **t).collect::<vec::Vec<_>>(), vec![2]);
        assert_eq!(tokens.iter().map(Rc::strong_count).collect::<vec::Vec<_>>(), vec![1, 1, 2, 1]);
    }

    #[test]
    fn drop_front_keeps_the_elements_after_the_first_n_in_order() {
        let mut v = vec![1u8, 2, 3, 4, 5];
        super::drop_front(&mut v, 0);
        assert_eq!(v, [1, 2, 3, 4, 5]);
        super::drop_front(&mut v, 2);
        assert_eq!(v, [3, 4, 5]);
        super::drop_front(&mut v, 9);
        assert!(v.is_empty());
    }
}
