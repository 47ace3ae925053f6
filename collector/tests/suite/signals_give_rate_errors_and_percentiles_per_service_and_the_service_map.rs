use crate::support;

use serde_json::{json, Value};
use support::{get, post_json, Collector};

const T0: i64 = 1_900_000_000_000_000_000;

/// A two-service trace: `web` CLIENT span `GET` → `api` SERVER span `GET /items` lasting
/// `duration` ns, with an error when asked.
fn request(n: u8, start: i64, duration: i64, error: bool) -> Value {
    let trace = format!("{n:02x}").repeat(16);
    let status = if error { json!({ "code": 2 }) } else { json!({}) };
    let span = |id: &str, parent: Option<&str>, name: &str, kind: i32, d: i64, status: Value| {
        let mut s = json!({ "traceId": trace, "spanId": id, "name": name, "kind": kind,
            "startTimeUnixNano": start.to_string(), "endTimeUnixNano": (start + d).to_string(), "status": status });
        if let Some(p) = parent {
            s["parentSpanId"] = json!(p);
        }
        s
    };
    let resource = |service: &str, spans: Vec<Value>| {
        json!({
            "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": service } }] },
            "scopeSpans": [{ "spans": spans }],
        })
    };
    json!({ "resourceSpans": [
        resource("web", vec![span("0000000000000001", None, "GET", 3, duration + 5, json!({}))]),
        resource("api", vec![span("0000000000000002", Some("0000000000000001"), "GET /items", 2, duration, status)]),
    ] })
}

fn nearest_rank(mut v: Vec<i64>, p: usize) -> i64 {
    v.sort();
    v[(p * v.len()).div_ceil(100) - 1]
}

#[tokio::test]
async fn signals_match_values_computed_from_the_same_spans() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    // 40 requests in the first minute, 20 in the second; every 10th fails.
    let mut sent = Vec::new();
    for i in 0..60u8 {
        let start =
            T0 + if i < 40 { i64::from(i) * 1_000_000_000 } else { 60_000_000_000 + i64::from(i - 40) * 1_000_000_000 };
        let duration = 1_000_000 * (i64::from(i) % 17 + 1);
        let error = i % 10 == 0;
        sent.push((start, duration, error));
        let answer = post_json(collector.otlp, "/v1/traces", &request(i + 1, start, duration, error).to_string()).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let path = format!("/api/signals?start={T0}&end={}&step=60000000000", T0 + 120_000_000_000);
    let answer = get(collector.ui, &path).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    let api = body["services"].as_array().unwrap().iter().find(|s| s["service"] == "api").unwrap();
    for (bucket, range) in [(0usize, 0..40usize), (1, 40..60)] {
        let durations: Vec<i64> = sent[range.clone()].iter().map(|s| s.1).collect();
        let errors = sent[range].iter().filter(|s| s.2).count();
        let b = &api["buckets"][bucket];
        assert_eq!(b["count"], durations.len(), "bucket {bucket}");
        assert_eq!(b["errors"], errors, "bucket {bucket}");
        for p in [50, 95, 99] {
            assert_eq!(b[format!("p{p}")], nearest_rank(durations.clone(), p), "bucket {bucket} p{p}");
        }
    }
    assert_eq!(api["operations"][0]["operation"], "GET /items");
    let web = body["services"].as_array().unwrap().iter().find(|s| s["service"] == "web").unwrap();
    assert_eq!(web["total"]["count"], 60, "the root CLIENT span is web's entry");
    assert_eq!(body["edges"], json!([{ "parent": "web", "child": "api", "callCount": 60, "errorCount": 6 }]));

    let examples =
        get(collector.ui, &format!("/api/signals/examples?service=api&start={T0}&end={}&limit=3", T0 + 60_000_000_000))
            .await;
    let list = examples.json()["examples"].as_array().unwrap().clone();
    assert_eq!(list.len(), 3);
    assert!(list.iter().all(|e| e["error"] == true), "errors first: {list:?}");
    let slowest_error = sent[..40].iter().filter(|s| s.2).map(|s| s.1).max().unwrap();
    assert_eq!(list[0]["duration"], slowest_error);

    let deps =
        get(collector.ui, &format!("/api/dependencies?endTs={}&lookback=600000", (T0 + 120_000_000_000) / 1_000_000))
            .await;
    assert_eq!(deps.json()["data"][0]["callCount"], 60);
    let bad = get(collector.ui, "/api/signals?start=10&end=5").await;
    assert_eq!(bad.status, 400);
    // A window wider than 64 bits of nanoseconds hold, with or without a step: a 400, not
    // 10^19 buckets (its width wrapped around and passed the bucket check).
    for path in [
        "/api/signals?start=-5000000000000000000&end=5000000000000000000&step=1",
        "/api/signals?start=-5000000000000000000&end=5000000000000000000",
        "/api/signals?start=-9223372036854775808&end=9223372036854775807&step=1000000000",
    ] {
        let wide = get(collector.ui, path).await;
        assert_eq!(wide.status, 400, "{path}");
        assert!(wide.body.contains("start"), "{path}: {}", wide.body);
    }
    // Signals still answer after those.
    assert_eq!(get(collector.ui, &path).await.status, 200);
    collector.stop().await;
}

#[tokio::test]
async fn an_answer_of_more_than_a_million_buckets_is_refused_with_what_to_narrow() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    // 150 operations of service `api` (and the service itself, and `web`'s): 153 series.
    for i in 0..150u8 {
        let mut body = request(i + 1, T0 + i64::from(i) * 1_000_000, 1_000_000, false);
        body["resourceSpans"][1]["scopeSpans"][0]["spans"][0]["name"] = json!(format!("GET /items/{i}"));
        let answer = post_json(collector.otlp, "/v1/traces", &body.to_string()).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let hour = 3_600_000_000_000i64;
    // 10,000 buckets of the hour: 1,530,000 in all.
    let answer = get(collector.ui, &format!("/api/signals?start={T0}&end={}&step={}", T0 + hour, hour / 10_000)).await;
    assert_eq!(answer.status, 400, "{}", &answer.body[..answer.body.len().min(200)]);
    let message = answer.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("1530000 buckets") && message.contains("choose a larger step"), "{message}");
    // 5,000 of them: 765,000, answered, every series with every bucket.
    let answer = get(collector.ui, &format!("/api/signals?start={T0}&end={}&step={}", T0 + hour, hour / 5_000)).await;
    assert_eq!(answer.status, 200);
    let body = answer.json();
    let api = body["services"].as_array().unwrap().iter().find(|s| s["service"] == "api").unwrap();
    assert_eq!(api["operations"].as_array().unwrap().len(), 150);
    assert_eq!(api["operations"][0]["buckets"].as_array().unwrap().len(), 5_000);
    collector.stop().await;
}
