//! Requests to the configured sources (the collector by default), each returning a typed
//! `Result`. What to ask and how to read the answer is in [`crate::sources`]; this module sends
//! the requests and keeps the current sources (in `localStorage` and the page URL).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;

use edgescope_otlp::{LogsData, TracesData};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::sources::{self, FetchedTrace, Outcome, Request, SearchQuery, Source, Sources, TraceSummary};

/// A failed request, in words for the error panel.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError(pub(crate) String);

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Runs `fetch` once and again whenever a signal it reads (before its first `.await`) changes,
/// and holds the latest answer: `None` until the first one arrives, then the last answer until a
/// newer one replaces it; an answer overtaken by a later run is dropped. Like `LocalResource`,
/// without its async-derived machinery (about 30 KB of the wasm, 3 % of the download).
pub(crate) fn load<T, Fut>(fetch: impl Fn() -> Fut + 'static) -> ReadSignal<Option<T>>
where
    T: Send + Sync + 'static,
    Fut: Future<Output = T> + 'static,
{
    let (value, set_value) = signal(None);
    let runs = Rc::new(Cell::new(0u64));
    rerun(Box::new(move || {
        let future = fetch();
        let run = runs.get() + 1;
        runs.set(run);
        let runs = Rc::clone(&runs);
        leptos::task::spawn_local(async move {
            let answer = future.await;
            // (A page gone meanwhile took the signal with it.)
            if runs.get() == run {
                set_value.try_set(Some(answer));
            }
        });
    }));
    value
}

/// An effect around `run`, boxed so that every [`load`] shares one copy of the effect's code.
fn rerun(run: Box<dyn Fn()>) {
    Effect::new(run);
}

const STORAGE_KEY: &str = "edgescope.sources";

/// A trace's time range (Unix nanoseconds), when it is known.
type Window = Option<(u64, u64)>;

thread_local! {
    static SOURCES: RefCell<Option<Sources>> = const { RefCell::new(None) };
    /// The trace fetched last and its time range, for asking a log source about its records;
    /// no range when the trace source failed or knew no spans (it is not asked again for it).
    static LAST_TRACE: RefCell<Option<(String, Window)>> = const { RefCell::new(None) };
}

/// The browser's `localStorage`, when it has one the page may use.
pub(crate) fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn page_param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search).ok()?.get(name)
}

/// The sources in use: those stored in the browser, overridden by `traces=` / `logs=` in the
/// page URL (so that a shared link shows the same data). The address is read again on every
/// call: after back and forward the page follows the address it is at; an address without them
/// keeps the sources in use (so the header's links keep a shared link's sources).
pub(crate) fn sources() -> Sources {
    let saved = || {
        storage()
            .and_then(|st| st.get_item(STORAGE_KEY).ok().flatten())
            .map_or_else(Sources::default, |t| Sources::from_storage(&t))
    };
    SOURCES.with(|s| {
        let mut s = s.borrow_mut();
        let sources = s.get_or_insert_with(saved);
        let refused = sources.apply_query(page_param("traces").as_deref(), page_param("logs").as_deref());
        let notice = (!refused.is_empty()).then(|| {
            format!(
                "The address names a source this viewer cannot read ({}); showing traces from {} and logs from {} instead.",
                refused.join(", "),
                described(&sources.traces),
                described(&sources.logs),
            )
        });
        SOURCE_NOTICE.with(|n| {
            if n.get_untracked() != notice {
                n.set(notice);
            }
        });
        // A source named by the address is read without credentials: the saved ones of the same
        // backend go with it (back to it after an address named another source, say).
        sources.with_saved_credentials(&saved());
        sources.clone()
    })
}

/// A source as the page names it: its kind, and where it is unless it is this page's collector.
fn described(source: &crate::sources::Source) -> String {
    if source.url.is_empty() {
        source.kind.label().to_owned()
    } else {
        format!("{} at {}", source.kind.label(), source.url)
    }
}

/// Stores new sources in the browser (credentials included; they never leave it).
pub(crate) fn set_sources(sources: Sources) {
    if let Some(st) = storage() {
        let _ = st.set_item(STORAGE_KEY, &sources.to_storage());
    }
    SOURCES.with(|s| *s.borrow_mut() = Some(sources));
}

