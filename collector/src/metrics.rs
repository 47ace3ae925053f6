//! The collector's own metrics, written by hand in the Prometheus text exposition format 0.0.4.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

/// The kinds of telemetry the OTLP routes take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Signal {
    Traces,
    Logs,
}

impl Signal {
    const ALL: [Signal; 2] = [Signal::Traces, Signal::Logs];

    fn label(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Logs => "logs",
        }
    }
}

/// The families of routes that requests are counted and timed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Family {
    /// `POST /v1/*`.
    Ingest,
    /// `/api/*`, `/jaeger/api/*`, `/loki/api/*` and `/upstream/*`.
    Query,
    /// `/health`.
    Health,
    /// `/metrics`.
    Metrics,
    /// Everything else: the viewer's files.
    Viewer,
}

impl Family {
    const ALL: [Family; 5] = [Family::Ingest, Family::Query, Family::Health, Family::Metrics, Family::Viewer];

    pub(crate) fn of(path: &str) -> Family {
        if path.starts_with("/v1/") {
            Family::Ingest
        } else if path == "/api"
            || path.starts_with("/api/")
            || path.starts_with("/jaeger/api/")
            || path.starts_with("/loki/api/")
            || path.starts_with("/upstream/")
        {
            Family::Query
        } else if path == "/health" {
            Family::Health
        } else if path == "/metrics" {
            Family::Metrics
        } else {
            Family::Viewer
        }
    }

    fn label(self) -> &'static str {
        match self {
            Family::Ingest => "ingest",
            Family::Query => "query",
            Family::Health => "health",
            Family::Metrics => "metrics",
            Family::Viewer => "viewer",
        }
    }
}

/// Upper bounds of the request-duration histogram, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Observations at or below each bound of [`BUCKETS`] (not cumulative; summed when written).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

#[derive(Debug, Default)]
struct Counts {
    /// Items stored, per signal.
    accepted: BTreeMap<Signal, u64>,
    /// Items that did not read, per signal.
    rejected: BTreeMap<Signal, u64>,
    /// Groups of exports written, per signal (one transaction each, unless it failed: see `render`).
    groups: BTreeMap<Signal, u64>,
    /// Answered requests per route family and status code.
    requests: BTreeMap<(Family, u16), u64>,
    durations: BTreeMap<Family, Histogram>,
}

/// Counters shared by every request; one short lock per update.
#[derive(Debug)]
pub(crate) struct Metrics {
    counts: Mutex<Counts>,
    /// The database file, whose size (and that of its WAL) each scrape reads.
    db: PathBuf,
}

impl Metrics {
    pub(crate) fn new(db: PathBuf) -> Metrics {
        Metrics { counts: Mutex::default(), db }
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts the items of one export: `accepted` stored, `rejected` left out.
    pub(crate) fn records(&self, signal: Signal, accepted: usize, rejected: usize) {
        let mut c = self.counts();
        *c.accepted.entry(signal).or_default() += accepted as u64;
        *c.rejected.entry(signal).or_default() += rejected as u64;
    }

    /// Counts `groups` groups of exports of `signal` written, each in one transaction.
    pub(crate) fn groups(&self, signal: Signal, groups: usize) {
        *self.counts().groups.entry(signal).or_default() += groups as u64;
    }

    /// Counts and times one answered request.
    pub(crate) fn request(&self, family: Family, status: u16, took: Duration) {
        let mut c = self.counts();
        *c.requests.entry((family, status)).or_default() += 1;
        let h = c.durations.entry(family).or_default();
        let seconds = took.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&le| seconds <= le) {
            h.buckets[i] += 1;
        }
        h.count += 1;
        h.sum_seconds += seconds;
    }

