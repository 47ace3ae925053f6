//! Export for Rust apps on wasm32 (Leptos and other browser apps, workers-rs style workers):
//! posts what the `opentelemetry` API recorded to an OTLP/HTTP endpoint with the host's `fetch`.
//!
//! ```ignore
//! let exporter = edgescope::otel::Exporter::new("http://127.0.0.1:4318");
//! exporter.start(5_000); // in a page: every 5 s, and with `keepalive` when the page is hidden
//! // in a worker: ctx.wait_until(wasm_bindgen_futures::future_to_promise(async move {
//! //     exporter.flush().await; Ok(JsValue::UNDEFINED) }))
//! ```
//!
//! Batches leave as OTLP protobuf (`POST {endpoint}/v1/traces` and `/v1/logs`); a flush starts
//! every post before it awaits any (gzipped through `CompressionStream` where the host has it,
//! not on page hide), and a post without an answer after 10 s
//! ([`Exporter::with_timeout`]) is aborted and kept like one that found no network. A batch that fails for lack of network or with 429, 502, 503
//! or 504 is kept (at most [`MAX_KEPT`] batches, the oldest dropped first) and sent again by a
//! later flush. Such a failure pauses the endpoint: until the time an answer's `Retry-After`
//! asks for (seconds or an HTTP date, at most [`MAX_PAUSE_MS`]), else for 1 s after the first
//! failed flush, doubling with each failed flush in a row up to 30 s (±20 %). Flushes during a pause
//! post nothing and keep what they took, except the one on page hide, which is the page's last
//! chance; an answer to a post made after the pause began ends the backoff. Other failures are counted in the diagnostics
//! (`exports_failed`), never thrown. Kept batches belong to the page or the worker's isolate,
//! not to one `Exporter`: the next flush of any exporter to the same endpoint sends them, so a
//! worker that makes an exporter per request (workers-rs style, as examples/rust-worker does)
//! loses none when that exporter is dropped. (They live in the isolate's memory: an isolate the
//! runtime evicts takes them with it.)

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::global::with;
use crate::retry::is_retryable;

/// Failed batches kept for the next flush.
pub const MAX_KEPT: usize = 16;

/// The longest pause a `Retry-After` gets: two minutes, as the JavaScript exporter honours.
pub const MAX_PAUSE_MS: f64 = 120_000.0;

/// The most a `keepalive` request may carry: browsers refuse more than 64 KiB in flight.
const KEEPALIVE_BYTES: usize = 60 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    Traces,
    Logs,
}

#[derive(Debug)]
struct Inner {
    endpoint: String,
    headers: RefCell<Vec<(String, String)>>,
    /// Milliseconds a post may wait for its answer (`AbortSignal.timeout`), as the JavaScript
    /// exporter's `timeoutMillis`.
    timeout_ms: std::cell::Cell<u32>,
    /// Whether bodies go gzipped where the host has `CompressionStream`.
    gzip: std::cell::Cell<bool>,
}

/// How long a post waits for its answer unless [`Exporter::with_timeout`] says otherwise.
pub const DEFAULT_TIMEOUT_MS: u32 = 10_000;

thread_local! {
    /// The batches kept for the next flush, with the endpoint each was for: shared by every
    /// exporter of the page or isolate (wasm32 has one thread).
    static KEPT: RefCell<VecDeque<(String, Signal, Vec<u8>)>> = const { RefCell::new(VecDeque::new()) };
    /// Endpoints not to be sent to before a time (`Date.now()`): they asked so with
    /// `Retry-After`, or failed flushes back off.
    static PAUSED: RefCell<Vec<Pause>> = const { RefCell::new(Vec::new()) };
}

/// Keeps a batch for the next flush; when [`MAX_KEPT`] wait already, the oldest is dropped and counted.
fn keep(endpoint: &str, signal: Signal, body: Vec<u8>) {
    KEPT.with(|kept| {
        let mut kept = kept.borrow_mut();
        if kept.len() == MAX_KEPT {
            kept.pop_front();
            with(|sdk| sdk.diagnostics_mut().exports_failed += 1);
        }
        kept.push_back((endpoint.to_owned(), signal, body));
    });
}

