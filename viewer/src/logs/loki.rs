//! How the log page asks for records and reads them: one Loki client for the bundled collector
//! (which speaks the Loki API) and for Loki itself, plus OTLP log files. Plain Rust, tested
//! natively; the page sends the requests and opens the WebSocket.
//!
//! Queries use the LogQL subset both understand: a stream selector, then label filters. A trace
//! is asked for with `{trace_id="…"}` from the collector (it indexes that metadata) and with a
//! label filter `| trace_id="…"` from Loki, whose selectors only name stream labels.

use crate::model::value_text;
use edgescope_otlp::read::{self, Ids};
use edgescope_otlp::{AnyValue, LogsData};
use serde_json::Value;
use std::fmt::Write;

use super::store::{parse_trace_id, trace_hex, Level, Record, Resource};
use crate::sources::{encode, Kind, Request, Source};

/// The header that keeps structured metadata apart from stream labels in Loki's answers.
pub const CATEGORIZE: (&str, &str) = ("X-Loki-Response-Encoding-Flags", "categorize-labels");

/// Records asked for per `query_range` (the most both the collector and Loki's default
/// `max_entries_limit_per_query` allow).
pub const PAGE: usize = 5000;

/// A LogQL string: double-quoted, with Go's escapes for what cannot stand in it as written.
fn logql_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// What the page asks the source for: the filters LogQL can carry, so that the source returns
/// the records that match them rather than the newest of every service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ask {
    /// One service (empty for all): `service_name` in the stream selector.
    pub service: String,
    /// At least this level: `level=~"…"` in the collector's selector (its `level` label always
    /// comes from the record's severity). Loki's level lives in a stream label, `detected_level`,
    /// `severity_text` or a number, as its set-up has it, so there it is filtered in the page only.
    pub min_level: Level,
    /// The text filter, as a line filter: `|=` (contains, case-sensitive), or `|~` when `regex`.
    pub text: String,
    /// Whether `text` is a regular expression.
    pub regex: bool,
    /// One trace's records.
    pub trace_id: Option<u128>,
}

impl Ask {
    /// Only a service (and a trace): what "show context" asks for.
    pub fn service(service: &str) -> Ask {
        Ask { service: service.to_owned(), ..Ask::default() }
    }
}

/// The LogQL query for what `ask` names. A trace is named in the collector's selector (it
/// indexes that metadata) and by a label filter for Loki, whose selectors name stream labels only.
pub fn logql(kind: Kind, ask: &Ask) -> String {
    let mut selector = if ask.service.is_empty() {
        "service_name=~\".+\"".to_owned()
    } else {
        format!("service_name={}", logql_string(&ask.service))
    };
    if kind != Kind::Loki && ask.min_level != Level::Unknown {
        let mut names = Level::ALL[ask.min_level as usize..].iter().map(|l| l.name());
        let mut matcher = names.next().unwrap_or_default().to_owned();
        names.for_each(|name| {
            matcher.push('|');
            matcher.push_str(name);
        });
        let op = if matcher.contains('|') { "=~" } else { "=" };
        let _ = write!(selector, ", level{op}\"{matcher}\"");
    }
    if let (Some(t), false) = (ask.trace_id, kind == Kind::Loki) {
        let _ = write!(selector, ", trace_id{}", trace_matcher(t));
    }
    let mut query = format!("{{{selector}}}");
    if !ask.text.is_empty() {
        let _ = write!(query, " {} {}", if ask.regex { "|~" } else { "|=" }, logql_string(&ask.text));
    }
    if let (Some(t), Kind::Loki) = (ask.trace_id, kind) {
        let _ = write!(query, " | trace_id{}", trace_matcher(t));
    }
    query
}

/// The operator and string of a LogQL matcher (or label filter) on `trace_id` for trace `id`:
/// `="<32 hex>"`, which the collector answers from its index; for a 64-bit id (its high half
/// zero: Zipkin and B3 write such ids in 16 hex digits, OTLP in 32) `=~"(0{16})?<16 hex>"`, which
/// both LogQL implementations anchor at both ends, so that a record carrying either form is
/// found. Ids written in upper case are not (LogQL compares text).
pub fn trace_matcher(id: u128) -> String {
    if id >> 64 == 0 {
        format!("=~\"(0{{16}})?{:016x}\"", id as u64)
    } else {
        format!("=\"{}\"", trace_hex(id))
    }
}

/// The filters of `ask` and of the page that the query for `kind` does not carry, which search
/// only the records the page holds: named for the page's notice.
pub fn filtered_in_page(kind: Kind, ask: &Ask, attribute: bool) -> Vec<&'static str> {
    let mut out = Vec::new();
    if kind == Kind::Loki && ask.min_level != Level::Unknown {
        out.push("minimum level");
    }
    if attribute {
        out.push("attribute");
    }
    out
}

fn request(source: &Source, path_and_query: String) -> Request {
    let mut headers = vec![("Accept".to_owned(), "application/json".to_owned())];
    if let Some(auth) = source.auth.as_ref().filter(|a| !a.is_empty()) {
        headers.push(("Authorization".to_owned(), auth.clone()));
    }
    headers.push((CATEGORIZE.0.to_owned(), CATEGORIZE.1.to_owned()));
    Request { url: format!("{}{path_and_query}", source.url), headers }
}

