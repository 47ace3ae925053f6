//! The `opentelemetry` crate's API on edgescope: `global` tracers and loggers, context
//! propagation, and what reaches the export queue. Natively and on wasm32 (Node).
#![cfg(feature = "otel-api")]

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, UNIX_EPOCH};

use edgescope::otel::{self, BaggagePropagator, LoggerProvider, TraceContextPropagator, TracerProvider};
use edgescope::Config;
use edgescope_otlp::{attribute, proto, AnyValue, SpanKind, StatusCode};
use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
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
            2,
        )])
        .with_links(vec![opentelemetry::trace::Link::new(
            opentelemetry::trace::SpanContext::new(
                opentelemetry::trace::TraceId::from(7),
                opentelemetry::trace::SpanId::from(9),
                opentelemetry::trace::TraceFlags::SAMPLED,
                true,
                Default::default(),
            ),
            vec![KeyValue::new("why", "batch")],
            3,
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
    // What the app's event and link had dropped before they came here is counted on.
    assert_eq!((timed.events[0].attributes.len(), timed.events[0].dropped_attributes_count), (1, 2));
    assert_eq!((timed.links[0].attributes.len(), timed.links[0].dropped_attributes_count), (1, 3));
    assert_eq!(timed.events[1].time_unix_nano, 1_800_000_002_123_456_796);
    assert_eq!(timed.end_time_unix_nano, 1_800_000_003_123_456_800);
    let (_, backwards) = spans.iter().find(|(_, s)| s.name == "backwards").unwrap();
    assert_eq!(backwards.end_time_unix_nano, backwards.start_time_unix_nano);
}

#[test]
fn dropping_a_span_ends_it_once() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    global::set_tracer_provider(TracerProvider::new(Config::default()));
    // A second provider keeps the counters: compare with what they were.
    let stale = otel::diagnostics().stale_handles;
    {
        let mut span = global::tracer("drop").start("scoped");
        span.end();
    }
    {
        let _span = global::tracer("drop").start("dropped");
    }
    let names: Vec<String> = exported_spans().into_iter().map(|(_, s)| s.name).collect();
    assert_eq!(names, ["scoped", "dropped"]);
    assert_eq!(otel::diagnostics().stale_handles, stale, "the drop after an explicit end did nothing");
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

fn exported_logs() -> Vec<edgescope_otlp::LogRecord> {
    let mut out = Vec::new();
    while let Some(batch) = otel::take_logs_proto() {
        out.extend(proto::decode_logs(&batch).unwrap().records().map(|(_, _, r)| r.clone()));
    }
    out
}

fn headers(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[test]
fn log_records_are_redacted_and_their_attributes_limited_as_span_attributes_are() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    global::set_tracer_provider(TracerProvider::new(Config { max_attribute_value_length: 8, ..Config::default() }));
    let _ = exported_logs();
    let dropped = otel::diagnostics().attributes_dropped;
    let logger = LoggerProvider::new().logger("redaction");
    let mut record = logger.create_log_record();
    record.set_body("user login password=hunter2 Authorization: Bearer abc.def".into());
    record.add_attribute("db.password", "hunter2");
    record.add_attribute("long", "abcdefghijklmnop");
    record.add_attribute("", "no key");
    let creds: HashMap<opentelemetry::Key, opentelemetry::logs::AnyValue> =
        [("token".into(), "abc123secret".into()), ("region".into(), "eu-west-1-long".into())].into();
    record.add_attribute("creds", opentelemetry::logs::AnyValue::Map(Box::new(creds)));
    logger.emit(record);

    let mut record = logger.create_log_record();
    let body: HashMap<opentelemetry::Key, opentelemetry::logs::AnyValue> =
        [("api_key".into(), "k-123456".into()), ("url.full".into(), "https://x.test/?token=abc&q=1".into())].into();
    record.set_body(opentelemetry::logs::AnyValue::Map(Box::new(body)));
    logger.emit(record);

    let logs = exported_logs();
    assert_eq!(logs.len(), 2);
    let body = format!("{:?}", logs[0].body);
    assert!(!body.contains("hunter2") && !body.contains("abc.def"), "the message is redacted: {body}");
    assert!(body.contains("REDACTED"), "{body}");
    let attrs = &logs[0].attributes;
    assert_eq!(attribute(attrs, "db.password"), Some(&AnyValue::from("REDACTED")));
    assert_eq!(attribute(attrs, "long"), Some(&AnyValue::from("abcdefgh")), "cut to max_attribute_value_length");
    let creds = format!("{:?}", attribute(attrs, "creds"));
    assert!(!creds.contains("abc123secret") && creds.contains("eu-west-"), "{creds}");
    assert!(!creds.contains("eu-west-1-long"), "a map's strings are cut too: {creds}");
    assert_eq!(attribute(attrs, ""), None, "an empty key is dropped");
    assert_eq!(otel::diagnostics().attributes_dropped, dropped + 1, "and counted");
    let body = format!("{:?}", logs[1].body);
    assert!(!body.contains("k-123456") && !body.contains("token=abc"), "a map body's strings by their keys: {body}");
    assert!(body.contains("q=1"), "{body}");
}

#[test]
fn level_2_tracestate_keys_reach_children_injections_and_exports_whole() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    global::set_tracer_provider(TracerProvider::new(Config::default()));
    let _ = exported_spans();
    let propagator = TraceContextPropagator;
    let state = "foo@@bar=1,t@vvvvvvvvvvvvvvv=2,congo=t61,a@b@c=3";
    let incoming =
        headers(&[("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), ("tracestate", state)]);
    let parent_cx = propagator.extract(&incoming);
    assert_eq!(
        parent_cx.span().span_context().trace_state().get("congo"),
        Some("t61"),
        "the crate's TraceState keeps the members it can hold"
    );
    let mut forwarded = HashMap::new();
    propagator.inject_context(&parent_cx, &mut forwarded);
    assert_eq!(forwarded["tracestate"], state, "forwarding the extracted context");

    let tracer = global::tracer("l2");
    let server = tracer.start_with_context("server", &parent_cx);
    let cx = parent_cx.with_span(server);
    let mut outgoing = HashMap::new();
    propagator.inject_context(&cx, &mut outgoing);
    assert_eq!(outgoing["tracestate"], state, "a child's injection");

    // A context that lost the extracted one still has the span's whole state.
    let child = tracer.start_with_context("child", &cx);
    let bare = Context::new().with_span(child);
    let mut outgoing = HashMap::new();
    propagator.inject_context(&bare, &mut outgoing);
    assert_eq!(outgoing["tracestate"], state, "a grandchild's context without the extracted one");
    let grandchild = tracer.start_with_context("grandchild", &bare);
    drop(grandchild);
    drop(bare);
    drop(cx);
    let spans = exported_spans();
    assert_eq!(spans.len(), 3);
    for (_, span) in &spans {
        assert_eq!(span.trace_state, state, "{} exports the whole state", span.name);
    }

    // An app that changes the state through the crate gets its own.
    let changed = parent_cx.span().span_context().trace_state().insert("mine", "1").unwrap();
    let sc = parent_cx.span().span_context().clone();
    let own =
        opentelemetry::trace::SpanContext::new(sc.trace_id(), sc.span_id(), sc.trace_flags(), true, changed.clone());
    let own_cx = parent_cx.with_remote_span_context(own);
    let mut outgoing = HashMap::new();
    propagator.inject_context(&own_cx, &mut outgoing);
    assert_eq!(outgoing["tracestate"], changed.header());

    // A later request of the same trace, extracted on top of this context, sends its own state
    // on, not the earlier request's Level 2 members.
    let only_level_2 = propagator.extract(&headers(&[
        ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        ("tracestate", "foo@@bar=1"),
    ]));
    // The same parent again too: its state now is what this extraction read.
    let later_parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01";
    let same_parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    for (earlier, parent, later, sent) in [
        (&only_level_2, later_parent, None, None),
        (&parent_cx, later_parent, Some("congo=t61"), Some("congo=t61")),
        (&parent_cx, same_parent, Some("congo=t61"), Some("congo=t61")),
        (&parent_cx, same_parent, None, None),
    ] {
        let mut pairs = vec![("traceparent", parent)];
        pairs.extend(later.map(|l| ("tracestate", l)));
        let cx = propagator.extract_with_context(earlier, &headers(&pairs));
        let mut outgoing = HashMap::new();
        propagator.inject_context(&cx, &mut outgoing);
        assert_eq!(outgoing.get("tracestate").map(String::as_str), sent, "{parent} {later:?}");
    }
}

#[test]
fn baggage_propagates_with_edgescopes_parser_and_limits() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let propagator = BaggagePropagator;
    let incoming = headers(&[("baggage", "user.id=42;ttl=60, not a member ,city=S%C3%A3o%20Paulo")]);
    let cx = propagator.extract(&incoming);
    let baggage = cx.baggage();
    assert_eq!(baggage.len(), 2, "the invalid member alone is skipped");
    assert_eq!(baggage.get("city").map(|v| v.as_str()), Some("São Paulo"));
    let (value, metadata) = baggage.get_with_metadata("user.id").unwrap();
    assert_eq!((value.as_str(), metadata.as_str()), ("42", "ttl=60"));
    let mut outgoing = HashMap::new();
    propagator.inject_context(&cx, &mut outgoing);
    assert_eq!(outgoing["baggage"], "city=S%C3%A3o%20Paulo,user.id=42;ttl=60");
    assert_eq!(propagator.extract(&HashMap::new()).baggage().len(), 0);

    // Members past 8,192 bytes are left out whole. (Spaces, which percent-encoding triples, take
    // the header past the limit; the crate's own baggage stops at fewer bytes of values.)
    let big = Context::new().with_baggage((0..40).map(|i| KeyValue::new(format!("k{i:02}"), " ".repeat(100))));
    assert_eq!(big.baggage().len(), 40);
    let mut outgoing = HashMap::new();
    propagator.inject_context(&big, &mut outgoing);
    let header = &outgoing["baggage"];
    assert!(header.len() <= 8192, "{}", header.len());
    let members: Vec<&str> = header.split(',').collect();
    assert!(members.len() < 40 && members.len() > 20, "{} members", members.len());
    assert!(members.iter().all(|m| m.len() == 4 + 300), "no member is cut");

    // Metadata that is no W3C property: the member goes on without it.
    let odd = Context::new().with_baggage([opentelemetry::baggage::KeyValueMetadata::new(
        "ok",
        "1",
        opentelemetry::baggage::BaggageMetadata::from("bad meta"),
    )]);
    let mut outgoing = HashMap::new();
    propagator.inject_context(&odd, &mut outgoing);
    assert_eq!(outgoing.get("baggage").map(String::as_str), Some("ok=1"));

    // With trace context, through the crate's composite.
    let both = TextMapCompositePropagator::new(vec![Box::new(TraceContextPropagator), Box::new(BaggagePropagator)]);
    let incoming = headers(&[
        ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        ("baggage", "tenant=acme"),
    ]);
    let cx = both.extract(&incoming);
    let mut outgoing = HashMap::new();
    both.inject_context(&cx, &mut outgoing);
    assert_eq!(outgoing["baggage"], "tenant=acme");
    assert!(outgoing["traceparent"].contains("4bf92f3577b34da6a3ce929d0e0e4736"));
}

#[test]
fn a_second_provider_loses_nothing_and_keeps_scopes_and_counters() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let _ = (exported_spans(), exported_logs());
    let early_logger = LoggerProvider::new().logger("early-logger");
    let first = TracerProvider::new(Config { service_name: "first".into(), max_attributes: 1, ..Config::default() });
    let early = first.tracer("early-tracer");
    let mut queued = early.start("queued");
    queued.set_attribute(KeyValue::new("a", 1));
    queued.set_attribute(KeyValue::new("b", "over the limit: dropped and counted"));
    queued.end();
    let mut record = early_logger.create_log_record();
    record.set_body("queued record".into());
    early_logger.emit(record);
    let mut open = early.start("open across");
    let counted = otel::diagnostics();
    assert!(counted.attributes_dropped > 0);

    let second = TracerProvider::new(Config { service_name: "second".into(), ..Config::default() });
    let late = second.tracer("late-tracer");
    open.set_attribute(KeyValue::new("still", true));
    open.end();
    let mut after = early.start("early after");
    after.end();
    let mut span = late.start("late");
    span.end();
    let mut record = early_logger.create_log_record();
    record.set_body("late record".into());
    early_logger.emit(record);

    let mut spans = Vec::new();
    while let Some(batch) = otel::take_traces_proto() {
        for (resource, scope, s) in proto::decode_traces(&batch).unwrap().spans() {
            spans.push(format!("{} {} {}", resource.service_name(), scope.name, s.name));
            if s.name == "open across" {
                assert_eq!(attribute(&s.attributes, "still"), Some(&AnyValue::Bool(true)));
            }
        }
    }
    assert_eq!(
        spans,
        [
            "first early-tracer queued",
            "second early-tracer open across",
            "second early-tracer early after",
            "second late-tracer late"
        ]
    );
    let mut logs = Vec::new();
    while let Some(batch) = otel::take_logs_proto() {
        for (resource, scope, r) in proto::decode_logs(&batch).unwrap().records() {
            logs.push(format!("{} {} {:?}", resource.service_name(), scope.name, r.body));
        }
    }
    assert_eq!(
        logs,
        ["first early-logger Some(String(\"queued record\"))", "second early-logger Some(String(\"late record\"))"]
    );
    let now = otel::diagnostics();
    assert_eq!(now.attributes_dropped, counted.attributes_dropped, "the counters were kept");
    assert_eq!(now.stale_handles, counted.stale_handles, "no span was lost");
    assert_eq!(now.spans_dropped, counted.spans_dropped);
}

#[test]
fn attributes_with_an_empty_key_are_dropped_and_counted() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let provider = TracerProvider::new(Config::default());
    let _ = exported_spans();
    let before = otel::diagnostics().attributes_dropped;
    let tracer = provider.tracer("keys");
    let mut span =
        tracer.span_builder("keys").with_attributes([KeyValue::new("", 1), KeyValue::new("kept", 2)]).start(&tracer);
    span.set_attribute(KeyValue::new("", "x"));
    span.add_event("ev", vec![KeyValue::new("", 3), KeyValue::new("e", 4)]);
    span.end();
    let spans = exported_spans();
    let span = &spans[0].1;
    assert_eq!(span.attributes.len(), 1, "{:?}", span.attributes);
    assert_eq!(attribute(&span.attributes, "kept"), Some(&AnyValue::Int(2)));
    assert_eq!(span.events[0].attributes.len(), 1, "{:?}", span.events[0].attributes);
    assert_eq!(otel::diagnostics().attributes_dropped, before + 3, "each empty key counted");
}

#[test]
fn a_span_that_cannot_be_recorded_keeps_its_parents_trace() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    // No span may be open: every start is one that the SDK cannot record.
    let provider = TracerProvider::new(Config { max_open_spans: 0, ..Config::default() });
    let _ = exported_spans();
    let tracer = provider.tracer("limits");
    let incoming = headers(&[
        ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        ("tracestate", "congo=t61"),
    ]);
    let parent_cx = TraceContextPropagator.extract(&incoming);
    let span = tracer.start_with_context("not recorded", &parent_cx);
    let parent = parent_cx.span().span_context().clone();
    let sc = span.span_context().clone();
    assert!(!span.is_recording());
    assert!(sc.is_valid(), "not an empty context");
    assert_eq!(sc.trace_id(), parent.trace_id(), "the parent's trace");
    assert_ne!(sc.span_id(), parent.span_id(), "a span id of its own");
    assert!(!sc.is_remote());
    assert_eq!(sc.trace_flags(), parent.trace_flags());
    let mut outgoing = HashMap::new();
    TraceContextPropagator.inject_context(&parent_cx.with_span(span), &mut outgoing);
    assert_eq!(
        outgoing["traceparent"],
        format!("00-4bf92f3577b34da6a3ce929d0e0e4736-{}-01", sc.span_id()),
        "its children stay in the trace"
    );
    assert_eq!(outgoing["tracestate"], "congo=t61");

    let orphan = tracer.start_with_context("no parent", &Context::new());
    assert!(orphan.span_context().is_valid() && !orphan.is_recording(), "a new trace of its own");
    drop(orphan);
    assert!(exported_spans().is_empty());
    global::set_tracer_provider(TracerProvider::new(Config::default()));
}

