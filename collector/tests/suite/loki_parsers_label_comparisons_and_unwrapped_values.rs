//! LogQL's parser stages (`| json`, `| logfmt`), numeric label filters and range functions over
//! `| unwrap`ped values on the Loki API, with expected figures computed here from the records.
use crate::support;

use serde_json::{json, Value};
use support::{encode, get, matrix, post_json, Collector};

const T0: u64 = 1_000_000_000_000_000_000;
const S: u64 = 1_000_000_000;

fn record(t: u64, body: &str) -> Value {
    json!({ "timeUnixNano": t.to_string(), "severityNumber": 9, "body": { "stringValue": body } })
}

fn batch(service: &str, records: Vec<Value>) -> String {
    json!({ "resourceLogs": [{
        "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": service } }] },
        "scopeLogs": [{ "logRecords": records }],
    }] })
    .to_string()
}

async fn query(collector: &Collector, query: &str, start: u64, end: u64, step: &str) -> (u16, Value, String) {
    let path = format!("/loki/api/v1/query_range?query={}&start={start}&end={end}&step={step}", encode(query));
    let answer = get(collector.ui, &path).await;
    let body = if answer.status == 200 { answer.json() } else { Value::Null };
    (answer.status, body, answer.body)
}

/// `(labels "k=v,…", last value)` of each series of a matrix answer, sorted.
fn last_values(body: &Value) -> Vec<(String, String)> {
    matrix(body).into_iter().map(|(labels, values)| (labels, values.last().unwrap().1.clone())).collect()
}

