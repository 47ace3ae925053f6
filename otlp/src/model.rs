//! The OTLP trace and log data model, field for field as in `opentelemetry-proto`.

use alloc::string::String;
use alloc::vec::Vec;

use core::fmt;

/// A 16-byte trace id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TraceId(pub [u8; 16]);

/// An 8-byte span id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SpanId(pub [u8; 8]);

macro_rules! id_impls {
    ($t:ident, $n:literal) => {
        impl $t {
            /// The invalid all-zero id.
            pub const INVALID: $t = $t([0; $n]);

            /// True unless every byte is zero (W3C Trace Context calls all-zero ids invalid).
            pub fn is_valid(&self) -> bool {
                self.0 != [0; $n]
            }

            /// Parses lowercase or uppercase hex of exactly the right length.
            pub fn from_hex(s: &str) -> Option<$t> {
                crate::hex::decode::<$n>(s).map($t)
            }

            /// Lowercase hex, as OTLP/JSON and W3C Trace Context write it.
            pub fn to_hex(&self) -> String {
                let mut s = String::with_capacity(2 * $n);
                crate::hex::encode_into(&self.0, &mut s);
                s
            }
        }

        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }
    };
}
id_impls!(TraceId, 16);
id_impls!(SpanId, 8);

/// An attribute or log body value: every kind of OTLP `AnyValue`.
#[derive(Clone, Debug, PartialEq)]
pub enum AnyValue {
    /// `stringValue`
    String(String),
    /// `boolValue`
    Bool(bool),
    /// `intValue` (int64, written as a JSON string)
    Int(i64),
    /// `doubleValue`
    Double(f64),
    /// `arrayValue`
    Array(Vec<AnyValue>),
    /// `kvlistValue`
    KvList(Vec<KeyValue>),
    /// `bytesValue` (base64 in JSON)
    Bytes(Vec<u8>),
    /// No value (`{}`): an array item that was `null`. OpenTelemetry keeps such items, so that
    /// arrays kept side by side (`header_keys[i]` → `header_values[i]`) keep their indices.
    /// Readers produce it only inside arrays: an attribute or map entry without a value is `None`.
    Empty,
}

impl AnyValue {
    /// The value as a string when it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AnyValue::String(s) => Some(s),
            _ => None,
        }
    }
}

impl From<&str> for AnyValue {
    fn from(s: &str) -> Self {
        AnyValue::String(s.into())
    }
}
impl From<String> for AnyValue {
    fn from(s: String) -> Self {
        AnyValue::String(s)
    }
}
impl From<bool> for AnyValue {
    fn from(b: bool) -> Self {
        AnyValue::Bool(b)
    }
}
impl From<i64> for AnyValue {
    fn from(i: i64) -> Self {
        AnyValue::Int(i)
    }
}
impl From<f64> for AnyValue {
    fn from(d: f64) -> Self {
        AnyValue::Double(d)
    }
}

/// A key and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyValue {
    /// The attribute key.
    pub key: String,
    /// The attribute value; OTLP allows an empty value, which readers keep as `None`.
    pub value: Option<AnyValue>,
}

impl KeyValue {
    /// A key with a value.
    pub fn new(key: impl Into<String>, value: impl Into<AnyValue>) -> Self {
        KeyValue { key: key.into(), value: Some(value.into()) }
    }
}

/// Finds the value of `key` in an attribute list.
pub fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attributes.iter().find(|kv| kv.key == key).and_then(|kv| kv.value.as_ref())
}

/// The entity that produced the telemetry (`service.name`, …).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Resource {
    /// Resource attributes.
    pub attributes: Vec<KeyValue>,
    /// Attributes dropped by limits.
    pub dropped_attributes_count: u32,
}

impl Resource {
    /// `service.name`, or `unknown_service` as the OpenTelemetry specification defaults it when
    /// it is missing, not a string or empty (as Loki's OTLP ingestion labels such a stream).
    pub fn service_name(&self) -> &str {
        attribute(&self.attributes, "service.name")
            .and_then(AnyValue::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or("unknown_service")
    }
}

/// The library that produced the telemetry.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InstrumentationScope {
    /// Scope name.
    pub name: String,
    /// Scope version.
    pub version: String,
    /// Scope attributes.
    pub attributes: Vec<KeyValue>,
    /// Attributes dropped by limits.
    pub dropped_attributes_count: u32,
}

