//! The exports that the npm package's JavaScript calls: `#[wasm_bindgen]` functions for Rust
//! apps and the Rust tests, and with the `npm` feature plain exports of the same names in
//! [`raw`](self) (ADR 0010), which `sdk/js/core.js` calls without wasm-bindgen's glue.
//!
//! These are internal: the public JavaScript API (`init`, `startSpan`, `logger`, …) lives in
//! `sdk/js/api.js`, which turns config objects and exceptions into the plain values used here.
//! Spans of the JavaScript API are recorded in JavaScript and cross as a batch of records when
//! they have ended (`spanRecords`, ADR 0011); spans the core records (or takes over with
//! `spanAdopt`) cross as `u32` handles, their attributes through a queue in wasm memory that
//! every call applies first (see [`Ops`]) or as one call each (`spanAttr`), other attributes
//! as one `attr` call each before the call that uses them, and export batches as finished OTLP
//! bytes.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::UnsafeCell;

#[cfg(not(feature = "npm"))]
use wasm_bindgen::prelude::*;

use crate::global::get;
use crate::platform::millis_to_nanos;
use crate::propagation::{format_traceparent, parse_traceparent, Baggage, TraceState};
use crate::retry::RetryPolicy;
#[cfg(not(feature = "npm"))]
use crate::sdk::number;
use crate::sdk::Reader;
use crate::{
    AnyValue, Config, Correlation, Handle, Sampler, Sdk, Severity, SpanContext, SpanKind, StartOptions, StatusCode,
};

#[cfg(feature = "npm")]
mod raw;

/// Strings interned by the JavaScript layer (attribute keys, span names): they cross the
/// boundary once, then as a `u32`. Kept apart from the SDK so that ids survive `configure`.
struct Interned(UnsafeCell<Vec<String>>);

// SAFETY: single-threaded, as for `Global`.
unsafe impl Sync for Interned {}

static INTERNED: Interned = Interned(UnsafeCell::new(Vec::new()));

/// The page-wide baggage (single-threaded, as for `Global`).
struct PageBaggage(UnsafeCell<Baggage>);

// SAFETY: single-threaded, as for `Global`.
unsafe impl Sync for PageBaggage {}

static BAGGAGE: PageBaggage = PageBaggage(UnsafeCell::new(Baggage::new()));

/// The keys and values of the last parsed `baggage` header, alternating (as for `Interned`):
/// entry `i / 2`'s key at even `i`, its value at odd `i`.
static PARSED: Interned = Interned(UnsafeCell::new(Vec::new()));

/// Runs `f` with the interned string `id` (empty for an unknown id).
fn with_interned<R>(id: u32, f: impl FnOnce(&str) -> R) -> R {
    // SAFETY: single-threaded; only `intern` changes the table, and it never runs while `f`
    // does, so the reference does not outlive a change.
    let table = unsafe { &*INTERNED.0.get() };
    f(table.get(id as usize).map_or("", String::as_str))
}

/// Bytes of the attribute queue that the JavaScript layer writes into wasm memory.
const OPS_CAPACITY: usize = 8192;

/// Attribute writes queued by the JavaScript layer in wasm memory, so that setting three
/// attributes and ending a span the core records is one call into wasm, and repeated keys never
/// cross again. The first four bytes hold the length of the records after them
/// (little-endian); each record is a span handle (u32), an interned key id (u32) and a typed
/// value as `spanAttr` takes it (see `Reader::any`). Every export that touches the SDK applies
/// the queue first, so calls keep their order.
/// The second field, right after the queue (`repr(C)`: at `opsBuffer() + OPS_CAPACITY`), holds
/// the ids of the span `spanEnd` ended last: trace id (16 bytes), span id (8), W3C flags (1),
/// then 1 when they are set (0 for a span that was not open). JavaScript keeps them, so that a
/// span's context stays readable after `end` without a string crossing per span; one export
/// gives both addresses. The third field, after those 32 bytes, holds the diagnostics counters
/// as `diagnostics` leaves them (f64, little-endian), read there rather than returned as an
/// array, whose return shim and glue cost more.
#[repr(C, align(8))]
struct Ops(UnsafeCell<[u8; OPS_CAPACITY]>, UnsafeCell<[u8; 32]>, UnsafeCell<[f64; DIAGNOSTICS]>);

// SAFETY: single-threaded, as for `Global`.
unsafe impl Sync for Ops {}