#[test]
fn with_keep_errors_a_child_of_an_ended_span_decides_on_its_trace_as_a_root_does() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let provider =
        TracerProvider::new(Config { sampler: edgescope::Sampler::AlwaysOff, keep_errors: true, ..Config::default() });
    let _ = exported_spans();
    let tracer = provider.tracer("after-the-response");
    for (request, fail) in [("ok request", false), ("failing request", true)] {
        // The request's span ends (the response is sent) while work it started goes on.
        let cx = Context::new().with_span(tracer.start(request));
        cx.span().end();
        let mut later = tracer.start_with_context("background write", &cx);
        assert!(later.is_recording(), "held for keepErrors");
        if fail {
            later.set_status(Status::error("disk full"));
        }
        later.end();
    }
    let spans = exported_spans();
    let names: Vec<_> = spans.iter().map(|(_, s)| s.name.as_str()).collect();
    // Its parent was let go when it ended without an error; nothing waits for it any more.
    assert_eq!(names, ["background write"], "the failing work, decided when it ended");
    let (_, span) = &spans[0];
    assert!(span.parent_span_id.is_some(), "it keeps its parent");
    assert_eq!(span.flags & 0x300, 0x100, "its parent is local, not remote");

    // A child of a span still open waits for it, as before.
    let parent = tracer.start("open request");
    let cx = Context::new().with_span(parent);
    let mut child = tracer.start_with_context("query", &cx);
    child.set_status(Status::error("timeout"));
    child.end();
    assert!(exported_spans().is_empty(), "held until its local root ends");
    cx.span().end();
    let mut names: Vec<_> = exported_spans().into_iter().map(|(_, s)| s.name).collect();
    names.sort();
    assert_eq!(names, ["open request", "query"]);
    global::set_tracer_provider(TracerProvider::new(Config::default()));
}

