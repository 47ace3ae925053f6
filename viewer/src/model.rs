//! The viewer's in-memory model: a trace laid out as waterfall rows, and log lines. Plain Rust,
//! tested natively; the views only read it.

use std::collections::HashMap;

use edgescope_otlp::{LogsData, Span, StatusCode, TracesData};

/// One waterfall row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The span.
    pub span: Span,
    /// `service.name` of its resource.
    pub service: String,
    /// Nesting depth: 0 for roots.
    pub depth: usize,
    /// Start relative to the trace start, as a fraction of the trace duration (0–1).
    pub offset: f64,
    /// Duration as a fraction of the trace duration (0–1).
    pub width: f64,
    /// Whether the span's status is an error.
    pub error: bool,
}

/// A trace ready to draw.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trace {
    /// Lowercase hex.
    pub trace_id: String,
    /// Rows in depth-first order, siblings by start time.
    pub rows: Vec<Row>,
    /// Earliest start, Unix nanoseconds.
    pub start: u64,
    /// Latest end minus earliest start.
    pub duration: u64,
    /// Distinct services, in order of first appearance.
    pub services: Vec<String>,
    /// Deepest nesting + 1.
    pub depth: usize,
    /// Spans with an error status.
    pub errors: usize,
}

impl Trace {
    /// Lays out the first trace of a document that may hold several (a Jaeger search answer, a
    /// file of many traces): the spans that share the first span's trace id.
    pub fn build_first(data: &TracesData) -> Trace {
        let Some(first) = data.spans().next().map(|(_, _, s)| s.trace_id) else { return Trace::default() };
        if data.spans().all(|(_, _, s)| s.trace_id == first) {
            return Trace::build(data);
        }
        let mut only = data.clone();
        for rs in &mut only.resource_spans {
            for ss in &mut rs.scope_spans {
                ss.spans.retain(|s| s.trace_id == first);
            }
        }
        Trace::build(&only)
    }

    /// Lays out the spans of one trace. Spans whose parent is missing become roots, so a
    /// partial trace still shows every span.
    pub fn build(data: &TracesData) -> Trace {
        let spans: Vec<(String, &Span)> = data.spans().map(|(r, _, s)| (r.service_name().to_owned(), s)).collect();
        let Some(first) = spans.first() else {
            return Trace::default();
        };
        let start = spans.iter().map(|(_, s)| s.start_time_unix_nano).min().unwrap_or(0);
        let end = spans.iter().map(|(_, s)| s.end_time_unix_nano.max(s.start_time_unix_nano)).max().unwrap_or(start);
        let duration = end - start;

        let index: HashMap<_, _> = spans.iter().enumerate().map(|(i, (_, s))| (s.span_id, i)).collect();
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); spans.len()];
        let mut roots = Vec::new();
        for (i, (_, s)) in spans.iter().enumerate() {
            match s.parent_span_id.and_then(|p| index.get(&p)).filter(|&&p| p != i) {
                Some(&p) => children[p].push(i),
                None => roots.push(i),
            }
        }
        let by_start = |v: &mut Vec<usize>| v.sort_by_key(|&i| (spans[i].1.start_time_unix_nano, i));
        by_start(&mut roots);
        children.iter_mut().for_each(by_start);

        let mut rows = Vec::with_capacity(spans.len());
        let mut seen = vec![false; spans.len()];
        let mut stack: Vec<(usize, usize)> = roots.iter().rev().map(|&i| (i, 0)).collect();
        let total = duration.max(1) as f64;
        while let Some((i, depth)) = stack.pop() {
            // A cycle of parent ids must not loop forever.
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            let (service, span) = &spans[i];
            rows.push(Row {
                span: (*span).clone(),
                service: service.clone(),
                depth,
                offset: (span.start_time_unix_nano - start) as f64 / total,
                width: span.duration_nanos() as f64 / total,
                error: span.status.code == StatusCode::Error,
            });
            stack.extend(children[i].iter().rev().map(|&c| (c, depth + 1)));
        }
        // Spans caught in a parent cycle are unreachable from any root: show them at the end.
        for (i, done) in seen.iter().enumerate() {
            if !done {
                let (service, span) = &spans[i];
                rows.push(Row {
                    span: (*span).clone(),
                    service: service.clone(),
                    depth: 0,
                    offset: (span.start_time_unix_nano - start) as f64 / total,
                    width: span.duration_nanos() as f64 / total,
                    error: span.status.code == StatusCode::Error,
                });
            }
        }
        let mut services: Vec<String> = Vec::new();
        for r in &rows {
            if !services.contains(&r.service) {
                services.push(r.service.clone());
            }
        }
        Trace {
            trace_id: first.1.trace_id.to_hex(),
            depth: rows.iter().map(|r| r.depth + 1).max().unwrap_or(0),
            errors: rows.iter().filter(|r| r.error).count(),
            rows,
            start,
            duration,
            services,
        }
    }
}

