//! The `opentelemetry` crate's trace and logs API, backed by edgescope (feature `otel-api`).
//!
//! Upstream `opentelemetry_sdk` cannot run on `wasm32-unknown-unknown` (its batch processors
//! spawn threads and `SystemTime::now()` panics there), so this module implements the API
//! traits itself on the same core as the JavaScript API: one queue, one clock, one exporter.
//!
//! ```
//! use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
//! use opentelemetry::{global, KeyValue};
//!
//! let provider = edgescope::otel::TracerProvider::new(edgescope::Config {
//!     service_name: "checkout".into(),
//!     ..Default::default()
//! });
//! global::set_tracer_provider(provider);
//! global::set_text_map_propagator(edgescope::otel::TraceContextPropagator);
//!
//! let tracer = global::tracer("cart");
//! tracer.in_span("load cart", |_cx| {
//!     // spans started here are children of "load cart"
//! });
//! let mut span = tracer.start("save");
//! span.set_attribute(KeyValue::new("cart.items", 3));
//! span.end();
//! assert!(edgescope::otel::take_traces_proto().is_some());
//! ```
//!
//! Export: on wasm32, [`Exporter`] posts the batches to an OTLP/HTTP endpoint with the host's
//! `fetch` (every few seconds and when the page is hidden, with [`Exporter::start`], or when a
//! worker asks, with [`Exporter::flush`]). Elsewhere, or to send them some other way, take the
//! encoded batches with [`take_traces_proto`] / [`take_logs_proto`] and post them to
//! `{endpoint}/v1/traces` and `{endpoint}/v1/logs` with `Content-Type: application/x-protobuf`.
//! The Rust API and the npm package's JavaScript each have their own SDK: a page that uses both
//! exports from both.
//!
//! Propagation: [`TraceContextPropagator`] (`traceparent`, `tracestate`, Level 2 keys kept whole
//! though the crate's `TraceState` is Level 1) and [`BaggagePropagator`] (`baggage`), to combine
//! with `opentelemetry::propagation::TextMapCompositePropagator`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::baggage::{BaggageExt as _, KeyValueMetadata};
use opentelemetry::logs as ol;
use opentelemetry::propagation::{text_map_propagator::FieldIter, Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{self as ot, TraceContextExt as _};
use opentelemetry::{Context, InstrumentationScope, KeyValue as OtKeyValue, Value};

#[cfg(target_arch = "wasm32")]
mod export;
#[cfg(target_arch = "wasm32")]
pub use export::{Exporter, DEFAULT_TIMEOUT_MS, MAX_KEPT, MAX_PAUSE_MS};

use crate::global::with;
use crate::propagation::{format_traceparent, parse_traceparent, Baggage, TraceState as W3cTraceState};
use crate::{AnyValue, Config, Handle, Sdk, SpanContext, StartOptions, StatusCode};

/// Nanoseconds since the Unix epoch: 0 before it, `u64::MAX` past OTLP's range (the year 2554).
fn nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)).unwrap_or(0)
}

/// An event or end time given through the API, or `None` for now on the SDK's clock.
///
/// On wasm32 the `opentelemetry` crate's own "now" (what `end()`, `add_event()` and
/// `Event::with_name` pass on a `BoxedSpan`, `cx.span()` or the default trait methods) is
/// `Date.now()`, whole milliseconds of a clock that may run apart from the `performance` clock
/// spans start on: an end a millisecond or more before its start, a span of no duration. Such a
/// time (whole milliseconds, at most 2 ms behind `Date.now()`) is taken as now, from the SDK's
/// clock; any other time is kept to the nanosecond.
fn when(t: SystemTime) -> Option<u64> {
    let n = nanos(t);
    #[cfg(all(target_arch = "wasm32", not(target_os = "wasi")))]
    if n % 1_000_000 == 0 && (0.0..=2.0).contains(&(crate::platform::date_now_ms() - (n / 1_000_000) as f64)) {
        return None;
    }
    Some(n)
}

