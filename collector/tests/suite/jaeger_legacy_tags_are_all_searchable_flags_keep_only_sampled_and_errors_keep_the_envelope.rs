//! Jaeger's storage matches the tags its model derives from a span (`span.kind`,
//! `otel.status_code`, `otel.scope.name`, …) as ordinary tags, so every tag that
//! `/jaeger/api/traces/{id}` returns finds the trace in a search. Jaeger's flags
//! (jaegertracing/jaeger `model/flags.go`: 1 sampled, 2 debug) are not W3C's, whose bit 1 is
//! "random". And every error of `/jaeger/api` has the envelope README documents.

use crate::support;

use serde_json::Value;
use support::{encode, get, post_json, Collector};

const TRACE: &str = "5b8efff798038103d269b633813fc60c";

fn body() -> String {
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"shop"}}}},
            {{"key":"host.name","value":{{"stringValue":"h1"}}}}]}},
        "scopeSpans":[{{"scope":{{"name":"checkout-lib","version":"1.2.3"}},"spans":[
          {{"traceId":"{TRACE}","spanId":"eee19b7ec3c1b174","name":"pay","kind":2,"flags":771,"traceState":"k=v",
            "startTimeUnixNano":"1764000000000000000","endTimeUnixNano":"1764000000005000000",
            "attributes":[{{"key":"http.route","value":{{"stringValue":"/pay"}}}}],
            "events":[{{"timeUnixNano":"1764000000001000000","name":"retry"}}],
            "status":{{"code":2,"message":"card declined"}}}},
          {{"traceId":"{TRACE}","spanId":"eee19b7ec3c1b175","parentSpanId":"eee19b7ec3c1b174","name":"db","kind":3,
            "flags":259,"startTimeUnixNano":"1764000000001000000","endTimeUnixNano":"1764000000002000000",
            "status":{{"code":1}}}}]}}]}}]}}"#
    )
}

fn tag_text(tag: &Value) -> String {
    match &tag["value"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[tokio::test]
async fn every_tag_the_legacy_api_returns_finds_its_trace() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path()).await;
    assert_eq!(post_json(c.otlp, "/v1/traces", &body()).await.status, 200);
    let trace = get(c.ui, &format!("/jaeger/api/traces/{TRACE}")).await.json();
    let spans = trace["data"][0]["spans"].as_array().unwrap().clone();
    let mut tags: Vec<(String, String)> = Vec::new();
    for span in &spans {
        for tag in span["tags"].as_array().unwrap() {
            tags.push((tag["key"].as_str().unwrap().to_owned(), tag_text(tag)));
        }
        for log in span["logs"].as_array().unwrap() {
            for field in log["fields"].as_array().unwrap() {
                tags.push((field["key"].as_str().unwrap().to_owned(), tag_text(field)));
            }
        }
    }
    for key in ["span.kind", "otel.status_code", "otel.status_description", "otel.scope.name", "event"] {
        assert!(tags.iter().any(|(k, _)| k == key), "{key} is among the tags: {tags:?}");
    }
    let window = "start=1763999999000000&end=1764000001000000";
    for (key, value) in &tags {
        let mut one = serde_json::Map::new();
        one.insert(key.clone(), Value::String(value.clone()));
        let tags_param = encode(&Value::Object(one).to_string());
        let answer = get(c.ui, &format!("/jaeger/api/traces?service=shop&tags={tags_param}&{window}")).await;
        assert_eq!(answer.status, 200, "{key}={value}: {}", answer.body);
        assert_eq!(
            answer.json()["data"].as_array().unwrap().len(),
            1,
            "{key}={value} finds the trace: {}",
            answer.body
        );
    }
    // And a value the trace does not have finds nothing.
    let answer =
        get(c.ui, &format!("/jaeger/api/traces?service=shop&tags={}&{window}", encode(r#"{"span.kind":"producer"}"#)))
            .await;
    assert_eq!(answer.json()["data"].as_array().unwrap().len(), 0, "{}", answer.body);
    c.stop().await;
}

#[tokio::test]
async fn jaeger_flags_carry_only_the_sampled_bit() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path()).await;
    assert_eq!(post_json(c.otlp, "/v1/traces", &body()).await.status, 200);
    let trace = get(c.ui, &format!("/jaeger/api/traces/{TRACE}")).await.json();
    for span in trace["data"][0]["spans"].as_array().unwrap() {
        // OTLP flags 0x303 and 0x103: sampled and W3C's random bit, remote parent. Not debug.
        assert_eq!(span["flags"], 1, "{span}");
    }
    c.stop().await;
}

#[tokio::test]
async fn a_bad_dependencies_parameter_is_answered_in_the_jaeger_envelope() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path()).await;
    let answer = get(c.ui, "/jaeger/api/dependencies?endTs=abc").await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["data"], Value::Null, "{body}");
    assert_eq!(body["errors"][0]["code"], 400, "{body}");
    assert!(body["errors"][0]["msg"].as_str().unwrap().contains("endTs"), "{body}");
    let answer = get(c.ui, "/jaeger/api/dependencies?endTs=1764000001000&lookback=60000").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.json()["data"].is_array(), "{}", answer.body);
    c.stop().await;
}