    /// Every metric in the text format 0.0.4; `queue` is the write queue's depth and capacity.
    pub(crate) fn render(&self, queue: (usize, usize), body_memory: (usize, usize)) -> String {
        let (accepted, rejected, groups, requests, durations) = {
            let c = self.counts();
            (c.accepted.clone(), c.rejected.clone(), c.groups.clone(), c.requests.clone(), c.durations.clone())
        };
        let mut out = String::new();
        header(
            &mut out,
            "edgescope_records_received_total",
            "counter",
            "Spans and log records in decodable OTLP requests, by signal and outcome (accepted: stored).",
        );
        for signal in Signal::ALL {
            for (outcome, counts) in [("accepted", &accepted), ("rejected", &rejected)] {
                let n = counts.get(&signal).copied().unwrap_or(0);
                let _ = writeln!(
                    out,
                    "edgescope_records_received_total{{signal=\"{}\",outcome=\"{outcome}\"}} {n}",
                    signal.label()
                );
            }
        }

        header(
            &mut out,
            "edgescope_write_groups_total",
            "counter",
            "Groups of exports written, by signal: each in one transaction (one commit and sync for all its exports), unless that failed and its exports were written one transaction each.",
        );
        for signal in Signal::ALL {
            let n = groups.get(&signal).copied().unwrap_or(0);
            let _ = writeln!(out, "edgescope_write_groups_total{{signal=\"{}\"}} {n}", signal.label());
        }

        header(
            &mut out,
            "edgescope_http_requests_total",
            "counter",
            "Answered HTTP requests by route family and status code.",
        );
        for ((family, status), n) in &requests {
            let _ =
                writeln!(out, "edgescope_http_requests_total{{family=\"{}\",code=\"{status}\"}} {n}", family.label());
        }

        let name = "edgescope_http_request_duration_seconds";
        header(&mut out, name, "histogram", "Time from a request's arrival to its answer's headers, by route family.");
        for family in Family::ALL {
            let h = durations.get(&family).cloned().unwrap_or_default();
            let f = family.label();
            let mut cumulative = 0;
            for (le, n) in BUCKETS.iter().zip(h.buckets) {
                cumulative += n;
                let _ = writeln!(out, "{name}_bucket{{family=\"{f}\",le=\"{le}\"}} {cumulative}");
            }
            let _ = writeln!(out, "{name}_bucket{{family=\"{f}\",le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "{name}_sum{{family=\"{f}\"}} {}", h.sum_seconds);
            let _ = writeln!(out, "{name}_count{{family=\"{f}\"}} {}", h.count);
        }

        header(
            &mut out,
            "edgescope_write_queue_depth",
            "gauge",
            "Ingest requests waiting for or holding the database writer; at capacity, exports get 503.",
        );
        let _ = writeln!(out, "edgescope_write_queue_depth {}", queue.0);
        header(
            &mut out,
            "edgescope_write_queue_capacity",
            "gauge",
            "The write queue's capacity (--max-pending-writes).",
        );
        let _ = writeln!(out, "edgescope_write_queue_capacity {}", queue.1);
        header(
            &mut out,
            "edgescope_body_memory_bytes",
            "gauge",
            "Memory held by export bodies being read, decoded or stored (in whole KiB per export); at capacity, exports wait 1 s, then get 503.",
        );
        let _ = writeln!(out, "edgescope_body_memory_bytes {}", body_memory.0 * 1024);
        header(
            &mut out,
            "edgescope_body_memory_capacity_bytes",
            "gauge",
            "The memory export bodies may hold (--max-body-memory-mb, at least --max-body-bytes).",
        );
        let _ = writeln!(out, "edgescope_body_memory_capacity_bytes {}", body_memory.1 * 1024);

        header(
            &mut out,
            "edgescope_database_size_bytes",
            "gauge",
            "Size of the SQLite database file and of its write-ahead log.",
        );
        let wal = PathBuf::from(format!("{}-wal", self.db.display()));
        for (file, path) in [("db", &self.db), ("wal", &wal)] {
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            let _ = writeln!(out, "edgescope_database_size_bytes{{file=\"{file}\"}} {size}");
        }
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_end_with_the_count() {
        let m = Metrics::new(PathBuf::from("/nonexistent/edgescope.db"));
        m.request(Family::Query, 200, Duration::from_micros(500));
        m.request(Family::Query, 200, Duration::from_millis(30));
        m.request(Family::Query, 404, Duration::from_secs(60));
        let text = m.render((0, 1), (0, 1));
        let line = |prefix: &str| text.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("{prefix}"));
        let q = "edgescope_http_request_duration_seconds_bucket{family=\"query\"";
        assert!(line(&format!("{q},le=\"0.001\"}}")).ends_with(" 1"));
        assert!(line(&format!("{q},le=\"0.025\"}}")).ends_with(" 1"));
        assert!(line(&format!("{q},le=\"0.05\"}}")).ends_with(" 2"));
        assert!(line(&format!("{q},le=\"10\"}}")).ends_with(" 2"));
        assert!(line(&format!("{q},le=\"+Inf\"}}")).ends_with(" 3"));
        assert!(line("edgescope_http_request_duration_seconds_count{family=\"query\"}").ends_with(" 3"));
        assert!(line("edgescope_http_requests_total{family=\"query\",code=\"404\"}").ends_with(" 1"));
        assert!(line("edgescope_database_size_bytes{file=\"db\"}").ends_with(" 0"));
    }

    #[test]
    fn route_families_follow_the_path() {
        assert_eq!(Family::of("/v1/traces"), Family::Ingest);
        assert_eq!(Family::of("/api/v3/services"), Family::Query);
        assert_eq!(Family::of("/apiary"), Family::Viewer);
        assert_eq!(Family::of("/loki/api/v1/query_range"), Family::Query);
        assert_eq!(Family::of("/jaeger/api/services"), Family::Query);
        assert_eq!(Family::of("/upstream/tempo/api/search"), Family::Query);
        assert_eq!(Family::of("/health"), Family::Health);
        assert_eq!(Family::of("/metrics"), Family::Metrics);
        assert_eq!(Family::of("/trace/abc"), Family::Viewer);
    }
}