fn query(pairs: &[(&str, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&")
}

/// A `query_range` for records in `[start, end]` (Unix nanoseconds): the newest `limit` when
/// `forward` is false, else the oldest.
pub fn range_request(source: &Source, logql: &str, start: u64, end: u64, limit: usize, forward: bool) -> Request {
    let pairs = [
        ("query", logql.to_owned()),
        ("start", start.to_string()),
        ("end", end.to_string()),
        ("limit", limit.to_string()),
        ("direction", if forward { "forward" } else { "backward" }.to_owned()),
    ];
    request(source, format!("/loki/api/v1/query_range?{}", query(&pairs)))
}

/// The longest range Loki is asked for at once: 30 days, under its default
/// `limits_config.max_query_length` (721h), which refuses longer ones.
pub const LOKI_MAX_RANGE: u64 = 720 * 3_600 * 1_000_000_000;

/// The start of `[start, end]` as `kind` may be asked for it (Loki: at most [`LOKI_MAX_RANGE`]
/// ending at `end`), and whether it was cut (older records are then asked for a window at a
/// time, by "Load older").
pub fn clamp_range(kind: Kind, start: u64, end: u64) -> (u64, bool) {
    if kind == Kind::Loki && end.saturating_sub(start) > LOKI_MAX_RANGE {
        (end - LOKI_MAX_RANGE, true)
    } else {
        (start, false)
    }
}

/// The end of the window "Load older" asks for next: just before the oldest record held when the
/// last answer was a full page (its window may hold more), else the start of the last window asked
/// (all of it was read, and an empty or sparse window says nothing of what lies before it).
/// Without a last window, before the oldest record held, else `end`.
pub fn older_end(last: Option<Asked>, oldest: Option<u64>, end: u64) -> u64 {
    match (last, oldest) {
        (Some(Asked { start, full: false }), _) => start,
        (_, Some(oldest)) => oldest.saturating_sub(1),
        (_, None) => end,
    }
}

/// The last window asked for: its start, and whether its answer was a full page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Asked {
    /// The window's start (Unix nanoseconds).
    pub start: u64,
    /// Whether a full page came back (the window may hold more).
    pub full: bool,
}

/// Windows cut to [`LOKI_MAX_RANGE`] asked for by one load while they come back empty: a year's.
pub const EMPTY_WINDOWS: usize = 12;

/// The windows one load asks for, newest first, while they come back empty: `[start, end]`
/// going back from `end` to `first`, each cut to Loki's longest range (see [`clamp_range`]),
/// [`EMPTY_WINDOWS`] at most; the last one is not cut when it reaches `first`. Times are
/// unsigned, so no window starts before the Unix epoch ("All" asks from 1 ns).
pub fn windows(kind: Kind, first: u64, end: u64) -> Vec<(u64, u64, bool)> {
    let mut out = Vec::with_capacity(EMPTY_WINDOWS);
    let mut end = end;
    while out.len() < EMPTY_WINDOWS {
        let (start, cut) = clamp_range(kind, first, end);
        out.push((start, end, cut));
        if !cut {
            break;
        }
        end = start;
    }
    out
}

/// What a load says when every window it asked for, from `oldest` to `newest`, came back empty:
/// how far back it looked and, when older windows remain (`more`), that the button asks for as
/// many before them.
pub fn empty_notice(newest: u64, oldest: u64, more: bool) -> String {
    const DAY: u64 = 24 * 3_600 * 1_000_000_000;
    let days = newest.saturating_sub(oldest) / DAY;
    if more {
        format!(
            "No records in the {days} days before {}. \"Search further back\" asks for the {} days before those.",
            crate::model::format_time(newest),
            EMPTY_WINDOWS as u64 * (LOKI_MAX_RANGE / DAY)
        )
    } else {
        format!("No records between {} and {}.", crate::model::format_time(oldest), crate::model::format_time(newest))
    }
}

/// Label names in `[start, end]`.
pub fn labels_request(source: &Source, start: u64, end: u64) -> Request {
    request(source, format!("/loki/api/v1/labels?{}", query(&[("start", start.to_string()), ("end", end.to_string())])))
}

/// One label's values in `[start, end]`.
pub fn label_values_request(source: &Source, name: &str, start: u64, end: u64) -> Request {
    let q = query(&[("start", start.to_string()), ("end", end.to_string())]);
    request(source, format!("/loki/api/v1/label/{}/values?{q}", encode(name)))
}

/// What tells one record from another in the answers of a source: its time and line, and what
/// its stream labels and structured metadata became (resource and attributes as one set, level,
/// trace and span ids). Records of one time and message from two streams are two records. The
/// live tail (a WebSocket, which cannot ask for categorized labels) gives structured metadata
/// among the stream labels, a range query apart from them: as one set, a record is the same
/// record either way.
pub fn identity(r: &super::store::RecordRef<'_>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut labels: Vec<(&str, &str)> = r
        .resource
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(r.attributes.iter().copied())
        .filter(|(k, _)| !RECORD_FIELDS.contains(k))
        .collect();
    labels.sort_unstable();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (r.time, r.message, labels).hash(&mut hasher);
    (r.level, r.trace_id, r.span_id).hash(&mut hasher);
    hasher.finish()
}

fn record_identity(r: &Record) -> u64 {
    identity(&super::store::RecordRef {
        index: 0,
        time: r.time,
        level: r.level,
        severity_text: &r.severity_text,
        service: &r.service,
        message: &r.message,
        trace_id: r.trace_id,
        span_id: r.span_id,
        attributes: r.attributes.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
        resource: &r.resource,
    })
}

/// A record's context from the answers before and after it (both hold the records of its time):
/// each record once, in time order, at most `around` on each side of the chosen one (named by its
/// [`identity`]), and the chosen one's position; `None` when the answers lack it.
pub fn context_lines(mut lines: Vec<Record>, chosen: u64, around: usize) -> Option<(Vec<Record>, usize)> {
    let mut keyed: Vec<(u64, Record)> = lines.drain(..).map(|r| (record_identity(&r), r)).collect();
    keyed.sort_by(|(ka, a), (kb, b)| a.time.cmp(&b.time).then_with(|| a.message.cmp(&b.message)).then(ka.cmp(kb)));
    keyed.dedup_by_key(|(k, _)| *k);
    let at = keyed.iter().position(|(k, _)| *k == chosen)?;
    let from = at.saturating_sub(around);
    let to = (at + around + 1).min(keyed.len());
    Some((keyed.drain(from..to).map(|(_, r)| r).collect(), at - from))
}

/// What tells two records of one time apart for the live tail's polls: service, message, trace.
pub fn record_key(service: &str, message: &str, trace_id: u128) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (service, message, trace_id).hash(&mut hasher);
    hasher.finish()
}

/// Where the live tail's polls go on from: the newest time received, asked for again rather than
/// from the nanosecond after, since a record stamped the same (lines of one burst from a clock
/// that counts milliseconds) may be stored after the poll that saw the others; and the records
/// already received at that time, whose copies in the next answer are skipped.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Resume {
    newest: u64,
    /// Per [`record_key`] of the records received at `newest`: how many.
    seen: Vec<(u64, usize)>,
}

impl Resume {
    /// From the newest time held and the keys of the records held at that time.
    pub fn new(newest: u64, keys: impl IntoIterator<Item = u64>) -> Resume {
        let mut resume = Resume { newest, seen: Vec::new() };
        keys.into_iter().for_each(|k| resume.count(k));
        resume
    }

    /// The time the next poll asks from (included).
    pub fn from(&self) -> u64 {
        self.newest
    }

    fn count(&mut self, key: u64) {
        match self.seen.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => self.seen.push((key, 1)),
        }
    }

    /// Notes a record received (over the WebSocket, or kept from a poll).
    pub fn note(&mut self, r: &Record) {
        if r.time > self.newest {
            self.newest = r.time;
            self.seen.clear();
        }
        if r.time == self.newest {
            self.count(record_key(&r.service, &r.message, r.trace_id));
        }
    }

    /// The records of a poll's answer not received before: at the newest time, as many copies
    /// of each record as were received are left out.
    pub fn fresh(&self, records: Vec<Record>) -> Vec<Record> {
        let mut skip = self.seen.clone();
        records
            .into_iter()
            .filter(|r| {
                if r.time != self.newest {
                    return true;
                }
                let key = record_key(&r.service, &r.message, r.trace_id);
                match skip.iter_mut().find(|(k, n)| *k == key && *n > 0) {
                    Some((_, n)) => {
                        *n -= 1;
                        false
                    }
                    None => true,
                }
            })
            .collect()
    }
}