#[test]
fn queues_set_aside_by_reconfigurations_are_bounded_and_their_drops_counted() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let _ = (exported_spans(), exported_logs());
    let dropped = otel::diagnostics().spans_dropped;
    for i in 0..6 {
        let provider = TracerProvider::new(Config { service_name: format!("s{i}"), ..Config::default() });
        provider.tracer("sets").start(format!("a{i}")).end();
    }
    let mut spans = Vec::new();
    while let Some(batch) = otel::take_traces_proto() {
        for (resource, _, s) in proto::decode_traces(&batch).unwrap().spans() {
            spans.push(format!("{} {}", resource.service_name(), s.name));
        }
    }
    // Four sets wait aside at most: the fifth reconfiguration drops the oldest, s0's.
    assert_eq!(spans, ["s1 a1", "s2 a2", "s3 a3", "s4 a4", "s5 a5"]);
    assert_eq!(otel::diagnostics().spans_dropped, dropped + 1);
    global::set_tracer_provider(TracerProvider::new(Config::default()));
}

/// On wasm32 the `opentelemetry` crate's "now" (`end()` and `add_event()` of a `BoxedSpan` or
/// `cx.span()`) is `Date.now()` in whole milliseconds, a clock apart from the one spans start on;
/// here it is set 300 ms behind (less than the second after which the SDK re-anchors its clock),
/// and the spans still last as long as they ran, their events within them.
#[cfg(target_arch = "wasm32")]
#[test]
fn the_crates_own_now_on_wasm32_is_the_sdks_clock_so_spans_keep_their_duration() {
    use js_sys::{Function, Reflect};
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    global::set_tracer_provider(TracerProvider::new(Config::default()));
    let tracer = global::tracer("clocks");
    let date = Reflect::get(&js_sys::global(), &"Date".into()).unwrap();
    let real_now = Reflect::get(&date, &"now".into()).unwrap();
    let behind = Function::new_with_args("now", "return () => now() - 300").call1(&date, &real_now).unwrap();
    let wait = |ms: f64| {
        let end = js_sys::Date::now() + ms;
        while js_sys::Date::now() < end {}
    };
    // The SDK compares its clock with `Date.now()` at most every 20 ms: past that, the start below
    // is read against the wall clock as it is now, whatever the machine's clock did before (a
    // step of the host's clock earlier in the run would otherwise count in this span).
    wait(25.0);
    // Started first, as the clock is read at start: then the crate's "now" runs behind.
    let mut boxed = tracer.start("boxed");
    let cx = Context::current_with_span(tracer.start("through the context"));
    Reflect::set(&date, &"now".into(), &behind).unwrap();
    wait(3.0);
    boxed.add_event("midway", vec![]);
    cx.span().add_event("midway", vec![]);
    wait(3.0);
    boxed.end();
    cx.span().end();
    Reflect::set(&date, &"now".into(), &real_now).unwrap();
    let spans = exported_spans();
    for name in ["boxed", "through the context"] {
        let (_, s) = spans.iter().find(|(_, s)| s.name == name).unwrap();
        let lasted = s.end_time_unix_nano - s.start_time_unix_nano;
        assert!((5_000_000..1_000_000_000).contains(&lasted), "{name} lasted {lasted} ns");
        let at = s.events[0].time_unix_nano;
        assert!(at > s.start_time_unix_nano && at < s.end_time_unix_nano, "{name}'s event inside it");
    }
}

