//! Where traces and logs come from, and how each backend is asked: the bundled collector,
//! Jaeger (query API v3, else the legacy `/api/traces`), Grafana Tempo (`/api/v2/traces`, else
//! v1; `/api/search` with TraceQL), Zipkin v2 and Loki. Plain Rust, tested natively: this module
//! builds requests and reads answers; `api` sends them.
//!
//! A source is a kind and a base URL: empty for the collector that serves the viewer,
//! `/upstream/{name}` for a backend behind the collector's gateway, or a backend's own URL when
//! it allows CORS. An optional `Authorization` value is sent with each request; it is kept in
//! the browser's storage but never in the page URL, so links carry no credentials.

use std::collections::{BTreeMap, BTreeSet};

use edgescope_otlp::read::{self, Ids};
use edgescope_otlp::signals::SpanFacts;
use edgescope_otlp::{LogsData, ReadError, StatusCode, TraceId, TracesData};
use serde_json::Value;

use crate::model::sort_by_u64;

/// A kind of backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The edgescope collector (Jaeger v3 shapes plus `/api/traces` and `/api/logs`).
    Collector,
    /// Jaeger's query service.
    Jaeger,
    /// Grafana Tempo.
    Tempo,
    /// Zipkin v2.
    Zipkin,
    /// Grafana Loki (logs only).
    Loki,
}

impl Kind {
    /// Every kind, in the order the settings panel lists them.
    pub const ALL: [Kind; 5] = [Kind::Collector, Kind::Jaeger, Kind::Tempo, Kind::Zipkin, Kind::Loki];

    /// The name used in URLs and storage.
    pub fn id(self) -> &'static str {
        match self {
            Kind::Collector => "collector",
            Kind::Jaeger => "jaeger",
            Kind::Tempo => "tempo",
            Kind::Zipkin => "zipkin",
            Kind::Loki => "loki",
        }
    }

    /// The name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Collector => "edgescope collector",
            Kind::Jaeger => "Jaeger",
            Kind::Tempo => "Grafana Tempo",
            Kind::Zipkin => "Zipkin",
            Kind::Loki => "Grafana Loki",
        }
    }

    fn from_id(id: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.id() == id)
    }

    /// Whether the kind serves traces.
    pub fn has_traces(self) -> bool {
        self != Kind::Loki
    }

    /// Whether the kind serves logs.
    pub fn has_logs(self) -> bool {
        matches!(self, Kind::Collector | Kind::Loki)
    }
}

/// One configured backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// What it is.
    pub kind: Kind,
    /// Base URL without a trailing slash; empty for the serving collector.
    pub url: String,
    /// An `Authorization` header value, if the backend needs one.
    pub auth: Option<String>,
}

impl Source {
    /// The collector that serves the viewer.
    pub fn collector() -> Source {
        Source { kind: Kind::Collector, url: String::new(), auth: None }
    }

    /// `kind:url` (the form kept in page URLs), for example `tempo:/upstream/tempo`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind.id(), self.url)
    }

    /// Reads `kind:url`; `None` for an unknown kind or a URL that is neither a path nor http(s).
    /// `//host` and `/\host` are not paths: a browser reads both as another host's URL.
    pub fn from_key(key: &str) -> Option<Source> {
        let (kind, url) = key.split_once(':').unwrap_or((key, ""));
        let kind = Kind::from_id(kind)?;
        let url = url.trim().trim_end_matches('/');
        let path = url.starts_with('/') && !url[1..].starts_with(['/', '\\']);
        // A scheme in any case (RFC 3986), written in lower case as the requests expect it.
        let scheme =
            ["http://", "https://"].into_iter().find(|s| url.get(..s.len()).is_some_and(|u| u.eq_ignore_ascii_case(s)));
        let url = match scheme {
            Some(s) => format!("{s}{}", &url[s.len()..]),
            None if url.is_empty() || path => url.to_owned(),
            None => return None,
        };
        Some(Source { kind, url, auth: None })
    }

    fn request(&self, path_and_query: String) -> Request {
        let mut headers = vec![("Accept".to_owned(), "application/json".to_owned())];
        if let Some(auth) = self.auth.as_ref().filter(|a| !a.is_empty()) {
            headers.push(("Authorization".to_owned(), auth.clone()));
        }
        Request { url: format!("{}{path_and_query}", self.url), headers }
    }
}

/// The trace source and the log source the viewer reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    /// Where traces come from.
    pub traces: Source,
    /// Where logs come from.
    pub logs: Source,
}

impl Default for Sources {
    fn default() -> Self {
        Sources { traces: Source::collector(), logs: Source::collector() }
    }
}

impl Sources {
    /// Query-string parameters for the page URL (`traces=…&logs=…`), the default collector's
    /// too: a link opened in a browser whose saved sources are others must still show the data
    /// it was made from.
    pub fn to_query(&self) -> Vec<(&'static str, String)> {
        vec![("traces", self.traces.key()), ("logs", self.logs.key())]
    }

    /// Applies `traces=` and `logs=` from a page URL; credentials stay as they were when the
    /// source is the same. Returns the parameters it could not use (`traces=bogus:…`, a URL that
    /// is neither http(s) nor a path, a source of the other signal), which leave their source
    /// as it was: the page says so rather than show other data without a word.
    pub fn apply_query(&mut self, traces: Option<&str>, logs: Option<&str>) -> Vec<String> {
        let mut refused = Vec::new();
        for (name, slot, key) in [("traces", &mut self.traces, traces), ("logs", &mut self.logs, logs)] {
            let Some(key) = key else { continue };
            let fits = |s: &Source| if name == "traces" { s.kind.has_traces() } else { s.kind.has_logs() };
            match Source::from_key(key).filter(fits) {
                Some(source) => {
                    if slot.kind != source.kind || slot.url != source.url {
                        *slot = source;
                    }
                }
                None => refused.push(format!("{name}={key}")),
            }
        }
        refused
    }

    /// Takes the credentials of `saved` (the sources kept in the browser) for each source that is
    /// the same backend and has none, as after an address named another source and then this one.
    pub fn with_saved_credentials(&mut self, saved: &Sources) {
        for (slot, kept) in [(&mut self.traces, &saved.traces), (&mut self.logs, &saved.logs)] {
            if slot.auth.is_none() && slot.kind == kept.kind && slot.url == kept.url {
                slot.auth.clone_from(&kept.auth);
            }
        }
    }

    /// The form kept in `localStorage`, credentials included (they never leave the browser).
    pub fn to_storage(&self) -> String {
        let one = |s: &Source| serde_json::json!({ "kind": s.kind.id(), "url": s.url, "auth": s.auth });
        serde_json::json!({ "traces": one(&self.traces), "logs": one(&self.logs) }).to_string()
    }

    /// Reads the stored form; anything unreadable gives the defaults.
    pub fn from_storage(text: &str) -> Sources {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            return Sources::default();
        };
        let one = |v: &Value| {
            let mut s = Source::from_key(&format!("{}:{}", v["kind"].as_str()?, v["url"].as_str().unwrap_or("")))?;
            s.auth = v["auth"].as_str().map(str::to_owned);
            Some(s)
        };
        Sources {
            traces: one(&v["traces"]).filter(|s| s.kind.has_traces()).unwrap_or_else(Source::collector),
            logs: one(&v["logs"]).filter(|s| s.kind.has_logs()).unwrap_or_else(Source::collector),
        }
    }
}

/// An HTTP `GET` to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Absolute or origin-relative.
    pub url: String,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
}

/// A trace search.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchQuery {
    /// Service name; empty for any (not every backend allows that).
    pub service: String,
    /// Operation (span name); empty for any.
    pub operation: String,
    /// Attribute filters, `key = value`.
    pub attributes: Vec<(String, String)>,
    /// Minimum duration, nanoseconds.
    pub min_duration: Option<u64>,
    /// Maximum duration, nanoseconds.
    pub max_duration: Option<u64>,
    /// Window start, Unix nanoseconds.
    pub start: u64,
    /// Window end, Unix nanoseconds.
    pub end: u64,
    /// Traces to return at most.
    pub limit: usize,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TraceSummary {
    /// Lowercase hex.
    pub trace_id: String,
    /// Service of the root span (or of the earliest span when the root is missing).
    pub root_service: String,
    /// Name of the root span.
    pub root_name: String,
    /// Unix nanoseconds.
    pub start: u64,
    /// Nanoseconds.
    pub duration: u64,
    /// Spans in the trace (as far as the answer tells).
    pub span_count: u64,
    /// Spans with an error status.
    pub error_count: u64,
    /// Those of them in the root service (as far as the answer tells: Tempo's `serviceStats`).
    pub root_service_errors: u64,
    /// Services seen in the trace, sorted.
    pub services: Vec<String>,
    /// The source gives durations in whole milliseconds (Tempo's `durationMs`, left out when 0).
    pub whole_ms: bool,
}

impl TraceSummary {
    /// The duration as the search page shows it: a trace that a source counting whole milliseconds
    /// gives as 0 lasted less than one, not 0 ns.
    pub fn duration_text(&self) -> String {
        if self.whole_ms && self.duration == 0 {
            "< 1 ms".into()
        } else {
            crate::model::format_duration(self.duration)
        }
    }
}

/// How an answer is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OTLP/JSON inside `{"result": …}` (Jaeger API v3 and the collector).
    JaegerV3,
    /// Jaeger's legacy `{"data": [traces]}`.
    JaegerLegacy,
    /// Tempo's `/api/search` answer.
    TempoSearch,
    /// Tempo v2 `{"trace": …, "status": …}`.
    TempoV2Trace,
    /// Tempo v1 `{"batches": …}` (base64 ids).
    TempoV1Trace,
    /// Zipkin v2: an array of traces (search) or of spans (one trace).
    Zipkin,
}

/// What an answer came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<T> {
    /// The result.
    Done(T),
    /// This API is not there (an older server): try the next request.
    TryNext,
}