fn value(v: &Value) -> AnyValue {
    match v {
        Value::Bool(b) => AnyValue::Bool(*b),
        Value::I64(i) => AnyValue::Int(*i),
        Value::F64(f) => AnyValue::Double(*f),
        Value::String(s) => AnyValue::String(s.as_str().to_owned()),
        Value::Array(a) => AnyValue::Array(match a {
            opentelemetry::Array::Bool(v) => v.iter().map(|b| AnyValue::Bool(*b)).collect(),
            opentelemetry::Array::I64(v) => v.iter().map(|i| AnyValue::Int(*i)).collect(),
            opentelemetry::Array::F64(v) => v.iter().map(|f| AnyValue::Double(*f)).collect(),
            opentelemetry::Array::String(v) => v.iter().map(|s| AnyValue::String(s.as_str().to_owned())).collect(),
            other => vec![AnyValue::String(other.to_string())],
        }),
        other => AnyValue::String(other.to_string()),
    }
}

fn log_value(v: ol::AnyValue) -> AnyValue {
    match v {
        ol::AnyValue::Int(i) => AnyValue::Int(i),
        ol::AnyValue::Double(d) => AnyValue::Double(d),
        ol::AnyValue::String(s) => AnyValue::String(s.as_str().to_owned()),
        ol::AnyValue::Boolean(b) => AnyValue::Bool(b),
        ol::AnyValue::Bytes(b) => AnyValue::Bytes(*b),
        ol::AnyValue::ListAny(items) => AnyValue::Array(items.into_iter().map(log_value).collect()),
        ol::AnyValue::Map(map) => AnyValue::KvList(
            map.into_iter()
                .map(|(k, v)| edgescope_otlp::KeyValue { key: k.as_str().to_owned(), value: Some(log_value(v)) })
                .collect(),
        ),
        other => AnyValue::String(format!("{other:?}")),
    }
}

fn stage(sdk: &mut Sdk, attributes: &[OtKeyValue]) {
    for kv in attributes {
        if kv.key.as_str().is_empty() {
            dropped_empty_key(sdk);
        } else {
            sdk.stage_attribute(kv.key.as_str(), value(&kv.value));
        }
    }
}

/// An attribute with an empty key is dropped and counted: OpenTelemetry's keys are non-empty
/// (OpenTelemetry JS drops such an attribute with a warning).
fn dropped_empty_key(sdk: &mut Sdk) {
    sdk.diagnostics_mut().attributes_dropped += 1;
}

/// The `opentelemetry` crate's `TraceState` for an edgescope `tracestate` header. The crate's
/// keys follow Level 1 (one `@`, a system id of at most 14 characters), edgescope's Level 2
/// (`foo@@bar`, `t@` and a long system id are keys): when the crate refuses the whole header,
/// it gets the members it accepts, and the header itself travels in the [`Context`] (see
/// [`W3cState`]), so that none is lost on the way to a child span, an injection or an export.
fn their_state(header: &str) -> ot::TraceState {
    ot::TraceState::from_str(header).unwrap_or_else(|_| {
        let accepted = header
            .split(',')
            .filter_map(|m| m.trim_matches([' ', '\t']).split_once('='))
            .filter(|kv| ot::TraceState::from_key_value([*kv]).is_ok());
        ot::TraceState::from_key_value(accepted).unwrap_or_default()
    })
}

/// A `tracestate` header edgescope accepted but the crate's `TraceState` cannot hold whole,
/// kept in the `Context` next to the span context it belongs to: for the remote span `span_id`
/// of the trace `trace_id`, while the crate's state is still `theirs` (an app that changes it
/// takes over). A context extracted later from another request of the same trace (built on one
/// that holds this) does not match it.
#[derive(Debug)]
struct W3cState {
    trace_id: ot::TraceId,
    span_id: ot::SpanId,
    theirs: ot::TraceState,
    header: String,
}

