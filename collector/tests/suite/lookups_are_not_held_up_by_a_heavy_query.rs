//! Reads that look up by index (a trace by id, the trace list, services, operations, a trace's
//! logs) run on a reader of their own: a trace page is not held up behind a Loki metric query
//! that scans every record, as it was when every query waited its turn on one reader.
use crate::support;

use std::time::Instant;

use support::{encode, get, post_logs, seed, Collector};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_lookup_answers_while_a_metric_query_scans_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let traces = seed(&collector, &["otel-rust-it-traces.json"]).await;
    let id = traces.resource_spans[0].scope_spans[0].spans[0].trace_id.to_hex();
    // 60,000 log records over ten minutes, for a metric query that reads every one.
    let t0 = 1_764_000_000_000_000_000u64;
    for batch in 0..12u64 {
        let records = (0..5000u64)
            .map(|i| {
                let n = batch * 5000 + i;
                serde_json::json!({
                    "timeUnixNano": (t0 + n * 10_000_000).to_string(),
                    "severityNumber": 9 + (n % 3) * 4,
                    "body": { "stringValue": format!("request {n} served") },
                })
            })
            .collect();
        post_logs(&collector, &format!("svc{}", batch % 4), records).await;
    }
    let query = encode(r#"sum by (level) (count_over_time({service_name=~".+"} |= "served" [1m]))"#);
    let (start, end) = (t0 / 1_000_000_000, t0 / 1_000_000_000 + 600);
    let heavy_path = format!("/loki/api/v1/query_range?query={query}&start={start}&end={end}&step=1");
    let ui = collector.ui;
    let heavy = tokio::spawn(async move {
        let answer = get(ui, &heavy_path).await;
        (answer.status, Instant::now())
    });
    // The lookup goes once the metric query is on its way; it is answered before that query is.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let lookup = get(collector.ui, &format!("/api/v3/traces/{id}")).await;
    let looked_up = Instant::now();
    assert_eq!(lookup.status, 200, "{}", lookup.body);
    let (status, scanned) = heavy.await.unwrap();
    assert_eq!(status, 200);
    assert!(looked_up < scanned, "the lookup waited for the metric query");
    collector.stop().await;
}
