//! Jaeger's older HTTP JSON API, the one Jaeger UI and Grafana's Jaeger data source call:
//! `/api/services`, `/api/services/{service}/operations`, `/api/operations`, `/api/traces`
//! and `/api/traces/{id}`, answered in Jaeger's JSON model (microsecond times, tags, logs,
//! references and processes) inside `{"data": …, "total", "limit", "offset", "errors"}`.
//!
//! The collector serves it under `/jaeger`, so that its own `/api/traces` keeps its shape: a
//! Grafana Jaeger data source points at `http://host:port/jaeger`.
//!
//! Spans are turned into Jaeger's model as OpenTelemetry's Jaeger mapping says: the parent as
//! the first `CHILD_OF` reference and links as `FOLLOWS_FROM` after it; the kind as a
//! `span.kind` tag (none when unspecified); status as `otel.status_code` and
//! `otel.status_description`, with `error=true` for an error; the scope as `otel.scope.name`
//! and `otel.scope.version`; events as logs whose `event` field is the name; arrays and maps
//! as JSON text; the resource as the process, `service.name` as its service name.

use std::collections::HashMap;

use edgescope_otlp::{
    AnyValue, InstrumentationScope, KeyValue, Resource, Span, SpanKind, StatusCode, TraceId, TracesData,
};
use serde_json::{json, Map, Value};

use crate::jaeger::{parse_attributes, parse_go_duration, parse_trace_id, Params, MAX_SEARCH_DEPTH};
use crate::store::TraceQuery;

/// Traces a search returns when it names no `limit`, as Jaeger's query service does.
const DEFAULT_LIMIT: usize = 100;

/// How far back a search without `start` looks, as Jaeger's query service does by default.
const DEFAULT_LOOKBACK_NS: i64 = 2 * 24 * 3_600 * 1_000_000_000;

/// What `GET /api/traces` asks for.
#[derive(Debug, PartialEq)]
pub(crate) enum Search {
    /// Traces matching conditions.
    Query(TraceQuery),
    /// The traces with these ids (`traceID=…`, repeated), whatever else the request says.
    Ids(Vec<TraceId>),
}

/// The first value of `name`, when it is not empty (as Go's `url.Values.Get` and Jaeger read it).
fn first<'a>(params: &'a [(String, String)], name: &'static str) -> Option<&'a str> {
    Params(params).get(&[name]).map(|(_, v)| v)
}

fn unparsable(name: &str, reason: impl std::fmt::Display) -> String {
    format!("unable to parse param '{name}': {reason}")
}