/// Spans of this process whose `tracestate` the crate cannot hold whole: span id and header.
/// Empty unless a Level 2 key came in; a span leaves it when it ends.
static FULL_STATES: Mutex<Vec<([u8; 8], String)>> = Mutex::new(Vec::new());

fn full_states() -> std::sync::MutexGuard<'static, Vec<([u8; 8], String)>> {
    FULL_STATES.lock().unwrap_or_else(|p| p.into_inner())
}

/// The whole `tracestate` of the span context `sc` of `cx`: the header edgescope accepted when
/// the crate could not hold all of it, else the crate's.
fn state_header(cx: &Context, sc: &ot::SpanContext) -> String {
    if let Some(w) = cx.get::<W3cState>() {
        if w.trace_id == sc.trace_id() && w.span_id == sc.span_id() && w.theirs == *sc.trace_state() {
            return w.header.clone();
        }
    }
    let theirs = sc.trace_state().header();
    if !sc.is_remote() {
        let states = full_states();
        if let Some((_, header)) = states.iter().find(|(id, _)| *id == sc.span_id().to_bytes()) {
            if their_state(header) == *sc.trace_state() {
                return header.clone();
            }
        }
    }
    theirs
}

fn to_ours(cx: &ot::SpanContext) -> SpanContext {
    SpanContext {
        trace_id: edgescope_otlp::TraceId(cx.trace_id().to_bytes()),
        span_id: edgescope_otlp::SpanId(cx.span_id().to_bytes()),
        // Only the flags W3C Trace Context defines (sampled, random): the others are reserved,
        // sent as zero (a Jaeger propagator's debug bit 0x04 would otherwise go out).
        flags: cx.trace_flags().to_u8() & 0x03,
        trace_state: cx.trace_state().header(),
        is_remote: cx.is_remote(),
    }
}

fn to_theirs(cx: &SpanContext) -> ot::SpanContext {
    ot::SpanContext::new(
        ot::TraceId::from_bytes(cx.trace_id.0),
        ot::SpanId::from_bytes(cx.span_id.0),
        ot::TraceFlags::new(cx.flags),
        cx.is_remote,
        their_state(&cx.trace_state),
    )
}

fn scope_of(scope: &InstrumentationScope) -> edgescope_otlp::InstrumentationScope {
    edgescope_otlp::InstrumentationScope {
        name: scope.name().to_owned(),
        version: scope.version().unwrap_or_default().to_owned(),
        attributes: scope
            .attributes()
            .map(|kv| edgescope_otlp::KeyValue { key: kv.key.as_str().to_owned(), value: Some(value(&kv.value)) })
            .collect(),
        dropped_attributes_count: 0,
    }
}

/// The edgescope tracer provider. Creating one configures the SDK of this page, isolate or
/// process; a second one reconfigures it (see [`TracerProvider::new`]): every provider, tracer
/// and logger shares that one SDK.
#[derive(Debug, Clone)]
pub struct TracerProvider {
    _private: (),
}

impl TracerProvider {
    /// Configures the SDK with `config` and returns a provider backed by it. A second one
    /// reconfigures the same SDK and loses nothing: spans and records already queued are
    /// exported under the resource they were recorded with, open spans stay open, tracers and
    /// loggers made before keep their scopes, and the diagnostics keep counting.
    pub fn new(config: Config) -> TracerProvider {
        with(|sdk| sdk.reconfigure(config));
        TracerProvider { _private: () }
    }
}

impl ot::TracerProvider for TracerProvider {
    type Tracer = Tracer;

    fn tracer_with_scope(&self, scope: InstrumentationScope) -> Tracer {
        let scope = with(|sdk| sdk.scope_id(scope_of(&scope), scope.schema_url().unwrap_or_default()));
        Tracer { scope }
    }
}

/// A tracer of one instrumentation scope.
#[derive(Debug, Clone)]
pub struct Tracer {
    scope: u16,
}

impl ot::Tracer for Tracer {
    type Span = Span;

