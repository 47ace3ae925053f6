//! Inputs real tools write that the tolerant reader must read as their authors meant them.

use edgescope_otlp::read::{self, any_traces, any_traces_file, Ids};
use edgescope_otlp::AnyValue;

const OTLP: &str = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"a"}]}]}]}"#;

fn names(text: &str) -> Vec<String> {
    let data = any_traces(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    data.spans().map(|(_, _, s)| s.name.clone()).collect()
}

#[test]
fn a_byte_order_mark_before_the_document_is_skipped() {
    // Windows tools (PowerShell's Out-File, Notepad) start UTF-8 files with one.
    assert_eq!(names(&format!("\u{feff}{OTLP}")), ["a"]);
    let zipkin = r#"[{"traceId":"a1","id":"b2","name":"z","timestamp":1}]"#;
    assert_eq!(names(&format!("\u{feff}{zipkin}")), ["z"]);
    let lines = format!(
        "\u{feff}{OTLP}\r\n\r\n{}\r\n",
        OTLP.replace("\"a\"", "\"b\"").replace("0708\",\"name", "0709\",\"name")
    );
    assert_eq!(names(&lines), ["a", "b"]);
    assert_eq!(read::traces_from_str(&format!("\u{feff}{OTLP}"), Ids::Strict).unwrap().spans().count(), 1);
    let logs = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"x"}}]}]}]}"#;
    assert_eq!(read::logs_from_str(&format!("\u{feff}{logs}"), Ids::Strict).unwrap().records().count(), 1);
}

#[test]
fn integers_written_as_whole_floats_are_read_as_protobuf_json_parsers_read_them() {
    // The conformance suite's Int32FieldExponentialFormat and Int32FieldFloatTrailingZero:
    // "Integers but represented as float values are accepted"; JavaScript writes 1.7e+21 style.
    let doc = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10",
        "spanId":"0102030405060708","startTimeUnixNano":1.7e18,"endTimeUnixNano":1700000000500000000.0,
        "flags":1E0,"droppedAttributesCount":2.000,"kind":2.0,
        "attributes":[{"key":"n","value":{"intValue":-1e3}}]}]}]}]}"#;
    let data = read::traces_from_str(doc, Ids::Strict).unwrap();
    let span = data.spans().next().unwrap().2;
    assert_eq!(
        (span.start_time_unix_nano, span.end_time_unix_nano),
        (1_700_000_000_000_000_000, 1_700_000_000_500_000_000)
    );
    assert_eq!((span.flags, span.dropped_attributes_count), (1, 2));
    assert_eq!(span.kind, edgescope_otlp::SpanKind::Server);
    assert_eq!(span.attributes[0].value, Some(edgescope_otlp::AnyValue::Int(-1000)));
    // Not a whole number, or out of range: still refused ("Int64FieldNotInteger").
    for bad in [r#""flags":0.5"#, r#""flags":-1.0"#, r#""startTimeUnixNano":1.9e19"#, r#""flags":1e300"#] {
        let doc = format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708",{bad}}}]}}]}}]}}"#
        );
        assert!(read::traces_from_str(&doc, Ids::Strict).is_err(), "{bad}");
    }
}

#[test]
fn jaegers_deprecated_parent_span_id_makes_the_parent_when_no_reference_names_it() {
    // Jaeger's JSON model (and its Elasticsearch documents) still carry `parentSpanID`; Jaeger
    // reads it as a CHILD_OF reference placed first (model.MaybeAddParentSpanID).
    let doc = r#"{"data":[{"traceID":"a1","processes":{"p1":{"serviceName":"s"}},"spans":[
        {"traceID":"a1","spanID":"01","operationName":"root","startTime":1,"duration":9,"processID":"p1"},
        {"traceID":"a1","spanID":"02","parentSpanID":"01","operationName":"child","startTime":2,"duration":1,
         "processID":"p1"},
        {"traceID":"a1","spanID":"03","parentSpanID":"01","operationName":"both","startTime":2,"duration":1,
         "processID":"p1","references":[{"refType":"CHILD_OF","traceID":"a1","spanID":"01"}]},
        {"traceID":"a1","spanID":"04","parentSpanID":"0000000000000000","operationName":"zero","startTime":3,
         "duration":1,"processID":"p1"}]}]}"#;
    let data = any_traces(doc).unwrap();
    let parent = |name: &str| {
        let span = data.spans().map(|(_, _, s)| s).find(|s| s.name == name).unwrap();
        (span.parent_span_id.map(|p| p.to_hex()), span.links.len())
    };
    assert_eq!(parent("root"), (None, 0));
    assert_eq!(parent("child"), (Some("0000000000000001".to_owned()), 0));
    assert_eq!(parent("both"), (Some("0000000000000001".to_owned()), 0), "no link to the parent as well");
    assert_eq!(parent("zero"), (None, 0), "a zero id is no parent");
}

#[test]
fn jaeger_times_too_large_for_nanoseconds_stop_at_the_largest_instead_of_overflowing() {
    // Nanoseconds written where Jaeger wants microseconds, as a hand-made export may have them.
    let doc = r#"{"traceID":"a1","spans":[{"traceID":"a1","spanID":"01","operationName":"x",
        "startTime":1700000000000000000,"duration":18446744073709551615,
        "logs":[{"timestamp":18446744073709551615,"fields":[{"key":"event","value":"late"}]}]}]}"#;
    let data = any_traces(doc).unwrap();
    let span = data.spans().next().unwrap().2;
    assert_eq!((span.start_time_unix_nano, span.end_time_unix_nano), (u64::MAX, u64::MAX));
    assert_eq!(span.events[0].time_unix_nano, u64::MAX);
}

