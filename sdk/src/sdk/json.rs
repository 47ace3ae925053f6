//! OTLP/JSON written straight from a protobuf request of the span store (the `json` feature).
//!
//! The store encodes every span and record as protobuf once; JSON export re-writes a finished
//! request by walking its fields against a table of the OTLP messages' JSON names, so the
//! module carries no decoder and no data model for it. It only has to read what [`super::wire`]
//! writes: repeated fields are contiguous, and every string is UTF-8. The output follows the
//! OTLP/JSON encoding: lowerCamelCase names, ids in hex, 64-bit integers as strings, enums as
//! numbers, defaults left out.

use alloc::string::String;

use edgescope_otlp::json::{push_string, push_u64};

use crate::platform;
use crate::text::push_ascii;

#[derive(Clone, Copy, Debug)]
enum Msg {
    TracesRequest,
    LogsRequest,
    ResourceSpans,
    ResourceLogs,
    ScopeSpans,
    ScopeLogs,
    Resource,
    Scope,
    Span,
    Event,
    Link,
    Status,
    Log,
    KeyValue,
    AnyValue,
    Array,
    KvList,
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    /// Bytes as lowercase hex (trace and span ids).
    Hex,
    Str,
    /// A varint as a JSON number (enums, counts).
    Num,
    /// An int64 varint as a JSON string.
    Int64,
    /// A fixed64 as a JSON string (Unix nanoseconds).
    Time,
    /// A fixed32 as a JSON number (flags).
    Fixed32,
    Double,
    Bool,
    Base64,
    One(Msg),
    Many(Msg),
}

/// The JSON name and kind of every field this SDK writes: `(message, field, name, kind)`. A
/// table searched in order is smaller in the module than the same as a `match` (about 1 KB).
#[rustfmt::skip]
const SCHEMA: &[(Msg, u8, &str, Kind)] = {
    use Kind::*;
    use Msg::*;
    &[
        (TracesRequest, 1, "resourceSpans", Many(ResourceSpans)),
        (LogsRequest, 1, "resourceLogs", Many(ResourceLogs)),
        (ResourceSpans, 1, "resource", One(Resource)),
        (ResourceLogs, 1, "resource", One(Resource)),
        (ResourceSpans, 2, "scopeSpans", Many(ScopeSpans)),
        (ResourceLogs, 2, "scopeLogs", Many(ScopeLogs)),
        (ScopeSpans, 1, "scope", One(Scope)),
        (ScopeLogs, 1, "scope", One(Scope)),
        (ScopeSpans, 2, "spans", Many(Span)),
        (ScopeLogs, 2, "logRecords", Many(Log)),
        (Resource, 1, "attributes", Many(KeyValue)),
        (Resource, 2, "droppedAttributesCount", Num),
        (Scope, 4, "droppedAttributesCount", Num),
        (Event, 4, "droppedAttributesCount", Num),
        (Log, 7, "droppedAttributesCount", Num),
        (Link, 5, "droppedAttributesCount", Num),
        (Span, 10, "droppedAttributesCount", Num),
        (Scope, 1, "name", Str),
        (Scope, 2, "version", Str),
        (Scope, 3, "attributes", Many(KeyValue)),
        (Event, 3, "attributes", Many(KeyValue)),
        (Link, 4, "attributes", Many(KeyValue)),
        (Log, 6, "attributes", Many(KeyValue)),
        (Span, 9, "attributes", Many(KeyValue)),
        (Span, 1, "traceId", Hex),
        (Link, 1, "traceId", Hex),
        (Log, 9, "traceId", Hex),
        (Span, 2, "spanId", Hex),
        (Link, 2, "spanId", Hex),
        (Log, 10, "spanId", Hex),
        (Span, 3, "traceState", Str),
        (Link, 3, "traceState", Str),
        (Span, 4, "parentSpanId", Hex),
        (Span, 5, "name", Str),
        (Event, 2, "name", Str),
        (Span, 6, "kind", Num),
        (Span, 7, "startTimeUnixNano", Time),
        (Span, 8, "endTimeUnixNano", Time),
        (Span, 11, "events", Many(Event)),
        (Span, 12, "droppedEventsCount", Num),
        (Span, 13, "links", Many(Link)),
        (Span, 14, "droppedLinksCount", Num),
        (Span, 15, "status", One(Status)),
        (Span, 16, "flags", Fixed32),
        (Link, 6, "flags", Fixed32),
        (Log, 8, "flags", Fixed32),
        (Event, 1, "timeUnixNano", Time),
        (Log, 1, "timeUnixNano", Time),
        (Status, 2, "message", Str),
        (Status, 3, "code", Num),
        (Log, 2, "severityNumber", Num),
        (Log, 3, "severityText", Str),
        (Log, 5, "body", One(AnyValue)),
        (Log, 11, "observedTimeUnixNano", Time),
        (Log, 12, "eventName", Str),
        (KeyValue, 1, "key", Str),
        (KeyValue, 2, "value", One(AnyValue)),
        (AnyValue, 1, "stringValue", Str),
        (AnyValue, 2, "boolValue", Bool),
        (AnyValue, 3, "intValue", Int64),
        (AnyValue, 4, "doubleValue", Double),
        (AnyValue, 5, "arrayValue", One(Array)),
        (AnyValue, 6, "kvlistValue", One(KvList)),
        (AnyValue, 7, "bytesValue", Base64),
        (Array, 1, "values", Many(AnyValue)),
        (KvList, 1, "values", Many(KeyValue)),
    ]
};

