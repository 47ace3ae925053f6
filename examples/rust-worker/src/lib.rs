//! A worker written in Rust, in the style of workers-rs: `fetch(request, env, ctx)` is a
//! wasm-bindgen export that `shim.mjs` hands every request to. It traces with the standard
//! `opentelemetry` API backed by edgescope: the incoming `traceparent` is continued by a SERVER
//! span, a child span and a log record are made inside it, and the request's telemetry is
//! posted to the collector as OTLP protobuf through `ctx.waitUntil`, so the response is not
//! held up and the isolate is kept alive until the export is done.
//!
//! Configuration comes from the worker's bindings: `OTEL_SERVICE_NAME` and
//! `OTEL_EXPORTER_OTLP_ENDPOINT`.
#![cfg(target_arch = "wasm32")]

use std::collections::HashMap;
use std::sync::Once;

use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{global, Context, KeyValue};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

static SETUP: Once = Once::new();

fn binding(env: &JsValue, name: &str) -> Option<String> {
    js_sys::Reflect::get(env, &JsValue::from_str(name)).ok().and_then(|v| v.as_string())
}

/// Installs edgescope as the global tracer provider and logger provider, once per isolate.
fn set_up(env: &JsValue) {
    SETUP.call_once(|| {
        let config = edgescope::Config {
            service_name: binding(env, "OTEL_SERVICE_NAME").unwrap_or_else(|| "rust-worker".into()),
            ..Default::default()
        };
        global::set_tracer_provider(edgescope::otel::TracerProvider::new(config));
        global::set_text_map_propagator(edgescope::otel::TraceContextPropagator);
        LOGGER.with(|l| {
            let _ = l.set(edgescope::otel::LoggerProvider::new().logger("rust-worker"));
        });
    });
}

thread_local! {
    static LOGGER: std::cell::OnceCell<edgescope::otel::Logger> = const { std::cell::OnceCell::new() };
}

/// The request headers as a carrier for the propagator.
fn headers_of(request: &web_sys::Request) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for name in ["traceparent", "tracestate", "baggage"] {
        if let Ok(Some(value)) = request.headers().get(name) {
            out.insert(name.to_owned(), value);
        }
    }
    out
}

/// Posts one OTLP protobuf body; errors are logged to the console, never thrown into the host.
async fn post(endpoint: String, path: &str, body: Vec<u8>) {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    let headers = web_sys::Headers::new().expect("Headers");
    let _ = headers.set("content-type", "application/x-protobuf");
    init.set_headers(&headers);
    init.set_body(&js_sys::Uint8Array::from(&body[..]));
    let global: js_sys::Object = js_sys::global();
    let fetch: js_sys::Function = js_sys::Reflect::get(&global, &"fetch".into()).unwrap().unchecked_into();
    let url = format!("{endpoint}{path}");
    let call = fetch.call2(&global, &JsValue::from_str(&url), &init);
    match call {
        Ok(promise) => {
            if let Err(e) = JsFuture::from(js_sys::Promise::from(promise)).await {
                web_sys_console(&format!("edgescope example: export to {url} failed: {e:?}"));
            }
        }
        Err(e) => web_sys_console(&format!("edgescope example: export to {url} failed: {e:?}")),
    }
}

fn web_sys_console(message: &str) {
    let console = js_sys::Reflect::get(&js_sys::global(), &"console".into()).unwrap_or(JsValue::UNDEFINED);
    if let Ok(log) = js_sys::Reflect::get(&console, &"log".into()) {
        if let Ok(log) = log.dyn_into::<js_sys::Function>() {
            let _ = log.call1(&console, &JsValue::from_str(message));
        }
    }
}

/// Everything waiting for export, as one promise for `ctx.waitUntil`.
fn export(endpoint: String) -> js_sys::Promise {
    let mut batches = Vec::new();
    while let Some(body) = edgescope::otel::take_traces_proto() {
        batches.push(("/v1/traces", body));
    }
    while let Some(body) = edgescope::otel::take_logs_proto() {
        batches.push(("/v1/logs", body));
    }
    wasm_bindgen_futures::future_to_promise(async move {
        for (path, body) in batches {
            post(endpoint.clone(), path, body).await;
        }
        Ok(JsValue::UNDEFINED)
    })
}

/// The worker's request handler.
#[wasm_bindgen]
pub async fn fetch(request: web_sys::Request, env: JsValue, ctx: JsValue) -> Result<web_sys::Response, JsValue> {
    set_up(&env);
    let url = web_sys::Url::new(&request.url())?;
    let parent: Context = global::get_text_map_propagator(|p| p.extract(&headers_of(&request)));
    let tracer = global::tracer("rust-worker");
    let server = tracer
        .span_builder(format!("{} {}", request.method(), url.pathname()))
        .with_kind(SpanKind::Server)
        .with_attributes([
            KeyValue::new("http.request.method", request.method()),
            KeyValue::new("url.path", url.pathname()),
            KeyValue::new("url.scheme", url.protocol().trim_end_matches(':').to_owned()),
        ])
        .start_with_context(&tracer, &parent);
    let cx = parent.with_span(server);
    let name = web_sys::UrlSearchParams::new_with_str(&url.search())?.get("name").unwrap_or_else(|| "world".into());
    let greeting = {
        let _guard = cx.clone().attach();
        tracer.in_span("compose greeting", |inner| {
            inner.span().set_attribute(KeyValue::new("greeting.name", name.clone()));
            LOGGER.with(|l| {
                if let Some(logger) = l.get() {
                    let mut record = logger.create_log_record();
                    record.set_severity_number(Severity::Info);
                    record.set_severity_text("INFO");
                    record.set_body(format!("greeting {name}").into());
                    logger.emit(record);
                }
            });
            format!("hello {name} from Rust")
        })
    };
    let span = cx.span();
    span.set_attribute(KeyValue::new("http.response.status_code", 200));
    span.set_status(Status::Ok);
    let trace_id = span.span_context().trace_id().to_string();
    span.end();

    let endpoint = binding(&env, "OTEL_EXPORTER_OTLP_ENDPOINT").unwrap_or_else(|| "http://127.0.0.1:4318".into());
    let wait_until: js_sys::Function = js_sys::Reflect::get(&ctx, &"waitUntil".into())?.dyn_into()?;
    wait_until.call1(&ctx, &export(endpoint))?;

    let init = web_sys::ResponseInit::new();
    let headers = web_sys::Headers::new()?;
    headers.set("x-trace-id", &trace_id)?;
    init.set_headers(&headers);
    web_sys::Response::new_with_opt_str_and_init(Some(&greeting), &init)
}