/// An endpoint not to be sent to before `until` (`Date.now()`).
#[derive(Debug)]
struct Pause {
    endpoint: String,
    until: f64,
    /// When the pause was set (by the answers of the last flush that failed).
    set_at: f64,
    /// Flushes in a row whose posts failed and may succeed later.
    failures: u32,
}

/// The pause after `failures` failed flushes in a row without `Retry-After`: 1 s, doubling, at
/// most 30 s, each ±20 % (`jitter` in [0, 1)) so that many pages failing together do not retry together.
fn backoff_ms(failures: u32, jitter: f64) -> f64 {
    let base = (1_000.0 * f64::from(1u32 << failures.clamp(1, 6).saturating_sub(1))).min(MAX_BACKOFF_MS);
    base * (0.8 + 0.4 * jitter)
}

/// The longest pause after failed flushes (before its ±20 %).
const MAX_BACKOFF_MS: f64 = 30_000.0;

/// Until when (`Date.now()`) `endpoint` is not to be sent to, if that is still to come.
fn paused_until(endpoint: &str, now: f64) -> Option<f64> {
    PAUSED.with(|p| p.borrow().iter().find(|p| p.endpoint == endpoint).map(|p| p.until)).filter(|u| *u > now)
}

/// Records how a flush's posts to `endpoint`, started at `posted` (`Date.now()`), were answered.
/// When one failed and may succeed later, the endpoint pauses: until the time its `Retry-After`
/// asks for (`retry_after`, the latest of them), else for a backoff that grows with the failed
/// flushes in a row. Otherwise an answer ends a pause, unless the pause was set after these posts
/// started (an earlier flush's slow answer says nothing about it).
fn answered(endpoint: &str, posted: f64, retry: bool, retry_after: Option<f64>, now: f64) {
    PAUSED.with(|p| {
        let mut p = p.borrow_mut();
        let at = p.iter().position(|p| p.endpoint == endpoint);
        if retry {
            let failures = at.map_or(0, |i| p[i].failures) + 1;
            let until = retry_after.unwrap_or_else(|| now + backoff_ms(failures, js_sys::Math::random()));
            match at {
                Some(i) => {
                    let pause = &mut p[i];
                    (pause.until, pause.set_at, pause.failures) = (pause.until.max(until), now, failures);
                }
                None => p.push(Pause { endpoint: endpoint.to_owned(), until, set_at: now, failures }),
            }
        } else if let Some(i) = at.filter(|&i| p[i].set_at < posted) {
            p.remove(i);
        }
    });
}

/// The milliseconds an answer's `Retry-After` asks to wait (seconds, or an HTTP date read by the
/// host's `Date.parse`), at most [`MAX_PAUSE_MS`]; `None` without one that reads.
fn retry_after_ms(response: &JsValue, now: f64) -> Option<f64> {
    let headers = Reflect::get(response, &"headers".into()).ok()?;
    let get: Function = Reflect::get(&headers, &"get".into()).ok()?.dyn_into().ok()?;
    let value = get.call1(&headers, &"retry-after".into()).ok()?.as_string()?;
    let value = value.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        value.parse::<u64>().ok()? as f64 * 1000.0
    } else {
        let at = js_sys::Date::parse(value);
        if at.is_nan() {
            return None;
        }
        at - now
    };
    Some(wait.clamp(0.0, MAX_PAUSE_MS))
}

/// Posts the spans and log records of the `opentelemetry` API to an OTLP/HTTP endpoint. Cheap
/// to clone; every exporter to the same endpoint sends the batches any of them kept.
#[derive(Debug, Clone)]
pub struct Exporter {
    inner: Rc<Inner>,
}

fn status_of(response: &JsValue) -> Result<u16, JsValue> {
    Ok(Reflect::get(response, &"status".into())?.as_f64().unwrap_or(0.0) as u16)
}

/// The spans or records a successful answer says the receiver rejected: its
/// `Export…ServiceResponse`'s `partial_success` (field 1) `rejected_spans` or
/// `rejected_log_records` (field 1). 0 for an empty answer, or one that does not read.
async fn rejected_in(response: &JsValue) -> u64 {
    let read = || -> Option<Promise> {
        let f: Function = Reflect::get(response, &"arrayBuffer".into()).ok()?.dyn_into().ok()?;
        f.call0(response).ok()?.dyn_into().ok()
    };
    let Some(promise) = read() else { return 0 };
    match JsFuture::from(promise).await {
        Ok(buffer) => partial_success_rejected(&Uint8Array::new(&buffer).to_vec()).unwrap_or(0),
        Err(_) => 0,
    }
}