/// `Span.SpanKind`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum SpanKind {
    /// 0
    #[default]
    Unspecified = 0,
    /// 1
    Internal = 1,
    /// 2
    Server = 2,
    /// 3
    Client = 3,
    /// 4
    Producer = 4,
    /// 5
    Consumer = 5,
}

impl SpanKind {
    /// The kind for an OTLP enum number; unknown numbers are `Unspecified`.
    pub fn from_i32(n: i64) -> SpanKind {
        match n {
            1 => SpanKind::Internal,
            2 => SpanKind::Server,
            3 => SpanKind::Client,
            4 => SpanKind::Producer,
            5 => SpanKind::Consumer,
            _ => SpanKind::Unspecified,
        }
    }

    /// The short name (`server`, `client`, …).
    pub fn name(self) -> &'static str {
        match self {
            SpanKind::Unspecified => "unspecified",
            SpanKind::Internal => "internal",
            SpanKind::Server => "server",
            SpanKind::Client => "client",
            SpanKind::Producer => "producer",
            SpanKind::Consumer => "consumer",
        }
    }
}

/// `Status.StatusCode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum StatusCode {
    /// 0
    #[default]
    Unset = 0,
    /// 1
    Ok = 1,
    /// 2
    Error = 2,
}

impl StatusCode {
    /// The code for an OTLP enum number; unknown numbers are `Unset`.
    pub fn from_i32(n: i64) -> StatusCode {
        match n {
            1 => StatusCode::Ok,
            2 => StatusCode::Error,
            _ => StatusCode::Unset,
        }
    }
}

/// A span's status.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Status {
    /// Unset, ok or error.
    pub code: StatusCode,
    /// A developer-facing message, usually only set with an error.
    pub message: String,
}

/// A timed event inside a span.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Event {
    /// When it happened.
    pub time_unix_nano: u64,
    /// Event name (`exception` for errors).
    pub name: String,
    /// Event attributes.
    pub attributes: Vec<KeyValue>,
    /// Attributes dropped by limits.
    pub dropped_attributes_count: u32,
}

/// A link to a span in the same or another trace.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Link {
    /// The linked trace.
    pub trace_id: TraceId,
    /// The linked span.
    pub span_id: SpanId,
    /// Its W3C `tracestate`.
    pub trace_state: String,
    /// Link attributes.
    pub attributes: Vec<KeyValue>,
    /// Attributes dropped by limits.
    pub dropped_attributes_count: u32,
    /// W3C trace flags in the low byte.
    pub flags: u32,
}

/// One operation in a trace.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Span {
    /// The trace it belongs to.
    pub trace_id: TraceId,
    /// Its own id.
    pub span_id: SpanId,
    /// W3C `tracestate` as it was when the span started.
    pub trace_state: String,
    /// The parent, or `None` for a root span.
    pub parent_span_id: Option<SpanId>,
    /// W3C trace flags in the low byte.
    pub flags: u32,
    /// Operation name.
    pub name: String,
    /// Server, client, …
    pub kind: SpanKind,
    /// Start time in nanoseconds since the Unix epoch.
    pub start_time_unix_nano: u64,
    /// End time in nanoseconds since the Unix epoch.
    pub end_time_unix_nano: u64,
    /// Span attributes.
    pub attributes: Vec<KeyValue>,
    /// Attributes dropped by limits.
    pub dropped_attributes_count: u32,
    /// Timed events.
    pub events: Vec<Event>,
    /// Events dropped by limits.
    pub dropped_events_count: u32,
    /// Links to other spans.
    pub links: Vec<Link>,
    /// Links dropped by limits.
    pub dropped_links_count: u32,
    /// Outcome.
    pub status: Status,
}

impl Span {
    /// Duration in nanoseconds (zero when the end precedes the start).
    pub fn duration_nanos(&self) -> u64 {
        self.end_time_unix_nano.saturating_sub(self.start_time_unix_nano)
    }

    /// Whether the span failed: its status is ERROR, or it has an `error` attribute `true` (a
    /// boolean or the text), OpenTracing's mark, which Jaeger UI shows as an error and
    /// instrumentation bridged from OpenTracing or Zipkin still sets.
    pub fn is_error(&self) -> bool {
        self.status.code == StatusCode::Error
            || self.attributes.iter().any(|kv| {
                kv.key == "error"
                    && match &kv.value {
                        Some(AnyValue::Bool(b)) => *b,
                        Some(AnyValue::String(s)) => s == "true",
                        _ => false,
                    }
            })
    }

