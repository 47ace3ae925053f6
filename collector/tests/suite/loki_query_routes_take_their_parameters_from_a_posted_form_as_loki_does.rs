//! Loki registers its query routes for `GET` and `POST` and reads their parameters with Go's
//! `ParseForm`: the URL's query and an `application/x-www-form-urlencoded` body, the body's value
//! first. Clients post long LogQL so that it does not meet URL length limits.

use crate::support;

use serde_json::json;
use support::{encode, get, post_logs, request, Collector};

const RANGE: [(&str, &str); 2] = [("start", "1764000000000000000"), ("end", "1764000010000000000")];

fn form(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&")
}

async fn post_form(c: &Collector, path: &str, pairs: &[(&str, &str)]) -> support::Response {
    let headers = [("content-type", "application/x-www-form-urlencoded")];
    request(c.ui, "POST", path, &headers, form(pairs).as_bytes()).await
}

/// An answer without its measured `execTime`, which differs from run to run.
fn without_exec_time(mut answer: serde_json::Value) -> serde_json::Value {
    if let Some(summary) = answer.pointer_mut("/data/stats/summary").and_then(|s| s.as_object_mut()) {
        summary.remove("execTime");
    }
    answer
}

#[tokio::test]
async fn every_query_route_answers_a_posted_form_as_it_answers_the_same_get() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path()).await;
    let records = |bodies: &[&str]| {
        bodies
            .iter()
            .enumerate()
            .map(|(i, b)| json!({ "timeUnixNano": (1_764_000_000_000_000_000u64 + i as u64).to_string(), "severityNumber": 9, "body": { "stringValue": b } }))
            .collect()
    };
    post_logs(&c, "web", records(&["GET /a 200", "GET /b 500"])).await;
    post_logs(&c, "api", records(&["x=1 y=2"])).await;

    let web = r#"{service_name="web"} |= "500""#;
    let count = r#"sum by (service_name) (count_over_time({service_name=~".+"}[1m]))"#;
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("/loki/api/v1/query_range", vec![("query", web), RANGE[0], RANGE[1]]),
        ("/loki/api/v1/query", vec![("query", count), ("time", "1764000005000000000")]),
        ("/loki/api/v1/labels", RANGE.to_vec()),
        ("/loki/api/v1/label/service_name/values", RANGE.to_vec()),
        ("/loki/api/v1/series", vec![("match[]", r#"{service_name="api"}"#), RANGE[0], RANGE[1]]),
        ("/loki/api/v1/index/stats", vec![("query", r#"{service_name="web"}"#), RANGE[0], RANGE[1]]),
        ("/loki/api/v1/index/volume", vec![("query", r#"{service_name=~".+"}"#), RANGE[0], RANGE[1]]),
        ("/loki/api/v1/index/volume_range", vec![("query", r#"{service_name=~".+"}"#), RANGE[0], RANGE[1]]),
        ("/loki/api/v1/detected_labels", RANGE.to_vec()),
        ("/loki/api/v1/detected_fields", vec![("query", r#"{service_name="api"}"#), RANGE[0], RANGE[1]]),
        ("/loki/api/v1/patterns", vec![("query", r#"{service_name="api"}"#), RANGE[0], RANGE[1]]),
    ];
    for (path, pairs) in &cases {
        let got = get(c.ui, &format!("{path}?{}", form(pairs))).await;
        assert_eq!(got.status, 200, "GET {path}: {}", got.body);
        let posted = post_form(&c, path, pairs).await;
        assert_eq!(posted.status, 200, "POST {path}: {}", posted.body);
        assert_eq!(without_exec_time(posted.json()), without_exec_time(got.json()), "POST {path}");
    }
    // The answers are the data's, not empty ones that happen to agree.
    let lines = post_form(&c, "/loki/api/v1/query_range", &cases[0].1).await.json();
    assert_eq!(lines["data"]["result"][0]["values"][0][1], "GET /b 500", "{lines}");
    let series = post_form(&c, "/loki/api/v1/series", &cases[4].1).await.json();
    assert_eq!(series["data"][0]["service_name"], "api", "{series}");

    // The body's value wins over the URL's; the URL still gives what the body leaves out.
    let path = format!("/loki/api/v1/query_range?query={}&limit=1", encode(r#"{service_name="api"}"#));
    let both = post_form(&c, &path, &[("query", r#"{service_name="web"}"#), RANGE[0], RANGE[1]]).await;
    let result = both.json()["data"]["result"].clone();
    assert_eq!(result[0]["stream"]["service_name"], "web", "{result}");
    assert_eq!(result[0]["values"].as_array().unwrap().len(), 1, "limit from the URL: {result}");

    // A POST without a form body reads the URL, as Loki's ParseForm does.
    let bare = request(c.ui, "POST", &format!("/loki/api/v1/labels?{}", form(&RANGE)), &[], b"").await;
    assert_eq!(bare.status, 200, "{}", bare.body);
    assert_eq!(bare.json()["data"], json!(["level", "service_name"]));
    // And a posted query Loki could not read gets the same 400 as a GET.
    let bad = post_form(&c, "/loki/api/v1/query_range", &[("query", "{")]).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("parse error"), "{}", bad.body);
    c.stop().await;
}
