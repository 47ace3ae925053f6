//! The SDK core's behaviour, run natively and (through wasm-bindgen-test) on wasm32 in Node.

use edgescope::propagation::{parse_traceparent, FLAG_RANDOM, FLAG_SAMPLED};
use edgescope::{AnyValue, Config, Correlation, Handle, Sampler, Sdk, Severity, SpanKind, StartOptions, StatusCode};
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
    // A Rust app's spans say `rust`; the npm module's (built with `js-exports`) a JavaScript API's.
    let language = if cfg!(feature = "js-exports") { "webjs" } else { "rust" };
    assert_eq!(attribute(&resource.attributes, "telemetry.sdk.language"), Some(&AnyValue::from(language)));
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
fn a_log_record_of_an_ended_span_belongs_to_it_by_the_context_it_kept() {
    let mut sdk = sdk();
    let h = sdk.start_span("request", SpanKind::Server, None);
    let cx = sdk.span_context(h).unwrap();
    sdk.end_span(h);
    sdk.log_cut(Severity::Info, "after the response", Correlation::Ended(cx.clone()), "", usize::MAX);
    sdk.log_cut(Severity::Info, "by the stale handle", Correlation::Span(h), "", usize::MAX);
    let logs = drain_logs(&mut sdk);
    let records: Vec<_> = logs.records().map(|(_, _, r)| r).collect();
    assert_eq!((records[0].trace_id, records[0].span_id), (Some(cx.trace_id), Some(cx.span_id)));
    assert_eq!(records[0].flags, cx.flags as u32);
    assert_eq!(records[1].trace_id, None, "an ended span's handle correlates nothing");
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
fn a_handle_of_a_replaced_sdk_never_reaches_a_span_of_the_new_one() {
    let mut sdk = sdk();
    // Slot 0 used twice (generation 1 open), slot 1 once (generation 0 open).
    let ended = sdk.start_span("ended", SpanKind::Internal, None);
    sdk.end_span(ended);
    let open = [sdk.start_span("open 0", SpanKind::Internal, None), sdk.start_span("open 1", SpanKind::Internal, None)];
    sdk.replace(Config::default());
    let fresh = [sdk.start_span("new 0", SpanKind::Internal, None), sdk.start_span("new 1", SpanKind::Internal, None)];
    for h in open.into_iter().chain([ended]) {
        assert!(sdk.span_context(h).is_none(), "the old handle names no span of the new SDK");
        sdk.set_attribute(h, "old", AnyValue::Bool(true));
        sdk.end_span(h);
    }
    assert!(fresh.iter().all(|h| sdk.span_context(*h).is_some()), "the new spans stay open");
    assert_eq!(sdk.diagnostics().stale_handles, 6);
    assert_eq!(sdk.queued_spans(), 0);
    // A third SDK's spans are past the second's too.
    sdk.replace(Config::default());
    let third = sdk.start_span("third", SpanKind::Internal, None);
    sdk.end_span(fresh[0]);
    assert!(sdk.span_context(third).is_some());
}

#[test]
fn at_the_open_span_limit_the_oldest_open_span_makes_room() {
    // Spans started and never ended (a leak in an app or a library) must not switch tracing off.
    let mut sdk = Sdk::new(Config { max_open_spans: 3, ..Config::default() });
    let leaked = sdk.start_span("leaked", SpanKind::Internal, None);
    let a = sdk.start_span("a", SpanKind::Internal, None);
    sdk.activate(a);
    let b = sdk.start_span("b", SpanKind::Internal, None);
    let c = sdk.start_span("c", SpanKind::Internal, None);
    assert_ne!(c, Handle::NONE);
    assert!(sdk.span_context(c).is_some() && sdk.span_context(leaked).is_none(), "the oldest made room");
    assert_eq!(sdk.span_context(c).unwrap().trace_id, sdk.span_context(a).unwrap().trace_id, "c is a's child");
    assert_eq!(sdk.diagnostics().spans_evicted, 1);
    // Every later span starts too, each dropping the oldest still open: a, the active one, next.
    let d = sdk.start_span("d", SpanKind::Internal, None);
    assert!(sdk.span_context(a).is_none() && sdk.active_span().is_none(), "an evicted span is no longer active");
    assert_eq!(sdk.diagnostics().spans_evicted, 2);
    for h in [b, c, d] {
        sdk.end_span(h);
    }
    sdk.end_span(leaked);
    assert_eq!(sdk.diagnostics().stale_handles, 1, "ending an evicted span is a stale handle");
    assert_eq!(sdk.queued_spans(), 3, "only the ended spans are exported");
    // At a larger limit a batch goes at once: the oldest and those opened within 1/64 of the limit
    // after it, so that a page leaking spans does not scan every slot for every new span.
    let mut big = Sdk::new(Config { max_open_spans: 6_400, ..Config::default() });
    for _ in 0..6_400 {
        big.start_span("leaked", SpanKind::Internal, None);
    }
    assert_eq!(big.diagnostics().spans_evicted, 0);
    big.start_span("one more", SpanKind::Internal, None);
    assert_eq!(big.diagnostics().spans_evicted, 101, "the oldest and the 100 after it");
    for _ in 0..100 {
        big.start_span("room was made", SpanKind::Internal, None);
    }
    assert_eq!(big.diagnostics().spans_evicted, 101, "no eviction until the room is used up");
    big.start_span("full again", SpanKind::Internal, None);
    assert_eq!(big.diagnostics().spans_evicted, 202);
    // With no span allowed open, none starts.
    let mut none = Sdk::new(Config { max_open_spans: 0, ..Config::default() });
    assert_eq!(none.start_span("x", SpanKind::Internal, None), Handle::NONE);
}

#[test]
fn ids_stay_distinct_across_reseeds_and_differ_between_sdks() {
    use std::collections::HashSet;
    let (mut a, mut b) = (sdk(), sdk());
    let mut traces = HashSet::new();
    let mut spans = HashSet::new();
    // 25,000 root spans draw 75,000 words: the id generator takes a fresh seed on the way.
    for _ in 0..25_000 {
        let h = a.start_span("s", SpanKind::Internal, None);
        let cx = a.span_context(h).unwrap();
        assert!(traces.insert(cx.trace_id.0) && spans.insert(cx.span_id.0), "an id came twice");
        a.end_span(h);
    }
    let h = b.start_span("s", SpanKind::Internal, None);
    let cx = b.span_context(h).unwrap();
    assert!(!traces.contains(&cx.trace_id.0) && !spans.contains(&cx.span_id.0), "each SDK seeds its own ids");
}

#[test]
fn a_replaced_attribute_keeps_one_entry_with_the_last_value_among_many_keys() {
    let mut sdk = sdk();
    let h = sdk.start_span("s", SpanKind::Internal, None);
    // More keys than the bitmap that skips the replace scan has bits.
    let keys: Vec<String> = (0..100).map(|i| format!("k{i}")).collect();
    for k in &keys {
        sdk.set_attribute(h, k, AnyValue::Int(1));
    }
    for k in keys.iter().step_by(7) {
        sdk.set_attribute(h, k, AnyValue::Int(2));
    }
    sdk.end_span(h);
    let data = drain_traces(&mut sdk);
    let span = data.spans().next().unwrap().2;
    assert_eq!(span.attributes.len(), 100);
    for (i, k) in keys.iter().enumerate() {
        let want = if i % 7 == 0 { 2 } else { 1 };
        assert_eq!(attribute(&span.attributes, k), Some(&AnyValue::Int(want)), "{k}");
    }
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

#[test]
fn protobuf_batches_are_byte_for_byte_what_the_shared_encoder_writes() {
    // The span store encodes spans as they end; decoding a batch and encoding it again with
    // the shared encoder (checked against prost) must give the same bytes.
    let mut sdk = Sdk::new(Config { max_attributes: 3, max_events: 1, ..Config::default() });
    sdk.set_common_attribute("session.id", Some(AnyValue::from("s1")));
    let remote = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
    let h = sdk.start_span("GET /todos", SpanKind::Server, Some(&remote));
    sdk.set_attribute(h, "n", AnyValue::Int(-1));
    sdk.set_attribute(h, "a", AnyValue::Array(vec![AnyValue::from("x"), AnyValue::Double(0.5)]));
    sdk.set_attribute(h, "n", AnyValue::Bool(false));
    sdk.set_attribute(h, "over", AnyValue::Int(1));
    sdk.stage_attribute("e", AnyValue::from("é".repeat(100)));
    sdk.add_event(h, "first");
    sdk.add_event(h, "second");
    sdk.stage_attribute("l", AnyValue::Int(1));
    sdk.add_link(h, &remote);
    sdk.set_status(h, StatusCode::Error, "boom");
    sdk.activate(h);
    sdk.log(Severity::Warn, "card 4111 1111 1111 1111");
    let child = sdk.start_span("", SpanKind::Internal, None);
    sdk.end_span(child);
    sdk.end_span(h);
    let traces = sdk.take_traces_proto().unwrap();
    let logs = sdk.take_logs_proto().unwrap();
    let decoded = edgescope_otlp::proto::decode_traces(&traces).unwrap();
    assert_eq!(edgescope_otlp::proto::encode_traces(&decoded), traces);
    assert_eq!(edgescope_otlp::proto::encode_logs(&edgescope_otlp::proto::decode_logs(&logs).unwrap()), logs);
    let span = decoded.spans().map(|(_, _, s)| s).find(|s| s.name == "GET /todos").unwrap();
    let keys: Vec<_> = span.attributes.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys, ["session.id", "n", "a"], "a replaced attribute keeps its place");
    assert_eq!(attribute(&span.attributes, "n"), Some(&AnyValue::Bool(false)));
    assert_eq!((span.dropped_attributes_count, span.events.len(), span.dropped_events_count), (1, 1, 1));
    assert_eq!(span.links[0].attributes, vec![edgescope_otlp::KeyValue::new("l", 1i64)]);
}

#[test]
fn an_unsampled_trace_propagates_without_the_sampled_flag_and_exports_nothing() {
    let mut sdk = Sdk::new(Config { sampler: Sampler::AlwaysOff, ..Config::default() });
    let root = sdk.start_span("root", SpanKind::Server, None);
    sdk.set_attribute(root, "ignored", AnyValue::Bool(true));
    sdk.activate(root);
    let child = sdk.start_span("child", SpanKind::Client, None);
    let cx = sdk.span_context(child).unwrap();
    assert_eq!(cx.flags, FLAG_RANDOM, "random but not sampled");
    assert_eq!(cx.trace_id, sdk.span_context(root).unwrap().trace_id);
    sdk.end_span(child);
    sdk.end_span(root);
    assert_eq!(sdk.queued_spans(), 0);
    assert_eq!(sdk.diagnostics().spans_dropped, 0, "sampling is not a drop");
}

#[test]
fn parent_based_sampling_follows_a_remote_parent_either_way() {
    let mut sdk = Sdk::new(Config { sampler: Sampler::ParentBased(Box::new(Sampler::AlwaysOff)), ..Config::default() });
    let on = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
    let off = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02").unwrap();
    let a = sdk.start_span("a", SpanKind::Server, Some(&on));
    let b = sdk.start_span("b", SpanKind::Server, Some(&off));
    assert_eq!(sdk.span_context(a).unwrap().flags, FLAG_SAMPLED);
    assert_eq!(sdk.span_context(b).unwrap().flags, FLAG_RANDOM, "the random flag describes the trace id and stays");
    sdk.end_span(a);
    sdk.end_span(b);
    assert_eq!(drain_traces(&mut sdk).spans().map(|(_, _, s)| s.name.clone()).collect::<Vec<_>>(), ["a"]);
}

#[test]
fn keep_errors_exports_an_unsampled_trace_only_when_it_had_an_error() {
    let mut sdk = Sdk::new(Config { sampler: Sampler::AlwaysOff, keep_errors: true, ..Config::default() });
    for (name, fail) in [("ok", false), ("failing", true)] {
        let root = sdk.start_span(name, SpanKind::Server, None);
        sdk.activate(root);
        let child = sdk.start_span("db", SpanKind::Client, None);
        sdk.set_attribute(child, "db.system", AnyValue::from("sqlite"));
        if fail {
            sdk.set_status(child, StatusCode::Error, "locked");
        }
        sdk.end_span(child);
        sdk.end_span(root);
    }
    let data = drain_traces(&mut sdk);
    let mut names: Vec<_> = data.spans().map(|(_, _, s)| s.name.clone()).collect();
    names.sort();
    assert_eq!(names, ["db", "failing"], "the whole failing trace, nothing of the other");
    let db = data.spans().map(|(_, _, s)| s).find(|s| s.name == "db").unwrap();
    assert_eq!(attribute(&db.attributes, "db.system"), Some(&AnyValue::from("sqlite")), "held spans were recording");
    assert_eq!(db.flags & 1, 0, "exported spans still say the trace was not sampled");
}

#[test]
fn keep_errors_holds_work_after_an_ended_span_for_the_trace_root_still_open() {
    // Root R open; its child A ends; B starts under the ended A (work after A) and ends without
    // error; then R fails. B is not the trace's root while R is open: the whole trace goes.
    let mut sdk = Sdk::new(Config { sampler: Sampler::AlwaysOff, keep_errors: true, ..Config::default() });
    let root = sdk.start_span("R", SpanKind::Server, None);
    let r = sdk.span_context(root).unwrap();
    let a = sdk.start_span("A", SpanKind::Internal, Some(&r));
    let a_context = sdk.span_context(a).unwrap();
    sdk.end_span(a);
    let late = StartOptions {
        parent: Some(&a_context),
        use_active: false,
        start_time_unix_nano: None,
        scope: 0,
        parent_ended: true,
    };
    let b = sdk.start_span_with("B", SpanKind::Internal, late);
    sdk.end_span(b);
    sdk.set_status(root, StatusCode::Error, "failed");
    sdk.end_span(root);
    let mut names: Vec<_> = drain_traces(&mut sdk).spans().map(|(_, _, s)| s.name.clone()).collect();
    names.sort();
    assert_eq!(names, ["A", "B", "R"]);

    // With its root ended, such a span decides on the trace when it ends: a failure is kept.
    let root = sdk.start_span("R2", SpanKind::Server, None);
    let r2 = sdk.span_context(root).unwrap();
    sdk.end_span(root);
    for fail in [false, true] {
        let late = StartOptions {
            parent: Some(&r2),
            use_active: false,
            start_time_unix_nano: None,
            scope: 0,
            parent_ended: true,
        };
        let c = sdk.start_span_with(if fail { "failed later" } else { "fine later" }, SpanKind::Internal, late);
        if fail {
            sdk.set_status(c, StatusCode::Error, "disk full");
        }
        sdk.end_span(c);
    }
    let names: Vec<_> = drain_traces(&mut sdk).spans().map(|(_, _, s)| s.name.clone()).collect();
    assert_eq!(names, ["failed later"]);
}

#[test]
fn events_exceptions_and_links_are_recorded_within_their_limits() {
    let mut sdk = Sdk::new(Config { max_events: 2, max_links: 1, max_attribute_value_length: 5, ..Config::default() });
    let other = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
    let h = sdk.start_span("work", SpanKind::Internal, None);
    sdk.stage_attribute("cache.hit", AnyValue::Bool(false));
    sdk.add_event(h, "cache miss");
    sdk.record_exception(h, "TypeError", "x is undefined", "at f (app.js:1:2)");
    sdk.add_event(h, "one too many");
    sdk.stage_attribute("link.reason", AnyValue::from("batch"));
    sdk.add_link(h, &other);
    sdk.add_link(h, &other);
    sdk.set_attribute(h, "long", AnyValue::from("abcdéfgh"));
    sdk.set_attribute(h, "city", AnyValue::from("Zürich"));
    sdk.set_attribute(h, "kanji", AnyValue::from("東京都庁舎前"));
    sdk.set_attribute(h, "list", AnyValue::Array(vec![AnyValue::from("123456"), AnyValue::Int(7)]));
    sdk.end_span(h);
    let data = drain_traces(&mut sdk);
    let span = data.spans().next().unwrap().2;
    assert_eq!(span.events.len(), 2);
    assert_eq!(span.dropped_events_count, 1);
    assert_eq!(attribute(&span.events[0].attributes, "cache.hit"), Some(&AnyValue::Bool(false)));
    let exception = &span.events[1];
    assert_eq!(exception.name, "exception");
    assert_eq!(
        attribute(&exception.attributes, "exception.type"),
        Some(&AnyValue::from("TypeE")),
        "cut to 5 characters"
    );
    assert_eq!(span.links.len(), 1);
    assert_eq!(span.dropped_links_count, 1);
    assert_eq!(span.links[0].span_id, other.span_id);
    assert_eq!(span.links[0].flags, 0x301);
    // OpenTelemetry's limit counts characters, "counting any character in it as 1".
    assert_eq!(attribute(&span.attributes, "long"), Some(&AnyValue::from("abcdé")), "five characters, six bytes");
    assert_eq!(attribute(&span.attributes, "city"), Some(&AnyValue::from("Züric")));
    assert_eq!(attribute(&span.attributes, "kanji"), Some(&AnyValue::from("東京都庁舎")), "15 bytes");
    assert_eq!(
        attribute(&span.attributes, "list"),
        Some(&AnyValue::Array(vec![AnyValue::from("12345"), AnyValue::Int(7)]))
    );
    let d = sdk.diagnostics();
    assert_eq!((d.events_dropped, d.links_dropped), (1, 1));
}

#[test]
fn attributes_given_to_record_exception_win_over_those_it_makes_and_the_limit_keeps_those_it_makes() {
    let mut sdk = Sdk::new(Config { max_attributes: 4, ..Config::default() });
    let h = sdk.start_span("work", SpanKind::Internal, None);
    // OpenTelemetry's RecordException: "the additional attributes take precedence".
    sdk.stage_attribute("exception.type", AnyValue::from("app.ValidationError"));
    sdk.stage_attribute("exception.message", AnyValue::from("the form is incomplete"));
    sdk.record_exception(h, "TypeError", "raw internal message", "at f (app.js:1:2)");
    for i in 0..6 {
        sdk.stage_attribute(&format!("extra.{i}"), AnyValue::Int(i));
    }
    sdk.record_exception(h, "RangeError", "out of range", "");
    sdk.end_span(h);
    let data = drain_traces(&mut sdk);
    let span = data.spans().next().unwrap().2;
    let first = &span.events[0].attributes;
    assert_eq!(attribute(first, "exception.type"), Some(&AnyValue::from("app.ValidationError")));
    assert_eq!(attribute(first, "exception.message"), Some(&AnyValue::from("the form is incomplete")));
    assert_eq!(attribute(first, "exception.stacktrace"), Some(&AnyValue::from("at f (app.js:1:2)")));
    let second = &span.events[1];
    assert_eq!(attribute(&second.attributes, "exception.type"), Some(&AnyValue::from("RangeError")));
    assert_eq!(attribute(&second.attributes, "exception.message"), Some(&AnyValue::from("out of range")));
    assert_eq!((second.attributes.len(), second.dropped_attributes_count), (4, 4), "the caller's are cut first");
}

#[test]
fn secrets_are_redacted_before_they_are_queued_unless_redaction_is_off() {
    let mut sdk = sdk();
    let h = sdk.start_span("GET", SpanKind::Client, None);
    sdk.set_attribute(h, "url.full", AnyValue::from("https://api.example.com/x?access_token=CANARY1&q=ok"));
    sdk.set_attribute(h, "note", AnyValue::from("paid with 4111 1111 1111 1111"));
    // A map under a secret's key: every string in it, whatever its own key.
    let credentials = vec![
        edgescope_otlp::KeyValue::new("access", "CANARY4"),
        edgescope_otlp::KeyValue::new(
            "nested",
            AnyValue::KvList(vec![edgescope_otlp::KeyValue::new("refresh", "CANARY5")]),
        ),
    ];
    sdk.set_attribute(h, "app.credentials", AnyValue::KvList(credentials));
    sdk.activate(h);
    sdk.log(Severity::Info, "sent Bearer CANARY2CANARY2");
    // A status message is often an error's message, with the URL it failed on.
    sdk.set_status(h, StatusCode::Error, "GET https://api.example.com/y?access_token=CANARY3&q=ok failed");
    sdk.end_span(h);
    let body = sdk.take_traces_json().unwrap() + &sdk.take_logs_json().unwrap();
    assert!(!body.contains("CANARY") && !body.contains("4111 1111"), "{body}");
    assert!(body.contains("q=ok"), "other parameters stay");

    sdk.set_redaction(false, Vec::new());
    let h = sdk.start_span("GET", SpanKind::Client, None);
    sdk.set_attribute(h, "url.full", AnyValue::from("https://api.example.com/x?access_token=KEEP"));
    sdk.end_span(h);
    assert!(sdk.take_traces_json().unwrap().contains("access_token=KEEP"));
}

#[test]
fn span_and_event_names_are_redacted_as_messages_are() {
    let mut sdk = sdk();
    let h = sdk.start_span("GET /cb?access_token=CANARYNAME1&q=ok", SpanKind::Client, None);
    sdk.add_event(h, "sent Bearer CANARYEVENT2AB");
    sdk.add_event_at(h, "paid 4111 1111 1111 1111", Some(1));
    sdk.end_span(h);
    let h = sdk.start_span("clean", SpanKind::Internal, None);
    sdk.update_name(h, "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.CANARYJWT3xyz");
    sdk.add_event(h, "clicked");
    sdk.end_span(h);
    let body = sdk.take_traces_json().unwrap();
    assert!(!body.contains("CANARY") && !body.contains("4111 1111"), "{body}");
    assert!(body.contains("GET /cb?access_token=REDACTED&q=ok"), "{body}");
    assert!(body.contains("sent Bearer REDACTED") && body.contains("token REDACTED"), "{body}");
    assert!(body.contains("\"clicked\""), "clean names stay: {body}");

    sdk.set_redaction(false, Vec::new());
    let h = sdk.start_span("GET /cb?access_token=KEEP", SpanKind::Client, None);
    sdk.end_span(h);
    assert!(sdk.take_traces_json().unwrap().contains("access_token=KEEP"));
}

#[test]
fn common_attributes_go_on_every_new_span_and_record_until_removed() {
    let mut sdk = sdk();
    sdk.set_common_attribute("session.id", Some(AnyValue::from("s1")));
    let a = sdk.start_span("a", SpanKind::Internal, None);
    sdk.log(Severity::Info, "with session");
    sdk.set_common_attribute("session.id", None);
    let b = sdk.start_span("b", SpanKind::Internal, None);
    sdk.end_span(a);
    sdk.end_span(b);
    let data = drain_traces(&mut sdk);
    let spans: Vec<_> = data.spans().map(|(_, _, s)| s).collect();
    assert_eq!(attribute(&spans[0].attributes, "session.id"), Some(&AnyValue::from("s1")));
    assert_eq!(attribute(&spans[1].attributes, "session.id"), None);
    let logs = drain_logs(&mut sdk);
    assert_eq!(attribute(&logs.records().next().unwrap().2.attributes, "session.id"), Some(&AnyValue::from("s1")));
}

#[test]
fn a_log_body_is_cut_after_redaction_so_a_secret_the_cut_splits_is_masked_whole() {
    let mut sdk = Sdk::new(Config::default());
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJjYW5hcnkiOiJ5ZXMifQ.CANARYsignature";
    let message = format!("token {jwt} sent and more text");
    // The cut falls inside the JWT: 20 bytes of it before the cut.
    assert!(sdk.log_cut(Severity::Info, &message, Correlation::Active, "", 26));
    assert!(!sdk.log_cut(Severity::Info, "short", Correlation::Active, "", 26));
    sdk.log(Severity::Info, &format!("{} {jwt}", "x".repeat(20_000)));
    let logs = edgescope_otlp::proto::decode_logs(&sdk.take_logs_proto().unwrap()).unwrap();
    let bodies: Vec<_> = logs
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .flat_map(|s| &s.log_records)
        .map(|r| match &r.body {
            Some(AnyValue::String(s)) => s.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(bodies[0], "token REDACTED sent and mo");
    assert_eq!(bodies[1], "short");
    assert!(bodies[2].ends_with(" REDACTED"), "the Rust API's log body is not cut at all");
    assert!(!bodies.concat().contains("eyJhbGci"));
}

#[test]
fn bytes_that_are_utf8_text_are_redacted_as_that_text_and_stay_bytes() {
    let mut sdk = Sdk::new(Config::default());
    sdk.stage_attribute("app.payload", AnyValue::Bytes(b"sent Bearer CANARYBYTES1x ok".to_vec()));
    sdk.stage_attribute("db.password", AnyValue::Bytes(b"CANARYBYTES2".to_vec()));
    sdk.stage_attribute("app.binary", AnyValue::Bytes(vec![0xff, 0xfe, b'C']));
    sdk.log(Severity::Info, "bytes");
    let logs = edgescope_otlp::proto::decode_logs(&sdk.take_logs_proto().unwrap()).unwrap();
    let record = &logs.resource_logs[0].scope_logs[0].log_records[0];
    let bytes = |key| match attribute(&record.attributes, key) {
        Some(AnyValue::Bytes(b)) => b.clone(),
        other => panic!("{key}: {other:?}"),
    };
    assert_eq!(bytes("app.payload"), b"sent Bearer REDACTED ok");
    assert_eq!(bytes("db.password"), b"REDACTED");
    assert_eq!(bytes("app.binary"), [0xff, 0xfe, b'C']);
}
