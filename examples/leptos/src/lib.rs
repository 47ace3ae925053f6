//! A Leptos page traced through the standard `opentelemetry` API, with edgescope as the
//! provider and `edgescope::otel::Exporter` sending the spans and log records to a collector.
//!
//! The button starts a span, fetches `quote.txt` with the span's `traceparent` injected into the
//! request headers, logs what came back (the record carries the span's ids), ends the span and
//! shows its trace id. The exporter posts every second and when the page is hidden; the click
//! handler also flushes at once, so that the trace is in the collector when the page says
//! "Done". `?otlp=` names the collector (`http://127.0.0.1:4318` by default).
#![cfg(target_arch = "wasm32")]

use std::collections::HashMap;

use leptos::prelude::*;
use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::{Span as _, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{global, Context, KeyValue};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// A parameter of the page's query string, decoded.
fn query_param(name: &str) -> Option<String> {
    let location = js_sys::Reflect::get(&js_sys::global(), &"location".into()).ok()?;
    let search = js_sys::Reflect::get(&location, &"search".into()).ok()?.as_string()?;
    search.trim_start_matches('?').split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| js_sys::decode_uri_component(value).ok()?.as_string())?
    })
}

/// `fetch(url, { headers })`, answered with the body's text.
async fn fetch_text(url: &str, headers: &HashMap<String, String>) -> Result<String, JsValue> {
    let init = js_sys::Object::new();
    let h = js_sys::Object::new();
    for (name, value) in headers {
        js_sys::Reflect::set(&h, &name.into(), &value.into())?;
    }
    js_sys::Reflect::set(&init, &"headers".into(), &h)?;
    let global = js_sys::global();
    let fetch: js_sys::Function = js_sys::Reflect::get(&global, &"fetch".into())?.dyn_into()?;
    let response = JsFuture::from(fetch.call2(&global, &url.into(), &init)?.dyn_into::<js_sys::Promise>()?).await?;
    let text: js_sys::Function = js_sys::Reflect::get(&response, &"text".into())?.dyn_into()?;
    let body = JsFuture::from(text.call0(&response)?.dyn_into::<js_sys::Promise>()?).await?;
    Ok(body.as_string().unwrap_or_default())
}

/// One traced click: a span around a fetch that carries its context, and a log record in it.
async fn load_quote(exporter: edgescope::otel::Exporter) -> String {
    let tracer = global::tracer("example-leptos");
    let mut span = tracer.start("load quote");
    span.set_attribute(KeyValue::new("quote.source", "quote.txt"));
    let cx = Context::current_with_span(span);
    let mut headers = HashMap::new();
    global::get_text_map_propagator(|p| p.inject_context(&cx, &mut headers));
    let quote = fetch_text("quote.txt", &headers).await;
    let span = cx.span();
    match &quote {
        Ok(text) => {
            let _guard = cx.clone().attach();
            let logger = edgescope::otel::LoggerProvider::new().logger("example-leptos");
            let mut record = logger.create_log_record();
            record.set_severity_number(Severity::Info);
            record.set_severity_text("INFO");
            record.set_body(format!("quote loaded: {}", text.trim()).into());
            logger.emit(record);
            span.set_status(Status::Ok);
        }
        Err(e) => span.set_status(Status::error(format!("{e:?}"))),
    }
    let trace_id = span.span_context().trace_id().to_string();
    span.end();
    exporter.flush().await;
    match quote {
        Ok(text) => format!("Done in trace {trace_id}: {}", text.trim()),
        Err(_) => format!("Failed in trace {trace_id}"),
    }
}

#[component]
fn App(exporter: edgescope::otel::Exporter) -> impl IntoView {
    let (status, set_status) = signal("Ready.".to_owned());
    let click = move |_| {
        let exporter = exporter.clone();
        set_status.set("Loading…".to_owned());
        wasm_bindgen_futures::spawn_local(async move { set_status.set(load_quote(exporter).await) });
    };
    view! {
        <h1>"edgescope in a Leptos page"</h1>
        <button id="go" type="button" on:click=click>"Load a quote"</button>
        <p id="status">{status}</p>
    }
}

/// Sets edgescope up as the `opentelemetry` provider, starts the exporter and mounts the page.
#[wasm_bindgen(start)]
pub fn main() {
    let endpoint = query_param("otlp").unwrap_or_else(|| "http://127.0.0.1:4318".into());
    global::set_tracer_provider(edgescope::otel::TracerProvider::new(edgescope::Config {
        service_name: "example-leptos".into(),
        ..Default::default()
    }));
    global::set_text_map_propagator(edgescope::otel::TraceContextPropagator);
    let exporter = edgescope::otel::Exporter::new(endpoint);
    exporter.start(1_000);
    leptos::mount::mount_to_body(move || view! { <App exporter=exporter.clone() /> });
}
