//! `| drop` and `| keep` delete labels as Loki's labels builder does (`Del`): a later filter no
//! longer sees them, the answer's labels and a metric query's series leave them out, and
//! `| keep` keeps only the labels it names (and `__error__`).
use crate::support;

use serde_json::{json, Value};
use support::{encode, get, matrix, post_json, Collector};

const T0: u64 = 1_000_000_000_000_000_000;
const S: u64 = 1_000_000_000;

async fn answer(collector: &Collector, query: &str, step: bool) -> Value {
    let end = T0 + 60 * S;
    let range = if step { format!("start={end}&end={end}&step=60") } else { format!("start={T0}&end={end}") };
    let answer = get(collector.ui, &format!("/loki/api/v1/query_range?query={}&{range}", encode(query))).await;
    assert_eq!(answer.status, 200, "{query}: {}", answer.body);
    answer.json()
}

#[tokio::test]
async fn dropped_and_unkept_labels_are_gone_for_later_filters_and_from_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let record = |t: u64, body: &str, user: &str| {
        json!({
            "timeUnixNano": t.to_string(), "body": { "stringValue": body },
            "attributes": [{ "key": "user", "value": { "stringValue": user } }],
        })
    };
    let body = json!({ "resourceLogs": [{
        "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": "api" } }] },
        "scopeLogs": [{ "logRecords": [record(T0 + S, "route=/a", "ann"), record(T0 + 2 * S, "route=/b", "bob")] }],
    }] })
    .to_string();
    assert_eq!(post_json(collector.otlp, "/v1/logs", &body).await.status, 200);

    // After `| drop user`, `user` is empty for the filters that follow.
    let dropped = answer(&collector, r#"{service_name="api"} | drop user | user="ann""#, false).await;
    assert_eq!(dropped["data"]["result"], json!([]));
    let dropped = answer(&collector, r#"{service_name="api"} | drop user | user="""#, false).await;
    assert_eq!(dropped["data"]["result"].as_array().unwrap().len(), 1, "{dropped}");
    assert_eq!(dropped["data"]["result"][0]["stream"], json!({ "service_name": "api", "level": "unknown" }));
    // With a condition, only the lines whose value satisfies it lose the label.
    let some = answer(&collector, r#"{service_name="api"} | drop user="ann" | user="""#, false).await;
    assert_eq!(some["data"]["result"][0]["values"].as_array().unwrap().len(), 1, "{some}");
    assert_eq!(some["data"]["result"][0]["values"][0][1], "route=/a");

    // `| keep` leaves only what it names, for filters and for the answer.
    let kept = answer(&collector, r#"{service_name="api"} | logfmt | keep route, user="bob" | level="""#, false).await;
    let mut streams: Vec<Value> =
        kept["data"]["result"].as_array().unwrap().iter().map(|s| s["stream"].clone()).collect();
    streams.sort_by_key(|s| s.to_string());
    assert_eq!(streams, [json!({ "route": "/a" }), json!({ "route": "/b", "user": "bob" })]);
    let series = answer(&collector, r#"count_over_time({service_name="api"} | logfmt | keep route [1m])"#, true).await;
    assert_eq!(matrix(&series).into_iter().map(|(labels, _)| labels).collect::<Vec<_>>(), ["route=/a", "route=/b"]);
    collector.stop().await;
}