/// Reads the query string of `GET /api/traces` (`service`, `operation`, `start` and `end` in
/// Unix microseconds, `minDuration`/`maxDuration` as Go durations, `limit`, `tag=key:value`
/// repeated, `tags` as a JSON object, `traceID` repeated). `now_ns` is the default `end`.
/// The error is the message of a `400` answer.
pub(crate) fn search(params: &[(String, String)], now_ns: i64) -> Result<Search, String> {
    let ids = params.iter().filter(|(k, _)| k == "traceID").map(|(_, v)| v.as_str());
    let ids = ids
        .map(|v| parse_trace_id(v).ok_or_else(|| format!("cannot parse traceID param: `{v}` is not a trace id")))
        .collect::<Result<Vec<_>, _>>()?;
    let micros = |name: &'static str| -> Result<Option<i64>, String> {
        first(params, name)
            .map(|v| {
                v.parse::<i64>()
                    .map(|us| us.saturating_mul(1_000))
                    .map_err(|_| unparsable(name, "expected Unix microseconds"))
            })
            .transpose()
    };
    let end = micros("end")?.unwrap_or(now_ns);
    let start = micros("start")?.unwrap_or(now_ns.saturating_sub(DEFAULT_LOOKBACK_NS));
    let duration = |name: &'static str| -> Result<Option<i64>, String> {
        first(params, name).map(|v| parse_go_duration(v).map_err(|e| unparsable(name, e))).transpose()
    };
    let (duration_min, duration_max) = (duration("minDuration")?, duration("maxDuration")?);
    let limit = match first(params, "limit") {
        None => DEFAULT_LIMIT,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n <= 0 => DEFAULT_LIMIT,
            Ok(n) if n as u64 <= MAX_SEARCH_DEPTH => n as usize,
            Ok(_) => return Err(format!("'limit' must be at most {MAX_SEARCH_DEPTH}")),
            Err(_) => return Err(unparsable("limit", "expected a whole number")),
        },
    };
    let mut attributes = Vec::new();
    for (_, tag) in params.iter().filter(|(k, _)| k == "tag") {
        let Some((key, value)) = tag.split_once(':') else {
            return Err(format!("malformed 'tag' parameter, expecting key:value, received: {tag}"));
        };
        attributes.push((key.to_owned(), value.to_owned()));
    }
    for (_, tags) in params.iter().filter(|(k, _)| k == "tags") {
        let parsed = parse_attributes(tags).map_err(|e| format!("malformed 'tags' parameter: {e}"))?;
        attributes.extend(parsed);
    }
    // A key named twice keeps its last value, as Jaeger's map does.
    let mut seen = std::collections::BTreeMap::new();
    for (key, value) in attributes {
        seen.insert(key, value);
    }

    if !ids.is_empty() {
        return Ok(Search::Ids(ids));
    }
    let Some(service) = first(params, "service") else {
        return Err("parameter 'service' is required".into());
    };
    // Jaeger reads a zero duration as "no bound".
    let (duration_min, duration_max) = (duration_min.filter(|d| *d != 0), duration_max.filter(|d| *d != 0));
    if let (Some(min), Some(max)) = (duration_min, duration_max) {
        if max < min {
            return Err("'maxDuration' should be greater than 'minDuration'".into());
        }
    }
    if start > end {
        return Err("'start' must not be later than 'end'".into());
    }
    Ok(Search::Query(TraceQuery {
        service: service.to_owned(),
        operation: first(params, "operation").map(str::to_owned),
        start_min_ns: start,
        start_max_ns: end,
        duration_min_ns: duration_min,
        duration_max_ns: duration_max,
        attributes: seen.into_iter().collect(),
        limit,
    }))
}

/// Jaeger's answer envelope around `data`. Jaeger counts `total` for lists of services and
/// operations and leaves it 0 for traces.
pub(crate) fn envelope<T: serde::Serialize>(data: T, total: usize, errors: Vec<Value>) -> Envelope<T> {
    Envelope { data, total, errors }
}

/// An answer in Jaeger's envelope, written with its keys in order (`data`, `errors`, `limit`,
/// `offset`, `total`) from `data` as it is: a list of 100,000 operations is not made a JSON
/// tree first.
pub(crate) struct Envelope<T> {
    data: T,
    total: usize,
    errors: Vec<Value>,
}

impl<T: serde::Serialize> serde::Serialize for Envelope<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut out = s.serialize_map(Some(5))?;
        out.serialize_entry("data", &self.data)?;
        out.serialize_entry("errors", &(!self.errors.is_empty()).then_some(&self.errors))?;
        out.serialize_entry("limit", &0)?;
        out.serialize_entry("offset", &0)?;
        out.serialize_entry("total", &self.total)?;
        out.end()
    }
}

/// Jaeger's error answer body.
pub(crate) fn error_body(code: u16, message: &str) -> Value {
    json!({ "data": null, "total": 0, "limit": 0, "offset": 0, "errors": [{ "code": code, "msg": message }] })
}

/// A trace id as Jaeger writes it: 16 hex digits when the high half is zero, else 32.
fn trace_id_text(id: &TraceId) -> String {
    let hex = id.to_hex();
    match hex.strip_prefix("0000000000000000") {
        Some(low) => low.to_owned(),
        None => hex,
    }
}

/// An OTLP value as plain JSON, for arrays and maps written as text.
fn plain_json(value: &AnyValue) -> Value {
    match value {
        AnyValue::String(s) => Value::String(s.clone()),
        AnyValue::Bool(b) => Value::Bool(*b),
        AnyValue::Int(i) => Value::from(*i),
        AnyValue::Double(d) => {
            serde_json::Number::from_f64(*d).map_or_else(|| Value::String(d.to_string()), Value::Number)
        }
        AnyValue::Bytes(b) => {
            let mut out = String::new();
            edgescope_otlp::base64_into(b, &mut out);
            Value::String(out)
        }
        AnyValue::Array(items) => Value::Array(items.iter().map(plain_json).collect()),
        AnyValue::Empty => Value::Null,
        AnyValue::KvList(kvs) => Value::Object(
            kvs.iter().map(|kv| (kv.key.clone(), kv.value.as_ref().map_or(Value::Null, plain_json))).collect(),
        ),
    }
}