/// `traces=…&logs=…` for links that should reproduce the view.
pub(crate) fn sources_query() -> String {
    query_of(&sources())
}

/// `traces=…&logs=…` of `sources`.
pub(crate) fn query_of(chosen: &Sources) -> String {
    chosen.to_query().into_iter().map(|(k, v)| format!("{k}={}", sources::encode(&v))).collect::<Vec<_>>().join("&")
}

fn js_error(context: &str, e: wasm_bindgen::JsValue) -> ApiError {
    let detail = js_sys::Error::from(e).message().as_string().unwrap_or_else(|| "unknown error".into());
    ApiError(format!("{context}: {detail}"))
}

/// Sends a `GET` and returns the status and the body as text. A source asked directly (another
/// origin) that has not answered in [`sources::DIRECT_TIMEOUT_SECONDS`] is given up, with an
/// error naming it; one behind the collector's gateway is given up by the gateway, which says so.
/// An answer larger than the viewer can read is refused in words (see [`sources::too_large`]).
pub(crate) async fn send(request: &Request) -> Result<(u16, String), ApiError> {
    let url = &request.url;
    let window = web_sys::window().ok_or_else(|| ApiError("no window".into()))?;
    let init = web_sys::RequestInit::new();
    init.set_method("GET");
    let headers = web_sys::Headers::new().map_err(|e| js_error(url, e))?;
    for (k, v) in &request.headers {
        headers.set(k, v).map_err(|e| js_error(url, e))?;
    }
    init.set_headers(&headers);
    let deadline = Deadline::arm(&window, &init, url);
    let answer = async {
        let response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
            .await
            .map_err(|e| ApiError(sources::unreachable(&js_error(url, e).0, url)))?;
        let response: web_sys::Response = response.dyn_into().map_err(|e| js_error(url, e))?;
        let status = response.status();
        let length = response
            .headers()
            .get("content-length")
            .ok()
            .flatten()
            .and_then(|l| l.parse::<u64>().ok())
            .map(|n| n as f64);
        if let Some(e) = length.and_then(|n| sources::too_large(url, n)) {
            return Err(ApiError(e));
        }
        let buffer = JsFuture::from(response.array_buffer().map_err(|e| js_error(url, e))?)
            .await
            .map_err(|e| ApiError(sources::cut_off(url, &js_error(url, e).0)))?;
        let bytes = js_sys::Uint8Array::new(&buffer);
        if let Some(e) = sources::too_large(url, bytes.length() as f64) {
            return Err(ApiError(e));
        }
        // Invalid bytes become U+FFFD, as `Response.text()` decodes them.
        let text =
            String::from_utf8(bytes.to_vec()).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        Ok((status, text))
    }
    .await;
    if deadline.passed(&window) {
        return Err(ApiError(sources::timed_out(url)));
    }
    answer
}

/// The timer that gives up a request to another origin (a path is the collector's, whose
/// gateway has timeouts of its own) after [`sources::DIRECT_TIMEOUT_SECONDS`], aborting it
/// through the signal it sets on the request, whether the answer has not begun or stopped
/// midway.
struct Deadline {
    timer: Option<i32>,
    timed_out: Rc<Cell<bool>>,
    /// Kept until the timer is cleared, then dropped: not leaked when it never fires.
    on_timeout: Option<wasm_bindgen::closure::Closure<dyn FnMut()>>,
}

impl Deadline {
    fn arm(window: &web_sys::Window, init: &web_sys::RequestInit, url: &str) -> Deadline {
        let timed_out = Rc::new(Cell::new(false));
        let (mut timer, mut on_timeout) = (None, None);
        if !url.starts_with('/') {
            if let Ok(abort) = web_sys::AbortController::new() {
                init.set_signal(Some(&abort.signal()));
                let timed_out = Rc::clone(&timed_out);
                let callback = wasm_bindgen::closure::Closure::once(move || {
                    timed_out.set(true);
                    abort.abort();
                });
                timer = window
                    .set_timeout_with_callback_and_timeout_and_arguments_0(
                        callback.as_ref().unchecked_ref(),
                        (sources::DIRECT_TIMEOUT_SECONDS * 1000) as i32,
                    )
                    .ok();
                on_timeout = Some(callback);
            }
        }
        Deadline { timer, timed_out, on_timeout }
    }