    fn build_with_context(&self, builder: ot::SpanBuilder, parent_cx: &Context) -> Span {
        // Telemetry the SDK's own work would make (an exporter's HTTP client, instrumented) is
        // suppressed through the `Context`: no span, as OpenTelemetry's SDK does.
        if parent_cx.is_telemetry_suppressed() {
            return Span {
                handle: Handle::NONE,
                context: ot::SpanContext::empty_context(),
                ended: true,
                full_state: false,
            };
        }
        let parent = parent_cx.has_active_span().then(|| parent_cx.span().span_context().clone());
        let parent = parent
            .filter(|p| p.is_valid())
            .map(|p| SpanContext { trace_state: state_header(parent_cx, &p), ..to_ours(&p) });
        // A local parent that records nothing any more has ended (or was never recorded): this
        // span is the first of its trace that the process still has, so with `keep_errors` it
        // decides on the trace when it ends rather than wait for a parent that has gone.
        let parent_ended = parent.as_ref().is_some_and(|p| !p.is_remote) && !parent_cx.span().is_recording();
        let kind = match builder.span_kind.unwrap_or(ot::SpanKind::Internal) {
            ot::SpanKind::Client => edgescope_otlp::SpanKind::Client,
            ot::SpanKind::Server => edgescope_otlp::SpanKind::Server,
            ot::SpanKind::Producer => edgescope_otlp::SpanKind::Producer,
            ot::SpanKind::Consumer => edgescope_otlp::SpanKind::Consumer,
            ot::SpanKind::Internal => edgescope_otlp::SpanKind::Internal,
        };
        let (handle, context) = with(|sdk| {
            stage(sdk, builder.attributes.as_deref().unwrap_or_default());
            let options = StartOptions {
                parent: parent.as_ref(),
                // The `Context` is the source of truth in Rust: no implicit JS-side parent.
                use_active: false,
                start_time_unix_nano: builder.start_time.map(nanos),
                scope: self.scope,
                parent_ended,
            };
            let h = sdk.start_span_with(&builder.name, kind, options);
            for link in builder.links.iter().flatten() {
                stage(sdk, &link.attributes);
                sdk.add_link_counted(h, &to_ours(&link.span_context), link.dropped_attributes_count);
            }
            for event in builder.events.iter().flatten() {
                stage(sdk, &event.attributes);
                sdk.add_event_counted(h, &event.name, when(event.timestamp), event.dropped_attributes_count);
            }
            let context = sdk.span_context(h).unwrap_or_else(|| {
                // No span may be open (`max_open_spans: 0`): a span that records nothing but
                // keeps the trace going, so that its children stay in the parent's trace (or in
                // one new trace).
                let span_id = sdk.random_span_id();
                match &parent {
                    Some(p) => SpanContext { span_id, is_remote: false, ..p.clone() },
                    None => SpanContext {
                        trace_id: sdk.random_trace_id(),
                        span_id,
                        flags: crate::propagation::FLAG_RANDOM,
                        trace_state: String::new(),
                        is_remote: false,
                    },
                }
            });
            (h, context)
        });
        let theirs = to_theirs(&context);
        let full_state = !context.trace_state.is_empty() && theirs.trace_state().header() != context.trace_state;
        if full_state && handle != Handle::NONE {
            full_states().push((context.span_id.0, context.trace_state));
        }
        Span { handle, context: theirs, ended: handle == Handle::NONE, full_state }
    }
}

/// A span started through the `opentelemetry` API. It ends when dropped, if not before.
#[derive(Debug)]
pub struct Span {
    handle: Handle,
    context: ot::SpanContext,
    ended: bool,
    /// Its `tracestate` is in [`FULL_STATES`] until it ends.
    full_state: bool,
}

impl Span {
    fn forget_state(&mut self) {
        if std::mem::take(&mut self.full_state) {
            let id = self.context.span_id().to_bytes();
            full_states().retain(|(s, _)| *s != id);
        }
    }
}

