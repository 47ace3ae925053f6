//! `GET /api/logs`: the newest records, narrowed by `service` and `trace_id`, at most `limit`.

use crate::support;

use edgescope_otlp::read::{self, Ids};
use serde_json::json;
use support::{get, post_logs, Collector};

fn bodies(answer: &support::Response) -> Vec<String> {
    assert_eq!(answer.status, 200, "{}", answer.body);
    let data = read::logs(&answer.json(), Ids::Strict).unwrap();
    data.resource_logs
        .iter()
        .flat_map(|r| r.scope_logs.iter().flat_map(|s| s.log_records.iter()))
        .map(|l| match &l.body {
            Some(edgescope_otlp::AnyValue::String(s)) => s.clone(),
            other => panic!("a string body, got {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn service_keeps_one_services_records_and_combines_with_trace_id_and_limit() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path()).await;
    let trace = "0af7651916cd43dd8448eb211c80319c";
    let record = |t: u64, body: &str, trace_id: Option<&str>| {
        let mut r =
            json!({ "timeUnixNano": (1_764_000_000_000_000_000u64 + t).to_string(), "body": { "stringValue": body } });
        if let Some(id) = trace_id {
            r["traceId"] = json!(id);
            r["spanId"] = json!("b7ad6b7169203331");
        }
        r
    };
    post_logs(&c, "a", vec![record(1, "a1", None), record(3, "a3", Some(trace)), record(5, "a5", None)]).await;
    post_logs(&c, "b", vec![record(2, "b2", Some(trace)), record(4, "b4", None)]).await;

    assert_eq!(bodies(&get(c.ui, "/api/logs").await), ["a5", "b4", "a3", "b2", "a1"]);
    assert_eq!(bodies(&get(c.ui, "/api/logs?service=a").await), ["a5", "a3", "a1"]);
    assert_eq!(bodies(&get(c.ui, "/api/logs?service=b&limit=1").await), ["b4"]);
    assert_eq!(bodies(&get(c.ui, &format!("/api/logs?service=b&trace_id={trace}")).await), ["b2"]);
    assert_eq!(bodies(&get(c.ui, "/api/logs?service=nobody").await), Vec::<String>::new());
    assert_eq!(bodies(&get(c.ui, "/api/logs?service=").await).len(), 5, "an empty service is no filter");
    c.stop().await;
}

#[tokio::test]
async fn a_record_whose_trace_id_is_only_an_attribute_of_16_or_32_digits_is_found_by_its_trace() {
    // As a filelog receiver's parsed JSON logs have it; Zipkin and B3 write 64-bit ids in 16.
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path()).await;
    let record = |t: u64, body: &str, trace_id: &str| {
        json!({ "timeUnixNano": (1_764_000_000_000_000_000u64 + t).to_string(), "body": { "stringValue": body },
                "attributes": [{ "key": "trace_id", "value": { "stringValue": trace_id } }] })
    };
    post_logs(
        &c,
        "zipkin-app",
        vec![
            record(1, "short", "a03ee8fff1dcd9b9"),
            record(2, "long", "0000000000000000a03ee8fff1dcd9b9"),
            record(3, "upper", "A03EE8FFF1DCD9B9"),
        ],
    )
    .await;
    assert_eq!(bodies(&get(c.ui, "/api/logs?trace_id=0000000000000000a03ee8fff1dcd9b9").await), ["long", "short"]);
    c.stop().await;
}
