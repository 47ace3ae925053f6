//! The `opentelemetry` crate's API on edgescope: `global` tracers and loggers, context
//! propagation, and what reaches the export queue. Natively and on wasm32 (Node).
#![cfg(feature = "otel-api")]

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, UNIX_EPOCH};

use edgescope::otel::{self, LoggerProvider, TraceContextPropagator, TracerProvider};
use edgescope::Config;
use edgescope_otlp::{attribute, proto, AnyValue, SpanKind, StatusCode};
use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{Span as _, SpanKind as OtKind, Status, TraceContextExt, Tracer as _, TracerProvider as _};
use opentelemetry::{global, Context, KeyValue};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// The SDK is one per process: tests that configure it take turns.
static TURN: Mutex<()> = Mutex::new(());

fn exported_spans() -> Vec<(String, edgescope_otlp::Span)> {
    let mut out = Vec::new();
    while let Some(batch) = otel::take_traces_proto() {
        let data = proto::decode_traces(&batch).unwrap();
        out.extend(data.spans().map(|(_, scope, s)| (scope.name.clone(), s.clone())));
    }
    out
}

#[test]
fn global_tracers_make_nested_spans_with_scopes_attributes_events_and_status() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    global::set_tracer_provider(TracerProvider::new(Config { service_name: "rust-app".into(), ..Config::default() }));
    let tracer = global::tracer_provider()
        .tracer_with_scope(opentelemetry::InstrumentationScope::builder("checkout").with_version("1.2.0").build());
    tracer.in_span("parent", |cx| {
        let mut child = tracer
            .span_builder("child")
            .with_kind(OtKind::Client)
            .with_attributes([KeyValue::new("http.request.method", "GET"), KeyValue::new("retries", 2)])
            .start_with_context(&tracer, &cx);
        child.add_event("cache miss", vec![KeyValue::new("key", "cart:1")]);
        child.set_attribute(KeyValue::new("ratio", 0.5));
        child.set_attribute(KeyValue::new(
            "tags",
            opentelemetry::Value::Array(opentelemetry::Array::String(vec!["a".into(), "b".into()])),
        ));
        child.set_status(Status::error("upstream 503"));
        child.end_with_timestamp(UNIX_EPOCH + Duration::from_secs(4_000_000_000));
    });
    let spans = exported_spans();
    assert_eq!(spans.len(), 2);
    let (scope, child) = spans.iter().find(|(_, s)| s.name == "child").unwrap();
    let (_, parent) = spans.iter().find(|(_, s)| s.name == "parent").unwrap();
    assert_eq!(scope, "checkout");
    assert_eq!(child.trace_id, parent.trace_id);
    assert_eq!(child.parent_span_id, Some(parent.span_id));
    assert_eq!(parent.parent_span_id, None);
    assert_eq!(child.kind, SpanKind::Client);
    assert_eq!(attribute(&child.attributes, "retries"), Some(&AnyValue::Int(2)));
    assert_eq!(attribute(&child.attributes, "ratio"), Some(&AnyValue::Double(0.5)));
    assert_eq!(
        attribute(&child.attributes, "tags"),
        Some(&AnyValue::Array(vec![AnyValue::from("a"), AnyValue::from("b")]))
    );
    assert_eq!(child.events[0].name, "cache miss");
    assert_eq!(child.status.code, StatusCode::Error);
    assert_eq!(child.status.message, "upstream 503");
    assert_eq!(child.end_time_unix_nano, 4_000_000_000 * 1_000_000_000, "an explicit end time is kept");
}

