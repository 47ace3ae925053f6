//! The wasm exports in headless Chromium: the platform layer (crypto randomness, the
//! performance clock, JavaScript number formatting) as a browser provides it.
#![cfg(all(target_arch = "wasm32", feature = "js-exports"))]

use edgescope::js;
use edgescope_otlp::read::{traces_from_str, Ids};
use edgescope_otlp::{attribute, AnyValue};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn exported_spans() -> Vec<edgescope_otlp::Span> {
    let mut spans = Vec::new();
    while let Some(body) = js::take(false, 0, false) {
        let body = String::from_utf8(body).unwrap();
        spans.extend(traces_from_str(&body, Ids::Strict).unwrap().spans().map(|(_, _, s)| s.clone()));
    }
    spans
}

/// `performance.now()`, which the JavaScript layer passes to `spanEnd`.
fn now() -> f64 {
    let performance = js_sys::Reflect::get(&js_sys::global(), &"performance".into()).unwrap();
    let now: js_sys::Function = js_sys::Reflect::get(&performance, &"now".into()).unwrap().into();
    now.call0(&performance).unwrap().as_f64().unwrap()
}

#[wasm_bindgen_test]
fn ids_are_random_and_times_follow_the_wall_clock() {
    js::configure("browser-test", 0, 0, "", None, false, 0);
    let before_ms = js_sys::Date::now();
    let a = js::span_start("a", 1, 0, true, None, None, 0.0);
    let b = js::span_start("b", 1, 0, true, None, None, 0.0);
    let (ta, tb) = (js::header(0, a).unwrap(), js::header(0, b).unwrap());
    assert_ne!(&ta[3..35], &tb[3..35], "independent traces get different ids");
    js::span_end(a, now(), 0.0);
    js::span_end(b, now(), 0.0);
    let after_ms = js_sys::Date::now();
    let spans = exported_spans();
    assert_eq!(spans.len(), 2);
    for s in &spans {
        let start_ms = s.start_time_unix_nano as f64 / 1e6;
        // timeOrigin + now() and Date.now() may differ by clock granularity only.
        assert!(
            start_ms >= before_ms - 5.0 && start_ms <= after_ms + 5.0,
            "{start_ms} not in [{before_ms}, {after_ms}]"
        );
        assert!(s.end_time_unix_nano >= s.start_time_unix_nano);
    }
}

#[wasm_bindgen_test]
fn javascript_values_become_typed_attributes_and_others_are_counted() {
    js::configure("browser-test", 0, 0, "", None, false, 0);
    let h = js::span_start("typed", 1, 0, true, None, None, 0.0);
    js::span_attr(h, "s", JsValue::from_str("text"));
    js::span_attr(h, "i", JsValue::from_f64(42.0));
    js::span_attr(h, "d", JsValue::from_f64(0.1));
    js::span_attr(h, "b", JsValue::TRUE);
    js::span_attr(h, "o", js_sys::Object::new().into());
    let list = js_sys::Array::of3(&JsValue::from_str("a"), &JsValue::from_f64(1.0), &JsValue::NULL);
    js::span_attr(h, "list", list.into());
    js::span_end(h, now(), 0.0);
    let span = exported_spans().pop().unwrap();
    assert_eq!(attribute(&span.attributes, "s"), Some(&AnyValue::from("text")));
    assert_eq!(attribute(&span.attributes, "i"), Some(&AnyValue::Int(42)));
    assert_eq!(
        attribute(&span.attributes, "d"),
        Some(&AnyValue::Double(0.1)),
        "printed by JavaScript, read back exactly"
    );
    assert_eq!(attribute(&span.attributes, "b"), Some(&AnyValue::Bool(true)));
    assert_eq!(attribute(&span.attributes, "o"), None);
    assert_eq!(
        attribute(&span.attributes, "list"),
        Some(&AnyValue::Array(vec![AnyValue::from("a"), AnyValue::Int(1), AnyValue::Empty])),
        "arrays keep their primitive items, and `null` in its place"
    );
    assert_eq!(js::diagnostic_counters()[10], 1.0, "the object was counted as an API error");
}

#[wasm_bindgen_test]
fn troubles_of_the_javascript_layer_are_counted_by_kind() {
    js::configure("browser-test", 0, 0, "", None, false, 0);
    let before = js::diagnostic_counters();
    js::trouble(0, f64::NAN);
    js::trouble(2, f64::NAN);
    js::trouble(3, 2.0);
    js::trouble(3, f64::NAN);
    js::trouble(3, -1.0);
    let after = js::diagnostic_counters();
    assert_eq!(after[7] - before[7], 1.0, "a failed export");
    assert_eq!(after[8] - before[8], 1.0, "a retried export");
    assert_eq!(after[9] - before[9], 2.0, "two rejected records; NaN and negative counts add none");
    assert_eq!(after[10], before[10], "no API error");
}

#[wasm_bindgen_test]
fn an_incoming_traceparent_is_validated_and_continued() {
    js::configure("browser-test", 0, 0, "", None, false, 0);
    assert_eq!(js::parse("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"), None);
    let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let h = js::span_start("server", 2, 0, true, Some(tp.into()), Some("k=v".into()), 0.0);
    let own = js::header(0, h).unwrap();
    assert_eq!(&own[..36], &tp[..36]);
    assert_eq!(js::header(1, h).as_deref(), Some("k=v"));
    js::span_end(h, now(), 0.0);
    assert_eq!(js::header(0, h), None, "an ended span has no context");
}

#[wasm_bindgen_test]
fn the_page_baggage_header_comes_from_the_same_export_as_the_span_headers() {
    assert_eq!(js::header(2, 0), None, "no baggage yet");
    assert!(js::baggage_set("tenant", "acme", ""));
    assert_eq!(js::header(2, 0).as_deref(), Some("tenant=acme"));
    js::baggage_remove("tenant");
    assert_eq!(js::header(2, 0), None, "empty again");
}

#[wasm_bindgen_test]
fn a_parsed_baggage_header_is_read_back_item_by_item() {
    assert_eq!(js::baggage_parse("a=1, b=x%20y;p=q"), 2);
    let items: Vec<_> = (0..7).map(|i| js::header(3, i)).collect();
    assert_eq!(
        items,
        [
            Some("a".into()),
            Some("1".into()),
            Some("".into()),
            Some("b".into()),
            Some("x y".into()),
            Some("p=q".into()),
            None
        ],
        "keys, decoded values and properties in turn; none past the end"
    );
    assert!(js::baggage_set("b", "x y", "p=q;flag"));
    assert_eq!(js::header(2, 0).as_deref(), Some("b=x%20y;p=q;flag"), "properties go on with their member");
    assert!(!js::baggage_set("c", "1", "bad property"), "an invalid property is refused");
    js::baggage_remove("b");
}
