//! `edgescope::otel::Exporter` on wasm32 (Node and headless Chromium): what the `opentelemetry`
//! API recorded is posted to `{endpoint}/v1/traces` and `/v1/logs` as OTLP protobuf with the
//! host's `fetch` (replaced here by a recorder that answers with chosen statuses), failed
//! batches are kept and sent again, and failures are counted, never thrown.
#![cfg(all(target_arch = "wasm32", feature = "otel-api"))]

use edgescope::otel::{self, Exporter, LoggerProvider, TracerProvider, MAX_KEPT};
use edgescope::Config;
use edgescope_otlp::proto;
use js_sys::{Array, Function, Object, Reflect, Uint8Array};
use opentelemetry::global;
use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::{Span as _, Tracer as _};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test as test;

/// Replaces `globalThis.fetch` with a recorder: each call is kept in `globalThis.__posts` as
/// `[url, headers, body]` and answered with the next status of `globalThis.__statuses`
/// (200 when none is left; 0 rejects, as `fetch` does without a network; 1 never answers, and
/// rejects when the request's `signal` aborts, as `fetch` does); an answer given as an object may
/// carry a body and a `Retry-After` header.
pub fn install_fetch() {
    let global = js_sys::global();
    let fetch = Function::new_with_args(
        "url, init",
        "const post = [url, init.headers, init.body, init.keepalive === true];
         globalThis.__posts.push(post);
         globalThis.__encodings.push(init.headers['Content-Encoding'] ?? 'none');
         const answer = globalThis.__statuses.length ? globalThis.__statuses.shift() : 200;
         const status = typeof answer === 'object' ? answer.status : answer;
         const body = typeof answer === 'object' ? new Uint8Array(answer.body).buffer : new ArrayBuffer(0);
         const gzipped = init.headers['Content-Encoding'] === 'gzip';
         const plain = new Response(init.body).body;
         const read = gzipped ? new Response(plain.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer().then((b) => { post[2] = new Uint8Array(b); }) : Promise.resolve();
         if (status === 1) return read.then(() => new Promise((_, reject) => init.signal?.addEventListener('abort', () => reject(init.signal.reason))));
         const headers = { get: (name) => (name.toLowerCase() === 'retry-after' && answer.retryAfter) || null };
         return read.then(() => status === 0 ? Promise.reject(new TypeError('Failed to fetch')) : { status, headers, arrayBuffer: async () => body });",
    );
    Reflect::set(&global, &"fetch".into(), &fetch).unwrap();
    Reflect::set(&global, &"__posts".into(), &Array::new()).unwrap();
    Reflect::set(&global, &"__statuses".into(), &Array::new()).unwrap();
    Reflect::set(&global, &"__encodings".into(), &Array::new()).unwrap();
}

/// The `Content-Encoding` of each post since the last call (`none` for none).
pub fn encodings() -> Vec<String> {
    let global = js_sys::global();
    let list: Array = Reflect::get(&global, &"__encodings".into()).unwrap().into();
    Reflect::set(&global, &"__encodings".into(), &Array::new()).unwrap();
    list.iter().map(|e| e.as_string().unwrap()).collect()
}

/// The next answer: 200 with `body`.
pub fn answer_200_with(body: &[u8]) {
    let answer = Object::new();
    Reflect::set(&answer, &"status".into(), &JsValue::from(200)).unwrap();
    Reflect::set(&answer, &"body".into(), &Uint8Array::from(body)).unwrap();
    Reflect::set(&js_sys::global(), &"__statuses".into(), &Array::of1(&answer)).unwrap();
}

/// The next `n` answers: `status` with `Retry-After: value`.
pub fn answer_retry_after(n: usize, status: u16, value: &str) {
    let list = Array::new();
    for _ in 0..n {
        let answer = Object::new();
        Reflect::set(&answer, &"status".into(), &JsValue::from(status)).unwrap();
        Reflect::set(&answer, &"body".into(), &Uint8Array::new_with_length(0)).unwrap();
        Reflect::set(&answer, &"retryAfter".into(), &value.into()).unwrap();
        list.push(&answer);
    }
    Reflect::set(&js_sys::global(), &"__statuses".into(), &list).unwrap();
}

pub fn answer_with(statuses: &[u16]) {
    let list: Array = statuses.iter().map(|s| JsValue::from(*s)).collect();
    Reflect::set(&js_sys::global(), &"__statuses".into(), &list).unwrap();
}

/// The posts made since the last call: `(url, content type, authorization, body)`.
pub fn posts() -> Vec<(String, String, String, Vec<u8>)> {
    posts_with_keepalive().into_iter().map(|(post, _)| post).collect()
}

/// [`posts`], each with whether it asked for `keepalive`.
#[allow(clippy::type_complexity)]
pub fn posts_with_keepalive() -> Vec<((String, String, String, Vec<u8>), bool)> {
    let global = js_sys::global();
    let list: Array = Reflect::get(&global, &"__posts".into()).unwrap().into();
    let out = list
        .iter()
        .map(|post| {
            let post: Array = post.into();
            let header = |name: &str| Reflect::get(&post.get(1), &name.into()).unwrap().as_string().unwrap_or_default();
            let body: Uint8Array = post.get(2).into();
            let post_ =
                (post.get(0).as_string().unwrap(), header("Content-Type"), header("Authorization"), body.to_vec());
            (post_, post.get(3).as_bool() == Some(true))
        })
        .collect();
    Reflect::set(&global, &"__posts".into(), &Array::new()).unwrap();
    out
}

/// The name of the first span of each batch of traces posted since the last [`posts`].
pub fn trace_names_posted() -> Vec<String> {
    posts()
        .iter()
        .filter(|(url, ..)| url.ends_with("/v1/traces"))
        .map(|(_, _, _, body)| proto::decode_traces(body).unwrap().spans().next().unwrap().2.name.clone())
        .collect()
}

pub fn record_a_span_and_a_log(name: &str) {
    let tracer = global::tracer("export-test");
    tracer.in_span(name.to_owned(), |_cx| {
        let logger = LoggerProvider::new().logger("export-test");
        let mut record = logger.create_log_record();
        record.set_severity_number(Severity::Warn);
        record.set_body(format!("inside {name}").into());
        logger.emit(record);
    });
}

#[test]
async fn batches_are_posted_kept_when_they_may_succeed_later_and_counted_when_they_fail() {
    install_fetch();
    global::set_tracer_provider(TracerProvider::new(Config { service_name: "rust-page".into(), ..Config::default() }));
    let exporter = Exporter::new("http://collector.test:4318/").with_header("Authorization", "Bearer t0ken");

    // One span and one log record: one post each, protobuf, with the header.
    record_a_span_and_a_log("load todos");
    assert_eq!(exporter.flush().await, 2);
    let sent = posts();
    assert_eq!(sent.len(), 2);
    let (url, content_type, auth, body) = &sent[0];
    assert_eq!(url, "http://collector.test:4318/v1/traces");
    assert_eq!((content_type.as_str(), auth.as_str()), ("application/x-protobuf", "Bearer t0ken"));
    let traces = proto::decode_traces(body).unwrap();
    let (resource, _, span) = traces.spans().next().unwrap();
    assert_eq!((resource.service_name(), span.name.as_str()), ("rust-page", "load todos"));
    assert_eq!(sent[1].0, "http://collector.test:4318/v1/logs");
    let logs = proto::decode_logs(&sent[1].3).unwrap();
    let (_, _, log) = logs.records().next().unwrap();
    assert_eq!(log.trace_id, Some(span.trace_id), "the record carries the span it was made in");
    assert_eq!(exporter.flush().await, 0, "nothing left");
    assert!(posts().is_empty());

    // 503 and no network: both batches are kept and go again by a flush after the backoff (1 s).
    let before = otel::diagnostics();
    record_a_span_and_a_log("save todo");
    answer_with(&[503, 0]);
    assert_eq!(exporter.flush().await, 0);
    assert_eq!(posts().len(), 2);
    assert_eq!(otel::diagnostics().exports_retried - before.exports_retried, 2);
    assert_eq!(exporter.flush().await, 0);
    assert!(posts().is_empty(), "nothing is posted while the endpoint backs off");
    sleep(1_300).await;
    assert_eq!(exporter.flush().await, 2);
    let again = posts();
    assert_eq!(again.len(), 2);
    assert_eq!(proto::decode_traces(&again[0].3).unwrap().spans().next().unwrap().2.name, "save todo");

    // 400 is final: counted, not kept.
    record_a_span_and_a_log("bad request");
    answer_with(&[400, 400]);
    assert_eq!(exporter.flush().await, 0);
    assert_eq!(otel::diagnostics().exports_failed - before.exports_failed, 2);
    posts();
    assert_eq!(exporter.flush().await, 0);
    assert!(posts().is_empty(), "a refused batch is not sent again");

    // At most MAX_KEPT batches wait; beyond that the oldest is dropped and counted.
    let failed = otel::diagnostics().exports_failed;
    answer_with(&[0; 200]);
    for i in 0..=MAX_KEPT {
        global::tracer("export-test").in_span(format!("offline {i}"), |_cx| {});
        assert_eq!(exporter.flush().await, 0);
    }
    answer_with(&[]);
    assert_eq!(posts().len(), 1, "the first failed; the others waited out the backoff");
    assert_eq!(otel::diagnostics().exports_failed - failed, 1);
    sleep(1_300).await;
    assert_eq!(exporter.flush().await, MAX_KEPT);
    let names: Vec<String> = posts()
        .iter()
        .map(|(_, _, _, body)| proto::decode_traces(body).unwrap().spans().next().unwrap().2.name.clone())
        .collect();
    assert_eq!(names.first().map(String::as_str), Some("offline 1"), "the oldest went first");
    assert_eq!(names.len(), MAX_KEPT);
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let set_timeout: Function = Reflect::get(&js_sys::global(), &"setTimeout".into()).unwrap().into();
        set_timeout.call2(&JsValue::NULL, &resolve, &JsValue::from(ms)).unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

/// Flushes `exporter` every 50 ms until a flush posts something (10 s at most): the posts' span
/// names, and when (`Date.now()`) that flush started.
async fn flush_until_posted(exporter: &Exporter) -> (Vec<String>, f64) {
    for _ in 0..200 {
        let start = js_sys::Date::now();
        exporter.flush().await;
        let names = trace_names_posted();
        if !names.is_empty() {
            return (names, start);
        }
        sleep(50).await;
    }
    panic!("nothing was posted within 10 s");
}

#[test]
async fn failed_flushes_back_off_doubling_and_an_answer_ends_the_backoff() {
    install_fetch();
    global::set_tracer_provider(TracerProvider::new(Config { service_name: "rust-page".into(), ..Config::default() }));
    let exporter = Exporter::new("http://down.test");
    global::tracer("export-test").in_span("while down", |_cx| {});
    answer_with(&[0, 0]);
    // The first failed flush backs off 1 s (±20 %): the batch goes again no sooner than 0.8 s
    // after it (and fails again). (Only lower bounds: a loaded machine may be late, never early.)
    let first = js_sys::Date::now();
    assert_eq!(exporter.flush().await, 0);
    assert_eq!(posts().len(), 1);
    let (names, second) = flush_until_posted(&exporter).await;
    assert_eq!(names, ["while down"]);
    assert!(second - first >= 800.0, "after the first failure it waited {} ms", second - first);
    // The second failure in a row backs off 2 s (±20 %); then the collector answers.
    let (names, third) = flush_until_posted(&exporter).await;
    assert_eq!(names, ["while down"]);
    assert!(third - second >= 1_600.0, "after the second failure it waited {} ms", third - second);
    // An answer ends the backoff: the next batch goes at once.
    global::tracer("export-test").in_span("at once", |_cx| {});
    assert_eq!(exporter.flush().await, 1);
    assert_eq!(trace_names_posted(), ["at once"]);
}

#[test]
async fn a_retry_after_keeps_every_batch_for_that_endpoint_until_then() {
    install_fetch();
    global::set_tracer_provider(TracerProvider::new(Config { service_name: "rust-page".into(), ..Config::default() }));
    let exporter = Exporter::new("http://throttled.test");
    let other = Exporter::new("http://other.test");

    // 429 with Retry-After: 1 second. Nothing goes to that endpoint before then, not even new batches.
    record_a_span_and_a_log("throttled");
    answer_retry_after(2, 429, "1");
    assert_eq!(exporter.flush().await, 0);
    assert_eq!(posts().len(), 2);
    record_a_span_and_a_log("while paused");
    assert_eq!(exporter.flush().await, 0);
    assert!(posts().is_empty(), "no post while the endpoint asked to wait");
    // Another endpoint is not paused (and has nothing of its own to send).
    global::tracer("export-test").in_span("elsewhere", |_cx| {});
    assert_eq!(other.flush().await, 1);
    assert_eq!(posts()[0].0, "http://other.test/v1/traces");
    // After the second, everything kept goes, oldest first.
    sleep(1_100).await;
    assert_eq!(exporter.flush().await, 4);
    let names = trace_names_posted();
    assert_eq!(names, ["throttled", "while paused"]);

    // An HTTP date: 503 until a second or two from now pauses; one in the past does not.
    let date = |offset_ms: f64| js_sys::Date::new(&JsValue::from(js_sys::Date::now() + offset_ms)).to_utc_string();
    global::tracer("export-test").in_span("past", |_cx| {});
    answer_retry_after(1, 503, &String::from(date(-60_000.0)));
    assert_eq!(exporter.flush().await, 0);
    assert_eq!(exporter.flush().await, 1, "a date gone by asks for no wait");
    global::tracer("export-test").in_span("future", |_cx| {});
    answer_retry_after(1, 503, &String::from(date(2_000.0)));
    assert_eq!(exporter.flush().await, 0);
    posts();
    assert_eq!(exporter.flush().await, 0);
    assert!(posts().is_empty(), "the date is still to come");
    sleep(2_100).await;
    assert_eq!(exporter.flush().await, 1, "and once it has come, the batch goes");
    posts();

    // The answer to a post beside the one that asked to wait (another signal's, in the same flush)
    // does not end the pause.
    let mixed = Exporter::new("http://mixed.test");
    record_a_span_and_a_log("one signal throttled");
    let throttled = Object::new();
    Reflect::set(&throttled, &"status".into(), &JsValue::from(429)).unwrap();
    Reflect::set(&throttled, &"body".into(), &Uint8Array::new_with_length(0)).unwrap();
    Reflect::set(&throttled, &"retryAfter".into(), &"1".into()).unwrap();
    Reflect::set(&js_sys::global(), &"__statuses".into(), &Array::of2(&throttled, &JsValue::from(200))).unwrap();
    assert_eq!(mixed.flush().await, 1, "the logs went");
    posts();
    global::tracer("export-test").in_span("still throttled", |_cx| {});
    assert_eq!(mixed.flush().await, 0);
    assert!(posts().is_empty(), "the traces' pause holds");
    sleep(1_100).await;
    assert_eq!(mixed.flush().await, 2);
    assert_eq!(trace_names_posted(), ["one signal throttled", "still throttled"]);
    // A Retry-After that does not read gets the usual backoff; one on an answer that is final pauses nothing.
    let paused = Exporter::new("http://unreadable.test");
    global::tracer("export-test").in_span("unreadable", |_cx| {});
    answer_retry_after(1, 503, "soon");
    assert_eq!(paused.flush().await, 0);
    sleep(1_300).await;
    assert_eq!(paused.flush().await, 1);
    global::tracer("export-test").in_span("refused", |_cx| {});
    answer_retry_after(1, 400, "60");
    assert_eq!(paused.flush().await, 0);
    global::tracer("export-test").in_span("next", |_cx| {});
    assert_eq!(paused.flush().await, 1, "a 400's Retry-After pauses nothing");
    posts();
}

#[test]
async fn a_new_exporter_sends_what_a_dropped_one_kept_and_a_flush_starts_every_post_before_awaiting_any() {
    install_fetch();
    global::set_tracer_provider(TracerProvider::new(Config {
        service_name: "rust-worker".into(),
        ..Config::default()
    }));
    // A worker's exporter per request: the first one's batches meet a 503 and it is dropped.
    record_a_span_and_a_log("request 1");
    answer_with(&[503, 503]);
    assert_eq!(Exporter::new("http://per-request.test").flush().await, 0);
    assert_eq!(posts().len(), 2);
    // The next request's exporter to the same endpoint, after the backoff, sends them before its own.
    sleep(1_300).await;
    record_a_span_and_a_log("request 2");
    assert_eq!(Exporter::new("http://per-request.test").flush().await, 4);
    let names = trace_names_posted();
    assert_eq!(names, ["request 1", "request 2"]);
    // Another endpoint's exporter does not take them.
    record_a_span_and_a_log("request 3");
    answer_with(&[503, 503]);
    assert_eq!(Exporter::new("http://per-request.test").flush().await, 0);
    posts();
    assert_eq!(Exporter::new("http://elsewhere.test").flush().await, 0);
    assert!(posts().is_empty());
    sleep(1_300).await;

    // A traces post that is never answered does not hold back the logs post.
    let global = js_sys::global();
    let hanging = Function::new_with_args(
        "url, init",
        "globalThis.__posts.push([url, init.headers, init.body, false]); return new Promise(() => {});",
    );
    Reflect::set(&global, &"fetch".into(), &hanging).unwrap();
    // (Without gzip, whose compression is awaited before the posts start.)
    let flush = wasm_bindgen_futures::future_to_promise(async {
        Exporter::new("http://per-request.test").with_gzip(false).flush().await;
        Ok(JsValue::UNDEFINED)
    });
    drop(flush);
    wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&JsValue::NULL)).await.unwrap();
    let urls: Vec<String> = posts().into_iter().map(|(url, ..)| url).collect();
    assert_eq!(urls, ["http://per-request.test/v1/traces", "http://per-request.test/v1/logs"]);
    install_fetch();
}

