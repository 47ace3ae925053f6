//! Golden signals from spans: for each service and each of its operations, over time buckets,
//! the request rate, the error count and the p50/p95/p99 duration of its *entry* spans — the
//! spans through which work enters the service: SERVER and CONSUMER spans, and spans whose
//! parent is missing or belongs to another service (a page's click span, a root span). And the
//! service map: calls from one service to another, counted on the child spans whose parent is
//! in a different service, with their errors.

use std::borrow::ToOwned;
use std::collections::{BTreeMap, HashMap};
use std::string::String;
use std::vec::Vec;

use serde::Serialize;

use crate::{StatusCode, TracesData};

/// One span, reduced to what the signals need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanFacts {
    /// The trace id.
    pub trace_id: [u8; 16],
    /// The span id.
    pub span_id: [u8; 8],
    /// The parent span id, if any.
    pub parent_span_id: Option<[u8; 8]>,
    /// `service.name` of the span's resource.
    pub service: String,
    /// The span name (the operation).
    pub name: String,
    /// The OTLP span kind number.
    pub kind: i32,
    /// Start, Unix nanoseconds.
    pub start_ns: i64,
    /// Nanoseconds.
    pub duration_ns: i64,
    /// Whether the status is ERROR.
    pub error: bool,
}

/// The facts of every span in `data`, once per trace id and span id (the same span read twice,
/// say from the searches of two services, counts once).
pub fn facts(data: &TracesData) -> Vec<SpanFacts> {
    let mut seen = std::collections::HashSet::new();
    data.spans()
        .filter(|(_, _, s)| seen.insert((s.trace_id.0, s.span_id.0)))
        .map(|(resource, _, s)| SpanFacts {
            trace_id: s.trace_id.0,
            span_id: s.span_id.0,
            parent_span_id: s.parent_span_id.map(|p| p.0),
            service: resource.service_name().to_owned(),
            name: s.name.clone(),
            kind: s.kind as i32,
            start_ns: i64::try_from(s.start_time_unix_nano).unwrap_or(i64::MAX),
            duration_ns: i64::try_from(s.duration_nanos()).unwrap_or(i64::MAX),
            // Status ERROR, as OpenTelemetry's span metrics count errors (the collector's
            // signals read the stored status code).
            error: s.status.code == StatusCode::Error,
        })
        .collect()
}

/// The bucket width for a window when the request names none: the window in
/// [`DEFAULT_BUCKETS`] parts, at least a second.
pub fn default_step(start: i64, end: i64) -> i64 {
    ((end - start).saturating_add(DEFAULT_BUCKETS - 1) / DEFAULT_BUCKETS).max(1_000_000_000)
}

/// Buckets a window is divided into when the request names no step.
pub const DEFAULT_BUCKETS: i64 = 60;

/// Counts and duration percentiles of a set of entry spans.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    /// Spans.
    pub count: u64,
    /// Spans with an error status.
    pub errors: u64,
    /// Nearest-rank median of the durations, nanoseconds; absent without spans.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p50: Option<i64>,
    /// Nearest-rank 95th percentile, nanoseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p95: Option<i64>,
    /// Nearest-rank 99th percentile, nanoseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99: Option<i64>,
}

/// The nearest-rank percentile `p` (0–100) of sorted values.
fn percentile(sorted: &[i64], p: u64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p as usize * sorted.len()).div_ceil(100).max(1);
    Some(sorted[rank - 1])
}

/// An `i64` as a `u64` of the same order.
fn ordered(x: i64) -> u64 {
    (x as u64) ^ (1 << 63)
}

/// Sorts `(key, index)` pairs. The sorts here go through this one element type, the one the
/// viewer's layout sorts too: each other element type or comparison would be another copy of the
/// standard library's sort (3–5 KB) in the viewer's wasm. With distinct indexes the order is
/// that of a stable sort by key.
fn sort_pairs(pairs: &mut [(u64, usize)]) {
    pairs.sort_unstable();
}

