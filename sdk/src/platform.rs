//! Clock and randomness. On wasm32 they come from the JavaScript host; natively from `std`,
//! so that the core can be tested with a plain `cargo test`.

#[cfg(target_arch = "wasm32")]
mod imp {
    #[cfg(feature = "json")]
    use alloc::string::String;
    #[cfg(not(feature = "npm"))]
    use wasm_bindgen::prelude::*;

    #[cfg(not(feature = "npm"))]
    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = Date, js_name = now)]
        fn date_now() -> f64;
        #[wasm_bindgen(js_namespace = performance, js_name = now)]
        fn performance_now() -> f64;
        /// `performance`, named only to read its `timeOrigin`.
        #[wasm_bindgen(js_name = performance)]
        type Performance;
        /// `performance.timeOrigin` (NaN where it is missing). A getter rather than a
        /// `thread_local_v2` static, which brings a lazy cell and its panic paths.
        #[wasm_bindgen(static_method_of = Performance, js_class = performance, getter = timeOrigin)]
        fn time_origin() -> f64;
        #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
        fn get_random_values(buf: &mut [u8]);
        #[cfg(feature = "json")]
        #[wasm_bindgen(js_name = String)]
        fn js_string(v: f64) -> String;
    }

    // The npm module's imports, which `sdk/js/core.js` provides without wasm-bindgen (ADR
    // 0010): the same host functions, with a byte range of wasm memory where a value crosses.
    #[cfg(feature = "npm")]
    #[link(wasm_import_module = "edgescope")]
    extern "C" {
        #[link_name = "dateNow"]
        fn date_now_raw() -> f64;
        #[link_name = "now"]
        fn performance_now_raw() -> f64;
        #[link_name = "timeOrigin"]
        fn time_origin_raw() -> f64;
        /// `crypto.getRandomValues` on `len` bytes at `ptr`.
        #[link_name = "random"]
        fn random_raw(ptr: *mut u8, len: usize);
        /// Writes `String(v)` (at most 32 ASCII bytes) at `out` and returns its length.
        #[cfg(feature = "json")]
        #[link_name = "number"]
        fn number_raw(v: f64, out: *mut u8) -> usize;
    }

    #[cfg(feature = "npm")]
    fn date_now() -> f64 {
        // SAFETY: a host function without arguments.
        unsafe { date_now_raw() }
    }

    #[cfg(feature = "npm")]
    fn performance_now() -> f64 {
        // SAFETY: a host function without arguments.
        unsafe { performance_now_raw() }
    }

    /// `performance`, named only to read its `timeOrigin` (as the wasm-bindgen import is).
    #[cfg(feature = "npm")]
    struct Performance;

    #[cfg(feature = "npm")]
    impl Performance {
        fn time_origin() -> f64 {
            // SAFETY: a host function without arguments.
            unsafe { time_origin_raw() }
        }
    }

    #[cfg(feature = "npm")]
    fn get_random_values(buf: &mut [u8]) {
        // SAFETY: the host writes exactly `buf.len()` bytes at `buf`, which is borrowed
        // mutably for the call.
        unsafe { random_raw(buf.as_mut_ptr(), buf.len()) }
    }

    /// Appends JavaScript's text of a finite double (`String(v)`, at most 24 bytes).
    #[cfg(all(feature = "npm", feature = "json"))]
    fn push_number(v: f64, out: &mut String) {
        let mut text = [0; 32];
        // SAFETY: the host writes at most 32 bytes at `text`, which is borrowed for the call.
        let len = unsafe { number_raw(v, text.as_mut_ptr()) };
        out.push_str(core::str::from_utf8(text.get(..len).unwrap_or_default()).unwrap_or_default());
    }

    #[cfg(all(feature = "json", not(feature = "npm")))]
    fn push_number(v: f64, out: &mut String) {
        out.push_str(&js_string(v));
    }

    /// Milliseconds to add to `performance.now()` to get Unix time; fixed on first use and
    /// re-anchored when it drifts from `Date.now()` by more than a second (a tab that slept:
    /// `performance.now()` stops while the machine sleeps, the wall clock does not).
    static mut ANCHOR_MS: f64 = f64::NAN;

    /// The `performance.now()` of the last comparison with `Date.now()`: a burst of spans
    /// shares one comparison per 20 ms (each host call costs as much as encoding a span), and
    /// a tab that slept is caught within 20 ms of waking.
    static mut CHECKED_MS: f64 = f64::NEG_INFINITY;

    pub(crate) fn now_unix_nanos() -> u64 {
        unix_nanos_at(performance_now())
    }

    /// `Date.now()`: the wall clock in whole milliseconds.
    #[cfg(feature = "otel-api")]
    pub(crate) fn date_now_ms() -> f64 {
        date_now()
    }

    /// Unix nanoseconds at `perf`, a `performance.now()` reading the caller took (the span hot
    /// path reads the clock in JavaScript, which saves a call out of wasm per timestamp).
    pub(crate) fn unix_nanos_at(perf: f64) -> u64 {
        // SAFETY: wasm32 without atomics is single-threaded; nothing else touches these.
        let (anchor, checked) =
            unsafe { (&mut *core::ptr::addr_of_mut!(ANCHOR_MS), &mut *core::ptr::addr_of_mut!(CHECKED_MS)) };
        let mut ms = *anchor + perf;
        if anchor.is_nan() || perf - *checked >= 20.0 {
            *checked = perf;
            let wall = date_now();
            if anchor.is_nan() {
                let origin = Performance::time_origin();
                *anchor = if origin > 0.0 { origin } else { wall - perf };
            }
            ms = *anchor + perf;
            if (ms - wall).abs() > 1000.0 {
                *anchor = wall - perf;
                ms = wall;
            }
        }
        super::millis_to_nanos(ms)
    }

    pub(crate) fn fill_random(buf: &mut [u8]) {
        get_random_values(buf);
    }

    /// Doubles are printed by JavaScript, which already carries a shortest round-trip printer.
    /// Non-finite values are written as proto3 JSON strings here, so that the shared writer's
    /// Rust float printer (and its tables) stays out of the module.
    #[cfg(feature = "json")]
    pub(crate) fn format_f64(v: f64, out: &mut String) {
        out.push_str(if v.is_nan() {
            "\"NaN\""
        } else if v == f64::INFINITY {
            "\"Infinity\""
        } else if v == f64::NEG_INFINITY {
            "\"-Infinity\""
        } else if v == 0.0 && v.is_sign_negative() {
            // JavaScript's `String(-0)` is `0`.
            "-0"
        } else {
            return push_number(v, out);
        });
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};

    pub(crate) fn now_unix_nanos() -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
    }

    /// SipHash with per-process random keys over a counter: unpredictable enough for ids in
    /// native tests and tools, without a dependency.
    pub(crate) fn fill_random(buf: &mut [u8]) {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let state = std::collections::hash_map::RandomState::new();
        for chunk in buf.chunks_mut(8) {
            let mut h = state.build_hasher();
            h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
            chunk.copy_from_slice(&h.finish().to_le_bytes()[..chunk.len()]);
        }
    }

    #[cfg(feature = "json")]
    pub(crate) fn format_f64(v: f64, out: &mut String) {
        edgescope_otlp::json::format_f64(v, out);
    }
}