    /// Gives the request the whole time again from now (it is making progress); not once the
    /// timer has fired.
    fn restart(&mut self, window: &web_sys::Window) {
        if let (Some(timer), Some(callback), false) = (self.timer, &self.on_timeout, self.timed_out.get()) {
            window.clear_timeout_with_handle(timer);
            self.timer = window
                .set_timeout_with_callback_and_timeout_and_arguments_0(
                    callback.as_ref().unchecked_ref(),
                    (sources::DIRECT_TIMEOUT_SECONDS * 1000) as i32,
                )
                .ok();
        }
    }

    /// Stops the timer once the request is over; whether it had fired (the request was given up).
    fn passed(self, window: &web_sys::Window) -> bool {
        if let Some(timer) = self.timer {
            window.clear_timeout_with_handle(timer);
        }
        drop(self.on_timeout);
        self.timed_out.get()
    }
}

/// Fetches a file by URL, without credentials: its bytes, or what went wrong in words (a URL
/// refused, no answer, most often for want of CORS, a server of another origin that sends
/// nothing for [`sources::DIRECT_TIMEOUT_SECONDS`] — no answer, or one that stops midway; one
/// still sending, however slowly, is waited for —, an answer that is not a success, or one
/// larger than the viewer reads, refused as soon as it is known to be).
pub(crate) async fn fetch_file(url: &str) -> Result<Vec<u8>, String> {
    let url = crate::file_url::check_url(url)?;
    let failed = |e: wasm_bindgen::JsValue| {
        let detail = js_sys::Error::from(e).message().as_string().unwrap_or_else(|| "no reason given".into());
        crate::file_url::fetch_failed(&url, &detail)
    };
    let window = web_sys::window().ok_or("no window")?;
    // Asked of the server every time (`no-cache` revalidates): a file opened again may have
    // changed, even where its host lets browsers keep it for a while.
    let init = web_sys::RequestInit::new();
    init.set_cache(web_sys::RequestCache::NoCache);
    let mut deadline = Deadline::arm(&window, &init, &url);
    let answer = async {
        let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
            .await
            .map_err(failed)?
            .dyn_into()
            .map_err(failed)?;
        if let Some(e) = crate::file_url::answer_error(&url, response.status()) {
            return Err(e);
        }
        let length = response.headers().get("content-length").ok().flatten().and_then(|l| l.parse::<u64>().ok());
        if let Some(e) = length.and_then(|n| crate::file_url::too_large(&url, n as f64)) {
            return Err(e);
        }
        deadline.restart(&window);
        // Read chunk by chunk (`ReadableStreamDefaultReader`, reached through `Reflect`): each
        // chunk restarts the timer, and a body past the limit is refused before it is all read.
        let get = |target: &wasm_bindgen::JsValue, name: &str| js_sys::Reflect::get(target, &name.into());
        let call = |target: &wasm_bindgen::JsValue, name: &str| {
            get(target, name)?.dyn_into::<js_sys::Function>()?.call0(target)
        };
        let body = get(&response, "body").map_err(failed)?;
        let mut bytes = Vec::with_capacity(length.unwrap_or(0) as usize);
        if body.is_null() || body.is_undefined() {
            return Ok(bytes);
        }
        let reader = call(&body, "getReader").map_err(failed)?;
        loop {
            let read = call(&reader, "read").map_err(failed)?;
            let chunk = JsFuture::from(read.unchecked_into::<js_sys::Promise>()).await.map_err(failed)?;
            if get(&chunk, "done").map_err(failed)?.is_truthy() {
                return Ok(bytes);
            }
            let value = js_sys::Uint8Array::new(&get(&chunk, "value").map_err(failed)?);
            let (start, end) = (bytes.len(), bytes.len() + value.length() as usize);
            if let Some(e) = crate::file_url::too_large(&url, end as f64) {
                let _ = call(&reader, "cancel");
                return Err(e);
            }
            bytes.resize(end, 0);
            value.copy_to(&mut bytes[start..]);
            deadline.restart(&window);
        }
    }
    .await;
    if deadline.passed(&window) {
        return Err(crate::file_url::timed_out(&url));
    }
    answer
}