static OPS: Ops =
    Ops(UnsafeCell::new([0; OPS_CAPACITY]), UnsafeCell::new([0; 32]), UnsafeCell::new([0.0; DIAGNOSTICS]));

/// How many diagnostics counters there are (the fields of `Diagnostics`).
const DIAGNOSTICS: usize = 11;

/// Applies and empties the attribute queue.
fn apply_ops(sdk: &mut Sdk) {
    // SAFETY: single-threaded; JavaScript writes the buffer only between calls into wasm.
    let ops = unsafe { &mut *OPS.0.get() };
    let len = u32::from_le_bytes([ops[0], ops[1], ops[2], ops[3]]) as usize;
    if len == 0 {
        return;
    }
    // Four stores at constant indices: `ops[..4]` would index through a check that formats a panic.
    ops[0] = 0;
    ops[1] = 0;
    ops[2] = 0;
    ops[3] = 0;
    let mut r = Reader(ops.get(4..4 + len).unwrap_or_default());
    while let (Some(h), Some(key)) = (r.u32(), r.u32()) {
        let Some(value) = r.any() else {
            sdk.diagnostics_mut().api_errors += 1;
            return;
        };
        with_interned(key, |key| sdk.set_attribute(Handle(h), key, value));
    }
}

/// Runs `f` on the SDK after applying the attribute queue.
fn sdk<R>(f: impl FnOnce(&mut Sdk) -> R) -> R {
    f(ready())
}

/// The SDK with the attribute queue applied: out of line, so that each export calls it rather
/// than carrying the queue check itself. The reference lives only for the export's call.
#[inline(never)]
fn ready() -> &'static mut Sdk {
    let sdk = get();
    apply_ops(sdk);
    sdk
}

/// The address of the attribute queue in wasm memory (see `Ops` and `wasmMemory`), followed by
/// the ended span's ids and the diagnostics counters.
#[cfg_attr(not(feature = "npm"), wasm_bindgen(js_name = opsBuffer))]
pub fn ops_buffer() -> u32 {
    OPS.0.get() as u32
}

/// The module's `WebAssembly.Memory`, for JavaScript to write the attribute queue and read what
/// `Ops` holds.
#[cfg(not(feature = "npm"))]
#[wasm_bindgen(js_name = wasmMemory)]
pub fn wasm_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// Applies the queued attribute writes (when the queue is full).
#[cfg_attr(not(feature = "npm"), wasm_bindgen(js_name = flushOps))]
pub fn flush_ops() {
    sdk(|_| ())
}

/// Interns a string and returns its id. The JavaScript layer bounds how many it interns.
#[cfg_attr(not(feature = "npm"), wasm_bindgen)]
pub fn intern(s: &str) -> u32 {
    // SAFETY: single-threaded; the reference does not outlive this call.
    let table = unsafe { &mut *INTERNED.0.get() };
    table.push(s.to_owned());
    (table.len() - 1) as u32
}

/// A JavaScript value as an attribute value: strings, booleans, numbers (whole and safe ones
/// become OTLP ints, others doubles) and arrays of those; anything else is `None`.
#[cfg(not(feature = "npm"))]
fn any_value(value: &JsValue) -> Option<AnyValue> {
    if let Some(s) = value.as_string() {
        return Some(AnyValue::String(s));
    }
    if let Some(b) = value.as_bool() {
        return Some(AnyValue::Bool(b));
    }
    if let Some(n) = value.as_f64() {
        return Some(number(n));
    }
    if js_sys::Array::is_array(value) {
        let array = js_sys::Array::from(value);
        let mut items = Vec::with_capacity(array.length() as usize);
        for item in array.iter() {
            // `null` and items that are no attribute values (nested arrays, objects) stay as
            // empty values, so that the items after them keep their indices.
            let value = if js_sys::Array::is_array(&item) { None } else { any_value(&item) };
            items.push(value.unwrap_or(AnyValue::Empty));
        }
        return Some(AnyValue::Array(items));
    }
    None
}

