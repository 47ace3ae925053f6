//! Jaeger's legacy JSON (the UI's `/api/traces` answers, `{"data": [trace, …]}`, or one trace
//! object) into the OTLP model.
//!
//! Times are microseconds. The parent is the first `CHILD_OF` reference in the span's own trace,
//! as Jaeger's model reads it (`Span.ParentSpanID`), else its first reference in that trace (a
//! `FOLLOWS_FROM`, as the Jaeger UI draws it), unless the deprecated `parentSpanID` names one; the
//! other references, those to other traces too, become links. Tags keep their types (`int64` may
//! be a string, `binary` is base64), and a value that does not read as its type keeps its text;
//! `span.kind`, `error` and `otel.status_code` / `otel.status_description` set the kind and
//! status. Logs become events named by their `event` (or `message`) field, whatever its type.
//! Warnings, the span's and then the trace's, become the string array attribute
//! [`WARNINGS`] of each span.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value};

use super::{err, tolerant_id, Result};
use crate::{
    AnyValue, Event, KeyValue, Link, Resource, ResourceSpans, ScopeSpans, Span, SpanId, SpanKind, Status, StatusCode,
    TraceId, TracesData,
};

/// The attribute Jaeger v2 keeps a span's warnings in, an array of strings (its `jptrace`
/// package's `WarningsAttribute`), where its translator from Jaeger's model to OTLP puts them.
const WARNINGS: &str = "@jaeger@warnings";

/// A tag's value as its declared type, or its text when it does not read as that type (an
/// `int64` of "n/a", a `binary` that is not base64, a number too large for an `int64`): what
/// the tag holds is kept, as Jaeger's UI shows it, rather than dropped.
fn tag_value(tag: &Map<String, Value>) -> Option<AnyValue> {
    let v = tag.get("value")?;
    let kind = tag.get("type").and_then(Value::as_str).unwrap_or("string");
    let typed = match (kind, v) {
        ("bool", Value::Bool(b)) => Some(AnyValue::Bool(*b)),
        ("bool", Value::String(s)) if s == "true" || s == "false" => Some(AnyValue::Bool(s == "true")),
        ("int64", Value::Number(n)) => n.as_i64().map(AnyValue::Int),
        ("int64", Value::String(s)) => s.parse().ok().map(AnyValue::Int),
        ("float64", Value::Number(n)) => n.as_f64().map(AnyValue::Double),
        ("float64", Value::String(s)) => s.parse().ok().map(AnyValue::Double),
        ("binary", Value::String(s)) => crate::hex::base64_decode(s).map(AnyValue::Bytes),
        _ => None,
    };
    Some(typed.unwrap_or_else(|| AnyValue::String(text(v))))
}

/// A JSON value's text: a string as it is, anything else as JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn tag(t: &Value) -> Option<KeyValue> {
    let t = t.as_object()?;
    Some(KeyValue { key: t.get("key")?.as_str()?.to_owned(), value: tag_value(t) })
}

fn tags(list: Option<&Value>) -> Vec<KeyValue> {
    let Some(Value::Array(list)) = list else { return Vec::new() };
    list.iter().filter_map(tag).collect()
}

/// A `warnings` list's strings (anything else in it as its JSON text).
fn warnings(list: Option<&Value>) -> impl Iterator<Item = String> + '_ {
    list.and_then(Value::as_array).into_iter().flatten().filter(|w| !w.is_null()).map(text)
}

/// A log as an event: named by its `event` field (else its `message` field) as text, whatever
/// type that field has, its other fields the event's attributes.
fn event(log: &Value) -> Event {
    let fields = log.get("fields").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let named = |f: &Value| {
        matches!(f.get("key").and_then(Value::as_str), Some("event" | "message"))
            && f.get("value").is_some_and(|v| !v.is_null())
    };
    let name_at = fields.iter().position(named);
    Event {
        time_unix_nano: micros(log.get("timestamp")).saturating_mul(1000),
        name: name_at.and_then(|i| fields[i].get("value")).map_or_else(|| "log".to_owned(), text),
        attributes: fields
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != name_at)
            .filter_map(|(_, f)| tag(f))
            .collect(),
        ..Default::default()
    }
}