impl Stats {
    fn of(durations: Vec<i64>, errors: u64) -> Stats {
        let mut keyed: Vec<(u64, usize)> = durations.iter().map(|&d| (ordered(d), 0)).collect();
        sort_pairs(&mut keyed);
        let durations: Vec<i64> = keyed.into_iter().map(|(k, _)| (k ^ (1 << 63)) as i64).collect();
        Stats {
            count: durations.len() as u64,
            errors,
            p50: percentile(&durations, 50),
            p95: percentile(&durations, 95),
            p99: percentile(&durations, 99),
        }
    }
}

/// One time bucket of a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    /// Bucket start, Unix nanoseconds.
    pub start: i64,
    /// The entry spans that started in the bucket.
    #[serde(flatten)]
    pub stats: Stats,
}

/// The signals of one operation of a service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperationSignals {
    /// The span name.
    pub operation: String,
    /// Over the whole window.
    pub total: Stats,
    /// Per bucket, every bucket of the window in order (empty ones included).
    pub buckets: Vec<Bucket>,
}

/// The signals of one service: all its entry spans, then per operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceSignals {
    /// `service.name`.
    pub service: String,
    /// Every entry span of the service over the whole window.
    pub total: Stats,
    /// Per bucket, every bucket of the window in order (empty ones included).
    pub buckets: Vec<Bucket>,
    /// Per operation, by name.
    pub operations: Vec<OperationSignals>,
}

/// Calls from one service to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Edge {
    /// The calling service.
    pub parent: String,
    /// The called service.
    pub child: String,
    /// Spans of the child whose parent is a span of the parent service.
    pub call_count: u64,
    /// Those of them with an error status.
    pub error_count: u64,
}

/// The signals of a window (the collector's answer to `GET /api/signals`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signals {
    /// Window start, Unix nanoseconds.
    pub start: i64,
    /// Window end (exclusive), Unix nanoseconds.
    pub end: i64,
    /// Bucket width, nanoseconds.
    pub step: i64,
    /// Per service, by name.
    pub services: Vec<ServiceSignals>,
    /// The service map.
    pub edges: Vec<Edge>,
}

/// Whether each span is an entry span of its service.
fn entries(spans: &[SpanFacts]) -> Vec<bool> {
    let by_id: HashMap<([u8; 16], [u8; 8]), &str> =
        spans.iter().map(|s| ((s.trace_id, s.span_id), s.service.as_str())).collect();
    spans
        .iter()
        .map(|s| {
            let parent = s.parent_span_id.and_then(|p| by_id.get(&(s.trace_id, p)));
            matches!(s.kind, 2 | 5) || parent.is_none_or(|p| *p != s.service)
        })
        .collect()
}

type Series = BTreeMap<i64, (Vec<i64>, u64)>;

fn add(series: &mut Series, bucket: i64, duration: i64, error: bool) {
    let slot = series.entry(bucket).or_default();
    slot.0.push(duration);
    slot.1 += u64::from(error);
}

fn finish(series: Series, start: i64, end: i64, step: i64) -> (Stats, Vec<Bucket>) {
    let mut all = Vec::new();
    let mut all_errors = 0;
    let mut filled: BTreeMap<i64, Stats> = BTreeMap::new();
    for (bucket, (durations, errors)) in series {
        all.extend_from_slice(&durations);
        all_errors += errors;
        filled.insert(bucket, Stats::of(durations, errors));
    }
    // Checked: a window that ends near `i64::MAX` ends where the next bucket would not fit
    // (wrapped, it would never end); a step that is no step makes no buckets.
    let buckets = (0..)
        .map_while(|i: i64| i.checked_mul(step).and_then(|offset| start.checked_add(offset)))
        .take_while(|b| step > 0 && *b < end)
        .map(|b| Bucket { start: b, stats: filled.remove(&b).unwrap_or_default() })
        .collect();
    (Stats::of(all, all_errors), buckets)
}

