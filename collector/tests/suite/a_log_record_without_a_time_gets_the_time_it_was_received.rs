//! A log record may carry neither `timeUnixNano` nor `observedTimeUnixNano` (both are optional in
//! OTLP). Loki's OTLP ingestion then takes the current time; stored at 0 (1970) the record would
//! be outside every query window and the first thing retention removes. A retry of such a record
//! (within 15 minutes) is still recognised as one.

use crate::support;

use support::{encode, get, post_json, Collector};

#[tokio::test]
async fn a_record_without_a_time_is_found_at_the_time_it_was_received() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path()).await;
    let now = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    let before = now();
    let body = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"clockless"}}]},
        "scopeLogs":[{"logRecords":[{"body":{"stringValue":"no time at all"}},
                                    {"timeUnixNano":"1764000000000000000","body":{"stringValue":"timed"}}]}]}]}"#;
    assert_eq!(post_json(c.otlp, "/v1/logs", body).await.status, 200);
    let after = now();

    // Loki's default window (the last hour) finds it, at the time it arrived.
    let query = encode("{service_name=\"clockless\"}");
    let answer = get(c.ui, &format!("/loki/api/v1/query_range?query={query}")).await.json();
    let values = answer["data"]["result"][0]["values"].as_array().expect("one stream").clone();
    assert_eq!(values.len(), 1, "{answer}");
    assert_eq!(values[0][1], "no time at all");
    let at: u64 = values[0][0].as_str().unwrap().parse().unwrap();
    assert!((before..=after).contains(&at), "{before} <= {at} <= {after}");

    // The stored record says it as its observed time; its own time stays unset.
    let logs = get(c.ui, "/api/logs").await.json();
    let records: Vec<_> = logs["result"]["resourceLogs"][0]["scopeLogs"][0]["logRecords"].as_array().unwrap().clone();
    let clockless = records.iter().find(|r| r["body"]["stringValue"] == "no time at all").expect("stored");
    assert_eq!(clockless["observedTimeUnixNano"], at.to_string(), "{clockless}");
    assert!(clockless.get("timeUnixNano").is_none_or(|t| t == "0"), "{clockless}");
    let timed = records.iter().find(|r| r["body"]["stringValue"] == "timed").expect("stored");
    assert!(timed.get("observedTimeUnixNano").is_none_or(|t| t == "0"), "a record with a time keeps it alone: {timed}");

    // The same request sent again (an exporter's retry) adds nothing, though the time it was
    // given is not in it.
    assert_eq!(post_json(c.otlp, "/v1/logs", body).await.status, 200);
    let answer = get(c.ui, &format!("/loki/api/v1/query_range?query={query}")).await.json();
    assert_eq!(answer["data"]["result"][0]["values"].as_array().map(Vec::len), Some(1), "{answer}");
    c.stop().await;
}