fn micros(v: Option<&Value>) -> u64 {
    super::zipkin::micros(v).unwrap_or(0)
}

/// Converts `{"data": [...]}` or a single trace object.
pub(super) fn traces(doc: &Map<String, Value>) -> Result<(TracesData, Option<super::Skipped<crate::ReadError>>)> {
    match doc.get("data") {
        // A trace that cannot be read is left out, and counted.
        Some(Value::Array(traces)) => super::each_trace(traces, |i, t| {
            let t = t.as_object().ok_or_else(|| err(&format!("data[{i}]"), "expected a trace object"))?;
            let mut out = TracesData::default();
            one_trace(t, &format!("data[{i}]"), &mut out)?;
            Ok(out)
        }),
        _ => {
            let mut out = TracesData::default();
            one_trace(doc, "", &mut out)?;
            Ok((out, None))
        }
    }
}

fn one_trace(t: &Map<String, Value>, path: &str, out: &mut TracesData) -> Result<()> {
    let processes = t.get("processes").and_then(Value::as_object);
    // Jaeger's translator to OTLP has no place for a trace's warnings (its batches carry spans
    // only), so they go to each of the trace's spans, after the span's own.
    let trace_warnings: Vec<String> = warnings(t.get("warnings")).collect();
    let spans = t.get("spans").and_then(Value::as_array).ok_or_else(|| err(path, "expected a `spans` array"))?;
    for (i, s) in spans.iter().enumerate() {
        let p = format!("{path}.spans[{i}]");
        let s = s.as_object().ok_or_else(|| err(&p, "expected a span object"))?;
        let hex = |key: &str| s.get(key).and_then(Value::as_str).unwrap_or("");
        let trace_id = TraceId(tolerant_id::<16>(hex("traceID")).ok_or_else(|| err(&p, "traceID is not a hex id"))?);
        let span_id = SpanId(tolerant_id::<8>(hex("spanID")).ok_or_else(|| err(&p, "spanID is not a hex id"))?);
        // The deprecated `parentSpanID` (still in Jaeger's JSON model and its Elasticsearch
        // documents) is a CHILD_OF reference put first, as Jaeger's MaybeAddParentSpanID adds it.
        let deprecated_parent = tolerant_id::<8>(hex("parentSpanID")).map(SpanId).filter(SpanId::is_valid);
        let mut parent: Option<SpanId> = deprecated_parent;
        let mut links = Vec::new();
        let refs = s.get("references").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        // A reference in this trace to a span id that reads and is valid (all zeros is none).
        let in_trace = |r: &Value| {
            tolerant_id::<16>(r.get("traceID").and_then(Value::as_str).unwrap_or("")) == Some(trace_id.0)
                && tolerant_id::<8>(r.get("spanID").and_then(Value::as_str).unwrap_or(""))
                    .is_some_and(|s| SpanId(s).is_valid())
        };
        let child_of = |r: &Value| r.get("refType").and_then(Value::as_str) == Some("CHILD_OF");
        let parent_ref = refs
            .iter()
            .position(|r| child_of(r) && in_trace(r))
            .or_else(|| refs.iter().position(in_trace))
            .filter(|_| deprecated_parent.is_none());
        for (j, r) in refs.iter().enumerate() {
            let id = |key: &str| r.get(key).and_then(Value::as_str).unwrap_or("");
            let (Some(rt), Some(rs)) = (tolerant_id::<16>(id("traceID")), tolerant_id::<8>(id("spanID"))) else {
                continue;
            };
            // A reference to span 0 names no span: neither parent nor link.
            if !SpanId(rs).is_valid() {
                continue;
            }
            if TraceId(rt) == trace_id && deprecated_parent == Some(SpanId(rs)) {
                continue;
            }
            if Some(j) == parent_ref {
                parent = Some(SpanId(rs));
            } else {
                let kind = r.get("refType").and_then(Value::as_str).unwrap_or("").to_ascii_lowercase();
                links.push(Link {
                    trace_id: TraceId(rt),
                    span_id: SpanId(rs),
                    attributes: alloc::vec![KeyValue::new("opentracing.ref_type", kind)],
                    ..Default::default()
                });
            }
        }
        let mut attributes = Vec::new();
        let mut kind = SpanKind::Unspecified;
        let mut status = Status::default();
        let (mut scope_name, mut scope_version, mut trace_state) = (String::new(), String::new(), String::new());
        for kv in tags(s.get("tags")) {
            match (kv.key.as_str(), kv.value.as_ref()) {
                ("span.kind", Some(AnyValue::String(k))) => {
                    kind = match k.as_str() {
                        "client" => SpanKind::Client,
                        "server" => SpanKind::Server,
                        "producer" => SpanKind::Producer,
                        "consumer" => SpanKind::Consumer,
                        _ => SpanKind::Internal,
                    }
                }
                // Jaeger UI takes the string "true" as well.
                ("error", Some(AnyValue::Bool(true))) => status.code = StatusCode::Error,
                ("error", Some(AnyValue::String(t))) if t == "true" => status.code = StatusCode::Error,
                ("otel.status_code", Some(AnyValue::String(c))) => {
                    status.code = if c == "ERROR" {
                        StatusCode::Error
                    } else if c == "OK" {
                        StatusCode::Ok
                    } else {
                        status.code
                    }
                }
                ("otel.status_description", Some(AnyValue::String(d))) => status.message = d.clone(),
                // What Jaeger's OTLP translator makes of the scope and the trace state, read back.
                ("otel.scope.name" | "otel.library.name", Some(AnyValue::String(n))) => scope_name = n.clone(),
                ("otel.scope.version" | "otel.library.version", Some(AnyValue::String(v))) => scope_version = v.clone(),
                ("w3c.tracestate", Some(AnyValue::String(t))) => trace_state = t.clone(),
                _ => attributes.push(kv),
            }
        }
        let span_warnings: Vec<AnyValue> =
            warnings(s.get("warnings")).chain(trace_warnings.iter().cloned()).map(AnyValue::String).collect();
        if !span_warnings.is_empty() {
            attributes.push(KeyValue::new(WARNINGS, AnyValue::Array(span_warnings)));
        }
        let events = s.get("logs").and_then(Value::as_array).map(|logs| logs.iter().map(event).collect());
        let start = micros(s.get("startTime")).saturating_mul(1000);
        let span = Span {
            trace_id,
            span_id,
            parent_span_id: parent,
            flags: s.get("flags").and_then(Value::as_u64).unwrap_or(0) as u32 & 0xff,
            name: s.get("operationName").and_then(Value::as_str).unwrap_or("").to_owned(),
            kind,
            start_time_unix_nano: start,
            end_time_unix_nano: start.saturating_add(micros(s.get("duration")).saturating_mul(1000)),
            attributes,
            events: events.unwrap_or_default(),
            links,
            status,
            trace_state,
            ..Default::default()
        };
        // The process is the resource: its service name and tags.
        let pid = s.get("processID").and_then(Value::as_str).unwrap_or("");
        let process = processes.and_then(|ps| ps.get(pid)).or_else(|| s.get("process"));
        let service = process.and_then(|p| p.get("serviceName")).and_then(Value::as_str).unwrap_or("unknown_service");
        let mut resource_attributes = alloc::vec![KeyValue::new("service.name", service)];
        resource_attributes.extend(tags(process.and_then(|p| p.get("tags"))));
        let resource = Resource { attributes: resource_attributes, ..Default::default() };
        let rs = match out.resource_spans.iter_mut().position(|rs| rs.resource == resource) {
            Some(i) => &mut out.resource_spans[i],
            None => {
                out.resource_spans.push(ResourceSpans { resource, ..Default::default() });
                out.resource_spans.last_mut().expect("pushed")
            }
        };
        match rs.scope_spans.iter_mut().find(|ss| ss.scope.name == scope_name && ss.scope.version == scope_version) {
            Some(ss) => ss.spans.push(span),
            None => rs.scope_spans.push(ScopeSpans {
                scope: crate::InstrumentationScope { name: scope_name, version: scope_version, ..Default::default() },
                spans: alloc::vec![span],
                ..Default::default()
            }),
        }
    }
    Ok(())
}
