//! The npm module's exports without wasm-bindgen (ADR 0010): numbers cross as numbers, strings
//! as a pointer and a length of UTF-8 that `sdk/js/core.js` wrote into the scratch buffer, and
//! results that are strings or bytes stay in wasm memory for `core.js` to read. Each export
//! here is the function of the same JavaScript name in `js.rs`, which Rust apps and the Rust
//! tests call through wasm-bindgen as before; `core.js` offers the npm package's JavaScript the
//! functions wasm-bindgen's generated glue offered, without that glue or its shims in the
//! module (about 2 KB gzip of the default browser entry).
//!
//! A missing optional string is the length `usize::MAX` (`-1` from JavaScript), a missing
//! optional number NaN, a boolean any `u32` (non-zero is true).

use alloc::borrow::ToOwned;
use alloc::vec::Vec;
use core::cell::UnsafeCell;

use super::*;

/// A `Vec<u8>` owned by the boundary (single-threaded, as for `Global`).
struct Buffer(UnsafeCell<Vec<u8>>);

// SAFETY: single-threaded, as for `Global`.
unsafe impl Sync for Buffer {}

/// Where JavaScript writes a call's string arguments, one after the other; it grows only in
/// `scratch`, which JavaScript calls before writing more than it holds.
static SCRATCH: Buffer = Buffer(UnsafeCell::new(Vec::new()));

/// The last string or byte result (`header`, `parseTraceparent`, `take`), kept until the next
/// one so that JavaScript can copy it out; its address is in `RESULT_AT`.
static RESULT: Buffer = Buffer(UnsafeCell::new(Vec::new()));

/// The address of `RESULT`'s bytes (it moves with each result), at the address `resultAt`
/// gives.
struct Slot(UnsafeCell<u32>);

// SAFETY: single-threaded, as for `Global`.
unsafe impl Sync for Slot {}

static RESULT_AT: Slot = Slot(UnsafeCell::new(0));

/// The scratch buffer with room for `n` bytes, for JavaScript to write arguments into.
#[export_name = "scratch"]
extern "C" fn scratch(n: usize) -> *mut u8 {
    // SAFETY: single-threaded; no argument borrowed from the buffer is alive between calls.
    let buf = unsafe { &mut *SCRATCH.0.get() };
    if buf.len() < n {
        buf.resize(n, 0);
    }
    buf.as_mut_ptr()
}

/// Where JavaScript reads the address of the last string or byte result.
#[export_name = "resultAt"]
extern "C" fn result_at() -> u32 {
    RESULT_AT.0.get() as u32
}

/// Keeps `bytes` for JavaScript to read: their length, or -1 for `None` (which frees the last
/// result: after an export's last batch, its bytes are not held until the next).
#[inline(never)]
fn result(bytes: Option<Vec<u8>>) -> i32 {
    // SAFETY: single-threaded; JavaScript reads the result only between calls into wasm.
    let (buf, at) = unsafe { (&mut *RESULT.0.get(), &mut *RESULT_AT.0.get()) };
    let len = bytes.as_ref().map_or(-1, |b| b.len() as i32);
    *buf = bytes.unwrap_or_default();
    *at = buf.as_ptr() as u32;
    len
}

/// A string JavaScript wrote into wasm memory; `None` for the length `usize::MAX`, and for
/// bytes that are not UTF-8 (`encodeInto` never writes such bytes).
#[inline(never)]
fn opt_text<'a>(ptr: *const u8, len: usize) -> Option<&'a str> {
    if len == usize::MAX {
        return None;
    }
    // SAFETY: JavaScript passes a range of wasm memory that it has just written and that no
    // Rust reference points into (the scratch buffer); it lives until the call returns.
    core::str::from_utf8(unsafe { core::slice::from_raw_parts(ptr, len) }).ok()
}

/// A required string argument (empty when missing).
fn text<'a>(ptr: *const u8, len: usize) -> &'a str {
    opt_text(ptr, len).unwrap_or_default()
}

/// An optional string argument as the `Option<String>` that `js.rs` takes.
fn owned(ptr: *const u8, len: usize) -> Option<String> {
    opt_text(ptr, len).map(ToOwned::to_owned)
}

