//! Our strict OTLP/JSON writer read back by `opentelemetry-proto`'s own serde mapping: an
//! implementation of OTLP/JSON that shares no code with ours.

mod oracle;

use edgescope_otlp::json;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

#[test]
fn traces_written_by_us_are_read_identically_by_the_official_mapping() {
    let (fixtures, _) = oracle::fixtures();
    for (name, data) in fixtures.into_iter().chain([("rich".to_owned(), oracle::rich_traces())]) {
        let text = json::write_traces(&data);
        let parsed: ExportTraceServiceRequest =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}\n{}", &text[..text.len().min(400)]));
        assert_eq!(oracle::traces_from(&parsed), data, "{name}");
    }
}

#[test]
fn logs_written_by_us_are_read_identically_by_the_official_mapping() {
    let (_, fixtures) = oracle::fixtures();
    for (name, data) in fixtures.into_iter().chain([("rich".to_owned(), oracle::rich_logs())]) {
        let text = json::write_logs(&data);
        let parsed: ExportLogsServiceRequest = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(oracle::logs_from(&parsed), data, "{name}");
    }
}

#[test]
fn the_json_follows_the_otlp_json_rules() {
    let text = json::write_traces(&oracle::rich_traces());
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let span = &doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
    assert_eq!(span["traceId"], "ffffffffffffffffffffffffffffffff", "lowercase hex ids");
    assert_eq!(span["kind"], 5, "enums as integers");
    assert_eq!(span["endTimeUnixNano"], "18446744073709551615", "64-bit integers as strings");
    assert_eq!(span["status"]["code"], 2);
    assert!(span.get("trace_id").is_none() && span.get("droppedAttributesCount").is_some(), "lowerCamelCase keys");
    let attrs = span["attributes"].as_array().unwrap();
    let max = attrs.iter().find(|a| a["key"] == "max").unwrap();
    assert_eq!(max["value"]["intValue"], "9223372036854775807");
    let bytes = attrs.iter().find(|a| a["key"] == "y").unwrap();
    assert!(bytes["value"]["bytesValue"].as_str().unwrap().starts_with("AAECAwQF"), "bytes as base64");
}
