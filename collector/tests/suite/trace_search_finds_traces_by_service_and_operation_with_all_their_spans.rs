use crate::support;

use support::{assert_no_traces, find_traces, found, seed, spans_by_id, spans_of, trace_id, Collector, ALL_TIME};

/// A collector holding three fixture files' traces, and what was sent.
async fn seeded() -> (tempfile::TempDir, Collector, edgescope_otlp::TracesData) {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let sent = seed(
        &collector,
        &["jaeger-integration-example_trace.json", "otel-rust-it-traces.json", "jaeger-memory-otel_traces_01.json"],
    )
    .await;
    (dir, collector, sent)
}

#[tokio::test]
async fn a_trace_matches_when_one_span_has_the_service_and_operation_and_comes_back_whole() {
    let (_dir, collector, sent) = seeded().await;
    let [t11, x1, x2] =
        ["00000000000000000000000000000011", "00000000000000010000000000000000", "00000000000000020000000000000000"]
            .map(trace_id);

    // One span of service 1 is example-operation-3; the answer holds all five spans of its
    // trace, those of services 2 and 3 included.
    let [min, max] = ALL_TIME;
    let by_operation = found(
        &find_traces(
            collector.ui,
            &[("query.service_name", "example-service-1"), ("query.operation_name", "example-operation-3"), min, max],
        )
        .await,
    );
    assert_eq!(spans_by_id(&by_operation), spans_of(&sent, &[t11]));
    assert_eq!(by_operation.spans().count(), 5);

    let by_service = found(&find_traces(collector.ui, &[("query.service_name", "service-x"), min, max]).await);
    assert_eq!(spans_by_id(&by_service), spans_of(&sent, &[x1, x2]));

    // The camelCase names of newer Jaeger clients mean the same.
    let camel = found(
        &find_traces(
            collector.ui,
            &[
                ("query.serviceName", "example-service-3"),
                ("query.operationName", "example-operation-1"),
                ("query.startTimeMin", min.1),
                ("query.startTimeMax", max.1),
            ],
        )
        .await,
    );
    assert_eq!(spans_by_id(&camel), spans_of(&sent, &[t11]));

    // example-operation-1 exists, but no span of example-service-2 has that name.
    assert_no_traces(
        &find_traces(
            collector.ui,
            &[("query.service_name", "example-service-2"), ("query.operation_name", "example-operation-1"), min, max],
        )
        .await,
    );
    assert_no_traces(&find_traces(collector.ui, &[("query.service_name", "nobody"), min, max]).await);
    collector.stop().await;
}

#[tokio::test]
async fn a_search_without_a_service_keeps_every_other_condition() {
    let (_dir, collector, sent) = seeded().await;
    let [t11, x1, x2, rust] = [
        "00000000000000000000000000000011",
        "00000000000000010000000000000000",
        "00000000000000020000000000000000",
        "9b458af7378cba65253d7042d34fc72e",
    ]
    .map(trace_id);
    let [min, max] = ALL_TIME;
    let search = |extra: &[(&'static str, &'static str)]| {
        let mut params = vec![min, max];
        params.extend_from_slice(extra);
        let ui = collector.ui;
        async move { find_traces(ui, &params).await }
    };

    // No service, no other condition: every trace; an empty service means the same.
    let all = spans_of(&sent, &[t11, x1, x2, rust]);
    assert_eq!(spans_by_id(&found(&search(&[]).await)), all);
    assert_eq!(spans_by_id(&found(&search(&[("query.service_name", "")]).await)), all);
    // The operation, the duration bounds, the attributes and the time range still hold.
    assert_eq!(
        spans_by_id(&found(&search(&[("query.operation_name", "example-operation-3")]).await)),
        spans_of(&sent, &[t11])
    );
    assert_eq!(spans_by_id(&found(&search(&[("query.duration_min", "21819ns")]).await)), spans_of(&sent, &[t11, rust]));
    assert_eq!(
        spans_by_id(&found(&search(&[("query.duration_max", "6020ns")]).await)),
        spans_of(&sent, &[x1, x2, rust])
    );
    assert_eq!(
        spans_by_id(&found(&search(&[("query.attributes", r#"{"lemons":"five"}"#)]).await)),
        spans_of(&sent, &[rust])
    );
    let window = [("query.start_time_min", "2017-01-26T00:00:00Z"), ("query.start_time_max", "2017-01-26T18:00:00Z")];
    assert_eq!(spans_by_id(&found(&find_traces(collector.ui, &window).await)), spans_of(&sent, &[t11]));
    collector.stop().await;
}
