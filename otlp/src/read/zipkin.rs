//! Zipkin v2 JSON (`/api/v2/trace/{id}`, `/api/v2/traces`) into the OTLP model.
//!
//! Zipkin shares one span id between the client and server halves of an RPC (`"shared": true`
//! on the server half). OTLP ids are unique, so the server half gets an id derived from the
//! shared one and becomes the client half's child, and the shared id's other children move
//! under it. Times are microseconds. A span without a timestamp (Zipkin allows it) starts when
//! its earliest child does, else when its parent does, and is marked
//! `edgescope.zipkin.missing_timestamp`.

use alloc::borrow::ToOwned;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value};

use super::{err, tolerant_id, Result};
use crate::{
    AnyValue, Event, KeyValue, Resource, ResourceSpans, ScopeSpans, Span, SpanId, SpanKind, Status, StatusCode,
    TraceId, TracesData,
};

/// A derived id for the server half of a shared span: the shared id with every bit of its
/// first byte flipped and its last byte rotated, never zero and stable for the same input.
fn server_half(id: SpanId) -> SpanId {
    let mut b = id.0;
    b[0] ^= 0xff;
    b[7] = b[7].rotate_left(3) ^ 0x5a;
    SpanId(b)
}

fn micros(v: Option<&Value>) -> Option<u64> {
    v.and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
}

