//! The one SDK of a page, isolate or process, shared by the JavaScript exports and the
//! `opentelemetry` API implementation.

use crate::{Config, Sdk};

#[cfg(target_arch = "wasm32")]
mod imp {
    use core::cell::UnsafeCell;

    use super::*;

    /// A page or an isolate runs one thread of JavaScript and wasm32 without the atomics
    /// feature has no threads, so a plain cell is enough. It is only reached through [`with`],
    /// which is never re-entered: nothing in the SDK calls back into code that could call it
    /// while `f` runs (the clock and `crypto.getRandomValues` are host functions).
    struct Global(UnsafeCell<Option<Sdk>>);

    // SAFETY: single-threaded, see above.
    unsafe impl Sync for Global {}

    static SDK: Global = Global(UnsafeCell::new(None));

    // The `opentelemetry` API's way in; `js.rs` uses `get`.
    #[cfg_attr(not(feature = "otel-api"), allow(dead_code))]
    pub(crate) fn with<R>(f: impl FnOnce(&mut Sdk) -> R) -> R {
        f(get())
    }

    /// The SDK, created on first use. Out of line, so that every caller of [`with`] (each
    /// export in `js.rs`) does not carry its own copy of `Config::default` and `Sdk::new`'s
    /// call. The reference must not be kept past the caller's use of it, as in [`with`].
    #[inline(never)]
    pub(crate) fn get() -> &'static mut Sdk {
        // SAFETY: single-threaded and never re-entered, so this is the only live reference.
        let slot = unsafe { &mut *SDK.0.get() };
        slot.get_or_insert_with(|| Sdk::new(Config::default()))
    }
}

#[cfg(all(not(target_arch = "wasm32"), feature = "otel-api"))]
mod imp {
    use std::sync::Mutex;

    use super::*;

    static SDK: Mutex<Option<Sdk>> = Mutex::new(None);

    pub(crate) fn with<R>(f: impl FnOnce(&mut Sdk) -> R) -> R {
        // A panic while the lock was held leaves a usable SDK: every operation is complete or
        // not started, so the poison flag carries no information here.
        let mut guard = SDK.lock().unwrap_or_else(|p| p.into_inner());
        f(guard.get_or_insert_with(|| Sdk::new(Config::default())))
    }
}

#[cfg(all(target_arch = "wasm32", feature = "js-exports"))]
pub(crate) use imp::get;
#[allow(unused_imports)]
pub(crate) use imp::with;