/// `record_error` on an edgescope span makes an exception event with `exception.message` (the
/// error's `Display`), or, for an error that displays as nothing, its `Debug` form: never an
/// exception event without the message or type the semantic conventions require.
#[test]
fn recorded_errors_always_say_what_they_were() {
    #[derive(Debug)]
    struct Silent;
    impl std::fmt::Display for Silent {
        fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            Ok(())
        }
    }
    impl std::error::Error for Silent {}
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    // The provider's own tracer: a `global` tracer's `BoxedSpan` records errors with the crate's
    // default method (`exception.message` as displayed, even when empty), never reaching ours.
    let tracer = TracerProvider::new(Config::default()).tracer("errors");
    let mut span = tracer.start("failing");
    span.record_error(&"12x".parse::<u32>().unwrap_err());
    span.record_error(&Silent);
    span.end();
    let spans = exported_spans();
    let (_, s) = spans.iter().find(|(_, s)| s.name == "failing").unwrap();
    let messages: Vec<_> = s
        .events
        .iter()
        .map(|e| {
            assert_eq!(e.name, "exception");
            attribute(&e.attributes, "exception.message").cloned()
        })
        .collect();
    assert_eq!(messages, [Some(AnyValue::from("invalid digit found in string")), Some(AnyValue::from("Silent"))]);
}