/// Replaces the SDK with a fresh one for `serviceName`; attributes staged with `attr` become
/// resource attributes. `sampler` is an `OTEL_TRACES_SAMPLER` name (empty for the default)
/// with `sampler_arg` its ratio; zero limits keep the defaults. Returns false when the sampler
/// name is unknown (the default is used).
#[cfg_attr(not(feature = "npm"), wasm_bindgen)]
pub fn configure(
    service_name: &str,
    max_queue_size: u32,
    max_export_batch_size: u32,
    sampler: &str,
    sampler_arg: Option<f64>,
    keep_errors: bool,
    max_attribute_value_length: u32,
) -> bool {
    sdk(|sdk| {
        let resource_attributes = sdk.take_staged();
        let d = Config::default();
        let pick = |v: u32, default: usize| if v > 0 { v as usize } else { default };
        let parsed = Sampler::from_name(sampler, sampler_arg);
        let known = sampler.is_empty() || parsed.is_some();
        sdk.replace(Config {
            service_name: service_name.to_owned(),
            resource_attributes,
            max_queue_size: pick(max_queue_size, d.max_queue_size),
            max_log_queue_size: pick(max_queue_size, d.max_log_queue_size),
            max_export_batch_size: pick(max_export_batch_size, d.max_export_batch_size),
            max_attribute_value_length: max_attribute_value_length as usize,
            sampler: parsed.unwrap_or_default(),
            keep_errors,
            ..d
        });
        known
    })
}

/// Sets (or with `undefined` removes) an attribute that every new span and log record gets.
#[cfg_attr(not(feature = "npm"), wasm_bindgen(js_name = setCommon))]
pub fn set_common(key: &str, value: Option<String>) {
    sdk(|sdk| sdk.set_common_attribute(key, value.map(AnyValue::String)))
}

/// Turns redaction on or off and adds query parameter names to treat as secrets, one per line
/// (a string crosses the boundary for less than an array of strings). Applies to values
/// recorded from now on.
#[cfg_attr(not(feature = "npm"), wasm_bindgen(js_name = setRedaction))]
pub fn set_redaction(enabled: bool, extra_params: &str) {
    let params = crate::text::split(extra_params, b'\n').filter(|p| !p.is_empty()).map(ToOwned::to_owned).collect();
    sdk(|sdk| sdk.set_redaction(enabled, params))
}

/// Stages an attribute for the next `configure`, `spanStart` or `log`. Values that are not a
/// string, number or boolean are ignored and counted.
#[cfg_attr(not(feature = "npm"), wasm_bindgen)]
#[cfg(not(feature = "npm"))]
pub fn attr(key: &str, value: JsValue) {
    stage(key, any_value(&value))
}

/// Stages `value` for the next `configure`, `spanStart` or `log`; `None` (not an attribute
/// value) is counted.
fn stage(key: &str, value: Option<AnyValue>) {
    sdk(|sdk| match value {
        Some(v) => sdk.stage_attribute(key, v),
        None => sdk.diagnostics_mut().api_errors += 1,
    })
}

/// The context of a valid `traceparent` with its `tracestate` (shared by `spanStart` and
/// `spanLink`). An invalid tracestate is dropped as a whole; the traceparent still counts.
#[inline(never)]
fn remote(traceparent: &str, tracestate: Option<&str>) -> Option<SpanContext> {
    let mut cx = parse_traceparent(traceparent)?;
    cx.trace_state = tracestate.and_then(TraceState::parse).map(|ts| ts.header()).unwrap_or_default();
    Some(cx)
}

/// The id of the instrumentation scope named `name` (with `version`), added when new: a tracer
/// from JavaScript's `getTracer` keeps it (until the next `configure`) and starts its spans with
/// it in `kind` (see `spanStart`). Beyond 256 scopes, 0: the SDK's own.
#[cfg_attr(not(feature = "npm"), wasm_bindgen(js_name = useScope))]
pub fn use_scope(name: &str, version: &str) -> u32 {
    sdk(|sdk| sdk.scope_named(name, version)) as u32
}

/// `kind` of `spanStart` and `spanStartK`: the span kind in the low byte, the scope's id (from
/// `useScope`; 0 the SDK's own, an unknown id too) above it, so that a tracer's span costs no
/// call of its own to say where it comes from.
fn kind_and_scope(kind: u32, options: StartOptions<'_>) -> (SpanKind, StartOptions<'_>) {
    (SpanKind::from_i32((kind & 255) as i64), StartOptions { scope: (kind >> 8) as u16, ..options })
}

/// In `spanStart`'s `kind`: its `traceparent` is that of an ended span in this isolate (work that
/// outlives its span continues the trace), a local parent rather than a remote one.
const ENDED_PARENT: u32 = 1 << 24;

