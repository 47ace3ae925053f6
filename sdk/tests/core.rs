//! The SDK core's behaviour, run natively and (through wasm-bindgen-test) on wasm32 in Node.

use edgescope::propagation::{parse_traceparent, FLAG_RANDOM, FLAG_SAMPLED};
use edgescope::{AnyValue, Config, Handle, Sdk, Severity, SpanKind, StatusCode};
use edgescope_otlp::read::{logs_from_str, traces_from_str, Ids};
use edgescope_otlp::{attribute, LogsData, TracesData};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn sdk() -> Sdk {
    Sdk::new(Config { service_name: "shop".into(), ..Config::default() })
}

fn drain_traces(sdk: &mut Sdk) -> TracesData {
    let mut all = TracesData::default();
    while let Some(body) = sdk.take_traces_json() {
        all.resource_spans.extend(traces_from_str(&body, Ids::Strict).expect("valid OTLP/JSON").resource_spans);
    }
    all
}

fn drain_logs(sdk: &mut Sdk) -> LogsData {
    let mut all = LogsData::default();
    while let Some(body) = sdk.take_logs_json() {
        all.resource_logs.extend(logs_from_str(&body, Ids::Strict).expect("valid OTLP/JSON").resource_logs);
    }
    all
}

#[test]
fn a_root_span_starts_a_sampled_random_trace_and_exports_with_its_resource() {
    let mut sdk = sdk();
    let h = sdk.start_span("load", SpanKind::Internal, None);
    sdk.set_attribute(h, "items", AnyValue::Int(3));
    sdk.set_attribute(h, "ratio", AnyValue::Double(0.5));
    sdk.set_status(h, StatusCode::Error, "out of stock");
    sdk.end_span(h);
    let data = drain_traces(&mut sdk);
    let (resource, scope, span) = data.spans().next().unwrap();
    assert_eq!(resource.service_name(), "shop");
    assert_eq!(attribute(&resource.attributes, "telemetry.sdk.name"), Some(&AnyValue::from("edgescope")));
    assert_eq!(scope.name, "edgescope");
    assert!(span.trace_id.is_valid() && span.span_id.is_valid());
    assert_eq!(span.parent_span_id, None);
    assert_eq!(span.flags & 0xff, (FLAG_SAMPLED | FLAG_RANDOM) as u32);
    assert!(span.end_time_unix_nano >= span.start_time_unix_nano);
    assert!(span.start_time_unix_nano > 1_600_000_000_000_000_000, "Unix time in nanoseconds");
    assert_eq!(attribute(&span.attributes, "ratio"), Some(&AnyValue::Double(0.5)));
    assert_eq!(span.status.code, StatusCode::Error);
    assert_eq!(span.status.message, "out of stock");
}

#[test]
fn spans_started_while_a_span_is_active_are_its_children() {
    let mut sdk = sdk();
    let parent = sdk.start_span("click", SpanKind::Internal, None);
    sdk.activate(parent);
    let child = sdk.start_span("GET", SpanKind::Client, None);
    sdk.deactivate(parent);
    let other = sdk.start_span("later", SpanKind::Internal, None);
    let (pc, cc, oc) =
        (sdk.span_context(parent).unwrap(), sdk.span_context(child).unwrap(), sdk.span_context(other).unwrap());
    assert_eq!(cc.trace_id, pc.trace_id);
    assert_ne!(cc.span_id, pc.span_id);
    assert_ne!(oc.trace_id, pc.trace_id, "after deactivation a new trace starts");
    for h in [child, parent, other] {
        sdk.end_span(h);
    }
    let data = drain_traces(&mut sdk);
    let child_span = data.spans().map(|(_, _, s)| s).find(|s| s.name == "GET").unwrap();
    assert_eq!(child_span.parent_span_id, Some(pc.span_id));
    assert_eq!(child_span.flags & 0x300, 0x100, "parent known to be local");
}

#[test]
fn a_remote_parent_is_continued_with_its_flags_and_tracestate() {
    let mut sdk = sdk();
    let mut remote = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
    remote.trace_state = "vendor=x".into();
    let h = sdk.start_span("GET /todos", SpanKind::Server, Some(&remote));
    sdk.end_span(h);
    let data = drain_traces(&mut sdk);
    let span = data.spans().next().unwrap().2;
    assert_eq!(span.trace_id, remote.trace_id);
    assert_eq!(span.parent_span_id, Some(remote.span_id));
    assert_ne!(span.span_id, remote.span_id);
    assert_eq!(span.flags, 0x301, "sampled, parent remote");
    assert_eq!(span.trace_state, "vendor=x");
}

