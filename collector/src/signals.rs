//! Golden signals from spans: for each service and each of its operations, over time buckets,
//! the request rate, the error count and the p50/p95/p99 duration of its *entry* spans — the
//! spans through which work enters the service: SERVER and CONSUMER spans, and spans whose
//! parent is missing or belongs to another service (a page's click span, a root span). And the
//! service map: calls from one service to another, counted on the child spans whose parent is
//! in a different service, with their errors.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::store::SpanFacts;

/// Buckets a window is divided into when the request names no step.
pub(crate) const DEFAULT_BUCKETS: i64 = 60;

/// Counts and duration percentiles of a set of entry spans.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct Stats {
    /// Spans.
    pub(crate) count: u64,
    /// Spans with an error status.
    pub(crate) errors: u64,
    /// Nearest-rank percentiles of the durations, nanoseconds; absent without spans.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) p50: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) p95: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) p99: Option<i64>,
}

/// The nearest-rank percentile `p` (0–100) of sorted values.
fn percentile(sorted: &[i64], p: u64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p as usize * sorted.len()).div_ceil(100).max(1);
    Some(sorted[rank - 1])
}

impl Stats {
    fn of(mut durations: Vec<i64>, errors: u64) -> Stats {
        durations.sort_unstable();
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
pub(crate) struct Bucket {
    /// Bucket start, Unix nanoseconds.
    pub(crate) start: i64,
    #[serde(flatten)]
    pub(crate) stats: Stats,
}

/// The signals of one operation of a service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct OperationSignals {
    pub(crate) operation: String,
    pub(crate) total: Stats,
    pub(crate) buckets: Vec<Bucket>,
}

/// The signals of one service: all its entry spans, then per operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ServiceSignals {
    pub(crate) service: String,
    pub(crate) total: Stats,
    pub(crate) buckets: Vec<Bucket>,
    pub(crate) operations: Vec<OperationSignals>,
}

/// Calls from one service to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Edge {
    pub(crate) parent: String,
    pub(crate) child: String,
    pub(crate) call_count: u64,
    pub(crate) error_count: u64,
}

/// The answer of `GET /api/signals`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Signals {
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) step: i64,
    pub(crate) services: Vec<ServiceSignals>,
    pub(crate) edges: Vec<Edge>,
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
    let buckets = (0..)
        .map(|i| start + i * step)
        .take_while(|b| *b < end)
        .map(|b| Bucket { start: b, stats: filled.remove(&b).unwrap_or_default() })
        .collect();
    (Stats::of(all, all_errors), buckets)
}

/// Computes the signals of the entry spans that start in `[start, end)`, in buckets of `step`,
/// for every service or only `service`; and the service map of every span in the window.
pub(crate) fn compute(spans: &[SpanFacts], start: i64, end: i64, step: i64, service: Option<&str>) -> Signals {
    let step = step.max(1);
    let is_entry = entries(spans);
    let by_id: HashMap<([u8; 16], [u8; 8]), &str> =
        spans.iter().map(|s| ((s.trace_id, s.span_id), s.service.as_str())).collect();
    let mut per_service: BTreeMap<&str, (Series, BTreeMap<&str, Series>)> = BTreeMap::new();
    let mut edges: BTreeMap<(&str, &str), (u64, u64)> = BTreeMap::new();
    for (span, entry) in spans.iter().zip(is_entry) {
        if span.start_ns < start || span.start_ns >= end {
            continue;
        }
        if let Some(parent) = span.parent_span_id.and_then(|p| by_id.get(&(span.trace_id, p))) {
            if *parent != span.service {
                let edge = edges.entry((parent, &span.service)).or_default();
                edge.0 += 1;
                edge.1 += u64::from(span.error);
            }
        }
        if !entry || service.is_some_and(|s| s != span.service) {
            continue;
        }
        let bucket = start + (span.start_ns - start) / step * step;
        let (all, operations) = per_service.entry(&span.service).or_default();
        add(all, bucket, span.duration_ns, span.error);
        add(operations.entry(&span.name).or_default(), bucket, span.duration_ns, span.error);
    }
    let services = per_service
        .into_iter()
        .map(|(name, (all, operations))| {
            let (total, buckets) = finish(all, start, end, step);
            let operations = operations
                .into_iter()
                .map(|(op, series)| {
                    let (total, buckets) = finish(series, start, end, step);
                    OperationSignals { operation: op.to_owned(), total, buckets }
                })
                .collect();
            ServiceSignals { service: name.to_owned(), total, buckets, operations }
        })
        .collect();
    let edges = edges
        .into_iter()
        .map(|((parent, child), (calls, errors))| Edge {
            parent: parent.to_owned(),
            child: child.to_owned(),
            call_count: calls,
            error_count: errors,
        })
        .collect();
    Signals { start, end, step, services, edges }
}

/// One example span of a bucket, for the list under a chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Example {
    pub(crate) trace_id: String,
    pub(crate) span_id: String,
    pub(crate) service: String,
    pub(crate) name: String,
    pub(crate) start: i64,
    pub(crate) duration: i64,
    pub(crate) error: bool,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The entry spans of `service` (and `operation`, when given) that start in `[start, end)`,
/// errors first, then slowest first; at most `limit`.
pub(crate) fn examples(
    spans: &[SpanFacts],
    service: &str,
    operation: Option<&str>,
    start: i64,
    end: i64,
    limit: usize,
) -> Vec<Example> {
    let is_entry = entries(spans);
    let mut found: Vec<&SpanFacts> = spans
        .iter()
        .zip(is_entry)
        .filter(|(s, entry)| {
            *entry
                && s.service == service
                && operation.is_none_or(|o| o == s.name)
                && s.start_ns >= start
                && s.start_ns < end
        })
        .map(|(s, _)| s)
        .collect();
    found.sort_by(|a, b| b.error.cmp(&a.error).then(b.duration_ns.cmp(&a.duration_ns)));
    found
        .into_iter()
        .take(limit)
        .map(|s| Example {
            trace_id: hex(&s.trace_id),
            span_id: hex(&s.span_id),
            service: s.service.clone(),
            name: s.name.clone(),
            start: s.start_ns,
            duration: s.duration_ns,
            error: s.error,
        })
        .collect()
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
}
