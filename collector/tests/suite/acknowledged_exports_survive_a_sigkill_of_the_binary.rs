//! Runs the real `edgescope` binary, kills it with SIGKILL right after the last acknowledged
//! export and checks, after a restart on the same data directory, that every acknowledged span
//! and log record is there: an acknowledgement means the data is on disk.
use crate::support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use edgescope_otlp::read::{self, Ids};
use edgescope_otlp::{
    json, proto, AnyValue, KeyValue, LogRecord, LogsData, Resource, ResourceLogs, ResourceSpans, ScopeLogs, ScopeSpans,
    Span, SpanId, TraceId, TracesData,
};
use support::{get, request};

/// The running binary; killed (SIGKILL) and reaped when dropped, so that no test outcome
/// leaves it behind.
struct Edgescope {
    child: Child,
    otlp: SocketAddr,
    ui: SocketAddr,
}

impl Edgescope {
    fn start(data_dir: &Path) -> Edgescope {
        let mut child = Command::new(env!("CARGO_BIN_EXE_edgescope"))
            // The timestamps below are from 2023: retention must not delete them.
            .args(["serve", "--otlp-addr", "127.0.0.1:0", "--ui-addr", "127.0.0.1:0", "--retention-hours", "0"])
            .arg("--data-dir")
            .arg(data_dir)
            .env("EDGESCOPE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the edgescope binary starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // The guard exists before the addresses are read, so that a timeout still kills it.
        let mut running = Edgescope { child, otlp: ([0, 0, 0, 0], 0).into(), ui: ([0, 0, 0, 0], 0).into() };
        let address = |prefix: &str| -> SocketAddr {
            let line = rx.recv_timeout(Duration::from_secs(20)).expect("the binary prints its addresses within 20 s");
            let rest = line.strip_prefix(prefix).unwrap_or_else(|| panic!("expected `{prefix}…`, got `{line}`"));
            rest.parse().unwrap_or_else(|e| panic!("`{rest}`: {e}"))
        };
        running.otlp = address("edgescope: OTLP receiver on http://");
        running.ui = address("edgescope: viewer and query API on http://");
        running
    }

    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().unwrap();
    }
}

impl Drop for Edgescope {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn service(name: &str) -> Resource {
    Resource { attributes: vec![KeyValue::new("service.name", AnyValue::from(name))], ..Default::default() }
}

/// Batch `i`: one trace of three spans, with ids that say which batch they come from.
fn trace_batch(i: u8) -> TracesData {
    let spans = (1..=3u8)
        .map(|j| Span {
            trace_id: TraceId([i + 1; 16]),
            span_id: SpanId([i + 1, j, 0, 0, 0, 0, 0, 1]),
            parent_span_id: (j > 1).then_some(SpanId([i + 1, 1, 0, 0, 0, 0, 0, 1])),
            name: format!("batch {i} span {j}"),
            start_time_unix_nano: 1_700_000_000_000_000_000 + u64::from(i) * 1_000_000 + u64::from(j),
            end_time_unix_nano: 1_700_000_000_000_000_000 + u64::from(i) * 1_000_000 + 500,
            ..Default::default()
        })
        .collect();
    TracesData {
        resource_spans: vec![ResourceSpans {
            resource: service("killed"),
            scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
            ..Default::default()
        }],
    }
}

fn log_batch(i: u8) -> LogsData {
    let log_records = (0..2u8)
        .map(|j| LogRecord {
            time_unix_nano: 1_700_000_000_000_000_000 + u64::from(i) * 10 + u64::from(j),
            body: Some(AnyValue::from(format!("batch {i} record {j}"))),
            ..Default::default()
        })
        .collect();
    LogsData {
        resource_logs: vec![ResourceLogs {
            resource: service("killed"),
            scope_logs: vec![ScopeLogs { log_records, ..Default::default() }],
            ..Default::default()
        }],
    }
}

#[tokio::test]
async fn every_acknowledged_span_and_log_record_is_there_after_a_sigkill_and_a_restart() {
    let test = async {
        let dir = tempfile::tempdir().unwrap();
        let first = Edgescope::start(dir.path());
        let batches = 12u8;
        for i in 0..batches {
            // Alternate the encodings, so that both paths to the disk are covered.
            let (content_type, traces, logs) = if i % 2 == 0 {
                (
                    "application/json",
                    json::write_traces(&trace_batch(i)).into_bytes(),
                    json::write_logs(&log_batch(i)).into_bytes(),
                )
            } else {
                ("application/x-protobuf", proto::encode_traces(&trace_batch(i)), proto::encode_logs(&log_batch(i)))
            };
            let headers = [("Content-Type", content_type)];
            let answer = request(first.otlp, "POST", "/v1/traces", &headers, &traces).await;
            assert_eq!(answer.status, 200, "batch {i}: {}", answer.body);
            let answer = request(first.otlp, "POST", "/v1/logs", &headers, &logs).await;
            assert_eq!(answer.status, 200, "batch {i}: {}", answer.body);
        }
        // No pause and no shutdown: SIGKILL right after the last acknowledgement.
        first.kill();

        let second = Edgescope::start(dir.path());
        for i in 0..batches {
            let want = trace_batch(i);
            let id = TraceId([i + 1; 16]);
            let answer = get(second.ui, &format!("/api/v3/traces/{id}")).await;
            assert_eq!(answer.status, 200, "trace of batch {i}: {}", answer.body);
            let got = read::traces(&answer.json(), Ids::Strict).unwrap();
            let mut got: Vec<Span> = got.spans().map(|(_, _, s)| s.clone()).collect();
            got.sort_by_key(|s| s.span_id);
            let want: Vec<Span> = want.spans().map(|(_, _, s)| s.clone()).collect();
            assert_eq!(got, want, "batch {i}");
        }
        let answer = get(second.ui, "/api/logs?limit=5000").await;
        let stored = read::logs(&answer.json(), Ids::Strict).unwrap();
        let mut got: Vec<LogRecord> = stored.records().map(|(_, _, r)| r.clone()).collect();
        got.sort_by_key(|r| r.time_unix_nano);
        let mut want: Vec<LogRecord> =
            (0..batches).flat_map(|i| log_batch(i).records().map(|(_, _, r)| r.clone()).collect::<Vec<_>>()).collect();
        want.sort_by_key(|r| r.time_unix_nano);
        let bodies = |records: &[LogRecord]| -> Vec<String> {
            records.iter().map(|r| r.body.as_ref().and_then(AnyValue::as_str).unwrap_or("").to_owned()).collect()
        };
        assert_eq!(bodies(&got), bodies(&want), "the records of every acknowledged batch");
        assert_eq!(got, want);
        second.kill();
    };
    tokio::time::timeout(Duration::from_secs(120), test).await.expect("the whole test takes under 2 minutes");
}