#[test]
fn an_empty_object_is_an_empty_document_as_protobuf_json_writes_one() {
    // Proto3 JSON leaves out empty repeated fields, so an empty TracesData or LogsData (an
    // exporter's empty batch, protojson.Marshal of nothing) is `{}`, which OTLP receivers accept.
    let empty: serde_json::Value = serde_json::json!({});
    assert_eq!(read::traces(&empty, Ids::Strict).unwrap().resource_spans.len(), 0);
    assert_eq!(read::traces_partial(&empty, Ids::Strict).unwrap().data.resource_spans.len(), 0);
    assert_eq!(read::logs(&empty, Ids::Strict).unwrap().resource_logs.len(), 0);
    assert_eq!(read::logs_partial(&empty, Ids::Strict).unwrap().data.resource_logs.len(), 0);
    // An object that holds something else is still not a trace document.
    assert!(read::traces(&serde_json::json!({"spans": []}), Ids::Strict).is_err());
    assert!(read::logs(&serde_json::json!({"records": []}), Ids::Strict).is_err());
    // Read as a receiver reads: fields it does not know are ignored, as OTLP/JSON asks, so an
    // object of those is an empty request; another signal's request is refused, naming its path.
    let future = serde_json::json!({"futureField": 1});
    assert_eq!(read::traces_partial(&future, Ids::Strict).unwrap().data.resource_spans.len(), 0);
    assert_eq!(read::logs_partial(&future, Ids::Strict).unwrap().data.resource_logs.len(), 0);
    let e = read::traces_partial(&serde_json::json!({"resourceLogs": []}), Ids::Strict).unwrap_err();
    assert!(e.to_string().contains("which an export sends to /v1/logs"), "{e}");
    let e = read::logs_partial(&serde_json::json!({"resourceSpans": []}), Ids::Strict).unwrap_err();
    assert!(e.to_string().contains("which an export sends to /v1/traces"), "{e}");
    assert!(read::traces_partial(&serde_json::json!({"resourceMetrics": []}), Ids::Strict).is_err());
}

#[test]
fn a_link_without_ids_reads_as_the_protobuf_decoder_reads_it() {
    // Proto3 JSON leaves empty bytes out: a link to an invalid context that has attributes (as
    // OpenTelemetry records one) has neither id, and is kept with empty ids as in protobuf.
    let doc = serde_json::json!({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": "0102030405060708090a0b0c0d0e0f10", "spanId": "0102030405060708", "name": "s",
        "links": [{"attributes": [{"key": "k", "value": {"stringValue": "v"}}]}, {"traceId": "", "spanId": ""}]
    }]}]}]});
    let partial = read::traces_partial(&doc, Ids::Strict).unwrap();
    assert!(partial.rejected.is_empty(), "{:?}", partial.rejected);
    let span = partial.data.spans().next().unwrap().2;
    assert_eq!(span.links.len(), 2);
    assert_eq!((span.links[0].trace_id.0, span.links[0].span_id.0), ([0; 16], [0; 8]));
    assert_eq!(span.links[0].attributes[0].key, "k");
    let bytes = edgescope_otlp::proto::encode_traces(&partial.data);
    let decoded = edgescope_otlp::proto::decode_traces(&bytes).unwrap();
    assert_eq!(decoded, partial.data, "protobuf reads it back alike");
}

#[test]
fn many_spans_repeating_one_id_all_get_ids_of_their_own() {
    // More copies than two bytes of an id can tell apart: new ids must come from all eight.
    let n = 70_000;
    let spans: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"traceId":"a1","id":"b2","name":"s{i}","timestamp":{i},"localEndpoint":{{"serviceName":"x"}}}}"#
            )
        })
        .collect();
    let data = any_traces(&format!("[{}]", spans.join(","))).unwrap();
    let mut ids: Vec<_> = data.spans().map(|(_, _, s)| s.span_id).collect();
    assert_eq!(ids.len(), n);
    assert!(ids.iter().all(|id| id.is_valid()));
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "every span has an id of its own");
}

#[test]
fn a_pretty_printed_document_with_a_mistake_is_named_where_the_mistake_is() {
    // A trailing comma on line 3 (a hand edit), and a download cut off: not JSON lines.
    let comma = "{\n  \"resourceSpans\": [\n    {\"scopeSpans\": []},\n  ]\n}\n";
    let e = any_traces(comma).unwrap_err();
    assert!(e.message.starts_with("invalid JSON") && e.message.contains("line 4"), "{e}");
    let cut = "{\n  \"resourceSpans\": [\n    {\"scopeSpans\": [\n";
    let e = any_traces(cut).unwrap_err();
    assert!(e.message.contains("EOF") && e.message.contains("line 4"), "{e}");
    // A JSON-lines file is still read line by line, and a bad line after the first named.
    let lines = format!("{OTLP}\n{{\"resourceSpans\": [\n");
    assert_eq!(any_traces(&lines).unwrap_err().path, "line 2");
    // And a JSON-lines file whose first line is cut off is named at that line.
    let cut_first = format!("{{\"resourceSpans\": [\n{OTLP}\n{OTLP}\n");
    assert_eq!(any_traces(&cut_first).unwrap_err().path, "line 1");
}