/// The live tail's WebSocket URL, relative to the page's `origin` (`http://host:port`) for a
/// source on the page's server. `None` when a WebSocket cannot reach the source as configured:
/// browsers send no `Authorization` header with one, so a backend that needs it is polled.
pub fn tail_url(source: &Source, origin: &str, logql: &str, start: u64, limit: usize) -> Option<String> {
    if source.auth.as_ref().is_some_and(|a| !a.is_empty()) && !source.url.starts_with('/') && !source.url.is_empty() {
        return None;
    }
    let base = if source.url.starts_with("http://") || source.url.starts_with("https://") {
        source.url.clone()
    } else {
        format!("{}{}", origin.trim_end_matches('/'), source.url)
    };
    let base = base.replacen("https://", "wss://", 1).replacen("http://", "ws://", 1);
    let q = query(&[("query", logql.to_owned()), ("start", start.to_string()), ("limit", limit.to_string())]);
    Some(format!("{base}/loki/api/v1/tail?{q}"))
}

/// The pause before reconnection attempt `n` (from 1): 1, 2, 4, 8, 16, then 30 seconds.
pub fn backoff(attempt: u32) -> std::time::Duration {
    std::time::Duration::from_secs((1u64 << attempt.saturating_sub(1).min(5)).min(30))
}

/// How [`parse_range`] begins the error for streams or entries of another shape in an answer
/// that is otherwise Loki's.
pub const MALFORMED: &str = "Loki's answer is malformed: ";

/// Reads a `query_range` answer (streams, with or without `categorize-labels`).
pub fn parse_range(status: u16, body: &str) -> Result<Vec<Record>, String> {
    if !(200..300).contains(&status) {
        return Err(crate::sources::error_message(status, body));
    }
    let v: Value = serde_json::from_str(body).map_err(|e| format!("not a Loki answer: {e}"))?;
    let streams = v["data"]["result"].as_array().ok_or("Loki's answer has no `data.result` streams")?;
    streams_records(streams).map_err(|e| format!("{MALFORMED}{e}"))
}

/// Reads one live-tail message, `{"streams": […], "dropped_entries": […]}` (Loki leaves out
/// either when empty): its records and how many entries Loki says it dropped.
pub fn parse_tail(text: &str) -> Result<(Vec<Record>, usize), String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let list = |name: &str| match &v[name] {
        Value::Null => Ok(&[][..]),
        Value::Array(items) => Ok(items.as_slice()),
        other => Err(wrong(name, other, "a list")),
    };
    if !v.is_object() {
        return Err(wrong("the message", &v, "an object of streams"));
    }
    Ok((streams_records(list("streams")?)?, list("dropped_entries")?.len()))
}

/// Reads a list answer (`labels`, label values): `{"status":"success","data":[…]}`.
pub fn parse_names(status: u16, body: &str) -> Result<Vec<String>, String> {
    if !(200..300).contains(&status) {
        return Err(crate::sources::error_message(status, body));
    }
    let v: Value = serde_json::from_str(body).map_err(|e| format!("not a Loki answer: {e}"))?;
    let mut names: Vec<String> =
        v["data"].as_array().into_iter().flatten().filter_map(|n| n.as_str().map(str::to_owned)).collect();
    names.sort_unstable();
    names.dedup();
    Ok(names)
}

/// Metadata that becomes a record's own fields rather than attributes.
const RECORD_FIELDS: [&str; 4] = ["trace_id", "span_id", "severity_text", "severity_number"];

/// What is wrong with a part of an answer: `{what} is {value}, not {expected}`, the value as
/// JSON cut at 60 characters.
fn wrong(what: &str, value: &Value, expected: &str) -> String {
    let text = value.to_string();
    let (cut, more) = text.char_indices().nth(60).map_or((text.as_str(), ""), |(i, _)| (&text[..i], "…"));
    format!("{what} is {cut}{more}, not {expected}")
}

/// Reads streams in Loki's documented shape: `{"stream": {labels}, "values": [entry, …]}`, each
/// entry `[time, line]` or `[time, line, metadata]`, the time a string of Unix nanoseconds, the
/// line a string, the metadata an object of `structuredMetadata` and `parsed` string labels.
/// Anything else is an error naming the stream and the entry (from 1), never a record.
fn streams_records(streams: &[Value]) -> Result<Vec<Record>, String> {
    let mut out = Vec::new();
    for (n, stream) in streams.iter().enumerate() {
        let labels: Vec<(String, String)> = match &stream["stream"] {
            Value::Object(m) => m.iter().map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect::<Option<_>>(),
            Value::Null if stream.is_object() => Some(Vec::new()),
            _ => None,
        }
        .ok_or_else(|| wrong(&format!("stream {}", n + 1), stream, "an object of labels and values"))?;
        let name = || {
            let mut text = String::new();
            for (k, v) in &labels {
                let _ = write!(text, "{}{k}={}", if text.is_empty() { "" } else { ", " }, logql_string(v));
            }
            let cut = text.char_indices().nth(100).map_or(text.as_str(), |(i, _)| &text[..i]);
            format!("stream {} {{{cut}}}", n + 1)
        };
        let values = stream["values"]
            .as_array()
            .ok_or_else(|| format!("{}: {}", name(), wrong("values", &stream["values"], "a list of entries")))?;
        let label = |name: &str| labels.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let service = label("service_name").unwrap_or("unknown_service").to_owned();
        let stream_level = label("level").or_else(|| label("detected_level")).unwrap_or("").to_owned();
        // Without categorize-labels, metadata arrives among the stream labels: keep the
        // record's own fields out of the resource, so that streams share one.
        let resource: Resource = labels
            .iter()
            .filter(|(k, _)| k != "level" && k != "detected_level" && !RECORD_FIELDS.contains(&k.as_str()))
            .cloned()
            .collect();
        for (m, value) in values.iter().enumerate() {
            let bad = |what: &str, value: &Value, expected: &str| {
                format!("{}, entry {}: {}", name(), m + 1, wrong(what, value, expected))
            };
            let (time, line, meta) = match value.as_array().map(Vec::as_slice) {
                Some([time, line]) => (time, line, None),
                Some([time, line, meta]) => (time, line, Some(meta)),
                _ => return Err(bad("the entry", value, "[time, line] or [time, line, metadata]")),
            };
            let time = match time.as_str().map(str::parse) {
                Some(Ok(time)) => time,
                Some(Err(_)) => return Err(bad("the time", time, "Unix nanoseconds")),
                None => return Err(bad("the time", time, "a string of Unix nanoseconds")),
            };
            let line = line.as_str().ok_or_else(|| bad("the line", line, "a string"))?;
            let mut record = Record {
                time,
                service: service.clone(),
                message: line.to_owned(),
                resource: resource.clone(),
                ..Record::default()
            };
            let mut number = 0;
            // A level in the metadata: Loki's own (`detected_level`, from `discover_log_levels`),
            // or an app's; it stays an attribute too.
            let mut meta_level = String::new();
            let mut fields = |k: &str, v: &str, record: &mut Record| match k {
                "trace_id" => record.trace_id = parse_trace_id(v).unwrap_or(0),
                "span_id" => record.span_id = u64::from_str_radix(v, 16).unwrap_or(0),
                "severity_text" => record.severity_text = v.to_owned(),
                "severity_number" => number = v.parse().unwrap_or(0),
                _ => {
                    if (k == "level" || k == "detected_level") && meta_level.is_empty() {
                        meta_level = v.to_owned();
                    }
                    record.attributes.push((k.to_owned(), v.to_owned()))
                }
            };
            for (k, v) in &labels {
                if RECORD_FIELDS.contains(&k.as_str()) {
                    fields(k, v, &mut record);
                }
            }
            if let Some(meta) = meta {
                if !meta.is_object() {
                    return Err(bad("the metadata", meta, "an object"));
                }
                for group in ["structuredMetadata", "parsed"] {
                    let pairs = match &meta[group] {
                        Value::Null => continue,
                        Value::Object(pairs) => pairs,
                        other => return Err(bad(group, other, "an object")),
                    };
                    for (k, v) in pairs {
                        let v = v.as_str().ok_or_else(|| bad(&format!("{group}.{k}"), v, "a string"))?;
                        fields(k, v, &mut record);
                    }
                }
            }
            record.level = [&record.severity_text, &meta_level, &stream_level]
                .into_iter()
                .map(|text| Level::from_otlp(number, text))
                .find(|level| *level != Level::Unknown)
                .unwrap_or_default();
            // A level of no known name (`verbose`) is shown as written.
            if record.level == Level::Unknown && record.severity_text.is_empty() {
                let written = if meta_level.is_empty() { &stream_level } else { &meta_level };
                record.severity_text = written.clone();
            }
            out.push(record);
        }
    }
    Ok(out)
}

