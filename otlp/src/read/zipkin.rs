//! Zipkin v2 JSON (`/api/v2/trace/{id}`, `/api/v2/traces`) into the OTLP model.
//!
//! Zipkin shares one span id between the client and server halves of an RPC (`"shared": true`
//! on the server half). OTLP ids are unique, so the server half gets an id derived from the
//! shared one and becomes the client half's child, and the shared id's other children move
//! under it. Times are microseconds. A span without a timestamp (Zipkin allows it) starts when
//! its earliest child does, else when its parent does, and is marked
//! `edgescope.zipkin.missing_timestamp`.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value};

use super::{err, find_id, sorted_ids, tolerant_id, Result};
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
    Ok(finish(convert_values(spans)?))
}

/// Reads a Zipkin v2 span array straight from text when every span has the common shape
/// (string ids, numeric times, string tags), without building a `serde_json::Value` tree: on a
/// 100,000-span file that is most of the reading time and memory. `None` when the text is not
/// such an array; the caller then reads it through [`traces`], which names what is wrong.
#[cfg(feature = "fast-zipkin")]
pub(super) fn traces_from_text(text: &str) -> Option<TracesData> {
    let spans: Vec<fast::ZSpan<'_>> = serde_json::from_str(text).ok()?;
    let out = spans.into_iter().map(fast::convert).collect::<Option<Vec<_>>>()?;
    Some(finish(out))
}

/// One span on its way into the model, with what the fix-ups below need to know.
struct Converted {
    service: String,
    span: Span,
    shared: bool,
    missing_timestamp: bool,
}

fn kind_of(kind: Option<&str>) -> SpanKind {
    match kind {
        Some("CLIENT") => SpanKind::Client,
        Some("SERVER") => SpanKind::Server,
        Some("PRODUCER") => SpanKind::Producer,
        Some("CONSUMER") => SpanKind::Consumer,
        _ => SpanKind::Internal,
    }
}

fn convert_values(spans: &[Value]) -> Result<Vec<Converted>> {
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
        let kind = kind_of(o.get("kind").and_then(Value::as_str));
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
    Ok(out)
}

/// The fix-ups every Zipkin span array needs, then one resource per service.
fn finish(mut out: Vec<Converted>) -> TracesData {
    let key = |s: &Span| (s.trace_id, s.span_id);
    // Shared ids: the server half gets its own id under the client half, and takes the
    // shared id's children with it.
    let client_halves = sorted_ids(out.iter().filter(|c| !c.shared).map(|c| (key(&c.span), 0)).collect());
    let mut moved = Vec::new();
    for c in out.iter_mut().filter(|c| c.shared) {
        let shared = key(&c.span);
        if find_id(&client_halves, &shared).is_some() {
            let own = server_half(c.span.span_id);
            c.span.parent_span_id = Some(c.span.span_id);
            c.span.span_id = own;
            moved.push((shared, u64::from_be_bytes(own.0)));
        }
    }
    drop(client_halves);
    let moved = sorted_ids(moved);
    if !moved.is_empty() {
        for c in out.iter_mut() {
            let Some(parent) = c.span.parent_span_id else { continue };
            if let Some(own) = find_id(&moved, &(c.span.trace_id, parent)).map(|o| SpanId(o.to_be_bytes())) {
                if own != c.span.span_id {
                    c.span.parent_span_id = Some(own);
                }
            }
        }
    }

    // Missing timestamps: the earliest child's start, else the parent's.
    let mut earliest_child =
        sorted_ids(out.iter().filter(|c| c.missing_timestamp).map(|c| (key(&c.span), u64::MAX)).collect());
    if earliest_child.is_empty() {
        return by_service(out);
    }
    for c in out.iter().filter(|c| !c.missing_timestamp) {
        let Some(p) = c.span.parent_span_id else { continue };
        let parent = (c.span.trace_id, p);
        // Repeated ids: every copy gets the same value.
        let from = earliest_child.partition_point(|e| e.0 < parent);
        for e in earliest_child[from..].iter_mut().take_while(|e| e.0 == parent) {
            e.1 = e.1.min(c.span.start_time_unix_nano);
        }
    }
    // The parents' starts, for those without a child with a timestamp; the last span with
    // an id wins, as in a map.
    let mut parent_start = sorted_ids(
        out.iter()
            .filter(|c| c.missing_timestamp && find_id(&earliest_child, &key(&c.span)) == Some(u64::MAX))
            .filter_map(|c| Some(((c.span.trace_id, c.span.parent_span_id?), u64::MAX)))
            .collect(),
    );
    parent_start.dedup_by(|a, b| a.0 == b.0);
    if !parent_start.is_empty() {
        for c in out.iter().filter(|c| !c.missing_timestamp) {
            if let Ok(i) = parent_start.binary_search_by(|e| e.0.cmp(&key(&c.span))) {
                parent_start[i].1 = c.span.start_time_unix_nano;
            }
        }
    }
    for c in out.iter_mut().filter(|c| c.missing_timestamp) {
        let inferred = find_id(&earliest_child, &key(&c.span))
            .filter(|&t| t != u64::MAX)
            .or_else(|| c.span.parent_span_id.and_then(|p| find_id(&parent_start, &(c.span.trace_id, p))))
            .filter(|&t| t != u64::MAX);
        if let Some(start) = inferred {
            let duration = c.span.end_time_unix_nano - c.span.start_time_unix_nano;
            c.span.start_time_unix_nano = start;
            c.span.end_time_unix_nano = start + duration;
        }
        c.span.attributes.push(KeyValue::new("edgescope.zipkin.missing_timestamp", AnyValue::Bool(true)));
    }
    by_service(out)
}

