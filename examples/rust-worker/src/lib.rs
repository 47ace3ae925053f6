//! A worker written in Rust, in the style of workers-rs: `fetch(request, env, ctx)` is a
//! wasm-bindgen export that `shim.mjs` hands every request to. It traces with the standard
//! `opentelemetry` API backed by edgescope: the incoming `traceparent` is continued by a SERVER
//! span, a child span and a log record are made inside it, and `edgescope::otel::Exporter`
//! posts the request's telemetry to the collector as OTLP protobuf under `ctx.waitUntil`, so the
//! response is not held up and the isolate is kept alive until the export is done.
//!
//! The incoming `baggage` is propagated too (edgescope's `BaggagePropagator` next to its
//! `TraceContextPropagator`, combined with the crate's `TextMapCompositePropagator`): its
//! `tenant` member, when sent, becomes the SERVER span's `tenant` attribute, and an outgoing
//! request made inside the handler would carry it on.
//!
//! It serves one route, `/greet` (`?name=` says whom): the SERVER span is named `GET /greet` and
//! has `http.route` `/greet`. Any other path is a 404 whose span is named after the method
//! alone (`GET`), without `http.route`, as the HTTP semantic conventions ask when no route
//! matched (a raw path would make a span name per URL).
//!
//! Configuration comes from the worker's bindings: `OTEL_SERVICE_NAME` and
//! `OTEL_EXPORTER_OTLP_ENDPOINT`; a binding that is empty (or blank) counts as unset, as the
//! OpenTelemetry environment specification says.
#![cfg(target_arch = "wasm32")]

use std::collections::HashMap;
use std::sync::Once;

use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{global, Context, KeyValue};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

static SETUP: Once = Once::new();

/// A text binding; an empty or blank one is unset, as the OpenTelemetry environment
/// specification says of an empty variable.
fn binding(env: &JsValue, name: &str) -> Option<String> {
    js_sys::Reflect::get(env, &JsValue::from_str(name))
        .ok()
        .and_then(|v| v.as_string())
        .filter(|v| !v.trim().is_empty())
}

/// The route a path matches, as its `http.route` template (the worker's own routing: there is
/// one route); `None` for a path that matches none.
fn route_of(path: &str) -> Option<&'static str> {
    match path {
        "/greet" => Some("/greet"),
        _ => None,
    }
}

/// Installs edgescope as the global tracer provider and logger provider, once per isolate.
fn set_up(env: &JsValue) {
    SETUP.call_once(|| {
        let config = edgescope::Config {
            service_name: binding(env, "OTEL_SERVICE_NAME").unwrap_or_else(|| "rust-worker".into()),
            ..Default::default()
        };
        global::set_tracer_provider(edgescope::otel::TracerProvider::new(config));
        global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
            Box::new(edgescope::otel::TraceContextPropagator),
            Box::new(edgescope::otel::BaggagePropagator),
        ]));
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

/// `/greet`: a child span of the SERVER span in `cx`, with a log record inside it.
fn greet(tracer: &global::BoxedTracer, cx: &Context, url: &web_sys::Url) -> Result<String, JsValue> {
    let name = web_sys::UrlSearchParams::new_with_str(&url.search())?.get("name").unwrap_or_else(|| "world".into());
    let _guard = cx.clone().attach();
    Ok(tracer.in_span("compose greeting", |inner| {
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
    }))
}

/// The worker's request handler.
#[wasm_bindgen]
pub async fn fetch(request: web_sys::Request, env: JsValue, ctx: JsValue) -> Result<web_sys::Response, JsValue> {
    set_up(&env);
    let url = web_sys::Url::new(&request.url())?;
    let parent: Context = global::get_text_map_propagator(|p| p.extract(&headers_of(&request)));
    let tracer = global::tracer("rust-worker");
    let route = route_of(&url.pathname());
    let mut attributes = vec![
        KeyValue::new("http.request.method", request.method()),
        KeyValue::new("url.path", url.pathname()),
        KeyValue::new("url.scheme", url.protocol().trim_end_matches(':').to_owned()),
    ];
    if let Some(route) = route {
        attributes.push(KeyValue::new("http.route", route));
    }
    if let Some(tenant) = parent.baggage().get("tenant") {
        attributes.push(KeyValue::new("tenant", tenant.clone()));
    }
    // `{method} {http.route}`, or the method alone when no route matched: never the raw path.
    let span_name = match route {
        Some(route) => format!("{} {route}", request.method()),
        None => request.method(),
    };
    let server = tracer
        .span_builder(span_name)
        .with_kind(SpanKind::Server)
        .with_attributes(attributes)
        .start_with_context(&tracer, &parent);
    let cx = parent.with_span(server);
    let (status, body) = match route {
        Some(_) => (200, greet(&tracer, &cx, &url)?),
        None => (404, "not found".to_owned()),
    };
    let span = cx.span();
    span.set_attribute(KeyValue::new("http.response.status_code", i64::from(status)));
    // A 4xx is the client's error: a SERVER span leaves its status unset (HTTP conventions).
    if status < 400 {
        span.set_status(Status::Ok);
    }
    let trace_id = span.span_context().trace_id().to_string();
    span.end();

    let endpoint = binding(&env, "OTEL_EXPORTER_OTLP_ENDPOINT").unwrap_or_else(|| "http://127.0.0.1:4318".into());
    // Everything the request recorded leaves after the response, under `waitUntil`; failed
    // batches are counted in `edgescope::otel::diagnostics()`, never thrown. An exporter per
    // request is enough: a batch kept for retry (no network, 429, 502-504) belongs to the
    // isolate, and the next request's exporter to this endpoint sends it.
    let exporter = edgescope::otel::Exporter::new(endpoint);
    let export = wasm_bindgen_futures::future_to_promise(async move {
        exporter.flush().await;
        Ok(JsValue::UNDEFINED)
    });
    let wait_until: js_sys::Function = js_sys::Reflect::get(&ctx, &"waitUntil".into())?.dyn_into()?;
    wait_until.call1(&ctx, &export)?;

    let init = web_sys::ResponseInit::new();
    let headers = web_sys::Headers::new()?;
    headers.set("x-trace-id", &trace_id)?;
    init.set_headers(&headers);
    init.set_status(status);
    web_sys::Response::new_with_opt_str_and_init(Some(&body), &init)
}