/// `rejected_*` of a protobuf `Export…ServiceResponse`, when it reads.
fn partial_success_rejected(bytes: &[u8]) -> Option<u64> {
    fn varint(b: &mut &[u8]) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = b.split_first()?;
            *b = rest;
            n |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }
    /// Each field of a message: its number, and its varint value or its bytes.
    fn fields(mut b: &[u8], mut each: impl FnMut(u64, Result<u64, &[u8]>)) -> Option<()> {
        while !b.is_empty() {
            let key = varint(&mut b)?;
            match key & 7 {
                0 => each(key >> 3, Ok(varint(&mut b)?)),
                1 => b = b.get(8..)?,
                2 => {
                    let n = usize::try_from(varint(&mut b)?).ok()?;
                    let (value, rest) = (b.get(..n)?, b.get(n..)?);
                    each(key >> 3, Err(value));
                    b = rest;
                }
                5 => b = b.get(4..)?,
                _ => return None,
            }
        }
        Some(())
    }
    let mut rejected = 0;
    let mut ok = true;
    fields(bytes, |n, v| {
        if let (1, Err(partial)) = (n, v) {
            ok &= fields(partial, |m, v| {
                if let (1, Ok(count)) = (m, v) {
                    rejected = count;
                }
            })
            .is_some();
        }
    })?;
    ok.then_some(rejected)
}

/// What a post's answer (its status, or why there was none) comes to.
fn outcome(status: Result<u16, JsValue>) -> Outcome {
    match status {
        Ok(status) if (200..300).contains(&status) => Outcome::Sent,
        Ok(status) if is_retryable(status) => Outcome::Retry,
        Ok(_) => Outcome::Failed,
        // `fetch` rejects only when there is no answer at all: no network, a refused
        // connection, CORS.
        Err(_) => Outcome::Retry,
    }
}

/// `body` gzipped through the host's `CompressionStream`, or `None` where it has none or it failed.
async fn gzip(body: &[u8]) -> Option<Vec<u8>> {
    let global = js_sys::global();
    let class = |name: &str| Reflect::get(&global, &name.into()).ok()?.dyn_into::<Function>().ok();
    let (compression, response) = (class("CompressionStream")?, class("Response")?);
    let stream = Reflect::construct(&compression, &Array::of1(&"gzip".into())).ok()?;
    // new Response(new Response(body).body.pipeThrough(stream)).arrayBuffer()
    let plain =
        Reflect::get(&Reflect::construct(&response, &Array::of1(&Uint8Array::from(body))).ok()?, &"body".into())
            .ok()?;
    let pipe: Function = Reflect::get(&plain, &"pipeThrough".into()).ok()?.dyn_into().ok()?;
    let zipped = Reflect::construct(&response, &Array::of1(&pipe.call1(&plain, &stream).ok()?)).ok()?;
    let read: Function = Reflect::get(&zipped, &"arrayBuffer".into()).ok()?.dyn_into().ok()?;
    let buffer = JsFuture::from(read.call0(&zipped).ok()?.dyn_into::<Promise>().ok()?).await.ok()?;
    Some(Uint8Array::new(&buffer).to_vec())
}

/// What a post came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Sent,
    /// Worth sending again: no network, or 429, 502, 503, 504.
    Retry,
    Failed,
}

impl Exporter {
    /// An exporter to `endpoint`, the collector's base URL (`http://127.0.0.1:4318`): batches go
    /// to `{endpoint}/v1/traces` and `{endpoint}/v1/logs`.
    pub fn new(endpoint: impl Into<String>) -> Exporter {
        let endpoint = endpoint.into().trim_end_matches('/').to_owned();
        let timeout_ms = std::cell::Cell::new(DEFAULT_TIMEOUT_MS);
        let gzip = std::cell::Cell::new(true);
        Exporter { inner: Rc::new(Inner { endpoint, headers: RefCell::new(Vec::new()), timeout_ms, gzip }) }
    }

