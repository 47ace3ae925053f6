mod support;

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