/// Inside `Context::enter_telemetry_suppressed_scope` (where an SDK's own work runs, as an
/// instrumented HTTP client exporting), no span is recorded and no log record emitted; after it,
/// both are again.
#[test]
fn suppressed_telemetry_records_no_spans_and_no_log_records() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    global::set_tracer_provider(TracerProvider::new(Config::default()));
    let logger = LoggerProvider::new().logger("quiet");
    let tracer = global::tracer("quiet");
    let emit = |body: &'static str| {
        let mut record = logger.create_log_record();
        record.set_body(body.into());
        logger.emit(record);
    };
    {
        let _suppressed = Context::enter_telemetry_suppressed_scope();
        assert!(!logger.event_enabled(Severity::Error, "quiet", None));
        tracer.in_span("suppressed", |cx| {
            assert!(!cx.span().is_recording());
            assert!(!cx.span().span_context().is_valid());
            emit("suppressed record");
        });
        let parent = Context::current().with_telemetry_suppressed();
        tracer.start_with_context("suppressed child", &parent).end();
    }
    assert!(logger.event_enabled(Severity::Error, "quiet", None));
    tracer.in_span("recorded", |_| emit("recorded record"));
    let names: Vec<_> = exported_spans().into_iter().map(|(_, s)| s.name).collect();
    assert_eq!(names, ["recorded"]);
    let bodies: Vec<_> = exported_logs().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies, [Some(AnyValue::from("recorded record"))]);
}