/// Tries each request of a plan until one gives an answer.
async fn first_answer<T, F: Copy>(
    plan: Vec<(Request, F)>,
    parse: impl Fn(F, u16, &str) -> Result<Outcome<T>, String>,
) -> Result<T, ApiError> {
    let mut last = None;
    for (request, format) in plan {
        let (status, body) = send(&request).await?;
        match parse(format, status, &body).map_err(|e| ApiError(format!("{}: {e}", request.url)))? {
            Outcome::Done(value) => return Ok(value),
            Outcome::TryNext => last = Some((request.url, status)),
        }
    }
    Err(ApiError(match last {
        Some((url, status)) if (200..300).contains(&status) => {
            format!("{url}: the source does not offer this API (it answered {status} with an HTML page)")
        }
        Some((url, status)) => format!("{url}: the source does not offer this API ({status})"),
        None => "nothing to ask".into(),
    }))
}

/// `GET` of a JSON document from `url` with `source`'s credentials; non-2xx answers become
/// errors with the source's message.
pub(crate) async fn get_json_from(source: &Source, url: &str) -> Result<serde_json::Value, ApiError> {
    let mut request = source_request(source, String::new());
    request.url = url.to_owned();
    let (status, body) = send(&request).await?;
    let json: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| ApiError(format!("{url} answered {status}: not JSON ({e})")))?;
    if !(200..300).contains(&status) {
        let message = json["error"]["message"].as_str().or(json["message"].as_str()).unwrap_or("request failed");
        return Err(ApiError(format!("{url} answered {status}: {message}")));
    }
    Ok(json)
}

/// The search whose attribute filters a source's answer is checked against: Jaeger's (some of
/// its API v3 versions ignore them); the collector applies its own.
fn search_check(source: &Source, query: &SearchQuery) -> Option<SearchQuery> {
    (source.kind == sources::Kind::Jaeger).then(|| query.clone())
}

/// Searches the trace source: the traces found, and what of the answer could not be read.
pub(crate) async fn search(query: SearchQuery) -> Result<sources::Found<Vec<TraceSummary>>, ApiError> {
    let source = sources().traces;
    let plan = sources::search_requests(&source, &query).map_err(ApiError)?;
    let check = search_check(&source, &query);
    first_answer(plan, |f, status, body| sources::parse_search(f, status, body, check.as_ref())).await
}

/// The spans of the traces a search finds, from sources whose search answers with whole traces,
/// and what of the answer could not be read.
pub(crate) async fn search_spans(query: SearchQuery) -> Result<sources::Found<TracesData>, ApiError> {
    let source = sources().traces;
    let plan = sources::search_requests(&source, &query).map_err(ApiError)?;
    let check = search_check(&source, &query);
    first_answer(plan, |f, status, body| sources::parse_search_spans(f, status, body, check.as_ref())).await
}

/// Service names of the trace source.
pub(crate) async fn services() -> Result<Vec<String>, ApiError> {
    first_answer(sources::services_requests(&sources().traces), sources::parse_names).await
}

/// Attribute keys the trace source knows (none when it has no list of them, or it fails: the
/// list only helps typing).
pub(crate) async fn attribute_keys() -> Vec<String> {
    let plan = sources::tag_names_requests(&sources().traces);
    if plan.is_empty() {
        return Vec::new();
    }
    first_answer(plan, sources::parse_names).await.unwrap_or_default()
}

/// Operations of a service in the trace source.
pub(crate) async fn operations(service: String) -> Result<Vec<String>, ApiError> {
    if service.is_empty() {
        return Ok(Vec::new());
    }
    first_answer(sources::operations_requests(&sources().traces, &service), sources::parse_names).await
}

