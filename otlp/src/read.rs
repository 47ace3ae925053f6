//! A tolerant OTLP/JSON reader that accepts what real tools write.
//!
//! Accepted beyond the strict form: snake_case as well as lowerCamelCase keys; enums as
//! integers or names (`SPAN_KIND_SERVER`); 64-bit integers as strings or numbers; hex ids in
//! either case; the wrappers `{"result": …}` (Jaeger query API v3), `batches` (Tempo v1) and
//! `instrumentationLibrarySpans` (OTLP before 0.15); unknown fields are ignored. With
//! [`Ids::Tolerant`] also base64 ids and short hex ids, left-padded with zeros (Zipkin's
//! 64-bit trace ids). Errors name the path of the offending value.

use alloc::borrow::ToOwned;
use alloc::boxed::Box;
use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;

use serde_json::{Map, Value};

use crate::{
    AnyValue, Event, InstrumentationScope, KeyValue, Link, LogRecord, LogsData, Resource, ResourceLogs, ResourceSpans,
    ScopeLogs, ScopeSpans, Span, SpanId, SpanKind, Status, StatusCode, TraceId, TracesData,
};

/// How strictly ids are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ids {
    /// Hex of exactly the right length, in either case (what an OTLP receiver must accept).
    Strict,
    /// Also base64 and short hex (what a viewer meets in files from other tools).
    Tolerant,
}

pub use crate::{Partial, ReadError};

mod jaeger;
mod zipkin;

type Result<T> = core::result::Result<T, ReadError>;

/// Parses text as OTLP/JSON traces.
pub fn traces_from_str(text: &str, ids: Ids) -> Result<TracesData> {
    traces(&parse(text)?, ids)
}

/// Parses text as OTLP/JSON logs.
pub fn logs_from_str(text: &str, ids: Ids) -> Result<LogsData> {
    logs(&parse(text)?, ids)
}

fn parse(text: &str) -> Result<Value> {
    json_value(without_bom(text)).map_err(|e| ReadError { path: String::new(), message: format!("invalid JSON: {e}") })
}

/// Parses JSON as OTLP senders write it: the escape of a lone UTF-16 surrogate in a string
/// (`"\ud83c"`, what JavaScript's `JSON.stringify` writes for half an emoji, such as a length
/// limit that counts UTF-16 units leaves) is read as U+FFFD, as Go's decoder (the OpenTelemetry
/// Collector's) reads it, rather than failing the whole document.
pub fn json_value(text: &str) -> serde_json::Result<Value> {
    match serde_json::from_str(text) {
        Err(_) if has_surrogate_escape(text.as_bytes()) => {
            let repaired = without_lone_surrogates(text.as_bytes());
            serde_json::from_str(core::str::from_utf8(&repaired).unwrap_or_default())
        }
        parsed => parsed,
    }
}

/// [`json_value`] of bytes that may not be UTF-8 (a request body). Bytes that are not UTF-8
/// (a sender that cut a string mid-character) are read as U+FFFD, as Go's `encoding/json`
/// reads them, rather than failing every span of the request. (Two readers, of `str` and of
/// bytes: each is a copy of serde_json's parser in a wasm module, so the viewer keeps to the
/// first.)
pub fn json_value_of_bytes(bytes: &[u8]) -> serde_json::Result<Value> {
    match serde_json::from_slice(bytes) {
        Err(_) if core::str::from_utf8(bytes).is_err() => {
            json_value_of_bytes(String::from_utf8_lossy(bytes).as_bytes())
        }
        Err(_) if has_surrogate_escape(bytes) => serde_json::from_slice(&without_lone_surrogates(bytes)),
        parsed => parsed,
    }
}

/// Whether `json` holds a `\ud…` escape, the start of a surrogate's.
fn has_surrogate_escape(json: &[u8]) -> bool {
    json.windows(3).any(|w| w[0] == b'\\' && w[1] == b'u' && matches!(w[2], b'd' | b'D'))
}

/// `json` with each string escape of a lone surrogate replaced by `\ufffd`; a pair stays.
fn without_lone_surrogates(json: &[u8]) -> Vec<u8> {
    // The UTF-16 unit of a `\uXXXX` escape at `i`.
    let unit = |i: usize| -> Option<u16> {
        let hex = json.get(i..i + 6).filter(|e| e.starts_with(b"\\u"))?;
        u16::from_str_radix(core::str::from_utf8(&hex[2..]).ok()?, 16).ok()
    };
    let mut out = Vec::with_capacity(json.len());
    let (mut i, mut in_string) = (0, false);
    while i < json.len() {
        let c = json[i];
        let n = match (in_string, c) {
            (_, b'"') => {
                in_string = !in_string;
                1
            }
            (true, b'\\') => match unit(i) {
                Some(0xD800..=0xDBFF) if unit(i + 6).is_some_and(|low| (0xDC00..=0xDFFF).contains(&low)) => 12,
                Some(0xD800..=0xDFFF) => {
                    out.extend_from_slice(b"\\ufffd");
                    i += 6;
                    continue;
                }
                Some(_) => 6,
                // Another escape, whole (`\"` does not end the string).
                None => 2,
            },
            _ => 1,
        };
        out.extend_from_slice(&json[i..(i + n).min(json.len())]);
        i += n;
    }
    out
}

/// Reads a trace document: `{"resourceSpans": …}` or one of the wrappers.
pub fn traces(doc: &Value, ids: Ids) -> Result<TracesData> {
    traces_with(doc, &Reader::new(ids))
}

/// Reads a trace document like [`traces`], but a span that does not read is left out and its
/// error kept in [`Partial::rejected`] instead of failing the whole document. Errors outside
/// spans (the document's shape, a resource, a scope) still fail it. A span with an all-zero
/// trace or span id is left out the same way. This is what an OTLP receiver needs to answer
/// with a partial success.
pub fn traces_partial(doc: &Value, ids: Ids) -> Result<Partial<TracesData>> {
    let r = Reader { ids, rejected: Some(RefCell::new(Vec::new())) };
    let data = traces_with(doc, &r)?;
    Ok(Partial { data, rejected: r.rejected.map(RefCell::into_inner).unwrap_or_default() })
}

fn traces_with(doc: &Value, r: &Reader) -> Result<TracesData> {
    let obj =
        unwrap_result(doc).as_object().ok_or_else(|| err("", "expected an object with a `resourceSpans` array"))?;
    let list = field(obj, set_key(obj, ["resourceSpans", "batches"]));
    // Proto3 JSON leaves empty repeated fields out: `{}` is an empty TracesData.
    let list = list.or(r.empty_request(obj, "resourceLogs", "/v1/logs")?.then_some(&Value::Null));
    let Some(list) = list else {
        return Err(err("", "expected a `resourceSpans` (or Tempo `batches`) array"));
    };
    Ok(TracesData { resource_spans: r.list(list, "resourceSpans", |v, p| r.resource_spans(v, p))? })
}

/// Reads a logs document: `{"resourceLogs": …}` or `{"result": {"resourceLogs": …}}`.
pub fn logs(doc: &Value, ids: Ids) -> Result<LogsData> {
    logs_with(doc, &Reader::new(ids))
}