#[test]
fn a_json_lines_file_with_lines_that_cannot_be_read_opens_the_others_and_says_which_it_left_out() {
    // A file exporter stopped mid-write (its last line cut off), and a line of something else.
    let cut = format!("{OTLP}\n\n{OTLP}\n\"oops\"\n{{\"resourceSpans\": [\n");
    let (data, skipped) = any_traces_file(&cut).unwrap();
    assert_eq!(data.spans().count(), 2 * any_traces(OTLP).unwrap().spans().count());
    let skipped = skipped.expect("two lines were left out");
    assert_eq!((skipped.count, skipped.of, skipped.first.path.as_str()), (2, 4, "line 4"));
    assert!(skipped
        .to_string()
        .starts_with("2 of its 4 lines could not be read and were left out (the first: line 4: "));
    // The strict reader still refuses it, naming the first such line.
    assert_eq!(any_traces(&cut).unwrap_err().path, "line 4");
    // One line left out of many.
    let many = format!("{}{{\"resourceSpans\": [\n", format!("{OTLP}\n").repeat(1200));
    let (_, skipped) = any_traces_file(&many).unwrap();
    let text = skipped.unwrap().to_string();
    assert!(
        text.starts_with("1 of its 1,201 lines could not be read and was left out (it: line 1201: invalid JSON"),
        "{text}"
    );
    // A file none of whose lines can be read is refused with the first line's error.
    let e = any_traces_file("\"a\"\n{\"resourceSpans\": 5}\n").unwrap_err();
    assert_eq!(e.path, "line 1");
    // A whole file that reads is read without a word.
    assert!(any_traces_file(&format!("{OTLP}\n{OTLP}\n")).unwrap().1.is_none());
}

#[test]
fn a_saved_search_answer_with_a_trace_that_cannot_be_read_opens_the_others_and_says_which_it_left_out() {
    let jaeger_trace = |id: &str, span: &str| {
        format!(
            r#"{{"traceID":"{id}","spans":[{{"traceID":"{id}","spanID":"{span}","operationName":"op","startTime":1,"duration":2,"processID":"p1"}}],"processes":{{"p1":{{"serviceName":"web"}}}}}}"#
        )
    };
    let jaeger = format!(
        r#"{{"data":[{},{},{}]}}"#,
        jaeger_trace("a1", "b1"),
        jaeger_trace("a2", "not-hex"),
        jaeger_trace("a3", "b3")
    );
    let (data, skipped) = any_traces_file(&jaeger).unwrap();
    assert_eq!(data.spans().count(), 2);
    assert_eq!(data.resource_spans.len(), 1, "the traces of one process share its resource");
    let skipped = skipped.unwrap();
    assert_eq!((skipped.count, skipped.of, skipped.unit), (1, 3, "traces"));
    assert_eq!(
        skipped.to_string(),
        "1 of its 3 traces could not be read and was left out (it: data[1].spans[0]: spanID is not a hex id)"
    );
    assert_eq!(any_traces(&jaeger).unwrap_err().path, "data[1].spans[0]");
    // Zipkin's search answer, a list of traces; every trace bad is an error.
    let zipkin = r#"[[{"traceId":"a1","id":"b1","name":"one","timestamp":1,"duration":2}],{"oops":1},[{"traceId":"a3","id":"b3","name":"three","timestamp":1,"duration":2}]]"#;
    let (data, skipped) = any_traces_file(zipkin).unwrap();
    assert_eq!(data.spans().count(), 2);
    assert!(skipped.unwrap().to_string().contains("(it: [1]: expected a list of Zipkin spans)"));
    assert_eq!(any_traces_file(r#"[[{"id":1}],{"oops":1}]"#).unwrap_err().path, "[0]");
    // Inside a JSON-lines file, the line is named; traces are counted over all lines, and told
    // besides lines left out.
    let (_, skipped) = any_traces_file(&format!("{OTLP}\n{jaeger}\n")).unwrap();
    assert!(skipped.unwrap().to_string().contains("(it: line 2: data[1].spans[0]: spanID is not a hex id)"));
    let second = format!(
        r#"{{"data":[{},{},{}]}}"#,
        jaeger_trace("a4", "not-hex"),
        jaeger_trace("a5", "b5"),
        jaeger_trace("a6", "b6")
    );
    let (data, skipped) = any_traces_file(&format!("{jaeger}\n{second}\n")).unwrap();
    assert_eq!(data.spans().count(), 4);
    assert_eq!(
        skipped.unwrap().to_string(),
        "2 of its 6 traces could not be read and were left out (the first: line 1: data[1].spans[0]: spanID is not a hex id)"
    );
    let (_, skipped) = any_traces_file(&format!("{jaeger}\n{second}\n{{\"data\": [\n")).unwrap();
    let text = skipped.unwrap().to_string();
    assert!(
        text.starts_with("1 of its 3 lines could not be read and was left out (it: line 3: invalid JSON"),
        "{text}"
    );
    assert!(text.ends_with("; and 2 of its 6 traces could not be read and were left out (the first: line 1: data[1].spans[0]: spanID is not a hex id)"), "{text}");
}

#[test]
fn saved_zipkin_search_and_tempo_trace_answers_open_as_files() {
    let zipkin = r#"[[{"traceId":"a1","id":"b2","name":"one","timestamp":1,"duration":2}],
        [{"traceId":"a2","id":"b3","name":"two","timestamp":1472470996199000.0,"duration":5.0}],[]]"#;
    assert_eq!(names(zipkin), ["one", "two"]);
    let data = any_traces(zipkin).unwrap();
    let two = data.spans().map(|(_, _, s)| s).find(|s| s.name == "two").unwrap();
    assert_eq!(two.start_time_unix_nano, 1_472_470_996_199_000_000, "a whole float of microseconds");
    assert_eq!(two.end_time_unix_nano - two.start_time_unix_nano, 5_000);
    for tempo in [format!(r#"{{"trace":{OTLP},"status":"COMPLETE"}}"#), format!(r#"{{"trace":{OTLP}}}"#)] {
        assert_eq!(names(&tempo), ["a"], "{tempo}");
    }
    let broken = r#"{"trace":{"resourceSpans":7}}"#;
    assert!(any_traces(broken).unwrap_err().path.starts_with("trace"));
}

#[test]
fn jaegers_error_answer_is_named_by_its_message() {
    let answer = r#"{"data":null,"total":0,"limit":0,"offset":0,"errors":[{"code":404,"msg":"trace not found"}]}"#;
    let e = any_traces(answer).unwrap_err();
    assert!(e.message.contains("trace not found"), "{e}");
}

#[test]
fn jaegers_error_tag_as_a_string_and_float_times_are_read() {
    let doc = r#"{"data":[{"traceID":"0af7651916cd43dd8448eb211c80319c","processes":{"p1":{"serviceName":"s","tags":[]}},
        "spans":[{"traceID":"0af7651916cd43dd8448eb211c80319c","spanID":"00f067aa0ba902b7","operationName":"op",
        "references":[],"startTime":1700000000000000.0,"duration":1500.0,"processID":"p1",
        "tags":[{"key":"error","type":"string","value":"true"}],"logs":[]}]}]}"#;
    let data = any_traces(doc).unwrap();
    let span = data.spans().next().unwrap().2;
    assert_eq!(span.status.code, edgescope_otlp::StatusCode::Error);
    assert_eq!(span.start_time_unix_nano, 1_700_000_000_000_000_000);
    assert_eq!(span.end_time_unix_nano - span.start_time_unix_nano, 1_500_000);
}

