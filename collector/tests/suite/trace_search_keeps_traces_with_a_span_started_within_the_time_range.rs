use crate::support;

use support::{assert_no_traces, find_traces, found, seed, spans_by_id, Collector};

/// otel-rust-it-traces.json holds one trace of two spans: `operation` starts at
/// 2023-12-31T01:18:57.070558635Z and its child `Sub operation...` at 01:18:57.070566698Z.
async fn search(collector: &Collector, min: &str, max: &str) -> support::Response {
    find_traces(
        collector.ui,
        &[
            ("query.service_name", "basic-otlp-tracing-example"),
            ("query.start_time_min", min),
            ("query.start_time_max", max),
        ],
    )
    .await
}

#[tokio::test]
async fn both_bounds_are_inclusive_to_the_nanosecond_and_offsets_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let sent = seed(&collector, &["otel-rust-it-traces.json", "jaeger-integration-example_trace.json"]).await;
    let whole =
        spans_by_id(&sent).into_iter().filter(|(svc, _)| svc == "basic-otlp-tracing-example").collect::<Vec<_>>();
    assert_eq!(whole.len(), 2);

    // Only the child starts in the window, and the whole trace comes back.
    let late = found(&search(&collector, "2023-12-31T01:18:57.070566698Z", "2023-12-31T01:19:00Z").await);
    assert_eq!(spans_by_id(&late), whole);
    assert_no_traces(&search(&collector, "2023-12-31T01:18:57.070566699Z", "2023-12-31T01:19:00Z").await);

    let early = found(&search(&collector, "2023-12-31T01:18:00Z", "2023-12-31T01:18:57.070558635Z").await);
    assert_eq!(spans_by_id(&early), whole);
    assert_no_traces(&search(&collector, "2023-12-31T01:18:00Z", "2023-12-31T01:18:57.070558634Z").await);

    // The same instants written with a UTC offset.
    let offset = found(&search(&collector, "2023-12-31T02:18:57.070566698+01:00", "2023-12-31T02:19:00+01:00").await);
    assert_eq!(spans_by_id(&offset), whole);
    assert_no_traces(&search(&collector, "2023-12-30T21:18:57.070566699-04:00", "2023-12-31T01:19:00Z").await);

    // A window that holds other services' spans but none of this one.
    assert_no_traces(&search(&collector, "2017-01-01T00:00:00Z", "2018-01-01T00:00:00Z").await);
    collector.stop().await;
}
