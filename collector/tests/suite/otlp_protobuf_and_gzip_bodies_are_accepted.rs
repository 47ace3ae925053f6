use crate::support;

use std::io::Write;

use edgescope_collector::Settings;
use edgescope_otlp::proto;
use edgescope_otlp::read::{self, Ids};
use support::{fixture, get, request, Collector};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

const PROTOBUF: (&str, &str) = ("Content-Type", "application/x-protobuf");
const JSON: (&str, &str) = ("Content-Type", "application/json");
const GZIP: (&str, &str) = ("Content-Encoding", "gzip");

/// `google.rpc.Status` fields 1 (code) and 2 (message), read by hand.
fn rpc_status(bytes: &[u8]) -> (u8, String) {
    assert_eq!(bytes[0], 0x08, "field 1, varint");
    assert_eq!(bytes[2], 0x12, "field 2, length-delimited");
    (bytes[1], String::from_utf8(bytes[4..4 + bytes[3] as usize].to_vec()).unwrap())
}

#[tokio::test]
async fn protobuf_and_gzip_requests_are_stored_and_answered_in_their_own_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let traces = read::traces_from_str(&fixture("otel-rust-it-traces.json"), Ids::Strict).unwrap();
    let logs = read::logs_from_str(&fixture("otlp-proto-logs.json"), Ids::Strict).unwrap();

    let answer = request(collector.otlp, "POST", "/v1/traces", &[PROTOBUF], &proto::encode_traces(&traces)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("content-type"), Some("application/x-protobuf"));
    assert!(answer.bytes.is_empty(), "an empty ExportTraceServiceResponse");

    let answer =
        request(collector.otlp, "POST", "/v1/logs", &[PROTOBUF, GZIP], &gzip(&proto::encode_logs(&logs))).await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    let other = read::traces_from_str(&fixture("jaeger-query-otlp2jaeger-in.json"), Ids::Strict).unwrap();
    let json_body = edgescope_otlp::json::write_traces(&other);
    let answer = request(collector.otlp, "POST", "/v1/traces", &[JSON, GZIP], &gzip(json_body.as_bytes())).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json(), serde_json::json!({}));

    for data in [&traces, &other] {
        let id = data.spans().next().unwrap().2.trace_id;
        let back = read::traces(&get(collector.ui, &format!("/api/v3/traces/{id}")).await.json(), Ids::Strict).unwrap();
        let mut want: Vec<_> = data.spans().map(|(_, _, s)| s.clone()).filter(|s| s.trace_id == id).collect();
        let mut got: Vec<_> = back.spans().map(|(_, _, s)| s.clone()).collect();
        want.sort_by_key(|s| s.span_id);
        got.sort_by_key(|s| s.span_id);
        // The same span twice (the Jaeger fixture holds one) is stored once.
        want.dedup();
        assert_eq!(got, want);
    }
    let stored_logs = read::logs(&get(collector.ui, "/api/logs").await.json(), Ids::Strict).unwrap();
    assert_eq!(stored_logs.records().count(), 1);
    collector.stop().await;
}

#[tokio::test]
async fn bad_protobuf_and_bad_gzip_get_a_status_in_the_request_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings { data_dir: dir.path().to_owned(), max_body_bytes: 64 * 1024, ..Settings::default() };
    let collector = Collector::start_with(settings).await;

    let truncated =
        proto::encode_traces(&read::traces_from_str(&fixture("otlp-proto-trace.json"), Ids::Strict).unwrap());
    let answer = request(collector.otlp, "POST", "/v1/traces", &[PROTOBUF], &truncated[..truncated.len() - 3]).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.header("content-type"), Some("application/x-protobuf"));
    let (code, message) = rpc_status(&answer.bytes);
    assert_eq!(code, 3, "INVALID_ARGUMENT");
    assert!(message.starts_with("not an OTLP trace request"), "{message}");

    let answer = request(collector.otlp, "POST", "/v1/traces", &[JSON, GZIP], b"not gzip at all").await;
    assert_eq!(answer.status, 400);
    assert!(answer.json()["message"].as_str().unwrap().contains("gzip"));

    // 1 MiB of zeros compresses to about 1 KiB: the inflated size is what counts.
    let bomb = gzip(&vec![0u8; 1 << 20]);
    assert!(bomb.len() < 64 * 1024);
    let answer = request(collector.otlp, "POST", "/v1/logs", &[PROTOBUF, GZIP], &bomb).await;
    assert_eq!(answer.status, 413);

    let answer = request(collector.otlp, "POST", "/v1/logs", &[PROTOBUF, ("Content-Encoding", "br")], b"x").await;
    assert_eq!(answer.status, 415);
    assert_eq!(get(collector.ui, "/api/traces").await.json()["traces"], serde_json::json!([]), "nothing stored");
    collector.stop().await;
}