    /// The OTLP/JSON field of an id that is all zeros (`traceId` first), which W3C Trace Context
    /// and OpenTelemetry call invalid: a receiver rejects such a span.
    pub fn invalid_id(&self) -> Option<&'static str> {
        match (self.trace_id.is_valid(), self.span_id.is_valid()) {
            (false, _) => Some("traceId"),
            (true, false) => Some("spanId"),
            (true, true) => None,
        }
    }
}

/// Spans of one instrumentation scope.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScopeSpans {
    /// The scope.
    pub scope: InstrumentationScope,
    /// Its spans.
    pub spans: Vec<Span>,
    /// Semantic-conventions schema.
    pub schema_url: String,
}

/// Spans of one resource.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResourceSpans {
    /// The resource.
    pub resource: Resource,
    /// Its spans, by scope.
    pub scope_spans: Vec<ScopeSpans>,
    /// Semantic-conventions schema.
    pub schema_url: String,
}

/// An OTLP trace payload (`ExportTraceServiceRequest`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TracesData {
    /// Spans grouped by resource and scope.
    pub resource_spans: Vec<ResourceSpans>,
}

impl TracesData {
    /// Every span with its resource and scope.
    pub fn spans(&self) -> impl Iterator<Item = (&Resource, &InstrumentationScope, &Span)> {
        self.resource_spans.iter().flat_map(|rs| {
            rs.scope_spans.iter().flat_map(move |ss| ss.spans.iter().map(move |s| (&rs.resource, &ss.scope, s)))
        })
    }
}

/// One log record.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogRecord {
    /// When the event happened, if known.
    pub time_unix_nano: u64,
    /// When the SDK saw it.
    pub observed_time_unix_nano: u64,
    /// 1–24 (TRACE … FATAL4), 0 when unspecified.
    pub severity_number: i32,
    /// The level as the source named it.
    pub severity_text: String,
    /// The message.
    pub body: Option<AnyValue>,
    /// Record attributes.
    pub attributes: Vec<KeyValue>,
    /// Attributes dropped by limits.
    pub dropped_attributes_count: u32,
    /// W3C trace flags in the low byte.
    pub flags: u32,
    /// The trace that was active, if any.
    pub trace_id: Option<TraceId>,
    /// The span that was active, if any.
    pub span_id: Option<SpanId>,
    /// The event name for event records.
    pub event_name: String,
}

impl LogRecord {
    /// The best time for ordering: the event time, else the observed time.
    pub fn time(&self) -> u64 {
        if self.time_unix_nano != 0 {
            self.time_unix_nano
        } else {
            self.observed_time_unix_nano
        }
    }
}

/// Log records of one instrumentation scope.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScopeLogs {
    /// The scope.
    pub scope: InstrumentationScope,
    /// Its records.
    pub log_records: Vec<LogRecord>,
    /// Semantic-conventions schema.
    pub schema_url: String,
}

/// Log records of one resource.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResourceLogs {
    /// The resource.
    pub resource: Resource,
    /// Its records, by scope.
    pub scope_logs: Vec<ScopeLogs>,
    /// Semantic-conventions schema.
    pub schema_url: String,
}

/// An OTLP logs payload (`ExportLogsServiceRequest`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogsData {
    /// Records grouped by resource and scope.
    pub resource_logs: Vec<ResourceLogs>,
}

impl LogsData {
    /// Every record with its resource and scope.
    pub fn records(&self) -> impl Iterator<Item = (&Resource, &InstrumentationScope, &LogRecord)> {
        self.resource_logs.iter().flat_map(|rl| {
            rl.scope_logs.iter().flat_map(move |sl| sl.log_records.iter().map(move |r| (&rl.resource, &sl.scope, r)))
        })
    }
}

/// The OpenTelemetry severity name for a severity number (`INFO` for 9–12, …).
pub fn severity_name(n: i32) -> &'static str {
    match n {
        1..=4 => "TRACE",
        5..=8 => "DEBUG",
        9..=12 => "INFO",
        13..=16 => "WARN",
        17..=20 => "ERROR",
        21..=24 => "FATAL",
        _ => "UNSPECIFIED",
    }
}
