use crate::support;

use support::{assert_no_traces, find_traces, seed, Collector, ALL_TIME};

#[tokio::test]
async fn an_empty_store_and_a_search_that_matches_nothing_both_get_404() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let search = [("query.service_name", "example-service-1"), ALL_TIME[0], ALL_TIME[1]];
    assert_no_traces(&find_traces(collector.ui, &search).await);

    seed(&collector, &["jaeger-integration-example_trace.json"]).await;
    assert_eq!(find_traces(collector.ui, &search).await.status, 200);
    assert_no_traces(
        &find_traces(collector.ui, &[("query.service_name", "example-service-4"), ALL_TIME[0], ALL_TIME[1]]).await,
    );
    collector.stop().await;
}