/// Reads a logs document like [`logs`], but a log record that does not read is left out and
/// its error kept in [`Partial::rejected`]; errors outside log records still fail the document.
pub fn logs_partial(doc: &Value, ids: Ids) -> Result<Partial<LogsData>> {
    let r = Reader { ids, rejected: Some(RefCell::new(Vec::new())) };
    let data = logs_with(doc, &r)?;
    Ok(Partial { data, rejected: r.rejected.map(RefCell::into_inner).unwrap_or_default() })
}

fn logs_with(doc: &Value, r: &Reader) -> Result<LogsData> {
    let obj =
        unwrap_result(doc).as_object().ok_or_else(|| err("", "expected an object with a `resourceLogs` array"))?;
    let empty = r.empty_request(obj, "resourceSpans", "/v1/traces")?;
    let Some(list) = field(obj, "resourceLogs").or(empty.then_some(&Value::Null)) else {
        return Err(err("", "expected a `resourceLogs` array"));
    };
    Ok(LogsData { resource_logs: r.list(list, "resourceLogs", |v, p| r.resource_logs(v, p))? })
}

/// Reads traces in any format the viewer meets: OTLP/JSON (with the wrappers above), OTLP/JSON
/// lines (one document per line), Jaeger's legacy JSON (`{"data": [...]}` or one trace) and
/// Zipkin v2 (an array of spans). Ids are read tolerantly. A JSON-lines text with a line that
/// cannot be read is refused, naming the line: [`any_traces_file`] reads the other lines.
pub fn any_traces(text: &str) -> Result<TracesData> {
    let (data, skipped) = any_traces_file(text)?;
    match skipped {
        Some(skipped) => Err(skipped.first),
        None => Ok(data),
    }
}

/// [`any_traces`] for a file a user opens: a JSON-lines file keeps the lines that can be read
/// (a file exporter stopped mid-write leaves its last line cut off), and says which it left out.
pub fn any_traces_file(text: &str) -> Result<(TracesData, Option<Skipped<ReadError>>)> {
    let (mut data, skipped) = any_traces_text(text)?;
    unique_span_ids(&mut data);
    Ok((data, skipped))
}

/// The id the reader gives the server half of a Zipkin span shared between an RPC's client and
/// server (the shared id stays the client half's; the server half becomes its child).
pub fn zipkin_server_half(shared: SpanId) -> SpanId {
    zipkin::server_half(shared)
}

/// Gives every span after the first with the same trace and span id a new id (kept in
/// `edgescope.original_span_id`), so that no span hides another in a waterfall. Children keep
/// pointing at the first. Real data has such duplicates: two services reporting one id, or
/// Jaeger's own test traces.
pub fn unique_span_ids(data: &mut TracesData) {
    // Sorting finds the repeated ids, usually none, for much less than a set of every id.
    let all = sorted_ids(data.spans().map(|(_, _, s)| ((s.trace_id, s.span_id), 0)).collect());
    let mut repeated: Vec<(IdKey, u64)> = all.windows(2).filter(|w| w[0].0 == w[1].0).map(|w| (w[0].0, 0)).collect();
    repeated.dedup_by(|a, b| a.0 == b.0);
    if repeated.is_empty() {
        return;
    }
    // New ids, so that a second repeat does not take one of them.
    let mut given: BTreeSet<IdKey> = BTreeSet::new();
    let mut counter = 0u64;
    for rs in &mut data.resource_spans {
        for ss in &mut rs.scope_spans {
            for span in &mut ss.spans {
                let key = (span.trace_id, span.span_id);
                let Ok(i) = repeated.binary_search_by(|e| e.0.cmp(&key)) else { continue };
                // The first span with the id keeps it.
                if core::mem::replace(&mut repeated[i].1, 1) == 0 {
                    continue;
                }
                let original = span.span_id;
                let taken =
                    |id: SpanId| find_id(&all, &(span.trace_id, id)).is_some() || given.contains(&(span.trace_id, id));
                // All eight bytes vary, by a bijection of a counter, so the candidates never
                // repeat and a free one is found however many copies an id has.
                let id = loop {
                    counter += 1;
                    let id = SpanId((u64::from_be_bytes(original.0) ^ mix(counter)).to_be_bytes());
                    if id.is_valid() && !taken(id) {
                        break id;
                    }
                };
                span.span_id = id;
                given.insert((span.trace_id, id));
                span.attributes.push(KeyValue::new("edgescope.original_span_id", original.to_hex()));
            }
        }
    }
}

/// A trace and span id.
type IdKey = (TraceId, SpanId);

/// SplitMix64's finaliser: a bijection on `u64` that spreads consecutive inputs over all bits.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Ids with a value, sorted by id for [`find_id`].
fn sorted_ids(mut ids: Vec<(IdKey, u64)>) -> Vec<(IdKey, u64)> {
    ids.sort_unstable_by_key(|e| e.0);
    ids
}

/// The value of an id in a list from [`sorted_ids`].
fn find_id(ids: &[(IdKey, u64)], id: &IdKey) -> Option<u64> {
    ids.binary_search_by(|e| e.0.cmp(id)).ok().map(|i| ids[i].1)
}

/// The text without the byte order mark some Windows tools (PowerShell's `Out-File`, Notepad)
/// start UTF-8 files with, which JSON parsers do not skip.
fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

fn any_traces_text(text: &str) -> Result<(TracesData, Option<Skipped<ReadError>>)> {
    let text = without_bom(text);
    #[cfg(feature = "fast-zipkin")]
    if text.trim_start().starts_with('[') {
        if let Some(data) = zipkin::traces_from_text(text) {
            return Ok((data, None));
        }
    }
    if text.trim().is_empty() {
        return Err(err("", "it is empty"));
    }
    match json_value(text) {
        Ok(doc) => any_traces_doc(&doc),
        Err(whole) => {
            let mut all = TracesData::default();
            // Traces left out of lines of several (saved search answers), counted over all lines.
            let mut in_lines: Option<Skipped<ReadError>> = None;
            let read = |n: usize, doc: &Value| {
                let (data, skipped) = any_traces_doc(doc).map_err(|e| err(&format!("line {n}"), e.to_string()))?;
                all.resource_spans.extend(data.resource_spans);
                if let Some(s) = skipped {
                    match &mut in_lines {
                        Some(all) => {
                            all.count += s.count;
                            all.of += s.of;
                        }
                        None => {
                            in_lines = Some(Skipped { first: err(&format!("line {n}"), s.first.to_string()), ..s });
                        }
                    }
                }
                Ok(())
            };
            let bad_json = |n, e| err(&format!("line {n}"), format!("invalid JSON: {e}"));
            let Some(lines) = json_lines(text, Signal::Traces, bad_json, read) else {
                return Err(err("", format!("invalid JSON: {whole}")));
            };
            let count = lines.lines;
            match lines.outcome() {
                Ok(None) => Ok((all, in_lines)),
                Ok(Some(skipped)) => Ok((all, Some(Skipped { also: in_lines.map(Box::new), ..skipped }))),
                Err(Some(e)) => Err(e),
                Err(None) => Err(err(
                    "",
                    format!("none of its {count} lines holds traces (they hold logs or metrics): {LOGS_PAGE}"),
                )),
            }
        }
    }
}