#[tokio::test]
async fn parsed_labels_filter_group_and_give_values() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    // (route, status, took in ms) of JSON lines from `api`; one line is not JSON.
    let requests =
        [("/cart", 200, 120), ("/cart", 503, 900), ("/cart", 200, 80), ("/home", 200, 40), ("/home", 500, 300)];
    let mut records: Vec<Value> = requests
        .iter()
        .enumerate()
        .map(|(i, (route, status, took))| {
            let line = json!({ "route": route, "status": status, "took_ms": took, "req": { "method": "GET" } });
            record(T0 + (i as u64 + 1) * S, &line.to_string())
        })
        .collect();
    records.push(record(T0 + 7 * S, "upstream restarted"));
    let worker = batch(
        "worker",
        vec![
            record(T0 + S, r#"level=info job=resize took=1.5s size=2MB"#),
            record(T0 + 2 * S, r#"level=warn job=resize took=500ms size=1MB msg="slow \"disk\"""#),
            record(T0 + 3 * S, r#"level=info job=mail took=250ms size=3KB"#),
        ],
    );
    for body in [batch("api", records), worker] {
        assert_eq!(post_json(collector.otlp, "/v1/logs", &body).await.status, 200);
    }
    let (start, end) = (T0, T0 + 60 * S);

    // A log query: a line `| json` cannot read stays, with `__error__`, as in Loki (a comparison
    // passes a line with an error; only a string filter such as `| __error__=""` leaves it out).
    let path = format!(
        "/loki/api/v1/query_range?query={}&start={start}&end={end}&direction=forward",
        encode(r#"{service_name="api"} | json | status >= 500"#)
    );
    let streams = get(collector.ui, &path).await.json()["data"]["result"].clone();
    let errors: Vec<&Value> =
        streams.as_array().unwrap().iter().filter(|s| s["stream"]["__error__"] == "JSONParserErr").collect();
    assert_eq!(errors.len(), 1, "{streams}");
    assert_eq!(errors[0]["values"][0][1], "upstream restarted");

    // JSON lines whose status is 5xx, with what was parsed beside the line.
    let path = format!(
        "/loki/api/v1/query_range?query={}&start={start}&end={end}&direction=forward",
        encode(r#"{service_name="api"} | json | __error__="" | status >= 500"#)
    );
    let answer = get(collector.ui, &path).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let streams = answer.json()["data"]["result"].clone();
    let lines: Vec<&str> = streams
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["values"].as_array().unwrap().iter().map(|v| v[1].as_str().unwrap()))
        .collect();
    assert_eq!(lines.len(), 2, "{streams}");
    assert!(lines.iter().all(|l| l.contains("\"status\":50")), "{lines:?}");
    // Without categorized labels, parsed labels join the stream's labels, as in Loki.
    assert!(streams.as_array().unwrap().iter().all(|s| s["stream"]["req_method"] == "GET"), "{streams}");
    let categorized =
        support::request(collector.ui, "GET", &path, &[("X-Loki-Response-Encoding-Flags", "categorize-labels")], b"")
            .await
            .json();
    let value = &categorized["data"]["result"][0]["values"][0];
    assert_eq!(value[2]["parsed"]["route"], "/cart", "{value}");
    assert!(categorized["data"]["result"][0]["stream"].get("route").is_none());

    // Durations and sizes compare as such.
    let path = format!(
        "/loki/api/v1/query_range?query={}&start={start}&end={end}",
        encode(r#"{service_name="worker"} | logfmt | took > 300ms, size >= 1MB"#)
    );
    let result = get(collector.ui, &path).await.json()["data"]["result"].clone();
    let mut jobs: Vec<String> = result
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["values"].as_array().unwrap().iter().map(|v| v[1].as_str().unwrap().to_owned()))
        .collect();
    jobs.sort();
    assert_eq!(jobs.len(), 2, "{result}");
    assert!(jobs[0].contains("took=1.5s") && jobs[1].contains("took=500ms"), "{jobs:?}");

    // A metric query over a line that does not parse is refused, and names the way out.
    let (status, _, text) =
        query(&collector, r#"count_over_time({service_name="api"} | json [1m])"#, end, end, "60").await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("JSONParserErr") && text.contains(r#"| __error__="""#), "{text}");

    // Lines per route, from parsed labels.
    let (_, body, _) = query(
        &collector,
        r#"sum by (route) (count_over_time({service_name="api"} | json | __error__="" [1m]))"#,
        end,
        end,
        "60",
    )
    .await;
    assert_eq!(
        last_values(&body),
        [("route=/cart".to_owned(), "3".to_owned()), ("route=/home".to_owned(), "2".to_owned())]
    );

    // Values of an unwrapped label, per route (the grouping of the range function).
    let per_route = |f: fn(&[f64]) -> f64| {
        let mut out = Vec::new();
        for route in ["/cart", "/home"] {
            let took: Vec<f64> = requests.iter().filter(|r| r.0 == route).map(|r| f64::from(r.2)).collect();
            out.push((format!("route={route}"), f(&took).to_string()));
        }
        out
    };
    type Expected = fn(&[f64]) -> f64;
    let cases: [(&str, Expected); 5] = [
        ("avg_over_time", |v| v.iter().sum::<f64>() / v.len() as f64),
        ("max_over_time", |v| v.iter().copied().fold(f64::MIN, f64::max)),
        ("sum_over_time", |v| v.iter().sum()),
        ("first_over_time", |v| v[0]),
        ("last_over_time", |v| v[v.len() - 1]),
    ];
    for (func, f) in cases {
        let q = format!(r#"{func}({{service_name="api"}} | json | __error__="" | unwrap took_ms [1m]) by (route)"#);
        let (status, body, text) = query(&collector, &q, end, end, "60").await;
        assert_eq!(status, 200, "{q}: {text}");
        assert_eq!(last_values(&body), per_route(f), "{q}");
    }
    // The median of 120, 900 and 80 is 120; of 40 and 300, halfway: 170.
    let q = r#"quantile_over_time(0.5, {service_name="api"} | json | __error__="" | unwrap took_ms [1m]) by (route)"#;
    let (_, body, _) = query(&collector, q, end, end, "60").await;
    assert_eq!(
        last_values(&body),
        [("route=/cart".to_owned(), "120".to_owned()), ("route=/home".to_owned(), "170".to_owned())]
    );

    // Durations unwrap in seconds and sizes in bytes; without a grouping, each series keeps its
    // labels but the unwrapped one.
    let q = r#"sum by (job) (sum_over_time({service_name="worker"} | logfmt | unwrap duration(took) [1m]))"#;
    let (_, body, _) = query(&collector, q, end, end, "60").await;
    assert_eq!(
        last_values(&body),
        [("job=mail".to_owned(), "0.25".to_owned()), ("job=resize".to_owned(), "2".to_owned())]
    );
    let q = r#"max_over_time({service_name="worker"} | logfmt | level_extracted="info" | unwrap bytes(size) [1m]) by (job)"#;
    let (_, body, _) = query(&collector, q, end, end, "60").await;
    assert_eq!(
        last_values(&body),
        [("job=mail".to_owned(), "3000".to_owned()), ("job=resize".to_owned(), "2000000".to_owned())]
    );

    // A value that does not convert stops the query unless the query leaves such lines out.
    let q = r#"sum_over_time({service_name="worker"} | logfmt | unwrap job [1m])"#;
    let (status, _, text) = query(&collector, q, end, end, "60").await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("SampleExtractionErr") && text.contains("`job` is `"), "{text}");
    let q = r#"sum_over_time({service_name="worker"} | logfmt | unwrap job | __error__="" [1m])"#;
    let (status, body, text) = query(&collector, q, end, end, "60").await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(body["data"]["result"], json!([]));

    collector.stop().await;
}

/// Loki skips a line whose unwrapped label is missing or empty (grafana/loki#6713): such a line
/// gives no sample and no `SampleExtractionErr`, so the query answers without `| __error__=""`.
#[tokio::test]
async fn lines_without_the_unwrapped_label_give_no_sample_and_no_error() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let records = vec![
        record(T0 + S, r#"{"route":"/cart","took_ms":120}"#),
        record(T0 + 2 * S, r#"{"route":"/cart"}"#),
        record(T0 + 3 * S, r#"{"route":"/cart","took_ms":""}"#),
        record(T0 + 4 * S, r#"{"route":"/cart","took_ms":null}"#),
        record(T0 + 5 * S, r#"{"route":"/cart","took_ms":30}"#),
        // Not JSON: the parser fails and the label is missing, so the line gives no sample.
        record(T0 + 6 * S, "upstream restarted"),
    ];
    assert_eq!(post_json(collector.otlp, "/v1/logs", &batch("api", records)).await.status, 200);
    let end = T0 + 60 * S;
    for (func, expected) in [("sum_over_time", "150"), ("avg_over_time", "75"), ("min_over_time", "30")] {
        let q = format!(r#"{func}({{service_name="api"}} | json | unwrap took_ms [1m]) by (route)"#);
        let (status, body, text) = query(&collector, &q, end, end, "60").await;
        assert_eq!(status, 200, "{q}: {text}");
        assert_eq!(last_values(&body), [("route=/cart".to_owned(), expected.to_owned())], "{q}");
    }
    // A value that is there but does not convert still stops the query.
    let q = r#"sum_over_time({service_name="api"} | json | unwrap route [1m])"#;
    let (status, _, text) = query(&collector, q, end, end, "60").await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("SampleExtractionErr"), "{text}");
    collector.stop().await;
}

/// Loki sets the `SampleExtractionErr` of a value that does not convert after the stages before
/// `| unwrap` have run, so only a filter after `| unwrap` (Loki's post-filter) leaves such a line
/// out; one before it still leaves out the errors of earlier stages.
#[tokio::test]
async fn only_a_filter_after_unwrap_leaves_out_values_that_do_not_convert() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let records = vec![
        record(T0 + S, r#"{"took":"100"}"#),
        record(T0 + 2 * S, r#"{"took":"250ms"}"#),
        record(T0 + 3 * S, "not json"),
        record(T0 + 4 * S, r#"{"took":"20"}"#),
    ];
    assert_eq!(post_json(collector.otlp, "/v1/logs", &batch("api", records)).await.status, 200);
    let end = T0 + 60 * S;
    // The conversion error is set after `| __error__=""`: the query fails as in Loki.
    let q = r#"sum(sum_over_time({service_name="api"} | json | __error__="" | unwrap took [1m]))"#;
    let (status, _, text) = query(&collector, q, end, end, "60").await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("SampleExtractionErr") && text.contains("`took` is `250ms`"), "{text}");
    assert!(text.contains(r#"| __error__="" after | unwrap"#), "the hint names the place that works: {text}");
    // After `| unwrap` the filter leaves out both the line that did not convert and the one that
    // is not JSON; a filter before it leaves out only the latter.
    for (q, sum) in [
        (r#"sum(sum_over_time({service_name="api"} | json | unwrap took | __error__="" [1m]))"#, "120"),
        (
            r#"sum(sum_over_time({service_name="api"} | json | __error__="" | unwrap took | __error__!="SampleExtractionErr" [1m]))"#,
            "120",
        ),
    ] {
        let (status, body, text) = query(&collector, q, end, end, "60").await;
        assert_eq!(status, 200, "{q}: {text}");
        assert_eq!(last_values(&body), [(String::new(), sum.to_owned())], "{q}");
    }
    // A filter after `| unwrap` that keeps the conversion error keeps the query failing.
    let q = r#"sum(sum_over_time({service_name="api"} | json | unwrap took | __error__!="JSONParserErr" [1m]))"#;
    let (status, _, text) = query(&collector, q, end, end, "60").await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("SampleExtractionErr"), "{text}");
    collector.stop().await;
}

/// Lines of two routes, `/z` first.
async fn two_routes(collector: &Collector) {
    let records = vec![
        record(T0 + S, r#"{"route":"/z","took_ms":5}"#),
        record(T0 + 2 * S, r#"{"route":"/a","took_ms":7}"#),
        record(T0 + 3 * S, r#"{"route":"/z","took_ms":5}"#),
    ];
    assert_eq!(post_json(collector.otlp, "/v1/logs", &batch("api", records)).await.status, 200);
}

/// The series of a matrix come sorted by their labels, as Loki sorts them, whatever order the
/// lines came in.
#[tokio::test]
async fn the_series_of_a_matrix_are_sorted_by_their_labels() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    two_routes(&collector).await;
    let end = T0 + 60 * S;
    let q = r#"count_over_time({service_name="api"} | json | drop took_ms [1m])"#;
    let (status, body, text) = query(&collector, q, end, end, "60").await;
    assert_eq!(status, 200, "{text}");
    // In the answer's order (`matrix` sorts), `/z` came first.
    let routes: Vec<&str> =
        body["data"]["result"].as_array().unwrap().iter().map(|s| s["metric"]["route"].as_str().unwrap()).collect();
    assert_eq!(routes, ["/a", "/z"]);
    collector.stop().await;
}

/// As in Loki, grouping an unwrapped range function `by` the unwrapped label keeps the label.
#[tokio::test]
async fn a_grouping_by_the_unwrapped_label_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    two_routes(&collector).await;
    let end = T0 + 60 * S;
    let q = r#"sum_over_time({service_name="api"} | json | unwrap took_ms [1m]) by (took_ms)"#;
    let (status, body, text) = query(&collector, q, end, end, "60").await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        last_values(&body),
        [("took_ms=5".to_owned(), "10".to_owned()), ("took_ms=7".to_owned(), "7".to_owned())]
    );
    collector.stop().await;
}

/// A label filter after a parser sees the parsed label when the record has none of that name,
/// as in Loki: a `trace_id` taken from the line finds lines whose record has no trace id.
#[tokio::test]
async fn a_label_filter_after_a_parser_matches_a_parsed_trace_id() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let records = vec![
        record(T0 + S, &format!(r#"{{"trace_id":"{trace}","msg":"from the line"}}"#)),
        record(T0 + 2 * S, r#"{"msg":"no trace"}"#),
    ];
    assert_eq!(post_json(collector.otlp, "/v1/logs", &batch("api", records)).await.status, 200);
    let (start, end) = (T0, T0 + 60 * S);
    let q = format!(r#"{{service_name="api"}} | json | trace_id="{trace}""#);
    let path = format!("/loki/api/v1/query_range?query={}&start={start}&end={end}", encode(&q));
    let answer = get(collector.ui, &path).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let result = answer.json()["data"]["result"].clone();
    let lines: Vec<&str> = result
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["values"].as_array().unwrap().iter().map(|v| v[1].as_str().unwrap()))
        .collect();
    assert_eq!(lines.len(), 1, "{result}");
    assert!(lines[0].contains("from the line"), "{lines:?}");
    collector.stop().await;
}
