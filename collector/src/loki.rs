//! Loki's HTTP query API over the stored log records: `query_range`, `labels`, label values and
//! the messages of the live tail, in the shapes Loki answers with.
//!
//! Records get labels the way Loki's OTLP ingestion gives them: the stream labels are
//! `service_name`, the resource attributes Loki indexes by default (dots become underscores)
//! and `level` (from the severity number, else the severity text); everything else — `trace_id`,
//! `span_id`, `severity_text`, the scope, the record's attributes and the other resource
//! attributes — is structured metadata. Without the `categorize-labels` encoding flag, metadata
//! joins the stream labels, as Loki does. Unlike Loki, a stream selector may also name
//! structured metadata (`{service_name="web", trace_id="…"}`), which the viewer uses to fetch
//! a trace's logs in one query.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use edgescope_otlp::read::{self, Ids};
use edgescope_otlp::{AnyValue, KeyValue, Resource, TraceId};
use serde_json::{json, Value};

use crate::jaeger::{parse_go_duration, parse_rfc3339, Params};
use crate::logql::{self, BinOp, Card, Grouping, LogQl, MatchOp, Matching, Metric, RangeFn, Unwrap, VectorOp};
use crate::store::{LogRow, LogScan, ScanOrder, Store, StoreError};

/// The most entries one query may ask for (Loki's `max_entries_limit_per_query` default).
pub(crate) const MAX_ENTRIES: usize = 5000;

/// Entries a query returns when it names no `limit`.
const DEFAULT_LIMIT: usize = 100;

/// Series one metric query may return (Loki's `max_query_series` default).
pub(crate) const MAX_SERIES: usize = 500;

/// Series (sets of stream labels, metadata and parsed labels) a metric query may read before
/// aggregating them: a bound on its memory.
const MAX_STREAMS: usize = 50_000;

/// Points one series of a metric query may have (Loki's limit).
const MAX_POINTS: i64 = 11_000;

/// Rows read from the store per step of a scan.
const SCAN_BATCH: usize = 1000;

/// Resource attributes that Loki's OTLP ingestion turns into stream labels by default.
pub(crate) const INDEXED_RESOURCE_ATTRIBUTES: &[&str] = &[
    "cloud.availability_zone",
    "cloud.region",
    "container.name",
    "deployment.environment",
    "deployment.environment.name",
    "k8s.cluster.name",
    "k8s.container.name",
    "k8s.cronjob.name",
    "k8s.daemonset.name",
    "k8s.deployment.name",
    "k8s.job.name",
    "k8s.namespace.name",
    "k8s.pod.name",
    "k8s.replicaset.name",
    "k8s.statefulset.name",
    "service.instance.id",
    "service.name",
    "service.namespace",
];

type Result<T> = std::result::Result<T, StoreError>;
type Labels = Vec<(String, String)>;

fn now_ns() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(now.as_nanos()).unwrap_or(i64::MAX)
}

/// A Loki timestamp parameter: nanoseconds, or seconds when it has at most ten digits or a
/// fraction, or RFC 3339.
fn parse_time(name: &str, text: &str) -> std::result::Result<i64, String> {
    let bad = || format!("could not parse '{name}' parameter: `{text}` is not a Unix timestamp or an RFC 3339 time");
    if text.contains('.') {
        if let Ok(seconds) = text.parse::<f64>() {
            if seconds.is_finite() && seconds.abs() < 9.2e9 {
                return Ok((seconds * 1e3).round() as i64 * 1_000_000);
            }
        }
    }
    match text.parse::<i64>() {
        Ok(n) if text.trim_start_matches('-').len() <= 10 => n.checked_mul(1_000_000_000).ok_or_else(bad),
        Ok(n) => Ok(n),
        Err(_) => parse_rfc3339(text).ok().and_then(|ns| i64::try_from(ns).ok()).ok_or_else(bad),
    }
}

/// `start` and `end` (defaults: `since`, else `default_since`, before the end; the end is now).
fn time_range(params: &Params<'_>, default_since: i64) -> std::result::Result<(i64, i64), String> {
    let now = now_ns();
    let end = match params.get(&["end"]) {
        Some((_, text)) => parse_time("end", text)?,
        None => now,
    };
    let since = match params.get(&["since"]) {
        Some((_, text)) => parse_go_duration(text).map_err(|e| format!("could not parse 'since' parameter: {e}"))?,
        None => default_since,
    };
    let start = match params.get(&["start"]) {
        Some((_, text)) => parse_time("start", text)?,
        None => end.min(now).saturating_sub(since),
    };
    Ok((start, end))
}

/// `limit`: a positive integer, at most `MAX_ENTRIES` for a log query; a metric query's limit
/// is not a number of entries, and Loki does not hold it to that maximum (Grafana sends its
/// data source's "Maximum lines" with every query, metric panels' too).
fn limit(params: &Params<'_>, metric: bool) -> std::result::Result<usize, String> {
    let Some((_, text)) = params.get(&["limit"]) else {
        return Ok(DEFAULT_LIMIT);
    };
    let n: i64 = text.parse().map_err(|_| format!("invalid limit `{text}`: expected an integer"))?;
    if n <= 0 {
        return Err("limit must be a positive value".into());
    }
    if !metric && n as u64 > MAX_ENTRIES as u64 {
        return Err(format!(
            "max entries limit per query exceeded, limit > max_entries_limit_per_query ({n} > {MAX_ENTRIES})"
        ));
    }
    Ok(n as usize)
}

fn logql(params: &Params<'_>) -> std::result::Result<LogQl, String> {
    let (_, text) = params.get(&["query"]).ok_or("the `query` parameter is required")?;
    logql::parse(text).map_err(|e| e.to_string())
}

/// A `GET /loki/api/v1/query_range` request: a log query, or a metric query evaluated every
/// `step` from `start` to `end`.
#[derive(Debug)]
pub(crate) struct RangeQuery {
    /// The log query (`None` for a metric query, whose range functions have their own).
    logql: Option<LogQl>,
    metric: Option<Metric>,
    start: i64,
    end: i64,
    step: i64,
    limit: usize,
    forward: bool,
    /// A log query's `interval` (ns; 0 for none): an entry only when at least this long after
    /// the one before it in the answer (before it, going backward), as Loki thins them.
    interval: i64,
    /// `/query`: one evaluation, at `end`, answered as a vector.
    instant: bool,
}

fn direction(params: &Params<'_>) -> std::result::Result<bool, String> {
    match params.get(&["direction"]).map(|(_, d)| d.to_ascii_lowercase()) {
        None => Ok(false),
        Some(d) if d == "backward" => Ok(false),
        Some(d) if d == "forward" => Ok(true),
        Some(d) => Err(format!("invalid direction `{d}`: expected forward or backward")),
    }
}

/// The query parameter, read as a log or metric query.
fn any_query(params: &Params<'_>) -> std::result::Result<(Option<LogQl>, Option<Metric>), String> {
    let (_, text) = params.get(&["query"]).ok_or("the `query` parameter is required")?;
    match logql::parse_query(text).map_err(|e| e.to_string())? {
        logql::Query::Log(q) => Ok((Some(q), None)),
        logql::Query::Metric(m) => Ok((None, Some(m))),
    }
}

/// `end - start`, at most `i64::MAX` (times may be anywhere in `i64`).
fn span(start: i64, end: i64) -> i64 {
    end.saturating_sub(start)
}

/// `step`: a duration (`30s`) or seconds (`15`, `0.5`); by default the range over 250, at
/// least a second, as Loki picks it.
fn step(params: &Params<'_>, start: i64, end: i64) -> std::result::Result<i64, String> {
    let step = match params.get(&["step"]) {
        Some((_, text)) => match text.parse::<f64>() {
            Ok(seconds) if seconds.is_finite() => (seconds * 1e9) as i64,
            _ => logql::parse_duration(text)
                .ok_or_else(|| format!("invalid step `{text}`: expected seconds or a duration such as 30s"))?,
        },
        None => (span(start, end) / 250 / 1_000_000_000).max(1) * 1_000_000_000,
    };
    if step <= 0 {
        return Err("zero or negative query resolution step widths are not accepted. Try a positive integer".into());
    }
    if span(start, end) / step > MAX_POINTS {
        return Err(format!(
            "exceeded maximum resolution of {MAX_POINTS} points per timeseries. Try decreasing the query \
             resolution (?step=XX)"
        ));
    }
    Ok(step)
}

/// Reads the parameters of `query_range`; the error is a `400` answer's text.
pub(crate) fn range_query(params: &Params<'_>) -> std::result::Result<RangeQuery, String> {
    let (logql, metric) = any_query(params)?;
    let (start, end) = time_range(params, 3_600_000_000_000)?;
    if end < start {
        return Err("end timestamp must not be before or equal to start time".into());
    }
    let step = step(params, start, end)?;
    let limit = limit(params, metric.is_some())?;
    let interval = match params.get(&["interval"]) {
        None => 0,
        Some((_, text)) => {
            let ns = match text.parse::<f64>() {
                Ok(seconds) if seconds.is_finite() => (seconds * 1e9) as i64,
                _ => logql::parse_duration(text)
                    .ok_or_else(|| format!("invalid interval `{text}`: expected seconds or a duration such as 30s"))?,
            };
            if ns < 0 {
                return Err("interval must be >= 0".into());
            }
            ns
        }
    };
    Ok(RangeQuery { logql, metric, start, end, step, limit, forward: direction(params)?, interval, instant: false })
}

/// Reads the parameters of `query` (instant): a metric query evaluated at `time` (default now).
pub(crate) fn instant_query(params: &Params<'_>) -> std::result::Result<RangeQuery, String> {
    let (logql, metric) = any_query(params)?;
    if metric.is_none() {
        return Err("log queries are answered by /loki/api/v1/query_range; /loki/api/v1/query takes metric \
                    queries, such as count_over_time({service_name=\"checkout\"}[5m])"
            .into());
    }
    let time = match params.get(&["time"]) {
        Some((_, text)) => parse_time("time", text)?,
        None => now_ns(),
    };
    let (limit, forward) = (limit(params, true)?, direction(params)?);
    Ok(RangeQuery { logql, metric, start: time, end: time, step: 1, limit, forward, interval: 0, instant: true })
}

/// A `/loki/api/v1/tail` request.
#[derive(Debug)]
pub(crate) struct TailQuery {
    logql: LogQl,
    start: i64,
    limit: usize,
}

/// Reads the parameters of `tail`; the error is a `400` answer's text.
pub(crate) fn tail_query(params: &Params<'_>) -> std::result::Result<TailQuery, String> {
    let logql = logql(params)?;
    if let Some((_, text)) = params.get(&["delay_for"]) {
        match text.parse::<u32>() {
            Ok(d) if d <= 5 => {}
            Ok(_) => return Err("delay_for can't be greater than 5".into()),
            Err(_) => return Err(format!("invalid delay_for `{text}`: expected whole seconds")),
        }
    }
    let start = match params.get(&["start"]) {
        Some((_, text)) => parse_time("start", text)?,
        None => now_ns().saturating_sub(3_600_000_000_000),
    };
    Ok(TailQuery { logql, start, limit: limit(params, false)? })
}

/// The `level` label of a record.
fn level(severity: i32, text: Option<&str>) -> &'static str {
    match severity {
        1..=4 => "trace",
        5..=8 => "debug",
        9..=12 => "info",
        13..=16 => "warn",
        17..=20 => "error",
        21..=24 => "fatal",
        _ => match text.map(str::to_ascii_lowercase).as_deref() {
            Some("trace") => "trace",
            Some("debug") => "debug",
            Some("info" | "information" | "notice") => "info",
            Some("warn" | "warning") => "warn",
            Some("error" | "err") => "error",
            Some("fatal" | "critical" | "crit" | "alert" | "emergency" | "panic") => "fatal",
            _ => "unknown",
        },
    }
}

/// The severity numbers of a level (records whose number is outside 1 to 24 are those whose
/// level comes from their text: they are read for every level; `(0, 0)` asks for them alone).
fn severity_range(level: &str) -> Option<(i32, i32)> {
    Some(match level {
        "trace" => (1, 4),
        "debug" => (5, 8),
        "info" => (9, 12),
        "warn" => (13, 16),
        "error" => (17, 20),
        "fatal" => (21, 24),
        "unknown" => (0, 0),
        _ => return None,
    })
}

/// A label name for an attribute key, as Loki's OTLP ingest makes them (Prometheus's
/// `NormalizeLabel`): characters other than letters, digits and `_` become `_`, then a name that
/// starts with a digit gets `key_` before it and one that starts with a single `_` gets `key`, so
/// that every name is one LogQL can write (`1st` → `key_1st`, `.x` → `key_x`, `__x` kept).
fn label_name(key: &str) -> String {
    let name: String = key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("key_{name}")
    } else if name.starts_with('_') && !name.starts_with("__") {
        format!("key{name}")
    } else {
        name
    }
}

/// Labels for an attribute as Loki's `attributeToLabels` makes them: a map gives one label per
/// entry, named `key_entry` (nested maps likewise); any other value one label with its text.
fn push_attribute(out: &mut Labels, key: &str, value: &AnyValue) {
    match value {
        AnyValue::KvList(kvs) => {
            for kv in kvs {
                if let Some(v) = &kv.value {
                    push_attribute(out, &format!("{key}_{}", kv.key), v);
                }
            }
        }
        other => out.push((label_name(key), crate::attribute_filter::value_text(Some(other)))),
    }
}

fn push_attributes(out: &mut Labels, attributes: &[KeyValue]) {
    for kv in attributes {
        if let Some(value) = &kv.value {
            push_attribute(out, &kv.key, value);
        }
    }
}

/// The labels a resource gives its records.
#[derive(Debug)]
struct ResourceLabels {
    /// Stream labels, `service_name` always among them.
    index: Labels,
    /// The resource's other attributes.
    metadata: Labels,
}

