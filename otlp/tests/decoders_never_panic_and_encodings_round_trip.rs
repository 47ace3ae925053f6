//! Property tests: the protobuf decoder and the JSON readers take any input without panicking
//! (an error is fine), and any model value survives encode → decode in both encodings.

use edgescope_otlp::read::{self, Ids};
use edgescope_otlp::{json, proto};
use edgescope_otlp::{
    AnyValue, Event, KeyValue, Link, LogRecord, LogsData, Resource, ResourceLogs, ResourceSpans, ScopeLogs, ScopeSpans,
    Span, SpanId, SpanKind, Status, StatusCode, TraceId, TracesData,
};
use proptest::prelude::*;

fn any_value() -> impl Strategy<Value = AnyValue> {
    let leaf = prop_oneof![
        ".{0,12}".prop_map(AnyValue::String),
        any::<bool>().prop_map(AnyValue::Bool),
        any::<i64>().prop_map(AnyValue::Int),
        // NaN never equals itself; finite doubles and the infinities round-trip.
        prop_oneof![any::<f64>().prop_filter("not NaN", |d| !d.is_nan()), Just(f64::INFINITY)]
            .prop_map(AnyValue::Double),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(AnyValue::Bytes),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            // An array may hold empty items (`null`s), which keep their places.
            proptest::collection::vec(prop_oneof![4 => inner.clone(), 1 => Just(AnyValue::Empty)], 0..3)
                .prop_map(AnyValue::Array),
            proptest::collection::vec(("[a-z.]{1,6}", inner), 0..3)
                .prop_map(|kvs| AnyValue::KvList(kvs.into_iter().map(|(k, v)| KeyValue::new(k, v)).collect())),
        ]
    })
}

fn attributes() -> impl Strategy<Value = Vec<KeyValue>> {
    proptest::collection::vec(("[a-z._]{1,10}", proptest::option::of(any_value())), 0..4)
        .prop_map(|kvs| kvs.into_iter().map(|(key, value)| KeyValue { key, value }).collect())
}

fn nonzero<const N: usize>() -> impl Strategy<Value = [u8; N]> {
    proptest::array::uniform::<_, N>(any::<u8>()).prop_filter("not all zero", |a| a.iter().any(|b| *b != 0))
}

fn span() -> impl Strategy<Value = Span> {
    (
        (nonzero::<16>(), nonzero::<8>(), proptest::option::of(nonzero::<8>()), ".{0,16}", 0i64..6, any::<u32>()),
        (any::<u64>(), any::<u64>(), attributes(), 0u32..3, ".{0,8}", "[a-z=,]{0,12}"),
        proptest::collection::vec((any::<u64>(), ".{0,6}", attributes()), 0..2),
        proptest::collection::vec((nonzero::<16>(), nonzero::<8>(), attributes()), 0..2),
    )
        .prop_map(|((t, s, p, name, kind, flags), (start, end, attrs, code, message, state), events, links)| {
            Span {
                trace_id: TraceId(t),
                span_id: SpanId(s),
                parent_span_id: p.map(SpanId),
                name,
                kind: SpanKind::from_i32(kind),
                flags,
                trace_state: state,
                start_time_unix_nano: start,
                end_time_unix_nano: end,
                attributes: attrs,
                events: events
                    .into_iter()
                    .map(|(time, name, attributes)| Event {
                        time_unix_nano: time,
                        name,
                        attributes,
                        ..Default::default()
                    })
                    .collect(),
                links: links
                    .into_iter()
                    .map(|(t, s, attributes)| Link {
                        trace_id: TraceId(t),
                        span_id: SpanId(s),
                        attributes,
                        ..Default::default()
                    })
                    .collect(),
                status: Status {
                    code: StatusCode::from_i32(code as i64),
                    message: if code == 0 { String::new() } else { message },
                },
                ..Default::default()
            }
        })
}

fn traces() -> impl Strategy<Value = TracesData> {
    (attributes(), proptest::collection::vec(span(), 0..4)).prop_map(|(resource, spans)| TracesData {
        resource_spans: vec![ResourceSpans {
            resource: Resource { attributes: resource, dropped_attributes_count: 0 },
            scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
            ..Default::default()
        }],
    })
}

fn logs() -> impl Strategy<Value = LogsData> {
    proptest::collection::vec(
        (
            any::<u64>(),
            any::<u64>(),
            0i32..25,
            proptest::option::of(any_value()),
            attributes(),
            proptest::option::of(nonzero::<16>()),
        ),
        0..4,
    )
    .prop_map(|records| LogsData {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: records
                    .into_iter()
                    .map(|(time, observed, severity, body, attributes, trace)| LogRecord {
                        time_unix_nano: time,
                        observed_time_unix_nano: observed,
                        severity_number: severity,
                        body,
                        attributes,
                        trace_id: trace.map(TraceId),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_protobuf_decoder_takes_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = proto::decode_traces(&bytes);
        let _ = proto::decode_logs(&bytes);
        let _ = proto::decode_partial_success(&bytes);
    }

    #[test]
    fn the_protobuf_decoder_takes_any_mutation_of_a_valid_message(data in traces(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = proto::encode_traces(&data);
        if !bytes.is_empty() {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        let _ = proto::decode_traces(&bytes);
    }

    #[test]
    fn the_json_readers_take_any_text(text in ".{0,200}") {
        let _ = read::traces_from_str(&text, Ids::Tolerant);
        let _ = read::logs_from_str(&text, Ids::Strict);
        let _ = read::any_traces(&text);
    }

    #[test]
    fn the_json_readers_take_any_json_shape(doc in any_json()) {
        let _ = read::traces(&doc, Ids::Tolerant);
        let _ = read::logs(&doc, Ids::Tolerant);
        let _ = read::any_traces(&doc.to_string());
    }

    #[test]
    fn traces_round_trip_through_protobuf_and_json(data in traces()) {
        prop_assert_eq!(proto::decode_traces(&proto::encode_traces(&data)).unwrap(), data.clone());
        prop_assert_eq!(read::traces_from_str(&json::write_traces(&data), Ids::Strict).unwrap(), data);
    }

    #[test]
    fn single_spans_round_trip_through_protobuf(span in span()) {
        let mut buf = vec![0xff];
        proto::encode_span(&span, &mut buf);
        prop_assert_eq!(buf[0], 0xff, "appends");
        prop_assert_eq!(proto::decode_span(&buf[1..]).unwrap(), span);
    }

    #[test]
    fn logs_round_trip_through_protobuf_and_json(data in logs()) {
        prop_assert_eq!(proto::decode_logs(&proto::encode_logs(&data)).unwrap(), data.clone());
        prop_assert_eq!(read::logs_from_str(&json::write_logs(&data), Ids::Strict).unwrap(), data);
    }
}

/// JSON documents shaped a little like OTLP, so that the readers go deep before failing.
fn any_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{json, Value};
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        "[0-9a-fA-F]{0,34}".prop_map(Value::String),
        ".{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 4, |inner| {
        let keys = prop_oneof![
            Just("resourceSpans".to_owned()),
            Just("scopeSpans".to_owned()),
            Just("spans".to_owned()),
            Just("traceId".to_owned()),
            Just("spanId".to_owned()),
            Just("attributes".to_owned()),
            Just("value".to_owned()),
            Just("stringValue".to_owned()),
            Just("kvlistValue".to_owned()),
            Just("resourceLogs".to_owned()),
            Just("logRecords".to_owned()),
            Just("body".to_owned()),
            Just("data".to_owned()),
            Just("id".to_owned()),
            Just("kind".to_owned()),
            "[a-z]{1,5}",
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(keys, inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
