//! A client that opens a connection and never finishes a request (a phone that lost its
//! network, or a slowloris) loses it after the client timeout: silent new connections, heads
//! sent in part, idle kept-alive connections; an export whose body stalls gets `408`. A slow
//! body that keeps arriving, and a live tail that waits for records, are not cut off.
use crate::support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use support::{encode, post_json, Collector};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

const TIMEOUT: Duration = Duration::from_secs(1);

const SPAN: &str = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","name":"slow but steady","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}"#;

/// A collector with a client timeout of [`TIMEOUT`].
async fn with_timeout(data_dir: &std::path::Path) -> Collector {
    Collector::start_with(edgescope_collector::Settings {
        data_dir: data_dir.to_owned(),
        client_timeout: TIMEOUT,
        ..Default::default()
    })
    .await
}

/// Connects to `addr` and writes `sent`.
async fn client(addr: SocketAddr, sent: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(sent).await.unwrap();
    stream
}

/// Reads until the collector closes the connection (within 10 s); returns what it sent and
/// how long it kept the connection.
async fn until_closed(mut stream: TcpStream, since: Instant) -> (String, Duration) {
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "still open 10 s later; got {:?}", String::from_utf8_lossy(&answer));
    (String::from_utf8_lossy(&answer).into_owned(), since.elapsed())
}

#[tokio::test]
async fn connections_that_never_finish_a_request_are_closed_and_stalled_exports_get_408() {
    let dir = tempfile::tempdir().unwrap();
    let collector = with_timeout(dir.path()).await;
    let start = Instant::now();
    let silent = client(collector.ui, b"").await;
    let head = client(collector.otlp, b"POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty").await;
    let body = client(
        collector.otlp,
        b"POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"resourceSpans\"",
    )
    .await;
    let idle = client(collector.ui, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await;

    let (nothing, kept) = until_closed(silent, start).await;
    assert_eq!(nothing, "");
    assert!(kept >= TIMEOUT, "a silent connection is kept for the timeout: {kept:?}");
    let (nothing, _) = until_closed(head, start).await;
    assert_eq!(nothing, "", "a head sent in part gets no answer");
    let (answer, _) = until_closed(body, start).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("the body stalled: no byte arrived for 1 s"), "{answer}");
    let (answer, kept) = until_closed(idle, start).await;
    assert!(answer.starts_with("HTTP/1.1 200") && answer.ends_with("ok"), "answered, then closed when idle: {answer}");
    assert!(kept >= TIMEOUT, "{kept:?}");

    // A body sent a few bytes at a time, never a timeout apart, is read whole.
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        SPAN.len()
    );
    let mut steady = client(collector.otlp, head.as_bytes()).await;
    let began = Instant::now();
    for chunk in SPAN.as_bytes().chunks(SPAN.len() / 4 + 1) {
        tokio::time::sleep(TIMEOUT / 2).await;
        steady.write_all(chunk).await.unwrap();
    }
    let (answer, _) = until_closed(steady, began).await;
    assert!(began.elapsed() > TIMEOUT, "the whole body took longer than the timeout");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let stored = support::get(collector.ui, "/api/v3/traces/4bf92f3577b34da6a3ce929d0e0e4736").await;
    assert!(stored.body.contains("slow but steady"), "{}", stored.body);
    collector.stop().await;
}

#[tokio::test]
async fn a_live_tail_waiting_longer_than_the_client_timeout_stays_open() {
    let dir = tempfile::tempdir().unwrap();
    let collector = with_timeout(dir.path()).await;
    let url = format!("ws://{}/loki/api/v1/tail?query={}", collector.ui, encode(r#"{service_name="web"}"#));
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    tokio::time::sleep(TIMEOUT * 3).await;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let logs = json!({ "resourceLogs": [{
        "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": "web" } }] },
        "scopeLogs": [{ "logRecords": [{ "timeUnixNano": now.to_string(), "body": { "stringValue": "after a wait" } }] }],
    }] });
    assert_eq!(post_json(collector.otlp, "/v1/logs", &logs.to_string()).await.status, 200);
    // The first message is the backlog (none); then the record.
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a tail message within 10 s")
            .expect("the socket is still open")
            .unwrap();
        let Message::Text(text) = message else { panic!("a text message, got {message:?}") };
        if text.contains("after a wait") {
            break;
        }
        assert!(text.contains(r#""streams":[]"#), "{text}");
    }
    collector.stop().await;
}

#[tokio::test]
async fn http2_is_not_spoken_and_a_stalled_loki_form_is_cut_off_too() {
    let dir = tempfile::tempdir().unwrap();
    let collector = with_timeout(dir.path()).await;
    let start = Instant::now();
    // HTTP/2 with prior knowledge (h2c) would open connections no header timeout closes.
    let h2 = client(collector.otlp, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00").await;
    let form = client(
        collector.ui,
        b"POST /loki/api/v1/query_range HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nquery=%7B",
    )
    .await;
    let (answer, _) = until_closed(h2, start).await;
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 4"), "no HTTP/2 answer: {answer:?}");
    let (answer, kept) = until_closed(form, start).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("the body stalled"), "{answer}");
    assert!(kept < TIMEOUT * 5, "{kept:?}");
    // Answers say how long an idle connection stays, as Node's server does: a client then stops
    // reusing one before it closes.
    let health = support::get(collector.ui, "/health").await;
    assert_eq!(health.header("keep-alive"), Some("timeout=1"));
    collector.stop().await;
}

#[tokio::test]
async fn a_connection_that_sent_nothing_does_not_hold_the_stop() {
    // A browser opens connections ahead of need (a preconnect): at the stop signal such a
    // connection is closed at once, not waited for through the grace period.
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let silent = client(collector.ui, b"").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let began = Instant::now();
    collector.stop().await;
    assert!(began.elapsed() < Duration::from_secs(2), "the stop took {:?}", began.elapsed());
    drop(silent);
}