/// One log line.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// Unix nanoseconds.
    pub time: u64,
    /// `INFO`, `ERROR`, … from the severity number, else the record's own text.
    pub level: String,
    /// `service.name` of its resource.
    pub service: String,
    /// The body as text.
    pub message: String,
    /// Lowercase hex, when the record belongs to a trace.
    pub trace_id: Option<String>,
}

/// Log lines, newest first.
pub fn log_lines(data: &LogsData) -> Vec<LogLine> {
    let mut lines: Vec<LogLine> = data
        .records()
        .map(|(resource, _, r)| LogLine {
            time: r.time(),
            level: match edgescope_otlp::severity_name(r.severity_number) {
                "UNSPECIFIED" if !r.severity_text.is_empty() => r.severity_text.to_uppercase(),
                name => name.to_owned(),
            },
            service: resource.service_name().to_owned(),
            message: match &r.body {
                Some(edgescope_otlp::AnyValue::String(s)) => s.clone(),
                Some(other) => format!("{other:?}"),
                None => String::new(),
            },
            trace_id: r.trace_id.map(|t| t.to_hex()),
        })
        .collect();
    lines.sort_by_key(|l| std::cmp::Reverse(l.time));
    lines
}

/// A duration for people: `850 µs`, `12.3 ms`, `4.56 s`.
pub fn format_duration(nanos: u64) -> String {
    let n = nanos as f64;
    if n < 1e3 {
        format!("{nanos} ns")
    } else if n < 1e6 {
        format!("{:.0} µs", n / 1e3)
    } else if n < 1e9 {
        format!("{:.1} ms", n / 1e6)
    } else {
        format!("{:.2} s", n / 1e9)
    }
}

/// A Unix-nanosecond time as `YYYY-MM-DD HH:MM:SS.mmm` UTC.
pub fn format_time(nanos: u64) -> String {
    let secs = nanos / 1_000_000_000;
    let millis = (nanos / 1_000_000) % 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{millis:03}", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgescope_otlp::read::{traces_from_str, Ids};

    fn fixture(name: &str) -> String {
        // ../shared/fixtures: real telemetry from other projects; MANIFEST.tsv names each source.
        let path = format!("{}/../../shared/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn rows_follow_the_parent_tree_with_siblings_by_start_time() {
        let data = traces_from_str(&fixture("jaeger-ui-otlp2jaeger-multi-in-combined.json"), Ids::Tolerant).unwrap();
        let trace = Trace::build(&data);
        assert_eq!(trace.rows.len(), data.spans().count());
        assert_eq!(trace.rows[0].depth, 0);
        for (i, row) in trace.rows.iter().enumerate() {
            if let Some(parent) = row.span.parent_span_id {
                if let Some(p) = trace.rows.iter().position(|r| r.span.span_id == parent) {
                    assert!(p < i, "a parent comes before its child");
                    assert_eq!(row.depth, trace.rows[p].depth + 1);
                }
            }
            assert!((0.0..=1.0).contains(&row.offset) && row.offset + row.width <= 1.0 + 1e-9);
        }
    }

    #[test]
    fn spans_whose_parent_is_missing_become_roots_and_cycles_do_not_hang() {
        let doc = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[
            {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0000000000000001","parentSpanId":"0000000000000002","name":"a","startTimeUnixNano":"10","endTimeUnixNano":"20"},
            {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0000000000000002","parentSpanId":"0000000000000001","name":"b","startTimeUnixNano":"12","endTimeUnixNano":"15"},
            {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0000000000000003","parentSpanId":"00000000000000ff","name":"orphan","startTimeUnixNano":"0","endTimeUnixNano":"40","status":{"code":2}}
        ]}]}]}"#;
        let trace = Trace::build(&traces_from_str(doc, Ids::Strict).unwrap());
        let names: Vec<_> = trace.rows.iter().map(|r| r.span.name.as_str()).collect();
        assert_eq!(names, ["orphan", "a", "b"]);
        assert_eq!((trace.start, trace.duration, trace.errors), (0, 40, 1));
        assert_eq!(trace.rows[0].width, 1.0);
    }

    #[test]
    fn durations_and_times_read_well() {
        assert_eq!(format_duration(850), "850 ns");
        assert_eq!(format_duration(12_345_678), "12.3 ms");
        assert_eq!(format_duration(4_560_000_000), "4.56 s");
        assert_eq!(format_time(1_544_712_660_300_000_000), "2018-12-13 14:51:00.300");
        assert_eq!(format_time(0), "1970-01-01 00:00:00.000");
    }
}