impl ResourceLabels {
    fn of(resource: &Resource) -> ResourceLabels {
        let mut index = vec![("service_name".to_owned(), resource.service_name().to_owned())];
        let mut metadata = Vec::new();
        for kv in &resource.attributes {
            let Some(value) = &kv.value else { continue };
            if kv.key == "service.name" {
                continue;
            }
            if INDEXED_RESOURCE_ATTRIBUTES.contains(&kv.key.as_str()) {
                push_attribute(&mut index, &kv.key, value);
            } else {
                push_attribute(&mut metadata, &kv.key, value);
            }
        }
        ResourceLabels { index, metadata }
    }
}

/// One entry of an answer.
#[derive(Debug)]
pub(crate) struct Entry {
    time_ns: i64,
    line: String,
    /// Stream labels, sorted by name.
    index: Labels,
    /// Structured metadata, in record order.
    metadata: Labels,
    /// Labels the query's parsers took from the line, and `__error__` when a stage failed.
    parsed: Labels,
}

/// Labels records and keeps what it parsed for the next record of the same resource.
#[derive(Debug, Default)]
struct Labeler {
    resources: HashMap<i64, Arc<ResourceLabels>>,
    /// Whether a scope (by its stored JSON) has attributes named `trace_id` and `span_id`.
    scope_ids: HashMap<String, [bool; 2]>,
}

/// Names whose values come from a row without parsing its record (`trace_id` and `span_id` only
/// when its id columns hold them: see [`Reading`]).
const CHEAP: &[&str] = &["level", "trace_id", "span_id"];

/// How the rows of a query are tested.
#[derive(Debug, Clone, Copy)]
struct Reading {
    /// Whether the query looks only at [`CHEAP`] labels and stream labels, so that a row can
    /// be tested without parsing its record.
    cheap: bool,
    /// Whether it looks at `trace_id`, and at `span_id`: a row gives them without parsing only
    /// when its id column holds the one its metadata shows. A record without its own id may
    /// have an attribute of the name, which is its metadata then (as Loki's OTLP ingestion
    /// writes the attribute first and the record's id over it), and a resource or scope
    /// attribute of the name comes after the id.
    ids: [bool; 2],
}

impl Reading {
    fn of(query: &LogQl) -> Reading {
        // A parser renames what it finds after the record's own labels, metadata included.
        let cheap = !query.has_parser() && !query.uses_labels_outside(&[CHEAP, INDEXED_LABEL_NAMES].concat());
        Reading { cheap, ids: [query.uses_label("trace_id"), query.uses_label("span_id")] }
    }
}

impl Labeler {
    fn resource(&mut self, store: &Store, id: i64) -> Result<Arc<ResourceLabels>> {
        if let Some(labels) = self.resources.get(&id) {
            return Ok(labels.clone());
        }
        let json: Value = serde_json::from_str(&store.resource_json(id)?)
            .map_err(|e| StoreError::Corrupt(format!("stored resource: {e}")))?;
        let resource = read::resource(&json).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let labels = Arc::new(ResourceLabels::of(&resource));
        self.resources.insert(id, labels.clone());
        Ok(labels)
    }

    /// The record's full structured metadata, in the order Loki's OTLP ingestion writes it
    /// (pkg/loghttp/push/otlp.go): the record's attributes, then its own fields, then the
    /// resource's attributes, then the scope's name and version. A name written twice (`a.b` and
    /// `a_b`, or an attribute named like a field) is there once.
    fn metadata(row: &LogRow, resource: &ResourceLabels) -> Result<Labels> {
        #[cfg(test)]
        tests::METADATA_READ.with(|n| n.set(n.get() + 1));
        let record: Value = serde_json::from_str(&row.record_json)
            .map_err(|e| StoreError::Corrupt(format!("stored log record: {e}")))?;
        let record = read::log_record(&record, Ids::Strict).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut out = Labels::new();
        push_attributes(&mut out, &record.attributes);
        // The time of a record without one is its observed time already.
        if record.time_unix_nano != 0 && record.observed_time_unix_nano != 0 {
            out.push(("observed_timestamp".into(), record.observed_time_unix_nano.to_string()));
        }
        if record.severity_number != 0 {
            out.push(("severity_number".into(), record.severity_number.to_string()));
        }
        if !record.severity_text.is_empty() {
            out.push(("severity_text".into(), record.severity_text.clone()));
        }
        if record.dropped_attributes_count != 0 {
            out.push(("dropped_attributes_count".into(), record.dropped_attributes_count.to_string()));
        }
        if record.flags != 0 {
            out.push(("flags".into(), record.flags.to_string()));
        }
        // As Loki's OTLP ingestion: an all-zero id (OTLP's "no trace") is no metadata.
        if let Some(id) = record.trace_id.filter(TraceId::is_valid) {
            out.push(("trace_id".into(), id.to_string()));
        }
        if let Some(id) = record.span_id.filter(edgescope_otlp::SpanId::is_valid) {
            out.push(("span_id".into(), id.to_string()));
        }
        if !record.event_name.is_empty() {
            out.push(("event_name".into(), record.event_name.clone()));
        }
        out.extend(resource.metadata.iter().cloned());
        // Scope attributes, then its fields (scopeAttributesAsStructuredMetadata).
        let scope: Value = serde_json::from_str(&row.scope_json).unwrap_or(Value::Null);
        if let Ok(scope) = read::scope(&scope) {
            push_attributes(&mut out, &scope.attributes);
            if !scope.name.is_empty() {
                out.push(("scope_name".into(), scope.name));
            }
            if !scope.version.is_empty() {
                out.push(("scope_version".into(), scope.version));
            }
            if scope.dropped_attributes_count != 0 {
                out.push(("scope_dropped_attributes_count".into(), scope.dropped_attributes_count.to_string()));
            }
        }
        Ok(out)
    }

    /// Whether the row gives the `trace_id` and `span_id` (`which`: those the query looks at)
    /// that its metadata shows, without parsing its record: its id column holds the id, or it
    /// holds none and the record has no attribute of the name (its JSON does not even hold the
    /// word, `trace` or `span`, that the attribute's key would), and no resource or scope
    /// attribute of the name comes after it.
    fn ids_in_columns(&mut self, row: &LogRow, resource: &ResourceLabels, which: [bool; 2]) -> bool {
        if which == [false, false] {
            return true;
        }
        let scope = self.scope_ids(&row.scope_json);
        let held = |column: &Option<Vec<u8>>| column.as_ref().is_some_and(|id| id.iter().any(|&b| b != 0));
        let sources = [("trace_id", "trace", &row.trace_id), ("span_id", "span", &row.span_id)];
        sources.into_iter().zip(which).zip(scope).all(|(((name, word, column), used), in_scope)| {
            !used
                || !in_scope
                    && !resource.metadata.iter().any(|(k, _)| k == name)
                    && (held(column) || !row.record_json.contains(word))
        })
    }

    /// Whether the scope (its stored JSON) has attributes named `trace_id` and `span_id`.
    fn scope_ids(&mut self, scope_json: &str) -> [bool; 2] {
        if let Some(&ids) = self.scope_ids.get(scope_json) {
            return ids;
        }
        let mut labels = Labels::new();
        let json: Value = serde_json::from_str(scope_json).unwrap_or(Value::Null);
        if let Ok(scope) = read::scope(&json) {
            push_attributes(&mut labels, &scope.attributes);
        }
        let has = |name: &str| labels.iter().any(|(k, _)| k == name);
        let ids = [has("trace_id"), has("span_id")];
        if self.scope_ids.len() >= 4096 {
            self.scope_ids.clear();
        }
        self.scope_ids.insert(scope_json.to_owned(), ids);
        ids
    }

    /// The row as an entry when it passes the query. With `needs`, the caller looks at no
    /// structured metadata but labels of those names, so that a row whose record cannot hold
    /// them (see [`may_hold`]) is not parsed when the query need not look at its metadata either.
    fn entry(
        &mut self,
        store: &Store,
        row: LogRow,
        query: &LogQl,
        reading: Reading,
        needs: Option<&[String]>,
    ) -> Result<Option<Entry>> {
        let resource = self.resource(store, row.resource_id)?;
        let cheap = reading.cheap && self.ids_in_columns(&row, &resource, reading.ids);
        let mut index = resource.index.clone();
        index.push(("level".into(), level(row.severity, row.severity_text.as_deref()).into()));
        index.sort();
        let line = row.body.clone().unwrap_or_default();
        let is_stream = |name: &str| index.iter().any(|(k, _)| k == name);
        let (mut metadata, mut outcome) = if cheap {
            // In hex, only those the query looks at.
            let hex = |b: &Option<Vec<u8>>, used: bool| Some(edgescope_otlp::hex(b.as_ref().filter(|_| used)?));
            let ids =
                [("trace_id", hex(&row.trace_id, reading.ids[0])), ("span_id", hex(&row.span_id, reading.ids[1]))];
            let ids: Labels = ids.into_iter().filter_map(|(k, v)| Some((k.to_owned(), v?))).collect();
            let get = |name: &str| index.iter().chain(&ids).find(|(k, _)| k == name).map(|(_, v)| v.as_str());
            let Some(outcome) = query.process(row.time_ns, &line, get, is_stream) else {
                return Ok(None);
            };
            let metadata = match needs {
                Some(names) if !may_hold(&row, &resource, &index, names) => Labels::new(),
                _ => metadata_as_added(Self::metadata(&row, &resource)?, &index),
            };
            (metadata, outcome)
        } else {
            let metadata = metadata_as_added(Self::metadata(&row, &resource)?, &index);
            let get = |name: &str| index.iter().chain(&metadata).find(|(k, _)| k == name).map(|(_, v)| v.as_str());
            let Some(outcome) = query.process(row.time_ns, &line, get, is_stream) else {
                return Ok(None);
            };
            (metadata, outcome)
        };
        // A parsed label replaces metadata of its name, as in Loki; `| drop` and `| keep` leave
        // labels out of the answer (parsed ones are gone already).
        let parsed = &outcome.parsed;
        metadata.retain(|(k, v)| !parsed.iter().any(|(p, _)| p == k) && outcome.shows(k, v));
        // A label `| label_format` set under a stream label's name replaces it, as in Loki.
        index.retain(|(k, v)| outcome.shows(k, v) && !parsed.iter().any(|(p, _)| p == k));
        // `| line_format` made the line the answer shows and metric queries measure, as in Loki.
        let line = outcome.line.take().unwrap_or(line);
        Ok(Some(Entry { time_ns: row.time_ns, line, index, metadata, parsed: outcome.parsed }))
    }
}

/// Labels that a record's fields or its scope's give (see [`Labeler::metadata`]), not its attributes.
const FIELD_LABELS: &[&str] = &[
    "observed_timestamp",
    "severity_number",
    "severity_text",
    "dropped_attributes_count",
    "flags",
    "trace_id",
    "span_id",
    "event_name",
    "scope_name",
    "scope_version",
    "scope_dropped_attributes_count",
];

/// Whether the row's structured metadata may hold a label of one of `names` that its stream
/// labels (`index`) do not: one its resource has, one its record's fields give, or one an
/// attribute of its record or scope may give. An attribute's label name is its key with other
/// characters than letters, digits and `_` made `_` (see [`label_name`]), so the stored JSON of
/// a record or scope with such an attribute holds every run of letters and digits of the name
/// (`key` of `key_1st` too: each attribute is written `{"key":…}`). A name that a stream label
/// has is given to metadata with `_extracted` after it, so such names are assumed held.
fn may_hold(row: &LogRow, resource: &ResourceLabels, index: &Labels, names: &[String]) -> bool {
    let words_in = |json: &str, name: &str| name.split('_').filter(|w| !w.is_empty()).all(|w| json.contains(w));
    names.iter().any(|name| {
        !index.iter().any(|(k, _)| k == name)
            && (FIELD_LABELS.contains(&name.as_str())
                || name.ends_with("_extracted")
                || resource.metadata.iter().any(|(k, _)| k == name)
                || words_in(&row.record_json, name)
                || words_in(&row.scope_json, name))
    })
}

/// Structured metadata named as Loki's labels builder adds it (`Add`): a name that a stream label
/// has gets `_extracted` appended, so that both are kept; a name added again takes the later
/// value (`Set` replaces it) in the place of the first.
fn metadata_as_added(metadata: Labels, index: &Labels) -> Labels {
    let mut out = Labels::with_capacity(metadata.len());
    let mut at: HashMap<String, usize> = HashMap::new();
    for (mut name, value) in metadata {
        if index.iter().any(|(k, _)| *k == name) {
            name.push_str("_extracted");
        }
        match at.get(&name) {
            Some(&i) => out[i].1 = value,
            None => {
                at.insert(name.clone(), out.len());
                out.push((name, value));
            }
        }
    }
    out
}

/// What the store can narrow a scan by, from the query's equality requirements.
/// `None` when no record can match.
fn scan_for(query: &LogQl) -> Option<LogScan> {
    let mut scan = LogScan { contains: query.contained().map(str::to_owned).collect(), ..LogScan::default() };
    scan.service = query.required("service_name").next().map(str::to_owned);
    if scan.service.is_none() {
        scan.service_matchers =
            query.selector.iter().filter(|m| m.name == "service_name" && m.op != MatchOp::Eq).cloned().collect();
    }
    if let Some(level) = query.required("level").next() {
        scan.severity = Some(severity_range(level)?);
    }
    // A trace id as OTLP/JSON writes one is looked up in the store's index, which holds each
    // record's own trace id or, without one, its `trace_id` attribute written so. Another text
    // (`req-7`, uppercase hex) can only be an attribute's: every record in range is read.
    if let Some(trace) = query.required("trace_id").next() {
        let hex = trace.len() == 32 && trace.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if hex {
            scan.trace_id = Some(TraceId::from_hex(trace)?.0);
        }
    }
    Some(scan)
}