fn nanos_to_rfc3339(nanos: u64) -> String {
    let (year, month, day, h, m, s, frac) = crate::model::civil_time(nanos);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{frac:09}Z")
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn query_string(pairs: &[(&str, String)]) -> String {
    pairs.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&")
}

/// A Go duration for Jaeger (`1500us`).
fn go_duration(nanos: u64) -> String {
    format!("{}us", nanos / 1000)
}

/// The longest search window Tempo takes by default (`query_frontend.search.max_duration`).
const TEMPO_MAX_SEARCH_SECONDS: u64 = 168 * 3600;

/// The range Tempo is asked to search, in whole seconds, and whether a range longer than Tempo
/// takes was cut. Tempo refuses a search over more than its `max_duration` (168 h by default): a
/// longer window (7 days rounded outwards to seconds, "all time") is its last 168 h. The second
/// the rounding adds to 7 days is no cut.
fn tempo_search_range(start: u64, end: u64) -> (u64, u64, bool) {
    let longer = end.saturating_sub(start) > TEMPO_MAX_SEARCH_SECONDS * 1_000_000_000;
    let end = end.div_ceil(1_000_000_000);
    let earliest = end.saturating_sub(TEMPO_MAX_SEARCH_SECONDS);
    (((start / 1_000_000_000).max(earliest)), end, longer)
}

/// The range (Unix nanoseconds) a search of `source` really covers when it is shorter than the
/// one asked for: Tempo's last 168 h of a longer window. `None` when the whole range is searched.
pub fn searched_range(source: &Source, q: &SearchQuery) -> Option<(u64, u64)> {
    match source.kind {
        Kind::Tempo => match tempo_search_range(q.start, q.end) {
            (start, end, true) => Some((start * 1_000_000_000, end * 1_000_000_000)),
            _ => None,
        },
        _ => None,
    }
}

/// A TraceQL string literal.
fn traceql_string(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A TraceQL condition that attribute `key` is `v`. Tempo compares no values of different types
/// (a string attribute `"500"` is not the number `500`), and a search form cannot know the
/// attribute's type: a value written as a number (`500`, `-1.5`) or a boolean matches either
/// type; anything else (`00042`, `1e3`, `nan`) is a string.
fn traceql_attribute(key: &str, v: &str) -> String {
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    let unsigned = v.strip_prefix('-').unwrap_or(v);
    let (whole, fraction) = unsigned.split_once('.').map_or((unsigned, None), |(w, f)| (w, Some(f)));
    let number = digits(whole) && (whole == "0" || !whole.starts_with('0')) && fraction.is_none_or(digits);
    if number || v == "true" || v == "false" {
        format!("(.{key} = {v} || .{key} = {})", traceql_string(v))
    } else {
        format!(".{key} = {}", traceql_string(v))
    }
}

/// The TraceQL query for a search.
pub fn traceql(q: &SearchQuery) -> String {
    let mut conditions = Vec::new();
    if !q.service.is_empty() {
        conditions.push(format!("resource.service.name = {}", traceql_string(&q.service)));
    }
    if !q.operation.is_empty() {
        conditions.push(format!("name = {}", traceql_string(&q.operation)));
    }
    for (k, v) in &q.attributes {
        conditions.push(traceql_attribute(k, v));
    }
    if let Some(min) = q.min_duration {
        conditions.push(format!("duration >= {}us", min / 1000));
    }
    if let Some(max) = q.max_duration {
        conditions.push(format!("duration <= {}us", max / 1000));
    }
    if conditions.is_empty() {
        "{}".to_owned()
    } else {
        format!("{{ {} }}", conditions.join(" && "))
    }
}

/// The requests for a search, in the order to try them.
pub fn search_requests(source: &Source, q: &SearchQuery) -> Result<Vec<(Request, Format)>, String> {
    let limit = q.limit.max(1).to_string();
    let attributes = || {
        // serde_json's own map (a B-tree of its values, which every answer read uses): sorted keys,
        // the last value of a repeated key. Inserted one by one: `collect` would sort the pairs
        // first, with a copy of the stable sort for them.
        let mut map = serde_json::Map::new();
        for (k, v) in &q.attributes {
            map.insert(k.clone(), Value::String(v.clone()));
        }
        if map.is_empty() {
            String::new()
        } else {
            Value::Object(map).to_string()
        }
    };
    let v3 = || {
        let pairs = [
            ("query.service_name", q.service.clone()),
            ("query.operation_name", q.operation.clone()),
            ("query.attributes", attributes()),
            ("query.duration_min", q.min_duration.map(go_duration).unwrap_or_default()),
            ("query.duration_max", q.max_duration.map(go_duration).unwrap_or_default()),
            ("query.start_time_min", nanos_to_rfc3339(q.start)),
            ("query.start_time_max", nanos_to_rfc3339(q.end)),
            // `search_depth` since Jaeger 2; `num_traces` before it (API v3 of Jaeger 1.x).
            ("query.search_depth", limit.clone()),
            ("query.num_traces", limit.clone()),
        ];
        (source.request(format!("/api/v3/traces?{}", query_string(&pairs))), Format::JaegerV3)
    };
    match source.kind {
        Kind::Loki => Err("Loki holds logs, not traces: choose a trace source in the settings".into()),
        // Without a service the collector searches every service (unlike Jaeger).
        Kind::Collector => Ok(vec![v3()]),
        Kind::Jaeger if q.service.is_empty() => Err("Jaeger searches need a service: choose one".into()),
        Kind::Jaeger => {
            let pairs = [
                ("service", q.service.clone()),
                ("operation", q.operation.clone()),
                ("tags", attributes()),
                ("minDuration", q.min_duration.map(go_duration).unwrap_or_default()),
                ("maxDuration", q.max_duration.map(go_duration).unwrap_or_default()),
                ("start", (q.start / 1000).to_string()),
                ("end", (q.end / 1000).to_string()),
                ("limit", limit.clone()),
            ];
            let legacy = (source.request(format!("/api/traces?{}", query_string(&pairs))), Format::JaegerLegacy);
            Ok(vec![v3(), legacy])
        }
        Kind::Tempo => {
            let (start, end, _) = tempo_search_range(q.start, q.end);
            let pairs =
                [("q", traceql(q)), ("limit", limit.clone()), ("start", start.to_string()), ("end", end.to_string())];
            Ok(vec![(source.request(format!("/api/search?{}", query_string(&pairs))), Format::TempoSearch)])
        }
        Kind::Zipkin => {
            let zipkin_min = q.min_duration.or(q.max_duration.map(|_| 1));
            let annotations: Vec<String> = q.attributes.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let pairs = [
                ("serviceName", q.service.clone()),
                ("spanName", q.operation.clone()),
                ("annotationQuery", annotations.join(" and ")),
                // Zipkin takes whole microseconds above 0, and a maximum only with a minimum.
                ("minDuration", zipkin_min.map(|d| (d / 1000).max(1).to_string()).unwrap_or_default()),
                ("maxDuration", q.max_duration.map(|d| (d / 1000).to_string()).unwrap_or_default()),
                ("endTs", (q.end / 1_000_000).to_string()),
                ("lookback", (q.end.saturating_sub(q.start) / 1_000_000).to_string()),
                ("limit", limit),
            ];
            Ok(vec![(source.request(format!("/api/v2/traces?{}", query_string(&pairs))), Format::Zipkin)])
        }
    }
}

/// Whether an address's id names a trace: up to 32 hex digits, not all zeros (W3C Trace Context's
/// invalid id, which no source holds).
pub fn is_trace_id(id: &str) -> bool {
    let id = id.trim();
    id.len() <= 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) && id.bytes().any(|b| b != b'0')
}

/// The requests for one trace, in the order to try them.
pub fn trace_requests(source: &Source, trace_id: &str) -> Result<Vec<(Request, Format)>, String> {
    let id = trace_id.trim().to_ascii_lowercase();
    if !is_trace_id(&id) {
        return Err(format!("`{trace_id}` is not a trace id (up to 32 hex digits, not all zeros)"));
    }
    let full = format!("{id:0>32}");
    Ok(match source.kind {
        Kind::Loki => return Err("Loki holds logs, not traces: choose a trace source in the settings".into()),
        Kind::Collector => vec![(source.request(format!("/api/v3/traces/{full}")), Format::JaegerV3)],
        Kind::Jaeger => vec![
            (source.request(format!("/api/v3/traces/{full}")), Format::JaegerV3),
            (source.request(format!("/api/traces/{id}")), Format::JaegerLegacy),
        ],
        Kind::Tempo => vec![
            (source.request(format!("/api/v2/traces/{full}")), Format::TempoV2Trace),
            (source.request(format!("/api/traces/{full}")), Format::TempoV1Trace),
        ],
        Kind::Zipkin => vec![(source.request(format!("/api/v2/trace/{id}")), Format::Zipkin)],
    })
}

/// The requests that list services, in the order to try them; the format tells `parse_names`
/// where the names are.
pub fn services_requests(source: &Source) -> Vec<(Request, NamesFormat)> {
    match source.kind {
        Kind::Collector => vec![(source.request("/api/v3/services".into()), NamesFormat::Services)],
        Kind::Jaeger => vec![
            (source.request("/api/v3/services".into()), NamesFormat::Services),
            (source.request("/api/services".into()), NamesFormat::Data),
        ],
        Kind::Tempo => vec![
            (source.request("/api/v2/search/tag/resource.service.name/values".into()), NamesFormat::TagValues),
            (source.request("/api/search/tag/service.name/values".into()), NamesFormat::TagValues),
        ],
        Kind::Zipkin => vec![(source.request("/api/v2/services".into()), NamesFormat::Array)],
        Kind::Loki => vec![(source.request("/loki/api/v1/label/service_name/values".into()), NamesFormat::Data)],
    }
}

/// The requests that list a service's operations.
pub fn operations_requests(source: &Source, service: &str) -> Vec<(Request, NamesFormat)> {
    let s = encode(service);
    match source.kind {
        Kind::Collector => vec![(source.request(format!("/api/v3/operations?service={s}")), NamesFormat::Operations)],
        Kind::Jaeger => vec![
            (source.request(format!("/api/v3/operations?service={s}")), NamesFormat::Operations),
            (source.request(format!("/api/services/{s}/operations")), NamesFormat::Data),
        ],
        Kind::Tempo => {
            let q = encode(&format!("{{ resource.service.name = {} }}", traceql_string(service)));
            vec![(source.request(format!("/api/v2/search/tag/name/values?q={q}")), NamesFormat::TagValues)]
        }
        Kind::Zipkin => vec![(source.request(format!("/api/v2/spans?serviceName={s}")), NamesFormat::Array)],
        Kind::Loki => Vec::new(),
    }
}

/// The requests that list attribute keys (tag names), in the order to try them: Tempo's by
/// scope (2.x), then its older flat list. The other sources have no such list.
pub fn tag_names_requests(source: &Source) -> Vec<(Request, NamesFormat)> {
    match source.kind {
        Kind::Tempo => vec![
            (source.request("/api/v2/search/tags".into()), NamesFormat::TagScopes),
            (source.request("/api/search/tags".into()), NamesFormat::TagNames),
        ],
        Kind::Collector | Kind::Jaeger | Kind::Zipkin | Kind::Loki => Vec::new(),
    }
}

/// Where a list of names is in an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamesFormat {
    /// `{"services": […]}`
    Services,
    /// `{"operations": [{"name": …}]}`
    Operations,
    /// `{"data": […]}`
    Data,
    /// `{"tagValues": […]}` (strings, or `{"value": …}` objects in v2)
    TagValues,
    /// `[…]`
    Array,
    /// `{"tagNames": […]}`
    TagNames,
    /// `{"scopes": [{"name": "span", "tags": […]}, …]}`: every scope's tags but TraceQL's
    /// intrinsics (`duration`, `name`, …), which are not attributes.
    TagScopes,
}

/// Whether an answer says the API is missing (so the next request should be tried): a 404
/// or 405 that is not a JSON error of the API itself, or a success whose body is an HTML page
/// (a Jaeger query older than API v3 over HTTP answers every unknown path with its UI's
/// `index.html` and 200).
pub fn api_missing(status: u16, body: &str) -> bool {
    (matches!(status, 404 | 405 | 501) && serde_json::from_str::<Value>(body).map_or(true, |v| !v.is_object()))
        || ((200..300).contains(&status) && is_html(body))
}

/// Whether a body is an HTML page rather than an API's answer (JSON never starts with `<`).
pub fn is_html(body: &str) -> bool {
    let body = body.trim_start();
    body.starts_with('<') || body.starts_with("\u{feff}<")
}

fn json(body: &str, what: &str) -> Result<Value, String> {
    serde_json::from_str(body).map_err(|e| format!("{what}: the answer is not JSON ({e})"))
}

