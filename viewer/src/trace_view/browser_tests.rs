//! Component tests in the browser (`wasm-bindgen-test`, headless Chromium): the model built in
//! wasm, and the waterfall component mounted into the page, its rows read back from the DOM:
//! order, depth, critical path, skew and error marks, and a collapse.
//!
//! `CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_WEBDRIVER_JSON=$PWD/tests/webdriver.json
//! cargo test -p edgescope-viewer --target wasm32-unknown-unknown --lib`

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

use super::TraceView;
use crate::model::Trace;
use crate::router::provide_router;

wasm_bindgen_test_configure!(run_in_browser);

/// Five spans in three services: GET /checkout → authenticate → SELECT users, and → payment
/// (an error) → charge card, which starts before its parent (clock skew). The critical path is
/// GET /checkout → payment → charge card. The same trace as the end-to-end tests' `smallTrace`.
fn small_trace() -> Trace {
    let span = |id: &str, parent: &str, name: &str, start: u64, end: u64, extra: &str| {
        let t = |ms: u64| (1_700_000_000_000_000_000u64 + ms * 1_000_000).to_string();
        format!(
            r#"{{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"{id}","parentSpanId":"{parent}","name":"{name}",
            "kind":2,"startTimeUnixNano":"{}","endTimeUnixNano":"{}"{extra}}}"#,
            t(start),
            t(end)
        )
    };
    let resource = |service: &str, spans: Vec<String>| {
        format!(
            r#"{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{service}"}}}}]}},
            "scopeSpans":[{{"scope":{{"name":"test"}},"spans":[{}]}}]}}"#,
            spans.join(",")
        )
    };
    // Listed out of tree order: the layout puts children under their parents.
    let doc = format!(
        r#"{{"resourceSpans":[{},{},{}]}}"#,
        resource(
            "payments",
            vec![
                span("eee19b7ec3c1b178", "eee19b7ec3c1b177", "charge card", 20, 40, ""),
                span("eee19b7ec3c1b177", "eee19b7ec3c1b174", "payment", 25, 95, r#","status":{"code":2}"#),
            ]
        ),
        resource(
            "auth",
            vec![
                span("eee19b7ec3c1b176", "eee19b7ec3c1b175", "SELECT users", 8, 18, ""),
                span("eee19b7ec3c1b175", "eee19b7ec3c1b174", "authenticate", 5, 30, ""),
            ]
        ),
        resource("web", vec![span("eee19b7ec3c1b174", "", "GET /checkout", 0, 100, "")]),
    );
    Trace::first_of(edgescope_otlp::read::any_traces(&doc).expect("the test trace reads"))
}

/// A row as the DOM shows it: name, depth, on the critical path, skew mark, error mark.
#[derive(Debug, PartialEq)]
struct DomRow {
    name: String,
    depth: usize,
    critical: bool,
    skew: bool,
    error: bool,
}

/// The waterfall's rows in the DOM under `root`, top to bottom.
fn dom_rows(root: &web_sys::Element) -> Vec<DomRow> {
    let list = root.query_selector_all("[data-testid=span-row]").unwrap();
    let mut rows: Vec<(usize, DomRow)> = (0..list.length())
        .map(|i| {
            let el: web_sys::Element = list.item(i).unwrap().unchecked_into();
            let attr = |name: &str| el.get_attribute(name).unwrap_or_default();
            let has = |selector: &str| el.query_selector(selector).unwrap().is_some();
            let name =
                el.query_selector("[data-testid=span-name]").unwrap().unwrap().text_content().unwrap_or_default();
            let row = DomRow {
                name,
                depth: attr("data-depth").parse().unwrap(),
                critical: el.class_list().contains("critical"),
                skew: has("[data-testid=skew-mark]"),
                error: has("[data-testid=error-mark]"),
            };
            (attr("data-index").parse().unwrap(), row)
        })
        .collect();
    rows.sort_by_key(|(index, _)| *index);
    rows.into_iter().map(|(_, row)| row).collect()
}

fn row(name: &str, depth: usize, critical: bool, skew: bool, error: bool) -> DomRow {
    DomRow { name: name.into(), depth, critical, skew, error }
}

/// A fresh element in the page's body to mount a component into.
fn container() -> web_sys::HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let el: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&el).unwrap();
    el
}

/// Lets the browser run the reactive updates a change scheduled.
async fn next_task() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0).unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

fn mount_trace_view(el: &web_sys::HtmlElement, trace: Trace) -> leptos::mount::UnmountHandle<impl Mountable> {
    leptos::mount::mount_to(el.clone(), move || {
        provide_router();
        view! { <TraceView trace focus=None link=false marks=None /> }
    })
}

#[wasm_bindgen_test]
fn the_model_built_in_wasm_orders_rows_depth_first_with_depth_critical_path_and_skew() {
    let trace = small_trace();
    let got: Vec<_> = trace.rows.iter().map(|r| row(&r.span.name, r.depth, r.critical, r.skew, r.error)).collect();
    assert_eq!(
        got,
        [
            row("GET /checkout", 0, true, false, false),
            row("authenticate", 1, false, false, false),
            row("SELECT users", 2, false, false, false),
            row("payment", 1, true, false, true),
            row("charge card", 2, true, true, false),
        ]
    );
    assert_eq!((trace.depth, trace.errors, trace.services.len()), (3, 1, 3));
}