/// Computes the signals of the entry spans that start in `[start, end)`, in buckets of `step`,
/// for every service or only `service`; and the service map of every span in the window.
pub fn compute(spans: &[SpanFacts], start: i64, end: i64, step: i64, service: Option<&str>) -> Signals {
    let mut signals = SignalsBuilder::new(start, end, step, service);
    signals.add(spans);
    signals.finish()
}

/// [`compute`] a trace at a time: [`SignalsBuilder::add`] takes every span of one or more whole
/// traces (a span's parent is looked up among the spans of the same call), so that a caller
/// reading spans from storage holds one trace's at once, not the window's. What it keeps is the
/// duration of each entry span in the window (for the percentiles) and the service map's counts.
#[derive(Debug)]
pub struct SignalsBuilder {
    start: i64,
    end: i64,
    step: i64,
    service: Option<String>,
    per_service: BTreeMap<String, (Series, BTreeMap<String, Series>)>,
    edges: BTreeMap<(String, String), (u64, u64)>,
}

impl SignalsBuilder {
    /// Signals of `[start, end)` in buckets of `step`, for every service or only `service`.
    pub fn new(start: i64, end: i64, step: i64, service: Option<&str>) -> SignalsBuilder {
        SignalsBuilder {
            start,
            end,
            step: step.max(1),
            service: service.map(ToOwned::to_owned),
            per_service: BTreeMap::new(),
            edges: BTreeMap::new(),
        }
    }

    /// Adds the spans of whole traces.
    pub fn add(&mut self, spans: &[SpanFacts]) {
        let (start, end, step) = (self.start, self.end, self.step);
        let is_entry = entries(spans);
        let by_id: HashMap<([u8; 16], [u8; 8]), &str> =
            spans.iter().map(|s| ((s.trace_id, s.span_id), s.service.as_str())).collect();
        for (span, entry) in spans.iter().zip(is_entry) {
            if span.start_ns < start || span.start_ns >= end {
                continue;
            }
            if let Some(parent) = span.parent_span_id.and_then(|p| by_id.get(&(span.trace_id, p))) {
                if *parent != span.service {
                    let key = ((*parent).to_owned(), span.service.clone());
                    let edge = self.edges.entry(key).or_default();
                    edge.0 += 1;
                    edge.1 += u64::from(span.error);
                }
            }
            if !entry || self.service.as_deref().is_some_and(|s| s != span.service) {
                continue;
            }
            let bucket = start + (span.start_ns - start) / step * step;
            if !self.per_service.contains_key(&span.service) {
                self.per_service.insert(span.service.clone(), Default::default());
            }
            let (all, operations) = self.per_service.get_mut(&span.service).expect("inserted above");
            add(all, bucket, span.duration_ns, span.error);
            if !operations.contains_key(&span.name) {
                operations.insert(span.name.clone(), Series::new());
            }
            add(operations.get_mut(&span.name).expect("inserted above"), bucket, span.duration_ns, span.error);
        }
    }

    /// The buckets [`SignalsBuilder::finish`] would write: one series for each service and each of
    /// its operations, each with every bucket of the window.
    pub fn points(&self) -> u64 {
        let series: usize = self.per_service.values().map(|(_, operations)| 1 + operations.len()).sum();
        let width = u64::try_from(self.end.saturating_sub(self.start)).unwrap_or(0);
        let buckets = width.div_ceil(u64::try_from(self.step).unwrap_or(1));
        (series as u64).saturating_mul(buckets)
    }