/// Starts a span. Its parent is the open span `parent` in this isolate when that is non-zero
/// and open; else the remote `traceparent` (with `tracestate`) when valid; else, when
/// `use_active`, the active span; else none (a new trace). `start_ms` is a past start time in
/// Unix milliseconds (as `performance.timeOrigin + t`, for spans built from browser timing
/// entries), or 0 for now. One export for every way a span starts that JavaScript does not
/// record itself (`spanRecords`): each export costs its own glue in the JavaScript module.
#[cfg_attr(not(feature = "npm"), wasm_bindgen(js_name = spanStart))]
pub fn span_start(
    name: &str,
    kind: u32,
    parent: u32,
    use_active: bool,
    traceparent: Option<String>,
    tracestate: Option<String>,
    start_ms: f64,
) -> u32 {
    let remote = traceparent
        .as_deref()
        .and_then(|tp| remote(tp, tracestate.as_deref()))
        .map(|cx| SpanContext { is_remote: kind & ENDED_PARENT == 0, ..cx });
    sdk(|sdk| {
        let local = if parent == 0 { None } else { sdk.span_context(Handle(parent)) };
        let (kind, options) = kind_and_scope(
            kind,
            StartOptions {
                parent: local.as_ref().or(remote.as_ref()),
                use_active,
                start_time_unix_nano: (start_ms > 0.0).then(|| millis_to_nanos(start_ms)),
                scope: 0,
                parent_ended: local.is_none() && kind & ENDED_PARENT != 0,
            },
        );
        sdk.start_span_with(name, kind, options).0
    })
}

/// Starts a span named by an interned string, parented by the active span if any.
/// `now` is `performance.now()`, read by the caller.
#[cfg_attr(not(feature = "npm"), wasm_bindgen(js_name = spanStartK))]
pub fn span_start_interned(name: u32, kind: u32, now: f64) -> u32 {
    let (kind, options) = kind_and_scope(
        kind,
        StartOptions {
            use_active: true,
            start_time_unix_nano: Some(crate::platform::unix_nanos_at(now)),
            ..StartOptions::default()
        },
    );
    with_interned(name, |name| sdk(|sdk| sdk.start_span_with(name, kind, options).0))
}

/// Sets an attribute on an open span.
#[cfg_attr(not(feature = "npm"), wasm_bindgen(js_name = spanAttr))]
#[cfg(not(feature = "npm"))]
pub fn span_attr(span: u32, key: &str, value: JsValue) {
    set(span, key, any_value(&value))
}

/// Sets `value` on an open span; `None` (not an attribute value) is counted.
fn set(span: u32, key: &str, value: Option<AnyValue>) {
    sdk(|sdk| match value {
        Some(v) => sdk.set_attribute(Handle(span), key, v),
        None => sdk.diagnostics_mut().api_errors += 1,
    })
}

/// Sets a span's status: 0 unset, 1 ok, 2 error.
#[cfg_attr(not(feature = "npm"), wasm_bindgen(js_name = spanStatus))]
pub fn span_status(span: u32, code: u8, message: &str) {
    sdk(|sdk| sdk.set_status(Handle(span), StatusCode::from_i32(code as i64), message))
}

/// Renames a span.
#[cfg_attr(not(feature = "npm"), wasm_bindgen(js_name = spanName))]
pub fn span_name(span: u32, name: &str) {
    sdk(|sdk| sdk.update_name(Handle(span), name))
}

/// Ends a span and queues it for export; returns how many spans and records are queued. Its
/// ids are left in `Ops`.
/// `now` is `performance.now()`, read by the caller; `end_ms`, when not 0, is a past end time
/// in Unix milliseconds instead (spans built from browser timing entries).
#[cfg_attr(not(feature = "npm"), wasm_bindgen(js_name = spanEnd))]
pub fn span_end(span: u32, now: f64, end_ms: f64) -> u32 {
    sdk(|sdk| {
        // SAFETY: single-threaded; JavaScript reads the buffer only between calls into wasm.
        let ended = unsafe { &mut *OPS.1.get() };
        match sdk.span_ids(Handle(span)) {
            Some((trace, id, flags)) => {
                // Byte by byte: `copy_from_slice` brings a length check that formats a panic.
                for (d, s) in ended.iter_mut().zip(trace.iter().chain(&id)) {
                    *d = *s;
                }
                ended[24] = flags;
                ended[25] = 1;
            }
            None => ended[25] = 0,
        }
        let end = if end_ms > 0.0 { millis_to_nanos(end_ms) } else { crate::platform::unix_nanos_at(now) };
        sdk.end_span_at(Handle(span), Some(end));
        (sdk.queued_spans() + sdk.queued_logs()) as u32
    })
}

