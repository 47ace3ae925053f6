//! An SDK that retries an export sends the same body again. Jaeger counts identical spans once
//! (jaegertracing/jaeger `model/adjuster/span_hash_deduper.go` hashes the whole span) and Loki
//! ignores a line pushed again to a stream with the same timestamp and content (grafana/loki
//! PR #1519): a retry must not inflate traces, counts, signals or log queries.

use crate::support;

use support::{encode, get, post_json, Collector};

const TRACE: &str = "5b8efff798038103d269b633813fc60c";

fn traces(spans: &str) -> String {
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"shop"}}}}]}},
        "scopeSpans":[{{"scope":{{"name":"s"}},"spans":[{spans}]}}]}}]}}"#
    )
}

fn span(id: &str, name: &str, status: u8) -> String {
    format!(
        r#"{{"traceId":"{TRACE}","spanId":"{id}","name":"{name}","kind":2,
        "startTimeUnixNano":"1764000000000000000","endTimeUnixNano":"1764000000005000000","status":{{"code":{status}}}}}"#
    )
}

#[tokio::test]
async fn a_span_sent_twice_counts_once_everywhere_but_two_spans_with_one_id_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path()).await;
    let body = traces(&[span("eee19b7ec3c1b174", "GET /a", 2), span("eee19b7ec3c1b175", "GET /b", 0)].join(","));
    for _ in 0..2 {
        assert_eq!(post_json(c.otlp, "/v1/traces", &body).await.status, 200);
    }
    // The same span twice within one request, too.
    let twice = traces(&[span("eee19b7ec3c1b176", "GET /c", 0), span("eee19b7ec3c1b176", "GET /c", 0)].join(","));
    assert_eq!(post_json(c.otlp, "/v1/traces", &twice).await.status, 200);
    // A different span that shares an id is kept (Jaeger keeps it too: its hash differs).
    let other = traces(&span("eee19b7ec3c1b175", "GET /b retried", 0));
    assert_eq!(post_json(c.otlp, "/v1/traces", &other).await.status, 200);

    let list = get(c.ui, "/api/traces").await.json();
    assert_eq!(list["traces"][0]["spanCount"], 4, "{list}");
    assert_eq!(list["traces"][0]["errorCount"], 1, "{list}");

    let v3 = get(c.ui, &format!("/api/v3/traces/{TRACE}")).await.json();
    let spans = v3["result"]["resourceSpans"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|rs| rs["scopeSpans"].as_array().unwrap().iter())
        .flat_map(|ss| ss["spans"].as_array().unwrap().iter())
        .count();
    assert_eq!(spans, 4, "{v3}");

    let jaeger = get(c.ui, &format!("/jaeger/api/traces/{TRACE}")).await.json();
    let mut names: Vec<_> =
        jaeger["data"][0]["spans"].as_array().unwrap().iter().map(|s| s["operationName"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["GET /a", "GET /b", "GET /b retried", "GET /c"], "{jaeger}");

    c.stop().await;
}

#[tokio::test]
async fn a_log_request_sent_twice_is_stored_once_but_equal_records_within_it_are_each_kept() {
    // Equal records in one request are separate calls of a logger whose clock did not move (a
    // browser's coarse clock): both are kept. The request sent again adds nothing.
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path()).await;
    let body = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}}]},
        "scopeLogs":[{"logRecords":[
            {"timeUnixNano":"1764000000000000000","body":{"stringValue":"paid"}},
            {"timeUnixNano":"1764000000000000000","body":{"stringValue":"paid"}},
            {"timeUnixNano":"1764000000000000000","body":{"stringValue":"shipped"}}]}]}]}"#;
    for _ in 0..2 {
        assert_eq!(post_json(c.otlp, "/v1/logs", body).await.status, 200);
    }
    let range = "start=1763999999000000000&end=1764000001000000000";
    let answer =
        get(c.ui, &format!("/loki/api/v1/query_range?query={}&{range}", encode("{service_name=\"shop\"}"))).await;
    let body = answer.json();
    let mut lines: Vec<_> = body["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["values"].as_array().unwrap().iter().map(|v| v[1].as_str().unwrap().to_owned()))
        .collect();
    lines.sort();
    assert_eq!(lines, ["paid", "paid", "shipped"], "{body}");

    let count = encode("sum(count_over_time({service_name=\"shop\"}[1m]))");
    let answer = get(c.ui, &format!("/loki/api/v1/query?query={count}&time=1764000001000000000")).await.json();
    assert_eq!(answer["data"]["result"][0]["value"][1], "3", "{answer}");

    let logs = get(c.ui, "/api/logs").await.json();
    let records = logs["result"]["resourceLogs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|rl| rl["scopeLogs"].as_array().unwrap().iter())
        .flat_map(|sl| sl["logRecords"].as_array().unwrap().iter())
        .count();
    assert_eq!(records, 3, "{logs}");

    // A later request with three of them adds the one more than was stored; the same scope twice
    // in one request counts as one.
    let three = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}}]},
        "scopeLogs":[{"logRecords":[{"timeUnixNano":"1764000000000000000","body":{"stringValue":"paid"}},
                                    {"timeUnixNano":"1764000000000000000","body":{"stringValue":"paid"}}]},
                     {"logRecords":[{"timeUnixNano":"1764000000000000000","body":{"stringValue":"paid"}}]}]}]}"#;
    for _ in 0..2 {
        assert_eq!(post_json(c.otlp, "/v1/logs", three).await.status, 200);
    }
    let answer = get(c.ui, &format!("/loki/api/v1/query?query={count}&time=1764000001000000000")).await.json();
    assert_eq!(answer["data"]["result"][0]["value"][1], "4", "{answer}");
    c.stop().await;
}