/// The text proto3 JSON gives a double that JSON has no number for.
fn non_finite(d: f64) -> &'static str {
    if d.is_nan() {
        "NaN"
    } else if d > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    }
}

/// A Jaeger tag (`{"key", "type", "value"}`).
fn tag(key: &str, value: &AnyValue) -> Value {
    let (kind, value) = match value {
        AnyValue::String(s) => ("string", Value::String(s.clone())),
        AnyValue::Bool(b) => ("bool", Value::Bool(*b)),
        AnyValue::Int(i) => ("int64", Value::from(*i)),
        AnyValue::Double(d) => match serde_json::Number::from_f64(*d) {
            Some(n) => ("float64", Value::Number(n)),
            // JSON has no NaN or infinities: their text as OTLP/JSON (and the API v3) writes it,
            // not Rust's `inf`.
            None => ("string", Value::String(non_finite(*d).into())),
        },
        AnyValue::Bytes(_) => ("binary", plain_json(value)),
        AnyValue::Array(_) | AnyValue::KvList(_) => ("string", Value::String(plain_json(value).to_string())),
        AnyValue::Empty => ("string", Value::String(String::new())),
    };
    json!({ "key": key, "type": kind, "value": value })
}

fn tags(attributes: &[KeyValue]) -> impl Iterator<Item = Value> + '_ {
    attributes.iter().filter_map(|kv| kv.value.as_ref().map(|v| tag(&kv.key, v)))
}

fn micros(nanos: u64) -> u64 {
    nanos / 1_000
}

/// The tags Jaeger's model gives a span from its fields rather than from its attributes, besides
/// the `error` flag; trace search matches them as ordinary tags (`attribute_filter.rs`). Each is
/// written by [`scope_tags`] or [`field_tags`].
pub(crate) const DERIVED_TAGS: [&str; 9] = [
    "otel.scope.name",
    "otel.scope.version",
    "span.kind",
    "otel.status_code",
    "otel.status_description",
    "w3c.tracestate",
    "otel.dropped_attributes_count",
    "otel.dropped_events_count",
    "otel.dropped_links_count",
];

