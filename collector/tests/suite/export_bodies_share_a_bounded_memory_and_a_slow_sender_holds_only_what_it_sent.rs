//! Export bodies held in memory at once are bounded (`max_body_memory_bytes`): a body that says
//! its length takes that much before it is read, a chunked one as its bytes arrive, and a gzip
//! one again as it inflates. An export that finds the memory taken for a second gets `503` with
//! `Retry-After` and stores nothing; a slow sender holds only what it has sent, so others pass.
use crate::support;

use std::io::Write;
use std::time::Duration;

use edgescope_collector::Settings;
use edgescope_otlp::{proto, KeyValue, Resource, ResourceSpans, ScopeSpans, Span, SpanId, TraceId, TracesData};
use support::{get, request, Collector};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const KIB: usize = 1024;

/// A protobuf export of one trace (`n`) whose size is about `bytes`.
fn export(n: u8, bytes: usize) -> Vec<u8> {
    let span = Span {
        trace_id: TraceId([n; 16]),
        span_id: SpanId([n; 8]),
        name: "work".into(),
        start_time_unix_nano: 1,
        end_time_unix_nano: 2,
        attributes: vec![KeyValue::new("payload", "x".repeat(bytes))],
        ..Default::default()
    };
    proto::encode_traces(&TracesData {
        resource_spans: vec![ResourceSpans {
            resource: Resource { attributes: vec![KeyValue::new("service.name", "memory")], ..Default::default() },
            scope_spans: vec![ScopeSpans { spans: vec![span], ..Default::default() }],
            ..Default::default()
        }],
    })
}

/// A collector whose exports may be `max_body` bytes, holding `memory` bytes of them at once,
/// each waiting up to `wait` for memory (and its data directory).
async fn start(max_body: usize, memory: usize, wait: Duration) -> (Collector, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        data_dir: dir.path().to_owned(),
        max_body_bytes: max_body,
        max_body_memory_bytes: memory,
        body_memory_wait: wait,
        ..Settings::default()
    };
    (Collector::start_with(settings).await, dir)
}

/// Sends `bytes` as one more chunk of a chunked body.
async fn send_chunk(stream: &mut tokio::net::TcpStream, bytes: &[u8]) {
    stream.write_all(format!("{:x}\r\n", bytes.len()).as_bytes()).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    stream.write_all(b"\r\n").await.unwrap();
}

/// A sender that has sent `sent` bytes of a chunked export and waits: the connection, to finish
/// the body with the rest of `body` or to drop.
async fn chunked_sender(addr: std::net::SocketAddr, body: &[u8], sent: usize) -> tokio::net::TcpStream {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-protobuf\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n",
        sent
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..sent]).await.unwrap();
    stream.write_all(b"\r\n").await.unwrap();
    stream
}