/// Encodes a batch of spans that JavaScript recorded and ended (ADR 0011; the format is in
/// `sdk/src/sdk/records.rs`) into the export queue; returns how many spans and records are
/// queued. Attribute keys are interned ids (see `intern`).
#[cfg(feature = "records")]
#[cfg_attr(not(feature = "npm"), wasm_bindgen(js_name = spanRecords))]
pub fn span_records(records: &[u8]) -> u32 {
    // SAFETY: single-threaded; `intern` does not run while this does.
    let keys = unsafe { &*INTERNED.0.get() };
    sdk(|sdk| {
        sdk.record_spans(records, keys);
        (sdk.queued_spans() + sdk.queued_logs()) as u32
    })
}

/// Hands an open span that JavaScript started over to the core (for an event, a link, a
/// status, or to be made active) and returns its handle. `ids` holds the trace id, the span id
/// and the parent span id (zeros for none), 32 bytes; `flags` are its W3C trace flags (the
/// sampled flag is the sampling decision); `start_ms` is its start in Unix milliseconds;
/// `dropped` the attributes it dropped beyond the limit. Its attributes follow with `spanAttr`.
#[cfg(feature = "records")]
#[cfg_attr(not(feature = "npm"), wasm_bindgen(js_name = spanAdopt))]
pub fn span_adopt(name: &str, kind: u8, ids: &[u8], flags: u8, start_ms: f64, dropped: u32) -> u32 {
    let (Some(trace), Some(span), Some(parent)) = (
        ids.get(..16).and_then(|b| <[u8; 16]>::try_from(b).ok()),
        ids.get(16..24).and_then(|b| <[u8; 8]>::try_from(b).ok()),
        ids.get(24..32).and_then(|b| <[u8; 8]>::try_from(b).ok()),
    ) else {
        return 0;
    };
    let ids = (
        crate::sdk::TraceId(trace),
        crate::sdk::SpanId(span),
        (parent != [0; 8]).then_some(crate::sdk::SpanId(parent)),
    );
    sdk(|sdk| sdk.adopt_span(name, SpanKind::from_i32(kind as i64), ids, flags, millis_to_nanos(start_ms), dropped).0)
}

/// A header value: `which` 0 the `traceparent` of the open span `span`, 1 its `tracestate`
/// (`undefined` when empty), both `undefined` for an ended or no-op span; 2 the page-wide
/// baggage within the W3C limits (`undefined` when empty; `span` is not read); 3 item `span` of
/// the last `baggageParse` (`undefined` past its end). One export for the four: each export
/// returning a string costs its own return shim and glue.
#[cfg_attr(not(feature = "npm"), wasm_bindgen)]
pub fn header(which: u8, span: u32) -> Option<String> {
    if which == 3 {
        // SAFETY: single-threaded; the reference does not outlive this call.
        return unsafe { &*PARSED.0.get() }.get(span as usize).cloned();
    }
    if which == 2 {
        // SAFETY: single-threaded; the reference does not outlive this call.
        let header = unsafe { &*BAGGAGE.0.get() }.header();
        return (!header.is_empty()).then_some(header);
    }
    let cx = sdk(|sdk| sdk.span_context(Handle(span)))?;
    if which == 1 {
        Some(cx.trace_state).filter(|s| !s.is_empty())
    } else {
        Some(format_traceparent(&cx))
    }
}

/// Adds an event with the staged attributes, at `time_ms` (Unix milliseconds, for events
/// from browser timing entries) or now when that is 0.
#[cfg_attr(not(feature = "npm"), wasm_bindgen(js_name = spanEvent))]
pub fn span_event(span: u32, name: &str, time_ms: f64) {
    sdk(|sdk| sdk.add_event_at(Handle(span), name, (time_ms > 0.0).then(|| millis_to_nanos(time_ms))))
}