/// The scope's tags of a span: its name and version, when it has them.
pub(crate) fn scope_tags(scope: &InstrumentationScope) -> impl Iterator<Item = (&'static str, AnyValue)> + '_ {
    [("otel.scope.name", &scope.name), ("otel.scope.version", &scope.version)]
        .into_iter()
        .filter(|(_, text)| !text.is_empty())
        .map(|(key, text)| (key, AnyValue::String(text.clone())))
}

/// The tags of a span's own fields, in Jaeger's order: its kind (none when unspecified), its
/// status (none when unset; `error=true` for an error), its `tracestate` and its drop counts (each
/// only when not zero).
pub(crate) fn field_tags(span: &Span) -> impl Iterator<Item = (&'static str, AnyValue)> + '_ {
    let text = |key, text: &str| (!text.is_empty()).then(|| (key, AnyValue::String(text.to_owned())));
    let count = |key, n: u32| (n > 0).then_some((key, AnyValue::Int(n.into())));
    let code = match span.status.code {
        StatusCode::Unset => "",
        StatusCode::Error => "ERROR",
        StatusCode::Ok => "OK",
    };
    let described = if code.is_empty() { "" } else { span.status.message.as_str() };
    let kind = if span.kind == SpanKind::Unspecified { "" } else { span.kind.name() };
    [
        text("span.kind", kind),
        text("otel.status_code", code),
        text("otel.status_description", described),
        (span.status.code == StatusCode::Error).then_some(("error", AnyValue::Bool(true))),
        text("w3c.tracestate", &span.trace_state),
        count("otel.dropped_attributes_count", span.dropped_attributes_count),
        count("otel.dropped_events_count", span.dropped_events_count),
        count("otel.dropped_links_count", span.dropped_links_count),
    ]
    .into_iter()
    .flatten()
}

/// The traces in `data` as Jaeger's answer to a search or a lookup, `{"data": [trace, …],
/// "errors", "limit", "offset", "total"}`, in the order their first spans come; `errors` names the
/// ids not found. It is written span by span, never built as one JSON tree: a trace of 100,000
/// spans took 2.6 GB as a tree, against the answer's 93 MB. Keys come in the order the tree
/// wrote them (sorted), so the bytes are the same.
pub(crate) fn write_answer(data: &TracesData, errors: &[Value]) -> Vec<u8> {
    struct Building {
        id: TraceId,
        /// Each span's place in `data`: resource, scope and span index, and its process id.
        spans: Vec<(usize, usize, usize, usize)>,
        processes: Vec<(String, Value)>,
        /// The process given to each resource of the trace, by its position in `data`.
        by_resource: HashMap<usize, usize>,
    }
    let mut traces: Vec<Building> = Vec::new();
    let mut by_id: HashMap<TraceId, usize> = HashMap::new();
    for (r, resource_spans) in data.resource_spans.iter().enumerate() {
        for (s, scope_spans) in resource_spans.scope_spans.iter().enumerate() {
            for (k, span) in scope_spans.spans.iter().enumerate() {
                let t = *by_id.entry(span.trace_id).or_insert_with(|| {
                    traces.push(Building {
                        id: span.trace_id,
                        spans: Vec::new(),
                        processes: Vec::new(),
                        by_resource: HashMap::new(),
                    });
                    traces.len() - 1
                });
                let trace = &mut traces[t];
                let processes = &mut trace.processes;
                let process_at = *trace.by_resource.entry(r).or_insert_with(|| {
                    let process = process(&resource_spans.resource);
                    // Two resources with the same service and tags share a process.
                    processes.iter().position(|(_, p)| *p == process).unwrap_or_else(|| {
                        processes.push((format!("p{}", processes.len() + 1), process));
                        processes.len() - 1
                    })
                });
                trace.spans.push((r, s, k, process_at));
            }
        }
    }
    fn write(out: &mut Vec<u8>, value: &impl serde::Serialize) {
        serde_json::to_writer(out, value).expect("writing JSON into a Vec cannot fail");
    }
    let mut out = Vec::new();
    out.extend_from_slice(b"{\"data\":[");
    for (n, trace) in traces.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        let processes: Map<String, Value> = trace.processes.iter().cloned().collect();
        out.extend_from_slice(b"{\"processes\":");
        write(&mut out, &Value::Object(processes));
        out.extend_from_slice(b",\"spans\":[");
        for (i, &(r, s, k, process_at)) in trace.spans.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let scope_spans = &data.resource_spans[r].scope_spans[s];
            write(&mut out, &span_json(&scope_spans.scope, &scope_spans.spans[k], &trace.processes[process_at].0));
        }
        out.extend_from_slice(b"],\"traceID\":");
        write(&mut out, &Value::String(trace_id_text(&trace.id)));
        out.extend_from_slice(b",\"warnings\":null}");
    }
    out.extend_from_slice(b"],\"errors\":");
    write(&mut out, &if errors.is_empty() { Value::Null } else { Value::Array(errors.to_vec()) });
    out.extend_from_slice(b",\"limit\":0,\"offset\":0,\"total\":0}");
    out
}

/// One span in Jaeger's model, under the process `process_id`.
fn span_json<'a>(scope: &'a InstrumentationScope, span: &'a Span, process_id: &'a str) -> SpanJson<'a> {
    SpanJson { scope, span, process_id }
}

/// A span as [`span_json`] writes it: its keys in order, its tags and logs each made as it is
/// written, so that a span of 100,000 events or attributes is not one JSON tree first.
struct SpanJson<'a> {
    scope: &'a InstrumentationScope,
    span: &'a Span,
    process_id: &'a str,
}