/// Names of the upstreams the serving collector forwards to (none when it has none or the
/// viewer is hosted elsewhere).
pub(crate) async fn upstreams() -> Vec<String> {
    let request = Request { url: "/api/upstreams".into(), headers: Vec::new() };
    match send(&request).await {
        Ok((200, body)) => serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["upstreams"].as_array().cloned())
            .map(|a| a.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The time range (Unix nanoseconds) of the trace fetched last, when it is `trace_id`.
pub(crate) fn last_trace_window(trace_id: &str) -> Option<(u64, u64)> {
    last_trace(trace_id).flatten()
}

/// What the trace fetched last taught about `trace_id`'s time range, if it was that trace.
fn last_trace(trace_id: &str) -> Option<Window> {
    LAST_TRACE.with(|t| t.borrow().as_ref().filter(|(id, _)| id == trace_id).map(|(_, window)| *window))
}

/// One trace from the trace source, with the source's warning (a partial trace) if any, for the
/// page to show in the notice bar while it shows the trace; remembers the trace's time range, or that
/// there is none to be had.
pub(crate) async fn fetch_trace(trace_id: &str) -> Result<FetchedTrace, ApiError> {
    let fetched = match sources::trace_requests(&sources().traces, trace_id) {
        Ok(plan) => first_answer(plan, sources::parse_trace).await,
        Err(e) => Err(ApiError(e)),
    };
    let window = fetched.as_ref().ok().and_then(|fetched| {
        let (mut start, mut end) = (u64::MAX, 0);
        for (_, _, span) in fetched.data.spans() {
            start = start.min(span.start_time_unix_nano);
            end = end.max(span.end_time_unix_nano);
        }
        (start <= end).then_some((start, end))
    });
    LAST_TRACE.with(|t| *t.borrow_mut() = Some((trace_id.to_ascii_lowercase(), window)));
    fetched
}

/// The time range of a trace (Unix nanoseconds): that of the trace fetched last, else asked of
/// the trace source; `None` when the source does not know the trace, or failed when the trace
/// page asked it (the trace's log records are then asked at once, not after a second failure).
pub(crate) async fn trace_window(trace_id: &str) -> Option<(u64, u64)> {
    let id = trace_id.to_ascii_lowercase();
    if let Some(known) = last_trace(&id) {
        return known;
    }
    fetch_trace(&id).await.ok()?;
    last_trace_window(&id)
}

thread_local! {
    /// A message for the notice bar at the top of the page (a partial trace, say). Reference
    /// counted rather than owned by a view, so that no re-render disposes it.
    pub(crate) static NOTICE: ArcRwSignal<Option<String>> = ArcRwSignal::new(None);
    /// What the address asked for and the page could not use (see `Sources::apply_query`).
    pub(crate) static SOURCE_NOTICE: ArcRwSignal<Option<String>> = ArcRwSignal::new(None);
}

fn source_request(source: &Source, path: String) -> Request {
    let mut headers = vec![("Accept".to_owned(), "application/json".to_owned())];
    if let Some(a) = source.auth.as_ref().filter(|a| !a.is_empty()) {
        headers.push(("Authorization".to_owned(), a.clone()));
    }
    Request { url: format!("{}{path}", source.url), headers }
}

/// The log records of one trace, from the log source (none when it cannot be asked by trace),
/// around the trace's own time when the trace source knows it.
pub(crate) async fn trace_logs(trace_id: &str) -> Result<LogsData, ApiError> {
    let id = trace_id.to_ascii_lowercase();
    let source = sources().logs;
    // Only Loki is asked for a time range.
    let known = if source.kind == sources::Kind::Loki { trace_window(&id).await } else { None };
    let (start, end) = match known {
        Some(window) => window,
        None => {
            let now = js_sys::Date::now() as u64 * 1_000_000;
            (now.saturating_sub(7 * 24 * 3_600_000_000_000), now)
        }
    };
    let Some(request) = sources::trace_logs_request(&source, &id, start, end) else {
        return Ok(LogsData::default());
    };
    let (status, body) = send(&request).await?;
    sources::parse_logs(source.kind, status, &body).map_err(|e| ApiError(format!("{}: {e}", request.url)))
}