/// A refusal as the page names it: the source's own message, or an HTML page's title.
pub(crate) fn error_message(status: u16, body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let message = v["error"]["message"]
        .as_str()
        .or_else(|| v["error"].as_str())
        .or_else(|| v["message"].as_str())
        .or_else(|| v["errors"][0]["msg"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| match html_title(body) {
            // A proxy's or a server's error page: its title, not its markup.
            Some(title) => format!("an HTML page titled “{title}”"),
            None if is_html(body) => "an HTML page".to_owned(),
            None => body.chars().take(200).collect(),
        });
    format!("the source answered {status}: {message}")
}

/// The title of an HTML page (its `<title>`, blanks folded), if it is one and has one.
fn html_title(body: &str) -> Option<String> {
    if !is_html(body) {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let mut title = String::new();
    for word in body[start..end].split_whitespace().take(20) {
        if !title.is_empty() {
            title.push(' ');
        }
        title.push_str(word);
    }
    (!title.is_empty()).then_some(title)
}

/// Reads a list of names.
pub fn parse_names(format: NamesFormat, status: u16, body: &str) -> Result<Outcome<Vec<String>>, String> {
    if api_missing(status, body) {
        return Ok(Outcome::TryNext);
    }
    if !(200..300).contains(&status) {
        return Err(error_message(status, body));
    }
    let v = json(body, "names")?;
    let list = match format {
        NamesFormat::Services => &v["services"],
        NamesFormat::Operations => &v["operations"],
        NamesFormat::Data => &v["data"],
        NamesFormat::TagValues => &v["tagValues"],
        NamesFormat::Array => &v,
        NamesFormat::TagNames => &v["tagNames"],
        NamesFormat::TagScopes => &Value::Null,
    };
    let names_in = |list: &Value| -> Vec<String> {
        list.as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.as_str().or_else(|| i["name"].as_str()).or_else(|| i["value"].as_str()))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut names = if format == NamesFormat::TagScopes {
        let scopes = v["scopes"].as_array().map(Vec::as_slice).unwrap_or_default();
        scopes.iter().filter(|s| s["name"] != "intrinsic").flat_map(|s| names_in(&s["tags"])).collect()
    } else {
        names_in(list)
    };
    names.sort_unstable();
    names.dedup();
    Ok(Outcome::Done(names))
}

/// Summaries of every trace in `data`, newest first.
pub fn summarize(data: &TracesData) -> Vec<TraceSummary> {
    #[derive(Default)]
    struct Acc {
        start: u64,
        end: u64,
        root: Option<(u64, String, String)>,
        earliest: Option<(u64, String, String)>,
        spans: u64,
        errors: u64,
        /// Sorted at the end (no B-tree set of strings in the wasm for it), with the errors of each.
        services: Vec<(String, u64)>,
    }
    let mut by_trace: BTreeMap<[u8; 16], Acc> = BTreeMap::new();
    // Inserted one by one: `collect` would sort the ids first, with a copy of the stable sort.
    let mut ids = BTreeSet::new();
    for (_, _, s) in data.spans() {
        ids.insert((s.trace_id.0, s.span_id.0));
    }
    for (resource, _, span) in data.spans() {
        let acc = by_trace.entry(span.trace_id.0).or_insert_with(|| Acc { start: u64::MAX, ..Acc::default() });
        let service = resource.service_name().to_owned();
        acc.start = acc.start.min(span.start_time_unix_nano);
        acc.end = acc.end.max(span.end_time_unix_nano.max(span.start_time_unix_nano));
        acc.spans += 1;
        let error = u64::from(span.is_error());
        acc.errors += error;
        match acc.services.iter_mut().find(|(name, _)| *name == service) {
            Some((_, errors)) => *errors += error,
            None => acc.services.push((service.clone(), error)),
        }
        let candidate = (span.start_time_unix_nano, service, span.name.clone());
        let is_root = span.parent_span_id.is_none_or(|p| !ids.contains(&(span.trace_id.0, p.0)));
        let slot = if is_root { &mut acc.root } else { &mut acc.earliest };
        if slot.as_ref().is_none_or(|(t, _, _)| candidate.0 < *t) {
            *slot = Some(candidate);
        }
    }
    let mut out: Vec<TraceSummary> = by_trace
        .into_iter()
        .map(|(id, acc)| {
            let (_, root_service, root_name) = acc.root.or(acc.earliest).unwrap_or_default();
            let root_service_errors = acc.services.iter().find(|(name, _)| *name == root_service).map_or(0, |s| s.1);
            TraceSummary {
                trace_id: id.iter().map(|b| format!("{b:02x}")).collect(),
                root_service,
                root_name,
                start: acc.start,
                duration: acc.end.saturating_sub(acc.start),
                span_count: acc.spans,
                error_count: acc.errors,
                root_service_errors,
                services: {
                    let mut services: Vec<String> = acc.services.into_iter().map(|(name, _)| name).collect();
                    services.sort_unstable();
                    services
                },
                whole_ms: false,
            }
        })
        .collect();
    SortBy::Newest.sort(&mut out);
    out
}

fn num(v: &Value) -> u64 {
    v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).unwrap_or(0)
}

/// What a search answer held, and what of it could not be read and was left out (for the page
/// to say): one bad trace in a source's answer costs that trace, not the search.
pub type Found<T> = (T, Option<String>);

/// Reads a search answer; with `check` (the search, for a Jaeger source), the traces of an API
/// v3 answer that do not match its attribute filters are left out (see [`keep_matching_traces`]).
pub fn parse_search(
    format: Format,
    status: u16,
    body: &str,
    check: Option<&SearchQuery>,
) -> Result<Outcome<Found<Vec<TraceSummary>>>, String> {
    if api_missing(status, body) {
        return Ok(Outcome::TryNext);
    }
    // Jaeger's API v3 (and the collector) answer an empty search with a 404 of their own.
    if status == 404 && format == Format::JaegerV3 {
        return Ok(Outcome::Done((Vec::new(), None)));
    }
    if !(200..300).contains(&status) {
        return Err(error_message(status, body));
    }
    let v = json(body, "search")?;
    let found = match format {
        Format::TempoSearch => (tempo_summaries(&v), None),
        Format::JaegerV3 | Format::JaegerLegacy | Format::Zipkin => {
            let (data, skipped) = search_traces(format, &v, body, check)?;
            (summarize(&data), skipped)
        }
        Format::TempoV2Trace | Format::TempoV1Trace => return Err("not a search answer".into()),
    };
    Ok(Outcome::Done(found))
}

/// The summaries of Tempo's search answer (`{"traces": [...]}`).
fn tempo_summaries(v: &Value) -> Vec<TraceSummary> {
    let Some(list) = v["traces"].as_array() else { return Vec::new() };
    list.iter()
        .map(|t| {
            let stats = t["serviceStats"].as_object();
            let sum = |field: &str| stats.map_or(0, |s| s.values().map(|x| num(&x[field])).sum());
            let matched: u64 = t["spanSets"]
                .as_array()
                .map(|sets| sets.iter().map(|s| num(&s["matched"])).sum())
                .unwrap_or_else(|| num(&t["spanSet"]["matched"]));
            let mut services: Vec<String> = stats.map(|s| s.keys().cloned().collect()).unwrap_or_default();
            services.sort_unstable();
            TraceSummary {
                trace_id: format!("{:0>32}", t["traceID"].as_str().unwrap_or_default().to_ascii_lowercase()),
                root_service: t["rootServiceName"].as_str().unwrap_or("<root span not yet received>").to_owned(),
                root_name: t["rootTraceName"].as_str().unwrap_or_default().to_owned(),
                start: num(&t["startTimeUnixNano"]),
                duration: num(&t["durationMs"]) * 1_000_000,
                span_count: if stats.is_some() { sum("spanCount") } else { matched },
                error_count: sum("errorCount"),
                root_service_errors: t["rootServiceName"]
                    .as_str()
                    .and_then(|root| stats?.get(root))
                    .map_or(0, |x| num(&x["errorCount"])),
                services,
                whole_ms: true,
            }
        })
        .collect()
}

/// The spans of a search answer that holds whole traces, leaving out a trace (Jaeger's legacy
/// API, Zipkin) or a span (OTLP, Jaeger's API v3) that cannot be read, and saying so; only an
/// answer of which nothing reads is an error.
fn search_traces(
    format: Format,
    v: &Value,
    body: &str,
    check: Option<&SearchQuery>,
) -> Result<Found<TracesData>, String> {
    fn said<E: core::fmt::Display>(s: read::Skipped<E>) -> Option<String> {
        Some(format!("The source's search answer: {s}."))
    }
    match format {
        Format::JaegerV3 => {
            // Read whole first: an answer that is no OTLP document stays an error, and spans with
            // all-zero ids are shown. Only when a span does not read are the others kept, and it
            // is said which was not.
            let (mut data, skipped) = match read::traces(v, Ids::Tolerant) {
                Ok(data) => (data, None),
                Err(whole) => {
                    let partial =
                        read::traces_partial(v, Ids::Tolerant).map_err(|e| format!("not OTLP traces: {e}"))?;
                    let kept = partial.data.spans().count();
                    let Some(first) = partial.rejected.first().filter(|_| kept > 0) else {
                        return Err(format!("not OTLP traces: {whole}"));
                    };
                    let count = partial.rejected.len();
                    let skipped =
                        read::Skipped { count, of: kept + count, unit: "spans", first: first.to_string(), also: None };
                    (partial.data, said(skipped))
                }
            };
            read::unique_span_ids(&mut data);
            if let Some(q) = check {
                keep_matching_traces(&mut data, q);
            }
            Ok((data, skipped))
        }
        Format::JaegerLegacy => {
            let (data, skipped) = read::any_traces_file(body).map_err(|e| format!("not Jaeger traces: {e}"))?;
            Ok((data, skipped.and_then(said)))
        }
        Format::Zipkin => {
            // An array of traces, each an array of spans, each read on its own (the fast path).
            let traces = v.as_array().ok_or("Zipkin answered something other than a list of traces")?;
            let (data, skipped) = read::each_trace(traces, |i, trace| {
                read::any_traces(&trace.to_string())
                    .map_err(|e| ReadError { path: format!("trace {}", i + 1), message: e.to_string() })
            })
            .map_err(|e| format!("not a Zipkin trace: {e}"))?;
            Ok((data, skipped.and_then(said)))
        }
        _ => Err("this source's search answer holds summaries, not spans".into()),
    }
}

/// The spans of what a search found, where the source answers with whole traces (Jaeger,
/// Zipkin, the collector); Tempo's search gives summaries only (see [`root_facts`]). `check` as
/// for [`parse_search`].
pub fn parse_search_spans(
    format: Format,
    status: u16,
    body: &str,
    check: Option<&SearchQuery>,
) -> Result<Outcome<Found<TracesData>>, String> {
    if api_missing(status, body) {
        return Ok(Outcome::TryNext);
    }
    if status == 404 && format == Format::JaegerV3 {
        return Ok(Outcome::Done((TracesData::default(), None)));
    }
    if !(200..300).contains(&status) {
        return Err(error_message(status, body));
    }
    Ok(Outcome::Done(search_traces(format, &json(body, "search")?, body, check)?))
}

/// Keeps the traces of `data` that match every attribute filter of `q` on one span, as Jaeger's
/// storage matches tags (the collector's `attribute_filter.rs` does the same): the span's, its
/// scope's, its resource's, an event's or a link's attribute (the first with the key decides;
/// a value matches when it reads the same as text: `500` an integer 500 or the string "500"), or
/// a tag Jaeger derives from the span's fields (`error`, `span.kind`, `otel.status_code`,
/// `otel.scope.name`, `event` for an event's name, …). An array, map or bytes value, which Jaeger
/// writes as JSON or base64, is taken as matching: the check drops only traces that surely do
/// not match. Some versions of Jaeger's API v3 over HTTP ignore `query.attributes` and answer as
/// if no filter were set: their traces are whole, so the viewer checks them itself. Returns how
/// many traces were dropped.
pub fn keep_matching_traces(data: &mut TracesData, q: &SearchQuery) -> usize {
    use edgescope_otlp::{AnyValue, KeyValue, SpanKind};
    if q.attributes.is_empty() {
        return 0;
    }
    let has = |attributes: &[KeyValue], k: &str, v: &str| {
        attributes.iter().find(|a| a.key == k).is_some_and(|a| match &a.value {
            None => v.is_empty(),
            Some(AnyValue::Array(_) | AnyValue::KvList(_) | AnyValue::Bytes(_)) => true,
            Some(x) => crate::model::value_text(x) == v,
        })
    };
    // Sets of (trace id, span id) pairs as `summarize` keeps, with no span id: one B-tree type
    // in the wasm, not two.
    let mut matching = BTreeSet::new();
    let mut all = BTreeSet::new();
    for (resource, scope, span) in data.spans() {
        all.insert((span.trace_id.0, [0u8; 8]));
        let code = match span.status.code {
            StatusCode::Unset => "",
            StatusCode::Error => "ERROR",
            StatusCode::Ok => "OK",
        };
        let count = |n: u32| if n > 0 { n.to_string() } else { String::new() };
        // The tags Jaeger's model gives a span from its fields; an empty one is not there.
        let derived = |k: &str| -> Option<String> {
            Some(match k {
                "span.kind" if span.kind != SpanKind::Unspecified => span.kind.name().to_owned(),
                "otel.status_code" => code.to_owned(),
                "otel.status_description" if !code.is_empty() => span.status.message.clone(),
                "otel.scope.name" => scope.name.clone(),
                "otel.scope.version" => scope.version.clone(),
                "w3c.tracestate" => span.trace_state.clone(),
                "otel.dropped_attributes_count" => count(span.dropped_attributes_count),
                "otel.dropped_events_count" => count(span.dropped_events_count),
                "otel.dropped_links_count" => count(span.dropped_links_count),
                _ => return None,
            })
        };
        let one = |(k, v): &(String, String)| match k.as_str() {
            // Jaeger reads the value as Go's strconv.ParseBool does.
            "error" => match v.as_str() {
                "1" | "t" | "T" | "true" | "TRUE" | "True" => span.status.code == StatusCode::Error,
                "0" | "f" | "F" | "false" | "FALSE" | "False" => span.status.code == StatusCode::Ok,
                _ => false,
            },
            "event" if span.events.iter().any(|e| e.name == *v) => true,
            _ => {
                derived(k).is_some_and(|text| !text.is_empty() && text == *v)
                    || [&span.attributes, &scope.attributes, &resource.attributes]
                        .into_iter()
                        .chain(span.events.iter().map(|e| &e.attributes))
                        .chain(span.links.iter().map(|l| &l.attributes))
                        .any(|list| has(list, k, v))
            }
        };
        if q.attributes.iter().all(one) {
            matching.insert((span.trace_id.0, [0u8; 8]));
        }
    }
    for resource_spans in &mut data.resource_spans {
        for scope_spans in &mut resource_spans.scope_spans {
            scope_spans.spans.retain(|s| matching.contains(&(s.trace_id.0, [0u8; 8])));
        }
        resource_spans.scope_spans.retain(|s| !s.spans.is_empty());
    }
    data.resource_spans.retain(|r| !r.scope_spans.is_empty());
    all.len() - matching.len()
}

/// Facts for golden signals from search summaries, which is all Tempo's search gives: one
/// root span per trace (its service and name, the trace's duration, an error when a span of
/// the root service has one; an error elsewhere in the trace is another service's). Traces
/// without a root span yet are left out.
pub fn root_facts(summaries: &[TraceSummary]) -> Vec<SpanFacts> {
    summaries
        .iter()
        .filter(|t| !t.root_name.is_empty() && !t.root_service.starts_with('<'))
        .filter_map(|t| {
            Some(SpanFacts {
                trace_id: TraceId::from_hex(&t.trace_id)?.0,
                span_id: [0; 8],
                parent_span_id: None,
                service: t.root_service.clone(),
                name: t.root_name.clone(),
                kind: 2,
                start_ns: t.start as i64,
                duration_ns: t.duration as i64,
                error: t.root_service_errors > 0,
            })
        })
        .collect()
}

/// A trace as read, and what the source said about its completeness.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedTrace {
    /// The spans.
    pub data: TracesData,
    /// Set when the source says the trace may be incomplete (Tempo's `PARTIAL`).
    pub warning: Option<String>,
}

