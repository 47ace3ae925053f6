use crate::support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use edgescope_collector::Settings;
use support::{get, post_json, Collector};

const OLD: &str = "0000000000000000000000000000000a";
const NEW: &str = "0000000000000000000000000000000b";

fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64
}

/// One trace and one log record of `service`, at `at` (Unix nanoseconds).
async fn send(collector: &Collector, trace_id: &str, service: &str, at: u64) {
    let resource = format!(r#"{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{service}"}}}}]}}"#);
    let traces = format!(
        r#"{{"resourceSpans":[{{"resource":{resource},"scopeSpans":[{{"spans":[{{"traceId":"{trace_id}",
            "spanId":"0102030405060708","name":"op","startTimeUnixNano":"{at}","endTimeUnixNano":"{}"}}]}}]}}]}}"#,
        at + 1000
    );
    assert_eq!(post_json(collector.otlp, "/v1/traces", &traces).await.status, 200);
    let logs = format!(
        r#"{{"resourceLogs":[{{"resource":{resource},"scopeLogs":[{{"logRecords":[{{"timeUnixNano":"{at}",
            "body":{{"stringValue":"{service}"}}}}]}}]}}]}}"#
    );
    assert_eq!(post_json(collector.otlp, "/v1/logs", &logs).await.status, 200);
}

async fn trace_ids(collector: &Collector) -> Vec<String> {
    let traces = get(collector.ui, "/api/traces").await.json();
    traces["traces"].as_array().unwrap().iter().map(|t| t["traceId"].as_str().unwrap().to_owned()).collect()
}

async fn log_bodies(collector: &Collector) -> Vec<String> {
    let logs =
        edgescope_otlp::read::logs(&get(collector.ui, "/api/logs").await.json(), edgescope_otlp::read::Ids::Strict)
            .unwrap();
    logs.records().map(|(_, _, r)| r.body.as_ref().unwrap().as_str().unwrap().to_owned()).collect()
}

/// Polls until only the recent trace is listed, for at most 10 s.
async fn wait_for_only_the_new_trace(collector: &Collector) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while trace_ids(collector).await != [NEW] {
        assert!(tokio::time::Instant::now() < deadline, "still listed: {:?}", trace_ids(collector).await);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_periodic_run_deletes_traces_and_logs_older_than_the_retention_and_keeps_recent_ones() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        data_dir: dir.path().to_owned(),
        retention: Some(Duration::from_secs(3600)),
        retention_interval: Duration::from_millis(50),
        ..Settings::default()
    };
    let collector = Collector::start_with(settings).await;
    send(&collector, OLD, "old", now_ns() - 2 * 3600 * 1_000_000_000).await;
    send(&collector, NEW, "new", now_ns()).await;

    wait_for_only_the_new_trace(&collector).await;
    assert_eq!(get(collector.ui, &format!("/api/v3/traces/{OLD}")).await.status, 404);
    assert_eq!(get(collector.ui, &format!("/api/v3/traces/{NEW}")).await.status, 200);
    assert_eq!(log_bodies(&collector).await, ["new"]);
    assert_eq!(get(collector.ui, "/api/v3/services").await.json()["services"], serde_json::json!(["new"]));
    collector.stop().await;
}

#[tokio::test]
async fn old_data_in_an_existing_database_is_deleted_as_soon_as_the_collector_starts() {
    let dir = tempfile::tempdir().unwrap();
    let first = Collector::start(dir.path()).await;
    send(&first, OLD, "old", now_ns() - 2 * 3600 * 1_000_000_000).await;
    send(&first, NEW, "new", now_ns()).await;
    // Without retention the old trace stays.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(trace_ids(&first).await.len(), 2);
    first.stop().await;

    // An interval far longer than the test: only the run at start can delete.
    let settings = Settings {
        data_dir: dir.path().to_owned(),
        retention: Some(Duration::from_secs(3600)),
        retention_interval: Duration::from_secs(3600),
        ..Settings::default()
    };
    let second = Collector::start_with(settings).await;
    wait_for_only_the_new_trace(&second).await;
    assert_eq!(log_bodies(&second).await, ["new"]);
    second.stop().await;
}

#[tokio::test]
async fn data_dated_past_the_retention_ahead_of_the_clock_is_refused_naming_the_senders_clock() {
    // Age retention deletes by time: a sender whose clock ran a year ahead would fill the store
    // for that year. Within the period it is kept (and ages out within twice the period).
    let dir = tempfile::tempdir().unwrap();
    let settings =
        Settings { data_dir: dir.path().to_owned(), retention: Some(Duration::from_secs(3600)), ..Settings::default() };
    let collector = Collector::start_with(settings).await;
    let hour = 3_600_000_000_000u64;
    let at =
        [("a", now_ns()), ("b", now_ns() + hour / 2), ("c", now_ns() + 3 * hour), ("d", now_ns() + 400 * 24 * hour)];
    let spans: Vec<String> = at
        .iter()
        .enumerate()
        .map(|(i, (name, t))| {
            format!(
                r#"{{"traceId":"{:032x}","spanId":"0102030405060708","name":"{name}","startTimeUnixNano":"{t}","endTimeUnixNano":"{t}"}}"#,
                i + 1
            )
        })
        .collect();
    let traces = format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{}]}}]}}]}}"#, spans.join(","));
    let answer = post_json(collector.otlp, "/v1/traces", &traces).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let partial = &answer.json()["partialSuccess"];
    assert_eq!(partial["rejectedSpans"], "2", "{}", answer.body);
    let message = partial["errorMessage"].as_str().unwrap();
    assert!(
        message.contains(r#"span "c" of trace 00000000000000000000000000000003 is dated 3 hours ahead of this collector's clock, past its retention period (1 hour): check the sender's clock"#),
        "{message}"
    );
    assert_eq!(trace_ids(&collector).await.len(), 2);

    let records: Vec<String> = at
        .iter()
        .map(|(name, t)| format!(r#"{{"timeUnixNano":"{t}","body":{{"stringValue":"{name}"}}}}"#))
        .chain([format!(r#"{{"observedTimeUnixNano":"{}","body":{{"stringValue":"e"}}}}"#, now_ns() + 400 * 24 * hour)])
        .collect();
    let logs = format!(r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{}]}}]}}]}}"#, records.join(","));
    let answer = post_json(collector.otlp, "/v1/logs", &logs).await;
    let partial = &answer.json()["partialSuccess"];
    assert_eq!(partial["rejectedLogRecords"], "3", "{}", answer.body);
    assert!(partial["errorMessage"].as_str().unwrap().contains("a log record is dated"), "{}", answer.body);
    let mut bodies = log_bodies(&collector).await;
    bodies.sort();
    assert_eq!(bodies, ["a", "b"]);

    // All of an export refused: 400, as for any export of which nothing reads.
    let far = format!(
        r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"{:032x}","spanId":"0102030405060708","name":"far","startTimeUnixNano":"{t}","endTimeUnixNano":"{t}"}}]}}]}}]}}"#,
        9,
        t = now_ns() + 400 * 24 * hour
    );
    let answer = post_json(collector.otlp, "/v1/traces", &far).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(answer.body.contains("400 days ahead"), "{}", answer.body);
}

#[tokio::test]
async fn without_age_retention_data_dated_far_ahead_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start_with(Settings { data_dir: dir.path().to_owned(), ..Settings::default() }).await;
    send(&collector, NEW, "future", now_ns() + 400 * 24 * 3_600_000_000_000).await;
    assert_eq!(trace_ids(&collector).await, [NEW]);
    assert_eq!(log_bodies(&collector).await, ["future"]);
}