/// Reads a JSON-lines file, one OTLP/JSON document per line as a file exporter writes them (one
/// in the pipelines of several signals writes all their lines into one file). `read` gets each
/// non-blank line's document with the line's number in the file, except documents of a signal
/// other than `keep`, which are only counted. `None` when the text is no JSON-lines file: it has
/// fewer than two non-blank lines, or its first line is no JSON value by itself and its other lines
/// are not all documents (`{…}`; a document written over several lines). A line that is no JSON
/// (`bad_json` makes its error) or that `read` refuses is skipped, and counted with the first
/// error: the other lines are read all the same.
pub fn json_lines<E>(
    text: &str,
    keep: Signal,
    bad_json: impl Fn(usize, serde_json::Error) -> E,
    mut read: impl FnMut(usize, &Value) -> std::result::Result<(), E>,
) -> Option<Lines<E>> {
    let lines: Vec<(usize, &str)> =
        text.lines().enumerate().map(|(n, l)| (n + 1, l.trim())).filter(|(_, l)| !l.is_empty()).collect();
    if lines.len() < 2 {
        return None;
    }
    let mut out = Lines { lines: lines.len(), others: 0, skipped: None };
    let mut skip = |e: E| Skipped::add(&mut out.skipped, lines.len(), "lines", e);
    let mut others = 0;
    for (i, &(n, line)) in lines.iter().enumerate() {
        let doc: Value = match json_value(line) {
            Ok(doc) => doc,
            // A document written over several lines (pretty-printed JSON) is no JSON-lines file:
            // its first line alone is no JSON value, and its other lines are no documents either
            // (`"key": …`, `}`), so the whole document's error says where it is wrong. A JSON-lines
            // file whose first line is broken has documents on the lines after it.
            Err(_) if i == 0 && !lines[1..].iter().all(|(_, l)| l.starts_with('{') && l.ends_with('}')) => return None,
            Err(e) => {
                skip(bad_json(n, e));
                continue;
            }
        };
        match signal(&doc) {
            Some(s) if s != keep => others += 1,
            _ => {
                if let Err(e) = read(n, &doc) {
                    skip(e);
                }
            }
        }
    }
    out.others = others;
    Some(out)
}

/// What [`json_lines`] read.
#[derive(Debug)]
pub struct Lines<E> {
    /// The file's non-blank lines.
    pub lines: usize,
    /// The lines of another signal, only counted.
    pub others: usize,
    /// The lines that could not be read, if any.
    pub skipped: Option<Skipped<E>>,
}

impl<E> Lines<E> {
    /// The lines skipped, if any, when some line was read; else the first line's error, or `None`
    /// when every line holds another signal.
    pub fn outcome(self) -> std::result::Result<Option<Skipped<E>>, Option<E>> {
        let skipped = self.skipped.as_ref().map_or(0, |s| s.count);
        if self.others + skipped < self.lines {
            Ok(self.skipped)
        } else {
            Err(self.skipped.map(|s| s.first))
        }
    }
}

/// Lines of a JSON-lines file, or traces of a file of several, left out because they could not be
/// read.
#[derive(Debug)]
pub struct Skipped<E> {
    /// How many.
    pub count: usize,
    /// Of how many (non-blank lines, or traces).
    pub of: usize,
    /// `"lines"` or `"traces"`.
    pub unit: &'static str,
    /// The first one's error (it names the line or the trace).
    pub first: E,
    /// Traces left out of the lines that were read, besides the lines left out.
    pub also: Option<Box<Skipped<E>>>,
}

impl<E> Skipped<E> {
    /// Counts one more left out of `of` `unit` in `slot`, keeping the first error.
    fn add(slot: &mut Option<Self>, of: usize, unit: &'static str, e: E) {
        match slot {
            Some(skipped) => skipped.count += 1,
            None => *slot = Some(Skipped { count: 1, of, unit, first: e, also: None }),
        }
    }
}

/// Reads each of `items` with `read` into one [`TracesData`] (resources and scopes merged), leaving
/// out those it refuses, unless it refuses every one: then the first error. (Saved search answers
/// here; the viewer's search of Zipkin, which reads each trace through the fast path, too.)
pub fn each_trace<T>(
    items: &[T],
    mut read: impl FnMut(usize, &T) -> Result<TracesData>,
) -> Result<(TracesData, Option<Skipped<ReadError>>)> {
    let mut all = TracesData::default();
    let mut skipped = None;
    for (i, item) in items.iter().enumerate() {
        match read(i, item) {
            Ok(data) => merge(&mut all, data),
            Err(e) => Skipped::add(&mut skipped, items.len(), "traces", e),
        }
    }
    match skipped {
        Some(s) if s.count == items.len() => Err(s.first),
        skipped => Ok((all, skipped)),
    }
}

/// Moves the spans of `data` into `all`, under the resource and scope they have there if any.
fn merge(all: &mut TracesData, data: TracesData) {
    for rs in data.resource_spans {
        let Some(to) =
            all.resource_spans.iter_mut().find(|r| r.resource == rs.resource && r.schema_url == rs.schema_url)
        else {
            all.resource_spans.push(rs);
            continue;
        };
        for ss in rs.scope_spans {
            match to.scope_spans.iter_mut().find(|s| s.scope == ss.scope && s.schema_url == ss.schema_url) {
                Some(s) => s.spans.extend(ss.spans),
                None => to.scope_spans.push(ss),
            }
        }
    }
}

impl<E: core::fmt::Display> core::fmt::Display for Skipped<E> {
    /// "2 of its 1,000 lines could not be read and were left out (the first: line 7: …)".
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (verb, first) = if self.count == 1 { ("was", "it") } else { ("were", "the first") };
        write!(
            f,
            "{} of its {} {} could not be read and {verb} left out ({first}: {})",
            thousands(self.count),
            thousands(self.of),
            self.unit,
            self.first
        )?;
        match &self.also {
            Some(also) => write!(f, "; and {also}"),
            None => Ok(()),
        }
    }
}

/// `n` with a comma between each group of three digits.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What a file of logs read as traces, or one of traces read as logs, says: where to open it.
pub const LOGS_PAGE: &str = "open it on the Logs page";
/// See [`LOGS_PAGE`].
pub const TRACES_PAGE: &str = "open it on the trace file page (Open file)";

/// An OTLP signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// `resourceSpans` (or Tempo's `batches`).
    Traces,
    /// `resourceLogs`.
    Logs,
    /// `resourceMetrics`.
    Metrics,
}

/// The signal an OTLP/JSON document holds (inside `{"result": …}` too), by its top-level array;
/// `None` for any other document.
pub fn signal(doc: &Value) -> Option<Signal> {
    let obj = unwrap_result(doc).as_object()?;
    if field(obj, "resourceSpans").is_some() || obj.contains_key("batches") {
        Some(Signal::Traces)
    } else if field(obj, "resourceLogs").is_some() {
        Some(Signal::Logs)
    } else if field(obj, "resourceMetrics").is_some() {
        Some(Signal::Metrics)
    } else {
        None
    }
}

