use crate::support;

use edgescope_otlp::{json, AnyValue, TraceId};
use support::{assert_no_traces, find_traces, found, post_json, seed, spans_of, trace_id, Collector, ALL_TIME};

async fn search(collector: &Collector, service: &str, attributes: &str) -> support::Response {
    find_traces(
        collector.ui,
        &[("query.service_name", service), ("query.attributes", attributes), ALL_TIME[0], ALL_TIME[1]],
    )
    .await
}

#[tokio::test]
async fn attribute_values_compare_as_text_and_all_conditions_hold_on_one_span() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let sent = seed(&collector, &["jaeger-memory-otel_traces_01.json", "otel-rust-it-traces.json"]).await;
    let [x1, x2] = ["00000000000000010000000000000000", "00000000000000020000000000000000"].map(trace_id);
    let rust = trace_id("9b458af7378cba65253d7042d34fc72e");
    // A second copy of the otel-rust trace whose child span has six lemons instead of five.
    let mut sent = sent;
    let mut copy = sent.clone();
    copy.resource_spans.retain(|r| r.resource.service_name() == "basic-otlp-tracing-example");
    let six = TraceId([6; 16]);
    for span in copy.resource_spans.iter_mut().flat_map(|r| &mut r.scope_spans).flat_map(|s| &mut s.spans) {
        span.trace_id = six;
        for kv in span.attributes.iter_mut().filter(|kv| kv.key == "lemons") {
            kv.value = Some(AnyValue::from("six"));
        }
    }
    assert_eq!(post_json(collector.otlp, "/v1/traces", &json::write_traces(&copy)).await.status, 200);
    sent.resource_spans.extend(copy.resource_spans);

    // Every span of service-x carries these, as string, int, double and bytes values, in
    // events and links, on its resource; every one has an error status.
    for attributes in [
        r#"{"peer.service":"service-y"}"#,
        r#"{"peer.ipv4":"23456"}"#,
        r#"{"temperature":"72.5"}"#,
        r#"{"blob":"AAAwOQ=="}"#,
        r#"{"event-x":"event-y"}"#,
        r#"{"opentracing.ref_type":"child_of"}"#,
        r#"{"service.name":"service-x"}"#,
        r#"{"error":"true"}"#,
        r#"{"peer.ipv4":"23456","temperature":"72.5"}"#,
        r#"{"scope.attributes.3":"attribute-y"}"#,
    ] {
        let answer = search(&collector, "service-x", attributes).await;
        assert_eq!(support::spans_by_id(&found(&answer)), spans_of(&sent, &[x1, x2]), "{attributes}");
    }

    // Of the two traces of this service, each condition picks one or both.
    let service = "basic-otlp-tracing-example";
    let five = found(&search(&collector, service, r#"{"lemons":"five"}"#).await);
    assert_eq!(support::spans_by_id(&five), spans_of(&sent, &[rust]));
    let six_lemons = found(&search(&collector, service, r#"{"lemons":"six"}"#).await);
    assert_eq!(support::spans_by_id(&six_lemons), spans_of(&sent, &[six]));
    let event_int = found(&search(&collector, service, r#"{"bogons":"100"}"#).await);
    assert_eq!(support::spans_by_id(&event_int), spans_of(&sent, &[six, rust]));

    for (service, attributes) in [
        ("basic-otlp-tracing-example", r#"{"lemons":"seven"}"#),
        ("basic-otlp-tracing-example", r#"{"error":"true"}"#),
        ("service-x", r#"{"temperature":"72.50"}"#),
        ("service-x", r#"{"error":"false"}"#),
        // `lemons` is on the child span, `ex.com/another` on its parent: no one span has both.
        ("basic-otlp-tracing-example", r#"{"lemons":"five","ex.com/another":"yes"}"#),
    ] {
        assert_no_traces(&search(&collector, service, attributes).await);
    }
    collector.stop().await;
}