#[wasm_bindgen_test]
async fn the_waterfall_draws_the_rows_in_tree_order_indented_with_critical_path_skew_and_error_marks() {
    let el = container();
    let _mounted = mount_trace_view(&el, small_trace());
    next_task().await;
    assert_eq!(
        dom_rows(&el),
        [
            row("GET /checkout", 0, true, false, false),
            row("authenticate", 1, false, false, false),
            row("SELECT users", 2, false, false, false),
            row("payment", 1, true, false, true),
            row("charge card", 2, true, true, false),
        ]
    );
    let label = el.query_selector("[data-row='2'] .span-label").unwrap().unwrap();
    assert!(label.get_attribute("style").unwrap().contains("padding-left:32px"), "two levels of indent");
    assert_eq!(el.query_selector("[data-testid=span-count]").unwrap().unwrap().text_content().unwrap(), "5");
    el.remove();
}

#[wasm_bindgen_test]
async fn collapsing_a_row_takes_its_subtree_out_of_the_dom_and_expand_all_brings_it_back() {
    let el = container();
    let _mounted = mount_trace_view(&el, small_trace());
    next_task().await;
    let toggle: web_sys::HtmlElement =
        el.query_selector("[data-row='3'] [data-testid=toggle]").unwrap().unwrap().unchecked_into();
    toggle.click();
    next_task().await;
    let names: Vec<_> = dom_rows(&el).into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["GET /checkout", "authenticate", "SELECT users", "payment"]);
    let expand: web_sys::HtmlElement = el.query_selector("[data-testid=expand-all]").unwrap().unwrap().unchecked_into();
    expand.click();
    next_task().await;
    assert_eq!(dom_rows(&el).len(), 5);
    el.remove();
}

#[wasm_bindgen_test]
async fn a_recorded_trace_with_clock_skew_marks_exactly_the_rows_the_model_marks() {
    // Zipkin's own skew example (../shared/fixtures, MANIFEST.tsv names its source).
    let text = include_str!("../../../../shared/fixtures/zipkin-lens-skew.json");
    let trace = Trace::first_of(edgescope_otlp::read::any_traces(text).unwrap());
    let skewed: Vec<String> = trace.rows.iter().filter(|r| r.skew).map(|r| r.span.name.clone()).collect();
    assert!(!skewed.is_empty(), "the fixture has skew");
    let depths: Vec<usize> = trace.rows.iter().map(|r| r.depth).collect();
    let el = container();
    let _mounted = mount_trace_view(&el, trace);
    next_task().await;
    let rows = dom_rows(&el);
    assert_eq!(rows.iter().map(|r| r.depth).collect::<Vec<_>>(), depths);
    assert_eq!(rows.iter().filter(|r| r.skew).map(|r| r.name.clone()).collect::<Vec<_>>(), skewed);
    el.remove();
}

#[wasm_bindgen_test]
fn a_record_of_the_server_with_a_zipkin_shared_span_id_is_marked_on_the_server_half() {
    // One RPC: the client half in `web`, the server half in `api`, one span id between them.
    let zipkin = r#"[
        {"traceId":"48485a3953bb6124","id":"00000000000000a1","kind":"CLIENT","name":"get","timestamp":10,"duration":9,"localEndpoint":{"serviceName":"web"}},
        {"traceId":"48485a3953bb6124","id":"00000000000000a1","kind":"SERVER","shared":true,"name":"get","timestamp":11,"duration":7,"localEndpoint":{"serviceName":"api"}}]"#;
    let trace = Trace::first_of(edgescope_otlp::read::any_traces(zipkin).unwrap());
    let shared = [0, 0, 0, 0, 0, 0, 0, 0xa1];
    let server = trace.rows.iter().find(|r| trace.services[r.service] == "api").unwrap().span.span_id.0;
    assert_ne!(server, shared, "the server half has an id of its own");
    let logs = |service: &str, message: &str| {
        format!(
            r#"{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{service}"}}}}]}},"scopeLogs":[{{"logRecords":[{{"timeUnixNano":"12000","body":{{"stringValue":"{message}"}},"traceId":"000000000000000048485a3953bb6124","spanId":"00000000000000a1"}}]}}]}}"#
        )
    };
    let doc = format!(
        r#"{{"resourceLogs":[{},{},{}]}}"#,
        logs("api", "handled"),
        logs("web", "calling"),
        logs("batch", "elsewhere")
    );
    let data = edgescope_otlp::read::logs_from_str(&doc, edgescope_otlp::read::Ids::Tolerant).unwrap();
    let messages = |marks: &super::MarksBySpan, id: &[u8; 8]| -> Vec<String> {
        marks.get(id).map(|l| l.iter().map(|(_, _, m)| m.clone()).collect()).unwrap_or_default()
    };
    let marks = super::log_marks_of(&data, Some(&trace));
    assert_eq!(messages(&marks, &server), ["handled"]);
    assert_eq!(messages(&marks, &shared), ["calling", "elsewhere"], "the client half keeps the others");
    // Without the trace (not fetched), every record goes by its span id.
    assert_eq!(messages(&super::log_marks_of(&data, None), &shared).len(), 3);
    // Halves of one service cannot be told apart: the records stay on the client half.
    let same = Trace::first_of(edgescope_otlp::read::any_traces(&zipkin.replace("\"api\"", "\"web\"")).unwrap());
    let marks = super::log_marks_of(&data, Some(&same));
    assert_eq!(messages(&marks, &shared).len(), 3);
}