/// A typed value that JavaScript wrote (see `putValue` in `core.js`): a type byte, then 0 a
/// string (u32 byte length, UTF-8), 1 a number (f64), 2 a boolean (one byte), 3 an array (u32
/// count, then that many values, never arrays). The length `usize::MAX` is no attribute value.
fn value(ptr: *const u8, len: usize) -> Option<AnyValue> {
    if len == usize::MAX {
        return None;
    }
    // SAFETY: as for `opt_text`.
    Reader(unsafe { core::slice::from_raw_parts(ptr, len) }).any()
}

/// NaN, JavaScript's `undefined` as a number, as `None`.
fn opt_number(n: f64) -> Option<f64> {
    (!n.is_nan()).then_some(n)
}

#[export_name = "opsBuffer"]
extern "C" fn raw_ops_buffer() -> u32 {
    ops_buffer()
}

#[export_name = "flushOps"]
extern "C" fn raw_flush_ops() {
    flush_ops()
}

#[export_name = "intern"]
extern "C" fn raw_intern(ptr: *const u8, len: usize) -> u32 {
    intern(text(ptr, len))
}

#[export_name = "configure"]
#[allow(clippy::too_many_arguments)]
extern "C" fn raw_configure(
    name: *const u8,
    name_len: usize,
    max_queue_size: u32,
    max_export_batch_size: u32,
    sampler: *const u8,
    sampler_len: usize,
    sampler_arg: f64,
    keep_errors: u32,
    max_attribute_value_length: u32,
) -> bool {
    configure(
        text(name, name_len),
        max_queue_size,
        max_export_batch_size,
        text(sampler, sampler_len),
        opt_number(sampler_arg),
        keep_errors != 0,
        max_attribute_value_length,
    )
}

#[export_name = "setCommon"]
extern "C" fn raw_set_common(key: *const u8, key_len: usize, value: *const u8, value_len: usize) {
    set_common(text(key, key_len), owned(value, value_len))
}

#[export_name = "setRedaction"]
extern "C" fn raw_set_redaction(enabled: u32, params: *const u8, len: usize) {
    set_redaction(enabled != 0, text(params, len))
}

#[export_name = "attr"]
extern "C" fn raw_attr(key: *const u8, key_len: usize, v: *const u8, v_len: usize) {
    stage(text(key, key_len), value(v, v_len))
}

#[export_name = "spanStart"]
#[allow(clippy::too_many_arguments)]
extern "C" fn raw_span_start(
    name: *const u8,
    name_len: usize,
    kind: u32,
    parent: u32,
    use_active: u32,
    traceparent: *const u8,
    traceparent_len: usize,
    tracestate: *const u8,
    tracestate_len: usize,
    start_ms: f64,
) -> u32 {
    span_start(
        text(name, name_len),
        kind,
        parent,
        use_active != 0,
        owned(traceparent, traceparent_len),
        owned(tracestate, tracestate_len),
        start_ms,
    )
}

#[export_name = "useScope"]
extern "C" fn raw_use_scope(name: *const u8, name_len: usize, version: *const u8, version_len: usize) -> u32 {
    use_scope(text(name, name_len), text(version, version_len))
}

#[export_name = "spanStartK"]
extern "C" fn raw_span_start_interned(name: u32, kind: u32, now: f64) -> u32 {
    span_start_interned(name, kind, now)
}

#[export_name = "spanAttr"]
extern "C" fn raw_span_attr(span: u32, key: *const u8, key_len: usize, v: *const u8, v_len: usize) {
    set(span, text(key, key_len), value(v, v_len))
}

#[export_name = "spanStatus"]
extern "C" fn raw_span_status(span: u32, code: u32, message: *const u8, len: usize) {
    span_status(span, code as u8, text(message, len))
}

#[export_name = "spanName"]
extern "C" fn raw_span_name(span: u32, name: *const u8, len: usize) {
    span_name(span, text(name, len))
}

#[export_name = "spanEnd"]
extern "C" fn raw_span_end(span: u32, now: f64, end_ms: f64) -> u32 {
    span_end(span, now, end_ms)
}

#[cfg(feature = "records")]
#[export_name = "spanRecords"]
extern "C" fn raw_span_records(ptr: *const u8, len: usize) -> u32 {
    // SAFETY: as for `opt_text`.
    span_records(unsafe { core::slice::from_raw_parts(ptr, len) })
}