/// The JSON name and kind of field `f` of message `m`; `None` for a field this SDK never writes.
fn schema(m: Msg, f: u32) -> Option<(&'static str, Kind)> {
    SCHEMA.iter().find(|row| row.0 as u8 == m as u8 && row.1 as u32 == f).map(|row| (row.2, row.3))
}

/// An `Export{Trace,Logs}ServiceRequest` in protobuf as OTLP/JSON.
pub(super) fn request(bytes: &[u8], logs: bool) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    message(bytes, if logs { Msg::LogsRequest } else { Msg::TracesRequest }, &mut out);
    out
}

enum Field<'a> {
    Int(u64),
    Bytes(&'a [u8]),
}

fn varint(b: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*pos)?;
        *pos += 1;
        v |= ((byte & 0x7f) as u64) << shift;
        if byte < 0x80 {
            return Some(v);
        }
    }
    None
}

fn fixed<const N: usize>(b: &[u8], pos: &mut usize) -> Option<u64> {
    let bytes = b.get(*pos..*pos + N)?;
    *pos += N;
    Some(bytes.iter().rev().fold(0, |v, &x| (v << 8) | x as u64))
}

fn message(b: &[u8], m: Msg, out: &mut String) {
    push_ascii(out, b'{');
    let mut pos = 0;
    // The repeated field whose array is open.
    let mut open: Option<u32> = None;
    let mut first = true;
    while pos < b.len() {
        let Some(key) = varint(b, &mut pos) else { break };
        let field = (key >> 3) as u32;
        let value = match key & 7 {
            0 => varint(b, &mut pos).map(Field::Int),
            1 => fixed::<8>(b, &mut pos).map(Field::Int),
            5 => fixed::<4>(b, &mut pos).map(Field::Int),
            2 => varint(b, &mut pos).and_then(|n| {
                let bytes = b.get(pos..pos.checked_add(n as usize)?)?;
                pos += bytes.len();
                Some(Field::Bytes(bytes))
            }),
            _ => None,
        };
        let Some(value) = value else { break };
        let Some((name, kind)) = schema(m, field) else { continue };
        if open.is_some_and(|f| f != field) {
            push_ascii(out, b']');
            open = None;
        }
        if open.is_some() {
            push_ascii(out, b',');
        } else {
            if !first {
                push_ascii(out, b',');
            }
            first = false;
            push_ascii(out, b'"');
            out.push_str(name);
            out.push_str("\":");
            if let Kind::Many(_) = kind {
                push_ascii(out, b'[');
                open = Some(field);
            }
        }
        write_value(kind, value, out);
    }
    if open.is_some() {
        push_ascii(out, b']');
    }
    push_ascii(out, b'}');
}