    /// The signals of every span added.
    pub fn finish(self) -> Signals {
        let SignalsBuilder { start, end, step, per_service, edges, .. } = self;
        let services = per_service
            .into_iter()
            .map(|(name, (all, operations))| {
                let (total, buckets) = finish(all, start, end, step);
                let operations = operations
                    .into_iter()
                    .map(|(operation, series)| {
                        let (total, buckets) = finish(series, start, end, step);
                        OperationSignals { operation, total, buckets }
                    })
                    .collect();
                ServiceSignals { service: name, total, buckets, operations }
            })
            .collect();
        let edges = edges
            .into_iter()
            .map(|((parent, child), (calls, errors))| Edge { parent, child, call_count: calls, error_count: errors })
            .collect();
        Signals { start, end, step, services, edges }
    }
}

/// One example span of a bucket, for the list under a chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Example {
    /// Lowercase hex.
    pub trace_id: String,
    /// Lowercase hex.
    pub span_id: String,
    /// `service.name`.
    pub service: String,
    /// The span name.
    pub name: String,
    /// Unix nanoseconds.
    pub start: i64,
    /// Nanoseconds.
    pub duration: i64,
    /// Whether the status is ERROR.
    pub error: bool,
}

/// The entry spans of `service` (and `operation`, when given) that start in `[start, end)`,
/// errors first, then slowest first; at most `limit`.
pub fn examples(
    spans: &[SpanFacts],
    service: &str,
    operation: Option<&str>,
    start: i64,
    end: i64,
    limit: usize,
) -> Vec<Example> {
    let mut found = ExamplesBuilder::new(service, operation, start, end, limit);
    found.add(spans);
    found.finish()
}

/// [`examples`] a trace at a time: [`ExamplesBuilder::add`] takes every span of one or more whole
/// traces, and the builder keeps at most `2 × limit` candidates (the slowest errors and the
/// slowest others seen so far), so a caller reading spans from storage holds one trace's at once.
/// Spans of equal duration keep the order they were added in, as a stable sort of them all would.
#[derive(Debug)]
pub struct ExamplesBuilder {
    service: String,
    operation: Option<String>,
    start: i64,
    end: i64,
    limit: usize,
    /// How many spans were taken so far: the tie-break between equal durations.
    seen: u64,
    /// Candidates, keyed slowest first then in the order added: errors, and the others.
    errors: Vec<(u64, u64, Example)>,
    others: Vec<(u64, u64, Example)>,
}

/// Keeps the `limit` smallest keys of `kept` once it holds twice as many (amortised trimming).
fn trim(kept: &mut Vec<(u64, u64, Example)>, limit: usize) {
    kept.sort_unstable_by_key(|(slow, seq, _)| (*slow, *seq));
    kept.truncate(limit);
}

impl ExamplesBuilder {
    /// Examples of `service` (and `operation`) starting in `[start, end)`, at most `limit`.
    pub fn new(service: &str, operation: Option<&str>, start: i64, end: i64, limit: usize) -> ExamplesBuilder {
        ExamplesBuilder {
            service: service.to_owned(),
            operation: operation.map(ToOwned::to_owned),
            start,
            end,
            limit,
            seen: 0,
            errors: Vec::new(),
            others: Vec::new(),
        }
    }

    /// Adds the spans of whole traces.
    pub fn add(&mut self, spans: &[SpanFacts]) {
        let is_entry = entries(spans);
        for (s, entry) in spans.iter().zip(is_entry) {
            if !(entry
                && s.service == self.service
                && self.operation.as_deref().is_none_or(|o| o == s.name)
                && s.start_ns >= self.start
                && s.start_ns < self.end)
            {
                continue;
            }
            let kept = if s.error { &mut self.errors } else { &mut self.others };
            let example = Example {
                trace_id: crate::hex::encode(&s.trace_id),
                span_id: crate::hex::encode(&s.span_id),
                service: s.service.clone(),
                name: s.name.clone(),
                start: s.start_ns,
                duration: s.duration_ns,
                error: s.error,
            };
            kept.push((u64::MAX - ordered(s.duration_ns), self.seen, example));
            self.seen += 1;
            if kept.len() >= self.limit.saturating_mul(2).max(64) {
                trim(kept, self.limit);
            }
        }
    }