#[cfg(feature = "records")]
#[export_name = "spanAdopt"]
#[allow(clippy::too_many_arguments)]
extern "C" fn raw_span_adopt(
    ids: *const u8,
    ids_len: usize,
    name: *const u8,
    name_len: usize,
    kind: u32,
    flags: u32,
    start_ms: f64,
    dropped: u32,
) -> u32 {
    // SAFETY: as for `opt_text`.
    let ids = unsafe { core::slice::from_raw_parts(ids, ids_len) };
    span_adopt(text(name, name_len), kind as u8, ids, flags as u8, start_ms, dropped)
}

#[export_name = "header"]
extern "C" fn raw_header(which: u32, span: u32) -> i32 {
    result(header(which as u8, span).map(String::into_bytes))
}

#[export_name = "spanEvent"]
extern "C" fn raw_span_event(span: u32, name: *const u8, len: usize, time_ms: f64) {
    span_event(span, text(name, len), time_ms)
}

#[export_name = "log"]
#[allow(clippy::too_many_arguments)]
extern "C" fn raw_log(
    severity: u32,
    message: *const u8,
    len: usize,
    span: u32,
    ended: *const u8,
    ended_len: usize,
    event: *const u8,
    event_len: usize,
    max: u32,
) -> u32 {
    log(severity as u8, text(message, len), span, text(ended, ended_len), text(event, event_len), max).into()
}

#[export_name = "spanException"]
#[allow(clippy::too_many_arguments)]
extern "C" fn raw_span_exception(
    span: u32,
    kind: *const u8,
    kind_len: usize,
    message: *const u8,
    message_len: usize,
    stack: *const u8,
    stack_len: usize,
    time_ms: f64,
) {
    span_exception(span, text(kind, kind_len), text(message, message_len), text(stack, stack_len), time_ms)
}

#[export_name = "spanLink"]
extern "C" fn raw_span_link(
    span: u32,
    tp: *const u8,
    tp_len: usize,
    ts: *const u8,
    ts_len: usize,
    local: bool,
) -> bool {
    span_link(span, text(tp, tp_len), owned(ts, ts_len), local)
}

#[export_name = "retryDelay"]
extern "C" fn raw_retry_delay(attempt: u32, status: u32, retry_after_ms: f64, jitter: f64) -> f64 {
    retry_delay(attempt, status as u16, opt_number(retry_after_ms), jitter)
}

#[export_name = "baggageSet"]
extern "C" fn raw_baggage_set(
    key: *const u8,
    key_len: usize,
    v: *const u8,
    v_len: usize,
    p: *const u8,
    p_len: usize,
) -> bool {
    baggage_set(text(key, key_len), text(v, v_len), text(p, p_len))
}

#[export_name = "baggageRemove"]
extern "C" fn raw_baggage_remove(key: *const u8, len: usize) {
    baggage_remove(text(key, len))
}

#[export_name = "baggageParse"]
extern "C" fn raw_baggage_parse(header: *const u8, len: usize) -> u32 {
    baggage_parse(text(header, len))
}

#[export_name = "activate"]
extern "C" fn raw_activate(span: u32) {
    activate(span)
}

#[export_name = "deactivate"]
extern "C" fn raw_deactivate(span: u32) {
    deactivate(span)
}

#[export_name = "activeSpan"]
extern "C" fn raw_active_span() -> u32 {
    active_span()
}

#[export_name = "parseTraceparent"]
extern "C" fn raw_parse(header: *const u8, len: usize) -> i32 {
    result(parse(text(header, len)).map(String::into_bytes))
}

#[export_name = "parseTracestate"]
extern "C" fn raw_parse_state(header: *const u8, len: usize) -> i32 {
    result(parse_state(text(header, len)).map(String::into_bytes))
}

#[export_name = "encodesJson"]
extern "C" fn raw_encodes_json() -> bool {
    encodes_json()
}

#[export_name = "take"]
extern "C" fn raw_take(logs: u32, max_bytes: u32, protobuf: u32) -> i32 {
    result(take(logs != 0, max_bytes, protobuf != 0))
}

#[export_name = "queued"]
extern "C" fn raw_queued(logs_only: u32) -> u32 {
    queued(logs_only != 0)
}

#[export_name = "trouble"]
extern "C" fn raw_trouble(kind: u32, n: f64) {
    trouble(kind as u8, n)
}

#[export_name = "diagnostics"]
extern "C" fn raw_diagnostics() {
    diagnostics()
}
