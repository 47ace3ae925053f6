//! Collector benchmark: the load of edge workers, many small exports from many senders at once.
//! Each sender is a keep-alive HTTP/1.1 connection that sends, per round, what one instrumented
//! worker request exports: a trace export of 3 spans (one new trace) and a log export of one
//! record, OTLP protobuf. A 503 is counted and the export sent again after its `Retry-After`, as
//! the SDK does. Prints one JSON object: requests/s and records/s per signal, and the 503s.
//!
//!     cargo run --release -p edgescope-collector --example edge_ingest_bench -- \
//!         [--senders 50] [--rounds 200] [--signal both|traces|logs] [--bin PATH]
//!
//! The collector runs in this process (as `edgescope serve` does) on 127.0.0.1:0 with a fresh
//! data directory, or, with `--bin PATH`, is that `edgescope` binary started with `serve` (to
//! compare builds with the same load generator).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "common/http.rs"]
mod http;

use edgescope_collector::{run, Settings};
use edgescope_otlp::{
    proto, AnyValue, KeyValue, LogRecord, LogsData, Resource, ResourceLogs, ResourceSpans, ScopeLogs, ScopeSpans, Span,
    SpanId, SpanKind, TraceId, TracesData,
};
use http::Connection;
use tokio::net::{TcpListener, TcpStream};

/// A random-looking, distinct trace id for every `n`.
fn trace_id(n: u64) -> TraceId {
    let n = n + 1; // never the all-zero id, which is invalid
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&n.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes());
    id[8..].copy_from_slice(&n.to_be_bytes());
    TraceId(id)
}

fn resource(sender: usize) -> Resource {
    Resource { attributes: vec![KeyValue::new("service.name", format!("edge-{}", sender % 4))], ..Default::default() }
}

/// What a worker request exports of its trace: the SERVER span, a child, and a CLIENT span.
fn traces(sender: usize, n: u64) -> Vec<u8> {
    let start = 1_764_000_000_000_000_000 + n * 1_000_000;
    let span = |i: u64, parent: Option<u64>, name: &str, kind| Span {
        trace_id: trace_id(n),
        span_id: SpanId((n * 4 + i + 1).to_be_bytes()),
        parent_span_id: parent.map(|p| SpanId((n * 4 + p + 1).to_be_bytes())),
        name: name.to_owned(),
        kind,
        start_time_unix_nano: start + i * 100_000,
        end_time_unix_nano: start + 5_000_000 - i * 100_000,
        attributes: vec![
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("url.path", format!("/r/{}", n % 20)),
            KeyValue::new("http.response.status_code", 200i64),
        ],
        flags: 0x101,
        ..Default::default()
    };
    let spans = vec![span(0, None, "GET", SpanKind::Server), span(1, Some(0), "work", SpanKind::Internal), {
        span(2, Some(1), "GET", SpanKind::Client)
    }];
    proto::encode_traces(&TracesData {
        resource_spans: vec![ResourceSpans {
            resource: resource(sender),
            scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
            ..Default::default()
        }],
    })
}

/// What a worker request exports of its logs: one record on its trace.
fn logs(sender: usize, n: u64) -> Vec<u8> {
    let record = LogRecord {
        time_unix_nano: 1_764_000_000_000_000_000 + n * 1_000_000 + 2_000_000,
        severity_number: 9,
        severity_text: "INFO".into(),
        body: Some(AnyValue::String("done".into())),
        attributes: vec![KeyValue::new("qa.tag", n.to_string())],
        trace_id: Some(trace_id(n)),
        span_id: Some(SpanId((n * 4 + 2).to_be_bytes())),
        flags: 1,
        ..Default::default()
    };
    proto::encode_logs(&LogsData {
        resource_logs: vec![ResourceLogs {
            resource: resource(sender),
            scope_logs: vec![ScopeLogs { log_records: vec![record], ..Default::default() }],
            ..Default::default()
        }],
    })
}

/// Sends until the answer is not a 503; returns how many 503s came first.
async fn deliver(conn: &mut Connection, path: &str, body: &[u8]) -> usize {
    let mut refused = 0;
    loop {
        match conn.request("POST", path, "application/x-protobuf", body).await.0 {
            200 => return refused,
            503 => {
                refused += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            status => panic!("{path}: {status}"),
        }
    }
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let senders: usize = arg(&args, "--senders", 50);
    let rounds: u64 = arg(&args, "--rounds", 200);
    let signal: String = arg(&args, "--signal", "both".to_owned());
    let bin: String = arg(&args, "--bin", String::new());
    let (send_traces, send_logs) = (signal != "logs", signal != "traces");
    let dir = tempfile::tempdir().unwrap();

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut child = None;
    let otlp_addr: SocketAddr = match Some(bin).filter(|b| !b.is_empty()) {
        None => {
            let otlp = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let ui = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = otlp.local_addr().unwrap();
            let settings = Settings { data_dir: dir.path().to_owned(), ..Settings::default() };
            tokio::spawn(run(otlp, ui, settings, async {
                let _ = stopped.await;
            }));
            addr
        }
        Some(bin) => {
            let mut c = std::process::Command::new(bin)
                .args(["serve", "--otlp-addr", "127.0.0.1:0", "--ui-addr", "127.0.0.1:0", "--data-dir"])
                .arg(dir.path())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            let mut out = std::io::BufReader::new(c.stdout.take().unwrap());
            let mut line = String::new();
            let addr = loop {
                line.clear();
                assert!(std::io::BufRead::read_line(&mut out, &mut line).unwrap() > 0, "the collector exited");
                if let Some(url) = line.split("OTLP receiver on http://").nth(1) {
                    break url.split_whitespace().next().unwrap().trim_end_matches('/').parse().unwrap();
                }
            };
            // Read on, so that the collector's later lines never meet a closed pipe.
            std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
            child = Some(c);
            addr
        }
    };

    let refused = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let started = Instant::now();
    let tasks: Vec<_> = (0..senders)
        .map(|s| {
            let refused = refused.clone();
            tokio::spawn(async move {
                let stream = TcpStream::connect(otlp_addr).await.unwrap();
                stream.set_nodelay(true).unwrap();
                let mut conn = Connection { stream, buf: Vec::new() };
                for r in 0..rounds {
                    let n = r * senders as u64 + s as u64;
                    if send_traces {
                        refused[0].fetch_add(deliver(&mut conn, "/v1/traces", &traces(s, n)).await, Ordering::Relaxed);
                    }
                    if send_logs {
                        refused[1].fetch_add(deliver(&mut conn, "/v1/logs", &logs(s, n)).await, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    let exports = senders as f64 * rounds as f64;
    let per_s = |on: bool, per_request: f64| if on { exports * per_request / seconds } else { 0.0 };
    println!(
        "{{\"senders\":{senders},\"rounds\":{rounds},\"signal\":\"{signal}\",\"seconds\":{seconds:.3},\"traceRequestsPerSecond\":{:.0},\"spansPerSecond\":{:.0},\"logRequestsPerSecond\":{:.0},\"logRecordsPerSecond\":{:.0},\"traces503\":{},\"logs503\":{}}}",
        per_s(send_traces, 1.0),
        per_s(send_traces, 3.0),
        per_s(send_logs, 1.0),
        per_s(send_logs, 1.0),
        refused[0].load(Ordering::Relaxed),
        refused[1].load(Ordering::Relaxed),
    );
    let _ = stop.send(());
    if let Some(mut c) = child {
        let _ = c.kill();
        let _ = c.wait();
    }
}