/// OTLP log records (a file, or the collector's `/api/logs`) as store records, their body and
/// values as text as Loki's OTLP ingestion makes them (`pcommon`'s `AsString`: a map or an
/// array as JSON, bytes in base64), so that a record reads alike from a file, the collector and
/// Loki.
pub fn from_otlp(data: &LogsData) -> Vec<Record> {
    let text = |v: &Option<AnyValue>| match v {
        None => String::new(),
        Some(AnyValue::Bytes(b)) => {
            let mut out = String::new();
            edgescope_otlp::base64_into(b, &mut out);
            out
        }
        Some(v @ (AnyValue::Array(_) | AnyValue::KvList(_))) => {
            let mut out = String::new();
            push_plain_json(v, &mut out);
            out
        }
        Some(v) => value_text(v),
    };
    let mut out = Vec::new();
    for rl in &data.resource_logs {
        let service = rl.resource.service_name().to_owned();
        let resource: Resource = rl
            .resource
            .attributes
            .iter()
            .filter(|kv| kv.key != "service.name")
            .map(|kv| (kv.key.clone(), text(&kv.value)))
            .collect();
        for r in rl.scope_logs.iter().flat_map(|sl| &sl.log_records) {
            out.push(Record {
                time: r.time(),
                level: Level::from_otlp(r.severity_number, &r.severity_text),
                severity_text: r.severity_text.clone(),
                service: service.clone(),
                message: text(&r.body),
                trace_id: r.trace_id.map_or(0, |t| u128::from_be_bytes(t.0)),
                span_id: r.span_id.map_or(0, |s| u64::from_be_bytes(s.0)),
                // The record's event name (OTLP 1.5 `event_name`: a web vital's `browser.web_vital`)
                // first, under the name the collector's Loki API gives it.
                attributes: (!r.event_name.is_empty())
                    .then(|| ("event_name".to_owned(), r.event_name.clone()))
                    .into_iter()
                    .chain(r.attributes.iter().map(|kv| (kv.key.clone(), text(&kv.value))))
                    .collect(),
                resource: resource.clone(),
            });
        }
    }
    out
}

/// Writes a value as plain JSON, as Loki's OTLP ingestion writes a map or an array body (map
/// keys sorted, the last of repeated keys kept, bytes in base64). By hand, not through a
/// `serde_json::Value`: 3 KB less of the viewer's wasm.
fn push_plain_json(v: &AnyValue, out: &mut String) {
    match v {
        AnyValue::String(s) => edgescope_otlp::json::push_string(s, out),
        AnyValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        AnyValue::Int(i) => {
            let _ = write!(out, "{i}");
        }
        AnyValue::Double(d) if d.is_finite() => out.push_str(&crate::num::shortest(*d)),
        AnyValue::Double(_) | AnyValue::Empty => out.push_str("null"),
        AnyValue::Bytes(b) => {
            out.push('"');
            edgescope_otlp::base64_into(b, out);
            out.push('"');
        }
        AnyValue::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_plain_json(item, out);
            }
            out.push(']');
        }
        AnyValue::KvList(entries) => {
            let mut sorted: Vec<&edgescope_otlp::KeyValue> = Vec::with_capacity(entries.len());
            for kv in entries {
                match sorted.binary_search_by(|k| k.key.as_str().cmp(&kv.key)) {
                    Ok(i) => sorted[i] = kv,
                    Err(i) => sorted.insert(i, kv),
                }
            }
            out.push('{');
            for (i, kv) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                edgescope_otlp::json::push_string(&kv.key, out);
                out.push(':');
                match &kv.value {
                    Some(v) => push_plain_json(v, out),
                    None => out.push_str("null"),
                }
            }
            out.push('}');
        }
    }
}

