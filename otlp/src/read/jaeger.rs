//! Jaeger's legacy JSON (the UI's `/api/traces` answers, `{"data": [trace, …]}`, or one trace
//! object) into the OTLP model.
//!
//! Times are microseconds. The first `CHILD_OF` reference is the parent (else the first
//! `FOLLOWS_FROM`, as the Jaeger UI draws it), unless the deprecated `parentSpanID` names one;
//! the other references become links. Tags keep
//! their types (`int64` may be a string, `binary` is base64); `span.kind`, `error` and
//! `otel.status_code` / `otel.status_description` set the kind and status. Logs become events
//! named by their `event` (or `message`) field.

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

fn tag_value(tag: &Map<String, Value>) -> Option<AnyValue> {
    let v = tag.get("value")?;
    let kind = tag.get("type").and_then(Value::as_str).unwrap_or("string");
    Some(match (kind, v) {
        ("bool", Value::Bool(b)) => AnyValue::Bool(*b),
        ("bool", Value::String(s)) => AnyValue::Bool(s == "true"),
        ("int64", Value::Number(n)) => AnyValue::Int(n.as_i64()?),
        ("int64", Value::String(s)) => AnyValue::Int(s.parse().ok()?),
        ("float64", Value::Number(n)) => AnyValue::Double(n.as_f64()?),
        ("float64", Value::String(s)) => AnyValue::Double(s.parse().ok()?),
        ("binary", Value::String(s)) => AnyValue::Bytes(crate::hex::base64_decode(s)?),
        (_, Value::String(s)) => AnyValue::String(s.clone()),
        (_, other) => AnyValue::String(other.to_string()),
    })
}

fn tags(list: Option<&Value>) -> Vec<KeyValue> {
    let Some(Value::Array(list)) = list else { return Vec::new() };
    list.iter()
        .filter_map(Value::as_object)
        .filter_map(|t| Some(KeyValue { key: t.get("key")?.as_str()?.to_owned(), value: tag_value(t) }))
        .collect()
}

fn micros(v: Option<&Value>) -> u64 {
    super::zipkin::micros(v).unwrap_or(0)
}

/// Converts `{"data": [...]}` or a single trace object.
pub(super) fn traces(doc: &Map<String, Value>) -> Result<TracesData> {
    let mut out = TracesData::default();
    match doc.get("data") {
        Some(Value::Array(traces)) => {
            for (i, t) in traces.iter().enumerate() {
                let t = t.as_object().ok_or_else(|| err(&format!("data[{i}]"), "expected a trace object"))?;
                one_trace(t, &format!("data[{i}]"), &mut out)?;
            }
        }
        _ => one_trace(doc, "", &mut out)?,
    }
    Ok(out)
}

fn one_trace(t: &Map<String, Value>, path: &str, out: &mut TracesData) -> Result<()> {
    let processes = t.get("processes").and_then(Value::as_object);
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
        let parent_ref = refs
            .iter()
            .position(|r| r.get("refType").and_then(Value::as_str) == Some("CHILD_OF"))
            .or(if refs.is_empty() { None } else { Some(0) })
            .filter(|_| deprecated_parent.is_none());
        for (j, r) in refs.iter().enumerate() {
            let id = |key: &str| r.get(key).and_then(Value::as_str).unwrap_or("");
            let (Some(rt), Some(rs)) = (tolerant_id::<16>(id("traceID")), tolerant_id::<8>(id("spanID"))) else {
                continue;
            };
            if TraceId(rt) == trace_id && deprecated_parent == Some(SpanId(rs)) {
                continue;
            }
            if Some(j) == parent_ref && TraceId(rt) == trace_id {
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
        let events = s
            .get("logs")
            .and_then(Value::as_array)
            .map(|logs| {
                logs.iter()
                    .map(|l| {
                        let mut fields = tags(l.get("fields"));
                        let name = fields
                            .iter()
                            .position(|f| f.key == "event" || f.key == "message")
                            .map(|i| fields.remove(i))
                            .and_then(|f| f.value)
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_else(|| "log".to_owned());
                        Event {
                            time_unix_nano: micros(l.get("timestamp")).saturating_mul(1000),
                            name,
                            attributes: fields,
                            ..Default::default()
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
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
            events,
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