impl serde::Serialize for SpanJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        /// A list written item by item as `items` makes them.
        struct Each<F>(F);
        impl<I: Iterator<Item = Value>, F: Fn() -> I> serde::Serialize for Each<F> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq((self.0)())
            }
        }
        let (scope, span) = (self.scope, self.span);
        let mut references = Vec::new();
        if let Some(parent) = span.parent_span_id.filter(|p| p.is_valid()) {
            references.push(json!({
                "refType": "CHILD_OF",
                "traceID": trace_id_text(&span.trace_id),
                "spanID": parent.to_hex(),
            }));
        }
        for link in &span.links {
            references.push(json!({
                "refType": "FOLLOWS_FROM",
                "traceID": trace_id_text(&link.trace_id),
                "spanID": link.span_id.to_hex(),
            }));
        }
        // The scope first, then the attributes, then the span's fields, as Jaeger's query
        // service writes them. The error flag overrides an `error` attribute of the span.
        let error = span.status.code == StatusCode::Error;
        let span_tags = || {
            scope_tags(scope)
                .map(|(key, value)| tag(key, &value))
                .chain(tags(&span.attributes))
                .filter(move |t| !(error && t["key"] == "error"))
                .chain(field_tags(span).map(|(key, value)| tag(key, &value)))
        };
        let logs = || {
            span.events.iter().map(|event| {
                let mut fields = Vec::with_capacity(event.attributes.len() + 1);
                // An `event` attribute takes the place of the name; no name, no field.
                if !event.name.is_empty() && !event.attributes.iter().any(|kv| kv.key == "event") {
                    fields.push(tag("event", &AnyValue::String(event.name.clone())));
                }
                fields.extend(tags(&event.attributes));
                json!({ "timestamp": micros(event.time_unix_nano), "fields": fields })
            })
        };
        // In the order of a JSON object's keys (sorted), as the tree this replaced was written.
        let mut out = s.serialize_map(None)?;
        out.serialize_entry("duration", &micros(span.duration_nanos()))?;
        // Jaeger's flags (model/flags.go) are not W3C's: bit 1 is its DebugFlag, where
        // W3C puts "random". Only the sampled bit means the same in both.
        if span.flags & 0x01 != 0 {
            out.serialize_entry("flags", &1)?;
        }
        out.serialize_entry("logs", &Each(logs))?;
        out.serialize_entry("operationName", &span.name)?;
        out.serialize_entry("processID", self.process_id)?;
        out.serialize_entry("references", &references)?;
        out.serialize_entry("spanID", &span.span_id.to_hex())?;
        out.serialize_entry("startTime", &micros(span.start_time_unix_nano))?;
        out.serialize_entry("tags", &Each(span_tags))?;
        out.serialize_entry("traceID", &trace_id_text(&span.trace_id))?;
        out.serialize_entry("warnings", &())?;
        out.end()
    }
}

