//! `GET /api/v3/trace-summaries` (Jaeger 2.19, which its new UI's search page and Grafana call):
//! the traces `/api/v3/traces` finds for the same parameters, each summed up in the shape of
//! Jaeger's answer (`jaeger-apiv3-FindTraceSummaries.json` in the shared fixtures): root
//! service and operation, time bounds as int64 strings, span and error counts, per service too.
use crate::support;

use serde_json::json;
use support::{get, post_json, Collector};

const T0: u64 = 1_700_000_000_000_000_000;

fn span(trace: &str, id: &str, parent: &str, name: &str, start_ms: u64, end_ms: u64, extra: &str) -> String {
    format!(
        r#"{{"traceId":"{trace}","spanId":"{id}","parentSpanId":"{parent}","name":"{name}",
        "startTimeUnixNano":"{}","endTimeUnixNano":"{}"{extra}}}"#,
        T0 + start_ms * 1_000_000,
        T0 + end_ms * 1_000_000
    )
}

fn export(service: &str, spans: &[String]) -> String {
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{service}"}}}}]}},
        "scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
        spans.join(",")
    )
}

const A: &str = "0af7651916cd43dd8448eb211c80319c";

#[tokio::test]
async fn each_found_trace_is_summed_up_as_jaeger_does() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    // The frontend's root and a child; the backend's span (an error by status) and its child
    // (an error by Jaeger's `error` tag), started before the root by clock skew.
    let frontend = export(
        "frontend",
        &[
            span(A, "00f067aa0ba902b7", "", "HTTP GET /", 10, 1010, ""),
            span(A, "00f067aa0ba902b8", "00f067aa0ba902b7", "render", 20, 30, ""),
        ],
    );
    let backend = export(
        "backend",
        &[
            span(A, "00f067aa0ba902b9", "00f067aa0ba902b7", "query", 40, 1020, r#","status":{"code":2}"#),
            span(
                A,
                "00f067aa0ba902ba",
                "00f067aa0ba902b9",
                "retry",
                5,
                50,
                r#","attributes":[{"key":"error","value":{"boolValue":true}}]"#,
            ),
        ],
    );
    for body in [frontend, backend] {
        assert_eq!(post_json(collector.otlp, "/v1/traces", &body).await.status, 200);
    }
    let query =
        "query.serviceName=backend&query.startTimeMin=2023-11-14T00:00:00Z&query.startTimeMax=2023-11-15T00:00:00Z";
    for prefix in ["", "/jaeger"] {
        let answer = get(collector.ui, &format!("{prefix}/api/v3/trace-summaries?{query}")).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(
            answer.json(),
            json!({ "summaries": [{
                "traceId": A,
                "rootServiceName": "frontend",
                "rootOperationName": "HTTP GET /",
                "minStartTimeUnixNano": (T0 + 5_000_000).to_string(),
                "maxEndTimeUnixNano": (T0 + 1_020_000_000).to_string(),
                "spanCount": 4,
                "errorSpanCount": 2,
                "services": [
                    { "name": "backend", "spanCount": 2, "errorSpanCount": 2 },
                    { "name": "frontend", "spanCount": 2, "errorSpanCount": 0 },
                ],
            }] })
        );
    }

    // The collector's own list (which the viewer's search shows) counts errors alike.
    let list = get(collector.ui, "/api/traces?limit=5").await.json();
    assert_eq!(list["traces"][0]["errorCount"], 2, "{list}");

    // Nothing found is an empty list; parameters are checked as for /api/v3/traces.
    let none =
        "query.serviceName=nobody&query.startTimeMin=2023-11-14T00:00:00Z&query.startTimeMax=2023-11-15T00:00:00Z";
    let answer = get(collector.ui, &format!("/api/v3/trace-summaries?{none}")).await;
    assert_eq!((answer.status, answer.json()), (200, json!({ "summaries": [] })));
    let answer =
        get(collector.ui, "/api/v3/trace-summaries?query.serviceName=backend&query.startTimeMin=yesterday").await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    collector.stop().await;
}