fn any_traces_doc(doc: &Value) -> Result<(TracesData, Option<Skipped<ReadError>>)> {
    match signal(doc) {
        Some(Signal::Logs) => return Err(err("", format!("it holds logs, not traces: {LOGS_PAGE}"))),
        Some(Signal::Metrics) => return Err(err("", "it holds metrics, which the viewer does not show")),
        _ => {}
    }
    // Jaeger's answer for a trace it does not have: `{"data": null, "errors": [{"msg": ...}]}`.
    if let Value::Object(o) = doc {
        if let Some(msg) = jaeger_error(o).filter(|_| o.get("data").is_none_or(Value::is_null)) {
            return Err(err("", format!("it is Jaeger's error answer: {msg}")));
        }
    }
    match doc {
        Value::Array(items) if items.first().is_some_and(|s| s.get("traceId").is_some()) || items.is_empty() => {
            Ok((zipkin::traces(items)?, None))
        }
        // Zipkin's search answer (`/api/v2/traces`): a list of traces, each a list of spans.
        Value::Array(items) if items.first().is_some_and(Value::is_array) => each_trace(items, |i, trace| {
            let spans = trace.as_array().ok_or_else(|| err(&format!("[{i}]"), "expected a list of Zipkin spans"))?;
            zipkin::traces(spans).map_err(|e| err(&format!("[{i}]"), e.to_string()))
        }),
        // Tempo's `/api/v2/traces/{id}` answer: `{"trace": {...}, "status": ...}`.
        Value::Object(o) if o.get("trace").is_some_and(Value::is_object) && signal(doc).is_none() => {
            any_traces_doc(&o["trace"]).map_err(|e| err("trace", e.to_string()))
        }
        Value::Object(o) if o.contains_key("data") || (o.contains_key("spans") && o.contains_key("traceID")) => {
            jaeger::traces(o)
        }
        Value::Object(_) => Ok((traces(doc, Ids::Tolerant)?, None)),
        _ => Err(err(
            "",
            "not a trace document: expected OTLP/JSON (resourceSpans), Jaeger JSON (data or traceID and spans) \
             or Zipkin v2 (an array of spans)",
        )),
    }
}

/// The first message of a Jaeger answer's `errors` list.
fn jaeger_error(o: &Map<String, Value>) -> Option<&str> {
    o.get("errors")?.as_array()?.first()?.get("msg")?.as_str()
}

/// A hex id of up to `2 * N` digits in either case, left-padded with zeros (Zipkin and Jaeger
/// write 64-bit trace ids as 16 digits).
fn tolerant_id<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.is_empty() || s.len() > 2 * N {
        return None;
    }
    // Left-pad on the stack: ids are read once per span, and a file may hold 100,000 of them.
    let mut padded = [b'0'; 64];
    padded[2 * N - s.len()..2 * N].copy_from_slice(s.as_bytes());
    crate::hex::decode::<N>(core::str::from_utf8(&padded[..2 * N]).ok()?)
}

/// Reads one OTLP/JSON `Span` object.
pub fn span(v: &Value, ids: Ids) -> Result<Span> {
    Reader::new(ids).span(v, "")
}

/// Reads one OTLP/JSON `LogRecord` object.
pub fn log_record(v: &Value, ids: Ids) -> Result<LogRecord> {
    Reader::new(ids).log_record(v, "")
}

/// Reads one OTLP/JSON `Resource` object.
pub fn resource(v: &Value) -> Result<Resource> {
    let wrapper: Map<String, Value> = [("resource".to_owned(), v.clone())].into_iter().collect();
    Reader::new(Ids::Strict).resource(&wrapper, "")
}

/// Reads one OTLP/JSON `InstrumentationScope` object.
pub fn scope(v: &Value) -> Result<InstrumentationScope> {
    let wrapper: Map<String, Value> = [("scope".to_owned(), v.clone())].into_iter().collect();
    Reader::new(Ids::Strict).scope(&wrapper, "")
}

fn unwrap_result(doc: &Value) -> &Value {
    match doc.get("result") {
        Some(inner) if inner.is_object() => inner,
        _ => doc,
    }
}

/// A status `code` with OTLP 0.7–0.18's `deprecatedCode` beside it: when `code` is unset, a
/// deprecated code other than OK (0) is an error, as those versions' definition says.
fn old_status(code: StatusCode, deprecated: Option<&Value>) -> StatusCode {
    let ok = |d: &Value| match d {
        Value::Null => true,
        Value::String(s) => s == "DEPRECATED_STATUS_CODE_OK" || s == "0",
        other => other.as_i64() == Some(0),
    };
    match deprecated {
        Some(d) if code == StatusCode::Unset && !ok(d) => StatusCode::Error,
        _ => code,
    }
}

fn err(path: &str, message: impl Into<String>) -> ReadError {
    ReadError { path: path.to_owned(), message: message.into() }
}

/// Which of two names of one field to read: the first whose value is set, else the first
/// present (so that a wrong shape is named where it is). Proto3 JSON reads `null` and `[]` as
/// unset, so `"scopeSpans": []` beside a filled `instrumentationLibrarySpans` holds the latter's
/// spans, as the Collector's pdata reads them (`MigrateTraces`: the deprecated list when the new
/// one is empty); the same holds for logs, for a scope, and for Tempo's `batches` beside an empty
/// `resourceSpans`.
fn set_key(obj: &Map<String, Value>, keys: [&'static str; 2]) -> &'static str {
    let set = |key: &&str| match field(obj, key) {
        None | Some(Value::Null) => false,
        Some(Value::Array(items)) => !items.is_empty(),
        Some(_) => true,
    };
    keys.into_iter().find(set).or_else(|| keys.into_iter().find(|key| field(obj, key).is_some())).unwrap_or(keys[0])
}

/// Looks a lowerCamelCase key up, falling back to its snake_case spelling.
fn field<'a>(obj: &'a Map<String, Value>, camel: &str) -> Option<&'a Value> {
    if let Some(v) = obj.get(camel) {
        return Some(v);
    }
    let mut snake = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            snake.push('_');
            snake.push(c.to_ascii_lowercase());
        } else {
            snake.push(c);
        }
    }
    obj.get(&snake)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

struct Reader {
    ids: Ids,
    /// Set when reading leniently: the errors of the spans or log records left out.
    rejected: Option<RefCell<Vec<ReadError>>>,
}

impl Reader {
    fn new(ids: Ids) -> Reader {
        Reader { ids, rejected: None }
    }

    /// Whether `obj`, which lacks the signal's list, is an empty request: `{}` always (proto3
    /// JSON leaves empty lists out), and, read as a receiver reads (leniently), an object of
    /// fields it does not know, which OTLP/JSON receivers must ignore. One that holds the other
    /// signal's list (`other`) is refused, naming the path it belongs at: taken as empty, its
    /// data would be acknowledged and lost.
    fn empty_request(&self, obj: &Map<String, Value>, other: &str, at: &str) -> Result<bool> {
        if obj.is_empty() || self.rejected.is_none() {
            return Ok(obj.is_empty());
        }
        if obj.contains_key(other) {
            return Err(err("", format!("this holds `{other}`, which an export sends to {at}")));
        }
        Ok(!obj.contains_key("resourceMetrics"))
    }

    /// Like [`Reader::opt_list`], but when reading leniently an item that fails is left out
    /// and its error kept.
    fn items<T>(
        &self,
        obj: &Map<String, Value>,
        key: &str,
        path: &str,
        mut item: impl FnMut(&Value, &str) -> Result<T>,
    ) -> Result<Vec<T>> {
        let Some(rejected) = &self.rejected else {
            return self.opt_list(obj, key, path, item);
        };
        let mut out = Vec::new();
        self.opt_list(obj, key, path, |v, p| {
            match item(v, p) {
                Ok(x) => out.push(x),
                Err(e) => rejected.borrow_mut().push(e),
            }
            Ok(())
        })?;
        Ok(out)
    }