async fn finish(mut stream: tokio::net::TcpStream, rest: &[u8]) -> u16 {
    stream.write_all(format!("{:x}\r\n", rest.len()).as_bytes()).await.unwrap();
    stream.write_all(rest).await.unwrap();
    stream.write_all(b"\r\n0\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).split(' ').nth(1).unwrap().parse().unwrap()
}

/// Waits until `/metrics` says export bodies hold `bytes` (what a slow sender has sent).
async fn holding(collector: &Collector, bytes: usize) {
    let line = format!("\nedgescope_body_memory_bytes {bytes}\n");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let metrics = get(collector.ui, "/metrics").await.body;
        if metrics.contains(&line) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "bodies never held {bytes} bytes: {metrics}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn stored(collector: &Collector, n: u8) -> bool {
    get(collector.ui, &format!("/api/v3/traces/{}", TraceId([n; 16]).to_hex())).await.status == 200
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_past_the_memory_for_bodies_wait_then_get_503_and_a_slow_sender_holds_only_what_it_sent() {
    let (collector, _dir) = start(64 * KIB, 64 * KIB, Duration::from_secs(1)).await;
    const PROTOBUF: [(&str, &str); 1] = [("Content-Type", "application/x-protobuf")];

    // A slow chunked sender that has sent 4 KiB of a 60 KiB export holds 4 KiB: a 40 KiB
    // export passes beside it.
    let slow_body = export(1, 60 * KIB);
    let mut slow = chunked_sender(collector.otlp, &slow_body, 4 * KIB).await;
    holding(&collector, 4 * KIB).await;
    let beside = request(collector.otlp, "POST", "/v1/traces", &PROTOBUF, &export(2, 40 * KIB)).await;
    assert_eq!(beside.status, 200, "{}", beside.body);

    // Once it has sent 56 KiB, the 20 KiB an export says it has do not fit: it waits a second
    // for them, then gets 503 with Retry-After, in OTLP's Status, and nothing of it is stored.
    send_chunk(&mut slow, &slow_body[4 * KIB..56 * KIB]).await;
    // The 56 KiB it holds are reported.
    holding(&collector, 56 * KIB).await;
    let began = std::time::Instant::now();
    let refused = request(collector.otlp, "POST", "/v1/traces", &PROTOBUF, &export(3, 20 * KIB)).await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert!(began.elapsed() >= Duration::from_millis(900), "it waited for memory first");
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(refused.header("content-type"), Some("application/x-protobuf"));
    assert!(refused.body.contains("--max-body-memory-mb"), "{}", refused.body);
    assert!(!stored(&collector, 3).await, "a refused export leaves nothing behind");

    // The slow sender finishes and is stored; what it held is free again, and the refused
    // export, sent again, is stored.
    assert_eq!(finish(slow, &slow_body[56 * KIB..]).await, 200);
    assert!(stored(&collector, 1).await);
    let again = request(collector.otlp, "POST", "/v1/traces", &PROTOBUF, &export(3, 20 * KIB)).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(stored(&collector, 3).await);
    collector.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_body_takes_memory_for_what_it_inflates_to() {
    let (collector, _dir) = start(64 * KIB, 64 * KIB, Duration::from_secs(1)).await;
    // A slow sender holds 40 KiB.
    let slow_body = export(1, 50 * KIB);
    let slow = chunked_sender(collector.otlp, &slow_body, 40 * KIB).await;
    holding(&collector, 40 * KIB).await;
    // 30 KiB of `x` gzip to well under a KiB, but inflate past what is left.
    let gzipped = gzipped_export(4, 30 * KIB);
    assert!(gzipped.len() < 2 * KIB);
    let headers = [("Content-Type", "application/x-protobuf"), ("Content-Encoding", "gzip")];
    let refused = request(collector.otlp, "POST", "/v1/traces", &headers, &gzipped).await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert!(!stored(&collector, 4).await);
    // Under the limit once the sender is done.
    assert_eq!(finish(slow, &slow_body[40 * KIB..]).await, 200);
    let again = request(collector.otlp, "POST", "/v1/traces", &headers, &gzipped).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(stored(&collector, 4).await);
    collector.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_body_is_read_to_its_end_so_that_its_sender_reads_the_answer() {
    const MIB: usize = 1024 * KIB;
    let (collector, _dir) = start(4 * MIB, 4 * MIB, Duration::from_secs(1)).await;
    const PROTOBUF: [(&str, &str); 1] = [("Content-Type", "application/x-protobuf")];
    // Past the limit, said by its length: refused before it is read, and read to its end (more
    // than the socket buffers hold), so that the sender gets the 413 rather than a reset
    // connection, which exporters take for a network error and send again.
    let too_large = request(collector.otlp, "POST", "/v1/traces", &PROTOBUF, &export(5, 12 * MIB)).await;
    assert_eq!(too_large.status, 413, "{}", too_large.body);
    // Past the memory left, the same with its 503.
    let slow_body = export(1, 4 * MIB - 8 * KIB);
    let slow = chunked_sender(collector.otlp, &slow_body, 3 * MIB).await;
    holding(&collector, 3 * MIB).await;
    let busy = request(collector.otlp, "POST", "/v1/traces", &PROTOBUF, &export(6, 3 * MIB)).await;
    assert_eq!((busy.status, busy.header("retry-after")), (503, Some("1")), "{}", busy.body);
    assert_eq!(finish(slow, &slow_body[3 * MIB..]).await, 200);
    collector.stop().await;
}

/// `export` gzipped: a body of a few KiB that inflates to about `bytes`.
fn gzipped_export(n: u8, bytes: usize) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&export(n, bytes)).unwrap();
    gz.finish().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_export_waiting_for_memory_holds_up_neither_a_smaller_one_that_fits_nor_the_decoders() {
    const MIB: usize = 1024 * KIB;
    // A wait long enough that the small export's being stored first tells no race.
    let (collector, _dir) = start(MIB, 2 * MIB, Duration::from_secs(5)).await;
    // Two slow senders hold 1,900 KiB of the 2,048.
    let slow_body = export(1, MIB - 8 * KIB);
    let first = chunked_sender(collector.otlp, &slow_body, 950 * KIB).await;
    let second = chunked_sender(collector.otlp, &slow_body, 950 * KIB).await;
    holding(&collector, 1900 * KIB).await;
    // Waiting for memory: gzip exports that inflate to 600 KiB, one for each decoder and one
    // more, then a 1 MiB export.
    let otlp = collector.otlp;
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    let inflating: Vec<_> = (0..=cores as u8)
        .map(|k| {
            tokio::spawn(async move {
                let headers = [("Content-Type", "application/x-protobuf"), ("Content-Encoding", "gzip")];
                let answer = request(otlp, "POST", "/v1/traces", &headers, &gzipped_export(3 + k, 600 * KIB)).await;
                (answer.status, std::time::Instant::now())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let large = tokio::spawn(async move {
        let answer =
            request(otlp, "POST", "/v1/traces", &[("Content-Type", "application/x-protobuf")], &export(2, 1000 * KIB))
                .await;
        (answer.status, std::time::Instant::now())
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A small export fits in what is free: it is stored at once, not after the others' wait.
    let small =
        request(otlp, "POST", "/v1/traces", &[("Content-Type", "application/x-protobuf")], &export(20, KIB)).await;
    let stored_at = std::time::Instant::now();
    assert_eq!(small.status, 200, "{}", small.body);
    let (status, refused_at) = large.await.unwrap();
    assert_eq!(status, 503);
    assert!(stored_at < refused_at, "the small export waited behind the large one");
    for waiting in inflating {
        let (status, refused_at) = waiting.await.unwrap();
        assert_eq!(status, 503);
        assert!(stored_at < refused_at, "the small export waited for a decoder held by a gzip export");
    }
    assert_eq!(finish(first, &slow_body[950 * KIB..]).await, 200);
    assert_eq!(finish(second, &slow_body[950 * KIB..]).await, 200);
    collector.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_refused_as_too_large_gives_its_memory_back_while_it_is_drained() {
    let (collector, _dir) = start(64 * KIB, 64 * KIB, Duration::from_secs(1)).await;
    // A chunked sender that goes past the limit, then idles (its 413 comes when it ends).
    let body = export(1, 80 * KIB);
    let mut sender = chunked_sender(collector.otlp, &body, 60 * KIB).await;
    holding(&collector, 60 * KIB).await;
    send_chunk(&mut sender, &body[60 * KIB..70 * KIB]).await;
    holding(&collector, 0).await;
    let beside = request(
        collector.otlp,
        "POST",
        "/v1/traces",
        &[("Content-Type", "application/x-protobuf")],
        &export(2, 50 * KIB),
    )
    .await;
    assert_eq!(beside.status, 200, "the memory is free for others: {}", beside.body);
    assert_eq!(finish(sender, &body[70 * KIB..]).await, 413);
    collector.stop().await;
}