/// Records a log line with the staged attributes, correlated with the open span `span`, or with
/// the active span when that is 0 (the JavaScript layer passes the span it tracks itself where
/// it has AsyncLocalStorage). `severity` is an OpenTelemetry severity number; `event_name` names
/// an event's record (a web vital's), empty for a plain log line. The body is cut to `max` bytes
/// after redaction; true when it was cut.
#[cfg_attr(not(feature = "npm"), wasm_bindgen)]
pub fn log(severity: u8, message: &str, span: u32, ended: &str, event_name: &str, max: u32) -> bool {
    let ended = parse_traceparent(ended);
    sdk(|sdk| match Severity::from_number(severity) {
        Some(s) => {
            let context = match ended {
                Some(cx) => Correlation::Ended(cx),
                None if span != 0 => Correlation::Span(Handle(span)),
                None => Correlation::Active,
            };
            sdk.log_cut(s, message, context, event_name, max as usize)
        }
        None => {
            sdk.diagnostics_mut().api_errors += 1;
            false
        }
    })
}

/// Adds an `exception` event, at `time_ms` (Unix milliseconds) or now when that is 0.
#[cfg_attr(not(feature = "npm"), wasm_bindgen(js_name = spanException))]
pub fn span_exception(span: u32, kind: &str, message: &str, stacktrace: &str, time_ms: f64) {
    let time = (time_ms > 0.0).then(|| millis_to_nanos(time_ms));
    sdk(|sdk| sdk.record_exception_at(Handle(span), kind, message, stacktrace, time))
}

/// Links a span to the span of a valid `traceparent`, with the staged attributes; `local` when
/// that span is one of this process's (OTLP's link flags then say it is not remote).
#[cfg_attr(not(feature = "npm"), wasm_bindgen(js_name = spanLink))]
pub fn span_link(span: u32, traceparent: &str, tracestate: Option<String>, local: bool) -> bool {
    let Some(cx) = remote(traceparent, tracestate.as_deref()) else { return false };
    let cx = SpanContext { is_remote: !local, ..cx };
    sdk(|sdk| sdk.add_link(Handle(span), &cx));
    true
}

/// Milliseconds to wait before retrying an export whose `attempt` failed with `status` (0 for
/// a network error), or -1 to give up. `retry_after_ms` is the server's `Retry-After` already
/// converted to milliseconds from now.
#[cfg_attr(not(feature = "npm"), wasm_bindgen(js_name = retryDelay))]
pub fn retry_delay(attempt: u32, status: u16, retry_after_ms: Option<f64>, jitter: f64) -> f64 {
    RetryPolicy::default().delay_after_ms(attempt, status, retry_after_ms, jitter).unwrap_or(-1.0)
}

/// Sets a page-wide baggage entry with its member properties (empty for none), sent with every
/// propagated request; false for a key that is not an RFC 7230 token or an invalid property.
#[cfg_attr(not(feature = "npm"), wasm_bindgen(js_name = baggageSet))]
pub fn baggage_set(key: &str, value: &str, properties: &str) -> bool {
    // SAFETY: single-threaded; the reference does not outlive this call.
    unsafe { &mut *BAGGAGE.0.get() }.set_with_properties(key, value, properties)
}

/// Removes a page-wide baggage entry.
#[cfg_attr(not(feature = "npm"), wasm_bindgen(js_name = baggageRemove))]
pub fn baggage_remove(key: &str) {
    // SAFETY: single-threaded; the reference does not outlive this call.
    unsafe { &mut *BAGGAGE.0.get() }.remove(key)
}

/// Parses a (combined) `baggage` header and returns how many entries it has; `header(3, i)`
/// reads their keys, decoded values and properties, three per entry (an array of strings would
/// cost more glue).
#[cfg_attr(not(feature = "npm"), wasm_bindgen(js_name = baggageParse))]
pub fn baggage_parse(header: &str) -> u32 {
    let entries = Baggage::parse([header]).into_members();
    // SAFETY: single-threaded; the reference does not outlive this call.
    let parsed = unsafe { &mut *PARSED.0.get() };
    *parsed = entries;
    (parsed.len() / 3) as u32
}

/// Makes a span active (the parent of new spans, the span of new log records).
#[cfg_attr(not(feature = "npm"), wasm_bindgen)]
pub fn activate(span: u32) {
    sdk(|sdk| sdk.activate(Handle(span)))
}

/// Undoes one `activate` of this span.
#[cfg_attr(not(feature = "npm"), wasm_bindgen)]
pub fn deactivate(span: u32) {
    sdk(|sdk| sdk.deactivate(Handle(span)))
}