#[test]
fn jaegers_scope_version_and_trace_state_tags_are_the_scope_and_the_span_state_again() {
    // Jaeger's OTLP translator writes a span's scope and `traceState` as these tags (older
    // versions `otel.library.*`); read back, they are the scope and the trace state, not attributes.
    let span = |tags: &str| {
        format!(
            r#"{{"traceID":"0af7651916cd43dd8448eb211c80319c","spanID":"00f067aa0ba902b{}","operationName":"op",
            "references":[],"startTime":1700000000000000,"duration":1,"processID":"p1","tags":[{tags}]}}"#,
            tags.len() % 10
        )
    };
    let tag = |k: &str, v: &str| format!(r#"{{"key":"{k}","type":"string","value":"{v}"}}"#);
    let doc = format!(
        r#"{{"data":[{{"traceID":"0af7651916cd43dd8448eb211c80319c","processes":{{"p1":{{"serviceName":"s"}}}},"spans":[{},{}]}}]}}"#,
        span(
            &[
                tag("otel.scope.name", "checkout"),
                tag("otel.scope.version", "1.2.3"),
                tag("w3c.tracestate", "vendor=x"),
                tag("k", "v")
            ]
            .join(",")
        ),
        span(&[tag("otel.library.name", "checkout"), tag("otel.library.version", "1.0")].join(",")),
    );
    let data = any_traces(&doc).unwrap();
    let scopes: Vec<_> = data.resource_spans[0]
        .scope_spans
        .iter()
        .map(|ss| (ss.scope.name.as_str(), ss.scope.version.as_str()))
        .collect();
    assert_eq!(scopes, [("checkout", "1.2.3"), ("checkout", "1.0")]);
    let first = &data.resource_spans[0].scope_spans[0].spans[0];
    assert_eq!(first.trace_state, "vendor=x");
    assert_eq!(first.attributes.iter().map(|kv| kv.key.as_str()).collect::<Vec<_>>(), ["k"]);
}

#[test]
fn zipkin_endpoints_addresses_and_ports_are_network_attributes() {
    let doc = r#"[{"traceId":"0af7651916cd43dd8448eb211c80319c","id":"00f067aa0ba902b7","name":"query","kind":"CLIENT",
        "timestamp":1700000000000000,"duration":10,
        "localEndpoint":{"serviceName":"api","ipv4":"10.0.0.1","ipv6":"::1","port":8080},
        "remoteEndpoint":{"serviceName":"db","ipv6":"2001:db8::5","port":5432}}]"#;
    let data = any_traces(doc).unwrap();
    let span = data.spans().next().unwrap().2;
    let attributes: Vec<_> = span.attributes.iter().map(|kv| (kv.key.as_str(), kv.value.clone().unwrap())).collect();
    let text = |s: &str| AnyValue::String(s.to_owned());
    assert_eq!(
        attributes,
        [
            ("peer.service", text("db")),
            ("network.local.address", text("10.0.0.1")),
            ("network.local.port", AnyValue::Int(8080)),
            ("network.peer.address", text("2001:db8::5")),
            ("network.peer.port", AnyValue::Int(5432)),
        ]
    );
}