/// Reads a trace answer.
pub fn parse_trace(format: Format, status: u16, body: &str) -> Result<Outcome<FetchedTrace>, String> {
    // Tempo answers a trace it does not have with a 404 and no body; Zipkin with a 404 and
    // "<id> not found" as text. A missing API answers otherwise (a router's "404 page not
    // found", HTML).
    let no_trace = match format {
        Format::TempoV2Trace | Format::TempoV1Trace => body.trim().is_empty(),
        Format::Zipkin => {
            let text = body.trim();
            text.ends_with(" not found") && !text.contains("page") && !text.starts_with('<')
        }
        _ => false,
    };
    if status == 404 && no_trace {
        return Err("the source has no trace with this id".into());
    }
    if api_missing(status, body) {
        return Ok(Outcome::TryNext);
    }
    if status == 404 {
        return Err("the source has no trace with this id".into());
    }
    if !(200..300).contains(&status) {
        return Err(error_message(status, body));
    }
    let done = |data: TracesData, warning| Ok(Outcome::Done(FetchedTrace { data, warning }));
    match format {
        Format::TempoV2Trace => {
            let v = json(body, "trace")?;
            let warning = (v["status"].as_str() == Some("PARTIAL")).then(|| {
                let why = v["message"].as_str().unwrap_or("a limit was reached");
                format!("Tempo returned a partial trace: {why}")
            });
            let inner = if v.get("trace").is_some() { &v["trace"] } else { &v };
            if inner.get("resourceSpans").is_none() && inner.get("batches").is_none() {
                return Err("Tempo's answer holds no spans".into());
            }
            let mut data = read::traces(inner, Ids::Tolerant).map_err(|e| format!("not OTLP traces: {e}"))?;
            // As a file of the same trace would be: a span repeating another's id gets its own.
            read::unique_span_ids(&mut data);
            done(data, warning)
        }
        _ => done(read::any_traces(body).map_err(|e| format!("not a trace: {e}"))?, None),
    }
}

/// The most log records a trace's page shows; it asks for one more, to know when there are more.
pub const TRACE_LOGS_SHOWN: usize = 1000;

/// The request for a trace's log records: the newest [`TRACE_LOGS_SHOWN`] and one more, from
/// either source.
pub fn trace_logs_request(source: &Source, trace_id: &str, start: u64, end: u64) -> Option<Request> {
    let trace_id = &canonical_trace_id(trace_id);
    let limit = (TRACE_LOGS_SHOWN + 1).to_string();
    match source.kind {
        Kind::Collector => Some(source.request(format!("/api/logs?limit={limit}&trace_id={}", encode(trace_id)))),
        Kind::Loki => {
            // A 64-bit id matches its records in either form (see `trace_matcher`).
            let matcher = crate::logs::store::parse_trace_id(trace_id)
                .map_or_else(|| format!("=\"{trace_id}\""), crate::logs::loki::trace_matcher);
            // A trace's records may come a little before its first span or after its last.
            let pairs = [
                ("query", format!("{{service_name=~\".+\"}} | trace_id{matcher}")),
                ("start", start.saturating_sub(3_600_000_000_000).to_string()),
                ("end", (end + 3_600_000_000_000).to_string()),
                ("limit", limit),
                ("direction", "backward".to_owned()),
            ];
            let mut r = source.request(format!("/loki/api/v1/query_range?{}", query_string(&pairs)));
            r.headers.push(("X-Loki-Response-Encoding-Flags".into(), "categorize-labels".into()));
            Some(r)
        }
        _ => None,
    }
}

/// What a request that got no answer says: `why` (the browser's reason), then for a URL on
/// this page's origin (a path: the collector or its gateway) that the server is not answering,
/// and only for another origin, where the browser hides a refusal for want of CORS behind the
/// same failure, the CORS hint.
pub fn unreachable(why: &str, url: &str) -> String {
    if url.starts_with('/') {
        format!("{why} — the collector serving this page did not answer: is it running?")
    } else {
        format!(
            "{why} — the source could not be reached: it is down, or it is on another origin and does not \
             allow CORS (then configure it as an --upstream of the collector and use it through /upstream/NAME)"
        )
    }
}

/// How long a source asked directly (not through the collector) has to answer.
pub const DIRECT_TIMEOUT_SECONDS: u32 = 30;

/// The largest answer the viewer reads: a browser holds no longer string, and the spans of a
/// larger one would not fit in the viewer's memory.
pub const MAX_ANSWER_BYTES: f64 = 256.0 * 1024.0 * 1024.0;

/// The source part of a URL: its origin (`http://host:port`), or `upstream NAME` of the gateway.
fn source_of(url: &str) -> String {
    let name_end = |rest: &str| rest.find(['/', '?']).unwrap_or(rest.len());
    if let Some(rest) = url.strip_prefix("/upstream/") {
        return format!("upstream `{}`", &rest[..name_end(rest)]);
    }
    match url.find("://") {
        Some(i) => url[..i + 3 + name_end(&url[i + 3..])].to_owned(),
        None => "the collector".to_owned(),
    }
}

/// What a request to a source asked directly that did not answer in time says.
pub fn timed_out(url: &str) -> String {
    format!(
        "{url}: {} did not answer within {DIRECT_TIMEOUT_SECONDS} s: is it up, and is the URL in the settings right?",
        source_of(url)
    )
}

/// What an answer of `bytes` says when it is larger than the viewer reads.
pub fn too_large(url: &str, bytes: f64) -> Option<String> {
    (bytes > MAX_ANSWER_BYTES).then(|| {
        format!(
            "{url}: the answer is too large to show ({} MB; the viewer reads up to {} MB): ask for a shorter \
             time range or fewer traces",
            // Whole megabytes as integers: no float formatting code in the wasm for them.
            (bytes / 1e6).round() as u64,
            (MAX_ANSWER_BYTES / 1e6).round() as u64
        )
    })
}

/// What an answer whose body stopped before its end says: for the gateway, that it gives up on an
/// upstream sending nothing for 120 s.
pub fn cut_off(url: &str, why: &str) -> String {
    let source = source_of(url);
    if source.starts_with("upstream") {
        format!(
            "{why} — the answer of {source} stopped before its end: the collector's gateway gives up on an upstream \
             that sends nothing for 120 s"
        )
    } else {
        format!("{why} — the answer of {source} stopped before its end")
    }
}

/// Refuses a minimum duration above the maximum, in words (rather than the source's refusal of
/// the request, which would name its URL).
pub fn check_duration_bounds(min: Option<u64>, max: Option<u64>) -> Result<(), String> {
    match (min, max) {
        (Some(min), Some(max)) if min > max => Err(format!(
            "the minimum duration ({}) is above the maximum ({}): swap them or clear one",
            crate::model::format_duration(min),
            crate::model::format_duration(max)
        )),
        _ => Ok(()),
    }
}

/// A trace id as log records carry it: 32 lowercase hex digits, a shorter (Zipkin-style 16-hex)
/// id left-padded with zeros; anything else unchanged, for the source to refuse.
pub fn canonical_trace_id(id: &str) -> String {
    let id = id.trim().to_ascii_lowercase();
    if !id.is_empty() && id.len() < 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        format!("{id:0>32}")
    } else {
        id
    }
}

/// Reads a logs answer from the collector (OTLP/JSON) or Loki (streams) into OTLP log records.
/// Loki's answer is read as strictly as the log page reads it (`logs::loki::parse_range`): an
/// entry of another shape is an error naming it, never a record at 1970 or an empty line.
pub fn parse_logs(kind: Kind, status: u16, body: &str) -> Result<LogsData, String> {
    if !(200..300).contains(&status) {
        return Err(error_message(status, body));
    }
    if kind == Kind::Loki {
        return crate::logs::loki::parse_range(status, body).map(|records| loki_logs(&records));
    }
    let v = json(body, "logs")?;
    read::logs(&v, Ids::Tolerant).map_err(|e| format!("not OTLP logs: {e}"))
}

/// Loki's records as OTLP log records: the line is the body, the level the severity number,
/// `service_name` the resource's service and the other stream labels its attributes, structured
/// metadata the record's attributes.
fn loki_logs(records: &[crate::logs::store::Record]) -> LogsData {
    use crate::logs::store::Level;
    use edgescope_otlp::{AnyValue, KeyValue, LogRecord, Resource, ResourceLogs, ScopeLogs, SpanId, TraceId};
    let pairs = |pairs: &[(String, String)]| -> Vec<KeyValue> {
        pairs.iter().filter(|(k, _)| k != "service_name").map(|(k, v)| KeyValue::new(k.clone(), v.clone())).collect()
    };
    let resource_logs = records
        .iter()
        .map(|r| {
            let mut attributes = vec![KeyValue::new("service.name", r.service.clone())];
            attributes.extend(pairs(&r.resource));
            let record = LogRecord {
                time_unix_nano: r.time,
                severity_number: match r.level {
                    Level::Unknown => 0,
                    Level::Trace => 1,
                    Level::Debug => 5,
                    Level::Info => 9,
                    Level::Warn => 13,
                    Level::Error => 17,
                    Level::Fatal => 21,
                },
                severity_text: r.severity_text.clone(),
                body: Some(AnyValue::String(r.message.clone())),
                attributes: pairs(&r.attributes),
                trace_id: (r.trace_id != 0).then(|| TraceId(r.trace_id.to_be_bytes())),
                span_id: (r.span_id != 0).then(|| SpanId(r.span_id.to_be_bytes())),
                ..Default::default()
            };
            ResourceLogs {
                resource: Resource { attributes, ..Default::default() },
                scope_logs: vec![ScopeLogs { log_records: vec![record], ..Default::default() }],
                ..Default::default()
            }
        })
        .collect();
    LogsData { resource_logs }
}

/// Reads a duration typed by a person: `250ms`, `1.5s`, `2m`, `1h30m`, `100us`, `500ns` (a bare
/// number is milliseconds). Nanoseconds.
pub fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    // At most what a Go duration holds (i64 nanoseconds, 292 years): `inf`, `1e400` or more
    // would be sent as some other length.
    let nanos = |n: f64| (0.0..=i64::MAX as f64).contains(&n).then_some(n as u64);
    if let Ok(ms) = text.parse::<f64>() {
        return nanos(ms * 1e6);
    }
    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let split = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let number: f64 = rest[..split].parse().ok()?;
        rest = &rest[split..];
        let unit_end = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += number * scale;
        rest = &rest[unit_end..];
    }
    nanos(total)
}

/// Reads a search window written in a link (`lookback=2h`, as Jaeger UI writes it): a duration
/// with its unit (`90m`, `2h`, `1h30m`), or whole days (`3d`). Nanoseconds; `None` for anything
/// else (a bare number says no unit).
pub fn parse_lookback(text: &str) -> Option<u64> {
    let text = text.trim();
    if let Some(days) = text.strip_suffix('d') {
        return days.parse::<u64>().ok().filter(|&d| d > 0).map(|d| d.saturating_mul(86_400_000_000_000));
    }
    if !text.ends_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    parse_duration(text).filter(|&n| n > 0)
}

/// The start of a lookback window ending now: `all`, or a length as the search page reads it
/// (`15m`, `2h`, `3d`; a link's value the select does not offer too); the last hour otherwise.
pub fn lookback_start(lookback: &str, now: u64) -> u64 {
    if lookback == "all" {
        return 1;
    }
    now.saturating_sub(parse_lookback(lookback).unwrap_or(3_600 * 1_000_000_000))
}

/// A custom range's start and end in Unix nanoseconds, from the URL's microseconds (`to` empty:
/// now), or what is wrong with them.
pub fn custom_range(from: &str, to: &str, now: u64) -> Result<(u64, u64), String> {
    let micros = |label: &str, text: &str| {
        text.trim()
            .parse::<u64>()
            .ok()
            .and_then(|us| us.checked_mul(1_000))
            .ok_or_else(|| format!("{label} `{text}`: choose a time in the {label} field"))
    };
    if from.trim().is_empty() {
        return Err("From: choose the start of the time range".into());
    }
    let start = micros("From", from)?;
    let end = if to.trim().is_empty() { now } else { micros("To", to)? };
    if start >= end {
        return Err(format!(
            "From ({}) must be before To ({})",
            crate::model::format_time(start),
            crate::model::format_time(end)
        ));
    }
    Ok((start, end))
}