/// A resource as a Jaeger process: `service.name` apart, the other attributes as tags.
fn process(resource: &Resource) -> Value {
    let tags: Vec<Value> = resource
        .attributes
        .iter()
        .filter(|kv| kv.key != "service.name")
        .filter_map(|kv| kv.value.as_ref().map(|v| tag(&kv.key, v)))
        .collect();
    json!({ "serviceName": resource.service_name(), "tags": tags })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The traces of the written answer, read back.
    fn traces(data: &TracesData) -> Vec<Value> {
        let answer: Value = serde_json::from_slice(&write_answer(data, &[])).unwrap();
        answer["data"].as_array().unwrap().clone()
    }
    use edgescope_otlp::{Event, Link, ResourceSpans, ScopeSpans, SpanId, Status};

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    const NOW: i64 = 1_700_000_000_000_000_000;

    #[test]
    fn every_derived_tag_is_written_and_searchable_under_one_list() {
        let scope = InstrumentationScope { name: "s".into(), version: "1".into(), ..Default::default() };
        let span = Span {
            kind: SpanKind::Client,
            status: Status { code: StatusCode::Error, message: "boom".into() },
            trace_state: "a=1".into(),
            dropped_attributes_count: 1,
            dropped_events_count: 2,
            dropped_links_count: 3,
            ..Default::default()
        };
        let mut written: Vec<&str> = scope_tags(&scope).chain(field_tags(&span)).map(|(k, _)| k).collect();
        assert_eq!(written.iter().filter(|k| **k == "error").count(), 1);
        written.retain(|k| *k != "error");
        assert_eq!(written, DERIVED_TAGS, "each tag written is searchable, in the order written");
        let bare = Span::default();
        assert_eq!(scope_tags(&InstrumentationScope::default()).chain(field_tags(&bare)).count(), 0);
    }

    #[test]
    fn doubles_json_has_no_number_for_are_tags_of_their_proto3_json_text() {
        for (d, text) in [(f64::NAN, "NaN"), (f64::INFINITY, "Infinity"), (f64::NEG_INFINITY, "-Infinity")] {
            assert_eq!(tag("d", &AnyValue::Double(d)), json!({ "key": "d", "type": "string", "value": text }));
        }
        assert_eq!(tag("d", &AnyValue::Double(-0.5)), json!({ "key": "d", "type": "float64", "value": -0.5 }));
    }

    #[test]
    fn a_search_reads_jaegers_parameters_and_defaults() {
        let got = search(
            &params(&[
                ("service", "checkout"),
                ("operation", "GET /cart"),
                ("start", "1699999000000000"),
                ("end", "1700000000000000"),
                ("minDuration", "1.5ms"),
                ("maxDuration", "2s"),
                ("limit", "20"),
                ("tag", "http.route:/cart:id"),
                ("tags", r#"{"error":"true","http.route":"/later"}"#),
                ("lookback", "custom"),
            ]),
            NOW,
        )
        .unwrap();
        assert_eq!(
            got,
            Search::Query(TraceQuery {
                service: "checkout".into(),
                operation: Some("GET /cart".into()),
                start_min_ns: 1_699_999_000_000_000_000,
                start_max_ns: 1_700_000_000_000_000_000,
                duration_min_ns: Some(1_500_000),
                duration_max_ns: Some(2_000_000_000),
                // The JSON `tags` come after the `tag`s, so their value of a key wins.
                attributes: vec![("error".into(), "true".into()), ("http.route".into(), "/later".into())],
                limit: 20,
            })
        );

        let Search::Query(q) = search(&params(&[("service", "a")]), NOW).unwrap() else { panic!("a query") };
        assert_eq!((q.start_min_ns, q.start_max_ns, q.limit), (NOW - DEFAULT_LOOKBACK_NS, NOW, DEFAULT_LIMIT));
        assert_eq!(q.operation, None);
    }

    #[test]
    fn trace_ids_take_the_place_of_a_search_and_may_be_short() {
        let got = search(&params(&[("traceID", "abc"), ("traceID", "0123456789abcdef0123456789abcdef")]), NOW).unwrap();
        let Search::Ids(ids) = got else { panic!("ids") };
        assert_eq!(ids[0].to_hex(), "00000000000000000000000000000abc");
        assert_eq!(ids[1].to_hex(), "0123456789abcdef0123456789abcdef");
        assert_eq!(parse_trace_id("0"), None, "the all-zero id is invalid");
        assert_eq!(parse_trace_id("xyz"), None);
        assert_eq!(parse_trace_id(&"a".repeat(33)), None);
    }

    #[test]
    fn bad_searches_are_refused_with_the_parameter_named() {
        for (pairs, message) in [
            (vec![], "parameter 'service' is required"),
            (vec![("service", "a"), ("start", "yesterday")], "unable to parse param 'start'"),
            (vec![("service", "a"), ("minDuration", "5 parsecs")], "unable to parse param 'minDuration'"),
            (vec![("service", "a"), ("minDuration", "2s"), ("maxDuration", "1s")], "'maxDuration' should be greater"),
            (vec![("service", "a"), ("limit", "many")], "unable to parse param 'limit'"),
            (vec![("service", "a"), ("limit", "10001")], "'limit' must be at most 10000"),
            (vec![("service", "a"), ("tag", "no-colon")], "expecting key:value, received: no-colon"),
            (vec![("service", "a"), ("tags", "[1]")], "malformed 'tags' parameter"),
            (vec![("traceID", "not-hex")], "cannot parse traceID param"),
            (vec![("service", "a"), ("start", "2"), ("end", "1")], "'start' must not be later than 'end'"),
        ] {
            let err = search(&params(&pairs), NOW).unwrap_err();
            assert!(err.contains(message), "{pairs:?}: {err}");
        }
    }

    fn kv(key: &str, value: impl Into<AnyValue>) -> KeyValue {
        KeyValue::new(key, value)
    }

    fn id(hex: &str) -> TraceId {
        TraceId::from_hex(hex).unwrap()
    }

    fn sid(hex: &str) -> SpanId {
        SpanId::from_hex(hex).unwrap()
    }

    #[test]
    fn spans_become_jaegers_model_as_opentelemetry_maps_them() {
        let trace = id("0af7651916cd43dd8448eb211c80319c");
        let root = Span {
            trace_id: trace,
            span_id: sid("b7ad6b7169203331"),
            flags: 0x301,
            name: "GET /cart".into(),
            kind: SpanKind::Server,
            start_time_unix_nano: 1_700_000_000_123_456_789,
            end_time_unix_nano: 1_700_000_000_125_456_789,
            attributes: vec![
                kv("http.response.status_code", 500i64),
                kv("error", false),
                kv("ratio", 0.5),
                kv("tags", AnyValue::Array(vec!["a".into(), 2i64.into()])),
                kv("raw", AnyValue::Bytes(vec![1, 2, 3])),
            ],
            status: Status { code: StatusCode::Error, message: "boom".into() },
            events: vec![
                Event {
                    time_unix_nano: 1_700_000_000_124_000_000,
                    name: "retry".into(),
                    attributes: vec![kv("attempt", 2i64)],
                    dropped_attributes_count: 0,
                },
                Event {
                    time_unix_nano: 1_700_000_000_124_500_000,
                    name: "ignored".into(),
                    attributes: vec![kv("event", "named")],
                    dropped_attributes_count: 0,
                },
                // No name: no `event` field, as Jaeger's translator writes it.
                Event {
                    time_unix_nano: 1_700_000_000_124_600_000,
                    name: String::new(),
                    attributes: vec![kv("attempt", 3i64)],
                    dropped_attributes_count: 0,
                },
            ],
            links: vec![Link {
                trace_id: id("11111111111111111111111111111111"),
                span_id: sid("2222222222222222"),
                trace_state: String::new(),
                attributes: vec![],
                dropped_attributes_count: 0,
                flags: 0,
            }],
            trace_state: "es=1".into(),
            dropped_events_count: 3,
            ..Span::default()
        };
        let child = Span {
            trace_id: trace,
            span_id: sid("00f067aa0ba902b7"),
            parent_span_id: Some(sid("b7ad6b7169203331")),
            name: "SELECT".into(),
            kind: SpanKind::Internal,
            start_time_unix_nano: 1_700_000_000_124_000_000,
            end_time_unix_nano: 1_700_000_000_124_000_999,
            ..Span::default()
        };
        let resource = |service: &str| Resource {
            attributes: vec![kv("service.name", service), kv("deployment.environment.name", "dev")],
            dropped_attributes_count: 0,
        };
        let scope = InstrumentationScope { name: "edgescope".into(), version: "0.1.0".into(), ..Default::default() };
        let data = TracesData {
            resource_spans: vec![
                ResourceSpans {
                    resource: resource("api"),
                    scope_spans: vec![ScopeSpans {
                        scope: scope.clone(),
                        spans: vec![root],
                        schema_url: String::new(),
                    }],
                    schema_url: String::new(),
                },
                ResourceSpans {
                    resource: resource("db"),
                    scope_spans: vec![ScopeSpans {
                        scope: InstrumentationScope::default(),
                        spans: vec![child],
                        schema_url: String::new(),
                    }],
                    schema_url: String::new(),
                },
                // The same resource again: it shares the first process.
                ResourceSpans { resource: resource("api"), scope_spans: vec![], schema_url: String::new() },
            ],
        };

        let got = traces(&data);
        assert_eq!(got.len(), 1);
        let t = &got[0];
        assert_eq!(t["traceID"], "0af7651916cd43dd8448eb211c80319c");
        assert_eq!(t["processes"]["p1"]["serviceName"], "api");
        assert_eq!(
            t["processes"]["p1"]["tags"],
            json!([{"key": "deployment.environment.name", "type": "string", "value": "dev"}])
        );
        assert_eq!(t["processes"]["p2"]["serviceName"], "db");
        assert_eq!(t["processes"].as_object().unwrap().len(), 2);

        let root = &t["spans"][0];
        assert_eq!(root["spanID"], "b7ad6b7169203331");
        assert_eq!(root["flags"], 1, "only the W3C trace flags");
        assert_eq!(root["operationName"], "GET /cart");
        assert_eq!(root["startTime"], 1_700_000_000_123_456u64);
        assert_eq!(root["duration"], 2_000);
        assert_eq!(root["processID"], "p1");
        assert_eq!(
            root["references"],
            json!([{"refType": "FOLLOWS_FROM", "traceID": "11111111111111111111111111111111", "spanID": "2222222222222222"}])
        );
        assert_eq!(
            root["tags"],
            json!([
                {"key": "otel.scope.name", "type": "string", "value": "edgescope"},
                {"key": "otel.scope.version", "type": "string", "value": "0.1.0"},
                {"key": "http.response.status_code", "type": "int64", "value": 500},
                {"key": "ratio", "type": "float64", "value": 0.5},
                {"key": "tags", "type": "string", "value": "[\"a\",2]"},
                {"key": "raw", "type": "binary", "value": "AQID"},
                {"key": "span.kind", "type": "string", "value": "server"},
                {"key": "otel.status_code", "type": "string", "value": "ERROR"},
                {"key": "otel.status_description", "type": "string", "value": "boom"},
                {"key": "error", "type": "bool", "value": true},
                {"key": "w3c.tracestate", "type": "string", "value": "es=1"},
                {"key": "otel.dropped_events_count", "type": "int64", "value": 3},
            ])
        );
        assert_eq!(
            root["logs"],
            json!([
                {"timestamp": 1_700_000_000_124_000u64, "fields": [{"key": "event", "type": "string", "value": "retry"}, {"key": "attempt", "type": "int64", "value": 2}]},
                {"timestamp": 1_700_000_000_124_500u64, "fields": [{"key": "event", "type": "string", "value": "named"}]},
                {"timestamp": 1_700_000_000_124_600u64, "fields": [{"key": "attempt", "type": "int64", "value": 3}]},
            ])
        );

        let child = &t["spans"][1];
        assert_eq!(
            child["references"],
            json!([{"refType": "CHILD_OF", "traceID": "0af7651916cd43dd8448eb211c80319c", "spanID": "b7ad6b7169203331"}])
        );
        assert_eq!(
            child["tags"],
            json!([{"key": "span.kind", "type": "string", "value": "internal"}]),
            "internal is written as a kind, as Jaeger's translator does; no status when unset"
        );
        assert_eq!(child["duration"], 0, "999 ns is 0 µs");
        assert_eq!(child["processID"], "p2");
        assert!(child.get("flags").is_none());
    }

    #[test]
    fn a_trace_id_with_a_zero_high_half_is_written_short() {
        assert_eq!(trace_id_text(&id("0000000000000000b7ad6b7169203331")), "b7ad6b7169203331");
        assert_eq!(trace_id_text(&id("00000000000000010000000000000000")), "00000000000000010000000000000000");
    }

    #[test]
    fn spans_of_several_traces_are_kept_apart_in_first_seen_order() {
        let span = |t: &str, s: &str| Span { trace_id: id(t), span_id: sid(s), name: s.into(), ..Span::default() };
        let data = TracesData {
            resource_spans: vec![ResourceSpans {
                resource: Resource::default(),
                scope_spans: vec![ScopeSpans {
                    scope: InstrumentationScope::default(),
                    spans: vec![
                        span("22222222222222222222222222222222", "000000000000000a"),
                        span("11111111111111111111111111111111", "000000000000000b"),
                        span("22222222222222222222222222222222", "000000000000000c"),
                    ],
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        };
        let got = traces(&data);
        let names: Vec<Vec<&str>> = got
            .iter()
            .map(|t| t["spans"].as_array().unwrap().iter().map(|s| s["operationName"].as_str().unwrap()).collect())
            .collect();
        assert_eq!(names, vec![vec!["000000000000000a", "000000000000000c"], vec!["000000000000000b"]]);
    }
}
