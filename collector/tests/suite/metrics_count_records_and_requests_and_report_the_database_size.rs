use crate::support;

use std::collections::HashMap;

use support::{get, post_json, request, Collector};

/// Every sample of a text-format scrape by its series (`name{labels}`), after checking that
/// each line is a comment or `series value` and that each metric has its HELP and TYPE.
fn samples(text: &str) -> HashMap<String, f64> {
    let mut out = HashMap::new();
    let mut typed = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            typed.push(rest.split(' ').next().unwrap().to_owned());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("`{line}`"));
        let name = series.split('{').next().unwrap();
        let base = ["_bucket", "_sum", "_count"].iter().fold(name, |n, s| n.strip_suffix(s).unwrap_or(n));
        assert!(typed.iter().any(|t| t == name || t == base), "`{name}` has no TYPE line before it");
        out.insert(series.to_owned(), value.parse().unwrap_or_else(|e| panic!("`{line}`: {e}")));
    }
    out
}

#[tokio::test]
async fn a_scrape_counts_accepted_and_rejected_records_requests_per_route_family_and_the_database_size() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let spans = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[
        {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"},
        {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175"},
        {"traceId":"5b8e","spanId":"eee19b7ec3c1b176"}]}]}]}"#;
    assert_eq!(post_json(collector.otlp, "/v1/traces", spans).await.status, 200);
    let logs = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"hi"}}]}]}]}"#;
    assert_eq!(post_json(collector.ui, "/v1/logs", logs).await.status, 200);
    assert_eq!(post_json(collector.otlp, "/v1/logs", "not json").await.status, 400);
    assert_eq!(get(collector.ui, "/api/traces").await.status, 200);
    // Grafana's Jaeger data source: a query, not a viewer file.
    assert_eq!(get(collector.ui, "/jaeger/api/services").await.status, 200);
    assert_eq!(get(collector.ui, "/api/v3/traces/00000000000000000000000000000001").await.status, 404);
    assert_eq!(get(collector.ui, "/health").await.status, 200);

    let scrape = request(collector.ui, "GET", "/metrics", &[], b"").await;
    assert_eq!(scrape.status, 200);
    assert_eq!(scrape.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    let m = samples(&scrape.body);
    let at = |series: &str| *m.get(series).unwrap_or_else(|| panic!("no `{series}` in\n{}", scrape.body));

    assert_eq!(at(r#"edgescope_records_received_total{signal="traces",outcome="accepted"}"#), 2.0);
    assert_eq!(at(r#"edgescope_records_received_total{signal="traces",outcome="rejected"}"#), 1.0);
    assert_eq!(at(r#"edgescope_records_received_total{signal="logs",outcome="accepted"}"#), 1.0);
    assert_eq!(at(r#"edgescope_records_received_total{signal="logs",outcome="rejected"}"#), 0.0);
    // One export of each signal, each its own group (one transaction); the 400 wrote nothing.
    assert_eq!(at(r#"edgescope_write_groups_total{signal="traces"}"#), 1.0);
    assert_eq!(at(r#"edgescope_write_groups_total{signal="logs"}"#), 1.0);

    assert_eq!(at(r#"edgescope_http_requests_total{family="ingest",code="200"}"#), 2.0, "both ports count");
    assert_eq!(at(r#"edgescope_http_requests_total{family="ingest",code="400"}"#), 1.0);
    assert_eq!(at(r#"edgescope_http_requests_total{family="query",code="200"}"#), 2.0);
    assert_eq!(at(r#"edgescope_http_requests_total{family="query",code="404"}"#), 1.0);
    assert_eq!(at(r#"edgescope_http_requests_total{family="health",code="200"}"#), 1.0);

    let count = at(r#"edgescope_http_request_duration_seconds_count{family="ingest"}"#);
    assert_eq!(count, 3.0);
    assert_eq!(at(r#"edgescope_http_request_duration_seconds_bucket{family="ingest",le="+Inf"}"#), count);
    assert!(at(r#"edgescope_http_request_duration_seconds_sum{family="ingest"}"#) > 0.0);
    assert_eq!(at(r#"edgescope_http_request_duration_seconds_count{family="metrics"}"#), 0.0, "counted once answered");

    let on_disk = std::fs::metadata(dir.path().join("edgescope.db")).unwrap().len();
    assert!(on_disk > 0);
    assert_eq!(at(r#"edgescope_database_size_bytes{file="db"}"#), on_disk as f64);
    assert_eq!(at("edgescope_write_queue_depth"), 0.0, "no write waits once every export is answered");
    assert_eq!(at("edgescope_write_queue_capacity"), 64.0, "the default --max-pending-writes");
    assert_eq!(at("edgescope_body_memory_capacity_bytes"), 256.0 * 1024.0 * 1024.0, "the default --max-body-memory-mb");
    assert_eq!(at("edgescope_body_memory_bytes"), 0.0, "no export under way");
    assert!(at(r#"edgescope_database_size_bytes{file="wal"}"#) > 0.0, "WAL mode keeps recent writes in the log");

    let again = samples(&get(collector.ui, "/metrics").await.body);
    assert_eq!(again[r#"edgescope_http_requests_total{family="metrics",code="200"}"#], 1.0);
    collector.stop().await;
}
