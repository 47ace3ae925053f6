use crate::support;

use support::{fixture, get, post_json, Collector};

#[tokio::test]
async fn spans_and_logs_acknowledged_before_a_restart_are_there_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let first = Collector::start(dir.path()).await;
    assert_eq!(post_json(first.otlp, "/v1/traces", &fixture("otel-rust-it-traces.json")).await.status, 200);
    assert_eq!(post_json(first.otlp, "/v1/logs", &fixture("otlp-proto-logs.json")).await.status, 200);
    let before_trace = get(first.ui, "/api/traces").await.json();
    let before_logs = get(first.ui, "/api/logs").await.json();
    first.stop().await;

    let second = Collector::start(dir.path()).await;
    assert_eq!(get(second.ui, "/api/traces").await.json(), before_trace);
    assert_eq!(get(second.ui, "/api/logs").await.json(), before_logs);
    assert_eq!(before_trace["traces"].as_array().unwrap().len(), 1);
    second.stop().await;
}