/// Every stream label name a resource can give (`service_name` and the indexed attributes).
const INDEXED_LABEL_NAMES: &[&str] = &[
    "service_name",
    "cloud_availability_zone",
    "cloud_region",
    "container_name",
    "deployment_environment",
    "deployment_environment_name",
    "k8s_cluster_name",
    "k8s_container_name",
    "k8s_cronjob_name",
    "k8s_daemonset_name",
    "k8s_deployment_name",
    "k8s_job_name",
    "k8s_namespace_name",
    "k8s_pod_name",
    "k8s_replicaset_name",
    "k8s_statefulset_name",
    "service_instance_id",
    "service_namespace",
];

/// Statistics of one query, reported in the answer.
#[derive(Debug, Default)]
struct Stats {
    lines: u64,
    bytes: u64,
}

/// Runs a `query_range`: the first `limit` matching entries in the query's direction, with an
/// `interval`, only those at least that long after the entry kept before (across streams, as
/// Loki's `readStreams` keeps them).
fn run_range(store: &Store, q: &RangeQuery, stats: &mut Stats) -> Result<Vec<Entry>> {
    let Some(query) = &q.logql else {
        return Ok(Vec::new());
    };
    let Some(mut scan) = scan_for(query) else {
        return Ok(Vec::new());
    };
    scan.start = q.start;
    scan.end = q.end;
    let mut entries: Vec<Entry> = Vec::new();
    scan_entries(store, &mut scan, query, q.forward, None, stats, |entry| {
        let far_enough = entries.last().is_none_or(|last| {
            let apart = if q.forward {
                entry.time_ns.saturating_sub(last.time_ns)
            } else {
                last.time_ns.saturating_sub(entry.time_ns)
            };
            apart >= q.interval
        });
        if far_enough {
            entries.push(entry);
        }
        entries.len() < q.limit
    })?;
    Ok(entries)
}

/// Reads the rows `scan` selects in batches, in time order (`forward` or not), and hands each
/// that passes `query` to `each` as an entry, until `each` returns false or the rows run out.
fn scan_entries(
    store: &Store,
    scan: &mut LogScan,
    query: &LogQl,
    forward: bool,
    needs: Option<&[String]>,
    stats: &mut Stats,
    mut each: impl FnMut(Entry) -> bool,
) -> Result<()> {
    scan.limit = SCAN_BATCH;
    let mut labeler = Labeler::default();
    let reading = Reading::of(query);
    let mut cursor = None;
    loop {
        scan.order = if forward { ScanOrder::Forward(cursor) } else { ScanOrder::Backward(cursor) };
        let rows = store.scan_logs(scan)?;
        let full = rows.len() == SCAN_BATCH;
        cursor = rows.last().map(|r| (r.time_ns, r.id));
        for row in rows {
            stats.lines += 1;
            stats.bytes += row.body.as_ref().map_or(0, |b| b.len() as u64);
            if let Some(entry) = labeler.entry(store, row, query, reading, needs)? {
                if !each(entry) {
                    return Ok(());
                }
            }
        }
        if !full {
            return Ok(());
        }
    }
}

/// Entries grouped into Loki's streams, in order of first appearance; with `categorize`,
/// structured metadata rides as the third element of each value instead of joining the labels.
/// Written as `[{"stream": {…}, "values": [[ts, line(, {"parsed", "structuredMetadata"})], …]}, …]`
/// straight from the entries, which it owns, so that an answer costs its entries and its text
/// rather than a JSON tree of each.
pub(crate) struct Streams(Vec<StreamOut>);

/// One stream of an answer: its labels (sorted) and values in order.
struct StreamOut {
    labels: BTreeMap<String, String>,
    values: Vec<ValueOut>,
}

/// One value of a stream: its time, line and, with `categorize`, its metadata and parsed labels
/// (each sorted by name, the later of a name written twice kept).
struct ValueOut {
    time_ns: i64,
    line: String,
    categorized: Option<[BTreeMap<String, String>; 2]>,
}

impl Streams {
    fn of(entries: Vec<Entry>, categorize: bool) -> Streams {
        use std::hash::{Hash, Hasher};
        let mut streams: Vec<StreamOut> = Vec::new();
        // Streams by the hash of their labels (streams of one hash told apart by their labels).
        let mut by_hash: HashMap<u64, Vec<usize>> = HashMap::new();
        for e in entries {
            let mut labels: BTreeMap<String, String> = e.index.into_iter().collect();
            let categorized = if categorize {
                Some([e.parsed.into_iter().collect(), e.metadata.into_iter().collect()])
            } else {
                for (k, v) in e.metadata {
                    labels.entry(k).or_insert(v);
                }
                // Parsed labels are named apart from stream labels (`_extracted`) and have replaced
                // metadata of their name, so they add.
                labels.extend(e.parsed);
                None
            };
            let value = ValueOut { time_ns: e.time_ns, line: e.line, categorized };
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            labels.hash(&mut hasher);
            let same = by_hash.entry(hasher.finish()).or_default();
            match same.iter().find(|&&i| streams[i].labels == labels) {
                Some(&i) => streams[i].values.push(value),
                None => {
                    same.push(streams.len());
                    streams.push(StreamOut { labels, values: vec![value] });
                }
            }
        }
        Streams(streams)
    }
}

impl serde::Serialize for Streams {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(&self.0)
    }
}

impl serde::Serialize for StreamOut {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut out = s.serialize_map(Some(2))?;
        out.serialize_entry("stream", &self.labels)?;
        out.serialize_entry("values", &self.values)?;
        out.end()
    }
}

impl serde::Serialize for ValueOut {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        struct Extra<'a>(&'a [BTreeMap<String, String>; 2]);
        impl serde::Serialize for Extra<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                let [parsed, metadata] = self.0;
                let mut out = s.serialize_map(None)?;
                if !parsed.is_empty() {
                    out.serialize_entry("parsed", parsed)?;
                }
                if !metadata.is_empty() {
                    out.serialize_entry("structuredMetadata", metadata)?;
                }
                out.end()
            }
        }
        let mut out = s.serialize_seq(Some(2 + usize::from(self.categorized.is_some())))?;
        out.serialize_element(&self.time_ns.to_string())?;
        out.serialize_element(&self.line)?;
        if let Some(extra) = &self.categorized {
            out.serialize_element(&Extra(extra))?;
        }
        out.end()
    }
}

/// The answer of a `query_range` or `query`: a metric query's JSON, or a log query's streams
/// written as they are (see [`Streams`]), both with Loki's keys first.
pub(crate) enum Answer {
    Metric(Value),
    Logs { streams: Streams, categorize: bool, stats: Value },
}

impl serde::Serialize for Answer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Data<'a>(&'a Streams, bool, &'a Value);
        impl serde::Serialize for Data<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                let mut out = s.serialize_map(None)?;
                out.serialize_entry("resultType", "streams")?;
                out.serialize_entry("result", self.0)?;
                if self.1 {
                    out.serialize_entry("encodingFlags", &["categorize-labels"])?;
                }
                out.serialize_entry("stats", self.2)?;
                out.end()
            }
        }
        match self {
            Answer::Metric(value) => Ordered(value, 0).serialize(s),
            Answer::Logs { streams, categorize, stats } => {
                let mut out = s.serialize_map(Some(2))?;
                out.serialize_entry("status", "success")?;
                out.serialize_entry("data", &Data(streams, *categorize, stats))?;
                out.end()
            }
        }
    }
}

pub(crate) fn query_range(
    store: &Store,
    q: &RangeQuery,
    categorize: bool,
) -> Result<std::result::Result<Answer, String>> {
    if let Some(metric) = &q.metric {
        return Ok(metric_answer(store, q, metric)?.map(Answer::Metric));
    }
    log_answer(store, q, categorize).map(Ok)
}

/// A Loki query answer written with its keys in Loki's order — `status`, `data`, and in `data`
/// `resultType` before `result` — where a `Value` writes its keys sorted (`result` first).
/// Grafana's Loki data source reads `data` as a stream and reads `result` by the `resultType`
/// it has already met: with `result` first, every query (its "Save & test" too) failed with
/// `unknown result type`.
pub(crate) struct InLokiOrder(pub(crate) Value);

impl serde::Serialize for InLokiOrder {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        Ordered(&self.0, 0).serialize(s)
    }
}

/// `value` with the keys Loki writes first written first, in its two outer levels.
struct Ordered<'a>(&'a Value, u8);

impl serde::Serialize for Ordered<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        const FIRST: [&str; 4] = ["status", "data", "resultType", "result"];
        let (Value::Object(map), true) = (self.0, self.1 < 2) else { return self.0.serialize(s) };
        let mut out = s.serialize_map(Some(map.len()))?;
        let first = FIRST.iter().filter_map(|k| map.get_key_value(*k));
        for (key, value) in first.chain(map.iter().filter(|(k, _)| !FIRST.contains(&k.as_str()))) {
            out.serialize_entry(key, &Ordered(value, self.1 + 1))?;
        }
        out.end()
    }
}

fn log_answer(store: &Store, q: &RangeQuery, categorize: bool) -> Result<Answer> {
    let started = std::time::Instant::now();
    let mut stats = Stats::default();
    let entries = run_range(store, q, &mut stats)?;
    let returned = entries.len();
    let streams = Streams::of(entries, categorize);
    let stats = json!({ "summary": {
        "execTime": started.elapsed().as_secs_f64(),
        "totalEntriesReturned": returned,
        "totalLinesProcessed": stats.lines,
        "totalBytesProcessed": stats.bytes,
    } });
    Ok(Answer::Logs { streams, categorize, stats })
}

/// The lines a metric query's log query matched, per series: their times (ascending), sizes
/// and unwrapped values.
struct Stream {
    labels: BTreeMap<String, String>,
    times: Vec<i64>,
    bytes: Vec<u64>,
    values: Vec<f64>,
}

/// The matching lines in `[from, to]`, grouped into series by their stream labels, structured
/// metadata (`with_metadata`) and the labels the query's parsers added (less `| drop` names and
/// the unwrapped label), or by `grouping`. The error when there are more than `MAX_STREAMS`
/// series, or when a line has an `__error__` the query does not filter out.
#[allow(clippy::too_many_arguments)]
fn stream_samples(
    store: &Store,
    query: &LogQl,
    unwrap: Option<&Unwrap>,
    grouping: Option<&Grouping>,
    with_metadata: bool,
    from: i64,
    to: i64,
    stats: &mut Stats,
) -> Result<std::result::Result<Vec<Stream>, String>> {
    let Some(mut scan) = scan_for(query) else {
        return Ok(Ok(Vec::new()));
    };
    scan.start = from;
    scan.end = to.saturating_add(1);
    let mut streams: Vec<Stream> = Vec::new();
    let mut by_labels: HashMap<BTreeMap<String, String>, usize> = HashMap::new();
    let mut failure = None;
    // What of the metadata a series' labels keep: none without it, only the grouping's names
    // under `by` (and `__error__`, which fails the query), else all.
    let needs: Option<Vec<String>> = match grouping {
        _ if !with_metadata => Some(Vec::new()),
        Some(g) if !g.without && unwrap.is_none() => {
            Some(g.labels.iter().cloned().chain(["__error__".to_owned()]).collect())
        }
        _ => None,
    };
    scan_entries(store, &mut scan, query, true, needs.as_deref(), stats, |entry| {
        // Loki's sample extractors label a sample with the stream labels, the structured
        // metadata (added before any stage runs) and the parsed labels, in that order of
        // precedence (`| drop`ped names are gone from the entry already).
        let mut labels: BTreeMap<String, String> = entry.index.into_iter().collect();
        for (k, v) in entry.metadata.into_iter().filter(|_| with_metadata) {
            labels.entry(k).or_insert(v);
        }
        let mut details = String::new();
        for (k, v) in entry.parsed {
            if k == "__error_details__" {
                details = v;
            } else {
                labels.insert(k, v);
            }
        }
        let mut value = 0.0;
        if let Some(unwrap) = unwrap {
            // The unwrapped label leaves the series' labels, unless a `by` grouping names it (Loki).
            let kept = grouping.is_some_and(|g| !g.without && g.labels.contains(&unwrap.label));
            let text = if kept { labels.get(&unwrap.label).cloned() } else { labels.remove(&unwrap.label) };
            // A line without the label (or with it empty) gives no sample and no error, as in
            // Loki (grafana/loki#6713).
            let Some(text) = text.filter(|t| !t.is_empty()) else {
                return true;
            };
            match unwrap.conversion.convert(&text) {
                Some(v) => value = v,
                None if !query.keeps_error(logql::SAMPLE_ERROR, unwrap.stages_before) => return true,
                None if !labels.contains_key("__error__") => {
                    labels.insert("__error__".into(), logql::SAMPLE_ERROR.into());
                    details = format!("`{}` is `{text}`, not a {}", unwrap.label, unwrap.conversion.name());
                }
                None => {}
            }
        }
        if let Some(error) = labels.get("__error__") {
            // Only a filter after `| unwrap` sees its own error, as in Loki.
            let how = if error == logql::SAMPLE_ERROR {
                "after | unwrap"
            } else {
                "(after | unwrap too), or keep them apart with | drop __error__"
            };
            failure = Some(format!(
                "pipeline error: {error} ({details}) in series {labels:?}; leave such lines out with | __error__=\"\" {how}"
            ));
            return false;
        }
        if let Some(g) = grouping {
            labels.retain(|k, _| g.keeps(k));
        }
        let i = match by_labels.get(&labels) {
            Some(&i) => i,
            None if streams.len() == MAX_STREAMS => {
                failure = Some(format!(
                    "the query reads more than {MAX_STREAMS} series (sets of stream labels, metadata and parsed \
                     labels): sum them by (…) or narrow its stream selector"
                ));
                return false;
            }
            None => {
                by_labels.insert(labels.clone(), streams.len());
                streams.push(Stream { labels, times: Vec::new(), bytes: Vec::new(), values: Vec::new() });
                streams.len() - 1
            }
        };
        streams[i].times.push(entry.time_ns);
        streams[i].bytes.push(entry.line.len() as u64);
        streams[i].values.push(value);
        true
    })?;
    if let Some(message) = failure {
        return Ok(Err(message));
    }
    Ok(Ok(streams))
}

