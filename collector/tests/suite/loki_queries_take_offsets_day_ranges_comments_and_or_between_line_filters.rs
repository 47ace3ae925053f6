//! LogQL as Loki 3 reads it: ranges in Prometheus durations (`1d`, `1h30m`), `offset` after a
//! range, `#` comments to the end of a line, and `or` between the values of a line filter.
use crate::support;

use serde_json::{json, Value};
use support::{encode, get, matrix, post_json, Collector};

const T0: u64 = 1_000_000_000_000_000_000;
const S: u64 = 1_000_000_000;
const H: u64 = 3_600 * S;

async fn query(collector: &Collector, query: &str, at: u64) -> Vec<(String, Vec<(i64, String)>)> {
    let path = format!("/loki/api/v1/query_range?query={}&start={at}&end={at}&step=60", encode(query));
    let answer = get(collector.ui, &path).await;
    assert_eq!(answer.status, 200, "{query}: {}", answer.body);
    matrix(&answer.json())
}

#[tokio::test]
async fn offsets_day_ranges_comments_and_or_filters_read_and_count_as_in_loki() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let record = |t: u64, body: &str| json!({ "timeUnixNano": t.to_string(), "body": { "stringValue": body } });
    let records: Vec<Value> = vec![
        record(T0 + S, "GET /a"),
        record(T0 + 2 * S, "GET /b"),
        record(T0 + 3 * S, "POST /a"),
        record(T0 + 2 * H, "GET /c"),
    ];
    let body = json!({ "resourceLogs": [{
        "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": "api" } }] },
        "scopeLogs": [{ "logRecords": records }],
    }] })
    .to_string();
    assert_eq!(post_json(collector.otlp, "/v1/logs", &body).await.status, 200);
    let at = T0 + 3 * H;
    let point = |n: &str| vec![((at / S) as i64, n.to_owned())];

    // A day's range holds all four lines; the last hour none, but an hour's offset sees GET /c.
    assert_eq!(
        query(&collector, r#"sum(count_over_time({service_name="api"}[1d]))"#, at).await,
        [(String::new(), point("4"))]
    );
    assert_eq!(query(&collector, r#"sum(count_over_time({service_name="api"}[1h]))"#, at).await, []);
    assert_eq!(
        query(&collector, r#"sum(count_over_time({service_name="api"}[1h] offset 1h))"#, at).await,
        [(String::new(), point("1"))]
    );
    assert_eq!(
        query(&collector, r#"sum(count_over_time({service_name="api"} |= "GET" [2h] offset 2h))"#, at).await,
        [(String::new(), point("2"))]
    );

    // `or` between values: any of them (|=), none of them (!=); comments are skipped.
    let q = "sum(count_over_time({service_name=\"api\"} # the API\n |= \"/a\" or \"/c\" # two routes\n [1d]))";
    assert_eq!(query(&collector, q, at).await, [(String::new(), point("3"))]);
    let q = r#"sum(count_over_time({service_name="api"} != "/a" or "/c" [1d]))"#;
    assert_eq!(query(&collector, q, at).await, [(String::new(), point("1"))]);

    // A range out of Prometheus' order is refused as Loki refuses it.
    let path = format!(
        "/loki/api/v1/query_range?query={}&start={at}&end={at}&step=60",
        encode(r#"count_over_time({service_name="api"}[30m1h])"#)
    );
    let answer = get(collector.ui, &path).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(answer.body.contains("invalid range `30m1h`"), "{}", answer.body);
    collector.stop().await;
}