    /// Whether bodies go gzipped (`Content-Encoding: gzip`) through the host's
    /// `CompressionStream` (true unless set; a host without one, and a post with `keepalive` on
    /// page hide, send them as they are, as the JavaScript exporter does).
    pub fn with_gzip(self, gzip: bool) -> Exporter {
        self.inner.gzip.set(gzip);
        self
    }

    /// Gives up on a post that has no answer after `ms` milliseconds (at least 1; 10 s unless
    /// set): the batch is kept and sent again at the next flush, as one that found no network.
    /// Where the host has no `AbortSignal.timeout`, a post waits for its answer.
    pub fn with_timeout(self, ms: u32) -> Exporter {
        self.inner.timeout_ms.set(ms.max(1));
        self
    }

    /// Sends `name: value` with every request (an `Authorization` header, say).
    pub fn with_header(self, name: impl Into<String>, value: impl Into<String>) -> Exporter {
        self.inner.headers.borrow_mut().push((name.into(), value.into()));
        self
    }

    /// Sends every batch there is (those kept by any exporter to this endpoint first), starting
    /// every post before it awaits any, and resolves when each is answered: hand it to
    /// `ctx.waitUntil` in a worker. Returns how many batches were delivered. Flushes may
    /// overlap: each takes the batches that are there when it starts.
    pub async fn flush(&self) -> usize {
        self.flush_with(false).await
    }

    async fn flush_with(&self, keepalive: bool) -> usize {
        let endpoint = &self.inner.endpoint;
        let mut batches: Vec<(Signal, Vec<u8>)> = KEPT.with(|kept| {
            let mut kept = kept.borrow_mut();
            let (mine, others): (VecDeque<_>, VecDeque<_>) = kept.drain(..).partition(|(e, _, _)| e == endpoint);
            *kept = others;
            mine.into_iter().map(|(_, signal, body)| (signal, body)).collect()
        });
        while let Some(batch) = with(|sdk| sdk.take_traces_proto()) {
            batches.push((Signal::Traces, batch));
        }
        while let Some(batch) = with(|sdk| sdk.take_logs_proto()) {
            batches.push((Signal::Logs, batch));
        }
        // The endpoint asked to wait: everything is kept for a flush after that, unless the page
        // is going.
        if !keepalive && paused_until(endpoint, js_sys::Date::now()).is_some() {
            for (signal, body) in batches {
                keep(endpoint, signal, body);
            }
            return 0;
        }
        // Every post starts now, before any is awaited: on page hide the logs must not wait
        // behind the traces' answer, which may never come. `keepalive` goes on while the posts
        // together stay within the browser's in-flight budget.
        // Compressed first (no post waits for another's answer); not on page hide, where the
        // posts must start before the page is gone.
        let mut zipped = Vec::with_capacity(batches.len());
        for (_, body) in &batches {
            zipped.push(if self.inner.gzip.get() && !keepalive { gzip(body).await } else { None });
        }
        let posted = js_sys::Date::now();
        let posted_any = !batches.is_empty();
        let mut budget = KEEPALIVE_BYTES;
        let started: Vec<_> = batches
            .into_iter()
            .zip(zipped)
            .map(|((signal, body), zipped)| {
                let keep = keepalive && body.len() <= budget;
                if keep {
                    budget -= body.len();
                }
                // Awaited as it starts: a post that fails while an earlier one is awaited is then
                // no unhandled rejection (which ends a Node or Deno process).
                let answer = self.start_post(signal, zipped.as_deref().unwrap_or(&body), zipped.is_some(), keep);
                (signal, body, answer.map(JsFuture::from))
            })
            .collect();
        let mut delivered = 0;
        let (mut retry, mut retry_after) = (false, None::<f64>);
        for (signal, body, answer) in started {
            let response = match answer {
                Ok(answer) => answer.await,
                Err(e) => Err(e),
            };
            let status = response.as_ref().map_err(Clone::clone).and_then(status_of);
            let outcome = outcome(status);
            if outcome == Outcome::Retry {
                retry = true;
                let now = js_sys::Date::now();
                if let Some(wait) = response.as_ref().ok().and_then(|r| retry_after_ms(r, now)) {
                    retry_after = Some(retry_after.unwrap_or(0.0).max(now + wait));
                }
            }
            match outcome {
                Outcome::Sent => {
                    delivered += 1;
                    // A partial success: what the receiver refused is lost, and counted.
                    if let Ok(response) = &response {
                        let rejected = rejected_in(response).await;
                        if rejected > 0 {
                            with(|sdk| sdk.diagnostics_mut().records_rejected += rejected);
                        }
                    }
                }
                Outcome::Retry => {
                    with(|sdk| sdk.diagnostics_mut().exports_retried += 1);
                    keep(endpoint, signal, body);
                }
                Outcome::Failed => with(|sdk| sdk.diagnostics_mut().exports_failed += 1),
            }
        }
        if posted_any {
            answered(endpoint, posted, retry, retry_after, js_sys::Date::now());
        }
        delivered
    }