#[test]
async fn a_post_without_an_answer_is_aborted_after_the_timeout_and_kept_for_the_next_flush() {
    use js_sys::Promise;
    use wasm_bindgen_futures::{future_to_promise, JsFuture};
    install_fetch();
    global::set_tracer_provider(TracerProvider::new(Config { service_name: "rust-page".into(), ..Config::default() }));
    let exporter = Exporter::new("http://hanging.test:4318").with_timeout(50);
    global::tracer("export-test").in_span("never answered", |_cx| {});
    let before = otel::diagnostics();
    answer_with(&[1]);
    // The flush, or "hung" after 3 s: without the timeout the post would wait for ever.
    let flushed = {
        let exporter = exporter.clone();
        future_to_promise(async move { Ok(JsValue::from(exporter.flush().await as u32)) })
    };
    let hung = Promise::new(&mut |resolve, _| {
        let set_timeout: Function = Reflect::get(&js_sys::global(), &"setTimeout".into()).unwrap().into();
        set_timeout.call3(&JsValue::NULL, &resolve, &JsValue::from(3_000), &"hung".into()).unwrap();
    });
    let first = JsFuture::from(Promise::race(&Array::of2(&flushed, &hung))).await.unwrap();
    assert_eq!(first, JsValue::from(0u32), "the flush ended, nothing delivered");
    assert_eq!(otel::diagnostics().exports_retried - before.exports_retried, 1);
    assert_eq!(posts().len(), 1);
    sleep(1_300).await;
    assert_eq!(exporter.flush().await, 1, "the batch was kept and goes by a flush after the backoff");
    assert_eq!(proto::decode_traces(&posts()[0].3).unwrap().spans().next().unwrap().2.name, "never answered");
}