#[test]
fn log_records_carry_the_active_span_and_staged_attributes() {
    let mut sdk = sdk();
    sdk.log(Severity::Info, "before");
    let h = sdk.start_span("work", SpanKind::Internal, None);
    sdk.activate(h);
    sdk.stage_attribute("user", AnyValue::from("ada"));
    sdk.log(Severity::Warn, "during");
    let cx = sdk.span_context(h).unwrap();
    sdk.end_span(h);
    sdk.log(Severity::Error, "after");
    let logs = drain_logs(&mut sdk);
    let records: Vec<_> = logs.records().map(|(_, _, r)| r).collect();
    assert_eq!(records.len(), 3);
    assert_eq!((records[0].trace_id, records[2].trace_id), (None, None), "ending a span deactivates it");
    assert_eq!(records[1].trace_id, Some(cx.trace_id));
    assert_eq!(records[1].span_id, Some(cx.span_id));
    assert_eq!((records[1].severity_number, records[1].severity_text.as_str()), (13, "WARN"));
    assert_eq!(attribute(&records[1].attributes, "user"), Some(&AnyValue::from("ada")));
    assert!(records[0].attributes.is_empty(), "staged attributes are used once");
}

#[test]
fn a_full_queue_drops_and_counts_instead_of_growing() {
    let mut sdk = Sdk::new(Config { max_queue_size: 5, max_log_queue_size: 2, ..Config::default() });
    for _ in 0..8 {
        let h = sdk.start_span("s", SpanKind::Internal, None);
        sdk.end_span(h);
        sdk.log(Severity::Info, "l");
    }
    assert_eq!(sdk.queued_spans(), 5);
    assert_eq!(sdk.queued_logs(), 2);
    assert_eq!(sdk.diagnostics().spans_dropped, 3);
    assert_eq!(sdk.diagnostics().logs_dropped, 6);
}

#[test]
fn batches_are_split_at_the_export_batch_size() {
    let mut sdk = Sdk::new(Config { max_export_batch_size: 4, ..Config::default() });
    for _ in 0..10 {
        let h = sdk.start_span("s", SpanKind::Internal, None);
        sdk.end_span(h);
    }
    let sizes: Vec<usize> = std::iter::from_fn(|| sdk.take_traces_json())
        .map(|b| traces_from_str(&b, Ids::Strict).unwrap().spans().count())
        .collect();
    assert_eq!(sizes, [4, 4, 2]);
}

#[test]
fn ended_and_unknown_handles_are_ignored_and_counted() {
    let mut sdk = sdk();
    let h = sdk.start_span("once", SpanKind::Internal, None);
    sdk.end_span(h);
    let reused = sdk.start_span("next", SpanKind::Internal, None);
    sdk.end_span(h);
    sdk.set_attribute(h, "late", AnyValue::Bool(true));
    sdk.set_attribute(Handle(0xdead_beef), "bogus", AnyValue::Bool(true));
    assert!(sdk.span_context(reused).is_some(), "a stale handle never reaches the slot's new span");
    assert_eq!(sdk.diagnostics().stale_handles, 3);
    assert_eq!(sdk.queued_spans(), 1);
}

#[test]
fn too_many_open_spans_yield_no_op_spans() {
    let mut sdk = Sdk::new(Config { max_open_spans: 2, ..Config::default() });
    let a = sdk.start_span("a", SpanKind::Internal, None);
    let _b = sdk.start_span("b", SpanKind::Internal, None);
    let c = sdk.start_span("c", SpanKind::Internal, None);
    assert_eq!(c, Handle::NONE);
    assert_eq!(sdk.diagnostics().spans_refused, 1);
    sdk.end_span(c);
    assert_eq!(sdk.diagnostics().stale_handles, 0, "the no-op span is not an error");
    sdk.end_span(a);
    assert_ne!(sdk.start_span("d", SpanKind::Internal, None), Handle::NONE);
}

#[test]
fn attributes_beyond_the_limit_are_dropped_and_counted() {
    let mut sdk = Sdk::new(Config { max_attributes: 2, ..Config::default() });
    let h = sdk.start_span("s", SpanKind::Internal, None);
    for k in ["a", "b", "c", "a"] {
        sdk.set_attribute(h, k, AnyValue::Int(1));
    }
    sdk.end_span(h);
    let data = drain_traces(&mut sdk);
    let span = data.spans().next().unwrap().2;
    assert_eq!(span.attributes.len(), 2);
    assert_eq!(span.dropped_attributes_count, 1);
    assert_eq!(sdk.diagnostics().attributes_dropped, 1);
}

#[test]
fn protobuf_batches_carry_the_same_spans_and_records_as_json_batches() {
    let mut a = sdk();
    let h = a.start_span("GET", SpanKind::Client, None);
    a.set_attribute(h, "http.response.status_code", AnyValue::Int(200));
    a.activate(h);
    a.log(Severity::Info, "answered");
    a.end_span(h);
    let proto_spans = edgescope_otlp::proto::decode_traces(&a.take_traces_proto().unwrap()).unwrap();
    let proto_logs = edgescope_otlp::proto::decode_logs(&a.take_logs_proto().unwrap()).unwrap();
    assert_eq!(a.take_traces_proto(), None, "the batch was taken");
    let span = proto_spans.spans().next().unwrap().2;
    assert_eq!(span.name, "GET");
    assert_eq!(attribute(&span.attributes, "http.response.status_code"), Some(&AnyValue::Int(200)));
    let record = proto_logs.records().next().unwrap().2;
    assert_eq!(record.span_id, Some(span.span_id));
    assert_eq!(proto_spans.resource_spans[0].resource.service_name(), "shop");
}
