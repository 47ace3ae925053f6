//! Metric series carry structured metadata, so records with a trace id each make a series each:
//! as in Loki, a `sum` pushes its grouping down to the counting range function under it
//! (canInjectVectorGrouping), and volumes count streams, so neither holds a series per record.
use crate::support;

use serde_json::{json, Value};
use support::{encode, get, matrix, post_json, Collector};

const T0: u64 = 1_000_000_000_000_000_000;
const S: u64 = 1_000_000_000;

/// More distinct metadata sets than a metric query may read series (50,000).
const RECORDS: u64 = 50_001;

#[tokio::test]
async fn a_sum_and_a_volume_answer_over_more_records_with_their_own_metadata_than_series_may_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    for batch in 0..RECORDS.div_ceil(10_000) {
        let records: Vec<Value> = (batch * 10_000..((batch + 1) * 10_000).min(RECORDS))
            .map(|i| {
                json!({
                    "timeUnixNano": (T0 + S + i * 1_000).to_string(), "severityNumber": 9,
                    "body": { "stringValue": "x" },
                    "attributes": [{ "key": "n", "value": { "intValue": i.to_string() } }],
                })
            })
            .collect();
        let body = json!({ "resourceLogs": [{
            "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": "api" } }] },
            "scopeLogs": [{ "logRecords": records }],
        }] })
        .to_string();
        assert_eq!(post_json(collector.otlp, "/v1/logs", &body).await.status, 200);
    }
    let end = T0 + 60 * S;
    let range = |query: &str| format!("/loki/api/v1/query_range?query={}&start={end}&end={end}&step=60", encode(query));
    let point = |v: &str| vec![((end / S) as i64, v.to_owned())];

    // Grafana's log volume query.
    let volume = r#"sum by (level, detected_level) (count_over_time({service_name="api"} | drop __error__ [1m]))"#;
    let answer = get(collector.ui, &range(volume)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(matrix(&answer.json()), [("level=info".to_owned(), point("50001"))]);
    let answer = get(collector.ui, &range(r#"sum(bytes_over_time({service_name="api"}[1m]))"#)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(matrix(&answer.json()), [(String::new(), point("50001"))]);

    // Without a sum over it, each record's metadata makes a series, as in Loki.
    let answer = get(collector.ui, &range(r#"count_over_time({service_name="api"}[1m])"#)).await;
    assert_eq!(answer.status, 400, "{}", answer.body);

    let path = format!("/loki/api/v1/index/volume?query={}&start={T0}&end={end}", encode(r#"{service_name="api"}"#));
    let answer = get(collector.ui, &path).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["data"]["result"][0]["metric"], json!({ "service_name": "api" }));
    assert_eq!(answer.json()["data"]["result"][0]["value"][1], "50001");
    collector.stop().await;
}
