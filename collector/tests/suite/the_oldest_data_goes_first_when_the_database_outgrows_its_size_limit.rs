use crate::support;

use std::time::Duration;

use edgescope_collector::Settings;
use support::{get, post_json, Collector};

fn trace_id(i: u32) -> String {
    format!("{i:032x}")
}

#[tokio::test]
async fn over_the_limit_the_oldest_traces_are_deleted_until_the_data_fits() {
    let dir = tempfile::tempdir().unwrap();
    let limit: u64 = 200 * 1024;
    let settings = Settings {
        data_dir: dir.path().to_owned(),
        max_db_bytes: Some(limit),
        retention_interval: Duration::from_millis(50),
        ..Settings::default()
    };
    let collector = Collector::start_with(settings).await;
    let pad = "x".repeat(8 * 1024);
    let base: u64 = 1_700_000_000_000_000_000;
    // 100 traces of about 8 KiB each, one second apart, oldest first: about 4 times the limit.
    for i in 1..=100u32 {
        let at = base + u64::from(i) * 1_000_000_000;
        let body = format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"{}","spanId":"0102030405060708",
                "startTimeUnixNano":"{at}","endTimeUnixNano":"{at}",
                "attributes":[{{"key":"pad","value":{{"stringValue":"{pad}"}}}}]}}]}}]}}]}}"#,
            trace_id(i)
        );
        assert_eq!(post_json(collector.otlp, "/v1/traces", &body).await.status, 200);
    }

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let listed = loop {
        let listed = get(collector.ui, "/api/traces?limit=1000").await.json()["traces"].as_array().unwrap().len();
        let db = edgescope_collector::store::Store::open(&dir.path().join("edgescope.db")).unwrap();
        if db.used_bytes().unwrap() <= limit {
            break listed;
        }
        assert!(tokio::time::Instant::now() < deadline, "still {} bytes, {listed} traces", db.used_bytes().unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(listed < 50 && listed > 0, "{listed} traces left");
    assert_eq!(get(collector.ui, &format!("/api/v3/traces/{}", trace_id(100))).await.status, 200, "the newest stays");
    assert_eq!(get(collector.ui, &format!("/api/v3/traces/{}", trace_id(1))).await.status, 404, "the oldest goes");
    let kept: Vec<u32> = {
        let traces = get(collector.ui, "/api/traces?limit=1000").await.json();
        let mut ids: Vec<u32> = traces["traces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| u32::from_str_radix(t["traceId"].as_str().unwrap(), 16).unwrap())
            .collect();
        ids.sort();
        ids
    };
    let first = kept[0];
    assert_eq!(kept, (first..=100).collect::<Vec<_>>(), "what is left are the newest, without gaps");
    collector.stop().await;
}

/// Minute `i` of the data: one trace of 5 spans (id `i`) and 40 log records of it whose bodies
/// are words the full-text index has not seen before, so that each minute adds to the index.
async fn store_minute(collector: &support::Collector, i: u32) {
    let at = 1_700_000_000_000_000_000u64 + u64::from(i) * 60_000_000_000;
    let spans: Vec<serde_json::Value> = (1..=5u64)
        .map(|s| {
            serde_json::json!({ "traceId": trace_id(i), "spanId": format!("{s:016x}"), "name": "work",
                "startTimeUnixNano": (at + s).to_string(), "endTimeUnixNano": (at + s + 1).to_string(),
                "attributes": [{ "key": "pad", "value": { "stringValue": "s".repeat(500) } }] })
        })
        .collect();
    let body = serde_json::json!({ "resourceSpans": [{ "scopeSpans": [{ "spans": spans }] }] }).to_string();
    assert_eq!(post_json(collector.otlp, "/v1/traces", &body).await.status, 200);
    let records: Vec<serde_json::Value> = (0..40u64)
        .map(|r| {
            let words: Vec<String> = (0..30).map(|w| format!("m{i}r{r}w{w}")).collect();
            serde_json::json!({ "timeUnixNano": (at + r).to_string(), "traceId": trace_id(i),
                "body": { "stringValue": words.join(" ") } })
        })
        .collect();
    support::post_logs(collector, "web", records).await;
}

/// Per minute from 1 to `minutes`: whether its trace is stored and how many of its log records.
fn kept(dir: &std::path::Path, minutes: u32) -> Vec<(u32, bool, usize)> {
    let store = edgescope_collector::store::Store::open(&dir.join("edgescope.db")).unwrap();
    (1..=minutes)
        .map(|i| {
            let id = support::trace_id(&trace_id(i));
            let query = edgescope_collector::store::LogQuery { trace_id: Some(id), service: None, limit: 1000 };
            let logs: usize = store
                .logs(&query)
                .unwrap()
                .resource_logs
                .iter()
                .flat_map(|r| &r.scope_logs)
                .map(|s| s.log_records.len())
                .sum();
            (i, store.trace(id).unwrap().is_some(), logs)
        })
        .collect()
}

/// Waits until the data fits in `limit` and returns which minutes are kept whole (trace and 40
/// records), checking that they are the newest, without gaps; only the minute before them may
/// be partly deleted (its trace starts after some of its records), the older ones are gone.
async fn kept_once_it_fits(dir: &std::path::Path, limit: u64, minutes: u32) -> Vec<u32> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let used = edgescope_collector::store::Store::open(&dir.join("edgescope.db")).unwrap().used_bytes().unwrap();
        if used <= limit {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "still {used} bytes over {limit}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A step may be between its deletion of traces and of records: let the run finish.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let minutes = kept(dir, minutes);
    let whole: Vec<u32> = minutes.iter().filter(|(_, trace, logs)| *trace && *logs == 40).map(|m| m.0).collect();
    let first = *whole.first().expect("the newest minute is kept");
    assert_eq!(whole, (first..=minutes.len() as u32).collect::<Vec<_>>(), "the newest are kept, without gaps");
    let older = &minutes[..first as usize - 1];
    let partly = older.iter().filter(|(_, trace, logs)| *trace || *logs > 0).map(|m| m.0).collect::<Vec<_>>();
    assert!(partly.is_empty() || partly == [first - 1], "older minutes left: {minutes:?}");
    whole
}

#[tokio::test]
async fn with_indexed_log_bodies_the_newest_data_that_fits_stays_also_after_a_restart_with_a_lower_limit() {
    let dir = tempfile::tempdir().unwrap();
    let settings = |limit: Option<u64>| Settings {
        data_dir: dir.path().to_owned(),
        max_db_bytes: limit,
        retention_interval: Duration::from_millis(50),
        ..Settings::default()
    };
    let collector = Collector::start_with(settings(None)).await;
    for i in 1..=40 {
        store_minute(&collector, i).await;
    }
    collector.stop().await;
    let full = edgescope_collector::store::Store::open(&dir.path().join("edgescope.db")).unwrap().used_bytes().unwrap();

    // A third of the data's size: about a third of the minutes fit (the schema takes a little).
    let limit = full / 3;
    let collector = Collector::start_with(settings(Some(limit))).await;
    let kept = kept_once_it_fits(dir.path(), limit, 40).await;
    assert!((8..=14).contains(&kept.len()), "{} of 40 minutes kept within a third of their size", kept.len());

    // A fresh export is stored and stays through the next runs; the oldest make room for it.
    store_minute(&collector, 41).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = kept_once_it_fits(dir.path(), limit, 41).await;
    assert!(after.contains(&41) && after.len() + 1 >= kept.len(), "{kept:?} then {after:?}");
    collector.stop().await;

    // Restarted with half that limit, it keeps the newest half.
    let collector = Collector::start_with(settings(Some(limit / 2))).await;
    let halved = kept_once_it_fits(dir.path(), limit / 2, 41).await;
    assert!(halved.len() + 2 >= after.len() / 2 && halved.len() < after.len(), "{after:?} then {halved:?}");
    collector.stop().await;
}