/// A series of a metric query: labels and `(step index, value)` points in step order; a step
/// with nothing in its range has no point, as in Loki.
#[derive(Clone, Debug)]
struct Series {
    labels: BTreeMap<String, String>,
    points: Vec<(u32, f64)>,
}

/// Values the range functions of one query may look at, a line counting once for every step
/// whose range holds it and a sort (`quantile_over_time`) counting its values times their log:
/// a bound, of seconds in a release build, on the time one query holds the store's reader,
/// which serves no other query meanwhile.
const MAX_WINDOW_WORK: u64 = 10_000_000_000;

/// `n` with thousands separators.
fn format_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The values of a range function at `start + i * step` for `i` in `0..steps`, over the
/// lines of `streams`, looking at no more than `budget` values (see [`MAX_WINDOW_WORK`]); the
/// error is a `400` answer's text.
#[allow(clippy::too_many_arguments)]
fn windows(
    func: RangeFn,
    range_ns: i64,
    unwrapped: bool,
    param: Option<f64>,
    streams: &[Stream],
    start: i64,
    step: i64,
    steps: u32,
    budget: &mut u64,
) -> std::result::Result<Vec<Series>, String> {
    let seconds = range_ns as f64 / 1e9;
    let limit = *budget;
    streams
        .iter()
        .map(|stream| {
            // The window of step t is (t - range, t]; both ends only move forward.
            let (mut lo, mut hi, mut bytes) = (0, 0, 0u64);
            let mut points = Vec::new();
            for i in 0..steps {
                if i % 1024 == 0 && crate::store::abandoned() {
                    return Err("the query was abandoned by its client".into());
                }
                let t = start + i as i64 * step;
                while hi < stream.times.len() && stream.times[hi] <= t {
                    bytes += stream.bytes[hi];
                    hi += 1;
                }
                while lo < hi && i128::from(stream.times[lo]) <= i128::from(t) - i128::from(range_ns) {
                    bytes -= stream.bytes[lo];
                    lo += 1;
                }
                if hi > lo {
                    let window = &stream.values[lo..hi];
                    let cost = window_cost(func, unwrapped, window.len() as u64);
                    if cost > *budget {
                        return Err(format!(
                            "the query would look at more than {} values (each line once for every step whose \
                             range holds it): use a larger step, a shorter range or a narrower query",
                            format_count(limit)
                        ));
                    }
                    *budget -= cost;
                    points.push((i, range_value(func, window, bytes, seconds, unwrapped, param)));
                }
            }
            Ok(Series { labels: stream.labels.clone(), points })
        })
        .filter(|s| s.as_ref().map_or(true, |s| !s.points.is_empty()))
        .collect()
}

/// What a range function's value over a window of `n` lines costs, in values looked at.
fn window_cost(func: RangeFn, unwrapped: bool, n: u64) -> u64 {
    match func {
        RangeFn::CountOverTime | RangeFn::BytesOverTime | RangeFn::BytesRate | RangeFn::AbsentOverTime => 0,
        RangeFn::FirstOverTime | RangeFn::LastOverTime => 0,
        RangeFn::Rate if !unwrapped => 0,
        RangeFn::QuantileOverTime => n * u64::from(64 - n.leading_zeros()),
        _ => n,
    }
}

/// The value of a range function over one window: the unwrapped `values` (or as many zeros
/// as lines), the lines' `bytes`, the range in `seconds`.
fn range_value(func: RangeFn, values: &[f64], bytes: u64, seconds: f64, unwrapped: bool, phi: Option<f64>) -> f64 {
    let count = values.len() as f64;
    let sum = || values.iter().sum::<f64>();
    let variance = || {
        let mean = sum() / count;
        values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / count
    };
    match func {
        RangeFn::CountOverTime => count,
        RangeFn::Rate if unwrapped => sum() / seconds,
        RangeFn::Rate => count / seconds,
        RangeFn::BytesOverTime => bytes as f64,
        RangeFn::BytesRate => bytes as f64 / seconds,
        RangeFn::SumOverTime => sum(),
        RangeFn::AvgOverTime => sum() / count,
        RangeFn::MinOverTime => values.iter().copied().fold(f64::INFINITY, f64::min),
        RangeFn::MaxOverTime => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        RangeFn::FirstOverTime => values[0],
        RangeFn::LastOverTime => values[values.len() - 1],
        RangeFn::StdvarOverTime => variance(),
        RangeFn::StddevOverTime => variance().sqrt(),
        RangeFn::QuantileOverTime => quantile(phi.unwrap_or(0.5), values),
        RangeFn::AbsentOverTime => 1.0,
    }
}

/// The φ-quantile of `values` as Prometheus computes it: linear interpolation between the
/// nearest ranks; below 0 it is −∞, above 1 +∞.
fn quantile(phi: f64, values: &[f64]) -> f64 {
    if phi < 0.0 {
        return f64::NEG_INFINITY;
    }
    if phi > 1.0 {
        return f64::INFINITY;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = phi * (sorted.len() - 1) as f64;
    let (lower, weight) = (rank.floor() as usize, rank - rank.floor());
    let upper = (lower + 1).min(sorted.len() - 1);
    sorted[lower] * (1.0 - weight) + sorted[upper] * weight
}

/// What an aggregation keeps of the values of one group at one step.
#[derive(Clone, Copy)]
struct Acc {
    sum: f64,
    count: f64,
    min: f64,
    max: f64,
    /// The running mean and sum of squared differences from it (Welford's method, as
    /// Prometheus computes `stdvar`).
    mean: f64,
    m2: f64,
}

/// Combines series that share the grouping's labels, step by step.
fn aggregate(op: VectorOp, grouping: &Grouping, series: Vec<Series>) -> Vec<Series> {
    let mut groups: BTreeMap<BTreeMap<String, String>, BTreeMap<u32, Acc>> = BTreeMap::new();
    for s in series {
        let labels = s.labels.into_iter().filter(|(k, _)| grouping.keeps(k)).collect();
        let steps = groups.entry(labels).or_default();
        for (i, v) in s.points {
            let acc = steps.entry(i).or_insert(Acc {
                sum: 0.0,
                count: 0.0,
                min: f64::INFINITY,
                max: f64::NEG_INFINITY,
                mean: 0.0,
                m2: 0.0,
            });
            acc.sum += v;
            acc.count += 1.0;
            acc.min = acc.min.min(v);
            acc.max = acc.max.max(v);
            let delta = v - acc.mean;
            acc.mean += delta / acc.count;
            acc.m2 += delta * (v - acc.mean);
        }
    }
    groups
        .into_iter()
        .map(|(labels, steps)| Series {
            labels,
            points: steps
                .into_iter()
                .map(|(i, acc)| {
                    (
                        i,
                        match op {
                            VectorOp::Sum => acc.sum,
                            VectorOp::Count => acc.count,
                            VectorOp::Min => acc.min,
                            VectorOp::Max => acc.max,
                            VectorOp::Avg => acc.sum / acc.count,
                            VectorOp::Stdvar => acc.m2 / acc.count,
                            VectorOp::Stddev => (acc.m2 / acc.count).sqrt(),
                        },
                    )
                })
                .collect(),
        })
        .collect()
}

/// A Prometheus-style `[time, "value"]` pair: seconds in whole milliseconds, as Loki's points
/// have them (whole seconds without a fraction), the value printed shortest.
fn sample(t_ns: i64, v: f64) -> Value {
    let ms = t_ns.div_euclid(1_000_000);
    let time = if ms % 1000 == 0 { json!(ms / 1000) } else { json!(ms as f64 / 1e3) };
    let text = match v {
        f64::INFINITY => "+Inf".to_owned(),
        f64::NEG_INFINITY => "-Inf".to_owned(),
        v => v.to_string(),
    };
    json!([time, text])
}

/// Why a metric query stopped: a `400` answer's text, or the store failed.
enum Stop {
    Bad(String),
    Store(StoreError),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Stop {
        Stop::Store(e)
    }
}

impl From<String> for Stop {
    fn from(message: String) -> Stop {
        Stop::Bad(message)
    }
}

/// What a metric query evaluates to: a number (at every step), or series.
enum Evaluated {
    Scalar(f64),
    Vector(Vec<Series>),
}

/// The evaluation of one metric query, over the steps of the request.
struct Evaluation<'a> {
    store: &'a Store,
    q: &'a RangeQuery,
    steps: u32,
    /// Values the range functions may still look at (see [`MAX_WINDOW_WORK`]).
    budget: u64,
    stats: Stats,
}

impl Evaluation<'_> {
    fn eval(&mut self, metric: &Metric) -> std::result::Result<Evaluated, Stop> {
        Ok(match metric {
            Metric::Literal(v) => Evaluated::Scalar(*v),
            Metric::Constant(v) => Evaluated::Vector(vec![Series {
                labels: BTreeMap::new(),
                points: (0..self.steps).map(|i| (i, *v)).collect(),
            }]),
            Metric::Range { .. } => Evaluated::Vector(self.range(metric, None)?),
            Metric::Vector { op, grouping, inner } => {
                let series = match &**inner {
                    // As Loki does (canInjectVectorGrouping), a sum's grouping applies to the
                    // lines of the counting or summing range function right under it, which has
                    // none of its own: the sum is the same, and a query over many metadata sets
                    // (a trace id each) does not hold a series for each.
                    Metric::Range { func, grouping: None, .. }
                        if *op == VectorOp::Sum
                            && matches!(
                                func,
                                RangeFn::CountOverTime
                                    | RangeFn::Rate
                                    | RangeFn::BytesOverTime
                                    | RangeFn::BytesRate
                                    | RangeFn::SumOverTime
                            ) =>
                    {
                        self.range(inner, Some(grouping))?
                    }
                    _ => self.vector(inner)?,
                };
                Evaluated::Vector(aggregate(*op, grouping, series))
            }
            Metric::LabelReplace { inner, dst, replacement, src, regex } => {
                let series = self.vector(inner)?;
                Evaluated::Vector(label_replace(series, dst, replacement, src, regex).map_err(Stop::Bad)?)
            }
            Metric::Top { bottom, k, grouping, inner } => {
                let series = self.vector(inner)?;
                Evaluated::Vector(top(*bottom, *k, grouping, series))
            }
            Metric::Sort { desc, inner } => {
                let mut series = self.vector(inner)?;
                // An instant query's vector in the order of the values (NaN last, as Prometheus
                // sorts); a matrix is ordered by labels anyway.
                let key = |s: &Series| s.points.first().map_or(f64::NAN, |p| p.1);
                series.sort_by(|a, b| {
                    let (a, b) = (key(a), key(b));
                    match (a.is_nan(), b.is_nan()) {
                        (false, false) if *desc => b.total_cmp(&a),
                        (false, false) => a.total_cmp(&b),
                        (nan_a, nan_b) => nan_a.cmp(&nan_b),
                    }
                });
                Evaluated::Vector(series)
            }
            Metric::Binary { op, lhs, rhs, return_bool, matching } => {
                let (lhs, rhs) = (self.eval(lhs)?, self.eval(rhs)?);
                Evaluated::Vector(match (lhs, rhs) {
                    (Evaluated::Scalar(l), Evaluated::Scalar(r)) => return Ok(Evaluated::Scalar(op.apply(l, r))),
                    (Evaluated::Vector(v), Evaluated::Scalar(n)) => with_scalar(*op, *return_bool, v, n, false),
                    (Evaluated::Scalar(n), Evaluated::Vector(v)) => with_scalar(*op, *return_bool, v, n, true),
                    (Evaluated::Vector(l), Evaluated::Vector(r)) if op.is_set() => set_operation(*op, matching, l, r),
                    (Evaluated::Vector(l), Evaluated::Vector(r)) => vector_match(*op, *return_bool, matching, l, r)?,
                })
            }
        })
    }

    /// The series of a metric query that is not a number (the parser sees to that).
    fn vector(&mut self, metric: &Metric) -> std::result::Result<Vec<Series>, Stop> {
        match self.eval(metric)? {
            Evaluated::Vector(series) => Ok(series),
            Evaluated::Scalar(_) => Err(Stop::Bad("expected a metric query, not a number".into())),
        }
    }

    /// The series of a range function, its lines grouped by `injected` when a sum above it
    /// groups them.
    fn range(&mut self, metric: &Metric, injected: Option<&Grouping>) -> std::result::Result<Vec<Series>, Stop> {
        let Metric::Range { func, query, range_ns, offset_ns, unwrap, grouping, param } = metric else {
            return self.vector(metric);
        };
        let grouping = injected.or(grouping.as_ref());
        // With an `offset`, step t looks at the range ending at t - offset.
        let (start, end) = (self.q.start.saturating_sub(*offset_ns), self.q.end.saturating_sub(*offset_ns));
        let from = start.saturating_sub(*range_ns);
        let streams = stream_samples(self.store, query, unwrap.as_ref(), grouping, true, from, end, &mut self.stats)??;
        let unwrapped = unwrap.is_some();
        let series =
            windows(*func, *range_ns, unwrapped, *param, &streams, start, self.q.step, self.steps, &mut self.budget)?;
        if *func != RangeFn::AbsentOverTime {
            return Ok(series);
        }
        // Loki's absent evaluator: 1 at each step where no series has a point.
        let mut present = vec![false; self.steps as usize];
        for s in &series {
            for &(i, _) in &s.points {
                present[i as usize] = true;
            }
        }
        let points: Vec<(u32, f64)> = (0..self.steps).filter(|&i| !present[i as usize]).map(|i| (i, 1.0)).collect();
        let labels = query.absent_labels().into_iter().collect();
        Ok(if points.is_empty() { Vec::new() } else { vec![Series { labels, points }] })
    }
}