/// Reads attribute filters typed as `key=value` pairs separated by spaces or new lines; a value
/// may be quoted to hold spaces (`http.route="/a b"`).
pub fn parse_attributes(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(out);
        }
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=' && !c.is_whitespace())).collect();
        if chars.next() != Some('=') || key.is_empty() {
            return Err(format!("`{key}`: write attribute filters as key=value"));
        }
        let value: String = if chars.peek() == Some(&'"') {
            chars.next();
            let v: String = std::iter::from_fn(|| chars.next_if(|c| *c != '"')).collect();
            if chars.next() != Some('"') {
                return Err(format!("`{key}`: the quoted value has no closing quote"));
            }
            v
        } else {
            std::iter::from_fn(|| chars.next_if(|c| !c.is_whitespace())).collect()
        };
        out.push((key, value));
    }
}

/// Where a search result sits in the scatter plot: `x` in `[0, 1]` across the time window,
/// `y` in `[0, 1]` from the shortest (bottom) to the longest duration, on a log scale so that
/// a few slow traces do not flatten the rest.
pub fn scatter_points(results: &[TraceSummary], start: u64, end: u64) -> Vec<Option<(f64, f64)>> {
    let span = end.saturating_sub(start).max(1) as f64;
    let log = |d: u64| ((d.max(1)) as f64).ln();
    let (lo, hi) =
        results.iter().fold((f64::MAX, f64::MIN), |(lo, hi), r| (lo.min(log(r.duration)), hi.max(log(r.duration))));
    results
        .iter()
        .map(|r| {
            // A trace that started outside the window has no place on its time axis: it is not
            // drawn (rather than at the edge, as if it were in the window).
            if r.start < start || r.start > end {
                return None;
            }
            let x = (r.start - start) as f64 / span;
            let y = if hi > lo { (log(r.duration) - lo) / (hi - lo) } else { 0.5 };
            Some((x, y))
        })
        .collect()
}

/// How search results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    /// Newest first.
    Newest,
    /// Oldest first.
    Oldest,
    /// Longest first.
    Longest,
    /// Shortest first.
    Shortest,
    /// Most spans first.
    MostSpans,
    /// Most errors first.
    MostErrors,
}

impl SortBy {
    /// Every order with its id and label.
    pub const ALL: [(SortBy, &'static str, &'static str); 6] = [
        (SortBy::Newest, "newest", "Most recent"),
        (SortBy::Oldest, "oldest", "Oldest"),
        (SortBy::Longest, "longest", "Longest first"),
        (SortBy::Shortest, "shortest", "Shortest first"),
        (SortBy::MostSpans, "spans", "Most spans"),
        (SortBy::MostErrors, "errors", "Most errors"),
    ];

    /// The order named `id`, newest when unknown.
    pub fn from_id(id: &str) -> SortBy {
        SortBy::ALL.iter().find(|(_, i, _)| *i == id).map_or(SortBy::Newest, |(s, _, _)| *s)
    }