impl ot::Span for Span {
    fn add_event<T: Into<Cow<'static, str>>>(&mut self, name: T, attributes: Vec<OtKeyValue>) {
        let name = name.into();
        with(|sdk| {
            stage(sdk, &attributes);
            sdk.add_event_at(self.handle, &name, None)
        })
    }

    fn add_event_with_timestamp<T: Into<Cow<'static, str>>>(
        &mut self,
        name: T,
        timestamp: SystemTime,
        attributes: Vec<OtKeyValue>,
    ) {
        let name = name.into();
        with(|sdk| {
            stage(sdk, &attributes);
            sdk.add_event_at(self.handle, &name, when(timestamp))
        })
    }

    fn record_error(&mut self, err: &dyn std::error::Error) {
        // An exception event has `exception.message` or `exception.type`: an error that displays
        // as nothing is described by its `Debug` form (its type's name, for a unit struct).
        let mut message = err.to_string();
        if message.is_empty() {
            message = format!("{err:?}");
        }
        let kind = if message.is_empty() { "Error" } else { "" };
        with(|sdk| sdk.record_exception(self.handle, kind, &message, ""))
    }

    fn span_context(&self) -> &ot::SpanContext {
        &self.context
    }

    fn is_recording(&self) -> bool {
        !self.ended && with(|sdk| sdk.is_recording(self.handle))
    }

    fn set_attribute(&mut self, attribute: OtKeyValue) {
        with(|sdk| match attribute.key.as_str() {
            "" => dropped_empty_key(sdk),
            key => sdk.set_attribute(self.handle, key, value(&attribute.value)),
        })
    }

    fn set_status(&mut self, status: ot::Status) {
        let (code, message) = match &status {
            ot::Status::Unset => (StatusCode::Unset, ""),
            ot::Status::Ok => (StatusCode::Ok, ""),
            ot::Status::Error { description } => (StatusCode::Error, description.as_ref()),
        };
        with(|sdk| sdk.set_status(self.handle, code, message))
    }

    fn update_name<T: Into<Cow<'static, str>>>(&mut self, new_name: T) {
        let name = new_name.into();
        with(|sdk| sdk.update_name(self.handle, &name))
    }

    fn add_link(&mut self, span_context: ot::SpanContext, attributes: Vec<OtKeyValue>) {
        with(|sdk| {
            stage(sdk, &attributes);
            sdk.add_link(self.handle, &to_ours(&span_context))
        })
    }

    fn end(&mut self) {
        if !std::mem::replace(&mut self.ended, true) {
            self.forget_state();
            with(|sdk| sdk.end_span(self.handle))
        }
    }

    fn end_with_timestamp(&mut self, timestamp: SystemTime) {
        if !std::mem::replace(&mut self.ended, true) {
            self.forget_state();
            with(|sdk| sdk.end_span_at(self.handle, when(timestamp)))
        }
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        ot::Span::end(self)
    }
}

/// The edgescope logger provider; records share the SDK and resource of [`TracerProvider`].
#[derive(Debug, Clone, Default)]
pub struct LoggerProvider {
    _private: (),
}

impl LoggerProvider {
    /// A logger provider on the SDK of this page, isolate or process.
    pub fn new() -> LoggerProvider {
        LoggerProvider { _private: () }
    }
}

impl ol::LoggerProvider for LoggerProvider {
    type Logger = Logger;

    fn logger_with_scope(&self, scope: InstrumentationScope) -> Logger {
        Logger { scope: with(|sdk| sdk.scope_id(scope_of(&scope), scope.schema_url().unwrap_or_default())) }
    }
}

/// A logger of one instrumentation scope.
#[derive(Debug, Clone)]
pub struct Logger {
    scope: u16,
}

impl ol::Logger for Logger {
    type LogRecord = LogRecord;

    fn create_log_record(&self) -> LogRecord {
        LogRecord { record: edgescope_otlp::LogRecord::default() }
    }

