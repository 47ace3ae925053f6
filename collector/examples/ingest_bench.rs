//! Collector benchmark: ingest of OTLP protobuf batches of 512 spans over loopback HTTP from
//! concurrent keep-alive connections, then trace-by-id latency with everything stored, and the
//! process's resident memory. Prints one JSON object.
//!
//!     cargo run --release -p edgescope-collector --example ingest_bench [-- TOTAL_SPANS] [--random-trace-ids]
//!
//! The collector runs in this process (as `edgescope serve` does) on 127.0.0.1:0 with a fresh
//! data directory; the load generator encodes each batch as it goes (distinct trace ids). By
//! default trace ids grow with time, so the index of trace ids fills at its end; with
//! `--random-trace-ids` they are scattered as real (random) trace ids are, which costs the store
//! a page write per trace of a request in the index of trace ids (ADR 0008).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

#[path = "common/http.rs"]
mod http;

use edgescope_collector::{run, Settings};
use edgescope_otlp::{
    proto, KeyValue, Resource, ResourceSpans, ScopeSpans, Span, SpanId, SpanKind, TraceId, TracesData,
};
use http::Connection;
use tokio::net::{TcpListener, TcpStream};

const BATCH: usize = 512;
const SPANS_PER_TRACE: usize = 8;
const CONNECTIONS: usize = 4;

/// The id of the `trace`th trace: distinct for every `trace`, in the order of `trace` unless
/// `random`.
fn trace_id(trace: u64, random: bool) -> [u8; 16] {
    let (counter, scrambled) = (trace.to_be_bytes(), trace.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes());
    let mut id = [0u8; 16];
    let (first, second) = if random { (scrambled, counter) } else { (counter, scrambled) };
    id[..8].copy_from_slice(&first);
    id[8..].copy_from_slice(&second);
    id
}

fn batch(seed: u64, random_ids: bool) -> Vec<u8> {
    let mut spans = Vec::with_capacity(BATCH);
    for i in 0..BATCH as u64 {
        let n = seed * BATCH as u64 + i;
        let trace = n / SPANS_PER_TRACE as u64 + 1;
        let start = 1_764_000_000_000_000_000 + n * 1_000_000;
        spans.push(Span {
            trace_id: TraceId(trace_id(trace, random_ids)),
            span_id: SpanId((n + 1).to_be_bytes()),
            parent_span_id: (n % SPANS_PER_TRACE as u64 != 0)
                .then(|| SpanId((n - n % SPANS_PER_TRACE as u64 + 1).to_be_bytes())),
            name: format!("GET /api/items/{}", n % 20),
            kind: SpanKind::Server,
            start_time_unix_nano: start,
            end_time_unix_nano: start + 5_000_000 + (n % 97) * 100_000,
            attributes: vec![
                KeyValue::new("http.request.method", "GET"),
                KeyValue::new("url.path", format!("/api/items/{}", n % 20)),
                KeyValue::new("http.response.status_code", 200i64),
                KeyValue::new("server.address", "api.example.com"),
            ],
            flags: 0x101,
            ..Default::default()
        });
    }
    proto::encode_traces(&TracesData {
        resource_spans: vec![ResourceSpans {
            resource: Resource {
                attributes: vec![KeyValue::new("service.name", format!("svc-{}", seed % 8))],
                ..Default::default()
            },
            scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
            ..Default::default()
        }],
    })
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(|l| l.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024)
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let random_ids = args.iter().any(|a| a == "--random-trace-ids");
    let total: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(1_000_000);
    let batches = total.div_ceil(BATCH);
    let dir = tempfile::tempdir().unwrap();
    let otlp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ui = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (otlp_addr, ui_addr): (SocketAddr, SocketAddr) = (otlp.local_addr().unwrap(), ui.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let settings = Settings { data_dir: dir.path().to_owned(), ..Settings::default() };
    let server = tokio::spawn(run(otlp, ui, settings, async {
        let _ = stopped.await;
    }));

    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CONNECTIONS {
        tasks.push(tokio::spawn(async move {
            let mut conn = Connection { stream: TcpStream::connect(otlp_addr).await.unwrap(), buf: Vec::new() };
            let mut b = c;
            while b < batches {
                let body = batch(b as u64, random_ids);
                let (status, _) = conn.request("POST", "/v1/traces", "application/x-protobuf", &body).await;
                assert_eq!(status, 200, "batch {b}");
                b += CONNECTIONS;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let ingest = started.elapsed();
    let rss_after_ingest = rss_bytes();

    // Trace by id, over 1,000 traces spread through what was stored.
    let traces = (batches * BATCH / SPANS_PER_TRACE) as u64;
    let mut conn = Connection { stream: TcpStream::connect(ui_addr).await.unwrap(), buf: Vec::new() };
    let mut latencies = Vec::new();
    for i in 0..1000u64 {
        let trace = (i * 7919) % traces + 1;
        let hex: String = trace_id(trace, random_ids).iter().map(|b| format!("{b:02x}")).collect();
        let t = Instant::now();
        let (status, len) = conn.request("GET", &format!("/api/v3/traces/{hex}"), "application/json", b"").await;
        latencies.push(t.elapsed());
        assert_eq!(status, 200);
        assert!(len > 100);
    }
    latencies.sort();
    let pct =
        |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)].as_secs_f64() * 1000.0;
    let size = |name: &str| std::fs::metadata(dir.path().join(name)).map(|m| m.len()).unwrap_or(0);
    // The write-ahead log holds pages not yet copied into the database file (and, after a
    // checkpoint, old pages that will be overwritten): its size is reported on its own.
    let (db, wal) = (size("edgescope.db"), size("edgescope.db-wal"));
    println!(
        "{{\"spans\":{},\"traceIds\":\"{}\",\"ingestSeconds\":{:.3},\"spansPerSecond\":{:.0},\"traceByIdP50Ms\":{:.3},\"traceByIdP99Ms\":{:.3},\"rssBytes\":{},\"dbBytes\":{},\"walBytes\":{}}}",
        batches * BATCH,
        if random_ids { "random" } else { "sequential" },
        ingest.as_secs_f64(),
        (batches * BATCH) as f64 / ingest.as_secs_f64(),
        pct(0.5),
        pct(0.99),
        rss_after_ingest.max(rss_bytes()),
        db,
        wal
    );
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(30), server).await;
}
