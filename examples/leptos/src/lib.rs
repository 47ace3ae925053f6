//! A Leptos page traced through the standard `opentelemetry` API, with edgescope as the
//! provider and `edgescope::otel::Exporter` sending the spans and log records to a collector.
//!
//! The button starts a span, fetches `quote.txt` with the span's `traceparent` injected into the
//! request headers, logs what came back (the record carries the span's ids), ends the span and
//! shows its trace id. An answer outside 200-299 ends the span with status Error ("HTTP 404"),
//! and a `fetch` that throws also records an `exception` event (`exception.type`,
//! `exception.message`), its status description being the error's message; the page then says
//! "Failed". The exporter posts every second and when the page is hidden; the click
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

/// Why the quote did not come: `fetch` (or reading the body) threw, or the server answered
/// outside 200-299.
enum Failure {
    /// A thrown JavaScript error: its `name` (`TypeError`), `message` and `stack`.
    Thrown { kind: String, message: String, stack: Option<String> },
    /// The answer's status code.
    Status(u16),
}

impl Failure {
    /// A thrown value as the semantic conventions' `exception.*`: an `Error`'s name, message and
    /// stack; anything else by its text, or its type when it has none.
    fn thrown(value: JsValue) -> Self {
        if let Some(error) = value.dyn_ref::<js_sys::Error>() {
            let stack = js_sys::Reflect::get(error, &"stack".into()).ok().and_then(|s| s.as_string());
            return Failure::Thrown { kind: error.name().into(), message: error.message().into(), stack };
        }
        let message = value.as_string().unwrap_or_default();
        Failure::Thrown { kind: value.js_typeof().as_string().unwrap_or_default(), message, stack: None }
    }

    /// The span's status description and what the page shows: short, no stack.
    fn describe(&self) -> String {
        match self {
            Failure::Thrown { kind, message, .. } if message.is_empty() => kind.clone(),
            Failure::Thrown { message, .. } => message.clone(),
            Failure::Status(code) => format!("HTTP {code}"),
        }
    }
}

/// `fetch(url, { headers })`, answered with the status code and, for a 2xx answer, the body's
/// text; a non-2xx answer is a [`Failure::Status`], its body left unread.
async fn fetch_text(url: &str, headers: &HashMap<String, String>) -> (Option<u16>, Result<String, Failure>) {
    let mut status = None;
    let result = async {
        let init = js_sys::Object::new();
        let h = js_sys::Object::new();
        for (name, value) in headers {
            js_sys::Reflect::set(&h, &name.into(), &value.into())?;
        }
        js_sys::Reflect::set(&init, &"headers".into(), &h)?;
        let global = js_sys::global();
        let fetch: js_sys::Function = js_sys::Reflect::get(&global, &"fetch".into())?.dyn_into()?;
        let response = JsFuture::from(fetch.call2(&global, &url.into(), &init)?.dyn_into::<js_sys::Promise>()?).await?;
        let code = js_sys::Reflect::get(&response, &"status".into())?.as_f64().unwrap_or(0.0) as u16;
        status = Some(code);
        if js_sys::Reflect::get(&response, &"ok".into())?.as_bool() != Some(true) {
            return Ok(Err(Failure::Status(code)));
        }
        let text: js_sys::Function = js_sys::Reflect::get(&response, &"text".into())?.dyn_into()?;
        let body = JsFuture::from(text.call0(&response)?.dyn_into::<js_sys::Promise>()?).await?;
        Ok::<_, JsValue>(Ok(body.as_string().unwrap_or_default()))
    }
    .await;
    (status, result.unwrap_or_else(|thrown| Err(Failure::thrown(thrown))))
}

/// One traced click: a span around a fetch that carries its context, and a log record in it.
/// The span ends `Ok` only when the quote came; a non-2xx answer is an error described by its
/// status code, and a thrown error is also recorded as an `exception` event.
async fn load_quote(exporter: edgescope::otel::Exporter) -> String {
    let tracer = global::tracer("example-leptos");
    let mut span = tracer.start("load quote");
    span.set_attribute(KeyValue::new("quote.source", "quote.txt"));
    let cx = Context::current_with_span(span);
    let mut headers = HashMap::new();
    global::get_text_map_propagator(|p| p.inject_context(&cx, &mut headers));
    let (status, quote) = fetch_text("quote.txt", &headers).await;
    let span = cx.span();
    if let Some(code) = status {
        span.set_attribute(KeyValue::new("http.response.status_code", i64::from(code)));
    }
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
        Err(failure) => {
            if let Failure::Thrown { kind, message, stack } = failure {
                let mut attributes = vec![
                    KeyValue::new("exception.type", kind.clone()),
                    KeyValue::new("exception.message", message.clone()),
                ];
                if let Some(stack) = stack {
                    attributes.push(KeyValue::new("exception.stacktrace", stack.clone()));
                }
                span.add_event("exception", attributes);
            }
            span.set_status(Status::error(failure.describe()));
        }
    }
    let trace_id = span.span_context().trace_id().to_string();
    span.end();
    exporter.flush().await;
    match quote {
        Ok(text) => format!("Done in trace {trace_id}: {}", text.trim()),
        Err(failure) => format!("Failed in trace {trace_id}: {}", failure.describe()),
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