/// The labels of `labels` for which `keeps` holds (a grouping's or a matching's).
fn kept_labels(labels: &BTreeMap<String, String>, keeps: impl Fn(&str) -> bool) -> BTreeMap<String, String> {
    labels.iter().filter(|(k, _)| keeps(k)).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Series from points gathered by label set, each one's points in step order.
fn into_series(by_labels: BTreeMap<BTreeMap<String, String>, Vec<(u32, f64)>>) -> Vec<Series> {
    by_labels
        .into_iter()
        .map(|(labels, mut points)| {
            points.sort_by_key(|p| p.0);
            Series { labels, points }
        })
        .collect()
}

/// `label_replace`: each series whose label `src` (empty when it has none) matches `regex` gets
/// `dst` set to the expansion of `replacement` (Go's `Regexp.ExpandString`: `$1`, `${1}`,
/// `$name`, `$$`), or removed when that is empty; the others are kept as they are. Two series
/// that end with one set of labels and a sample at one step are an error, as in Loki.
fn label_replace(
    series: Vec<Series>,
    dst: &str,
    replacement: &str,
    src: &str,
    regex: &regex::Regex,
) -> std::result::Result<Vec<Series>, String> {
    let mut out: BTreeMap<BTreeMap<String, String>, Vec<(u32, f64)>> = BTreeMap::new();
    for mut s in series {
        let value = s.labels.get(src).map_or("", String::as_str);
        if let Some(captures) = regex.captures(value) {
            let mut expanded = String::new();
            captures.expand(replacement, &mut expanded);
            if expanded.is_empty() {
                s.labels.remove(dst);
            } else {
                s.labels.insert(dst.to_owned(), expanded);
            }
        }
        let points = out.entry(s.labels).or_default();
        if !points.is_empty() {
            let steps: std::collections::HashSet<u32> = points.iter().map(|p| p.0).collect();
            if s.points.iter().any(|p| steps.contains(&p.0)) {
                return Err("vector cannot contain metrics with the same labelset (after label_replace)".into());
            }
        }
        points.extend(s.points);
    }
    Ok(into_series(out))
}

/// `topk` (`bottomk` when `bottom`): at each step, the `k` series of each group with the
/// largest (smallest) values; NaN counts as the smallest for `topk` and the largest for
/// `bottomk`, as in Prometheus.
fn top(bottom: bool, k: usize, grouping: &Grouping, series: Vec<Series>) -> Vec<Series> {
    let keys: Vec<_> = series.iter().map(|s| kept_labels(&s.labels, |k| grouping.keeps(k))).collect();
    let mut at_step: BTreeMap<u32, Vec<(usize, f64)>> = BTreeMap::new();
    for (n, s) in series.iter().enumerate() {
        for &(i, v) in &s.points {
            at_step.entry(i).or_default().push((n, v));
        }
    }
    let mut kept: Vec<Vec<(u32, f64)>> = vec![Vec::new(); series.len()];
    for (i, samples) in at_step {
        let mut groups: BTreeMap<&BTreeMap<String, String>, Vec<(usize, f64)>> = BTreeMap::new();
        for (n, v) in samples {
            groups.entry(&keys[n]).or_default().push((n, v));
        }
        for (_, mut group) in groups {
            // The higher the rank, the sooner kept; NaN last either way.
            let rank = |v: f64| match (v.is_nan(), bottom) {
                (true, _) => f64::NEG_INFINITY,
                (false, false) => v,
                (false, true) => -v,
            };
            // Largest first (for bottomk: smallest first), ties in label order.
            group.sort_by(|a, b| rank(b.1).total_cmp(&rank(a.1)).then(series[a.0].labels.cmp(&series[b.0].labels)));
            for (n, v) in group.into_iter().take(k) {
                kept[n].push((i, v));
            }
        }
    }
    series
        .into_iter()
        .zip(kept)
        .filter(|(_, points)| !points.is_empty())
        .map(|(s, points)| Series { labels: s.labels, points })
        .collect()
}

/// `vector op n` (`n op vector` when `swapped`): each sample with the number, as Loki's
/// `MergeBinOp` does: a comparison keeps the sample (its value, the vector's) when it holds,
/// or gives 1 or 0 with `bool`.
fn with_scalar(op: BinOp, return_bool: bool, series: Vec<Series>, n: f64, swapped: bool) -> Vec<Series> {
    series
        .into_iter()
        .map(|s| Series {
            labels: s.labels,
            points: s
                .points
                .into_iter()
                .filter_map(|(i, v)| {
                    let value = if swapped { op.apply(n, v) } else { op.apply(v, n) };
                    if op.is_comparison() && !return_bool {
                        (value == 1.0).then_some((i, v))
                    } else {
                        Some((i, value))
                    }
                })
                .collect(),
        })
        .filter(|s| !s.points.is_empty())
        .collect()
}

/// `and`, `or` and `unless`, step by step, series matched on all their labels (or `on` /
/// `ignoring` some), as Prometheus and Loki do: `and` keeps the left samples that have a match,
/// `unless` those that have none, `or` all of them and the right samples without a match.
fn set_operation(op: BinOp, matching: &Matching, lhs: Vec<Series>, rhs: Vec<Series>) -> Vec<Series> {
    let at_steps = |side: &[Series]| {
        let mut found: std::collections::HashSet<(u32, BTreeMap<String, String>)> = std::collections::HashSet::new();
        for s in side {
            let sig = kept_labels(&s.labels, |k| matching.keeps(k));
            found.extend(s.points.iter().map(|&(i, _)| (i, sig.clone())));
        }
        found
    };
    let right = at_steps(&rhs);
    let keep = |s: Series, other: &std::collections::HashSet<(u32, BTreeMap<String, String>)>, wanted: bool| {
        let sig = kept_labels(&s.labels, |k| matching.keeps(k));
        let points = s.points.into_iter().filter(|&(i, _)| other.contains(&(i, sig.clone())) == wanted).collect();
        Series { labels: s.labels, points }
    };
    let mut out: Vec<Series> = match op {
        BinOp::And => lhs.into_iter().map(|s| keep(s, &right, true)).collect(),
        BinOp::Unless => lhs.into_iter().map(|s| keep(s, &right, false)).collect(),
        _ => {
            let left = at_steps(&lhs);
            let mut out = lhs;
            out.extend(rhs.into_iter().map(|s| keep(s, &left, false)));
            out
        }
    };
    out.retain(|s| !s.points.is_empty());
    out
}

/// `lhs op rhs` between two vectors, series matched on their labels (or `on` / `ignoring` some),
/// as Loki and Prometheus do. One to one, the result has the matched labels; with `group_left`
/// (`group_right`) each series of the left (right) side, the "many" side, is matched with one of
/// the other and keeps its own labels, plus the `group_left (…)` ones copied from that series (or
/// removed where it has none). A comparison keeps the left sample when it holds (or gives 1 or 0
/// with `bool`). Two series of the "one" side matching at one step are an error, and so are two
/// results with one set of labels at one step.
fn vector_match(
    op: BinOp,
    return_bool: bool,
    matching: &Matching,
    lhs: Vec<Series>,
    rhs: Vec<Series>,
) -> std::result::Result<Vec<Series>, String> {
    let (include, swapped) = match &matching.card {
        Card::OneToOne => (None, false),
        Card::ManyToOne(include) => (Some(include), false),
        Card::OneToMany(include) => (Some(include), true),
    };
    let (many, one, one_side) = if swapped { (rhs, lhs, "left") } else { (lhs, rhs, "right") };
    let mut ones: HashMap<BTreeMap<String, String>, Vec<&Series>> = HashMap::new();
    for s in &one {
        ones.entry(kept_labels(&s.labels, |k| matching.keeps(k))).or_default().push(s);
    }
    let mut seen = std::collections::HashSet::new();
    let mut out: BTreeMap<BTreeMap<String, String>, Vec<(u32, f64)>> = BTreeMap::new();
    for m in &many {
        let sig = kept_labels(&m.labels, |k| matching.keeps(k));
        let Some(candidates) = ones.get(&sig) else {
            continue;
        };
        for &(i, many_value) in &m.points {
            let mut found = candidates.iter().filter_map(|o| {
                let at = o.points.binary_search_by_key(&i, |p| p.0).ok()?;
                Some((*o, o.points[at].1))
            });
            let Some((o, one_value)) = found.next() else {
                continue;
            };
            if found.next().is_some() {
                return Err(format!(
                    "found duplicate series for the match group {sig:?} on the {one_side} hand-side of the operation: \
                     many-to-many matching not allowed: matching labels must be unique on one side"
                ));
            }
            // Prometheus' resultMetric: the signature one to one (the `on` labels only, or all but
            // the ignored ones); else the "many" series' labels with the included ones of the other.
            let labels = match include {
                None => sig.clone(),
                Some(include) => {
                    let mut labels = m.labels.clone();
                    for name in include {
                        match o.labels.get(name) {
                            Some(value) => labels.insert(name.clone(), value.clone()),
                            None => labels.remove(name),
                        };
                    }
                    labels
                }
            };
            if !seen.insert((i, labels.clone())) {
                return Err(match include {
                    None => format!(
                        "multiple matches for labels {sig:?}: many-to-one matching must be explicit \
                         (group_left/group_right)"
                    ),
                    Some(_) => {
                        format!("multiple matches for labels {labels:?}: grouping labels must ensure unique matches")
                    }
                });
            }
            let (lv, rv) = if swapped { (one_value, many_value) } else { (many_value, one_value) };
            let value = op.apply(lv, rv);
            if op.is_comparison() && !return_bool {
                if value == 1.0 {
                    out.entry(labels).or_default().push((i, lv));
                }
            } else {
                out.entry(labels).or_default().push((i, value));
            }
        }
    }
    Ok(into_series(out))
}

/// The answer to a metric query: a matrix (`query_range`) or a vector (`query`); a number is a
/// scalar at one instant and a series without labels over a range, as Loki answers
/// (`evalLiteral`, `PopulateMatrixFromScalar`).
fn metric_answer(store: &Store, q: &RangeQuery, metric: &Metric) -> Result<std::result::Result<Value, String>> {
    let started = std::time::Instant::now();
    let steps = (span(q.start, q.end) / q.step + 1) as u32;
    let mut run = Evaluation { store, q, steps, budget: MAX_WINDOW_WORK, stats: Stats::default() };
    let evaluated = match run.eval(metric) {
        Ok(evaluated) => evaluated,
        Err(Stop::Bad(message)) => return Ok(Err(message)),
        Err(Stop::Store(e)) => return Err(e),
    };
    let at = |i: u32| q.start + i as i64 * q.step;
    let mut series = match evaluated {
        Evaluated::Scalar(v) if q.instant => {
            return Ok(Ok(metric_body("scalar", sample(q.start, v), &run.stats, started)));
        }
        Evaluated::Scalar(v) => vec![Series { labels: BTreeMap::new(), points: (0..steps).map(|i| (i, v)).collect() }],
        Evaluated::Vector(series) => series,
    };
    series.retain(|s| !s.points.is_empty());
    if series.len() > MAX_SERIES {
        return Ok(Err(format!("maximum of series ({MAX_SERIES}) reached for a single query")));
    }
    // Loki answers with its series sorted by their labels, but keeps the order of `sort` and
    // `sort_desc` in an instant query.
    if !(q.instant && metric.sorts()) {
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
    }
    let (kind, result): (&str, Vec<Value>) = if q.instant {
        let result = series
            .into_iter()
            .filter_map(|s| s.points.first().map(|&(i, v)| json!({ "metric": s.labels, "value": sample(at(i), v) })))
            .collect();
        ("vector", result)
    } else {
        let result = series
            .into_iter()
            .map(|s| {
                let values: Vec<Value> = s.points.iter().map(|&(i, v)| sample(at(i), v)).collect();
                json!({ "metric": s.labels, "values": values })
            })
            .collect();
        ("matrix", result)
    };
    Ok(Ok(metric_body(kind, Value::Array(result), &run.stats, started)))
}

fn metric_body(kind: &str, result: Value, stats: &Stats, started: std::time::Instant) -> Value {
    json!({ "status": "success", "data": {
        "resultType": kind,
        "result": result,
        "stats": { "summary": {
            "execTime": started.elapsed().as_secs_f64(),
            "totalLinesProcessed": stats.lines,
            "totalBytesProcessed": stats.bytes,
        } },
    } })
}

/// The stream label sets of records in `[start, end)`.
fn stream_label_sets(store: &Store, start: i64, end: i64) -> Result<Vec<Labels>> {
    let mut labeler = Labeler::default();
    let mut sets = Vec::new();
    for (resource_id, severity, text) in store.log_streams(start, end)? {
        let mut labels = labeler.resource(store, resource_id)?.index.clone();
        labels.push(("level".into(), level(severity, text.as_deref()).into()));
        sets.push(labels);
    }
    Ok(sets)
}

/// Range parameters of the label endpoints (Loki looks six hours back by default).
pub(crate) fn label_range(params: &Params<'_>) -> std::result::Result<(i64, i64, Option<LogQl>), String> {
    let (start, end) = time_range(params, 6 * 3_600_000_000_000)?;
    let query = match params.get(&["query"]) {
        Some((_, text)) => Some(logql::parse(text).map_err(|e| e.to_string())?),
        None => None,
    };
    Ok((start, end, query))
}

/// `GET /loki/api/v1/labels`: the stream label names in the range, sorted, of streams that the
/// query's selector (if any) matches, as Loki answers.
pub(crate) fn label_names(store: &Store, start: i64, end: i64, query: Option<&LogQl>) -> Result<Value> {
    let mut names: Vec<String> = stream_label_sets(store, start, end)?
        .into_iter()
        .filter(|labels| query.is_none_or(|q| selects(q, labels)))
        .flatten()
        .map(|(k, _)| k)
        .collect();
    names.sort();
    names.dedup();
    Ok(json!({ "status": "success", "data": names }))
}

/// `GET /loki/api/v1/label/{name}/values`: the values of a stream label in the range, sorted,
/// among streams that the query's selector (if any) matches.
pub(crate) fn label_values(store: &Store, name: &str, start: i64, end: i64, query: Option<&LogQl>) -> Result<Value> {
    let mut values: Vec<String> = stream_label_sets(store, start, end)?
        .into_iter()
        .filter(|labels| query.is_none_or(|q| selects(q, labels)))
        .filter_map(|labels| labels.into_iter().find(|(k, _)| k == name).map(|(_, v)| v))
        .collect();
    values.sort();
    values.dedup();
    Ok(json!({ "status": "success", "data": values }))
}

/// `GET /loki/api/v1/detected_labels`: each stream label name in the range, of streams that the
/// query's selector (if any) matches, with its number of distinct values, sorted by name, as
/// Loki answers (no `status` envelope): `{"detectedLabels":[{"label","cardinality"}]}`.
pub(crate) fn detected_labels(store: &Store, start: i64, end: i64, query: Option<&LogQl>) -> Result<Value> {
    let mut values: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
    for labels in stream_label_sets(store, start, end)?.into_iter().filter(|l| query.is_none_or(|q| selects(q, l))) {
        for (name, value) in labels {
            values.entry(name).or_default().insert(value);
        }
    }
    let detected: Vec<Value> =
        values.into_iter().map(|(label, v)| json!({ "label": label, "cardinality": v.len() })).collect();
    Ok(json!({ "detectedLabels": detected }))
}

/// A detected field: its distinct values, the parsers that found it (none for structured
/// metadata), its type, and the keys of its path in the JSON lines it was found in.
#[derive(Debug, Default)]
struct Detected {
    values: std::collections::BTreeSet<String>,
    parsers: std::collections::BTreeSet<&'static str>,
    kind: &'static str,
    json_path: Option<Vec<String>>,
}

impl Detected {
    /// Counts `value`; the type is the one of every value, else `string`.
    fn add(&mut self, value: String) {
        let kind = logql::field_type(&value);
        self.kind = if self.values.is_empty() || self.kind == kind { kind } else { "string" };
        self.values.insert(value);
    }
}

/// Lines `detected_fields` samples unless asked otherwise (Loki's `line_limit` default).
const DETECTED_LINES: usize = 1000;

/// Reads the parameters of `detected_fields` and `detected_field/{name}/values`: the range and
/// query of the label endpoints (the query is required, as Loki requires it), `line_limit` (the
/// newest lines sampled, at most `MAX_ENTRIES` as a query's lines are) and `limit` (fields or
/// values listed at most).
pub(crate) fn detected_params(params: &Params<'_>) -> std::result::Result<(i64, i64, LogQl, usize, usize), String> {
    let (start, end, query) = label_range(params)?;
    let query = query.ok_or("the query parameter is required: a stream selector such as {service_name=\"web\"}")?;
    let number = |name: &'static str, default: usize| match params.get(&[name]) {
        None => Ok(default),
        Some((_, v)) => v.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| format!("malformed `{name}`: `{v}`")),
    };
    let lines = number("line_limit", DETECTED_LINES)?.min(MAX_ENTRIES);
    // `field_limit` is the older name logcli still sends; `limit` wins, as in Loki.
    let fields = if params.get(&["limit"]).is_some() { "limit" } else { "field_limit" };
    Ok((start, end, query, lines, number(fields, DETECTED_LINES)?))
}

