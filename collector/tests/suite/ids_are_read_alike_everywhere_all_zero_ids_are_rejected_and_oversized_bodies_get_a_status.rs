//! Trace ids are read by one parser on every query route (1 to 32 hex digits, left-padded, as
//! Jaeger's `model.TraceIDFromString`); all-zero trace and span ids, invalid for W3C Trace
//! Context and OpenTelemetry, are rejected at ingest with a partial success that keeps the valid
//! spans; and a body over the size limit gets a `Status` in the request's encoding, as the OTLP
//! specification (OTLP/HTTP failures) asks of every 4xx and 5xx.

use crate::support;

use edgescope_collector::Settings;
use support::{get, post_json, request, Collector};

const ZERO: &str = "00000000000000000000000000000000";

fn span(trace: &str, span: &str) -> String {
    format!(
        r#"{{"traceId":"{trace}","spanId":"{span}","name":"op","startTimeUnixNano":"1764000000000000000",
        "endTimeUnixNano":"1764000000005000000"}}"#
    )
}

#[tokio::test]
async fn all_zero_ids_are_rejected_with_a_partial_success_that_keeps_the_valid_spans() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path()).await;
    let spans = [
        span("5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"),
        span(ZERO, "eee19b7ec3c1b175"),
        span("5b8efff798038103d269b633813fc60d", "0000000000000000"),
    ];
    let body = format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{}]}}]}}]}}"#, spans.join(","));
    let answer = post_json(c.otlp, "/v1/traces", &body).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let partial = &answer.json()["partialSuccess"];
    assert_eq!(partial["rejectedSpans"], "2", "{}", answer.body);
    assert!(partial["errorMessage"].as_str().unwrap().contains("all-zero"), "{}", answer.body);

    let traces = get(c.ui, "/api/traces").await.json();
    assert_eq!(traces["traces"].as_array().unwrap().len(), 1, "{traces}");
    assert_eq!(traces["traces"][0]["traceId"], "5b8efff798038103d269b633813fc60c");
    for path in [format!("/api/v3/traces/{ZERO}"), format!("/jaeger/api/traces/{ZERO}"), "/api/logs?trace_id=0".into()]
    {
        assert_eq!(get(c.ui, &path).await.status, 400, "{path}");
    }
    // A request of invalid spans only is refused.
    let body = format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{}]}}]}}]}}"#, span(ZERO, "eee19b7ec3c1b175"));
    assert_eq!(post_json(c.otlp, "/v1/traces", &body).await.status, 400);
    c.stop().await;
}

#[tokio::test]
async fn logs_are_found_by_a_short_trace_id_as_traces_are() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path()).await;
    let body = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[
        {"timeUnixNano":"1764000000000000000","traceId":"000000000000000014b60fd9ae504820","body":{"stringValue":"hit"}},
        {"timeUnixNano":"1764000000000000000","traceId":"100000000000000014b60fd9ae504820","body":{"stringValue":"other"}}]}]}]}"#;
    assert_eq!(post_json(c.otlp, "/v1/logs", body).await.status, 200);
    let answer = get(c.ui, "/api/logs?trace_id=14b60fd9ae504820").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.contains("hit") && !answer.body.contains("other"), "{}", answer.body);
    c.stop().await;
}

#[tokio::test]
async fn a_body_over_the_limit_gets_a_status_in_the_requests_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings { data_dir: dir.path().to_owned(), max_body_bytes: 1024, ..Settings::default() };
    let c = Collector::start_with(settings).await;
    let big = format!("{{\"resourceSpans\":[],\"pad\":\"{}\"}}", "x".repeat(4096));
    let answer = post_json(c.otlp, "/v1/traces", &big).await;
    assert_eq!(answer.status, 413);
    assert!(answer.header("content-type").unwrap().starts_with("application/json"), "{:?}", answer.headers);
    let status = answer.json();
    assert_eq!(status["code"], 8, "{status}");
    assert!(status["message"].as_str().unwrap().contains("1024"), "{status}");

    let answer =
        request(c.otlp, "POST", "/v1/logs", &[("Content-Type", "application/x-protobuf")], &vec![0u8; 4096]).await;
    assert_eq!(answer.status, 413);
    assert_eq!(answer.header("content-type"), Some("application/x-protobuf"));
    let message = "the body is larger than the limit of 1024 bytes";
    assert_eq!(answer.bytes, edgescope_otlp::proto::encode_status(8, message));
    c.stop().await;
}