    /// Emits the record (none while the current `Context` suppresses telemetry); one without a
    /// trace context gets the current span's.
    fn emit(&self, mut record: LogRecord) {
        if Context::is_current_telemetry_suppressed() {
            return;
        }
        if record.record.trace_id.is_none() {
            let cx = Context::current();
            let span = cx.span();
            let sc = span.span_context();
            if sc.is_valid() {
                record.record.trace_id = Some(edgescope_otlp::TraceId(sc.trace_id().to_bytes()));
                record.record.span_id = Some(edgescope_otlp::SpanId(sc.span_id().to_bytes()));
                record.record.flags = sc.trace_flags().to_u8() as u32;
            }
        }
        with(|sdk| sdk.emit_record(self.scope, record.record))
    }

    fn event_enabled(&self, _level: ol::Severity, _target: &str, _name: Option<&str>) -> bool {
        !Context::is_current_telemetry_suppressed()
    }
}

/// A log record being built.
#[derive(Debug, Clone)]
pub struct LogRecord {
    record: edgescope_otlp::LogRecord,
}

impl ol::LogRecord for LogRecord {
    fn set_event_name(&mut self, name: &'static str) {
        self.record.event_name = name.to_owned();
    }

    /// The target (a Rust module path) becomes the `code.namespace` attribute.
    fn set_target<T>(&mut self, target: T)
    where
        T: Into<Cow<'static, str>>,
    {
        let target = target.into();
        self.record
            .attributes
            .push(edgescope_otlp::KeyValue::new("code.namespace", AnyValue::String(target.into_owned())));
    }

    fn set_timestamp(&mut self, timestamp: SystemTime) {
        self.record.time_unix_nano = nanos(timestamp);
    }

    fn set_observed_timestamp(&mut self, timestamp: SystemTime) {
        self.record.observed_time_unix_nano = nanos(timestamp);
    }

    fn set_severity_text(&mut self, text: &'static str) {
        self.record.severity_text = text.to_owned();
    }

    fn set_severity_number(&mut self, number: ol::Severity) {
        self.record.severity_number = number as i32;
    }

    fn set_body(&mut self, body: ol::AnyValue) {
        self.record.body = Some(log_value(body));
    }

    fn add_attributes<I, K, V>(&mut self, attributes: I)
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<opentelemetry::Key>,
        V: Into<ol::AnyValue>,
    {
        for (k, v) in attributes {
            self.add_attribute(k, v);
        }
    }

    fn add_attribute<K, V>(&mut self, key: K, value: V)
    where
        K: Into<opentelemetry::Key>,
        V: Into<ol::AnyValue>,
    {
        let key: opentelemetry::Key = key.into();
        self.record
            .attributes
            .push(edgescope_otlp::KeyValue { key: key.as_str().to_owned(), value: Some(log_value(value.into())) });
    }

    fn set_trace_context(&mut self, trace_id: ot::TraceId, span_id: ot::SpanId, trace_flags: Option<ot::TraceFlags>) {
        self.record.trace_id = Some(edgescope_otlp::TraceId(trace_id.to_bytes()));
        self.record.span_id = Some(edgescope_otlp::SpanId(span_id.to_bytes()));
        self.record.flags = trace_flags.map_or(0, |f| f.to_u8() as u32);
    }
}

/// W3C Trace Context (`traceparent`, `tracestate`) for `opentelemetry::global` propagation,
/// with edgescope's strict parsing.
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceContextPropagator;

static FIELDS: std::sync::OnceLock<[String; 2]> = std::sync::OnceLock::new();