    fn object<'a>(&self, v: &'a Value, path: &str) -> Result<&'a Map<String, Value>> {
        v.as_object().ok_or_else(|| err(path, "expected an object"))
    }

    fn list<T>(&self, v: &Value, path: &str, mut item: impl FnMut(&Value, &str) -> Result<T>) -> Result<Vec<T>> {
        match v {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => items.iter().enumerate().map(|(i, v)| item(v, &format!("{path}[{i}]"))).collect(),
            _ => Err(err(path, "expected an array")),
        }
    }

    fn opt_list<T>(
        &self,
        obj: &Map<String, Value>,
        key: &str,
        path: &str,
        item: impl FnMut(&Value, &str) -> Result<T>,
    ) -> Result<Vec<T>> {
        match field(obj, key) {
            Some(v) => self.list(v, &join(path, key), item),
            None => Ok(Vec::new()),
        }
    }

    fn string(&self, obj: &Map<String, Value>, key: &str, path: &str) -> Result<String> {
        match field(obj, key) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(err(&join(path, key), "expected a string")),
        }
    }

    /// An integer written as a number or a decimal string.
    fn int(&self, obj: &Map<String, Value>, key: &str, path: &str) -> Result<i128> {
        match field(obj, key) {
            None | Some(Value::Null) => Ok(0),
            Some(v) => int_value(v).ok_or_else(|| err(&join(path, key), "expected an integer")),
        }
    }

    fn u64(&self, obj: &Map<String, Value>, key: &str, path: &str) -> Result<u64> {
        let n = self.int(obj, key, path)?;
        u64::try_from(n).map_err(|_| err(&join(path, key), "out of range for uint64"))
    }

    fn u32(&self, obj: &Map<String, Value>, key: &str, path: &str) -> Result<u32> {
        let n = self.int(obj, key, path)?;
        u32::try_from(n).map_err(|_| err(&join(path, key), "out of range for uint32"))
    }

    /// An enum as its number or its proto name; `names` lists the names from 0 upwards.
    fn enumeration(&self, obj: &Map<String, Value>, key: &str, path: &str, names: &[&str]) -> Result<i64> {
        match field(obj, key) {
            None | Some(Value::Null) => Ok(0),
            Some(Value::String(s)) if s.parse::<i64>().is_err() => names
                .iter()
                .position(|n| n == s)
                .map(|i| i as i64)
                .ok_or_else(|| err(&join(path, key), format!("unknown enum value `{s}`"))),
            Some(v) => int_value(v)
                .and_then(|n| i64::try_from(n).ok())
                .ok_or_else(|| err(&join(path, key), "expected an enum number or name")),
        }
    }

    fn id<const N: usize>(&self, obj: &Map<String, Value>, key: &str, path: &str) -> Result<Option<[u8; N]>> {
        let s = match field(obj, key) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(s)) => s,
            Some(_) => return Err(err(&join(path, key), "expected an id string")),
        };
        if s.is_empty() {
            return Ok(None);
        }
        if let Some(id) = crate::hex::decode::<N>(s) {
            return Ok(Some(id));
        }
        if self.ids == Ids::Tolerant {
            if s.len() < 2 * N && s.bytes().all(|b| b.is_ascii_hexdigit()) {
                let padded = format!("{s:0>width$}", width = 2 * N);
                return Ok(crate::hex::decode::<N>(&padded));
            }
            if let Some(bytes) = crate::hex::base64_decode(s) {
                if let Ok(id) = <[u8; N]>::try_from(bytes.as_slice()) {
                    return Ok(Some(id));
                }
            }
        }
        Err(err(&join(path, key), format!("`{s}` is not a {}-character hex id", 2 * N)))
    }

    fn resource_spans(&self, v: &Value, path: &str) -> Result<ResourceSpans> {
        let obj = self.object(v, path)?;
        let scope_key = set_key(obj, ["scopeSpans", "instrumentationLibrarySpans"]);
        Ok(ResourceSpans {
            resource: self.resource(obj, path)?,
            scope_spans: self.opt_list(obj, scope_key, path, |v, p| self.scope_spans(v, p))?,
            schema_url: self.string(obj, "schemaUrl", path)?,
        })
    }

    fn resource(&self, obj: &Map<String, Value>, path: &str) -> Result<Resource> {
        // Proto3 JSON reads `null` as the default, here an empty resource.
        let Some(v) = field(obj, "resource").filter(|v| !v.is_null()) else {
            return Ok(Resource::default());
        };
        let path = join(path, "resource");
        let obj = self.object(v, &path)?;
        Ok(Resource {
            attributes: self.attributes(obj, &path)?,
            dropped_attributes_count: self.u32(obj, "droppedAttributesCount", &path)?,
        })
    }

    fn scope(&self, obj: &Map<String, Value>, path: &str) -> Result<InstrumentationScope> {
        let key = set_key(obj, ["scope", "instrumentationLibrary"]);
        let Some(v) = field(obj, key).filter(|v| !v.is_null()) else {
            return Ok(InstrumentationScope::default());
        };
        let path = join(path, key);
        let obj = self.object(v, &path)?;
        Ok(InstrumentationScope {
            name: self.string(obj, "name", &path)?,
            version: self.string(obj, "version", &path)?,
            attributes: self.attributes(obj, &path)?,
            dropped_attributes_count: self.u32(obj, "droppedAttributesCount", &path)?,
        })
    }

    fn scope_spans(&self, v: &Value, path: &str) -> Result<ScopeSpans> {
        let obj = self.object(v, path)?;
        Ok(ScopeSpans {
            scope: self.scope(obj, path)?,
            spans: self.items(obj, "spans", path, |v, p| {
                let span = self.span(v, p)?;
                // Read leniently (as a receiver does), a span with an all-zero id is rejected.
                match span.invalid_id().filter(|_| self.rejected.is_some()) {
                    Some(field) => Err(err(&join(p, field), "an all-zero id is invalid")),
                    None => Ok(span),
                }
            })?,
            schema_url: self.string(obj, "schemaUrl", path)?,
        })
    }

    fn attributes(&self, obj: &Map<String, Value>, path: &str) -> Result<Vec<KeyValue>> {
        self.opt_list(obj, "attributes", path, |v, p| self.key_value(v, p))
    }

    fn key_value(&self, v: &Value, path: &str) -> Result<KeyValue> {
        self.key_value_at(v, path, 0)
    }

    fn key_value_at(&self, v: &Value, path: &str, depth: usize) -> Result<KeyValue> {
        let obj = self.object(v, path)?;
        let value = match field(obj, "value") {
            None | Some(Value::Null) => None,
            Some(v) => self.any_value_at(v, &join(path, "value"), depth)?,
        };
        Ok(KeyValue { key: self.string(obj, "key", path)?, value })
    }

    fn any_value(&self, v: &Value, path: &str) -> Result<Option<AnyValue>> {
        self.any_value_at(v, path, 0)
    }

    /// A value nested `depth` arrays or maps deep: as deep as the protobuf decoder reads (the
    /// collector stores spans as protobuf, so a deeper one would be stored and never read back).
    fn any_value_at(&self, v: &Value, path: &str, depth: usize) -> Result<Option<AnyValue>> {
        const MAX: usize = crate::proto::MAX_VALUE_DEPTH;
        if depth > MAX {
            return Err(err(path, format!("a value nests arrays or maps more than {MAX} levels deep")));
        }
        let obj = self.object(v, path)?;
        // The first member that is a kind of value: one written as `null` is not set, as
        // protobuf's JSON mapping reads it, and a member of another name is an unknown field,
        // ignored here as everywhere (`{"stringValue": "x", "annotation": "y"}` is "x", in
        // whichever order a map keeps the two).
        for (key, inner) in obj.iter().filter(|(_, inner)| !inner.is_null()) {
            let p = join(path, key);
            let value = match key.as_str() {
                "stringValue" | "string_value" => {
                    AnyValue::String(inner.as_str().ok_or_else(|| err(&p, "expected a string"))?.to_owned())
                }
                "boolValue" | "bool_value" => {
                    AnyValue::Bool(inner.as_bool().ok_or_else(|| err(&p, "expected a bool"))?)
                }
                "intValue" | "int_value" => AnyValue::Int(
                    int_value(inner).and_then(|n| i64::try_from(n).ok()).ok_or_else(|| err(&p, "expected an int64"))?,
                ),
                "doubleValue" | "double_value" => AnyValue::Double(match inner {
                    Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
                    Value::String(s) => match s.as_str() {
                        "NaN" => f64::NAN,
                        "Infinity" => f64::INFINITY,
                        "-Infinity" => f64::NEG_INFINITY,
                        s => s.parse().map_err(|_| err(&p, "expected a double"))?,
                    },
                    _ => return Err(err(&p, "expected a double")),
                }),
                "bytesValue" | "bytes_value" => AnyValue::Bytes(
                    inner.as_str().and_then(crate::hex::base64_decode).ok_or_else(|| err(&p, "expected base64"))?,
                ),
                "arrayValue" | "array_value" => {
                    let o = self.object(inner, &p)?;
                    let values = self.opt_list(o, "values", &p, |v, p| match v {
                        Value::Null => Ok(None),
                        v => self.any_value_at(v, p, depth + 1),
                    })?;
                    // An element with no value (`{}`, `null`) stays, as `Empty`: the ones after it
                    // keep their indices.
                    AnyValue::Array(values.into_iter().map(|v| v.unwrap_or(AnyValue::Empty)).collect())
                }
                "kvlistValue" | "kvlist_value" => {
                    let o = self.object(inner, &p)?;
                    AnyValue::KvList(self.opt_list(o, "values", &p, |v, p| self.key_value_at(v, p, depth + 1))?)
                }
                _ => continue,
            };
            return Ok(Some(value));
        }
        Ok(None)
    }

    fn span(&self, v: &Value, path: &str) -> Result<Span> {
        let obj = self.object(v, path)?;
        let trace_id = self.id::<16>(obj, "traceId", path)?.ok_or_else(|| err(&join(path, "traceId"), "missing"))?;
        let span_id = self.id::<8>(obj, "spanId", path)?.ok_or_else(|| err(&join(path, "spanId"), "missing"))?;
        let status = match field(obj, "status") {
            Some(Value::Object(s)) => {
                let p = join(path, "status");
                let code = match self.enumeration(
                    s,
                    "code",
                    &p,
                    &["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"],
                ) {
                    Ok(n) => StatusCode::from_i32(n),
                    // OTLP before 0.7 named a code per kind of error (`STATUS_CODE_NOT_FOUND`, …).
                    Err(_)
                        if field(s, "code").and_then(Value::as_str).is_some_and(|n| n.starts_with("STATUS_CODE_")) =>
                    {
                        StatusCode::Error
                    }
                    Err(e) => return Err(e),
                };
                Status { code: old_status(code, field(s, "deprecatedCode")), message: self.string(s, "message", &p)? }
            }
            _ => Status::default(),
        };
        Ok(Span {
            trace_id: TraceId(trace_id),
            span_id: SpanId(span_id),
            trace_state: self.string(obj, "traceState", path)?,
            // An all-zero parent is none (W3C Trace Context: an all-zero id is invalid), as a
            // root span written by an exporter that fills every field has it. Unlike an all-zero
            // trace or span id, it does not make a receiver reject the span.
            parent_span_id: self.id::<8>(obj, "parentSpanId", path)?.map(SpanId).filter(SpanId::is_valid),
            flags: self.u32(obj, "flags", path)?,
            name: self.string(obj, "name", path)?,
            kind: SpanKind::from_i32(self.enumeration(
                obj,
                "kind",
                path,
                &[
                    "SPAN_KIND_UNSPECIFIED",
                    "SPAN_KIND_INTERNAL",
                    "SPAN_KIND_SERVER",
                    "SPAN_KIND_CLIENT",
                    "SPAN_KIND_PRODUCER",
                    "SPAN_KIND_CONSUMER",
                ],
            )?),
            start_time_unix_nano: self.u64(obj, "startTimeUnixNano", path)?,
            end_time_unix_nano: self.u64(obj, "endTimeUnixNano", path)?,
            attributes: self.attributes(obj, path)?,
            dropped_attributes_count: self.u32(obj, "droppedAttributesCount", path)?,
            events: self.opt_list(obj, "events", path, |v, p| self.event(v, p))?,
            dropped_events_count: self.u32(obj, "droppedEventsCount", path)?,
            links: self.opt_list(obj, "links", path, |v, p| self.link(v, p))?,
            dropped_links_count: self.u32(obj, "droppedLinksCount", path)?,
            status,
        })
    }

    fn event(&self, v: &Value, path: &str) -> Result<Event> {
        let obj = self.object(v, path)?;
        Ok(Event {
            time_unix_nano: self.u64(obj, "timeUnixNano", path)?,
            name: self.string(obj, "name", path)?,
            attributes: self.attributes(obj, path)?,
            dropped_attributes_count: self.u32(obj, "droppedAttributesCount", path)?,
        })
    }

    fn link(&self, v: &Value, path: &str) -> Result<Link> {
        let obj = self.object(v, path)?;
        // Ids left out (proto3 JSON omits empty bytes) are the empty ids the protobuf decoder
        // reads for the same message: OpenTelemetry records a link to an invalid context when it
        // has attributes, and both encodings keep it alike.
        Ok(Link {
            trace_id: TraceId(self.id::<16>(obj, "traceId", path)?.unwrap_or_default()),
            span_id: SpanId(self.id::<8>(obj, "spanId", path)?.unwrap_or_default()),
            trace_state: self.string(obj, "traceState", path)?,
            attributes: self.attributes(obj, path)?,
            dropped_attributes_count: self.u32(obj, "droppedAttributesCount", path)?,
            flags: self.u32(obj, "flags", path)?,
        })
    }

    fn resource_logs(&self, v: &Value, path: &str) -> Result<ResourceLogs> {
        let obj = self.object(v, path)?;
        let scope_key = set_key(obj, ["scopeLogs", "instrumentationLibraryLogs"]);
        Ok(ResourceLogs {
            resource: self.resource(obj, path)?,
            scope_logs: self.opt_list(obj, scope_key, path, |v, p| self.scope_logs(v, p))?,
            schema_url: self.string(obj, "schemaUrl", path)?,
        })
    }

    fn scope_logs(&self, v: &Value, path: &str) -> Result<ScopeLogs> {
        let obj = self.object(v, path)?;
        Ok(ScopeLogs {
            scope: self.scope(obj, path)?,
            log_records: self.items(obj, "logRecords", path, |v, p| self.log_record(v, p))?,
            schema_url: self.string(obj, "schemaUrl", path)?,
        })
    }

    fn log_record(&self, v: &Value, path: &str) -> Result<LogRecord> {
        let obj = self.object(v, path)?;
        let body = match field(obj, "body") {
            None | Some(Value::Null) => None,
            Some(v) => self.any_value(v, &join(path, "body"))?,
        };
        let severity = self.enumeration(obj, "severityNumber", path, &SEVERITY_NAMES)?;
        Ok(LogRecord {
            time_unix_nano: self.u64(obj, "timeUnixNano", path)?,
            observed_time_unix_nano: self.u64(obj, "observedTimeUnixNano", path)?,
            severity_number: i32::try_from(severity).map_err(|_| err(path, "severityNumber out of range"))?,
            severity_text: self.string(obj, "severityText", path)?,
            body,
            attributes: self.attributes(obj, path)?,
            dropped_attributes_count: self.u32(obj, "droppedAttributesCount", path)?,
            flags: self.u32(obj, "flags", path)?,
            trace_id: self.id::<16>(obj, "traceId", path)?.map(TraceId),
            span_id: self.id::<8>(obj, "spanId", path)?.map(SpanId),
            event_name: self.string(obj, "eventName", path)?,
        })
    }
}