fn write_value(kind: Kind, value: Field<'_>, out: &mut String) {
    match (kind, value) {
        (Kind::Hex, Field::Bytes(b)) => {
            push_ascii(out, b'"');
            for &x in b {
                for nibble in [x >> 4, x & 15] {
                    push_ascii(out, b"0123456789abcdef"[nibble as usize]);
                }
            }
            push_ascii(out, b'"');
        }
        (Kind::Str, Field::Bytes(b)) => push_string(core::str::from_utf8(b).unwrap_or_default(), out),
        (Kind::Num | Kind::Fixed32, Field::Int(v)) => push_u64(v, out),
        (Kind::Int64, Field::Int(v)) => {
            push_ascii(out, b'"');
            if (v as i64) < 0 {
                push_ascii(out, b'-');
            }
            push_u64((v as i64).unsigned_abs(), out);
            push_ascii(out, b'"');
        }
        (Kind::Time, Field::Int(v)) => {
            push_ascii(out, b'"');
            push_u64(v, out);
            push_ascii(out, b'"');
        }
        (Kind::Double, Field::Int(v)) => platform::format_f64(f64::from_bits(v), out),
        (Kind::Bool, Field::Int(v)) => out.push_str(if v != 0 { "true" } else { "false" }),
        (Kind::Base64, Field::Bytes(b)) => {
            const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            push_ascii(out, b'"');
            for chunk in b.chunks(3) {
                let n = chunk.iter().enumerate().fold(0u32, |n, (i, &x)| n | (x as u32) << (16 - 8 * i));
                for i in 0..4 {
                    let c = if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i) & 63) as usize] } else { b'=' };
                    push_ascii(out, c);
                }
            }
            push_ascii(out, b'"');
        }
        (Kind::One(m) | Kind::Many(m), Field::Bytes(b)) => message(b, m, out),
        // A wire type this SDK never writes for the field.
        _ => out.push_str("null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use edgescope_otlp::{
        proto, AnyValue, Event, KeyValue, Link, Resource, ResourceSpans, ScopeSpans, Span, SpanId, Status, StatusCode,
        TraceId, TracesData,
    };

    /// The schema as it was written before the table: the table must say the same.
    fn schema_as_match(m: Msg, f: u32) -> Option<(&'static str, Kind)> {
        use Kind::*;
        use Msg::*;
        Some(match (m, f) {
            (TracesRequest, 1) => ("resourceSpans", Many(ResourceSpans)),
            (LogsRequest, 1) => ("resourceLogs", Many(ResourceLogs)),
            (ResourceSpans | ResourceLogs, 1) => ("resource", One(Resource)),
            (ResourceSpans, 2) => ("scopeSpans", Many(ScopeSpans)),
            (ResourceLogs, 2) => ("scopeLogs", Many(ScopeLogs)),
            (ScopeSpans | ScopeLogs, 1) => ("scope", One(Scope)),
            (ScopeSpans, 2) => ("spans", Many(Span)),
            (ScopeLogs, 2) => ("logRecords", Many(Log)),
            (Resource, 1) => ("attributes", Many(KeyValue)),
            (Resource, 2) | (Scope, 4) | (Event, 4) | (Log, 7) | (Link, 5) | (Span, 10) => {
                ("droppedAttributesCount", Num)
            }
            (Scope, 1) => ("name", Str),
            (Scope, 2) => ("version", Str),
            (Scope, 3) | (Event, 3) | (Link, 4) | (Log, 6) | (Span, 9) => ("attributes", Many(KeyValue)),
            (Span | Link, 1) | (Log, 9) => ("traceId", Hex),
            (Span | Link, 2) | (Log, 10) => ("spanId", Hex),
            (Span | Link, 3) => ("traceState", Str),
            (Span, 4) => ("parentSpanId", Hex),
            (Span, 5) | (Event, 2) => ("name", Str),
            (Span, 6) => ("kind", Num),
            (Span, 7) => ("startTimeUnixNano", Time),
            (Span, 8) => ("endTimeUnixNano", Time),
            (Span, 11) => ("events", Many(Event)),
            (Span, 12) => ("droppedEventsCount", Num),
            (Span, 13) => ("links", Many(Link)),
            (Span, 14) => ("droppedLinksCount", Num),
            (Span, 15) => ("status", One(Status)),
            (Span, 16) | (Link, 6) | (Log, 8) => ("flags", Fixed32),
            (Event | Log, 1) => ("timeUnixNano", Time),
            (Status, 2) => ("message", Str),
            (Status, 3) => ("code", Num),
            (Log, 2) => ("severityNumber", Num),
            (Log, 3) => ("severityText", Str),
            (Log, 5) => ("body", One(AnyValue)),
            (Log, 11) => ("observedTimeUnixNano", Time),
            (Log, 12) => ("eventName", Str),
            (KeyValue, 1) => ("key", Str),
            (KeyValue, 2) => ("value", One(AnyValue)),
            (AnyValue, 1) => ("stringValue", Str),
            (AnyValue, 2) => ("boolValue", Bool),
            (AnyValue, 3) => ("intValue", Int64),
            (AnyValue, 4) => ("doubleValue", Double),
            (AnyValue, 5) => ("arrayValue", One(Array)),
            (AnyValue, 6) => ("kvlistValue", One(KvList)),
            (AnyValue, 7) => ("bytesValue", Base64),
            (Array, 1) => ("values", Many(AnyValue)),
            (KvList, 1) => ("values", Many(KeyValue)),
            _ => return None,
        })
    }

    #[test]
    fn the_schema_table_says_what_the_match_said() {
        use Msg::*;
        let all = [
            TracesRequest,
            LogsRequest,
            ResourceSpans,
            ResourceLogs,
            ScopeSpans,
            ScopeLogs,
            Resource,
            Scope,
            Span,
            Event,
            Link,
            Status,
            Log,
            KeyValue,
            AnyValue,
            Array,
            KvList,
        ];
        let key = |r: Option<(&'static str, Kind)>| r.map(|(n, k)| (n, format!("{k:?}")));
        for m in all {
            for f in 0..40 {
                assert_eq!(key(schema(m, f)), key(schema_as_match(m, f)), "{:?} {f}", m as u8);
            }
        }
    }

    /// The shared writer and this one agree on everything but defaults the shared one writes.
    #[test]
    fn json_from_protobuf_reads_back_as_the_same_data() {
        let span = Span {
            trace_id: TraceId([1; 16]),
            span_id: SpanId([2; 8]),
            parent_span_id: Some(SpanId([3; 8])),
            trace_state: "a=b".into(),
            name: "GET \"/x\"\n".into(),
            kind: edgescope_otlp::SpanKind::Client,
            start_time_unix_nano: 1,
            end_time_unix_nano: u64::MAX,
            flags: 0x301,
            attributes: vec![
                KeyValue::new("s", ""),
                KeyValue::new("b", false),
                KeyValue::new("i", -5i64),
                KeyValue::new("d", 0.25),
                KeyValue::new("a", AnyValue::Array(vec![AnyValue::Int(1), AnyValue::from("x")])),
                KeyValue::new("k", AnyValue::KvList(vec![KeyValue::new("n", true)])),
                KeyValue::new("y", AnyValue::Bytes(vec![0xff, 0, 1, 2])),
            ],
            dropped_attributes_count: 2,
            events: vec![Event { time_unix_nano: 7, name: "e".into(), ..Default::default() }],
            links: vec![Link { trace_id: TraceId([4; 16]), span_id: SpanId([5; 8]), ..Default::default() }],
            status: Status { code: StatusCode::Error, message: "no".into() },
            ..Default::default()
        };
        let data = TracesData {
            resource_spans: vec![ResourceSpans {
                resource: Resource { attributes: vec![KeyValue::new("service.name", "x")], ..Default::default() },
                scope_spans: vec![ScopeSpans { spans: vec![span.clone(), span], ..Default::default() }],
                ..Default::default()
            }],
        };
        let json = request(&proto::encode_traces(&data), false);
        let back = edgescope_otlp::read::traces_from_str(&json, edgescope_otlp::read::Ids::Strict).unwrap();
        assert_eq!(back, data, "{json}");
        assert!(json.contains(r#""bytesValue":"/wABAg==""#), "{json}");
    }
}