    /// Errors first, then the slowest; at most `limit`.
    pub fn finish(mut self) -> Vec<Example> {
        trim(&mut self.errors, self.limit);
        trim(&mut self.others, self.limit);
        self.errors.into_iter().chain(self.others).take(self.limit).map(|(_, _, e)| e).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::too_many_arguments)]
    fn span(
        trace: u8,
        id: u8,
        parent: Option<u8>,
        service: &str,
        name: &str,
        kind: i32,
        start: i64,
        duration: i64,
        error: bool,
    ) -> SpanFacts {
        SpanFacts {
            trace_id: [trace; 16],
            span_id: [id; 8],
            parent_span_id: parent.map(|p| [p; 8]),
            service: service.into(),
            name: name.into(),
            kind,
            start_ns: start,
            duration_ns: duration,
            error,
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50), Some(50));
        assert_eq!(percentile(&values, 95), Some(95));
        assert_eq!(percentile(&values, 99), Some(99));
        assert_eq!(percentile(&[7], 99), Some(7));
        assert_eq!(percentile(&[1, 2, 3], 50), Some(2));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn entry_spans_make_the_signals_and_cross_service_children_the_map() {
        let spans = vec![
            // Trace 1: web click → web fetch (CLIENT) → api SERVER → api internal → db SERVER (error).
            span(1, 1, None, "web", "click", 1, 0, 100, false),
            span(1, 2, Some(1), "web", "GET", 3, 5, 90, false),
            span(1, 3, Some(2), "api", "GET /todos", 2, 10, 80, false),
            span(1, 4, Some(3), "api", "load", 1, 12, 50, false),
            span(1, 5, Some(4), "db", "query", 2, 15, 30, true),
            // Trace 2, in the second bucket: an api root (its parent never arrived).
            span(2, 1, Some(9), "api", "GET /todos", 2, 65, 200, true),
            // Outside the window.
            span(3, 1, None, "api", "GET /todos", 2, 130, 1, false),
        ];
        let s = compute(&spans, 0, 120, 60, None);
        let names: Vec<&str> = s.services.iter().map(|x| x.service.as_str()).collect();
        assert_eq!(names, ["api", "db", "web"]);
        let api = &s.services[0];
        assert_eq!((api.total.count, api.total.errors), (2, 1), "only SERVER spans and roots of api count");
        assert_eq!((api.total.p50, api.total.p99), (Some(80), Some(200)));
        assert_eq!(api.buckets.len(), 2);
        assert_eq!((api.buckets[0].start, api.buckets[0].stats.count, api.buckets[0].stats.p95), (0, 1, Some(80)));
        assert_eq!((api.buckets[1].start, api.buckets[1].stats.errors), (60, 1));
        assert_eq!(api.operations.len(), 1, "`load` is internal with a parent in api: not an entry");
        let web = &s.services[2];
        assert_eq!((web.total.count, web.operations[0].operation.as_str()), (1, "click"), "a root is an entry");
        assert_eq!(
            s.edges,
            [
                Edge { parent: "api".into(), child: "db".into(), call_count: 1, error_count: 1 },
                Edge { parent: "web".into(), child: "api".into(), call_count: 1, error_count: 0 },
            ]
        );
        let only_db = compute(&spans, 0, 120, 60, Some("db"));
        assert_eq!(only_db.services.len(), 1);
        assert_eq!(only_db.services[0].buckets[1].stats, Stats::default(), "an empty bucket has no percentiles");
        // A trace at a time gives the same signals as all the spans at once.
        for service in [None, Some("api")] {
            let mut by_trace = SignalsBuilder::new(0, 120, 60, service);
            for trace in spans.chunk_by(|a, b| a.trace_id == b.trace_id) {
                by_trace.add(trace);
            }
            assert_eq!(by_trace.finish(), compute(&spans, 0, 120, 60, service), "{service:?}");
        }
    }

    #[test]
    fn a_window_that_ends_near_the_largest_time_has_buckets_that_end() {
        // `start + i * step` would overflow past i64::MAX (and, wrapped, never reach the end).
        let spans = vec![span(1, 1, None, "web", "GET", 2, 0, 10, false)];
        let s = compute(&spans, 0, i64::MAX, 1_000_000_000_000_000, None);
        let buckets = &s.services[0].buckets;
        assert_eq!(buckets.len(), 9_224);
        assert_eq!(buckets.last().unwrap().start, 9_223_000_000_000_000_000);
        assert_eq!(buckets[0].stats.count, 1);
    }

    #[test]
    fn facts_read_each_span_once_with_its_service_and_status() {
        use crate::{KeyValue, Resource, ResourceSpans, ScopeSpans, Span, SpanId, SpanKind, Status, TraceId};
        let span = |id: u8, parent: Option<u8>, error: bool| Span {
            trace_id: TraceId([7; 16]),
            span_id: SpanId([id; 8]),
            parent_span_id: parent.map(|p| SpanId([p; 8])),
            name: format!("op{id}"),
            kind: SpanKind::Client,
            start_time_unix_nano: 1_000,
            end_time_unix_nano: 1_250,
            status: Status { code: if error { StatusCode::Error } else { StatusCode::Ok }, ..Default::default() },
            ..Default::default()
        };
        let resource = |service: &str, spans: Vec<Span>| ResourceSpans {
            resource: Resource { attributes: vec![KeyValue::new("service.name", service)], ..Default::default() },
            scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
            ..Default::default()
        };
        // The same trace as two searches return it: span 1 twice.
        let data = TracesData {
            resource_spans: vec![
                resource("web", vec![span(1, None, false)]),
                resource("api", vec![span(2, Some(1), true)]),
                resource("web", vec![span(1, None, false)]),
            ],
        };
        let f = facts(&data);
        assert_eq!(f.len(), 2);
        assert_eq!((f[0].service.as_str(), f[0].name.as_str(), f[0].parent_span_id), ("web", "op1", None));
        assert_eq!((f[1].service.as_str(), f[1].parent_span_id, f[1].kind), ("api", Some([1; 8]), 3));
        assert_eq!((f[1].start_ns, f[1].duration_ns, f[1].error, f[0].error), (1_000, 250, true, false));
    }

    #[test]
    fn the_default_step_cuts_a_window_in_sixty_but_never_below_a_second() {
        assert_eq!(default_step(0, 3_600_000_000_000), 60_000_000_000);
        assert_eq!(default_step(0, 10_000_000_000), 1_000_000_000);
    }

    #[test]
    fn examples_put_errors_first_then_the_slowest() {
        let spans = vec![
            span(1, 1, None, "api", "a", 2, 0, 10, false),
            span(2, 1, None, "api", "a", 2, 1, 30, false),
            span(3, 1, None, "api", "a", 2, 2, 5, true),
            span(4, 1, None, "api", "b", 2, 3, 99, false),
        ];
        let found = examples(&spans, "api", Some("a"), 0, 10, 10);
        assert_eq!(found.iter().map(|e| e.duration).collect::<Vec<_>>(), [5, 30, 10]);
        assert_eq!(found[0].trace_id, "03".repeat(16));
        assert_eq!(examples(&spans, "api", None, 0, 10, 2).len(), 2);
    }

    /// A xorshift64 generator: the same numbers in every run.
    fn xorshift(mut x: u64) -> impl FnMut() -> u64 {
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    #[test]
    fn examples_a_trace_at_a_time_are_the_examples_of_the_whole_window() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15u64);
        // 200 traces of 1 to 4 spans: a root in `web` or `api`, children in `api` (entries only
        // when their parent is in `web`), durations with ties and negatives, a third errors.
        let mut traces: Vec<Vec<SpanFacts>> = Vec::new();
        for t in 0..200u16 {
            let root_service = if next() % 2 == 0 { "web" } else { "api" };
            let mut trace = vec![span(
                (t % 250) as u8,
                1,
                None,
                root_service,
                if next() % 2 == 0 { "a" } else { "b" },
                (next() % 3) as i32,
                i64::from(t) * 10 - 50,
                (next() % 15) as i64 - 3,
                next() % 3 == 0,
            )];
            for id in 2..(2 + next() % 4) as u8 {
                trace.push(span(
                    (t % 250) as u8,
                    id,
                    Some(1),
                    "api",
                    "a",
                    (next() % 3) as i32,
                    i64::from(t) * 10 + i64::from(id),
                    (next() % 15) as i64 - 3,
                    next() % 3 == 0,
                ));
            }
            traces.push(trace);
        }
        let all: Vec<SpanFacts> = traces.concat();
        for (service, operation, limit) in
            [("api", None, 20), ("api", Some("a"), 7), ("web", None, 1000), ("api", None, 0), ("web", Some("b"), 1)]
        {
            let mut builder = ExamplesBuilder::new(service, operation, 0, 1500, limit);
            for trace in &traces {
                builder.add(trace);
            }
            // What a stable sort of the whole window's entry spans gives.
            let mut want: Vec<&SpanFacts> = all
                .iter()
                .zip(entries(&all))
                .filter(|(s, entry)| {
                    *entry
                        && s.service == service
                        && operation.is_none_or(|o| o == s.name)
                        && (0..1500).contains(&s.start_ns)
                })
                .map(|(s, _)| s)
                .collect();
            want.sort_by(|a, b| b.error.cmp(&a.error).then(b.duration_ns.cmp(&a.duration_ns)));
            let key = |t: &str, i: &str, d: i64, e: bool| (t.to_owned(), i.to_owned(), d, e);
            let want: Vec<_> = want
                .iter()
                .take(limit)
                .map(|s| key(&crate::hex::encode(&s.trace_id), &crate::hex::encode(&s.span_id), s.duration_ns, s.error))
                .collect();
            let got = builder.finish();
            assert_eq!(
                got.iter().map(|e| key(&e.trace_id, &e.span_id, e.duration, e.error)).collect::<Vec<_>>(),
                want,
                "{service} {operation:?} {limit}"
            );
            assert_eq!(got, examples(&all, service, operation, 0, 1500, limit));
        }
    }

    #[test]
    fn examples_and_percentiles_keep_the_order_of_a_stable_sort_with_negative_durations_and_ties() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1du64);
        let spans: Vec<SpanFacts> = (0..300u16)
            .map(|i| {
                let duration = (next() % 21) as i64 - 5;
                span((i % 250) as u8, (i / 250) as u8, None, "api", "a", 2, i64::from(i), duration, next() % 3 == 0)
            })
            .collect();
        let mut want: Vec<&SpanFacts> = spans.iter().collect();
        want.sort_by(|a, b| b.error.cmp(&a.error).then(b.duration_ns.cmp(&a.duration_ns)));
        let got = examples(&spans, "api", None, 0, 1000, 1000);
        let key = |t: &str, d: i64, e: bool| (t.to_owned(), d, e);
        assert_eq!(
            got.iter().map(|e| key(&e.trace_id, e.duration, e.error)).collect::<Vec<_>>(),
            want.iter().map(|s| key(&crate::hex::encode(&s.trace_id), s.duration_ns, s.error)).collect::<Vec<_>>()
        );
        let durations: Vec<i64> = spans.iter().map(|s| s.duration_ns).collect();
        let mut sorted = durations.clone();
        sorted.sort_unstable();
        let stats = Stats::of(durations, 0);
        assert_eq!(
            (stats.p50, stats.p95, stats.p99),
            (percentile(&sorted, 50), percentile(&sorted, 95), percentile(&sorted, 99))
        );
        assert_eq!(stats.p50.map(i64::is_negative), sorted.get(149).map(|d| d.is_negative()));
    }
}
