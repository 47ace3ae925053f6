//! `edgescope::otel::Exporter` in headless Chromium: the tests of `otel_export.rs`, and the
//! flush with `keepalive` when the page is hidden.
#![cfg(all(target_arch = "wasm32", feature = "otel-api"))]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[path = "otel_export.rs"]
mod otel_export;

use edgescope::otel::{Exporter, TracerProvider};
use edgescope::Config;
use edgescope_otlp::proto;
use js_sys::{Function, Promise, Reflect};
use opentelemetry::global;
use opentelemetry::trace::Tracer as _;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test as test;

async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        let set_timeout: Function = Reflect::get(&js_sys::global(), &"setTimeout".into()).unwrap().into();
        set_timeout.call2(&JsValue::NULL, &resolve, &JsValue::from(ms)).unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

#[test]
async fn a_page_that_is_left_sends_what_is_queued_with_keepalive() {
    otel_export::install_fetch();
    global::set_tracer_provider(TracerProvider::new(Config { service_name: "rust-page".into(), ..Config::default() }));
    // A long interval: only leaving the page can send now.
    Exporter::new("http://collector.test:4318").start(3_600_000);
    global::tracer("export-test").in_span("checkout", |_cx| {});
    sleep(20).await;
    assert!(otel_export::posts().is_empty(), "nothing is sent before the interval or the page hides");

    let window = js_sys::global();
    let event = Function::new_no_args("return new Event('pagehide')").call0(&JsValue::NULL).unwrap();
    let dispatch: Function = Reflect::get(&window, &"dispatchEvent".into()).unwrap().into();
    dispatch.call1(&window, &event).unwrap();
    sleep(20).await;
    let sent = otel_export::posts_with_keepalive();
    assert_eq!(sent.len(), 1, "one batch of traces");
    let ((url, _, _, body), keepalive) = &sent[0];
    assert_eq!(url, "http://collector.test:4318/v1/traces");
    assert!(keepalive, "the request may outlive the page");
    assert_eq!(proto::decode_traces(body).unwrap().spans().next().unwrap().2.name, "checkout");

    // An endpoint that asked to wait two minutes still gets what is kept and queued then: it is
    // the page's last chance. (Another exporter to the endpoint, since the started one lives on.)
    let exporter = Exporter::new("http://collector.test:4318");
    global::tracer("export-test").in_span("asked to wait", |_cx| {});
    otel_export::answer_retry_after(1, 429, "120");
    assert_eq!(exporter.flush().await, 0);
    global::tracer("export-test").in_span("last chance", |_cx| {});
    assert_eq!(exporter.flush().await, 0);
    assert_eq!(otel_export::posts().len(), 1, "nothing went while paused");
    dispatch.call1(&window, &event).unwrap();
    sleep(20).await;
    let sent: Vec<(String, bool)> = otel_export::posts_with_keepalive()
        .into_iter()
        .map(|((_, _, _, body), keepalive)| {
            (proto::decode_traces(&body).unwrap().spans().next().unwrap().2.name.clone(), keepalive)
        })
        .collect();
    assert_eq!(sent, [("asked to wait".to_owned(), true), ("last chance".to_owned(), true)]);
}
