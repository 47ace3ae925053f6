use crate::support;

use support::{assert_no_traces, find_traces, found, seed, spans_by_id, Collector, ALL_TIME};

/// otel-rust-it-traces.json: `operation` lasts 21,819 ns and `Sub operation...` 6,020 ns.
async fn search(collector: &Collector, bounds: &[(&str, &str)]) -> support::Response {
    let mut params = vec![("query.service_name", "basic-otlp-tracing-example"), ALL_TIME[0], ALL_TIME[1]];
    params.extend_from_slice(bounds);
    find_traces(collector.ui, &params).await
}

#[tokio::test]
async fn go_duration_bounds_are_inclusive_and_hold_for_one_and_the_same_span() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let sent = seed(&collector, &["otel-rust-it-traces.json"]).await;
    let whole = spans_by_id(&sent);

    for bounds in [
        &[("query.duration_min", "21819ns")][..],
        &[("query.duration_min", "10us")],
        &[("query.duration_min", "0.000021819s")],
        &[("query.duration_max", "6020ns")],
        &[("query.duration_max", "6.02\u{b5}s")],
        &[("query.duration_min", "5us"), ("query.duration_max", "7us")],
        &[("query.durationMin", "20us"), ("query.durationMax", "1ms")],
    ] {
        let answer = search(&collector, bounds).await;
        assert_eq!(spans_by_id(&found(&answer)), whole, "{bounds:?}");
    }
    for bounds in [
        &[("query.duration_min", "21820ns")][..],
        &[("query.duration_min", "1ms")],
        &[("query.duration_max", "6.019us")],
        // Each bound alone is met by some span, but no span lasts between 7 and 20 µs.
        &[("query.duration_min", "7us"), ("query.duration_max", "20us")],
    ] {
        assert_no_traces(&search(&collector, bounds).await);
    }
    collector.stop().await;
}