/// Reads an OTLP/JSON logs file (or JSON lines of them) into records. JSON lines of other
/// signals (a file exporter in a traces and a logs pipeline writes both into one file) are
/// skipped; a file with no logs says so, and where to open one of traces. JSON lines that cannot
/// be read are left out, and said so (the second value), unless no line can be read.
pub fn parse_file(text: &str) -> Result<(Vec<Record>, Option<String>), String> {
    use edgescope_otlp::read::{signal, Signal, TRACES_PAGE};
    // A byte order mark, which some editors start UTF-8 files with, is no part of the JSON.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err("the file is empty".into());
    }
    let whole = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(doc) => match signal(&doc) {
            Some(Signal::Traces) => return Err(format!("it holds traces, not logs: {TRACES_PAGE}")),
            Some(Signal::Metrics) => return Err("it holds metrics, which the viewer does not show".into()),
            _ => {
                return read::logs(&doc, Ids::Tolerant)
                    .map(|d| (from_otlp(&d), None))
                    .map_err(|e| format!("not OTLP/JSON logs: {e}"))
            }
        },
        Err(e) => format!("not OTLP/JSON logs: invalid JSON: {e}"),
    };
    let mut records = Vec::new();
    let read = |n: usize, doc: &serde_json::Value| {
        let data =
            read::logs(doc, Ids::Tolerant).map_err(|e| format!("line {n}: not an OTLP/JSON logs document: {e}"))?;
        records.extend(from_otlp(&data));
        Ok(())
    };
    let bad_json = |n, e| format!("line {n}: not an OTLP/JSON logs document: invalid JSON: {e}");
    let Some(lines) = read::json_lines(text, Signal::Logs, bad_json, read) else { return Err(whole) };
    let count = lines.lines;
    match lines.outcome() {
        Ok(skipped) => Ok((records, skipped.map(|s| s.to_string()))),
        Err(Some(e)) => Err(e),
        Err(None) => Err(format!("none of its {count} lines holds logs (they hold traces or metrics): {TRACES_PAGE}")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reconnection_waits_longer_each_time_up_to_half_a_minute() {
        let secs: Vec<u64> = (1..=8).map(|n| super::backoff(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 30, 30, 30]);
    }

    use super::*;

    #[test]
    fn an_otlp_record_reads_as_loki_gives_it_map_and_array_bodies_as_json_bytes_in_base64() {
        // As the collector's and Loki's lines: the same record reads alike from a file.
        let doc = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[
              {"timeUnixNano":"1","body":{"kvlistValue":{"values":[
                {"key":"n","value":{"intValue":"1"}},{"key":"msg","value":{"stringValue":"a, b: c"}},
                {"key":"n","value":{"doubleValue":2.5}}]}},
               "attributes":[{"key":"raw","value":{"bytesValue":"AAAwOQ=="}},
                 {"key":"list","value":{"arrayValue":{"values":[{"stringValue":"x\"y"},{"boolValue":true}]}}}]}]}]}]}"#;
        let records = parse_file(doc).unwrap().0;
        assert_eq!(records[0].message, r#"{"msg":"a, b: c","n":2.5}"#, "keys sorted, the last of repeated keys kept");
        assert_eq!(
            records[0].attributes,
            [("raw".to_owned(), "AAAwOQ==".to_owned()), ("list".to_owned(), r#"["x\"y",true]"#.to_owned())]
        );
    }

    #[test]
    fn an_otlp_record_shows_its_event_name_before_its_attributes() {
        let doc = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"web"}}]},
            "scopeLogs":[{"logRecords":[
              {"timeUnixNano":"1","eventName":"browser.web_vital","body":{"stringValue":"LCP 1200"},
               "attributes":[{"key":"web_vital.rating","value":{"stringValue":"good"}}]},
              {"timeUnixNano":"2","body":{"stringValue":"plain"}}]}]}]}"#;
        let records = parse_file(doc).unwrap().0;
        assert_eq!(
            records[0].attributes,
            [
                ("event_name".to_owned(), "browser.web_vital".to_owned()),
                ("web_vital.rating".to_owned(), "good".to_owned())
            ]
        );
        assert!(records[1].attributes.is_empty(), "no event name, no field");
    }

    #[test]
    fn loki_is_never_asked_for_more_than_its_max_query_length_and_other_sources_for_any_range() {
        const HOUR: u64 = 3_600 * 1_000_000_000;
        let now = 1_800_000_000_000_000_000u64;
        // "all" asks from 1 ns.
        assert_eq!(clamp_range(Kind::Loki, 1, now), (now - 720 * HOUR, true));
        assert_eq!(clamp_range(Kind::Collector, 1, now), (1, false));
        let week = now - 7 * 24 * HOUR;
        assert_eq!(clamp_range(Kind::Loki, week, now), (week, false));
        // Paging back: the window before ends where the records held begin.
        let older_end = now - 720 * HOUR - 1;
        assert_eq!(clamp_range(Kind::Loki, 1, older_end), (older_end - 720 * HOUR, true));
    }

    #[test]
    fn a_load_asks_a_years_windows_back_and_says_when_they_were_all_empty_never_paging_before_1970() {
        const DAY: u64 = 24 * 3_600 * 1_000_000_000;
        let now = 1_800_000_000_000_000_000u64;
        // Lookback "All" on Loki: twelve windows of 30 days, newest first, each ending where the
        // one before began.
        let asked = windows(Kind::Loki, 1, now);
        assert_eq!(asked.len(), EMPTY_WINDOWS);
        assert_eq!(asked[0], (now - 30 * DAY, now, true));
        assert!(asked.windows(2).all(|w| w[1].1 == w[0].0 && w[1].0 == w[1].1 - 30 * DAY && w[1].2));
        // All empty: said so, with the way on.
        let oldest = asked.last().unwrap().0;
        let notice = empty_notice(now, oldest, true);
        assert_eq!(
            notice,
            format!(
                "No records in the 360 days before {}. \"Search further back\" asks for the 360 days before those.",
                crate::model::format_time(now)
            )
        );
        // Clicked on and on with nothing anywhere: the windows reach the Unix epoch and stop, the
        // last one not cut (so "Load older" goes), after a click per 360 days.
        let mut end = now;
        let mut clicks = 0;
        loop {
            let asked = windows(Kind::Loki, 1, end);
            clicks += 1;
            assert!(asked.iter().all(|(start, end, _)| *start >= 1 && start < end), "{asked:?}");
            let (start, _, cut) = *asked.last().unwrap();
            if !cut {
                assert_eq!(start, 1, "the first window reaches back to 1 ns after the epoch and no further");
                assert!(asked.len() <= EMPTY_WINDOWS);
                assert_eq!(
                    empty_notice(end, start, false),
                    format!(
                        "No records between {} and {}.",
                        crate::model::format_time(1),
                        crate::model::format_time(end)
                    )
                );
                break;
            }
            end = start;
            assert!(clicks < 100, "paging never ends");
        }
        assert_eq!(clicks, now.div_ceil(360 * DAY) as usize);
        // A window not cut (a week on Loki, or any range from the collector) is asked for alone.
        assert_eq!(windows(Kind::Loki, now - 7 * DAY, now), [(now - 7 * DAY, now, false)]);
        assert_eq!(windows(Kind::Collector, 1, now), [(1, now, false)]);
        // Days are whole days of the windows asked.
        assert!(empty_notice(now, now - 45 * DAY, true).starts_with("No records in the 45 days before "));
    }

    #[test]
    fn load_older_goes_on_before_a_sparse_or_empty_window_and_before_the_oldest_record_of_a_full_one() {
        const DAY: u64 = 24 * 3_600 * 1_000_000_000;
        let now = 1_800_000_000_000_000_000u64;
        let window = now - 30 * DAY;
        // One record an hour ago in the last 30 days: the 29 days before it were read too.
        let sparse = Some(Asked { start: window, full: false });
        assert_eq!(older_end(sparse, Some(now - DAY / 24), now), window);
        // Nothing in the window: still the window before, not the same one again.
        assert_eq!(older_end(sparse, None, now), window);
        // A full page: the window may hold more before the oldest record held.
        assert_eq!(older_end(Some(Asked { start: window, full: true }), Some(now - DAY), now), now - DAY - 1);
        assert_eq!(older_end(None, Some(now - DAY), now), now - DAY - 1);
        assert_eq!(older_end(None, None, now), now);
    }

    #[test]
    fn context_keeps_records_of_one_time_and_message_from_two_streams_and_drops_only_true_repeats() {
        let record = |time: u64, message: &str, pod: &str| Record {
            time,
            message: message.into(),
            service: "web".into(),
            resource: vec![("service_name".to_owned(), "web".to_owned()), ("pod".to_owned(), pod.to_owned())].into(),
            attributes: vec![("route".into(), "/pay".into())],
            ..Record::default()
        };
        let id = |r: &Record| record_identity(r);
        let before = vec![record(4, "start", "a"), record(5, "retrying", "a"), record(5, "retrying", "b")];
        // The answer after the record holds its time again: the same two records, in another order.
        let after = vec![record(5, "retrying", "b"), record(5, "retrying", "a"), record(6, "done", "a")];
        let chosen = id(&record(5, "retrying", "b"));
        let (lines, at) = context_lines([before, after].concat(), chosen, 10).unwrap();
        let pods: Vec<(u64, &str)> = lines.iter().map(|r| (r.time, r.resource[1].1.as_str())).collect();
        assert_eq!(pods.len(), 4, "two records at 5, each once: {pods:?}");
        assert_eq!(lines.iter().filter(|r| r.time == 5).count(), 2);
        assert_eq!(id(&lines[at]), chosen, "the chosen record is the one of its stream");
        // Other metadata, another level (a stream label), another trace make another record too.
        let same = id(&record(5, "retrying", "a"));
        let mut other = record(5, "retrying", "a");
        other.attributes = vec![("route".into(), "/items".into())];
        assert_ne!(id(&other), same);
        let mut other = record(5, "retrying", "a");
        other.level = Level::Warn;
        assert_ne!(id(&other), same);
        let mut other = record(5, "retrying", "a");
        other.trace_id = 7;
        assert_ne!(id(&other), same);
        assert!(context_lines(vec![record(4, "start", "a")], chosen, 10).is_none());
        // A record from the live tail, its metadata among the stream labels, is the record a
        // range query gives with the metadata apart.
        let mut tailed = record(5, "retrying", "a");
        tailed.resource = vec![
            ("service_name".to_owned(), "web".to_owned()),
            ("pod".to_owned(), "a".to_owned()),
            ("route".to_owned(), "/pay".to_owned()),
        ]
        .into();
        tailed.attributes = Vec::new();
        assert_eq!(id(&tailed), same);
    }

    #[test]
    fn a_json_lines_file_of_otlp_logs_documents_gives_the_records_of_every_line() {
        let doc = |message: &str| {
            format!(
                r#"{{"resourceLogs":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"web"}}}}]}},"scopeLogs":[{{"logRecords":[{{"timeUnixNano":"1700000000000000000","severityNumber":9,"body":{{"stringValue":"{message}"}}}}]}}]}}]}}"#
            )
        };
        let text = format!("{}\n\n{}\n", doc("first"), doc("second"));
        let records = parse_file(&text).unwrap().0;
        let messages: Vec<&str> = records.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(messages, ["first", "second"]);
        assert_eq!(records[0].service, "web");
        // One document alone, across lines, still reads as before.
        assert_eq!(parse_file(&doc("only").replace(",", ",\n")).unwrap().0.len(), 1);
        // A line that cannot be read is left out and named; the others are read.
        let (records, skipped) = parse_file(&format!("{}\n{{\"resourceLogs\":5}}\n", doc("a"))).unwrap();
        assert_eq!(records.len(), 1);
        let skipped = skipped.unwrap();
        assert!(skipped.starts_with("1 of its 2 lines could not be read and was left out (it: line 2: "), "{skipped}");
        // Lines are counted in the file, blank ones too; a byte order mark is no part of the JSON.
        let (_, skipped) = parse_file(&format!("{}\n\nnot json\n", doc("a"))).unwrap();
        assert!(skipped.unwrap().contains("(it: line 3: not an OTLP/JSON logs document: invalid JSON"));
        // A file none of whose lines reads is refused, naming the first.
        let err = parse_file("{\"resourceLogs\":5}\nnot json\n").unwrap_err();
        assert!(err.starts_with("line 1: not an OTLP/JSON logs document"), "{err}");
        assert_eq!(parse_file(&format!("\u{feff}{text}")).unwrap().0.len(), 2);
    }

    #[test]
    fn a_json_lines_file_of_logs_and_other_signals_gives_the_logs_and_one_without_logs_says_where_to_open_it() {
        let mixed = crate::file_url::tests::MIXED_LINES;
        let records = parse_file(mixed).unwrap().0;
        let messages: Vec<&str> = records.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(messages, ["hello"]);
        let traces_and_metrics: String =
            mixed.lines().filter(|l| !l.contains("resourceLogs")).map(|l| format!("{l}\n")).collect();
        let e = parse_file(&traces_and_metrics).unwrap_err();
        assert!(e.ends_with(edgescope_otlp::read::TRACES_PAGE), "{e}");
        let e = parse_file(mixed.lines().next().unwrap()).unwrap_err();
        assert!(e.starts_with("it holds traces, not logs") && e.ends_with(edgescope_otlp::read::TRACES_PAGE), "{e}");
        assert_eq!(parse_file("\n\n").unwrap_err(), "the file is empty");
    }

    #[test]
    fn polls_ask_from_the_newest_time_again_and_skip_only_the_records_already_received() {
        let rec = |time: u64, message: &str| Record {
            time,
            level: Level::Info,
            severity_text: String::new(),
            service: "cart".into(),
            message: message.into(),
            trace_id: 0,
            span_id: 0,
            attributes: Vec::new(),
            resource: Resource::default(),
        };
        let messages = |records: &[Record]| records.iter().map(|r| r.message.clone()).collect::<Vec<_>>();
        // The store held "a" (twice, the same line) and "b" at 100 when the tail started.
        let key = |m: &str| record_key("cart", m, 0);
        let mut resume = Resume::new(100, [key("a"), key("a"), key("b")]);
        assert_eq!(resume.from(), 100);
        // The poll finds them again, and a third "a" and a "c" stored since at the same time.
        let answer = vec![rec(100, "a"), rec(100, "b"), rec(100, "a"), rec(100, "c"), rec(100, "a"), rec(101, "d")];
        let fresh = resume.fresh(answer);
        assert_eq!(messages(&fresh), ["c", "a", "d"]);
        fresh.iter().for_each(|r| resume.note(r));
        assert_eq!(resume.from(), 101);
        // The next answer from 101: "d" again, and one stored since.
        let fresh = resume.fresh(vec![rec(101, "d"), rec(101, "e")]);
        assert_eq!(messages(&fresh), ["e"]);
        fresh.iter().for_each(|r| resume.note(r));
        assert!(resume.fresh(vec![rec(101, "d"), rec(101, "e")]).is_empty());
        // Records over the WebSocket count as received; older ones leave the newest time as it was.
        resume.note(&rec(102, "f"));
        resume.note(&rec(90, "late"));
        assert_eq!(
            (resume.from(), messages(&resume.fresh(vec![rec(102, "f"), rec(102, "f")]))),
            (102, vec!["f".into()])
        );
    }

    fn fixture(name: &str) -> String {
        // ../shared/fixtures: real telemetry from other projects; MANIFEST.tsv names each source.
        let path = format!("{}/../../shared/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn loki(url: &str) -> Source {
        Source { kind: Kind::Loki, url: url.into(), auth: None }
    }

    #[test]
    fn queries_name_a_trace_in_the_selector_for_the_collector_and_in_a_label_filter_for_loki() {
        let trace = |service: &str| Ask { trace_id: Some(1 << 64 | 0xab), ..Ask::service(service) };
        assert_eq!(logql(Kind::Collector, &Ask::default()), r#"{service_name=~".+"}"#);
        assert_eq!(
            logql(Kind::Collector, &trace("web")),
            r#"{service_name="web", trace_id="000000000000000100000000000000ab"}"#
        );
        assert_eq!(
            logql(Kind::Loki, &trace("")),
            r#"{service_name=~".+"} | trace_id="000000000000000100000000000000ab""#
        );
        // A 64-bit id (Zipkin and B3 write it in 16 digits, OTLP in 32): either form matches.
        let zipkin = Ask { trace_id: Some(0xa03ee8fff1dcd9b9), ..Ask::service("web") };
        assert_eq!(logql(Kind::Collector, &zipkin), r#"{service_name="web", trace_id=~"(0{16})?a03ee8fff1dcd9b9"}"#);
        assert_eq!(logql(Kind::Loki, &zipkin), r#"{service_name="web"} | trace_id=~"(0{16})?a03ee8fff1dcd9b9""#);
        assert_eq!(trace_matcher(0xab), r#"=~"(0{16})?00000000000000ab""#);
        assert_eq!(trace_matcher(1 << 64), r#"="00000000000000010000000000000000""#);
        let r = range_request(&loki("/upstream/loki"), "{a=\"b\"}", 1, 2, 5000, false);
        assert_eq!(r.url, "/upstream/loki/loki/api/v1/query_range?query=%7Ba%3D%22b%22%7D&start=1&end=2&limit=5000&direction=backward");
        assert!(r.headers.contains(&("X-Loki-Response-Encoding-Flags".into(), "categorize-labels".into())));
        assert_eq!(
            label_values_request(&Source::collector(), "service_name", 1, 2).url,
            "/loki/api/v1/label/service_name/values?start=1&end=2"
        );
        assert_eq!(labels_request(&Source::collector(), 1, 2).url, "/loki/api/v1/labels?start=1&end=2");
    }

    #[test]
    fn queries_carry_the_service_the_level_and_the_text_so_that_the_source_returns_the_matching_records() {
        let ask = Ask {
            service: "quiet \"one\"".into(),
            min_level: Level::Warn,
            text: "a\\b \"c\"\nd".into(),
            regex: false,
            trace_id: Some(1 << 64 | 0xab),
        };
        // The collector: the level in the selector (its `level` label comes from the severity),
        // the text as a line filter, with Go's escapes.
        assert_eq!(
            logql(Kind::Collector, &ask),
            r#"{service_name="quiet \"one\"", level=~"warn|error|fatal", trace_id="000000000000000100000000000000ab"} |= "a\\b \"c\"\nd""#
        );
        // Loki: the level stays in the page (its records carry it in labels of their set-up's
        // choosing); the trace is a label filter after the line filter.
        assert_eq!(
            logql(Kind::Loki, &ask),
            r#"{service_name="quiet \"one\""} |= "a\\b \"c\"\nd" | trace_id="000000000000000100000000000000ab""#
        );
        assert_eq!(filtered_in_page(Kind::Loki, &ask, true), ["minimum level", "attribute"]);
        assert!(filtered_in_page(Kind::Collector, &ask, false).is_empty());
        // One level is an equality; trace, every level, unknown ones too, is no filter at all
        // ("all"), while "trace" leaves out records of unknown level, as the page does.
        let level = |min_level| logql(Kind::Collector, &Ask { min_level, ..Ask::default() });
        assert_eq!(level(Level::Fatal), r#"{service_name=~".+", level="fatal"}"#);
        assert_eq!(level(Level::Trace), r#"{service_name=~".+", level=~"trace|debug|info|warn|error|fatal"}"#);
        assert_eq!(level(Level::Unknown), r#"{service_name=~".+"}"#);
        // A regular expression is `|~`, its backslashes escaped once more for the string.
        let regex = Ask { text: r"(?i)request 1\d ".into(), regex: true, ..Ask::service("web") };
        assert_eq!(logql(Kind::Loki, &regex), r#"{service_name="web"} |~ "(?i)request 1\\d ""#);
    }

    #[test]
    fn a_range_answer_in_another_shape_than_lokis_is_an_error_naming_the_stream_and_the_entry() {
        let answer = |values: &str| {
            format!(
                r#"{{"status":"success","data":{{"resultType":"streams","result":[{{"stream":{{"service_name":"web"}},"values":[["1","ok"]]}},{{"stream":{{"service_name":"web","level":"warn"}},"values":{values}}}]}}}}"#
            )
        };
        let error = |values: &str| parse_range(200, &answer(values)).unwrap_err();
        // Labels in name order, as serde_json keeps them.
        let at = r#"Loki's answer is malformed: stream 2 {level="warn", service_name="web"}"#;
        // QA's answer: a number for the time, an object for the line, a string for an entry.
        assert_eq!(
            error(r#"[[1795800000000000000,{"line":"x"}],"nope"]"#),
            format!("{at}, entry 1: the time is 1795800000000000000, not a string of Unix nanoseconds")
        );
        let shape = "not [time, line] or [time, line, metadata]";
        let cases = [
            (r#"[["2",{"line":"x"}]]"#, r#"entry 1: the line is {"line":"x"}, not a string"#.to_owned()),
            (r#"[["2","a"],"nope"]"#, format!(r#"entry 2: the entry is "nope", {shape}"#)),
            (r#"[["soon","a"]]"#, r#"entry 1: the time is "soon", not Unix nanoseconds"#.to_owned()),
            (r#"[["2"]]"#, format!(r#"entry 1: the entry is ["2"], {shape}"#)),
            (r#"[["2","a",{},4]]"#, format!(r#"entry 1: the entry is ["2","a",{{}},4], {shape}"#)),
            (r#"[["2","a",[]]]"#, "entry 1: the metadata is [], not an object".to_owned()),
            (r#"[["2","a",{"parsed":"x"}]]"#, r#"entry 1: parsed is "x", not an object"#.to_owned()),
            (
                r#"[["2","a",{"structuredMetadata":{"n":5}}]]"#,
                "entry 1: structuredMetadata.n is 5, not a string".to_owned(),
            ),
        ];
        for (values, expected) in cases {
            assert_eq!(error(values), format!("{at}, {expected}"));
        }
        assert_eq!(error(r#"{"a":1}"#), format!(r#"{at}: values is {{"a":1}}, not a list of entries"#));
        // A long value is cut at 60 characters.
        let entry = format!("[{}1]", "1,".repeat(100));
        assert_eq!(error(&format!("[{entry}]")), format!("{at}, entry 1: the entry is {}…, {shape}", &entry[..60]));
        let e = parse_range(200, r#"{"data":{"result":[5]}}"#).unwrap_err();
        assert_eq!(e, "Loki's answer is malformed: stream 1 is 5, not an object of labels and values");
        // Loki's own shapes read: two and three elements, empty metadata, no stream labels.
        let ok = r#"{"data":{"result":[{"values":[["1","a"],["2","b",{}],["3","c",{"structuredMetadata":{},"parsed":{"x":"y"}}]]}]}}"#;
        let records = parse_range(200, ok).unwrap();
        assert_eq!(records.iter().map(|r| r.time).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(records[2].attributes, [("x".to_owned(), "y".to_owned())]);
    }

    #[test]
    fn a_tail_message_in_another_shape_is_an_error_naming_what_is_wrong() {
        // QA's truncated frame.
        let e = parse_tail(r#"{"streams":[{"stream":{"service_name":"web"},"values":[["notanumber""#).unwrap_err();
        assert!(e.starts_with("not JSON: EOF while parsing"), "{e}");
        assert_eq!(
            parse_tail(r#"{"streams":[{"stream":{"service_name":"web"},"values":[["notanumber","x"]]}]}"#).unwrap_err(),
            r#"stream 1 {service_name="web"}, entry 1: the time is "notanumber", not Unix nanoseconds"#
        );
        assert_eq!(parse_tail(r#"{"streams":{"a":1}}"#).unwrap_err(), r#"streams is {"a":1}, not a list"#);
        assert_eq!(parse_tail(r#"{"dropped_entries":5}"#).unwrap_err(), "dropped_entries is 5, not a list");
        assert_eq!(parse_tail("[]").unwrap_err(), "the message is [], not an object of streams");
        // Loki leaves out what is empty.
        assert_eq!(parse_tail("{}").unwrap().0.len(), 0);
    }

    #[test]
    fn the_tail_is_a_websocket_on_the_sources_origin_unless_it_needs_credentials() {
        let q = "{a=\"b\"}";
        assert_eq!(
            tail_url(&Source::collector(), "http://127.0.0.1:16686", q, 5, 100).unwrap(),
            "ws://127.0.0.1:16686/loki/api/v1/tail?query=%7Ba%3D%22b%22%7D&start=5&limit=100"
        );
        assert!(tail_url(&loki("https://loki.example"), "http://x", q, 0, 1)
            .unwrap()
            .starts_with("wss://loki.example/loki/api/v1/tail?"));
        let mut behind = loki("/upstream/loki");
        behind.auth = Some("Bearer t".into());
        assert!(tail_url(&behind, "https://ui", q, 0, 1)
            .unwrap()
            .starts_with("wss://ui/upstream/loki/loki/api/v1/tail?"));
        let direct = Source { auth: Some("Bearer t".into()), ..loki("https://loki.example") };
        assert_eq!(tail_url(&direct, "http://x", q, 0, 1), None, "polled instead");
    }

    #[test]
    fn categorized_and_plain_streams_give_the_same_records() {
        let categorized = r#"{"status":"success","data":{"resultType":"streams","encodingFlags":["categorize-labels"],"result":[
            {"stream":{"service_name":"web","level":"warn","deployment_environment":"prod"},"values":[
              ["1700000000000000001","slow cart",{"structuredMetadata":{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","cart_id":"c1","severity_text":"WARNING"}}]]}]}}"#;
        let plain = r#"{"status":"success","data":{"resultType":"streams","result":[
            {"stream":{"service_name":"web","level":"warn","deployment_environment":"prod","trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","severity_text":"WARNING"},"values":[
              ["1700000000000000001","slow cart"]]}]}}"#;
        let a = &parse_range(200, categorized).unwrap()[0];
        let b = &parse_range(200, plain).unwrap()[0];
        for r in [a, b] {
            assert_eq!(
                (r.time, r.level, r.service.as_str(), r.message.as_str()),
                (1_700_000_000_000_000_001, Level::Warn, "web", "slow cart")
            );
            assert_eq!(trace_hex(r.trace_id), "0af7651916cd43dd8448eb211c80319c");
            assert_eq!((r.span_id, r.severity_text.as_str()), (0xb7ad6b7169203331, "WARNING"));
            assert!(r.resource.contains(&("deployment_environment".into(), "prod".into())));
        }
        assert_eq!(a.attributes, [("cart_id".to_owned(), "c1".to_owned())]);
        let (records, dropped) = parse_tail(r#"{"streams":[{"stream":{"service_name":"x"},"values":[["5","hi"]]}],"dropped_entries":[{"labels":{},"timestamp":"4"}]}"#).unwrap();
        assert_eq!((records.len(), records[0].level, dropped), (1, Level::Unknown, 1));
        assert_eq!(parse_tail(r#"{"streams":[],"dropped_entries":null}"#).unwrap().1, 0);
        assert!(parse_range(400, "parse error at line 1, col 18: syntax error").unwrap_err().contains("parse error"));
        assert_eq!(parse_names(200, r#"{"status":"success","data":["b","a"]}"#).unwrap(), ["a", "b"]);
    }

    #[test]
    fn otlp_log_files_become_records_with_ids_levels_and_attributes() {
        for name in ["otlp-proto-logs.json", "otel-rust-it-logs.json"] {
            let records = parse_file(&fixture(name)).unwrap().0;
            assert!(!records.is_empty(), "{name}");
            assert!(records.iter().all(|r| !r.service.is_empty()), "{name}");
        }
        let records = parse_file(&fixture("otlp-proto-logs.json")).unwrap().0;
        assert!(records.iter().any(|r| r.trace_id != 0 && r.level != Level::Unknown));
    }
}
