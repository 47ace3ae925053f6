//! LogQL metric queries on the Loki API: what Grafana's log volume histograms ask for.
use crate::support;

use serde_json::{json, Value};
use support::{encode, get, matrix, post_json, Collector};

const T0: u64 = 1_000_000_000_000_000_000;
const S: u64 = 1_000_000_000;

fn record(t: u64, severity: i32, body: &str) -> Value {
    json!({ "timeUnixNano": t.to_string(), "severityNumber": severity, "body": { "stringValue": body } })
}

fn batch(service: &str, records: Vec<Value>) -> String {
    json!({ "resourceLogs": [{
        "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": service } }] },
        "scopeLogs": [{ "logRecords": records }],
    }] })
    .to_string()
}

async fn range(collector: &Collector, query: &str, start: u64, end: u64, step: &str) -> Value {
    let path = format!("/loki/api/v1/query_range?query={}&start={start}&end={end}&step={step}", encode(query));
    let answer = get(collector.ui, &path).await;
    assert_eq!(answer.status, 200, "{query}: {}", answer.body);
    answer.json()
}

fn points(values: &[(u64, &str)]) -> Vec<(i64, String)> {
    values.iter().map(|&(t, v)| ((T0 / S + t) as i64, v.to_owned())).collect()
}

#[tokio::test]
async fn range_functions_count_lines_per_stream_and_aggregations_combine_the_streams() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let web = batch(
        "web",
        vec![
            record(T0 + S, 9, "checkout started"),
            record(T0 + 2 * S, 9, "checkout done"),
            record(T0 + 30 * S, 17, "payment failed"),
            record(T0 + 61 * S, 9, "idle"),
        ],
    );
    let api = batch("api", vec![record(T0 + 5 * S, 9, "GET /todos")]);
    for body in [web, api] {
        assert_eq!(post_json(collector.otlp, "/v1/logs", &body).await.status, 200);
    }
    let (t1, t2) = (T0 + 60 * S, T0 + 120 * S);

    // Each step t counts the lines in (t - 1m, t]; a step with none has no point. The severity
    // number is structured metadata, which labels the series too, as in Loki.
    let body = range(&collector, r#"count_over_time({service_name="web"}[1m])"#, t1, t2, "60").await;
    assert_eq!(
        matrix(&body),
        [
            ("level=error,service_name=web,severity_number=17".to_owned(), points(&[(60, "1")])),
            ("level=info,service_name=web,severity_number=9".to_owned(), points(&[(60, "2"), (120, "1")])),
        ]
    );
    assert!(body["data"]["stats"]["summary"]["totalLinesProcessed"].as_u64().unwrap() >= 4);

    // What Grafana's log volume asks: per level across services; an unknown label is left out.
    let volume = r#"sum by (level, detected_level) (count_over_time({service_name=~"web|api"} | drop __error__ [1m]))"#;
    assert_eq!(
        matrix(&range(&collector, volume, t1, t2, "1m").await),
        [("level=error".to_owned(), points(&[(60, "1")])), ("level=info".to_owned(), points(&[(60, "3"), (120, "1")]))]
    );

    // Line filters narrow what is counted; rate is per second of the range.
    let rate = r#"sum(rate({service_name="web"} |= "checkout" [1m]))"#;
    let body = range(&collector, rate, t1, t1, "60").await;
    assert_eq!(matrix(&body), [(String::new(), vec![((T0 / S + 60) as i64, (2.0f64 / 60.0).to_string())])]);

    // Bytes of the lines, and the series combined without a label, by count, max and avg.
    let bytes = r#"bytes_over_time({service_name="web"} | drop level, severity_number [2m])"#;
    let total = ("checkout started".len() + "checkout done".len() + "payment failed".len() + "idle".len()).to_string();
    assert_eq!(
        matrix(&range(&collector, bytes, t2, t2, "60").await),
        [("service_name=web".to_owned(), points(&[(120, &total)]))]
    );
    let by_level = |op: &str| {
        format!(r#"{op} without (service_name, severity_number) (count_over_time({{service_name=~".+"}}[1m]))"#)
    };
    assert_eq!(
        matrix(&range(&collector, &by_level("count"), t1, t1, "60").await),
        [("level=error".to_owned(), points(&[(60, "1")])), ("level=info".to_owned(), points(&[(60, "2")]))],
        "web and api both have info lines in the first minute"
    );
    assert_eq!(
        matrix(&range(&collector, &by_level("max"), t1, t1, "60").await)[1],
        ("level=info".to_owned(), points(&[(60, "2")]))
    );
    assert_eq!(
        matrix(&range(&collector, &by_level("avg"), t1, t1, "60").await)[1],
        ("level=info".to_owned(), points(&[(60, "1.5")]))
    );

    // An instant query answers a vector at `time`.
    let path =
        format!("/loki/api/v1/query?query={}&time={t2}", encode(r#"sum(count_over_time({service_name="web"}[2m]))"#));
    let answer = get(collector.ui, &path).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["data"]["resultType"], "vector");
    assert_eq!(body["data"]["result"], json!([{ "metric": {}, "value": [T0 / S + 120, "4"] }]));

    // Sample times are whole milliseconds, as Loki's (Prometheus points): Grafana sends times in
    // nanoseconds, and a script joining series by time must not meet `…60.0051234`.
    let odd = t2 + 5_123_456;
    let body = range(&collector, r#"sum(count_over_time({service_name="web"}[2m]))"#, odd, odd, "1").await;
    assert_eq!(body["data"]["result"][0]["values"], json!([[1_000_000_120.005, "4"]]), "{body}");
    let path =
        format!("/loki/api/v1/query?query={}&time={odd}", encode(r#"sum(count_over_time({service_name="web"}[2m]))"#));
    let body = get(collector.ui, &path).await.json();
    assert_eq!(body["data"]["result"][0]["value"], json!([1_000_000_120.005, "4"]), "{body}");
    collector.stop().await;
}

#[tokio::test]
async fn a_metric_query_over_more_than_500_streams_is_refused_and_its_aggregate_still_answers() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let resources: Vec<Value> = (0..501)
        .map(|i| {
            json!({
                "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": format!("svc-{i}") } }] },
                "scopeLogs": [{ "logRecords": [record(T0 + S, 9, "up")] }],
            })
        })
        .collect();
    let body = json!({ "resourceLogs": resources }).to_string();
    assert_eq!(post_json(collector.otlp, "/v1/logs", &body).await.status, 200);
    let query = encode(r#"count_over_time({service_name=~"svc-.+"}[1m])"#);
    let answer =
        get(collector.ui, &format!("/loki/api/v1/query_range?query={query}&start={T0}&end={}&step=60", T0 + 60 * S))
            .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(answer.body.contains("maximum of series (500) reached"), "{}", answer.body);
    // Aggregated, the same streams are one series.
    let query = encode(r#"sum(count_over_time({service_name=~"svc-.+"}[1m]))"#);
    let answer =
        get(collector.ui, &format!("/loki/api/v1/query_range?query={query}&start={T0}&end={}&step=60", T0 + 60 * S))
            .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(matrix(&answer.json()), [(String::new(), points(&[(60, "501")]))]);
    collector.stop().await;
}