/// Spans grouped into one resource per service, in order of first appearance.
fn by_service(out: Vec<Converted>) -> TracesData {
    let mut resource_spans: Vec<ResourceSpans> = Vec::new();
    let mut services: Vec<String> = Vec::new();
    for c in out {
        match services.iter().position(|s| *s == c.service) {
            Some(i) => resource_spans[i].scope_spans[0].spans.push(c.span),
            None => {
                services.push(c.service.clone());
                resource_spans.push(ResourceSpans {
                    resource: Resource {
                        attributes: alloc::vec![KeyValue::new("service.name", c.service)],
                        ..Default::default()
                    },
                    scope_spans: alloc::vec![ScopeSpans { spans: alloc::vec![c.span], ..Default::default() }],
                    ..Default::default()
                })
            }
        }
    }
    TracesData { resource_spans }
}

/// The common shape of a Zipkin v2 span, borrowed from the text where it has no escapes.
/// Anything else (string times, non-string tags, a missing id) makes [`convert`] give up, and
/// the span array is read through `serde_json::Value` instead.
#[cfg(feature = "fast-zipkin")]
mod fast {
    use alloc::borrow::Cow;
    use alloc::string::String;
    use alloc::vec::Vec;

    use serde::Deserialize;

    use super::{kind_of, tolerant_id, Converted};
    use crate::{Event, KeyValue, Span, SpanId, Status, StatusCode, TraceId};

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct ZSpan<'a> {
        #[serde(borrow)]
        trace_id: Option<Cow<'a, str>>,
        #[serde(borrow)]
        id: Option<Cow<'a, str>>,
        #[serde(borrow)]
        parent_id: Option<Cow<'a, str>>,
        #[serde(borrow)]
        name: Option<Cow<'a, str>>,
        #[serde(borrow)]
        kind: Option<Cow<'a, str>>,
        timestamp: Option<u64>,
        duration: Option<u64>,
        #[serde(borrow)]
        local_endpoint: Option<Endpoint<'a>>,
        #[serde(borrow)]
        remote_endpoint: Option<Endpoint<'a>>,
        #[serde(borrow)]
        annotations: Option<Vec<Annotation<'a>>>,
        #[serde(borrow)]
        tags: Option<Tags<'a>>,
        shared: Option<bool>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Endpoint<'a> {
        #[serde(borrow)]
        service_name: Option<Cow<'a, str>>,
    }

    #[derive(Deserialize)]
    struct Annotation<'a> {
        timestamp: Option<u64>,
        #[serde(borrow)]
        value: Option<Cow<'a, str>>,
    }

    /// Tags in document order; [`convert`] sorts them the way a `serde_json::Map` iterates.
    struct Tags<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

    impl<'de: 'a, 'a> Deserialize<'de> for Tags<'a> {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
            struct Visit;
            impl<'de> serde::de::Visitor<'de> for Visit {
                type Value = Tags<'de>;
                fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                    f.write_str("an object of string tags")
                }
                fn visit_map<M: serde::de::MapAccess<'de>>(
                    self,
                    mut map: M,
                ) -> core::result::Result<Tags<'de>, M::Error> {
                    let mut tags = Vec::new();
                    while let Some(entry) = map.next_entry::<Cow<'de, str>, Cow<'de, str>>()? {
                        tags.push(entry);
                    }
                    Ok(Tags(tags))
                }
            }
            d.deserialize_map(Visit)
        }
    }

    fn id<const N: usize>(s: Option<&Cow<'_, str>>) -> Option<Option<[u8; N]>> {
        match s.map(|s| s.as_ref()) {
            None | Some("") => Some(None),
            Some(s) => tolerant_id::<N>(s).map(Some),
        }
    }

    /// The same span the `Value` path makes of it, or `None` where that path would report an
    /// error (so that it does, with its path and message).
    pub(super) fn convert(z: ZSpan<'_>) -> Option<Converted> {
        let trace_id = TraceId(id::<16>(z.trace_id.as_ref())??);
        let span_id = SpanId(id::<8>(z.id.as_ref())??);
        let parent_span_id = id::<8>(z.parent_id.as_ref())?.map(SpanId);
        let mut tags = z.tags.map(|t| t.0).unwrap_or_default();
        // A JSON object keeps the last of repeated keys and iterates in key order.
        tags.reverse();
        let mut order: Vec<usize> = (0..tags.len()).collect();
        order.sort_unstable_by(|&a, &b| tags[a].0.cmp(&tags[b].0).then(a.cmp(&b)));
        order.dedup_by(|later, first| tags[*later].0 == tags[*first].0);
        let mut tags: Vec<_> = tags.into_iter().map(Some).collect();
        let tags = order.into_iter().filter_map(|i| tags[i].take());
        let mut status = Status::default();
        let mut attributes = Vec::new();
        for (k, v) in tags {
            let v = String::from(v);
            if k == "error" {
                status = Status { code: StatusCode::Error, message: v.clone() };
            }
            attributes.push(KeyValue::new(k.as_ref(), v));
        }
        if let Some(name) = z.remote_endpoint.and_then(|e| e.service_name) {
            attributes.push(KeyValue::new("peer.service", name.as_ref()));
        }
        let events = z
            .annotations
            .unwrap_or_default()
            .into_iter()
            .map(|a| Event {
                time_unix_nano: a.timestamp.unwrap_or(0) * 1000,
                name: a.value.map(String::from).unwrap_or_default(),
                ..Default::default()
            })
            .collect();
        let service =
            z.local_endpoint.and_then(|e| e.service_name).map(String::from).unwrap_or_else(|| "unknown_service".into());
        let start = z.timestamp.unwrap_or(0) * 1000;
        Some(Converted {
            service,
            shared: z.shared.unwrap_or(false),
            missing_timestamp: z.timestamp.is_none(),
            span: Span {
                trace_id,
                span_id,
                parent_span_id,
                name: z.name.map(String::from).unwrap_or_default(),
                kind: kind_of(z.kind.as_deref()),
                start_time_unix_nano: start,
                end_time_unix_nano: start + z.duration.unwrap_or(0) * 1000,
                attributes,
                events,
                status,
                ..Default::default()
            },
        })
    }
}