#[test]
async fn bodies_go_gzipped_where_the_host_has_compression_stream_unless_turned_off() {
    install_fetch();
    global::set_tracer_provider(TracerProvider::new(Config { service_name: "rust-page".into(), ..Config::default() }));
    record_a_span_and_a_log("zipped");
    assert_eq!(Exporter::new("http://gzip.test").flush().await, 2);
    assert_eq!(encodings(), ["gzip", "gzip"]);
    let sent = posts();
    assert_eq!(
        proto::decode_traces(&sent[0].3).unwrap().spans().next().unwrap().2.name,
        "zipped",
        "it unzips to the batch"
    );
    record_a_span_and_a_log("plain");
    assert_eq!(Exporter::new("http://gzip.test").with_gzip(false).flush().await, 2);
    assert_eq!(encodings(), ["none", "none"]);
    assert_eq!(proto::decode_traces(&posts()[0].3).unwrap().spans().next().unwrap().2.name, "plain");
}

#[test]
async fn spans_a_partial_success_rejected_are_counted() {
    install_fetch();
    global::set_tracer_provider(TracerProvider::new(Config { service_name: "rust-page".into(), ..Config::default() }));
    let tracer = global::tracer("partial");
    tracer.start("refused by the receiver").end();
    let before = otel::diagnostics();
    // ExportTraceServiceResponse { partial_success { rejected_spans: 2, error_message: "x" } }
    answer_200_with(&[0x0a, 0x05, 0x08, 0x02, 0x12, 0x01, b'x']);
    assert_eq!(Exporter::new("http://partial.test").flush().await, 1, "a partial success is delivered");
    assert_eq!(otel::diagnostics().records_rejected - before.records_rejected, 2);
    // An empty answer rejects nothing.
    tracer.start("taken").end();
    assert_eq!(Exporter::new("http://partial.test").flush().await, 1);
    assert_eq!(otel::diagnostics().records_rejected - before.records_rejected, 2);
}
