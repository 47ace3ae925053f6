use crate::support;

use edgescope_collector::Settings;
use support::{fixture, get, post_json, request, Collector};

#[tokio::test]
async fn bad_bodies_are_refused_with_a_status_message_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let cases: [(&str, &str, &str); 5] = [
        ("/v1/traces", "{\"resourceSpans\": [", "invalid JSON"),
        ("/v1/traces", "[1, 2]", "resourceSpans"),
        (
            "/v1/traces",
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"abc","spanId":"0102030405060708"}]}]}]}"#,
            "traceId",
        ),
        (
            "/v1/traces",
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"AAECAwQFBgcICQoLDA0ODw==","spanId":"0102030405060708"}]}]}]}"#,
            "hex id",
        ),
        (
            "/v1/logs",
            r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":1}}]}]}]}"#,
            "expected a string",
        ),
    ];
    for (path, body, needle) in cases {
        let answer = post_json(collector.otlp, path, body).await;
        assert_eq!(answer.status, 400, "{body}");
        let status = answer.json();
        assert_eq!(status["code"], 3, "google.rpc.Status INVALID_ARGUMENT");
        let message = status["message"].as_str().unwrap();
        assert!(message.contains(needle), "{message:?} should mention {needle:?}");
    }
    let wrong_type = request(collector.otlp, "POST", "/v1/traces", &[("Content-Type", "text/plain")], b"{}").await;
    assert_eq!(wrong_type.status, 415);
    assert!(wrong_type.json()["message"].as_str().unwrap().contains("text/plain"));
    assert!(wrong_type.json()["message"].as_str().unwrap().contains("application/x-protobuf"));

    assert_eq!(get(collector.ui, "/api/traces").await.json()["traces"], serde_json::json!([]));
    let ok = post_json(collector.otlp, "/v1/traces", &fixture("otlp-proto-trace.json")).await;
    assert_eq!(ok.status, 200, "the server still serves after bad requests");
    assert_eq!(get(collector.ui, "/api/traces").await.json()["traces"].as_array().unwrap().len(), 1);
    collector.stop().await;
}

#[tokio::test]
async fn bodies_above_the_limit_get_413() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings { data_dir: dir.path().to_owned(), max_body_bytes: 1024, ..Settings::default() };
    let collector = Collector::start_with(settings).await;
    let big = format!("{{\"resourceSpans\":[],\"pad\":\"{}\"}}", "x".repeat(4096));
    assert_eq!(post_json(collector.otlp, "/v1/traces", &big).await.status, 413);
    assert_eq!(post_json(collector.otlp, "/v1/traces", "{\"resourceSpans\":[]}").await.status, 200);
    collector.stop().await;
}

#[tokio::test]
async fn query_errors_use_the_jaeger_error_shape() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let missing = get(collector.ui, "/api/v3/traces/0123456789abcdef0123456789abcdef").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"]["httpCode"], 404);
    let malformed = get(collector.ui, "/api/v3/traces/xyz").await;
    assert_eq!(malformed.status, 400);
    assert!(malformed.json()["error"]["message"].as_str().unwrap().contains("xyz"));
    collector.stop().await;
}