impl TextMapPropagator for TraceContextPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if sc.is_valid() {
            injector.set("traceparent", format_traceparent(&to_ours(sc)));
            let state = state_header(cx, sc);
            if !state.is_empty() {
                injector.set("tracestate", state);
            }
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        // Two `traceparent` headers are no parent (W3C Trace Context: a new trace starts); several
        // `tracestate` headers are one list, in order.
        let parent = match extractor.get_all("traceparent").as_deref() {
            Some([one]) => parse_traceparent(one),
            _ => None,
        };
        let Some(mut parent) = parent else {
            return cx.clone();
        };
        parent.trace_state = extractor
            .get_all("tracestate")
            .and_then(|all| W3cTraceState::parse(&all.join(",")))
            .map(|ts| ts.header())
            .unwrap_or_default();
        let theirs = to_theirs(&parent);
        // The crate holds the whole state: no header beside it, unless `cx` carries one from an
        // earlier extraction, which this one replaces (else it could be sent again for this span).
        if theirs.trace_state().header() == parent.trace_state && cx.get::<W3cState>().is_none() {
            return cx.with_remote_span_context(theirs);
        }
        let state = W3cState {
            trace_id: theirs.trace_id(),
            span_id: theirs.span_id(),
            theirs: theirs.trace_state().clone(),
            header: parent.trace_state,
        };
        cx.with_remote_span_context(theirs).with_value(state)
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(FIELDS.get_or_init(|| ["traceparent".to_owned(), "tracestate".to_owned()]))
    }
}

/// W3C Baggage (`baggage`) for `opentelemetry` propagation, with edgescope's parser and limits:
/// extraction reads every `baggage` header (invalid members are skipped one by one, properties
/// kept as the member's metadata) into the `Context`'s `opentelemetry::baggage::Baggage`;
/// injection writes that baggage, leaving out whole members past 64 members or 8,192 bytes.
/// Combine it with [`TraceContextPropagator`] through the crate's composite:
///
/// ```
/// use opentelemetry::propagation::TextMapCompositePropagator;
///
/// opentelemetry::global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
///     Box::new(edgescope::otel::TraceContextPropagator),
///     Box::new(edgescope::otel::BaggagePropagator),
/// ]));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct BaggagePropagator;

static BAGGAGE_FIELDS: std::sync::OnceLock<[String; 1]> = std::sync::OnceLock::new();

impl TextMapPropagator for BaggagePropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let mut members: Vec<_> = cx.baggage().iter().collect();
        // The crate keeps baggage in a hash map: a stable order for the header.
        members.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        let mut baggage = Baggage::new();
        for (key, (value, metadata)) in members {
            // Metadata that is no W3C property: the member goes on without it.
            if !baggage.set_with_properties(key.as_str(), value.as_str(), metadata.as_str()) {
                baggage.set(key.as_str(), value.as_str());
            }
        }
        let header = baggage.header();
        if !header.is_empty() {
            injector.set("baggage", header);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let Some(headers) = extractor.get_all("baggage") else {
            return cx.clone();
        };
        let baggage = Baggage::parse(headers);
        if baggage.entries().is_empty() {
            return cx.clone();
        }
        cx.with_baggage(
            baggage
                .entries()
                .iter()
                .map(|e| KeyValueMetadata::new(e.key.clone(), e.value.clone(), e.properties.as_str())),
        )
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(BAGGAGE_FIELDS.get_or_init(|| ["baggage".to_owned()]))
    }
}

/// Takes up to one batch of finished spans as an OTLP protobuf `ExportTraceServiceRequest`.
pub fn take_traces_proto() -> Option<Vec<u8>> {
    with(|sdk| sdk.take_traces_proto())
}

/// Takes up to one batch of log records as an OTLP protobuf `ExportLogsServiceRequest`.
pub fn take_logs_proto() -> Option<Vec<u8>> {
    with(|sdk| sdk.take_logs_proto())
}

/// The SDK's own counters (drops, failures).
pub fn diagnostics() -> crate::Diagnostics {
    with(|sdk| sdk.diagnostics())
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn check<T: Send + Sync + 'static>() {}
    check::<TracerProvider>();
    check::<Tracer>();
    check::<Span>();
    check::<LoggerProvider>();
    check::<Logger>();
    check::<HashMap<String, String>>();
}