/// The fields of the newest `lines` lines in the range that `query` selects, as Loki's
/// `detected_fields` finds them (pkg/querier/queryrange/detected_fields.go): each record's
/// structured metadata (found by no parser), and the keys of a JSON or logfmt line
/// (`_extracted` added to a stream label's name, as the parsers add it; a JSON key with the
/// path of keys to it), each with its distinct values, the parsers that found it and its type
/// (that of every value, else `string`).
fn sample_fields(
    store: &Store,
    start: i64,
    end: i64,
    query: &LogQl,
    lines: usize,
) -> Result<BTreeMap<String, Detected>> {
    let mut fields: BTreeMap<String, Detected> = BTreeMap::new();
    let Some(mut scan) = scan_for(query) else { return Ok(fields) };
    scan.start = start;
    scan.end = end;
    let mut seen = 0;
    scan_entries(store, &mut scan, query, false, None, &mut Stats::default(), |entry| {
        for (name, value) in entry.metadata {
            fields.entry(name).or_default().add(value);
        }
        if let Some((parser, found)) = logql::line_fields(&entry.line) {
            for (mut name, value, path) in found {
                // Named as `| json` and `| logfmt` name it beside a stream label of its name.
                if entry.index.iter().any(|(k, _)| *k == name) {
                    name.push_str("_extracted");
                }
                let field = fields.entry(name).or_default();
                field.add(value);
                field.parsers.insert(parser);
                if path.is_some() {
                    field.json_path = path;
                }
            }
        }
        seen += 1;
        seen < lines
    })?;
    Ok(fields)
}

/// `GET /loki/api/v1/detected_fields`: the fields of a sample of the newest lines (see
/// [`sample_fields`]), in Loki's shape: `parsers` is `null` for a field of structured metadata
/// only, and a field found in JSON lines has its `jsonPath`.
pub(crate) fn detected_fields(
    store: &Store,
    (start, end, query, lines, limit): (i64, i64, LogQl, usize, usize),
) -> Result<Value> {
    let fields: Vec<Value> = sample_fields(store, start, end, &query, lines)?
        .into_iter()
        .take(limit)
        .map(|(label, field)| {
            let parsers: Option<Vec<&str>> = (!field.parsers.is_empty()).then(|| field.parsers.into_iter().collect());
            let mut out =
                json!({ "label": label, "type": field.kind, "cardinality": field.values.len(), "parsers": parsers });
            if let Some(path) = field.json_path {
                out["jsonPath"] = json!(path);
            }
            out
        })
        .collect();
    Ok(json!({ "fields": fields, "limit": limit }))
}

/// `GET /loki/api/v1/detected_field/{name}/values`: the distinct values of one detected field.
pub(crate) fn detected_field_values(
    store: &Store,
    name: &str,
    (start, end, query, lines, limit): (i64, i64, LogQl, usize, usize),
) -> Result<Value> {
    let values: Vec<String> = sample_fields(store, start, end, &query, lines)?
        .remove(name)
        .map(|field| field.values.into_iter().take(limit).collect())
        .unwrap_or_default();
    Ok(json!({ "values": values, "limit": limit }))
}

/// Reads one stream selector (no pipeline) from `text`, for the index endpoints.
fn selector_only(name: &str, text: &str) -> std::result::Result<LogQl, String> {
    let query = logql::parse(text).map_err(|e| e.to_string())?;
    if !query.stages.is_empty() {
        return Err(format!("`{name}` takes a stream selector only, such as {{service_name=\"checkout\"}}"));
    }
    Ok(query)
}

/// Whether stream labels `labels` satisfy every matcher of `query`'s selector.
fn selects(query: &LogQl, labels: &Labels) -> bool {
    query.selector.iter().all(|m| m.matches(labels.iter().find(|(k, _)| *k == m.name).map_or("", |(_, v)| v)))
}

/// Reads `GET /loki/api/v1/series`: `match[]` or `match` (repeated; Loki reads both), `start`,
/// `end`, `since`. No selector, or one `{}`, stands for every stream, as in Loki.
pub(crate) fn series_params(params: &Params<'_>) -> std::result::Result<(i64, i64, Vec<LogQl>), String> {
    let (start, end) = time_range(params, 6 * 3_600_000_000_000)?;
    let mut texts: Vec<&str> = params
        .0
        .iter()
        .filter(|(k, v)| (k == "match[]" || k == "match") && !v.is_empty())
        .map(|(_, v)| &v[..])
        .collect();
    texts.sort_unstable();
    texts.dedup();
    if let [only] = texts[..] {
        if only.chars().filter(|c| *c != ' ').eq("{}".chars()) {
            texts.clear();
        }
    }
    let selectors =
        texts.into_iter().map(|v| selector_only("match[]", v)).collect::<std::result::Result<Vec<_>, _>>()?;
    Ok((start, end, selectors))
}

/// `GET /loki/api/v1/series`: the distinct stream label sets in the range that one of the
/// selectors selects (every one without selectors), sorted.
pub(crate) fn series(store: &Store, start: i64, end: i64, selectors: &[LogQl]) -> Result<Value> {
    let mut sets: Vec<Labels> = stream_label_sets(store, start, end)?
        .into_iter()
        .filter(|labels| selectors.is_empty() || selectors.iter().any(|q| selects(q, labels)))
        .map(|mut labels| {
            labels.sort();
            labels
        })
        .collect();
    sets.sort();
    sets.dedup();
    let data: Vec<Value> =
        sets.into_iter().map(|labels| json!(labels.into_iter().collect::<BTreeMap<_, _>>())).collect();
    Ok(json!({ "status": "success", "data": data }))
}

/// Reads the `query` (a stream selector), `start` and `end` of the index endpoints.
pub(crate) fn index_params(params: &Params<'_>) -> std::result::Result<(i64, i64, LogQl), String> {
    let (start, end) = time_range(params, 3_600_000_000_000)?;
    if end < start {
        return Err("end timestamp must not be before start time".into());
    }
    let (_, text) = params.get(&["query"]).ok_or("the `query` parameter is required")?;
    Ok((start, end, selector_only("query", text)?))
}

/// Records of one stream (sorted stream labels, `level` among them) in one time bucket.
struct StreamTotal {
    labels: Labels,
    bucket: i64,
    records: u64,
    bytes: u64,
}

/// What the selector-only `query` selects in `scan`'s range, per stream and bucket (see
/// [`Store::log_totals`]), counted in the store without reading a record: `None` when the
/// selector names a label other than the stream labels, which only the records hold (a record's
/// `trace_id`, its other structured metadata), so that each record must be read.
fn stream_totals(
    store: &Store,
    query: &LogQl,
    scan: &LogScan,
    buckets: Option<(i64, i64)>,
) -> Result<Option<Vec<StreamTotal>>> {
    debug_assert!(query.stages.is_empty(), "a selector only");
    if query.uses_labels_outside(&[INDEXED_LABEL_NAMES, &["level"]].concat()) {
        return Ok(None);
    }
    let mut labeler = Labeler::default();
    let mut out = Vec::new();
    for total in store.log_totals(scan, buckets)? {
        let mut labels = labeler.resource(store, total.resource_id)?.index.clone();
        labels.push(("level".into(), level(total.severity, total.severity_text.as_deref()).into()));
        labels.sort();
        if selects(query, &labels) {
            out.push(StreamTotal { labels, bucket: total.bucket, records: total.records, bytes: total.bytes });
        }
    }
    Ok(Some(out))
}

/// `GET /loki/api/v1/index/stats`: how many streams, entries and bytes (of lines) the selector
/// resolves to in `[start, end]`. This store has no chunks; each stream counts as one. A
/// selector of stream labels is answered from the store's counts; one that names structured
/// metadata reads every record in range.
pub(crate) fn index_stats(store: &Store, start: i64, end: i64, query: &LogQl) -> Result<Value> {
    let (mut streams, mut entries, mut bytes) = (std::collections::HashSet::new(), 0u64, 0u64);
    if let Some(mut scan) = scan_for(query) {
        scan.start = start;
        scan.end = end.saturating_add(1);
        match stream_totals(store, query, &scan, None)? {
            Some(totals) => {
                for total in totals {
                    entries += total.records;
                    bytes += total.bytes;
                    streams.insert(total.labels);
                }
            }
            None => scan_entries(store, &mut scan, query, true, Some(&[]), &mut Stats::default(), |entry| {
                entries += 1;
                bytes += entry.line.len() as u64;
                streams.insert(entry.index);
                true
            })?,
        }
    }
    Ok(json!({ "streams": streams.len(), "chunks": streams.len(), "entries": entries, "bytes": bytes }))
}

/// A `GET /loki/api/v1/index/volume` (`range`: `volume_range`) request.
#[derive(Debug)]
pub(crate) struct VolumeQuery {
    query: LogQl,
    start: i64,
    end: i64,
    step: i64,
    limit: usize,
    /// The labels to aggregate into: `targetLabels`, else those the selector names.
    target: Vec<String>,
    /// `aggregateBy=labels`: one series per label name, whatever its values.
    by_name: bool,
    range: bool,
}

/// Reads `query`, `start`, `end`, `limit` (100), `step`, `targetLabels` and `aggregateBy`.
pub(crate) fn volume_params(params: &Params<'_>, range: bool) -> std::result::Result<VolumeQuery, String> {
    let (start, end, query) = index_params(params)?;
    let step = if range { step(params, start, end)? } else { span(start, end).max(1) };
    let target = match params.get(&["targetLabels"]) {
        Some((_, text)) => text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        None => {
            let mut names: Vec<String> = query.selector.iter().map(|m| m.name.clone()).collect();
            names.dedup();
            names
        }
    };
    let by_name = match params.get(&["aggregateBy"]).map(|(_, v)| v) {
        None | Some("series") => false,
        Some("labels") => true,
        Some(other) => return Err(format!("invalid aggregateBy `{other}`: expected series or labels")),
    };
    Ok(VolumeQuery { query, start, end, step, limit: limit(params, false)?, target, by_name, range })
}

