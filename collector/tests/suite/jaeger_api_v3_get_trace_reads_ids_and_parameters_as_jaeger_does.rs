//! `GET /api/v3/traces/{trace_id}` reads the id and its parameters as Jaeger's HTTP gateway
//! does: `model.TraceIDFromString` (1 to 32 hex digits, left-padded, so Zipkin's and Jaeger's
//! 64-bit ids work), `startTime`/`endTime` as RFC 3339 and `rawTraces` as a Go bool, with the
//! snake_case names as deprecated aliases.
use crate::support;

use support::{found, get, post_json, Collector};

const SPAN: &str = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"s"}}]},
    "scopeSpans":[{"spans":[{"traceId":"0000000000000000463ac35c9f6413ad","spanId":"0102030405060708","name":"x",
    "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000"}]}]}]}"#;

#[tokio::test]
async fn short_ids_and_the_optional_parameters_read_as_jaeger_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    assert_eq!(post_json(collector.otlp, "/v1/traces", SPAN).await.status, 200);

    for path in [
        "/api/v3/traces/0000000000000000463ac35c9f6413ad",
        "/api/v3/traces/463ac35c9f6413ad",
        "/api/v3/traces/463AC35C9F6413AD",
        "/jaeger/api/v3/traces/0463ac35c9f6413ad",
        "/api/v3/traces/463ac35c9f6413ad?startTime=2023-11-14T00:00:00Z&endTime=2023-11-15T00:00:00.5Z&rawTraces=true",
        "/api/v3/traces/463ac35c9f6413ad?start_time=2023-11-14T00:00:00Z&raw_traces=0",
    ] {
        let answer = get(collector.ui, path).await;
        assert_eq!(found(&answer).spans().count(), 1, "{path}");
    }

    for (path, needle) in [
        ("/api/v3/traces/0463ac35c9f6413ad0463ac35c9f6413ad", "malformed parameter trace_id"),
        ("/api/v3/traces/xyz", "malformed parameter trace_id"),
        ("/api/v3/traces/463ac35c9f6413ad?startTime=2023-11-14", "malformed parameter startTime"),
        ("/api/v3/traces/463ac35c9f6413ad?end_time=yesterday", "malformed parameter end_time"),
        ("/api/v3/traces/463ac35c9f6413ad?rawTraces=maybe", "malformed parameter rawTraces"),
    ] {
        let answer = get(collector.ui, path).await;
        assert_eq!(answer.status, 400, "{path}: {}", answer.body);
        let message = answer.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(message.contains(needle), "{path}: {message}");
    }
    let missing = get(collector.ui, "/api/v3/traces/1").await;
    assert_eq!(missing.status, 404, "{}", missing.body);
    assert_eq!(missing.json()["error"]["httpCode"], 404);
    collector.stop().await;
}