/// Converts a Zipkin v2 span array.
pub(super) fn traces(spans: &[Value]) -> Result<TracesData> {
    struct Converted {
        service: String,
        span: Span,
        shared: bool,
        missing_timestamp: bool,
    }
    let mut out: Vec<Converted> = Vec::with_capacity(spans.len());
    for (i, v) in spans.iter().enumerate() {
        let path = format!("[{i}]");
        let o: &Map<String, Value> = v.as_object().ok_or_else(|| err(&path, "expected a Zipkin span object"))?;
        let id_of = |key: &str| -> Result<Option<[u8; 8]>> {
            match o.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.is_empty() => Ok(None),
                Some(Value::String(s)) => {
                    tolerant_id::<8>(s).map(Some).ok_or_else(|| err(&format!("{path}.{key}"), "not a hex span id"))
                }
                Some(_) => Err(err(&format!("{path}.{key}"), "expected a string")),
            }
        };
        let trace = o.get("traceId").and_then(Value::as_str).ok_or_else(|| err(&path, "missing traceId"))?;
        let trace_id =
            TraceId(tolerant_id::<16>(trace).ok_or_else(|| err(&format!("{path}.traceId"), "not a hex trace id"))?);
        let span_id = SpanId(id_of("id")?.ok_or_else(|| err(&path, "missing id"))?);
        let parent_span_id = id_of("parentId")?.map(SpanId);
        let timestamp = micros(o.get("timestamp"));
        let duration = micros(o.get("duration")).unwrap_or(0);
        let kind = match o.get("kind").and_then(Value::as_str) {
            Some("CLIENT") => SpanKind::Client,
            Some("SERVER") => SpanKind::Server,
            Some("PRODUCER") => SpanKind::Producer,
            Some("CONSUMER") => SpanKind::Consumer,
            _ => SpanKind::Internal,
        };
        let mut attributes = Vec::new();
        let mut status = Status::default();
        if let Some(Value::Object(tags)) = o.get("tags") {
            for (k, v) in tags {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if k == "error" {
                    status = Status { code: StatusCode::Error, message: text.clone() };
                }
                attributes.push(KeyValue::new(k.as_str(), text));
            }
        }
        let endpoint = |key: &str| o.get(key).and_then(Value::as_object);
        if let Some(remote) = endpoint("remoteEndpoint") {
            if let Some(name) = remote.get("serviceName").and_then(Value::as_str) {
                attributes.push(KeyValue::new("peer.service", name));
            }
        }
        let events = match o.get("annotations") {
            Some(Value::Array(list)) => list
                .iter()
                .map(|a| Event {
                    time_unix_nano: micros(a.get("timestamp")).unwrap_or(0) * 1000,
                    name: a.get("value").and_then(Value::as_str).unwrap_or("").to_owned(),
                    ..Default::default()
                })
                .collect(),
            _ => Vec::new(),
        };
        let service = endpoint("localEndpoint")
            .and_then(|e| e.get("serviceName"))
            .and_then(Value::as_str)
            .unwrap_or("unknown_service")
            .to_owned();
        let start = timestamp.unwrap_or(0) * 1000;
        out.push(Converted {
            service,
            shared: o.get("shared").and_then(Value::as_bool).unwrap_or(false),
            missing_timestamp: timestamp.is_none(),
            span: Span {
                trace_id,
                span_id,
                parent_span_id,
                name: o.get("name").and_then(Value::as_str).unwrap_or("").to_owned(),
                kind,
                start_time_unix_nano: start,
                end_time_unix_nano: start + duration * 1000,
                attributes,
                events,
                status,
                ..Default::default()
            },
        });
    }

    // Shared ids: the server half gets its own id under the client half, and takes the
    // shared id's children with it.
    let client_halves: Vec<(TraceId, SpanId)> =
        out.iter().filter(|c| !c.shared).map(|c| (c.span.trace_id, c.span.span_id)).collect();
    let mut moved: BTreeMap<(TraceId, SpanId), SpanId> = BTreeMap::new();
    for c in out.iter_mut().filter(|c| c.shared) {
        let key = (c.span.trace_id, c.span.span_id);
        if client_halves.contains(&key) {
            let own = server_half(c.span.span_id);
            c.span.parent_span_id = Some(c.span.span_id);
            c.span.span_id = own;
            moved.insert(key, own);
        }
    }
    for c in out.iter_mut() {
        if let Some(parent) = c.span.parent_span_id {
            if let Some(own) = moved.get(&(c.span.trace_id, parent)) {
                if *own != c.span.span_id {
                    c.span.parent_span_id = Some(*own);
                }
            }
        }
    }

    // Missing timestamps: the earliest child's start, else the parent's.
    let starts: BTreeMap<(TraceId, SpanId), u64> = out
        .iter()
        .filter(|c| !c.missing_timestamp)
        .map(|c| ((c.span.trace_id, c.span.span_id), c.span.start_time_unix_nano))
        .collect();
    let mut earliest_child: BTreeMap<(TraceId, SpanId), u64> = BTreeMap::new();
    for c in out.iter().filter(|c| !c.missing_timestamp) {
        if let Some(p) = c.span.parent_span_id {
            let e = earliest_child.entry((c.span.trace_id, p)).or_insert(u64::MAX);
            *e = (*e).min(c.span.start_time_unix_nano);
        }
    }
    for c in out.iter_mut().filter(|c| c.missing_timestamp) {
        let key = (c.span.trace_id, c.span.span_id);
        let inferred = earliest_child
            .get(&key)
            .copied()
            .or_else(|| c.span.parent_span_id.and_then(|p| starts.get(&(c.span.trace_id, p)).copied()));
        if let Some(start) = inferred {
            let duration = c.span.end_time_unix_nano - c.span.start_time_unix_nano;
            c.span.start_time_unix_nano = start;
            c.span.end_time_unix_nano = start + duration;
        }
        c.span.attributes.push(KeyValue::new("edgescope.zipkin.missing_timestamp", AnyValue::Bool(true)));
    }

    // One resource per service, in order of first appearance.
    let mut resource_spans: Vec<ResourceSpans> = Vec::new();
    for c in out {
        match resource_spans.iter_mut().find(|rs| rs.resource.service_name() == c.service) {
            Some(rs) => rs.scope_spans[0].spans.push(c.span),
            None => resource_spans.push(ResourceSpans {
                resource: Resource {
                    attributes: alloc::vec![KeyValue::new("service.name", c.service)],
                    ..Default::default()
                },
                scope_spans: alloc::vec![ScopeSpans { spans: alloc::vec![c.span], ..Default::default() }],
                ..Default::default()
            }),
        }
    }
    Ok(TracesData { resource_spans })
}