/// `GET /loki/api/v1/index/volume(_range)`: bytes of lines per combination of the target labels
/// (or per target label name, with `aggregateBy=labels`), over the whole range as a vector or
/// per `step` as a matrix; the `limit` largest series, largest first.
pub(crate) fn volume(store: &Store, q: &VolumeQuery) -> Result<std::result::Result<Value, String>> {
    let steps = if q.range { (span(q.start, q.end) / q.step + 1) as u32 } else { 1 };
    // Bytes per stream (its labels) and step. A line at `t` counts in the step whose window,
    // `(at - width, at]`, holds it: with a range, step `ceil((t - start) / step)`.
    let mut lines: HashMap<BTreeMap<String, String>, BTreeMap<u32, u64>> = HashMap::new();
    // From the store's counts when the selector names stream labels only.
    let origin = if q.range { q.start.checked_sub(q.step - 1) } else { Some(q.start) };
    let counted = match (origin, scan_for(&q.query)) {
        (_, None) => Some(Vec::new()),
        (Some(origin), Some(mut scan)) if q.end.saturating_add(1).checked_sub(origin).is_some() => {
            scan.start = origin;
            scan.end = q.end.saturating_add(1);
            stream_totals(store, &q.query, &scan, q.range.then_some((origin, q.step)))?
        }
        _ => None,
    };
    match counted {
        Some(totals) => {
            for total in totals.into_iter().filter(|t| t.bucket < i64::from(steps)) {
                let by_step = lines.entry(total.labels.into_iter().collect()).or_default();
                *by_step.entry(total.bucket as u32).or_default() += total.bytes;
            }
        }
        None => {
            let from = if q.range { q.start.saturating_sub(q.step) } else { q.start.saturating_sub(1) };
            // Volumes are of streams, as Loki's index counts them: structured metadata stays out.
            let mut stats = Stats::default();
            let streams = match stream_samples(store, &q.query, None, None, false, from, q.end, &mut stats)? {
                Ok(streams) => streams,
                Err(message) => return Ok(Err(message)),
            };
            for stream in streams {
                let by_step = lines.entry(stream.labels).or_default();
                for (&t, &bytes) in stream.times.iter().zip(&stream.bytes) {
                    // Before step 0's window (negative): in no step.
                    let after = i128::from(t) - i128::from(q.start);
                    let step = match q.range {
                        true => -(-after).div_euclid(q.step.into()),
                        false => after.signum().min(0),
                    };
                    match u32::try_from(step) {
                        Ok(step) if step < steps => *by_step.entry(step).or_default() += bytes,
                        _ => {}
                    }
                }
            }
        }
    }
    // Each stream's lines go into the groups it belongs to.
    let mut groups: BTreeMap<BTreeMap<String, String>, BTreeMap<u32, u64>> = BTreeMap::new();
    for (labels, by_step) in lines {
        let keys: Vec<BTreeMap<String, String>> = if q.by_name {
            q.target.iter().filter(|n| labels.contains_key(*n)).map(|n| [(n.clone(), String::new())].into()).collect()
        } else {
            vec![q.target.iter().filter_map(|n| Some((n.clone(), labels.get(n)?.clone()))).collect()]
        };
        for key in keys {
            let group = groups.entry(key).or_default();
            for (&step, &bytes) in &by_step {
                *group.entry(step).or_default() += bytes;
            }
        }
    }
    let at = |i: u32| if q.range { q.start + i as i64 * q.step } else { q.end };
    let mut series: Vec<(u64, Series)> = groups
        .into_iter()
        .map(|(labels, by_step)| {
            let total = by_step.values().sum::<u64>();
            let points = by_step.into_iter().filter(|&(_, b)| b > 0).map(|(i, b)| (i, b as f64)).collect();
            (total, Series { labels, points })
        })
        .filter(|(_, s)| !s.points.is_empty())
        .collect();
    series.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.labels.cmp(&b.1.labels)));
    series.truncate(q.limit);
    let result: Vec<Value> = series
        .into_iter()
        .map(|(_, Series { labels, points })| {
            if q.range {
                let values: Vec<Value> = points.iter().map(|&(i, v)| sample(at(i), v)).collect();
                json!({ "metric": labels, "values": values })
            } else {
                json!({ "metric": labels, "value": sample(at(0), points[0].1) })
            }
        })
        .collect();
    let kind = if q.range { "matrix" } else { "vector" };
    Ok(Ok(json!({ "status": "success", "data": { "resultType": kind, "result": result } })))
}

/// The state of one live tail: where it is in the store and how it labels records.
#[derive(Debug)]
pub(crate) struct Tail {
    query: TailQuery,
    scan: Option<LogScan>,
    labeler: Labeler,
    reading: Reading,
    /// The last record id looked at.
    after: i64,
}

impl Tail {
    /// A tail of `query`; its first message holds the last `limit` matching records up to the
    /// newest record now stored.
    pub(crate) fn new(query: TailQuery) -> Tail {
        let scan = scan_for(&query.logql);
        let labeler = Labeler::default();
        let reading = Reading::of(&query.logql);
        Tail { query, scan, labeler, reading, after: 0 }
    }

    /// The first message: recent records from `start`, oldest first.
    pub(crate) fn backlog(&mut self, store: &Store, categorize: bool) -> Result<Value> {
        self.after = store.last_log_id()?;
        let Some(mut scan) = self.scan.clone() else {
            return Ok(tail_message(Vec::new(), categorize));
        };
        scan.start = self.query.start;
        scan.end = i64::MAX;
        scan.limit = SCAN_BATCH;
        let mut entries = Vec::new();
        let mut cursor = None;
        'scan: loop {
            scan.order = ScanOrder::Backward(cursor);
            let rows = store.scan_logs(&scan)?;
            let full = rows.len() == SCAN_BATCH;
            cursor = rows.last().map(|r| (r.time_ns, r.id));
            for row in rows {
                // Records that arrived after the watermark come with the live part.
                if row.id > self.after {
                    continue;
                }
                if let Some(e) = self.labeler.entry(store, row, &self.query.logql, self.reading, None)? {
                    entries.push(e);
                    if entries.len() == self.query.limit {
                        break 'scan;
                    }
                }
            }
            if !full {
                break;
            }
        }
        entries.reverse();
        Ok(tail_message(entries, categorize))
    }

    /// The next message of records that arrived since the last one, if any matched; reads at
    /// most one batch, so call again while it says more may be waiting.
    pub(crate) fn next(&mut self, store: &Store, categorize: bool) -> Result<(Option<Value>, bool)> {
        let Some(mut scan) = self.scan.clone() else {
            self.after = store.last_log_id()?;
            return Ok((None, false));
        };
        scan.start = i64::MIN;
        scan.end = i64::MAX;
        scan.limit = SCAN_BATCH;
        scan.order = ScanOrder::Arrival(self.after);
        // The newest record before the scan, not after it: an export committed while the scan
        // and the labelling ran has later ids, which the next call reads (moving past the newest
        // id after the scan skipped whole exports).
        let last = store.last_log_id()?;
        let rows = store.scan_logs(&scan)?;
        let more = rows.len() == SCAN_BATCH;
        let mut entries = Vec::new();
        for row in rows {
            self.after = self.after.max(row.id);
            if let Some(e) = self.labeler.entry(store, row, &self.query.logql, self.reading, None)? {
                entries.push(e);
            }
        }
        if !more {
            // Rows the narrowed scan skipped, up to the newest when it began, are behind us too.
            self.after = self.after.max(last);
        }
        Ok(((!entries.is_empty()).then(|| tail_message(entries, categorize)), more))
    }
}