const SEVERITY_NAMES: [&str; 25] = [
    "SEVERITY_NUMBER_UNSPECIFIED",
    "SEVERITY_NUMBER_TRACE",
    "SEVERITY_NUMBER_TRACE2",
    "SEVERITY_NUMBER_TRACE3",
    "SEVERITY_NUMBER_TRACE4",
    "SEVERITY_NUMBER_DEBUG",
    "SEVERITY_NUMBER_DEBUG2",
    "SEVERITY_NUMBER_DEBUG3",
    "SEVERITY_NUMBER_DEBUG4",
    "SEVERITY_NUMBER_INFO",
    "SEVERITY_NUMBER_INFO2",
    "SEVERITY_NUMBER_INFO3",
    "SEVERITY_NUMBER_INFO4",
    "SEVERITY_NUMBER_WARN",
    "SEVERITY_NUMBER_WARN2",
    "SEVERITY_NUMBER_WARN3",
    "SEVERITY_NUMBER_WARN4",
    "SEVERITY_NUMBER_ERROR",
    "SEVERITY_NUMBER_ERROR2",
    "SEVERITY_NUMBER_ERROR3",
    "SEVERITY_NUMBER_ERROR4",
    "SEVERITY_NUMBER_FATAL",
    "SEVERITY_NUMBER_FATAL2",
    "SEVERITY_NUMBER_FATAL3",
    "SEVERITY_NUMBER_FATAL4",
];

