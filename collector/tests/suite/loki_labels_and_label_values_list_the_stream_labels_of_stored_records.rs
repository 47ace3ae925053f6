use crate::support;

use serde_json::json;
use support::{encode, get, post_json, Collector};

fn batch(service: &str, namespace: Option<&str>, severities: &[i32]) -> String {
    let mut attributes = vec![json!({ "key": "service.name", "value": { "stringValue": service } })];
    if let Some(ns) = namespace {
        attributes.push(json!({ "key": "service.namespace", "value": { "stringValue": ns } }));
    }
    attributes.push(json!({ "key": "process.pid", "value": { "intValue": "7" } }));
    let records: Vec<_> = severities
        .iter()
        .enumerate()
        .map(|(i, s)| json!({ "timeUnixNano": (2_000_000_000_000_000_000u64 + i as u64).to_string(), "severityNumber": s, "body": { "stringValue": "x" } }))
        .collect();
    json!({ "resourceLogs": [{ "resource": { "attributes": attributes }, "scopeLogs": [{ "logRecords": records }] }] })
        .to_string()
}

#[tokio::test]
async fn label_names_and_values_come_from_records_in_the_time_range() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    for body in [batch("web", Some("shop"), &[9, 17]), batch("api", None, &[5])] {
        assert_eq!(post_json(collector.otlp, "/v1/logs", &body).await.status, 200);
    }
    let range = "start=2000000000000000000&end=2000000001000000000";
    let answer = get(collector.ui, &format!("/loki/api/v1/labels?{range}")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json(), json!({ "status": "success", "data": ["level", "service_name", "service_namespace"] }));
    // Loki's older name of the route answers the same.
    let older = get(collector.ui, &format!("/loki/api/v1/label?{range}")).await;
    assert_eq!((older.status, older.json()), (200, answer.json()));
    let values = |name: &str, extra: &str| {
        let path = format!("/loki/api/v1/label/{name}/values?{range}{extra}");
        async move { get(collector.ui, &path).await.json()["data"].clone() }
    };
    assert_eq!(values("service_name", "").await, json!(["api", "web"]));
    assert_eq!(values("level", "").await, json!(["debug", "error", "info"]));
    let only_web = format!("&query={}", encode(r#"{service_name="web"}"#));
    assert_eq!(values("level", &only_web).await, json!(["error", "info"]));
    assert_eq!(values("service_namespace", "").await, json!(["shop"]));
    // As in Loki, `query` narrows label names to the streams its selector selects.
    let only_api = encode(r#"{service_name="api"}"#);
    let answer = get(collector.ui, &format!("/loki/api/v1/labels?{range}&query={only_api}")).await;
    assert_eq!(answer.json()["data"], json!(["level", "service_name"]));
    assert_eq!(values("process_pid", "").await, json!([]), "non-indexed resource attributes are not stream labels");
    let before = get(collector.ui, "/loki/api/v1/labels?start=1&end=2").await;
    assert_eq!(before.json()["data"], json!([]), "nothing outside the range");
    collector.stop().await;
}