/// The active span, 0 when none.
#[cfg_attr(not(feature = "npm"), wasm_bindgen(js_name = activeSpan))]
pub fn active_span() -> u32 {
    sdk(|sdk| sdk.active_span().unwrap_or(Handle::NONE).0)
}

/// Normalises a `traceparent` header: the header when valid, `undefined` otherwise.
#[cfg_attr(not(feature = "npm"), wasm_bindgen(js_name = parseTraceparent))]
pub fn parse(header: &str) -> Option<String> {
    parse_traceparent(header).map(|cx| format_traceparent(&cx))
}

/// Normalises a `tracestate` header: its members as they are sent on when the whole header is
/// valid (W3C Trace Context Level 2: at most 32 members, no duplicate keys), `undefined`
/// otherwise, as a span started from it would drop it.
#[cfg_attr(not(feature = "npm"), wasm_bindgen(js_name = parseTracestate))]
pub fn parse_state(header: &str) -> Option<String> {
    TraceState::parse(header).map(|ts| ts.header())
}

/// Whether this module writes OTLP/JSON (`take` with `protobuf` false); the default browser
/// and workerd modules are built without it and export protobuf only.
#[cfg_attr(not(feature = "npm"), wasm_bindgen(js_name = encodesJson))]
pub fn encodes_json() -> bool {
    cfg!(feature = "json")
}

/// Takes one batch of finished spans (`logs` false) or of log records as an OTLP export
/// request: protobuf, or OTLP/JSON as UTF-8 when `protobuf` is false (modules built with the
/// `json` feature; the others write protobuf either way), cut to fit in `max_bytes` when that
/// is not 0 (page-hide exports); `undefined` when none are queued. One export for the six
/// ways to take a batch: each export costs its own glue in the JavaScript module.
#[cfg_attr(not(feature = "npm"), wasm_bindgen)]
pub fn take(logs: bool, max_bytes: u32, protobuf: bool) -> Option<Vec<u8>> {
    let max = if max_bytes == 0 { usize::MAX } else { max_bytes as usize };
    sdk(|sdk| if logs { sdk.take_logs_within(max, protobuf) } else { sdk.take_traces_within(max, protobuf) })
}

/// Spans and log records waiting for export; log records alone when `logs_only`.
#[cfg_attr(not(feature = "npm"), wasm_bindgen)]
pub fn queued(logs_only: bool) -> u32 {
    sdk(|sdk| (if logs_only { 0 } else { sdk.queued_spans() } + sdk.queued_logs()) as u32)
}

/// Counts a trouble of the JavaScript layer: 0 a failed export, 1 a caught exception, 2 a
/// retried export, 3 `n` records the receiver rejected in a partial success (`n` is only read
/// for 3; JavaScript leaves it out, as NaN, for the others), 4 a call on an ended span that
/// JavaScript recorded, 5 an attribute such a span dropped (beyond the limit).
#[cfg_attr(not(feature = "npm"), wasm_bindgen)]
pub fn trouble(kind: u8, n: f64) {
    sdk(|sdk| {
        let d = sdk.diagnostics_mut();
        match kind {
            0 => d.exports_failed += 1,
            2 => d.exports_retried += 1,
            // `as` saturates: NaN and negative counts add 0.
            3 => d.records_rejected += n as u64,
            4 => d.stale_handles += 1,
            5 => d.attributes_dropped += 1,
            _ => d.api_errors += 1,
        }
    })
}

/// Leaves the diagnostics counters after the ended span's ids (see `Ops`), for JavaScript to
/// read there.
#[cfg_attr(not(feature = "npm"), wasm_bindgen)]
pub fn diagnostics() {
    let counters = diagnostic_counters();
    // SAFETY: single-threaded; JavaScript reads the buffer only between calls into wasm.
    unsafe { *OPS.2.get() = counters };
}

/// The diagnostics counters, in the order of the `Diagnostics` fields, as `diagnostics` leaves
/// them.
pub fn diagnostic_counters() -> [f64; DIAGNOSTICS] {
    sdk(|sdk| {
        let d = sdk.diagnostics();
        [
            d.spans_dropped,
            d.logs_dropped,
            d.spans_evicted,
            d.stale_handles,
            d.attributes_dropped,
            d.events_dropped,
            d.links_dropped,
            d.exports_failed,
            d.exports_retried,
            d.records_rejected,
            d.api_errors,
        ]
        .map(|n| n as f64)
    })
}
