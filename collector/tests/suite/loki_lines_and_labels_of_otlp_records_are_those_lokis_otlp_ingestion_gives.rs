//! Loki's OTLP ingestion (grafana/loki `pkg/loghttp/push/otlp.go`) makes a record's line with
//! `Body().AsString()` (a map or an array as JSON, bytes in base64) and its labels with
//! `attributeToLabels` (a map attribute flattened to `key_entry`), adds `observed_timestamp`
//! and the scope's attributes as structured metadata.

use crate::support;

use serde_json::json;
use support::{encode, get, post_json, Collector};

const T: &str = "1764000000000000000";
const RANGE: &str = "start=1763999999000000000&end=1764000001000000000";

async fn query(c: &Collector, logql: &str) -> serde_json::Value {
    let answer = get(c.ui, &format!("/loki/api/v1/query_range?query={}&{RANGE}", encode(logql))).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()
}

fn records(body: &serde_json::Value) -> Vec<(serde_json::Value, String)> {
    body["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["values"].as_array().unwrap().iter().map(|v| (s["stream"].clone(), v[1].as_str().unwrap().to_owned()))
        })
        .collect()
}

async fn post(c: &Collector, scope: serde_json::Value, records: serde_json::Value) {
    let body = json!({ "resourceLogs": [{
        "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": "shop" } }] },
        "scopeLogs": [{ "scope": scope, "logRecords": records }],
    }] });
    let answer = post_json(c.otlp, "/v1/logs", &body.to_string()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test]
async fn a_map_array_or_bytes_body_becomes_the_line_loki_makes_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path()).await;
    post(
        &c,
        json!({ "name": "s" }),
        json!([
            { "timeUnixNano": T, "body": { "kvlistValue": { "values": [
                { "key": "msg", "value": { "stringValue": "structured body" } },
                { "key": "code", "value": { "intValue": "7" } },
                { "key": "a<b", "value": { "boolValue": true } }] } } },
            { "timeUnixNano": T, "body": { "arrayValue": { "values": [{ "stringValue": "x" }, { "intValue": "2" }] } } },
            { "timeUnixNano": T, "body": { "bytesValue": "aGk=" } },
        ]),
    )
    .await;
    let mut lines: Vec<_> = records(&query(&c, "{service_name=\"shop\"}").await).into_iter().map(|(_, l)| l).collect();
    lines.sort();
    assert_eq!(lines, [r#"["x",2]"#, "aGk=", r#"{"a\u003cb":true,"code":7,"msg":"structured body"}"#]);

    let found = records(&query(&c, "{service_name=\"shop\"} | json | msg=\"structured body\"").await);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0["code"], "7");
    c.stop().await;
}

#[tokio::test]
async fn map_attributes_are_flattened_and_scope_attributes_and_observed_time_are_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path()).await;
    post(
        &c,
        json!({ "name": "s", "version": "1.0", "attributes": [{ "key": "scope.attr", "value": { "stringValue": "sa" } }] }),
        json!([{
            "timeUnixNano": T,
            "observedTimeUnixNano": "1764000000000000123",
            "flags": 1,
            "body": { "stringValue": "line" },
            "attributes": [
                { "key": "map_attribute", "value": { "kvlistValue": { "values": [
                    { "key": "some.map.key", "value": { "stringValue": "v" } },
                    { "key": "inner", "value": { "kvlistValue": { "values": [
                        { "key": "k", "value": { "intValue": "1" } }] } } }] } } },
                { "key": "list", "value": { "arrayValue": { "values": [{ "stringValue": "a" }, { "intValue": "1" }] } } },
                { "key": "raw", "value": { "bytesValue": "aGk=" } },
                // Doubles as Go's FormatFloat writes them, the sign of a negative zero kept.
                { "key": "negative_zero", "value": { "doubleValue": -0.0 } },
                { "key": "whole", "value": { "doubleValue": 2.0 } },
            ],
        }]),
    )
    .await;
    let found = records(&query(&c, "{service_name=\"shop\"}").await);
    assert_eq!(found.len(), 1, "{found:?}");
    let labels = &found[0].0;
    assert_eq!(labels["map_attribute_some_map_key"], "v", "{labels}");
    assert_eq!(labels["map_attribute_inner_k"], "1", "{labels}");
    assert!(labels.get("map_attribute").is_none(), "{labels}");
    assert_eq!(labels["list"], r#"["a",1]"#, "{labels}");
    assert_eq!(labels["raw"], "aGk=", "{labels}");
    assert_eq!((&labels["negative_zero"], &labels["whole"]), (&json!("-0"), &json!("2")), "{labels}");
    assert_eq!(labels["scope_attr"], "sa", "{labels}");
    assert_eq!(labels["scope_name"], "s", "{labels}");
    assert_eq!(labels["scope_version"], "1.0", "{labels}");
    assert_eq!(labels["observed_timestamp"], "1764000000000000123", "{labels}");
    assert_eq!(labels["flags"], "1", "{labels}");
    // And they select.
    assert_eq!(records(&query(&c, "{service_name=\"shop\"} | map_attribute_some_map_key=\"v\"").await).len(), 1);
    assert_eq!(records(&query(&c, "{service_name=\"shop\"} | scope_attr=\"sa\"").await).len(), 1);
    c.stop().await;
}