#[cfg(all(target_arch = "wasm32", feature = "otel-api"))]
pub(crate) use imp::date_now_ms;
#[cfg(feature = "json")]
pub(crate) use imp::format_f64;
#[cfg(all(target_arch = "wasm32", feature = "js-exports"))]
pub(crate) use imp::unix_nanos_at;
pub(crate) use imp::{fill_random, now_unix_nanos};

/// Unix milliseconds (a JavaScript time) in Unix nanoseconds, 0 for what is not a time after
/// the epoch. The whole milliseconds and the fraction are converted apart: `ms * 1e6` alone
/// would round to a multiple of 256 ns (a double holds 53 bits), so a whole-millisecond time
/// (a `Date`) would not come out exact. What a double holds of the fraction at today's times is
/// about a quarter of a microsecond.
#[allow(dead_code)]
pub(crate) fn millis_to_nanos(ms: f64) -> u64 {
    if !(ms.is_finite() && ms > 0.0) {
        return 0;
    }
    // `as` truncates and saturates; the difference of a double and its whole part is exact.
    let whole = ms as u64;
    whole.saturating_mul(1_000_000).saturating_add(((ms - whole as f64) * 1e6 + 0.5) as u64)
}

#[cfg(test)]
mod tests {
    use super::millis_to_nanos;

    #[test]
    fn javascript_times_become_exact_nanoseconds_where_the_double_holds_them() {
        // `ms * 1e6` alone gives 1_800_000_000_123_000_064 here.
        assert_eq!(millis_to_nanos(1_800_000_000_123.0), 1_800_000_000_123_000_000);
        assert_eq!(millis_to_nanos(1_800_000_000_123.25), 1_800_000_000_123_250_000);
        assert_eq!(millis_to_nanos(1_800_000_000_600.5), 1_800_000_000_600_500_000);
        assert_eq!(millis_to_nanos(0.000_001), 1);
        for no_time in [0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(millis_to_nanos(no_time), 0);
        }
        assert_eq!(millis_to_nanos(1e300), u64::MAX, "saturates");
    }
}