#[test]
fn old_otlp_statuses_and_null_resources_read_as_their_versions_meant() {
    let with_status = |status: &str| {
        let doc = OTLP.replace(r#""name":"a""#, &format!(r#""name":"a","status":{status}"#));
        let data = any_traces(&doc).unwrap_or_else(|e| panic!("{status}: {e}"));
        let code = data.spans().next().unwrap().2.status.code;
        code
    };
    use edgescope_otlp::StatusCode::{Error, Ok, Unset};
    // OTLP 0.7-0.18: `deprecatedCode` beside an unset `code`.
    assert_eq!(with_status(r#"{"deprecatedCode":"DEPRECATED_STATUS_CODE_UNKNOWN_ERROR","message":"boom"}"#), Error);
    assert_eq!(with_status(r#"{"deprecated_code":2}"#), Error);
    assert_eq!(with_status(r#"{"deprecatedCode":"DEPRECATED_STATUS_CODE_OK"}"#), Unset);
    assert_eq!(with_status(r#"{"code":"STATUS_CODE_OK","deprecatedCode":2}"#), Ok);
    // Before 0.7: a name per kind of error.
    assert_eq!(with_status(r#"{"code":"STATUS_CODE_NOT_FOUND"}"#), Error);
    assert!(any_traces(&OTLP.replace(r#""name":"a""#, r#""name":"a","status":{"code":"BOGUS"}"#)).is_err());
    // Proto3 JSON reads null as the default.
    let nulls = r#"{"resourceSpans":[{"resource":null,"scopeSpans":[{"scope":null,"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"n"}]}]}]}"#;
    assert_eq!(names(nulls), ["n"]);
}

/// A Zipkin span array read by both Zipkin readers (the scanner of the common shape, and the
/// `serde_json::Value` path that a saved search answer, a list of such arrays, goes through),
/// which must agree.
fn zipkin(spans: &str) -> edgescope_otlp::TracesData {
    let fast = any_traces(spans).unwrap_or_else(|e| panic!("{spans}: {e}"));
    let slow = any_traces(&format!("[{spans}]")).unwrap_or_else(|e| panic!("[{spans}]: {e}"));
    assert_eq!(fast, slow, "both Zipkin readers agree");
    fast
}

fn span_named<'a>(data: &'a edgescope_otlp::TracesData, name: &str) -> &'a edgescope_otlp::Span {
    data.spans().map(|(_, _, s)| s).find(|s| s.name == name).unwrap_or_else(|| panic!("no span {name}"))
}

fn parent_name(data: &edgescope_otlp::TracesData, name: &str) -> Option<String> {
    let parent = span_named(data, name).parent_span_id?;
    Some(data.spans().map(|(_, _, s)| s).find(|s| s.span_id == parent).map_or("(missing)".into(), |s| s.name.clone()))
}

#[test]
fn zipkin_spans_without_a_timestamp_get_one_through_chains_of_any_depth() {
    // root → b → c → d, only the root with a time: each starts when its parent does.
    let down = r#"[{"traceId":"abc","id":"a","name":"root","timestamp":1700000000000000,"duration":1000},
        {"traceId":"abc","id":"b","parentId":"a","name":"b"},
        {"traceId":"abc","id":"c","parentId":"b","name":"c","duration":5},
        {"traceId":"abc","id":"d","parentId":"c","name":"d"}]"#;
    let data = zipkin(down);
    for name in ["root", "b", "c", "d"] {
        assert_eq!(span_named(&data, name).start_time_unix_nano, 1_700_000_000_000_000_000, "{name}");
    }
    assert_eq!(span_named(&data, "c").duration_nanos(), 5_000, "the duration stays");
    // a → b → c, only the leaf with a time: each starts when its earliest child does; and a
    // sibling without a time (e) then starts when that parent does.
    let up = r#"[{"traceId":"abc","id":"a","name":"a"},
        {"traceId":"abc","id":"b","parentId":"a","name":"b"},
        {"traceId":"abc","id":"e","parentId":"b","name":"e"},
        {"traceId":"abc","id":"c","parentId":"b","name":"late","timestamp":1700000000000900,"duration":1},
        {"traceId":"abc","id":"f","parentId":"b","name":"early","timestamp":1700000000000500,"duration":1}]"#;
    let data = zipkin(up);
    for name in ["a", "b", "e"] {
        assert_eq!(span_named(&data, name).start_time_unix_nano, 1_700_000_000_000_500_000, "{name}");
        let marked =
            edgescope_otlp::attribute(&span_named(&data, name).attributes, "edgescope.zipkin.missing_timestamp");
        assert_eq!(marked, Some(&AnyValue::Bool(true)), "{name}");
    }
    // A chain as long as a large file, below a root with a time: each id is walked once.
    let n = 50_000;
    let mut deep = vec![r#"{"traceId":"abc","id":"1","name":"s1","timestamp":1700000000000000}"#.to_owned()];
    deep.extend((2..=n).map(|i| format!(r#"{{"traceId":"abc","id":"{i:x}","parentId":"{:x}","name":"s{i}"}}"#, i - 1)));
    let data = any_traces(&format!("[{}]", deep.join(","))).unwrap();
    assert!(data.spans().all(|(_, _, s)| s.start_time_unix_nano == 1_700_000_000_000_000_000));
    // A cycle of parents without any time ends, and its spans keep no time rather than a guess.
    let cycle = r#"[{"traceId":"abc","id":"a","parentId":"b","name":"a"},{"traceId":"abc","id":"b","parentId":"a","name":"b"}]"#;
    assert!(zipkin(cycle).spans().all(|(_, _, s)| s.start_time_unix_nano == 0));
}

#[test]
fn a_zipkin_timestamp_of_zero_is_read_as_absent() {
    // zipkin2's Span.Builder: "zero implies absent", for the timestamp and the duration.
    let doc = r#"[{"traceId":"abc","id":"a","kind":"SERVER","name":"root","timestamp":1700000000000000,"duration":1000},
        {"traceId":"abc","id":"d","parentId":"a","name":"zero-ts","timestamp":0,"duration":0}]"#;
    let data = zipkin(doc);
    let zero = span_named(&data, "zero-ts");
    assert_eq!((zero.start_time_unix_nano, zero.duration_nanos()), (1_700_000_000_000_000_000, 0));
    let marked = edgescope_otlp::attribute(&zero.attributes, "edgescope.zipkin.missing_timestamp");
    assert_eq!(marked, Some(&AnyValue::Bool(true)));
}

#[test]
fn a_zipkin_server_span_with_the_id_of_a_client_span_is_its_shared_half_without_the_flag() {
    // Some instrumentation leaves `shared` out on the server half; zipkin2's Trace.merge sets it
    // when a SERVER span follows a CLIENT span with the same id.
    let doc = r#"[{"traceId":"abc","id":"a","kind":"SERVER","name":"root","timestamp":1700000000000000,"duration":1000,
         "localEndpoint":{"serviceName":"frontend"}},
        {"traceId":"abc","id":"b","parentId":"a","kind":"CLIENT","name":"client-half","timestamp":1700000000000100,
         "duration":800,"localEndpoint":{"serviceName":"frontend"}},
        {"traceId":"abc","id":"b","parentId":"a","kind":"SERVER","name":"server-half","timestamp":1700000000000110,
         "duration":700,"localEndpoint":{"serviceName":"backend"}},
        {"traceId":"abc","id":"c","parentId":"b","kind":"CLIENT","name":"db-call","timestamp":1700000000000200,
         "duration":100,"localEndpoint":{"serviceName":"backend"}}]"#;
    let data = zipkin(doc);
    assert_eq!(parent_name(&data, "root"), None);
    assert_eq!(parent_name(&data, "client-half").as_deref(), Some("root"));
    assert_eq!(parent_name(&data, "server-half").as_deref(), Some("client-half"));
    assert_eq!(parent_name(&data, "db-call").as_deref(), Some("server-half"));
    assert!(data.spans().all(|(_, _, s)| !s.attributes.iter().any(|kv| kv.key == "edgescope.original_span_id")));
    // Two SERVER spans, or a CLIENT after nothing, are left as they are.
    let servers = r#"[{"traceId":"abc","id":"b","kind":"SERVER","name":"one","timestamp":1,"duration":1},
        {"traceId":"abc","id":"b","kind":"SERVER","name":"two","timestamp":1,"duration":1}]"#;
    let data = zipkin(servers);
    assert!(data.spans().all(|(_, _, s)| s.parent_span_id.is_none()), "no span is the other's half");
}

fn fixture(name: &str) -> String {
    let path = format!("{}/../../shared/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn a_jaeger_spans_parent_is_its_first_child_of_reference_in_its_own_trace() {
    // Jaeger's model (Span.ParentSpanID): the first CHILD_OF reference with the span's trace id;
    // a CHILD_OF reference to another trace is a link. `reference-test` starts with one.
    let data = any_traces(&fixture("jaeger-uimodel-ui_01.json")).unwrap();
    let span = span_named(&data, "reference-test");
    assert_eq!(span.parent_span_id.map(|p| p.to_hex()).as_deref(), Some("0000000000000002"));
    let links: Vec<_> = span
        .links
        .iter()
        .map(|l| (l.trace_id.to_hex(), l.span_id.to_hex(), l.attributes[0].value.clone().unwrap()))
        .collect();
    assert_eq!(
        links,
        [
            ("000000000000000000000000000000ff".into(), "00000000000000ff".into(), AnyValue::from("child_of")),
            ("00000000000000000000000000000001".into(), "0000000000000002".into(), AnyValue::from("follows_from")),
        ]
    );
    // Without a CHILD_OF reference in the trace, the first reference in it (as the UI draws it).
    let doc = r#"{"traceID":"a1","spans":[{"traceID":"a1","spanID":"03","operationName":"x","startTime":1,
        "references":[{"refType":"CHILD_OF","traceID":"b2","spanID":"07"},
                      {"refType":"FOLLOWS_FROM","traceID":"a1","spanID":"01"}]}]}"#;
    let data = any_traces(doc).unwrap();
    let span = data.spans().next().unwrap().2;
    assert_eq!(span.parent_span_id.map(|p| p.to_hex()).as_deref(), Some("0000000000000001"));
    assert_eq!(span.links.len(), 1);
}

/// A span named `a` for a document of its own.
const OTLP_SPAN_A: &str = r#"{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060709","name":"a"}"#;

#[test]
fn an_empty_list_under_a_new_name_beside_the_deprecated_name_is_unset_as_proto3_json_reads_it() {
    let span = r#"{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"ils-span"}"#;
    let doc = format!(
        r#"{{"resourceSpans":[{{"scopeSpans":[],"instrumentationLibrarySpans":[{{"instrumentationLibrary":{{"name":"lib"}},"spans":[{span}]}}]}}]}}"#
    );
    assert_eq!(names(&doc), ["ils-span"]);
    let value: serde_json::Value = serde_json::from_str(&doc).unwrap();
    // What the collector ingests through.
    let partial = read::traces_partial(&value, Ids::Strict).unwrap();
    assert_eq!(partial.data.spans().map(|(_, scope, _)| scope.name.as_str()).collect::<Vec<_>>(), ["lib"]);
    let null = doc.replace(r#""scopeSpans":[]"#, r#""scopeSpans":null"#);
    assert_eq!(names(&null), ["ils-span"]);
    // Tempo's `batches` beside an empty `resourceSpans`.
    let batches = format!(r#"{{"resourceSpans":[],"batches":[{{"scopeSpans":[{{"spans":[{span}]}}]}}]}}"#);
    assert_eq!(names(&batches), ["ils-span"]);
    let logs = r#"{"resourceLogs":[{"scopeLogs":[],"instrumentationLibraryLogs":[{"logRecords":[{"body":{"stringValue":"x"}}]}]}]}"#;
    assert_eq!(read::logs_from_str(logs, Ids::Strict).unwrap().records().count(), 1);
    // A new name with something in it still wins, and a wrong shape under it is still named.
    let both = doc.replace(r#""scopeSpans":[]"#, &format!(r#""scopeSpans":[{{"spans":[{}]}}]"#, OTLP_SPAN_A));
    assert_eq!(names(&both), ["a"]);
    let bad = doc.replace(r#""scopeSpans":[]"#, r#""scopeSpans":"no""#);
    assert_eq!(read::traces_from_str(&bad, Ids::Strict).unwrap_err().path, "resourceSpans[0].scopeSpans");
}

#[test]
fn an_all_zero_parent_span_id_is_no_parent() {
    let doc = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[
        {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0000000000000001","name":"root"},
        {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0000000000000002","parentSpanId":"0000000000000000",
         "name":"second-root"}]}]}]}"#;
    for ids in [Ids::Strict, Ids::Tolerant] {
        let data = read::traces_from_str(doc, ids).unwrap();
        assert!(data.spans().all(|(_, _, s)| s.parent_span_id.is_none()), "{ids:?}");
    }
    // A receiver keeps the span: only all-zero trace and span ids are invalid.
    let partial = read::traces_partial(&serde_json::from_str(doc).unwrap(), Ids::Strict).unwrap();
    assert_eq!((partial.data.spans().count(), partial.rejected.len()), (2, 0));
    assert!(partial.data.spans().all(|(_, _, s)| s.parent_span_id.is_none()));
    // The same in protobuf, whose writer sends the eight zero bytes it is given.
    let mut with_zero_parent = partial.data.clone();
    with_zero_parent.resource_spans[0].scope_spans[0].spans[1].parent_span_id = Some(edgescope_otlp::SpanId([0; 8]));
    let decoded =
        edgescope_otlp::proto::decode_traces(&edgescope_otlp::proto::encode_traces(&with_zero_parent)).unwrap();
    assert!(decoded.spans().all(|(_, _, s)| s.parent_span_id.is_none()), "protobuf");
    // zipkin2's Span.Builder reads an all-zero parentId as none.
    let data = zipkin(
        r#"[{"traceId":"abc","id":"a","parentId":"0000000000000000","name":"root","timestamp":1,"duration":1}]"#,
    );
    assert_eq!(span_named(&data, "root").parent_span_id, None);
}

#[test]
fn jaeger_warnings_are_kept_where_jaegers_own_translator_keeps_them() {
    // Jaeger v2 keeps a span's warnings in the string-array attribute `@jaeger@warnings`.
    let data = any_traces(&fixture("jaeger-uimodel-ui_01.json")).unwrap();
    let warnings = |name: &str| {
        let span = span_named(&data, name);
        match edgescope_otlp::attribute(&span.attributes, "@jaeger@warnings") {
            Some(AnyValue::Array(w)) => w.iter().map(|w| w.as_str().unwrap().to_owned()).collect::<Vec<_>>(),
            other => panic!("{name}: {other:?}"),
        }
    };
    assert_eq!(warnings("reference-test"), ["some span warning", "some trace warning"]);
    assert_eq!(warnings("preserveParentID-test"), ["some span warning", "some trace warning"]);
    assert_eq!(warnings("test-general-conversion"), ["some trace warning"], "the trace's, on each of its spans");
}

#[test]
fn jaeger_tag_and_log_values_that_do_not_match_their_type_keep_their_text() {
    let doc = r#"{"data":[{"traceID":"aa","processes":{"p1":{"serviceName":"s"}},"spans":[{"traceID":"aa",
        "spanID":"1","operationName":"op","references":[],"startTime":1700000000000000,"duration":10,"processID":"p1",
        "tags":[{"key":"count","type":"int64","value":"n/a"},{"key":"blob","type":"binary","value":"not base64!"},
                {"key":"big","type":"int64","value":18446744073709551615},{"key":"flag","type":"bool","value":"yes"},
                {"key":"ratio","type":"float64","value":"high"},{"key":"n","type":"int64","value":"7"}],
        "logs":[{"timestamp":1700000000000001,"fields":[{"key":"event","type":"int64","value":42},
                                                       {"key":"k","type":"string","value":"v"}]},
                {"timestamp":1700000000000002,"fields":[{"key":"message","type":"float64","value":2.5}]}]}]}]}"#;
    let data = any_traces(doc).unwrap();
    let span = data.spans().next().unwrap().2;
    let tags: Vec<_> = span.attributes.iter().map(|kv| (kv.key.as_str(), kv.value.clone())).collect();
    let text = |s: &str| Some(AnyValue::from(s));
    assert_eq!(
        tags,
        [
            ("count", text("n/a")),
            ("blob", text("not base64!")),
            ("big", text("18446744073709551615")),
            ("flag", text("yes")),
            ("ratio", text("high")),
            ("n", Some(AnyValue::Int(7))),
        ]
    );
    let events: Vec<_> = span.events.iter().map(|e| (e.name.as_str(), e.attributes.len())).collect();
    assert_eq!(events, [("42", 1), ("2.5", 0)]);
}

#[test]
fn an_any_value_with_an_unknown_member_is_read_as_its_known_kind_whatever_the_members_name() {
    for unknown in ["annotation", "zz", "Annotation", "_x"] {
        let doc = format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"0102030405060708090a0b0c0d0e0f10",
            "spanId":"0102030405060708","attributes":[{{"key":"k","value":{{"stringValue":"x","{unknown}":"y"}}}},
            {{"key":"only","value":{{"{unknown}":"y"}}}}]}}]}}]}}]}}"#
        );
        let data = read::traces_from_str(&doc, Ids::Strict).unwrap_or_else(|e| panic!("{unknown}: {e}"));
        let span = data.spans().next().unwrap().2;
        assert_eq!(span.attributes[0].value, Some(AnyValue::from("x")), "{unknown}");
        assert_eq!(span.attributes[1].value, None, "{unknown}: unknown members alone are no value");
    }
}