/// An integer as a number or a decimal string. A number written as a whole float (`1e5`,
/// `100000.000`, `1.7e18`) counts, as protobuf's JSON parsers accept it (the conformance suite's
/// Int32FieldExponentialFormat); a fraction does not.
fn int_value(v: &Value) -> Option<i128> {
    match v {
        Value::Number(n) => n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from)).or_else(|| {
            let f = n.as_f64()?;
            // The cast saturates, so a value beyond i128 (or with a fraction) does not come back.
            let i = f as i128;
            (i as f64 == f).then_some(i)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    #[test]
    fn an_any_value_whose_other_fields_are_null_reads_as_the_field_that_is_set() {
        // Some exporters write every member of AnyValue's oneof, those not set as `null`, which
        // protobuf's JSON mapping reads as absent.
        let doc = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{
            "body":{"stringValue":"a","intValue":null,"boolValue":null},
            "attributes":[
                {"key":"n","value":{"arrayValue":null,"intValue":"7","stringValue":null}},
                {"key":"none","value":{"boolValue":null,"stringValue":null}}]}]}]}]}"#;
        let data = logs_from_str(doc, Ids::Strict).unwrap();
        let record = &data.resource_logs[0].scope_logs[0].log_records[0];
        assert_eq!(record.body, Some(AnyValue::String("a".into())));
        assert_eq!(record.attributes[0].value, Some(AnyValue::Int(7)));
        assert_eq!(record.attributes[1].value, None);
    }

    #[test]
    fn null_array_items_keep_their_places_in_json_and_protobuf() {
        // OpenTelemetry JS writes an array attribute's `null` item as an empty AnyValue (`{}`);
        // the spec asks that it be kept, for arrays that pair up by index.
        let doc = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{
            "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"x",
            "attributes":[
                {"key":"header_keys","value":{"arrayValue":{"values":[{"stringValue":"a"},{"stringValue":"b"},{"stringValue":"c"}]}}},
                {"key":"header_values","value":{"arrayValue":{"values":[{"stringValue":"1"},{},null,{"stringValue":"3"}]}}}]}]}]}]}"#;
        let data = traces_from_str(doc, Ids::Strict).unwrap();
        let want = AnyValue::Array(vec!["1".into(), AnyValue::Empty, AnyValue::Empty, "3".into()]);
        let (_, _, span) = data.spans().next().unwrap();
        assert_eq!(span.attributes[1].value.as_ref(), Some(&want));
        // Written back as `{}` and as an empty message, and read back the same.
        let text = json::write_traces(&data);
        assert!(text.contains(r#"{"stringValue":"1"},{},{},{"stringValue":"3"}"#), "{text}");
        assert_eq!(traces_from_str(&text, Ids::Strict).unwrap(), data);
        let bytes = crate::proto::encode_traces(&data);
        assert_eq!(crate::proto::decode_traces(&bytes).unwrap(), data);
    }

    #[test]
    fn values_nest_as_deep_in_json_as_the_protobuf_decoder_reads_them_back() {
        // The collector stores spans as protobuf: a span the JSON reader took with a deeper
        // value would be stored and never read back (every read of its trace failing).
        let doc = |levels: usize| {
            let value = (0..levels).fold(r#"{"stringValue":"x"}"#.to_owned(), |inner, _| {
                format!(r#"{{"arrayValue":{{"values":[{inner}]}}}}"#)
            });
            format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"5b8efff798038103d269b633813fc60c",
                "spanId":"eee19b7ec3c1b174","name":"x","attributes":[{{"key":"deep","value":{value}}}]}}]}}]}}]}}"#
            )
        };
        let deepest = crate::proto::MAX_VALUE_DEPTH;
        let data = traces_from_str(&doc(deepest), Ids::Strict).unwrap();
        assert_eq!(crate::proto::decode_traces(&crate::proto::encode_traces(&data)).unwrap(), data);
        let e = traces_from_str(&doc(deepest + 1), Ids::Strict).unwrap_err();
        assert!(e.to_string().contains("more than 24 levels deep"), "{e}");
    }

    #[test]
    fn snake_case_named_enums_and_numeric_int64_are_accepted() {
        let doc = r#"{"resource_spans":[{"scope_spans":[{"spans":[{
            "trace_id":"5B8EFFF798038103D269B633813FC60C","span_id":"EEE19B7EC3C1B174",
            "name":"x","kind":"SPAN_KIND_SERVER","start_time_unix_nano":1544712660000000000,
            "end_time_unix_nano":"1544712661000000000","status":{"code":"STATUS_CODE_ERROR"},
            "attributes":[{"key":"n","value":{"int_value":7}}],"unknownField":1}]}]}]}"#;
        let data = traces_from_str(doc, Ids::Strict).unwrap();
        let (_, _, span) = data.spans().next().unwrap();
        assert_eq!(span.trace_id.to_hex(), "5b8efff798038103d269b633813fc60c");
        assert_eq!(span.kind, SpanKind::Server);
        assert_eq!(span.status.code, StatusCode::Error);
        assert_eq!(span.duration_nanos(), 1_000_000_000);
        assert_eq!(span.attributes[0].value, Some(AnyValue::Int(7)));
    }

    #[test]
    fn strict_ids_reject_base64_and_wrong_lengths_but_tolerant_ids_pad_and_decode() {
        let doc = |id: &str| {
            format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"{id}","spanId":"0102030405060708"}}]}}]}}]}}"#
            )
        };
        let b64 = "AAECAwQFBgcICQoLDA0ODw==";
        let e = traces_from_str(&doc(b64), Ids::Strict).unwrap_err();
        assert_eq!(e.path, "resourceSpans[0].scopeSpans[0].spans[0].traceId");
        assert!(traces_from_str(&doc("abc"), Ids::Strict).is_err());
        let t = traces_from_str(&doc(b64), Ids::Tolerant).unwrap();
        assert_eq!(t.spans().next().unwrap().2.trace_id.to_hex(), "000102030405060708090a0b0c0d0e0f");
        let t = traces_from_str(&doc("463ac35c9f6413ad"), Ids::Tolerant).unwrap();
        assert_eq!(t.spans().next().unwrap().2.trace_id.to_hex(), "0000000000000000463ac35c9f6413ad");
    }

    #[test]
    fn errors_name_the_path_and_reason() {
        let e = traces_from_str(r#"{"resourceSpans":[{"scopeSpans":"no"}]}"#, Ids::Strict).unwrap_err();
        assert_eq!(e.to_string(), "resourceSpans[0].scopeSpans: expected an array");
        assert!(traces_from_str("{", Ids::Strict).unwrap_err().message.starts_with("invalid JSON"));
        assert!(traces_from_str("[]", Ids::Strict).is_err());
    }

    #[test]
    fn a_partial_read_keeps_the_spans_that_read_and_names_each_rejected_one() {
        let doc: Value = serde_json::from_str(
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[
                {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"a"},
                {"traceId":"abc","spanId":"0102030405060708","name":"bad id"},
                {"spanId":"0102030405060708","name":"no trace id"},
                {"traceId":"00000000000000000000000000000000","spanId":"0102030405060708","name":"zero trace id"},
                {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0000000000000000","name":"zero span id"},
                {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060709","name":"b"}]}]}]}"#,
        )
        .unwrap();
        let partial = traces_partial(&doc, Ids::Strict).unwrap();
        let names: Vec<&str> = partial.data.spans().map(|(_, _, s)| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        let paths: Vec<&str> = partial.rejected.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "resourceSpans[0].scopeSpans[0].spans[1].traceId",
                "resourceSpans[0].scopeSpans[0].spans[2].traceId",
                "resourceSpans[0].scopeSpans[0].spans[3].traceId",
                "resourceSpans[0].scopeSpans[0].spans[4].spanId",
            ],
            "in document order, each at its place in the document"
        );
        assert_eq!(partial.rejected[2].message, "an all-zero id is invalid");
        assert!(traces(&doc, Ids::Strict).is_err(), "the strict reader still fails the whole document");
        let tolerant = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"00000000000000000000000000000000","spanId":"0000000000000000"}]}]}]}"#;
        assert_eq!(traces_from_str(tolerant, Ids::Strict).unwrap().spans().count(), 1, "a file is read as it is");

        let broken_shape: Value = serde_json::from_str(r#"{"resourceSpans":[{"scopeSpans":"no"}]}"#).unwrap();
        assert!(traces_partial(&broken_shape, Ids::Strict).is_err(), "errors outside spans fail the document");
    }

    #[test]
    fn a_partial_read_of_logs_keeps_the_records_that_read() {
        let doc: Value = serde_json::from_str(
            r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[
                {"body":{"stringValue":1}},{"body":{"stringValue":"ok"}},{"traceId":"xyz"}]}]}]}"#,
        )
        .unwrap();
        let partial = logs_partial(&doc, Ids::Strict).unwrap();
        assert_eq!(partial.data.records().count(), 1);
        let paths: Vec<&str> = partial.rejected.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "resourceLogs[0].scopeLogs[0].logRecords[0].body.stringValue",
                "resourceLogs[0].scopeLogs[0].logRecords[2].traceId"
            ]
        );
        assert!(logs_partial(&serde_json::json!([1]), Ids::Strict).is_err());
    }

    #[test]
    fn writer_output_reads_back_to_the_same_model() {
        let span = Span {
            trace_id: TraceId([0xab; 16]),
            span_id: SpanId([0xcd; 8]),
            parent_span_id: Some(SpanId([1; 8])),
            trace_state: "k=v".into(),
            flags: 1,
            name: "GET \"quoted\"\n".into(),
            kind: SpanKind::Client,
            start_time_unix_nano: u64::MAX - 1,
            end_time_unix_nano: u64::MAX,
            attributes: vec![
                KeyValue::new("s", "x"),
                KeyValue::new("b", true),
                KeyValue::new("i", i64::MIN),
                KeyValue::new("d", 0.25),
                KeyValue::new("a", AnyValue::Array(vec![AnyValue::Int(1), AnyValue::from("two")])),
                KeyValue::new("m", AnyValue::KvList(vec![KeyValue::new("k", 1.5e-7)])),
                KeyValue::new("y", AnyValue::Bytes(vec![0, 255, 7])),
            ],
            events: vec![Event { time_unix_nano: 5, name: "exception".into(), ..Default::default() }],
            links: vec![Link { trace_id: TraceId([3; 16]), span_id: SpanId([4; 8]), ..Default::default() }],
            status: Status { code: StatusCode::Error, message: "boom".into() },
            dropped_attributes_count: 2,
            ..Default::default()
        };
        let data = TracesData {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans { spans: vec![span], ..Default::default() }],
                ..Default::default()
            }],
        };
        let text = json::write_traces(&data);
        assert_eq!(traces_from_str(&text, Ids::Strict).unwrap(), data);

        let logs = LogsData {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord {
                        time_unix_nano: 9,
                        observed_time_unix_nano: 10,
                        severity_number: 17,
                        severity_text: "ERROR".into(),
                        body: Some("failed".into()),
                        trace_id: Some(TraceId([9; 16])),
                        span_id: Some(SpanId([8; 8])),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        assert_eq!(logs_from_str(&json::write_logs(&logs), Ids::Strict).unwrap(), logs);
    }
}