/// A tail message: `{"streams": […], "dropped_entries": null}`.
fn tail_message(entries: Vec<Entry>, categorize: bool) -> Value {
    json!({ "streams": Streams::of(entries, categorize), "dropped_entries": null })
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        /// How many records' metadata this thread has parsed (see `Labeler::metadata`).
        pub(super) static METADATA_READ: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn timestamps_read_as_loki_reads_them() {
        assert_eq!(parse_time("start", "1700000000").unwrap(), 1_700_000_000_000_000_000);
        assert_eq!(parse_time("start", "1700000000000000001").unwrap(), 1_700_000_000_000_000_001);
        assert_eq!(parse_time("start", "1700000000.25").unwrap(), 1_700_000_000_250_000_000);
        assert_eq!(parse_time("start", "2023-11-14T22:13:20Z").unwrap(), 1_700_000_000_000_000_000);
        assert!(parse_time("start", "yesterday").unwrap_err().contains("could not parse 'start' parameter"));
    }

    #[test]
    fn range_parameters_are_checked_as_loki_checks_them() {
        let p = params(&[("query", r#"{service_name="a"}"#), ("start", "10"), ("end", "20"), ("limit", "7")]);
        let q = range_query(&Params(&p)).unwrap();
        assert_eq!((q.start, q.end, q.limit, q.forward), (10_000_000_000, 20_000_000_000, 7, false));
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "`query` parameter is required"),
            (&[("query", "{")], "parse error at line 1"),
            (&[("query", r#"{a="b"}"#), ("limit", "0")], "limit must be a positive value"),
            (&[("query", r#"{a="b"}"#), ("limit", "5001")], "(5001 > 5000)"),
            (&[("query", r#"{a="b"}"#), ("direction", "sideways")], "invalid direction"),
            (&[("query", r#"{a="b"}"#), ("start", "20"), ("end", "10")], "end timestamp must not be before"),
            (&[("query", r#"{a="b"}"#), ("since", "forever")], "could not parse 'since'"),
        ];
        for (pairs, message) in cases {
            let e = range_query(&Params(&params(pairs))).unwrap_err();
            assert!(e.contains(message), "{pairs:?}: {e}");
        }
        let forward = params(&[("query", r#"{a="b"}"#), ("direction", "FORWARD")]);
        assert!(range_query(&Params(&forward)).unwrap().forward);
        let slow = params(&[("query", r#"{a="b"}"#), ("delay_for", "6")]);
        assert!(tail_query(&Params(&slow)).unwrap_err().contains("delay_for can't be greater than 5"));
    }

    /// The series of the first range function of `metric` over `streams`.
    fn evaluate(
        metric: &Metric,
        streams: &[Stream],
        start: i64,
        step: i64,
        steps: u32,
        budget: &mut u64,
    ) -> std::result::Result<Vec<Series>, String> {
        let Metric::Range { func, range_ns, unwrap, param, .. } = metric.ranges()[0] else { unreachable!() };
        windows(*func, *range_ns, unwrap.is_some(), *param, streams, start, step, steps, budget)
    }

    /// Times at the ends of what `start` and `end` may say (Unix seconds with a fraction, or
    /// nanoseconds) neither overflow the arithmetic of steps and windows nor make a query
    /// evaluate more than its points.
    #[test]
    fn times_at_the_far_ends_neither_overflow_nor_run_away() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        let ends = [
            ("-9223372036854775808", "9223372036854775807"),
            ("-9000000000.0", "9000000000.0"),
            ("-9223372036854775808", "-9223372036854775800"),
        ];
        for (start, end) in ends {
            for query in [r#"count_over_time({a="b"}[5m])"#, r#"sum(rate({a="b"}[1y]))"#] {
                let p = params(&[("query", query), ("start", start), ("end", end)]);
                let q = range_query(&Params(&p)).unwrap();
                let points = (i128::from(q.end) - i128::from(q.start)) / i128::from(q.step);
                assert!(points <= i128::from(MAX_POINTS), "{start}..{end}: {points} points");
                let answer = serde_json::to_value(query_range(&store, &q, false).unwrap().unwrap()).unwrap();
                assert_eq!(answer["data"]["result"], json!([]));
                // One line at each end: every step's window is worked out without overflow.
                let Some(metric) = &q.metric else { panic!("a metric query") };
                let stream = Stream {
                    labels: BTreeMap::new(),
                    times: vec![q.start, q.end],
                    bytes: vec![1, 1],
                    values: vec![0.0, 0.0],
                };
                let steps = (span(q.start, q.end) / q.step + 1) as u32;
                let series = evaluate(metric, &[stream], q.start, q.step, steps, &mut MAX_WINDOW_WORK.clone()).unwrap();
                assert_eq!(series.len(), 1);
            }
            let p = params(&[("query", r#"{a="b"}"#), ("start", start), ("end", end)]);
            for range in [false, true] {
                let q = volume_params(&Params(&p), range).unwrap();
                assert_eq!(volume(&store, &q).unwrap().unwrap()["data"]["result"], json!([]));
            }
        }
    }

    /// A range function that looks at every value of its range at every step stops once it
    /// has looked at its budget of values (a sort counting its values times their log), so one
    /// query cannot hold the store's reader for minutes; counting lines costs nothing.
    #[test]
    fn range_functions_over_values_stop_at_their_budget() {
        let metric = |text: &str| match logql::parse_query(text).unwrap() {
            logql::Query::Metric(m) => m,
            logql::Query::Log(_) => panic!("a metric query"),
        };
        let n = 1_000;
        let stream = || Stream {
            labels: BTreeMap::new(),
            times: (0..n).collect(),
            bytes: vec![1; n as usize],
            values: (0..n).map(|v| v as f64).collect(),
        };
        // 100 steps, each with all 1,000 lines in its range: 100,000 values looked at.
        let sum = metric(r#"sum(sum_over_time({a="b"} | unwrap x [1h]))"#);
        assert!(evaluate(&sum, &[stream()], n, 1, 100, &mut 100_000).is_ok());
        let Err(e) = evaluate(&sum, &[stream()], n, 1, 100, &mut 99_999) else { panic!("over its budget") };
        assert!(e.contains("more than 99,999 values"), "{e}");
        // A quantile sorts: 1,000 values cost 1,000 × 10.
        let quantile = metric(r#"quantile_over_time(0.5, {a="b"} | unwrap x [1h])"#);
        assert!(evaluate(&quantile, &[stream()], n, 1, 100, &mut 1_000_000).is_ok());
        assert!(evaluate(&quantile, &[stream()], n, 1, 100, &mut 999_999).is_err());
        let count = metric(r#"count_over_time({a="b"}[1h])"#);
        assert!(evaluate(&count, &[stream()], n, 1, 100, &mut 0).is_ok());
        let last = metric(r#"last_over_time({a="b"} | unwrap x [1h])"#);
        assert!(evaluate(&last, &[stream()], n, 1, 100, &mut 0).is_ok());
        assert_eq!(format_count(MAX_WINDOW_WORK), "10,000,000,000");
    }

    fn series(labels: &[(&str, &str)], points: &[(u32, f64)]) -> Series {
        Series { labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), points: points.to_vec() }
    }

    /// Prometheus' (and Loki's) vector matching: one to one on the signature, the set
    /// operators per step, topk with NaN as the smallest value.
    #[test]
    fn vectors_match_step_by_step_as_prometheus_matches_them() {
        let on = |labels: &[&str]| Matching {
            on: true,
            labels: labels.iter().map(|l| l.to_string()).collect(),
            card: Card::OneToOne,
        };
        // Two right series with one signature at one step: many-to-many, refused.
        let lhs = vec![series(&[("a", "1"), ("b", "x")], &[(0, 4.0)])];
        let rhs = vec![series(&[("a", "1"), ("b", "y")], &[(0, 2.0)]), series(&[("a", "1"), ("b", "z")], &[(0, 1.0)])];
        let e = vector_match(BinOp::Div, false, &on(&["a"]), lhs.clone(), rhs.clone()).err().unwrap();
        assert!(e.contains("on the right hand-side") && e.contains("many-to-many"), "{e}");
        // At different steps they do not clash.
        let rhs = vec![series(&[("a", "1"), ("b", "y")], &[(0, 2.0)]), series(&[("a", "1"), ("b", "z")], &[(1, 1.0)])];
        let lhs = vec![series(&[("a", "1"), ("b", "x")], &[(0, 4.0), (1, 3.0)])];
        let out = vector_match(BinOp::Div, false, &on(&["a"]), lhs.clone(), rhs.clone()).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].labels, BTreeMap::from([("a".to_owned(), "1".to_owned())]));
        assert_eq!(out[0].points, [(0, 2.0), (1, 3.0)]);
        // `and on (a)` keeps the left samples whose `a` the right has at that step.
        let lhs = vec![series(&[("a", "1")], &[(0, 1.0), (1, 1.0), (2, 1.0)]), series(&[("a", "2")], &[(0, 5.0)])];
        let rhs = vec![series(&[("a", "1"), ("c", "q")], &[(1, 9.0)])];
        let and = set_operation(BinOp::And, &on(&["a"]), lhs.clone(), rhs.clone());
        assert_eq!(and.len(), 1);
        assert_eq!(and[0].points, [(1, 1.0)]);
        let unless = set_operation(BinOp::Unless, &on(&["a"]), lhs.clone(), rhs.clone());
        assert_eq!(unless.iter().map(|s| s.points.len()).sum::<usize>(), 3);
        let or = set_operation(BinOp::Or, &on(&["a"]), lhs, rhs);
        assert_eq!(or.len(), 2, "the right series is covered by a=1 on the left at its step");
        // topk: NaN counts as the smallest; bottomk: as the largest.
        let values = vec![series(&[("s", "n")], &[(0, f64::NAN)]), series(&[("s", "one")], &[(0, 1.0)])];
        let top1 = top(false, 1, &Grouping::default(), values.clone());
        assert_eq!(top1.len(), 1);
        assert_eq!(top1[0].labels["s"], "one");
        let bottom1 = top(true, 1, &Grouping::default(), values);
        assert_eq!(bottom1[0].labels["s"], "one");
    }

    #[test]
    fn levels_come_from_the_severity_number_else_the_text() {
        assert_eq!(level(9, None), "info");
        assert_eq!(level(17, Some("whatever")), "error");
        assert_eq!(level(0, Some("WARNING")), "warn");
        assert_eq!(level(0, Some("Critical")), "fatal");
        assert_eq!(level(0, None), "unknown");
        assert_eq!(level(99, Some("ERROR")), "error", "a number outside 1 to 24 gives no level");
        assert_eq!(level(30, None), "unknown");
        for l in ["trace", "debug", "info", "warn", "error", "fatal"] {
            let (lo, hi) = severity_range(l).unwrap();
            assert!((lo..=hi).all(|s| level(s, None) == l));
        }
    }

    #[test]
    fn stats_and_volumes_counted_in_the_store_equal_those_of_every_record_read() {
        use edgescope_otlp::{LogRecord, LogsData, ResourceLogs, ScopeLogs};
        const S: i64 = 1_000_000_000;
        let (start, end, step) = (1_000 * S, 1_600 * S, 60 * S);
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("db")).unwrap();
        // Times on and beside every window's ends, and some between.
        let mut times = vec![start - step, start - step + 1, start - 1, start, start + 1, start + step, end - 1, end];
        times.extend([end + 1, start - 2 * step]);
        times.extend((0..40).map(|i| start + i * 15 * S + i * 7));
        // (severity number, text): a number gives the level, else the text does.
        let severities = [(9, ""), (17, "ERROR"), (0, "WARN"), (0, ""), (99, "fatal"), (13, "")];
        let bodies = [
            Some(AnyValue::String("plain".into())),
            Some(AnyValue::String("é — ünïcode".into())),
            Some(AnyValue::String(String::new())),
            None,
            Some(AnyValue::KvList(vec![KeyValue::new("k", "v")])),
        ];
        // Two resources of "web" in "prod" differ only in metadata (`host.name`): one stream.
        let resources = [("web", "prod", "h1"), ("web", "prod", "h2"), ("web", "dev", "h1"), ("api", "prod", "h3")];
        for (r, (service, env, host)) in resources.into_iter().enumerate() {
            let records = times
                .iter()
                .enumerate()
                .map(|(i, &t)| {
                    let (severity_number, text) = severities[(i + r) % severities.len()];
                    LogRecord {
                        time_unix_nano: t as u64,
                        severity_number,
                        severity_text: text.into(),
                        body: bodies[(i * 3 + r) % bodies.len()].clone(),
                        ..Default::default()
                    }
                })
                .collect();
            let attributes = vec![
                KeyValue::new("service.name", service),
                KeyValue::new("deployment.environment", env),
                KeyValue::new("host.name", host),
            ];
            let scope_logs = vec![ScopeLogs { log_records: records, ..Default::default() }];
            let resource = Resource { attributes, ..Default::default() };
            store
                .insert_logs(&LogsData {
                    resource_logs: vec![ResourceLogs { resource, scope_logs, ..Default::default() }],
                })
                .unwrap();
        }
        let selectors = [
            r#"service_name=~".+""#,
            r#"service_name="web""#,
            r#"service_name="web", level="warn""#,
            r#"service_name=~"w.*|api", deployment_environment!="dev""#,
            r#"level=~"info|error|fatal""#,
            r#"level="unknown""#,
            r#"service_name="none""#,
        ];
        for selector in selectors {
            let counted = logql::parse(&format!("{{{selector}}}")).unwrap();
            // A matcher on a label no stream has (it matches the empty value): each record is read.
            let read = logql::parse(&format!("{{{selector}, no_such_label=~\".*\"}}")).unwrap();
            let mut scan = scan_for(&counted).unwrap_or_default();
            (scan.start, scan.end) = (start, end);
            assert!(stream_totals(&store, &counted, &scan, None).unwrap().is_some(), "{selector}: counted");
            assert!(stream_totals(&store, &read, &scan, None).unwrap().is_none(), "{selector}: read");
            let stats = index_stats(&store, start, end, &counted).unwrap();
            assert_eq!(stats, index_stats(&store, start, end, &read).unwrap(), "{selector}");
            if !selector.contains("none") && !selector.contains("unknown") {
                assert!(stats["entries"].as_u64().unwrap() > 10, "{selector}: {stats}");
            }
            for (range, step, target, by_name) in [
                (false, 0, vec!["service_name"], false),
                (false, 0, vec!["level", "deployment_environment"], false),
                (false, 0, vec!["level", "service_name"], true),
                (true, step, vec!["service_name", "level"], false),
                (true, 7 * S, vec!["level"], false),
                (true, 7 * S + 3, vec!["level", "service_name"], true),
            ] {
                let volume_of = |query: &LogQl| {
                    let target = target.iter().map(|s| s.to_string()).collect();
                    let step = if range { step } else { span(start, end).max(1) };
                    let q = VolumeQuery { query: query.clone(), start, end, step, limit: 100, target, by_name, range };
                    volume(&store, &q).unwrap().unwrap()
                };
                let answer = volume_of(&counted);
                assert_eq!(answer, volume_of(&read), "{selector} {range} {step} {target:?} {by_name}");
                if range && !selector.contains("none") && !selector.contains("unknown") {
                    assert!(answer["data"]["result"][0]["values"].as_array().unwrap().len() > 3, "{answer}");
                }
            }
        }
    }

    #[test]
    fn sums_by_labels_skip_the_metadata_of_records_that_cannot_hold_them_and_answer_the_same() {
        use edgescope_otlp::{InstrumentationScope, LogRecord, LogsData, ResourceLogs, ScopeLogs};
        const S: i64 = 1_000_000_000;
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("db")).unwrap();
        // Where a `detected_level` can come from: a record's attribute (`detected.level` or a map
        // `detected: {level}`), its resource's or its scope's; and records whose JSON only
        // mentions the words.
        let attributes = [
            vec![],
            vec![KeyValue::new("detected.level", "warn")],
            vec![KeyValue { key: "detected".into(), value: Some(AnyValue::KvList(vec![KeyValue::new("level", "x")])) }],
            vec![KeyValue::new("note", "detected a level")],
            vec![KeyValue::new("deployment_environment", "from-record")],
            vec![KeyValue::new("1st", "digit")],
        ];
        let scopes = [
            InstrumentationScope::default(),
            InstrumentationScope { attributes: vec![KeyValue::new("detected_level", "debug")], ..Default::default() },
            InstrumentationScope { name: "named".into(), ..Default::default() },
        ];
        let resources = [
            vec![KeyValue::new("service.name", "web"), KeyValue::new("deployment.environment", "prod")],
            vec![KeyValue::new("service.name", "web")],
            vec![KeyValue::new("service.name", "api"), KeyValue::new("detected_level", "info")],
        ];
        for (r, attributes_of_resource) in resources.into_iter().enumerate() {
            let scope_logs = scopes
                .iter()
                .enumerate()
                .map(|(k, scope)| ScopeLogs {
                    scope: scope.clone(),
                    log_records: (0..60)
                        .map(|i: i64| LogRecord {
                            time_unix_nano: (100 * S + i * 3 * S + k as i64) as u64,
                            severity_number: [9, 13, 17][(i as usize + r) % 3],
                            body: Some(AnyValue::String(format!(
                                "line {i}{}",
                                [" detected level", ""][i as usize % 2]
                            ))),
                            attributes: attributes[(i as usize + k + r) % attributes.len()].clone(),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect();
            let resource = Resource { attributes: attributes_of_resource, ..Default::default() };
            store
                .insert_logs(&LogsData {
                    resource_logs: vec![ResourceLogs { resource, scope_logs, ..Default::default() }],
                })
                .unwrap();
        }
        let answer = |query: &str| {
            let params = params(&[("query", query), ("start", "100"), ("end", "300"), ("step", "30")]);
            let q = range_query(&Params(&params)).unwrap();
            let mut body = serde_json::to_value(query_range(&store, &q, false).unwrap().unwrap()).unwrap();
            body["data"]["stats"].take();
            body
        };
        let metrics = [
            "sum by (level, detected_level) (count_over_time({SEL} | drop __error__ [1m]))",
            "sum by (detected_level) (bytes_over_time({SEL} [30s]))",
            "sum by (deployment_environment) (count_over_time({SEL} [1m]))",
            "sum by (key_1st, scope_name, trace_id) (rate({SEL} [1m]))",
            "sum by (deployment_environment_extracted) (count_over_time({SEL} [1m]))",
            "sum by (service_name) (count_over_time({SEL} [1m]))",
        ];
        let parsed = |query: &str| {
            METADATA_READ.with(|n| n.set(0));
            let body = answer(query);
            (body, METADATA_READ.with(|n| n.get()))
        };
        for metric in metrics {
            let (skipping, skipping_parsed) = parsed(&metric.replace("SEL", r#"service_name=~".+""#));
            // A matcher on a label no stream has makes the query read every record's metadata.
            let (reading, reading_parsed) =
                parsed(&metric.replace("SEL", r#"service_name=~".+", no_such_label=~".*""#));
            assert_eq!(skipping, reading, "{metric}");
            assert!(skipping["data"]["result"].as_array().unwrap().len() > 1, "{metric}: {skipping}");
            assert_eq!(reading_parsed, 3 * 3 * 60, "{metric}: every record read");
            // Skipped: every record for a stream label; those whose JSON lacks the words, for a
            // metadata label; none for a field's label (every record has its fields) or an `_extracted` one.
            let expected = match metric {
                m if m.contains("(service_name)") => 0..=0,
                m if m.contains("trace_id") || m.contains("_extracted") => reading_parsed..=reading_parsed,
                _ => 1..=reading_parsed - 1,
            };
            assert!(expected.contains(&skipping_parsed), "{metric}: {skipping_parsed} of {reading_parsed} parsed");
        }
    }

    #[test]
    fn resource_attributes_loki_indexes_become_stream_labels_and_the_rest_metadata() {
        let resource = Resource {
            attributes: vec![
                KeyValue::new("service.name", "web"),
                KeyValue::new("deployment.environment.name", "prod"),
                KeyValue::new("host.name", "h1"),
                KeyValue::new("process.pid", 42i64),
            ],
            ..Default::default()
        };
        let labels = ResourceLabels::of(&resource);
        assert_eq!(
            labels.index,
            [("service_name".into(), "web".into()), ("deployment_environment_name".into(), "prod".into())]
        );
        assert_eq!(labels.metadata, [("host_name".into(), "h1".into()), ("process_pid".into(), "42".into())]);
        assert_eq!(
            INDEXED_LABEL_NAMES.len(),
            INDEXED_RESOURCE_ATTRIBUTES.len(),
            "one label name per indexed attribute"
        );
        assert!(INDEXED_RESOURCE_ATTRIBUTES.iter().all(|a| INDEXED_LABEL_NAMES.contains(&label_name(a).as_str())));
    }
}
