//! A LogQL metric query's series are labelled as Loki labels them: the stream labels, the
//! record's structured metadata and what the query's parsers added (Loki's sample extractors
//! add the metadata before any stage runs), less what `| drop`, `| unwrap` and a range
//! function's `by`/`without` take away.
use crate::support;

use serde_json::{json, Value};
use support::{encode, get, matrix, post_json, Collector};

const T0: u64 = 1_000_000_000_000_000_000;
const S: u64 = 1_000_000_000;

/// A record without a severity (so without `severity_number` metadata), with attributes.
fn record(t: u64, body: &str, attributes: &[(&str, Value)]) -> Value {
    let attributes: Vec<Value> = attributes
        .iter()
        .map(|(k, v)| match v {
            Value::Number(n) => json!({ "key": k, "value": { "intValue": n.to_string() } }),
            v => json!({ "key": k, "value": { "stringValue": v.as_str().unwrap() } }),
        })
        .collect();
    json!({ "timeUnixNano": t.to_string(), "body": { "stringValue": body }, "attributes": attributes })
}

async fn seed(collector: &Collector) {
    let records = vec![
        record(T0 + S, "route=/a", &[("user", json!("ann")), ("took", json!(10))]),
        record(T0 + 2 * S, "route=/b", &[("user", json!("ann")), ("took", json!(20))]),
        record(T0 + 3 * S, "route=/a", &[("user", json!("bob")), ("took", json!(40))]),
    ];
    let body = json!({ "resourceLogs": [{
        "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": "api" } }] },
        "scopeLogs": [{ "logRecords": records }],
    }] })
    .to_string();
    assert_eq!(post_json(collector.otlp, "/v1/logs", &body).await.status, 200);
}

async fn series(collector: &Collector, query: &str) -> Vec<(String, String)> {
    let end = T0 + 60 * S;
    let path = format!("/loki/api/v1/query_range?query={}&start={end}&end={end}&step=60", encode(query));
    let answer = get(collector.ui, &path).await;
    assert_eq!(answer.status, 200, "{query}: {}", answer.body);
    matrix(&answer.json()).into_iter().map(|(labels, values)| (labels, values[0].1.clone())).collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(l, v)| (l.to_string(), v.to_string())).collect()
}

#[tokio::test]
async fn structured_metadata_and_parsed_labels_label_the_series_of_a_metric_query() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    seed(&collector).await;

    // Without a parser, one series per stream and metadata set.
    assert_eq!(
        series(&collector, r#"count_over_time({service_name="api"}[1m])"#).await,
        pairs(&[
            ("level=unknown,service_name=api,took=10,user=ann", "1"),
            ("level=unknown,service_name=api,took=20,user=ann", "1"),
            ("level=unknown,service_name=api,took=40,user=bob", "1"),
        ])
    );
    // An aggregation groups by metadata.
    assert_eq!(
        series(&collector, r#"sum by (user) (count_over_time({service_name="api"}[1m]))"#).await,
        pairs(&[("user=ann", "2"), ("user=bob", "1")])
    );
    // Parsed labels join them; `| drop` takes labels of either kind away.
    assert_eq!(
        series(&collector, r#"count_over_time({service_name="api"} | logfmt | drop took [1m])"#).await,
        pairs(&[
            ("level=unknown,route=/a,service_name=api,user=ann", "1"),
            ("level=unknown,route=/a,service_name=api,user=bob", "1"),
            ("level=unknown,route=/b,service_name=api,user=ann", "1"),
        ])
    );
    assert_eq!(
        series(&collector, r#"sum by (route, user) (count_over_time({service_name="api"} | logfmt [1m]))"#).await,
        pairs(&[("route=/a,user=ann", "1"), ("route=/a,user=bob", "1"), ("route=/b,user=ann", "1")])
    );

    // An unwrapped metadata label leaves the series; the others stay, or are grouped.
    assert_eq!(
        series(&collector, r#"sum_over_time({service_name="api"} | unwrap took [1m])"#).await,
        pairs(&[("level=unknown,service_name=api,user=ann", "30"), ("level=unknown,service_name=api,user=bob", "40")])
    );
    assert_eq!(
        series(&collector, r#"sum_over_time({service_name="api"} | unwrap took [1m]) by (user)"#).await,
        pairs(&[("user=ann", "30"), ("user=bob", "40")])
    );
    assert_eq!(
        series(&collector, r#"sum_over_time({service_name="api"} | unwrap took [1m]) without (user)"#).await,
        pairs(&[("level=unknown,service_name=api", "70")])
    );
    assert_eq!(
        series(&collector, r#"max_over_time({service_name="api"} | logfmt | unwrap took [1m]) by (route)"#).await,
        pairs(&[("route=/a", "40"), ("route=/b", "20")])
    );
    collector.stop().await;
}
