//! Grafana's Logs Drilldown asks `/loki/api/v1/drilldown-limits` when it opens (Loki 3.5 answers
//! with its tenant limits): the collector answers with the limits it holds queries to, so that
//! the app offers no more lines than a query may return and hides the Patterns tab, which would
//! stay empty here.
use crate::support;

use std::time::Duration;

use edgescope_collector::Settings;
use support::{get, Collector};

#[tokio::test]
async fn drilldown_limits_are_the_ones_queries_meet() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        data_dir: dir.path().to_owned(),
        retention: Some(Duration::from_secs(7 * 24 * 3600)),
        ..Settings::default()
    };
    let c = Collector::start_with(settings).await;
    let answer = get(c.ui, "/loki/api/v1/drilldown-limits").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    let limits = &body["limits"];
    assert_eq!(limits["retention_period"], "604800s", "{body}");
    assert_eq!(body["pattern_ingester_enabled"], false, "{body}");
    let most = limits["max_entries_limit_per_query"].as_u64().unwrap();
    let query = |limit: u64| format!("/loki/api/v1/query_range?query=%7Bservice_name%3D%22x%22%7D&limit={limit}");
    assert_eq!(get(c.ui, &query(most)).await.status, 200, "the limit it names is allowed");
    let over = get(c.ui, &query(most + 1)).await;
    assert_eq!(over.status, 400, "one more is not: {}", over.body);
    let attributes = &limits["otlp_config"]["ResourceAttributes"]["AttributesConfig"][0]["Attributes"];
    assert!(attributes.as_array().unwrap().iter().any(|a| a == "service.name"), "{body}");
    // Without retention, no lookback limit: `0s`, as Loki writes none.
    c.stop().await;
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path()).await;
    let body = get(c.ui, "/loki/api/v1/drilldown-limits").await.json();
    assert_eq!(
        (body["limits"]["retention_period"].as_str(), body["limits"]["max_query_lookback"].as_str()),
        (Some("0s"), Some("0s"))
    );
    c.stop().await;
}