/// Headers as a carrier with repeated fields (as `http::HeaderMap`) hands them to the propagator.
struct Repeated(Vec<(&'static str, &'static str)>);

impl opentelemetry::propagation::Extractor for Repeated {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| *k).collect()
    }
    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let all: Vec<_> = self.0.iter().filter(|(k, _)| *k == key).map(|(_, v)| *v).collect();
        (!all.is_empty()).then_some(all)
    }
}

/// W3C Trace Context over repeated headers: several `tracestate` fields are one list (and
/// validated as one: a duplicate key across them drops the whole state), two `traceparent`
/// fields are no parent at all.
#[test]
fn repeated_trace_context_headers_are_read_as_the_w3c_spec_says() {
    let propagator = TraceContextPropagator;
    let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let sent = |carrier: Repeated| {
        let cx = propagator.extract(&carrier);
        let mut out = HashMap::new();
        propagator.inject_context(&cx, &mut out);
        (out.get("traceparent").cloned(), out.get("tracestate").cloned())
    };
    let (parent, state) = sent(Repeated(vec![("traceparent", tp), ("tracestate", "a=1,b=2"), ("tracestate", "c=3")]));
    assert_eq!(parent.as_deref(), Some(tp));
    assert_eq!(state.as_deref(), Some("a=1,b=2,c=3"));
    let (_, state) = sent(Repeated(vec![("traceparent", tp), ("tracestate", "a=1"), ("tracestate", "a=2")]));
    assert_eq!(state, None, "a key twice across the headers");
    let other = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let (parent, _) = sent(Repeated(vec![("traceparent", tp), ("traceparent", other), ("tracestate", "a=1")]));
    assert_eq!(parent, None, "two traceparent headers");
}