#[test]
fn given_start_event_and_end_times_are_kept_to_the_nanosecond_and_an_end_is_never_before_its_start() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    global::set_tracer_provider(TracerProvider::new(Config::default()));
    let tracer = global::tracer("times");
    let start = UNIX_EPOCH + Duration::new(1_800_000_000, 123_456_789);
    let mut span = tracer
        .span_builder("timed")
        .with_start_time(start)
        .with_events(vec![opentelemetry::trace::Event::new(
            "at start",
            start + Duration::from_nanos(1),
            vec![KeyValue::new("k", "v")],
            0,
        )])
        .start(&tracer);
    span.add_event_with_timestamp("later", start + Duration::new(2, 7), vec![]);
    span.end_with_timestamp(start + Duration::new(3, 11));
    // An end before the start: moved to the start.
    let mut backwards = tracer.span_builder("backwards").with_start_time(start).start(&tracer);
    backwards.end_with_timestamp(start - Duration::from_secs(60));
    let spans = exported_spans();
    let (_, timed) = spans.iter().find(|(_, s)| s.name == "timed").unwrap();
    assert_eq!(timed.start_time_unix_nano, 1_800_000_000_123_456_789);
    assert_eq!(timed.events[0].time_unix_nano, 1_800_000_000_123_456_790);
    assert_eq!(timed.events[1].time_unix_nano, 1_800_000_002_123_456_796);
    assert_eq!(timed.end_time_unix_nano, 1_800_000_003_123_456_800);
    let (_, backwards) = spans.iter().find(|(_, s)| s.name == "backwards").unwrap();
    assert_eq!(backwards.end_time_unix_nano, backwards.start_time_unix_nano);
}

#[test]
fn dropping_a_span_ends_it_once() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    global::set_tracer_provider(TracerProvider::new(Config::default()));
    {
        let mut span = global::tracer("drop").start("scoped");
        span.end();
    }
    {
        let _span = global::tracer("drop").start("dropped");
    }
    let names: Vec<String> = exported_spans().into_iter().map(|(_, s)| s.name).collect();
    assert_eq!(names, ["scoped", "dropped"]);
    assert_eq!(otel::diagnostics().stale_handles, 0, "the drop after an explicit end did nothing");
}

#[test]
fn trace_context_propagates_through_global_injectors_and_extractors() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    global::set_tracer_provider(TracerProvider::new(Config::default()));
    let propagator = TraceContextPropagator;
    let incoming: HashMap<String, String> = [
        ("traceparent".to_owned(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned()),
        ("tracestate".to_owned(), "congo=t61rcWkgMzE".to_owned()),
    ]
    .into();
    let parent_cx = propagator.extract(&incoming);
    assert!(parent_cx.span().span_context().is_remote());
    let tracer = global::tracer("server");
    let span = tracer.span_builder("GET /").with_kind(OtKind::Server).start_with_context(&tracer, &parent_cx);
    let cx = Context::current_with_span(span);
    let mut outgoing = HashMap::new();
    propagator.inject_context(&cx, &mut outgoing);
    let tp = &outgoing["traceparent"];
    assert!(tp.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
    assert!(!tp.contains("00f067aa0ba902b7"), "our own span id goes out");
    assert_eq!(outgoing["tracestate"], "congo=t61rcWkgMzE");
    drop(cx);
    let spans = exported_spans();
    assert_eq!(spans[0].1.parent_span_id.unwrap().to_hex(), "00f067aa0ba902b7");
    assert_eq!(spans[0].1.flags & 0x300, 0x300, "the parent is remote");

    let bad: HashMap<String, String> = [("traceparent".to_owned(), "00-xyz".to_owned())].into();
    assert!(!propagator.extract(&bad).span().span_context().is_valid(), "an invalid header starts a new trace");
}

#[test]
fn log_records_carry_the_current_span_and_their_fields() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    global::set_tracer_provider(TracerProvider::new(Config { service_name: "rust-app".into(), ..Config::default() }));
    let logger = LoggerProvider::new().logger("payments");
    let tracer = global::tracer("payments");
    let span_id = tracer.in_span("charge", |cx| {
        let mut record = logger.create_log_record();
        record.set_severity_number(Severity::Warn);
        record.set_severity_text("WARN");
        record.set_body("card declined".into());
        record.add_attribute("amount", 12.5);
        logger.emit(record);
        cx.span().span_context().span_id()
    });
    let batch = otel::take_logs_proto().expect("one record");
    let logs = proto::decode_logs(&batch).unwrap();
    let (resource, scope, record) = logs.records().next().unwrap();
    assert_eq!(resource.service_name(), "rust-app");
    assert_eq!(scope.name, "payments");
    assert_eq!(record.severity_number, 13);
    assert_eq!(record.body, Some(AnyValue::from("card declined")));
    assert_eq!(attribute(&record.attributes, "amount"), Some(&AnyValue::Double(12.5)));
    assert_eq!(record.span_id.unwrap().0, span_id.to_bytes(), "correlated with the current span");
    assert!(record.observed_time_unix_nano > 0);
    let _ = exported_spans();
}
