use crate::support;

use edgescope_otlp::read::{self, Ids};
use edgescope_otlp::{json, TraceId, TracesData};
use support::{find_traces, fixture, found, post_json, spans_by_id, spans_of, trace_ids, Collector, ALL_TIME};

/// How many copies [`copies`] makes: more than the default depth.
const COPIES: u8 = 105;

/// `COPIES` copies of the trace in otel-rust-it-traces.json, copy `i` with trace id `i` and
/// started `i` seconds after the original.
fn copies() -> Vec<TracesData> {
    let original = read::traces_from_str(&fixture("otel-rust-it-traces.json"), Ids::Strict).unwrap();
    (0..COPIES)
        .map(|i| {
            let mut copy = original.clone();
            for span in copy.resource_spans.iter_mut().flat_map(|r| &mut r.scope_spans).flat_map(|s| &mut s.spans) {
                span.trace_id = TraceId([i + 1; 16]);
                span.start_time_unix_nano += u64::from(i) * 1_000_000_000;
                span.end_time_unix_nano += u64::from(i) * 1_000_000_000;
            }
            copy
        })
        .collect()
}

fn newest(n: u8) -> Vec<TraceId> {
    (0..n).map(|k| TraceId([COPIES - k; 16])).collect()
}

#[tokio::test]
async fn the_default_is_a_hundred_as_jaegers_and_the_newest_traces_come_first() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let mut sent = TracesData::default();
    for copy in copies() {
        assert_eq!(post_json(collector.otlp, "/v1/traces", &json::write_traces(&copy)).await.status, 200);
        sent.resource_spans.extend(copy.resource_spans);
    }
    let service = ("query.service_name", "basic-otlp-tracing-example");

    for depth in [None, Some(("query.search_depth", "0"))] {
        let mut params = vec![service, ALL_TIME[0], ALL_TIME[1]];
        params.extend(depth);
        let answer = found(&find_traces(collector.ui, &params).await);
        // Jaeger's HTTP gateway (and, since jaeger#9165, its gRPC API) search 100 deep when the
        // depth is unset or 0; Grafana's Jaeger data source sends none and cuts to its own limit.
        assert_eq!(trace_ids(&answer), newest(100), "{depth:?}");
        assert_eq!(spans_by_id(&answer), spans_of(&sent, &newest(100)));
    }
    for (name, depth, want) in
        [("query.search_depth", "3", 3), ("query.searchDepth", "1", 1), ("query.num_traces", "2", 2)]
    {
        let answer = found(&find_traces(collector.ui, &[service, ALL_TIME[0], ALL_TIME[1], (name, depth)]).await);
        assert_eq!(trace_ids(&answer), newest(want), "{name}={depth}");
    }
    // With an attribute condition, the spans are read in Rust; the bound and order are the same.
    let answer = found(
        &find_traces(
            collector.ui,
            &[
                service,
                ALL_TIME[0],
                ALL_TIME[1],
                ("query.attributes", r#"{"lemons":"five"}"#),
                ("query.search_depth", "4"),
            ],
        )
        .await,
    );
    assert_eq!(trace_ids(&answer), newest(4));
    assert_eq!(spans_by_id(&answer), spans_of(&sent, &newest(4)));
    collector.stop().await;
}