/// A scope's schema URL (`InstrumentationScope::builder(..).with_schema_url(..)`) is exported
/// with its spans and log records (`ScopeSpans`/`ScopeLogs.schema_url`); the same name under
/// another schema URL is another scope.
#[test]
fn scopes_keep_their_schema_urls() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    global::set_tracer_provider(TracerProvider::new(Config::default()));
    let _ = exported_spans();
    let scope = |url: &'static str| {
        let builder = opentelemetry::InstrumentationScope::builder("http-client").with_version("3.0.0");
        if url.is_empty() { builder } else { builder.with_schema_url(url) }.build()
    };
    let new = "https://opentelemetry.io/schemas/1.37.0";
    let old = "https://opentelemetry.io/schemas/1.20.0";
    global::tracer_provider().tracer_with_scope(scope(new)).start("new conventions").end();
    global::tracer_provider().tracer_with_scope(scope(old)).start("old conventions").end();
    global::tracer_provider().tracer_with_scope(scope("")).start("no schema").end();
    let logger = LoggerProvider::new().logger_with_scope(scope(new));
    let mut record = logger.create_log_record();
    record.set_body("with a schema".into());
    logger.emit(record);
    let mut schema_of = HashMap::new();
    while let Some(batch) = otel::take_traces_proto() {
        for rs in proto::decode_traces(&batch).unwrap().resource_spans {
            for ss in rs.scope_spans {
                assert_eq!((ss.scope.name.as_str(), ss.scope.version.as_str()), ("http-client", "3.0.0"));
                for span in ss.spans {
                    schema_of.insert(span.name, ss.schema_url.clone());
                }
            }
        }
    }
    assert_eq!(schema_of["new conventions"], new);
    assert_eq!(schema_of["old conventions"], old);
    assert_eq!(schema_of["no schema"], "");
    let logs = proto::decode_logs(&otel::take_logs_proto().unwrap()).unwrap();
    assert_eq!(logs.resource_logs[0].scope_logs[0].schema_url, new);
}

/// The resource of the exported traces.
fn exported_resource() -> edgescope_otlp::Resource {
    let batch = otel::take_traces_proto().expect("a batch");
    while otel::take_traces_proto().is_some() {}
    proto::decode_traces(&batch).unwrap().resource_spans[0].resource.clone()
}

#[test]
fn the_resource_is_exempt_from_attribute_limits_and_has_a_service_and_keys() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    // A limit of 3 per span keeps the resource's attributes whole, as OpenTelemetry asks; an
    // empty service name is `unknown_service`; an empty key is dropped and counted.
    global::set_tracer_provider(TracerProvider::new(Config {
        service_name: String::new(),
        max_attributes: 3,
        max_export_batch_size: 0,
        resource_attributes: vec![
            edgescope_otlp::KeyValue::new("deployment.environment.name", "qa"),
            edgescope_otlp::KeyValue::new("", "no key"),
        ],
        ..Config::default()
    }));
    global::tracer("limits").start("limited").end();
    let resource = exported_resource();
    assert_eq!(attribute(&resource.attributes, "service.name"), Some(&AnyValue::from("unknown_service")));
    assert_eq!(attribute(&resource.attributes, "deployment.environment.name"), Some(&AnyValue::from("qa")));
    assert!(resource.attributes.iter().all(|kv| !kv.key.is_empty()));
    assert_eq!(resource.dropped_attributes_count, 1, "the empty key");
}

#[test]
fn injection_sends_only_the_trace_flags_w3c_defines() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    global::set_tracer_provider(TracerProvider::new(Config { service_name: "flags".into(), ..Config::default() }));
    // A context with every flag bit set (a Jaeger propagator's debug bit 0x04 among them).
    let remote = opentelemetry::trace::SpanContext::new(
        opentelemetry::trace::TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap(),
        opentelemetry::trace::SpanId::from_hex("b7ad6b7169203331").unwrap(),
        opentelemetry::trace::TraceFlags::new(0xff),
        true,
        Default::default(),
    );
    let cx = Context::new().with_remote_span_context(remote);
    let mut carrier = HashMap::new();
    TraceContextPropagator.inject_context(&cx, &mut carrier);
    assert_eq!(carrier["traceparent"], "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03");
}