    /// Sorts in place (stable), through [`crate::model::sort_by_u64`] (no sort of its own in the
    /// viewer's wasm). Most errors first, then newest: newest first, then stably by errors.
    pub fn sort(self, results: &mut Vec<TraceSummary>) {
        if self == SortBy::MostErrors {
            SortBy::Newest.sort(results);
        }
        sort_by_u64(results, |r| match self {
            SortBy::Newest => u64::MAX - r.start,
            SortBy::Oldest => r.start,
            SortBy::Longest => u64::MAX - r.duration,
            SortBy::Shortest => r.duration,
            SortBy::MostSpans => u64::MAX - r.span_count,
            SortBy::MostErrors => u64::MAX - r.error_count,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_custom_range_reads_microseconds_and_names_what_is_wrong() {
        let now = 1_800_000_000_000_000_000;
        assert_eq!(
            custom_range("1700000000000000", "1700000060000000", now),
            Ok((1_700_000_000_000_000_000, 1_700_000_060_000_000_000))
        );
        assert_eq!(custom_range("1700000000000000", "", now), Ok((1_700_000_000_000_000_000, now)), "no end: now");
        assert!(custom_range("", "1700000060000000", now).unwrap_err().starts_with("From: choose"));
        assert!(custom_range("soon", "", now).unwrap_err().contains("`soon`"));
        assert!(custom_range("1700000000000000", "x", now).unwrap_err().starts_with("To `x`"));
        let reversed = custom_range("1700000060000000", "1700000000000000", now).unwrap_err();
        assert_eq!(reversed, "From (2023-11-14 22:14:20.000 UTC) must be before To (2023-11-14 22:13:20.000 UTC)");
        assert!(custom_range("99999999999999999999", "", now).is_err(), "past u64 nanoseconds");
    }

    #[test]
    fn a_links_lookback_is_read_as_the_search_page_reads_it() {
        let now = 10 * 86_400 * 1_000_000_000;
        let hours = |h: u64| now - h * 3_600 * 1_000_000_000;
        assert_eq!(lookback_start("15m", now), now - 15 * 60 * 1_000_000_000);
        assert_eq!(lookback_start("6h", now), hours(6));
        assert_eq!(lookback_start("2h", now), hours(2), "a value the select does not offer");
        assert_eq!(lookback_start("3d", now), hours(72));
        assert_eq!(lookback_start("all", now), 1);
        assert_eq!(lookback_start("soon", now), hours(1), "no range: the last hour");
    }

    fn fixture(name: &str) -> String {
        let path = format!("{}/../../shared/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn query() -> SearchQuery {
        SearchQuery {
            service: "shop".into(),
            operation: "GET /cart".into(),
            attributes: vec![("http.status_code".into(), "500".into()), ("user".into(), "a\"b".into())],
            min_duration: Some(1_500_000),
            max_duration: Some(2_000_000_000),
            start: 1_700_000_000_000_000_000,
            end: 1_700_000_360_000_000_000,
            limit: 20,
        }
    }

    #[test]
    fn sources_round_trip_through_page_urls_and_storage_without_credentials_in_urls() {
        let mut sources = Sources::default();
        // The defaults are named too, so that a browser with other saved sources reads the link alike.
        assert_eq!(sources.to_query(), [("traces", "collector:".into()), ("logs", "collector:".into())]);
        let mut saved_elsewhere =
            Sources { traces: Source::from_key("tempo:/upstream/t").unwrap(), ..Sources::default() };
        saved_elsewhere.apply_query(Some("collector:"), Some("collector:"));
        assert_eq!(saved_elsewhere, Sources::default());
        sources.traces = Source { kind: Kind::Tempo, url: "/upstream/tempo".into(), auth: Some("Bearer x".into()) };
        sources.logs = Source::from_key("loki:https://loki.example.com/").unwrap();
        assert_eq!(
            sources.to_query(),
            [("traces", "tempo:/upstream/tempo".into()), ("logs", "loki:https://loki.example.com".into())]
        );
        assert!(!format!("{:?}", sources.to_query()).contains("Bearer"));
        assert_eq!(Sources::from_storage(&sources.to_storage()), sources);
        // An address naming the collector, then the saved Tempo again: Tempo's credentials come back.
        let mut moved = sources.clone();
        moved.apply_query(Some("collector:"), None);
        moved.apply_query(Some("tempo:/upstream/tempo"), None);
        assert_eq!(moved.traces.auth, None);
        moved.with_saved_credentials(&sources);
        assert_eq!(moved.traces.auth.as_deref(), Some("Bearer x"));
        let mut elsewhere = Sources { traces: Source::from_key("tempo:/upstream/other").unwrap(), ..moved };
        elsewhere.with_saved_credentials(&sources);
        assert_eq!(elsewhere.traces.auth, None, "another backend never gets them");
        let mut other = Sources::default();
        let refused = other.apply_query(Some("tempo:/upstream/tempo"), Some("nonsense:/x"));
        assert_eq!(other.traces.kind, Kind::Tempo);
        assert_eq!(other.logs, Source::collector(), "an unknown kind is ignored");
        assert_eq!(refused, ["logs=nonsense:/x"], "and named, for the page to say so");
        let mut wrong_signal = Sources::default();
        let refused = wrong_signal.apply_query(Some("loki:/upstream/loki"), Some("zipkin:/upstream/zipkin"));
        assert_eq!(wrong_signal, Sources::default(), "Loki has no traces, Zipkin no logs");
        assert_eq!(refused, ["traces=loki:/upstream/loki", "logs=zipkin:/upstream/zipkin"]);
        assert!(Source::from_key("jaeger:javascript:alert(1)").is_none(), "only paths and http(s) URLs");
        // `//host` and `/\host` are not paths: fetch reads both as another host's URL, so a
        // link with `?traces=jaeger://attacker.example` would have sent the searches there.
        for url in ["//attacker.example", "/\\attacker.example/x", " //attacker.example", "///attacker.example"] {
            assert!(Source::from_key(&format!("jaeger:{url}")).is_none(), "{url}");
        }
        let mut linked = Sources::default();
        let refused = linked.apply_query(Some("jaeger://attacker.example"), Some("loki:/\\attacker.example"));
        assert_eq!(linked, Sources::default());
        assert_eq!(refused.len(), 2);
        assert_eq!(Source::from_key("jaeger:/upstream/jaeger//").unwrap().url, "/upstream/jaeger");
        // Schemes are case-insensitive (RFC 3986): written as the rest of the viewer expects them.
        assert_eq!(Source::from_key("loki:HTTPS://Loki.example.com/").unwrap().url, "https://Loki.example.com");
        assert_eq!(Source::from_key("tempo:Http://t:3200").unwrap().url, "http://t:3200");
        assert_eq!(Sources::from_storage("{not json"), Sources::default());
    }

    #[test]
    fn a_minimum_duration_above_the_maximum_is_refused_in_words() {
        let e = check_duration_bounds(Some(2_000_000_000), Some(500_000_000)).unwrap_err();
        assert_eq!(e, "the minimum duration (2.00 s) is above the maximum (500.0 ms): swap them or clear one");
        assert!(check_duration_bounds(Some(1), Some(1)).is_ok() && check_duration_bounds(Some(5), None).is_ok());
    }

    #[test]
    fn only_a_source_on_another_origin_gets_the_cors_hint_when_it_does_not_answer() {
        let own = unreachable("TypeError: Failed to fetch", "/api/logs?limit=1000");
        assert!(own.contains("did not answer") && !own.contains("CORS"), "{own}");
        let other = unreachable("TypeError: Failed to fetch", "http://loki.example:3100/loki/api/v1/query_range");
        assert!(other.contains("CORS") && other.contains("Failed to fetch"), "{other}");
    }

    #[test]
    fn each_backend_is_searched_in_its_own_api_shape() {
        let q = query();
        let jaeger = Source { kind: Kind::Jaeger, url: "/upstream/jaeger".into(), auth: Some("Bearer t".into()) };
        let plan = search_requests(&jaeger, &q).unwrap();
        assert_eq!(plan.len(), 2, "v3, then the legacy API");
        assert!(plan[0].0.url.starts_with("/upstream/jaeger/api/v3/traces?query.service_name=shop&query.operation_name=GET%20%2Fcart&query.attributes=%7B%22http.status_code%22%3A%22500%22%2C%22user%22%3A%22a%5C%22b%22%7D&query.duration_min=1500us&query.duration_max=2000000us&query.start_time_min=2023-11-14T22%3A13%3A20.000000000Z"), "{}", plan[0].0.url);
        assert!(plan[0].0.headers.contains(&("Authorization".into(), "Bearer t".into())));
        assert!(plan[1].0.url.contains("/api/traces?service=shop&operation=GET%20%2Fcart&tags="), "{}", plan[1].0.url);
        assert!(plan[1].0.url.contains("&start=1700000000000000&end=1700000360000000&limit=20"));

        let tempo = Source { kind: Kind::Tempo, url: String::new(), auth: None };
        let (req, format) = &search_requests(&tempo, &q).unwrap()[0];
        assert_eq!(*format, Format::TempoSearch);
        assert_eq!(
            traceql(&q),
            r#"{ resource.service.name = "shop" && name = "GET /cart" && (.http.status_code = 500 || .http.status_code = "500") && .user = "a\"b" && duration >= 1500us && duration <= 2000000us }"#
        );
        assert!(req.url.ends_with("&limit=20&start=1700000000&end=1700000360"), "{}", req.url);
        // Values a number or boolean would be read as match both types; others are strings only.
        let typed =
            |v: &str| traceql(&SearchQuery { attributes: vec![("k".into(), v.into())], ..SearchQuery::default() });
        assert_eq!(typed("-1.5"), r#"{ (.k = -1.5 || .k = "-1.5") }"#);
        assert_eq!(typed("true"), r#"{ (.k = true || .k = "true") }"#);
        for text in ["00042", "1.10.2", "nan", "inf", "1e3", "-", "1."] {
            assert_eq!(typed(text), format!(r#"{{ .k = "{text}" }}"#));
        }
        let numeric_service = SearchQuery { service: "123".into(), ..SearchQuery::default() };
        assert_eq!(traceql(&numeric_service), r#"{ resource.service.name = "123" }"#);
        // Seven days rounded outwards, and "all time", are Tempo's last 168 h.
        let week = SearchQuery {
            start: 1_700_000_000_500_000_000 - 7 * 86_400_000_000_000,
            end: 1_700_000_000_500_000_000,
            ..q.clone()
        };
        let (req, _) = &search_requests(&tempo, &week).unwrap()[0];
        assert!(req.url.ends_with("&start=1699395201&end=1700000001"), "{}", req.url);
        let all = SearchQuery { start: 0, ..week.clone() };
        let (req, _) = &search_requests(&tempo, &all).unwrap()[0];
        assert!(req.url.ends_with("&start=1699395201&end=1700000001"), "{}", req.url);
        // The cut is the range the page names, in the seconds asked; 7 days are 168 h, no cut.
        assert_eq!(searched_range(&tempo, &all), Some((1_699_395_201_000_000_000, 1_700_000_001_000_000_000)));
        let longer = SearchQuery { start: week.start - 1, ..week.clone() };
        assert_eq!(searched_range(&tempo, &longer), Some((1_699_395_201_000_000_000, 1_700_000_001_000_000_000)));
        assert_eq!(searched_range(&tempo, &week), None);
        let day = SearchQuery { start: week.end - 86_400_000_000_000, ..week.clone() };
        assert_eq!(searched_range(&tempo, &day), None, "a day is searched whole");
        let jaeger_all = Source { kind: Kind::Jaeger, url: "http://j".into(), auth: None };
        assert_eq!(searched_range(&jaeger_all, &all), None, "other sources search every range");

        let zipkin = Source { kind: Kind::Zipkin, url: "http://z:9411".into(), auth: None };
        let (req, _) = &search_requests(&zipkin, &q).unwrap()[0];
        assert_eq!(req.url, "http://z:9411/api/v2/traces?serviceName=shop&spanName=GET%20%2Fcart&annotationQuery=http.status_code%3D500%20and%20user%3Da%22b&minDuration=1500&maxDuration=2000000&endTs=1700000360000&lookback=360000&limit=20");
        // A maximum alone goes with the least minimum Zipkin takes (1 µs); under 1 µs is 1 µs.
        let only_max = SearchQuery { min_duration: None, ..q.clone() };
        let (req, _) = &search_requests(&zipkin, &only_max).unwrap()[0];
        assert!(req.url.contains("&minDuration=1&maxDuration=2000000&"), "{}", req.url);
        let tiny = SearchQuery { min_duration: Some(500), max_duration: None, ..q.clone() };
        let (req, _) = &search_requests(&zipkin, &tiny).unwrap()[0];
        assert!(req.url.contains("&minDuration=1&endTs"), "{}", req.url);

        let any = SearchQuery { service: String::new(), ..q };
        // "Any service" on the collector keeps every other filter (the collector searches all
        // services when none is named): no request without the window, attributes and durations.
        let plan = search_requests(&Source::collector(), &any).unwrap();
        assert_eq!(plan.len(), 1);
        assert_eq!(plan[0].1, Format::JaegerV3);
        assert_eq!(plan[0].0.url, "/api/v3/traces?query.operation_name=GET%20%2Fcart&query.attributes=%7B%22http.status_code%22%3A%22500%22%2C%22user%22%3A%22a%5C%22b%22%7D&query.duration_min=1500us&query.duration_max=2000000us&query.start_time_min=2023-11-14T22%3A13%3A20.000000000Z&query.start_time_max=2023-11-14T22%3A19%3A20.000000000Z&query.search_depth=20&query.num_traces=20");
        assert!(search_requests(&jaeger, &any).unwrap_err().contains("need a service"));
        assert!(search_requests(&Source { kind: Kind::Loki, url: String::new(), auth: None }, &any).is_err());
    }

    /// A Jaeger API v3 search answer with one trace per `(trace id, http.status_code, error)`.
    fn v3_answer(traces: &[(&str, i64, bool)]) -> String {
        let spans: Vec<String> = traces
            .iter()
            .map(|(id, status, error)| {
                format!(
                    r#"{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"shop"}}}}]}},
                    "scopeSpans":[{{"spans":[{{"traceId":"{id}","spanId":"{}","name":"GET /cart","kind":2,
                    "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000005000000",
                    "attributes":[{{"key":"http.status_code","value":{{"intValue":"{status}"}}}}],
                    "status":{{"code":{}}}}}]}}]}}"#,
                    &id[16..],
                    if *error { 2 } else { 0 }
                )
            })
            .collect();
        format!(r#"{{"result":{{"resourceSpans":[{}]}}}}"#, spans.join(","))
    }

    #[test]
    fn a_jaeger_v3_answer_that_ignored_the_attribute_filters_is_checked_against_them() {
        let (a, b) = ("11111111111111111111111111111111", "22222222222222222222222222222222");
        let body = v3_answer(&[(a, 500, true), (b, 200, false)]);
        let ids = |q: &SearchQuery| {
            let Outcome::Done((list, None)) = parse_search(Format::JaegerV3, 200, &body, Some(q)).unwrap() else {
                panic!()
            };
            list.into_iter().map(|t| t.trace_id).collect::<Vec<_>>()
        };
        let with = |pairs: &[(&str, &str)]| SearchQuery {
            attributes: pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            ..SearchQuery::default()
        };
        assert_eq!(ids(&with(&[("http.status_code", "500")])), [a], "an integer attribute read as text");
        assert_eq!(ids(&with(&[("service.name", "shop"), ("http.status_code", "200")])), [b], "resource attributes");
        assert_eq!(ids(&with(&[("error", "true")])), [a], "Jaeger's error tag is the status");
        assert_eq!(ids(&with(&[("span.kind", "server")])).len(), 2, "and span.kind the kind");
        assert!(ids(&with(&[("http.status_code", "404")])).is_empty());
        assert_eq!(ids(&SearchQuery::default()).len(), 2, "no filter, nothing dropped");
        let Outcome::Done((data, None)) =
            parse_search_spans(Format::JaegerV3, 200, &body, Some(&with(&[("http.status_code", "500")]))).unwrap()
        else {
            panic!()
        };
        assert_eq!(data.spans().count(), 1);
        // Without a check (the collector, which applies its filters itself), nothing is dropped.
        let Outcome::Done((list, None)) = parse_search(Format::JaegerV3, 200, &body, None).unwrap() else { panic!() };
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn the_check_matches_as_jaeger_does_scope_link_and_derived_tags_too() {
        let (a, b) = ("11111111111111111111111111111111", "22222222222222222222222222222222");
        let span = |id: &str, code: u8, extra: &str| {
            format!(
                r#"{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"shop"}}}}]}},
                "scopeSpans":[{{"scope":{{"name":"lib-{code}","version":"1.{code}","attributes":[{{"key":"scoped","value":{{"stringValue":"s{code}"}}}}]}},
                "spans":[{{"traceId":"{id}","spanId":"{}","name":"op","kind":3,"traceState":"k=v{code}",
                "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000005000000",
                "status":{{"code":{code},"message":"why {code}"}},{extra}"attributes":[{{"key":"n","value":{{"intValue":"{code}"}}}},{{"key":"n","value":{{"intValue":"9"}}}},
                {{"key":"tags","value":{{"arrayValue":{{"values":[{{"stringValue":"x"}}]}}}}}}]}}]}}]}}"#,
                &id[16..]
            )
        };
        let body = format!(
            r#"{{"result":{{"resourceSpans":[{},{}]}}}}"#,
            span(a, 2, r#""events":[{"name":"retry","attributes":[]}],"droppedAttributesCount":3,"#),
            span(
                b,
                1,
                r#""links":[{"traceId":"33333333333333333333333333333333","spanId":"0000000000000003","attributes":[{"key":"ln","value":{"boolValue":true}}]}],"#
            ),
        );
        let ids = |pairs: &[(&str, &str)]| {
            let q = SearchQuery {
                attributes: pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
                ..SearchQuery::default()
            };
            let Outcome::Done((list, None)) = parse_search(Format::JaegerV3, 200, &body, Some(&q)).unwrap() else {
                panic!()
            };
            list.into_iter().map(|t| t.trace_id).collect::<Vec<_>>()
        };
        for (pair, want) in [
            (("otel.status_code", "ERROR"), vec![a]),
            (("otel.status_code", "OK"), vec![b]),
            (("otel.status_description", "why 2"), vec![a]),
            (("error", "false"), vec![b]),
            (("error", "t"), vec![a]),
            (("otel.scope.name", "lib-1"), vec![b]),
            (("otel.scope.version", "1.2"), vec![a]),
            (("scoped", "s1"), vec![b]),
            (("ln", "true"), vec![b]),
            (("event", "retry"), vec![a]),
            (("span.kind", "client"), vec![a, b]),
            (("w3c.tracestate", "k=v1"), vec![b]),
            (("otel.dropped_attributes_count", "3"), vec![a]),
            (("n", "2"), vec![a]),
            (("n", "9"), vec![]),
            (("tags", r#"["x"]"#), vec![a, b]),
            (("error", "maybe"), vec![]),
        ] {
            assert_eq!(ids(&[pair]), want, "{pair:?}");
        }
    }

    #[test]
    fn an_html_page_with_200_on_an_api_path_is_an_api_missing_and_the_legacy_api_is_tried() {
        let index = "<!doctype html><html lang=\"en\"><head><title>Jaeger UI</title></head><body></body></html>";
        assert_eq!(parse_search(Format::JaegerV3, 200, index, None).unwrap(), Outcome::TryNext);
        assert_eq!(parse_search_spans(Format::JaegerV3, 200, &format!("\n  {index}"), None).unwrap(), Outcome::TryNext);
        assert_eq!(parse_trace(Format::JaegerV3, 200, index).unwrap(), Outcome::TryNext);
        assert_eq!(parse_names(NamesFormat::Services, 200, index).unwrap(), Outcome::TryNext);
        assert_eq!(parse_names(NamesFormat::Operations, 200, index).unwrap(), Outcome::TryNext);
        // JSON is read as before.
        assert_eq!(
            parse_names(NamesFormat::Services, 200, r#"{"services":["a"]}"#).unwrap(),
            Outcome::Done(vec!["a".to_owned()])
        );
    }

    #[test]
    fn errors_say_what_happened_and_name_the_source() {
        let page = "<!DOCTYPE html>\n<html><head><TITLE>502 Bad\n  Gateway</TITLE><style>body{}</style></head><body><h1>502</h1></body></html>";
        let e = parse_trace(Format::JaegerV3, 502, page).unwrap_err();
        assert_eq!(e, "the source answered 502: an HTML page titled “502 Bad Gateway”");
        assert_eq!(
            parse_trace(Format::Zipkin, 500, "<html><body>oops</body></html>").unwrap_err(),
            "the source answered 500: an HTML page"
        );
        assert_eq!(parse_trace(Format::Zipkin, 500, "plain text").unwrap_err(), "the source answered 500: plain text");

        let e = timed_out("http://127.0.0.1:9411/api/v2/trace/ab");
        assert!(e.contains("http://127.0.0.1:9411 did not answer within 30 s"), "{e}");
        assert_eq!(too_large("http://j/api/v3/traces/1", 256.0 * 1024.0 * 1024.0), None);
        let e = too_large("http://j/api/v3/traces/1", 700e6).unwrap();
        assert!(e.contains("too large to show (700 MB; the viewer reads up to 268 MB)"), "{e}");
        let e = cut_off("/upstream/jaeger/api/v3/traces/1", "/upstream/jaeger/api/v3/traces/1: Failed to fetch");
        assert!(e.contains("the answer of upstream `jaeger` stopped before its end") && e.contains("120 s"), "{e}");
        assert!(cut_off("http://h:1/x?y", "x").ends_with("the answer of http://h:1 stopped before its end"));
    }

    #[test]
    fn a_links_lookback_reads_durations_with_units_and_days() {
        assert_eq!(parse_lookback("2h"), Some(7_200_000_000_000));
        assert_eq!(parse_lookback("90m"), Some(5_400_000_000_000));
        assert_eq!(parse_lookback("3d"), Some(259_200_000_000_000));
        for bad in ["", "2", "0h", "2w", "d", "-1d", "custom"] {
            assert_eq!(parse_lookback(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn search_answers_of_every_backend_become_summaries() {
        let v3 = parse_search(Format::JaegerV3, 200, &fixture("jaeger-apiv3-FindTraces.json"), None).unwrap();
        let Outcome::Done((list, None)) = v3 else { panic!("done") };
        assert_eq!(list.len(), 1);
        assert_eq!((list[0].root_name.as_str(), list[0].span_count, list[0].error_count), ("foobar", 1, 1));
        assert_eq!(list[0].trace_id, "00000000000000000000000000000001");

        assert_eq!(
            parse_search(Format::JaegerV3, 404, r#"{"error":{"httpCode":404,"message":"No traces found"}}"#, None)
                .unwrap(),
            Outcome::Done((vec![], None))
        );
        assert_eq!(
            parse_search(Format::JaegerV3, 404, "404 page not found", None).unwrap(),
            Outcome::TryNext,
            "an older Jaeger"
        );
        assert!(parse_search(Format::JaegerV3, 500, r#"{"error":{"message":"boom"}}"#, None)
            .unwrap_err()
            .contains("500: boom"));

        let tempo = r#"{"traces":[{"traceID":"2f3e0cee77ae5dc9c17ade3689eb2e54","rootServiceName":"shop","rootTraceName":"update","startTimeUnixNano":"1684778327699392724","durationMs":557,"spanSets":[{"matched":2}],"serviceStats":{"shop":{"spanCount":3},"db":{"spanCount":2,"errorCount":1}}},{"traceID":"abc","startTimeUnixNano":"1","spanSet":{"matched":4}}]}"#;
        let Outcome::Done((list, None)) = parse_search(Format::TempoSearch, 200, tempo, None).unwrap() else {
            panic!()
        };
        assert_eq!(list[0].trace_id, "2f3e0cee77ae5dc9c17ade3689eb2e54");
        assert_eq!((list[0].duration, list[0].span_count, list[0].error_count), (557_000_000, 5, 1));
        assert_eq!(list[0].services, ["db", "shop"]);
        assert_eq!(list[1].trace_id, "00000000000000000000000000000abc", "short ids are left-padded");
        assert_eq!((list[1].span_count, list[1].root_service.as_str()), (4, "<root span not yet received>"));
        // Tempo leaves `durationMs` out under a millisecond: shorter than one, not 0 ns.
        assert_eq!([list[0].duration_text(), list[1].duration_text()], ["557.0 ms", "< 1 ms"]);

        let zipkin = format!("[{}]", fixture("zipkin-lens-yelp.json"));
        let Outcome::Done((list, None)) = parse_search(Format::Zipkin, 200, &zipkin, None).unwrap() else { panic!() };
        assert_eq!(list.len(), 1);
        assert!(list[0].span_count > 1 && !list[0].root_name.is_empty() && list[0].duration > 0, "{:?}", list[0]);
        let instant = TraceSummary::default();
        assert_eq!(instant.duration_text(), "0 ns", "a source of nanoseconds says 0 when it means 0");
    }

    #[test]
    fn a_search_answer_with_a_trace_that_cannot_be_read_keeps_the_others_and_says_so() {
        // Zipkin: a list of traces; the second's span has no id.
        let yelp = fixture("zipkin-lens-yelp.json");
        let zipkin = format!(r#"[{yelp},[{{"traceId":"abc","name":"no id"}}],{yelp}]"#);
        let Outcome::Done((list, Some(said))) = parse_search(Format::Zipkin, 200, &zipkin, None).unwrap() else {
            panic!()
        };
        assert_eq!(list.len(), 1, "the trace found twice, once");
        assert!(
            said.starts_with(
                "The source's search answer: 1 of its 3 traces could not be read and was left out (it: trace 2: "
            ),
            "{said}"
        );
        let bad = r#"[[{"traceId":"abc","name":"no id"}]]"#;
        assert!(parse_search(Format::Zipkin, 200, bad, None).unwrap_err().starts_with("not a Zipkin trace: trace 1: "));

        // Jaeger's legacy API: `data` is a list of traces; the second is no trace at all.
        let trace = fixture("jaeger-uimodel-ui_01.json");
        let legacy = format!(r#"{{"data":[{trace},{{"traceID":5}},{trace}]}}"#);
        let Outcome::Done((list, Some(said))) = parse_search(Format::JaegerLegacy, 200, &legacy, None).unwrap() else {
            panic!()
        };
        assert_eq!(list.len(), 1);
        assert!(said.contains("1 of its 3 traces could not be read and was left out"), "{said}");
        assert!(parse_search(Format::JaegerLegacy, 200, r#"{"data":[{"traceID":5}]}"#, None).is_err());

        // Jaeger's API v3 and the collector: one OTLP document; a span that does not read is left out.
        let v3 = fixture("jaeger-apiv3-FindTraces.json");
        let mut doc: Value = serde_json::from_str(&v3).unwrap();
        let spans = doc["result"]["resourceSpans"][0]["scopeSpans"][0]["spans"].as_array_mut().unwrap();
        let mut broken = spans[0].clone();
        broken["spanId"] = "not hex".into();
        let mut other = spans[0].clone();
        other["traceId"] = "0000000000000000000000000000000f".into();
        spans.extend([broken.clone(), other]);
        let Outcome::Done((data, Some(said))) =
            parse_search_spans(Format::JaegerV3, 200, &doc.to_string(), None).unwrap()
        else {
            panic!()
        };
        assert_eq!(data.spans().count(), 2);
        assert!(said.contains("1 of its 3 spans could not be read and was left out (it: "), "{said}");
        assert!(said.contains("spanId"), "the error names the field: {said}");
        let Outcome::Done((list, Some(_))) = parse_search(Format::JaegerV3, 200, &doc.to_string(), None).unwrap()
        else {
            panic!()
        };
        assert_eq!(list.len(), 2);
        let only_broken = serde_json::json!({"result": {"resourceSpans": [{"scopeSpans": [{"spans": [broken]}]}]}});
        assert!(parse_search(Format::JaegerV3, 200, &only_broken.to_string(), None)
            .unwrap_err()
            .starts_with("not OTLP traces: "));
        // An answer that is no OTLP document (a proxy's JSON error, a Tempo answer at a Jaeger
        // URL) is an error, not a search that found nothing.
        for other in [r#"{"error":{"message":"upstream down"}}"#, r#"{"traces":[]}"#] {
            let e = parse_search(Format::JaegerV3, 200, other, None).unwrap_err();
            assert!(e.starts_with("not OTLP traces: "), "{other}: {e}");
        }
        // A span with all-zero ids reads as it did: shown, not left out.
        let mut zero = serde_json::from_str::<Value>(&v3).unwrap();
        zero["result"]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["spanId"] = "0000000000000000".into();
        let Outcome::Done((data, None)) = parse_search_spans(Format::JaegerV3, 200, &zero.to_string(), None).unwrap()
        else {
            panic!()
        };
        assert_eq!(data.spans().count(), 1);
    }

    #[test]
    fn search_answers_give_spans_for_golden_signals_and_tempo_gives_its_root_spans() {
        use edgescope_otlp::signals;
        // Zipkin's search: whole traces; the signals of its entry spans come from them.
        let zipkin = format!("[{0},{0}]", fixture("zipkin-lens-yelp.json"));
        let Outcome::Done((data, None)) = parse_search_spans(Format::Zipkin, 200, &zipkin, None).unwrap() else {
            panic!()
        };
        let facts = signals::facts(&data);
        let distinct: BTreeSet<_> = data.spans().map(|(_, _, s)| (s.trace_id, s.span_id)).collect();
        assert_eq!(facts.len(), distinct.len(), "the trace found twice counts once");
        let (start, end) =
            (facts.iter().map(|f| f.start_ns).min().unwrap(), facts.iter().map(|f| f.start_ns).max().unwrap() + 1);
        let computed = signals::compute(&facts, start, end, signals::default_step(start, end), None);
        assert!(!computed.services.is_empty());
        let entries: u64 = computed.services.iter().map(|s| s.total.count).sum();
        assert!(entries >= 1 && entries <= facts.len() as u64, "{entries} entry spans of {}", facts.len());
        // Jaeger v3: an empty search is its own 404; an older Jaeger says to try the legacy API.
        assert_eq!(
            parse_search_spans(Format::JaegerV3, 404, r#"{"error":{"message":"No traces found"}}"#, None).unwrap(),
            Outcome::Done((TracesData::default(), None))
        );
        assert_eq!(parse_search_spans(Format::JaegerV3, 404, "404 page not found", None).unwrap(), Outcome::TryNext);
        let Outcome::Done((v3, None)) =
            parse_search_spans(Format::JaegerV3, 200, &fixture("jaeger-apiv3-FindTraces.json"), None).unwrap()
        else {
            panic!()
        };
        assert_eq!(signals::facts(&v3).len(), 1);
        assert!(parse_search_spans(Format::TempoSearch, 200, "{}", None).is_err(), "Tempo's search has no spans");

        // Tempo: one root span per summary; a trace without its root yet is left out.
        let tempo = r#"{"traces":[{"traceID":"2f3e0cee77ae5dc9c17ade3689eb2e54","rootServiceName":"shop","rootTraceName":"update","startTimeUnixNano":"1684778327699392724","durationMs":557,"serviceStats":{"shop":{"spanCount":3},"db":{"spanCount":2,"errorCount":1}}},{"traceID":"abc","startTimeUnixNano":"1","spanSet":{"matched":4}}]}"#;
        let Outcome::Done((list, None)) = parse_search(Format::TempoSearch, 200, tempo, None).unwrap() else {
            panic!()
        };
        let roots = root_facts(&list);
        assert_eq!(roots.len(), 1);
        let r = &roots[0];
        assert_eq!((r.service.as_str(), r.name.as_str(), r.kind, r.parent_span_id), ("shop", "update", 2, None));
        // The error is db's, not the root service's: shop's error rate does not count it.
        assert_eq!((r.start_ns, r.duration_ns, r.error), (1_684_778_327_699_392_724, 557_000_000, false));
        assert_eq!(r.trace_id[0], 0x2f);
        let failing = tempo.replace(r#""shop":{"spanCount":3}"#, r#""shop":{"spanCount":3,"errorCount":1}"#);
        let Outcome::Done((list, None)) = parse_search(Format::TempoSearch, 200, &failing, None).unwrap() else {
            panic!()
        };
        assert!(root_facts(&list)[0].error);
    }

    #[test]
    fn trace_answers_are_read_and_tempo_partial_traces_say_so() {
        let plan = trace_requests(&Source { kind: Kind::Tempo, url: "/upstream/t".into(), auth: None }, "ABC").unwrap();
        assert_eq!(plan[0].0.url, "/upstream/t/api/v2/traces/00000000000000000000000000000abc");
        assert_eq!(plan[1].1, Format::TempoV1Trace);
        assert!(trace_requests(&Source::collector(), "xyz").is_err());
        // The all-zero id is W3C's invalid one: no source is asked for it.
        for zero in ["0", "00000000000000000000000000000000"] {
            assert!(trace_requests(&Source::collector(), zero).is_err(), "{zero}");
            assert!(!is_trace_id(zero));
        }
        assert!(is_trace_id("00000000000000000000000000abc001"));

        let otlp = fixture("otlp-proto-trace.json");
        let partial = format!(r#"{{"trace":{otlp},"status":"PARTIAL","message":"trace exceeds max size"}}"#);
        let Outcome::Done(t) = parse_trace(Format::TempoV2Trace, 200, &partial).unwrap() else { panic!() };
        assert!(t.data.spans().count() > 0);
        assert_eq!(t.warning.as_deref(), Some("Tempo returned a partial trace: trace exceeds max size"));
        let Outcome::Done(t) = parse_trace(Format::TempoV2Trace, 200, &format!(r#"{{"trace":{otlp}}}"#)).unwrap()
        else {
            panic!()
        };
        assert_eq!(t.warning, None);
        // Client and server halves sharing one span id (as Zipkin instrumentation reports them)
        // get ids of their own, as they do in a file, so a link to one never opens the other.
        let shared = r#"{"trace":{"resourceSpans":[{"scopeSpans":[{"spans":[
            {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"00f067aa0ba902b7","name":"client","kind":3},
            {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"00f067aa0ba902b7","name":"server","kind":2}]}]}]}}"#;
        let Outcome::Done(t) = parse_trace(Format::TempoV2Trace, 200, shared).unwrap() else { panic!() };
        let ids: BTreeSet<_> = t.data.spans().map(|(_, _, s)| s.span_id).collect();
        assert_eq!(ids.len(), 2);
        let Outcome::Done(t) = parse_trace(Format::JaegerV3, 200, &fixture("jaeger-apiv3-GetTrace.json")).unwrap()
        else {
            panic!()
        };
        assert_eq!(t.data.spans().count(), 1);
        assert_eq!(parse_trace(Format::JaegerV3, 404, "404 page not found").unwrap(), Outcome::TryNext);
        assert!(parse_trace(Format::Zipkin, 404, r#"{"message":"none"}"#).unwrap_err().contains("no trace"));
        // A trace the backend does not have, as Tempo and Zipkin answer it: not a missing API.
        for format in [Format::TempoV2Trace, Format::TempoV1Trace] {
            assert!(parse_trace(format, 404, "").unwrap_err().contains("no trace"), "{format:?}");
            assert_eq!(parse_trace(format, 404, "404 page not found\n").unwrap(), Outcome::TryNext);
        }
        let zipkin = parse_trace(Format::Zipkin, 404, "00000000000000000000000000000abc not found");
        assert!(zipkin.unwrap_err().contains("no trace"));
        assert_eq!(parse_trace(Format::Zipkin, 404, "404 page not found").unwrap(), Outcome::TryNext);
        assert_eq!(parse_trace(Format::Zipkin, 404, "<html>Not Found</html>").unwrap(), Outcome::TryNext);
    }

    #[test]
    fn name_lists_come_from_each_shape() {
        let names = |f, body: &str| match parse_names(f, 200, body).unwrap() {
            Outcome::Done(n) => n,
            Outcome::TryNext => panic!("done"),
        };
        assert_eq!(names(NamesFormat::Services, &fixture("jaeger-apiv3-GetServices.json")), ["foo"]);
        assert_eq!(names(NamesFormat::Operations, &fixture("jaeger-apiv3-GetOperations.json")), ["get_users"]);
        assert_eq!(
            names(
                NamesFormat::TagValues,
                r#"{"tagValues":[{"type":"string","value":"b"},{"type":"string","value":"a"}]}"#
            ),
            ["a", "b"]
        );
        assert_eq!(names(NamesFormat::TagValues, r#"{"tagValues":["x"]}"#), ["x"]);
        assert_eq!(names(NamesFormat::Array, r#"["z","y","z"]"#), ["y", "z"]);
    }

    #[test]
    fn tempo_tag_names_come_from_the_v2_scopes_then_the_v1_list_and_other_sources_have_none() {
        let tempo = Source { kind: Kind::Tempo, url: "/upstream/tempo".into(), auth: None };
        let plan = tag_names_requests(&tempo);
        let urls: Vec<_> = plan.iter().map(|(r, _)| r.url.as_str()).collect();
        assert_eq!(urls, ["/upstream/tempo/api/v2/search/tags", "/upstream/tempo/api/search/tags"]);
        let v2 = r#"{"scopes":[{"name":"resource","tags":["service.name","host.name"]},
            {"name":"span","tags":["http.method","service.name"]},{"name":"intrinsic","tags":["duration","name","status"]}]}"#;
        assert_eq!(
            parse_names(plan[0].1, 200, v2).unwrap(),
            Outcome::Done(vec!["host.name".into(), "http.method".into(), "service.name".into()]),
            "attributes of every scope once, without TraceQL's intrinsics"
        );
        assert_eq!(parse_names(plan[0].1, 404, "404 page not found").unwrap(), Outcome::TryNext);
        assert_eq!(
            parse_names(plan[1].1, 200, r#"{"tagNames":["k8s.pod.name","http.status_code"]}"#).unwrap(),
            Outcome::Done(vec!["http.status_code".into(), "k8s.pod.name".into()])
        );
        for kind in [Kind::Collector, Kind::Jaeger, Kind::Zipkin, Kind::Loki] {
            assert!(tag_names_requests(&Source { kind, url: String::new(), auth: None }).is_empty(), "{kind:?}");
        }
    }

    #[test]
    fn loki_streams_become_log_records_with_ids_level_and_attributes() {
        let body = r#"{"status":"success","data":{"resultType":"streams","encodingFlags":["categorize-labels"],"result":[
            {"stream":{"service_name":"web","level":"error"},"values":[["1700000000000000001","boom",{"structuredMetadata":{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","cart_id":"c1"}}]]}]}}"#;
        let data = parse_logs(Kind::Loki, 200, body).unwrap();
        let rl = &data.resource_logs[0];
        assert_eq!(rl.resource.service_name(), "web");
        let r = &rl.scope_logs[0].log_records[0];
        assert_eq!(
            (r.time_unix_nano, r.severity_number, r.severity_text.as_str()),
            (1_700_000_000_000_000_001, 17, "")
        );
        assert_eq!(r.trace_id.unwrap().to_string(), "0af7651916cd43dd8448eb211c80319c");
        assert_eq!(r.span_id.unwrap().to_string(), "b7ad6b7169203331");
        assert_eq!(r.attributes, [edgescope_otlp::KeyValue::new("cart_id", "c1")]);
        // The trace page reads Loki as strictly as the log page: no record at 1970, no empty line.
        for (entry, error) in [
            (r#"[1700000000000000001,"boom"]"#, "the time is 1700000000000000001, not a string of Unix nanoseconds"),
            (r#"["1700000000000000001",{"line":"boom"}]"#, r#"the line is {"line":"boom"}, not a string"#),
            (r#""boom""#, r#"the entry is "boom", not [time, line] or [time, line, metadata]"#),
        ] {
            let body = format!(
                r#"{{"status":"success","data":{{"result":[{{"stream":{{"service_name":"web"}},"values":[{entry}]}}]}}}}"#
            );
            let message = parse_logs(Kind::Loki, 200, &body).unwrap_err();
            assert_eq!(
                message,
                format!(r#"Loki's answer is malformed: stream 1 {{service_name="web"}}, entry 1: {error}"#)
            );
        }
        // Refusals read as every source's do: a proxy's HTML page by its title.
        let page = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
        assert_eq!(parse_logs(Kind::Loki, 502, page).unwrap_err(), error_message(502, page));
        assert!(error_message(502, page).contains("502 Bad Gateway") && !error_message(502, page).contains('<'));
        // Levels from the stream, from Loki's detected level in the metadata, and one of no known
        // name as written.
        let body = r#"{"status":"success","data":{"result":[
            {"stream":{"service_name":"web","level":"verbose"},"values":[["1","a"]]},
            {"stream":{"service_name":"web"},"values":[["2","b",{"structuredMetadata":{"detected_level":"warn"}}],["3","c",{"structuredMetadata":{"level":"error"}}]]}]}}"#;
        let levels: Vec<(i32, String)> = parse_logs(Kind::Loki, 200, body)
            .unwrap()
            .records()
            .map(|(_, _, r)| (r.severity_number, r.severity_text.clone()))
            .collect();
        assert_eq!(levels, [(0, "verbose".into()), (13, String::new()), (17, String::new())]);
        let loki = Source { kind: Kind::Loki, url: "/upstream/loki".into(), auth: None };
        // A 128-bit id: the exact match.
        let req = trace_logs_request(&loki, "10000000000000000000af7", 10, 20).unwrap();
        assert!(req.url.starts_with("/upstream/loki/loki/api/v1/query_range?query=%7Bservice_name%3D~%22.%2B%22%7D%20%7C%20trace_id%3D%2200000000010000000000000000000af7%22"), "{}", req.url);
        // A 64-bit id (Zipkin's, B3's): its 16 digits alone or after 16 zeros.
        let req = trace_logs_request(&loki, "0af7", 10, 20).unwrap();
        assert!(req.url.starts_with("/upstream/loki/loki/api/v1/query_range?query=%7Bservice_name%3D~%22.%2B%22%7D%20%7C%20trace_id%3D~%22%280%7B16%7D%29%3F0000000000000af7%22"), "{}", req.url);
        assert!(req.headers.contains(&("X-Loki-Response-Encoding-Flags".into(), "categorize-labels".into())));
        // The newest records, as the collector answers, and one more than are shown.
        assert!(req.url.contains("&limit=1001&direction=backward"), "{}", req.url);
        // A trace opened by a 16-hex (Zipkin) id: its logs are asked for by the 32-hex id they carry.
        let req = trace_logs_request(&Source::collector(), "14B60FD9AE504820", 0, 0).unwrap();
        assert_eq!(req.url, "/api/logs?limit=1001&trace_id=000000000000000014b60fd9ae504820");
        assert!(trace_logs_request(&Source { kind: Kind::Tempo, url: String::new(), auth: None }, "a", 0, 0).is_none());
    }

    #[test]
    fn durations_and_attribute_filters_read_as_people_type_them() {
        assert_eq!(parse_duration("250ms"), Some(250_000_000));
        assert_eq!(parse_duration("1.5s"), Some(1_500_000_000));
        assert_eq!(parse_duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(parse_duration("100us"), Some(100_000));
        assert_eq!(parse_duration("12"), Some(12_000_000), "a bare number is milliseconds");
        assert_eq!(parse_duration("fast"), None);
        // Neither infinite nor beyond what a Go duration holds (nor NaN): none is a length to search.
        for text in ["inf", "1e400", "-inf", "NaN", "1e17", "1e400s", "3000000h"] {
            assert_eq!(parse_duration(text), None, "{text}");
        }
        assert_eq!(parse_duration("2000000h"), Some(7_200_000_000_000_000_000));
        assert_eq!(parse_duration("5 parsecs"), None);
        assert_eq!(
            parse_attributes("http.status_code=500  http.route=\"/a b\"\nerror=true").unwrap(),
            [
                ("http.status_code".into(), "500".into()),
                ("http.route".into(), "/a b".into()),
                ("error".into(), "true".into())
            ]
        );
        assert!(parse_attributes("oops").is_err());
        assert!(parse_attributes("k=\"open").is_err());
        assert_eq!(parse_attributes("  ").unwrap(), []);
    }

    #[test]
    fn scatter_points_spread_over_the_window_on_a_log_duration_scale_and_sorts_order_results() {
        let r = |start, duration, spans, errors| TraceSummary {
            start,
            duration,
            span_count: spans,
            error_count: errors,
            ..Default::default()
        };
        let mut results = vec![r(100, 10, 1, 0), r(150, 1000, 5, 2), r(200, 100, 3, 1)];
        let points: Vec<(f64, f64)> = scatter_points(&results, 100, 200)
            .into_iter()
            .flatten()
            .map(|(x, y)| (x, (y * 1e9).round() / 1e9))
            .collect();
        assert_eq!(points, [(0.0, 0.0), (0.5, 1.0), (1.0, 0.5)]);
        // Traces outside the window get no point (not one at the edge).
        assert_eq!(
            scatter_points(&results, 120, 180).into_iter().map(|p| p.map(|(x, _)| x)).collect::<Vec<_>>(),
            [None, Some(0.5), None]
        );
        SortBy::from_id("longest").sort(&mut results);
        assert_eq!(results.iter().map(|r| r.duration).collect::<Vec<_>>(), [1000, 100, 10]);
        SortBy::from_id("errors").sort(&mut results);
        assert_eq!(results[0].error_count, 2);
        SortBy::from_id("nonsense").sort(&mut results);
        assert_eq!(results[0].start, 200, "unknown orders fall back to newest first");
        results.push(r(50, 1, 1, 2));
        results.push(r(300, 1, 1, 1));
        SortBy::from_id("errors").sort(&mut results);
        let order: Vec<(u64, u64)> = results.iter().map(|r| (r.error_count, r.start)).collect();
        assert_eq!(order, [(2, 150), (2, 50), (1, 300), (1, 200), (0, 100)], "most errors, then newest");
        SortBy::from_id("spans").sort(&mut results);
        assert_eq!(results.iter().map(|r| r.start).collect::<Vec<_>>(), [150, 200, 50, 300, 100], "stable");
    }

    #[test]
    fn traces_from_every_recorded_backend_answer_lay_out_as_a_waterfall() {
        let answers = [
            (Format::JaegerV3, fixture("jaeger-apiv3-GetTrace.json")),
            (Format::JaegerLegacy, format!("{{\"data\":[{}]}}", fixture("jaeger-uimodel-ui_01.json"))),
            (Format::TempoV2Trace, format!("{{\"trace\":{}}}", fixture("otlp-proto-trace.json"))),
            (Format::Zipkin, fixture("zipkin-lens-yelp.json")),
        ];
        for (format, body) in answers {
            let Outcome::Done(t) = parse_trace(format, 200, &body).unwrap() else { panic!("{format:?}") };
            let trace = crate::model::Trace::build(&t.data);
            assert_eq!(trace.rows.len(), t.data.spans().count(), "{format:?}");
        }
    }
}