#[cfg(all(test, feature = "fast-zipkin"))]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!("{}/../../shared/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn the_fast_path_reads_every_zipkin_fixture_as_the_value_path_does() {
        for name in [
            "zipkin-lens-messaging-kafka.json",
            "zipkin-lens-skew.json",
            "zipkin-lens-smartthings-mobile-web-install.json",
            "zipkin-lens-smartthings-oauth-authorization.json",
            "zipkin-lens-yelp.json",
        ] {
            let text = fixture(name);
            let doc: Vec<Value> = serde_json::from_str(&text).unwrap();
            let fast = traces_from_text(&text).unwrap_or_else(|| panic!("{name}: the fast path gave up"));
            assert_eq!(fast, traces(&doc).unwrap(), "{name}");
        }
    }

    #[test]
    fn the_fast_path_gives_up_on_unusual_shapes_and_keeps_the_last_of_repeated_tags() {
        let odd = r#"[{"traceId":"1","id":"2","timestamp":"10","tags":{"n":1}}]"#;
        assert!(traces_from_text(odd).is_none());
        let repeated = r#"[{"traceId":"1","id":"2","timestamp":10,"tags":{"b":"x","a":"1","b":"y \u00e9"}}]"#;
        let doc: Vec<Value> = serde_json::from_str(repeated).unwrap();
        assert_eq!(traces_from_text(repeated).unwrap(), traces(&doc).unwrap());
        let span = &traces(&doc).unwrap().resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(span.attributes, [KeyValue::new("a", "1"), KeyValue::new("b", "y é")]);
    }
}
