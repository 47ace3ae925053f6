use crate::support;

use edgescope_otlp::proto;
use edgescope_otlp::read::{self, Ids};
use serde_json::json;
use support::{get, post_json, request, Collector};

const TRACE: &str = "5b8efff798038103d269b633813fc60c";

#[tokio::test]
async fn json_spans_that_read_are_stored_and_the_rejected_ones_are_counted_with_the_first_path() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let body = format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"web"}}}}]}},
            "scopeSpans":[{{"spans":[
                {{"traceId":"{TRACE}","spanId":"eee19b7ec3c1b174","name":"kept 1"}},
                {{"traceId":"not hex","spanId":"eee19b7ec3c1b175","name":"bad trace id"}},
                {{"traceId":"{TRACE}","name":"no span id"}},
                {{"traceId":"{TRACE}","spanId":"eee19b7ec3c1b176","name":"kept 2"}}]}}]}}]}}"#
    );
    let answer = post_json(collector.otlp, "/v1/traces", &body).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let partial = &answer.json()["partialSuccess"];
    assert_eq!(partial["rejectedSpans"], json!("2"), "an int64 is a string in OTLP/JSON: {}", answer.body);
    let message = partial["errorMessage"].as_str().unwrap();
    assert!(message.starts_with("2 of 4 spans rejected"), "{message}");
    assert!(message.contains("resourceSpans[0].scopeSpans[0].spans[1].traceId"), "{message}");
    assert!(message.contains("not hex"), "{message}");

    let stored =
        read::traces(&get(collector.ui, &format!("/api/v3/traces/{TRACE}")).await.json(), Ids::Strict).unwrap();
    let mut names: Vec<&str> = stored.spans().map(|(_, _, s)| s.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["kept 1", "kept 2"]);
    collector.stop().await;
}

#[tokio::test]
async fn json_log_records_that_read_are_stored_and_the_rejected_ones_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let body = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[
        {"body":{"stringValue":"kept"}},
        {"body":{"stringValue":"bad span id"},"spanId":"123"}]}]}]}"#;
    let answer = post_json(collector.otlp, "/v1/logs", body).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let partial = &answer.json()["partialSuccess"];
    assert_eq!(partial["rejectedLogRecords"], json!("1"), "{}", answer.body);
    assert!(partial.get("rejectedSpans").is_none());
    let message = partial["errorMessage"].as_str().unwrap();
    assert!(message.contains("resourceLogs[0].scopeLogs[0].logRecords[1].spanId"), "{message}");

    let logs = read::logs(&get(collector.ui, "/api/logs").await.json(), Ids::Strict).unwrap();
    let bodies: Vec<_> = logs.records().map(|(_, _, r)| r.body.clone().unwrap()).collect();
    assert_eq!(bodies, [edgescope_otlp::AnyValue::from("kept")]);
    collector.stop().await;
}

#[tokio::test]
async fn a_lone_surrogate_a_javascript_exporter_wrote_is_stored_as_a_replacement_character() {
    // OpenTelemetry JS's length limit cuts an emoji in half, and `JSON.stringify` writes the
    // half as `\ud83c`: one such string failed the whole export with 400.
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let body = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[
        {"body":{"stringValue":"party \ud83c"}},
        {"body":{"stringValue":"whole \ud83c\udf89"}}]}]}]}"#;
    let answer = post_json(collector.otlp, "/v1/logs", body).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body, "{}");
    let logs = read::logs(&get(collector.ui, "/api/logs").await.json(), Ids::Strict).unwrap();
    let mut bodies: Vec<_> = logs.records().map(|(_, _, r)| r.body.clone().unwrap()).collect();
    bodies.sort_by_key(|b| format!("{b:?}"));
    assert_eq!(bodies, [edgescope_otlp::AnyValue::from("party \u{FFFD}"), edgescope_otlp::AnyValue::from("whole 🎉")]);
    collector.stop().await;
}

/// A protobuf field with a length-delimited payload (lengths below 128 bytes).
fn field(number: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 128);
    let mut out = vec![(number << 3) | 2, payload.len() as u8];
    out.extend_from_slice(payload);
    out
}

#[tokio::test]
async fn protobuf_spans_that_decode_are_stored_and_the_answer_is_a_protobuf_partial_success() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let trace_id = edgescope_otlp::TraceId::from_hex(TRACE).unwrap().0;
    let good = [field(1, &trace_id), field(2, &[7; 8]), field(5, b"kept")].concat();
    let short_id = [field(1, &trace_id[..4]), field(2, &[8; 8]), field(5, b"short trace id")].concat();
    let scope_spans = [field(2, &good), field(2, &short_id)].concat();
    let body = field(1, &field(2, &scope_spans));

    let answer =
        request(collector.otlp, "POST", "/v1/traces", &[("Content-Type", "application/x-protobuf")], &body).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("content-type"), Some("application/x-protobuf"));
    let (rejected, message) = proto::decode_partial_success(&answer.bytes).unwrap();
    assert_eq!(rejected, 1);
    assert!(message.contains("resourceSpans[0].scopeSpans[0].spans[1]"), "{message}");
    assert!(message.contains("must be 16 bytes"), "{message}");

    let stored =
        read::traces(&get(collector.ui, &format!("/api/v3/traces/{TRACE}")).await.json(), Ids::Strict).unwrap();
    assert_eq!(stored.spans().map(|(_, _, s)| s.name.as_str()).collect::<Vec<_>>(), ["kept"]);
    collector.stop().await;
}

/// A span whose attribute nests deeper than the protobuf decoder reads (the store keeps spans
/// as protobuf) is rejected at the door: taken, it would have made every read of its trace, and
/// every trace search whose window held it, fail for as long as it was kept.
#[tokio::test]
async fn a_json_span_nesting_values_deeper_than_the_store_reads_is_rejected_and_its_trace_stays_readable() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let nested = |levels: usize| {
        (0..levels)
            .fold(r#"{"stringValue":"x"}"#.to_owned(), |inner, _| format!(r#"{{"arrayValue":{{"values":[{inner}]}}}}"#))
    };
    // Started now, so that a search of the last hour holds them.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let body = format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"web"}}}}]}},
            "scopeSpans":[{{"spans":[
                {{"traceId":"{TRACE}","spanId":"eee19b7ec3c1b174","name":"deep enough","startTimeUnixNano":"{now}","endTimeUnixNano":"{now}","attributes":[{{"key":"a","value":{}}}]}},
                {{"traceId":"{TRACE}","spanId":"eee19b7ec3c1b175","name":"too deep","startTimeUnixNano":"{now}","endTimeUnixNano":"{now}","attributes":[{{"key":"a","value":{}}}]}}]}}]}}]}}"#,
        nested(24),
        nested(30)
    );
    let answer = post_json(collector.otlp, "/v1/traces", &body).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["partialSuccess"]["rejectedSpans"], json!("1"), "{}", answer.body);
    let trace = get(collector.ui, &format!("/api/v3/traces/{TRACE}")).await;
    assert_eq!(trace.status, 200, "{}", trace.body);
    let stored = read::traces(&trace.json(), Ids::Strict).unwrap();
    assert_eq!(stored.spans().map(|(_, _, s)| s.name.as_str()).collect::<Vec<_>>(), ["deep enough"]);
    // Jaeger's search (the last two days by default) reads the trace too.
    let search = get(collector.ui, "/jaeger/api/traces?service=web").await;
    assert_eq!(search.status, 200, "{}", search.body);
    assert_eq!(search.json()["data"][0]["spans"].as_array().unwrap().len(), 1, "{}", search.body);
    collector.stop().await;
}