/// OTLP's "no trace" is an empty or all-zero id: Loki's ingestion adds `trace_id` and `span_id`
/// metadata only for ids that are not empty (`!traceID.IsEmpty()`), so a record of no trace is
/// never labelled with zeros that no search could use.
#[tokio::test]
async fn all_zero_trace_and_span_ids_are_no_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path()).await;
    post(
        &c,
        json!({ "name": "s" }),
        json!([
            { "timeUnixNano": T, "body": { "stringValue": "zeros" },
              "traceId": "00000000000000000000000000000000", "spanId": "0000000000000000" },
            { "timeUnixNano": T, "body": { "stringValue": "traced" },
              "traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "00f067aa0ba902b7" },
        ]),
    )
    .await;
    let found = records(&query(&c, "{service_name=\"shop\"}").await);
    let labels = |line: &str| found.iter().find(|(_, l)| l == line).unwrap().0.clone();
    let zeros = labels("zeros");
    assert!(zeros.get("trace_id").is_none() && zeros.get("span_id").is_none(), "{zeros}");
    let traced = labels("traced");
    assert_eq!(
        (&traced["trace_id"], &traced["span_id"]),
        (&json!("4bf92f3577b34da6a3ce929d0e0e4736"), &json!("00f067aa0ba902b7"))
    );
    c.stop().await;
}

/// Prometheus's `NormalizeLabel`, which Loki's `attributeToLabels` applies: a name that would start
/// with a digit gets `key_` before it, one with a single leading `_` gets `key`, `__` stays; so a
/// label can always be written in LogQL.
#[tokio::test]
async fn attribute_keys_starting_with_a_digit_or_one_underscore_get_lokis_key_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path()).await;
    let attribute = |key: &str, value: &str| json!({ "key": key, "value": { "stringValue": value } });
    post(
        &c,
        json!({ "name": "s" }),
        json!([{
            "timeUnixNano": T,
            "body": { "stringValue": "line" },
            "attributes": [
                attribute("1st", "digit"),
                attribute("_private", "one"),
                attribute("__dunder", "two"),
                attribute(".dot", "three"),
                attribute("9.map", "four"),
            ],
        }]),
    )
    .await;
    let found = records(&query(&c, "{service_name=\"shop\"}").await);
    let labels = found[0].0.as_object().unwrap();
    for (name, value) in
        [("key_1st", "digit"), ("key_private", "one"), ("__dunder", "two"), ("key_dot", "three"), ("key_9_map", "four")]
    {
        assert_eq!(labels.get(name), Some(&json!(value)), "{name} in {labels:?}");
    }
    assert!(!labels.contains_key("1st") && !labels.contains_key("_private"), "{labels:?}");
    assert_eq!(records(&query(&c, "{service_name=\"shop\"} | key_1st=\"digit\"").await).len(), 1);
    assert_eq!(records(&query(&c, "{service_name=\"shop\"} | key_private=\"one\"").await).len(), 1);
    c.stop().await;
}

/// Grafana's Loki data source reads `data` as a stream and reads `result` by the `resultType`
/// it has met before it (grafana `pkg/util/converter/prom.go`): Loki writes `status`, then
/// `data` with `resultType` first. Checked on the text, for log, metric, instant and volume answers.
#[tokio::test]
async fn answers_write_result_type_before_result_as_loki_does() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path()).await;
    post(&c, json!({ "name": "s" }), json!([{ "timeUnixNano": T, "body": { "stringValue": "hello" } }])).await;
    let queries = [
        format!("/loki/api/v1/query_range?query={}&{RANGE}", encode("{service_name=\"shop\"}")),
        format!(
            "/loki/api/v1/query_range?query={}&{RANGE}&step=1",
            encode("count_over_time({service_name=\"shop\"}[1s])")
        ),
        format!("/loki/api/v1/query?query={}", encode("vector(1)+vector(1)")),
        format!("/loki/api/v1/index/volume?query={}&{RANGE}", encode("{service_name=\"shop\"}")),
    ];
    for path in queries {
        let answer = get(c.ui, &path).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        let text = &answer.body;
        assert!(text.starts_with(r#"{"status":"success","data":{"resultType":""#), "{path}: {text}");
        assert!(text.find(r#""resultType""#) < text.find(r#""result":"#), "{path}: {text}");
    }
}

/// Loki's OTLP ingestion labels a stream whose `service.name` is empty `unknown_service`, as
/// one without it.
#[tokio::test]
async fn an_empty_service_name_is_unknown_service() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path()).await;
    let body = json!({ "resourceLogs": [{
        "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": "" } }] },
        "scopeLogs": [{ "logRecords": [{ "timeUnixNano": T, "body": { "stringValue": "nameless" } }] }],
    }] });
    assert_eq!(post_json(c.otlp, "/v1/logs", &body.to_string()).await.status, 200);
    let found = records(&query(&c, "{service_name=\"unknown_service\"}").await);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].1, "nameless");
    let values = get(c.ui, &format!("/loki/api/v1/label/service_name/values?{RANGE}")).await.json();
    assert_eq!(values["data"], json!(["unknown_service"]));
}
