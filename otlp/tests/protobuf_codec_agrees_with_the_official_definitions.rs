//! Our hand-written protobuf encoder and decoder against prost and `opentelemetry-proto`.

mod oracle;

use edgescope_otlp::proto;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

#[test]
fn what_we_encode_prost_decodes_to_the_same_traces() {
    let (fixtures, _) = oracle::fixtures();
    assert!(fixtures.len() >= 8, "the fixture set was found");
    for (name, data) in fixtures.into_iter().chain([("rich".to_owned(), oracle::rich_traces())]) {
        let bytes = proto::encode_traces(&data);
        let decoded = ExportTraceServiceRequest::decode(bytes.as_slice()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(oracle::traces_from(&decoded), data, "{name}");
    }
}

#[test]
fn what_prost_encodes_we_decode_to_the_same_traces() {
    let (fixtures, _) = oracle::fixtures();
    for (name, data) in fixtures.into_iter().chain([("rich".to_owned(), oracle::rich_traces())]) {
        let bytes = oracle::traces_to(&data).encode_to_vec();
        assert_eq!(proto::decode_traces(&bytes).unwrap_or_else(|e| panic!("{name}: {e}")), data, "{name}");
    }
}

#[test]
fn logs_round_trip_both_ways() {
    let (_, fixtures) = oracle::fixtures();
    assert!(fixtures.len() >= 3);
    for (name, data) in fixtures.into_iter().chain([("rich".to_owned(), oracle::rich_logs())]) {
        let ours = proto::encode_logs(&data);
        let decoded = ExportLogsServiceRequest::decode(ours.as_slice()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(oracle::logs_from(&decoded), data, "{name}");
        let theirs = oracle::logs_to(&data).encode_to_vec();
        assert_eq!(proto::decode_logs(&theirs).unwrap(), data, "{name}");
    }
}

#[test]
fn our_encoding_is_byte_for_byte_what_prost_writes() {
    // Same field order and canonical varints: a stronger check than a round trip.
    let data = oracle::rich_traces();
    assert_eq!(proto::encode_traces(&data), oracle::traces_to(&data).encode_to_vec());
    let logs = oracle::rich_logs();
    assert_eq!(proto::encode_logs(&logs), oracle::logs_to(&logs).encode_to_vec());
}

#[test]
fn a_single_span_is_the_message_prost_writes_and_decodes_back() {
    let (fixtures, _) = oracle::fixtures();
    let mut buf = Vec::new();
    for (name, data) in fixtures.into_iter().chain([("rich".to_owned(), oracle::rich_traces())]) {
        let official = oracle::traces_to(&data);
        let theirs = official.resource_spans.iter().flat_map(|rs| &rs.scope_spans).flat_map(|ss| &ss.spans);
        for ((_, _, span), their) in data.spans().zip(theirs) {
            buf.clear();
            proto::encode_span(span, &mut buf);
            assert_eq!(buf, their.encode_to_vec(), "{name}: {}", span.name);
            assert_eq!(&proto::decode_span(&buf).unwrap(), span, "{name}: {}", span.name);
        }
    }
}

#[test]
fn malformed_input_is_an_error_with_a_path_never_a_panic() {
    let good = proto::encode_traces(&oracle::rich_traces());
    // Every truncation of a valid message either decodes (a prefix can be valid) or errs.
    for cut in 0..good.len() {
        let _ = proto::decode_traces(&good[..cut]);
    }
    let e = proto::decode_traces(&good[..good.len() / 2]).unwrap_err();
    assert!(!e.message.is_empty());

    let short_id = oracle::traces_to(&oracle::rich_traces());
    let mut req = short_id.clone();
    req.resource_spans[0].scope_spans[0].spans[1].trace_id = vec![1, 2, 3];
    let e = proto::decode_traces(&req.encode_to_vec()).unwrap_err();
    assert_eq!(e.path, "resourceSpans[0].scopeSpans[0].spans[1]");
    assert!(e.message.contains("`trace_id` must be 16 bytes, not 3"), "{e}");

    assert!(proto::decode_traces(&[0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err(), "length past the end");
    assert!(proto::decode_traces(&[0x0b]).is_err(), "wire type 3 (groups) is not supported");
    assert_eq!(proto::decode_traces(&[]).unwrap(), Default::default(), "empty is an empty request");
}

#[test]
fn status_and_partial_success_answers_decode_with_the_official_types() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
    let partial = ExportTraceServiceResponse::decode(proto::encode_partial_success(3, "bad ids").as_slice()).unwrap();
    let p = partial.partial_success.unwrap();
    assert_eq!((p.rejected_spans, p.error_message.as_str()), (3, "bad ids"));
    assert_eq!(proto::encode_partial_success(0, ""), Vec::<u8>::new());
    let theirs = opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse {
        partial_success: Some(opentelemetry_proto::tonic::collector::logs::v1::ExportLogsPartialSuccess {
            rejected_log_records: 7,
            error_message: "too old".into(),
        }),
    };
    assert_eq!(proto::decode_partial_success(&theirs.encode_to_vec()).unwrap(), (7, "too old".to_owned()));
    assert_eq!(proto::decode_partial_success(&[]).unwrap(), (0, String::new()));
    // google.rpc.Status { code = 1, message = 2 }: decode by hand with prost's primitives.
    #[derive(Clone, PartialEq, prost::Message)]
    struct Status {
        #[prost(int32, tag = "1")]
        code: i32,
        #[prost(string, tag = "2")]
        message: String,
    }
    let s = Status::decode(proto::encode_status(3, "invalid").as_slice()).unwrap();
    assert_eq!((s.code, s.message.as_str()), (3, "invalid"));
}
