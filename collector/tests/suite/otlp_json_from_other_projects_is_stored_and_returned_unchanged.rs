use crate::support;

use edgescope_otlp::read::{self, Ids};
use edgescope_otlp::{Span, TraceId};
use support::{fixture, get, post_json, Collector};

fn sorted_spans(data: &edgescope_otlp::TracesData) -> Vec<(String, Span)> {
    let mut v: Vec<_> = data.spans().map(|(r, _, s)| (r.service_name().to_owned(), s.clone())).collect();
    v.sort_by_key(|(_, s)| (s.trace_id, s.span_id));
    v
}

#[tokio::test]
async fn spans_from_fixture_files_come_back_unchanged_by_trace_id() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    for name in [
        "otlp-proto-trace.json",
        "otel-rust-it-traces.json",
        "jaeger-memory-otel_traces_01.json",
        "jaeger-integration-example_trace.json",
        "jaeger-query-otlp2jaeger-in.json",
        "jaeger-ui-otlp2jaeger-multi-in-combined.json",
    ] {
        let text = fixture(name);
        let sent = read::traces_from_str(&text, Ids::Strict).unwrap();
        let answer = post_json(collector.otlp, "/v1/traces", &text).await;
        assert_eq!(answer.status, 200, "{name}: {}", answer.body);
        assert_eq!(answer.json(), serde_json::json!({}));

        let mut trace_ids: Vec<TraceId> = sent.spans().map(|(_, _, s)| s.trace_id).collect();
        trace_ids.sort();
        trace_ids.dedup();
        let mut returned = edgescope_otlp::TracesData::default();
        for id in trace_ids {
            let answer = get(collector.ui, &format!("/api/v3/traces/{id}")).await;
            assert_eq!(answer.status, 200, "{name}: {}", answer.body);
            returned.resource_spans.extend(read::traces(&answer.json(), Ids::Strict).unwrap().resource_spans);
        }
        // A span sent twice in the same request (Jaeger's otlp2jaeger-in.json holds one) is
        // stored once, as Jaeger's span de-duplication shows it once.
        let mut expected = sorted_spans(&sent);
        expected.dedup();
        assert_eq!(sorted_spans(&returned), expected, "{name}");
    }

    let list = get(collector.ui, "/api/traces?limit=100").await.json();
    let traces = list["traces"].as_array().unwrap();
    let proto = traces.iter().find(|t| t["traceId"] == "5b8efff798038103d269b633813fc60c").unwrap();
    assert_eq!(proto["spanCount"], 1);
    assert_eq!(proto["rootService"], "my.service");
    let services = get(collector.ui, "/api/v3/services").await.json();
    assert!(services["services"].as_array().unwrap().iter().any(|s| s == "basic-otlp-tracing-example"));
    collector.stop().await;
}

#[tokio::test]
async fn log_records_from_fixture_files_are_listed_newest_first_and_by_trace() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    for name in ["otlp-proto-logs.json", "otel-rust-it-logs.json", "otlp-proto-events.json"] {
        let answer = post_json(collector.otlp, "/v1/logs", &fixture(name)).await;
        assert_eq!(answer.status, 200, "{name}: {}", answer.body);
    }
    let all = read::logs(&get(collector.ui, "/api/logs?limit=10").await.json(), Ids::Strict).unwrap();
    let records: Vec<_> = all.records().collect();
    assert_eq!(records.len(), 3);
    assert!(records.windows(2).all(|w| w[0].2.time() >= w[1].2.time()), "newest first");
    let rust = records.iter().find(|(r, _, _)| r.service_name() == "logs-integration-test").unwrap();
    assert_eq!(rust.2.trace_id, None, "an empty traceId string means no trace");

    let proto = read::logs_from_str(&fixture("otlp-proto-logs.json"), Ids::Strict).unwrap();
    let want = proto.records().next().unwrap().2.clone();
    let trace = want.trace_id.unwrap();
    let by_trace =
        read::logs(&get(collector.ui, &format!("/api/logs?trace_id={trace}")).await.json(), Ids::Strict).unwrap();
    let got: Vec<_> = by_trace.records().map(|(_, _, r)| r.clone()).collect();
    assert_eq!(got, vec![want]);
    collector.stop().await;
}