#[test]
fn a_lone_surrogate_escape_is_read_as_a_replacement_character_not_a_broken_document() {
    // OpenTelemetry JS cuts strings by UTF-16 units, and `JSON.stringify` writes half an emoji
    // as the escape of a lone surrogate; Go's decoder (the Collector's) reads it as U+FFFD.
    let doc = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10",
        "spanId":"0000000000000001","name":"party \ud83c","attributes":[
        {"key":"pair","value":{"stringValue":"\ud83c\udf89 and \\ud83c as text"}},
        {"key":"low","value":{"stringValue":"\uDF89!"}}]}]}]}]}"#;
    let data = read::traces_from_str(doc, Ids::Strict).unwrap();
    let span = data.spans().next().unwrap().2;
    assert_eq!(span.name, "party \u{FFFD}");
    assert_eq!(edgescope_otlp::attribute(&span.attributes, "pair"), Some(&AnyValue::from("🎉 and \\ud83c as text")));
    assert_eq!(edgescope_otlp::attribute(&span.attributes, "low"), Some(&AnyValue::from("\u{FFFD}!")));
    assert_eq!(any_traces(doc).unwrap(), data, "a file reads alike");
    assert!(read::json_value(r#"{"a":"\ud83c"#).is_err(), "a document broken otherwise still is");
    assert_eq!(read::json_value_of_bytes(br#"{"a":"\ud83c!"}"#).unwrap()["a"], "\u{FFFD}!");
    // A request body's bytes that are not UTF-8 (a string cut mid-character) read as U+FFFD, as
    // Go's encoding/json reads them, also beside a lone surrogate: the rest of the request stays.
    let cut = b"{\"a\":\"caf\xc3\",\"b\":\"\xff\xfe\\ud83c\",\"c\":1}";
    let v = read::json_value_of_bytes(cut).unwrap();
    assert_eq!(
        (v["a"].as_str(), v["b"].as_str(), v["c"].as_i64()),
        (Some("caf\u{FFFD}"), Some("\u{FFFD}\u{FFFD}\u{FFFD}"), Some(1))
    );
    assert!(read::json_value_of_bytes(b"{\"a\":\"\xff").is_err(), "a document broken otherwise still is");
}

#[test]
fn a_jaeger_reference_to_span_zero_or_an_unreadable_span_is_never_the_parent() {
    let doc = r#"{"data":[{"traceID":"aa","processes":{"p1":{"serviceName":"s"}},"spans":[
        {"traceID":"aa","spanID":"1","operationName":"root","references":[],"startTime":1,"duration":10,"processID":"p1"},
        {"traceID":"aa","spanID":"2","operationName":"child","startTime":2,"duration":1,"processID":"p1","references":[
          {"refType":"CHILD_OF","traceID":"aa","spanID":"0000000000000000"},
          {"refType":"CHILD_OF","traceID":"aa","spanID":"not hex"},
          {"refType":"CHILD_OF","traceID":"aa","spanID":"1"}]}]}]}"#;
    let data = any_traces(doc).unwrap();
    let child = span_named(&data, "child");
    assert_eq!(child.parent_span_id, Some(edgescope_otlp::SpanId([0, 0, 0, 0, 0, 0, 0, 1])));
    assert!(child.links.is_empty(), "{:?}", child.links);
}