    /// Calls `fetch` for one batch: the promise of its answer.
    fn start_post(&self, signal: Signal, body: &[u8], gzipped: bool, keepalive: bool) -> Result<Promise, JsValue> {
        let path = match signal {
            Signal::Traces => "/v1/traces",
            Signal::Logs => "/v1/logs",
        };
        let headers = Object::new();
        Reflect::set(&headers, &"Content-Type".into(), &"application/x-protobuf".into())?;
        if gzipped {
            Reflect::set(&headers, &"Content-Encoding".into(), &"gzip".into())?;
        }
        for (name, value) in self.inner.headers.borrow().iter() {
            Reflect::set(&headers, &name.into(), &value.into())?;
        }
        let init = Object::new();
        Reflect::set(&init, &"method".into(), &"POST".into())?;
        Reflect::set(&init, &"headers".into(), &headers)?;
        Reflect::set(&init, &"body".into(), &Uint8Array::from(body))?;
        if keepalive {
            Reflect::set(&init, &"keepalive".into(), &JsValue::TRUE)?;
        }
        let global = js_sys::global();
        // `AbortSignal.timeout(ms)`: the post is aborted, and `fetch` rejects, when no answer came.
        let timeout = Reflect::get(&global, &"AbortSignal".into())
            .and_then(|a| Ok((Reflect::get(&a, &"timeout".into())?.dyn_into::<Function>()?, a)));
        if let Ok((timeout, signal)) = timeout {
            let signal = timeout.call1(&signal, &JsValue::from(self.inner.timeout_ms.get()))?;
            Reflect::set(&init, &"signal".into(), &signal)?;
        }
        let fetch: Function = Reflect::get(&global, &"fetch".into())?.dyn_into()?;
        let url = JsValue::from_str(&format!("{}{path}", self.inner.endpoint));
        fetch.call2(&global, &url, &init)?.dyn_into()
    }

    /// In a page: flushes every `interval_ms`, and once more when the page is hidden or left
    /// (`visibilitychange` to hidden, `pagehide`; never `unload`, which breaks the back/forward
    /// cache), with `keepalive` so that the request outlives the page. For the life of the page.
    pub fn start(&self, interval_ms: u32) {
        let global = js_sys::global();
        let tick = {
            let exporter = self.clone();
            Closure::<dyn FnMut()>::new(move || {
                let exporter = exporter.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    exporter.flush().await;
                });
            })
        };
        if let Ok(set_interval) = Reflect::get(&global, &"setInterval".into()).and_then(|f| f.dyn_into::<Function>()) {
            let _ = set_interval.call2(&global, tick.as_ref(), &JsValue::from(interval_ms.max(1)));
        }
        tick.forget();

        let document = Reflect::get(&global, &"document".into()).unwrap_or(JsValue::UNDEFINED);
        let hidden = {
            let exporter = self.clone();
            let document = document.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
                let kind = Reflect::get(&event, &"type".into()).ok().and_then(|t| t.as_string());
                let state = Reflect::get(&document, &"visibilityState".into()).ok().and_then(|s| s.as_string());
                if kind.as_deref() == Some("pagehide") || state.as_deref() == Some("hidden") {
                    let exporter = exporter.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        exporter.flush_with(true).await;
                    });
                }
            })
        };
        let listen = |target: &JsValue, event: &str| {
            if let Ok(add) = Reflect::get(target, &"addEventListener".into()).and_then(|f| f.dyn_into::<Function>()) {
                let _ = add.call2(target, &event.into(), hidden.as_ref());
            }
        };
        if !document.is_undefined() {
            listen(&document, "visibilitychange");
            listen(&global, "pagehide");
        }
        hidden.forget();
    }
}
