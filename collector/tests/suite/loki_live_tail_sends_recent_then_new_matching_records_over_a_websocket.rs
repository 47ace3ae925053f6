use crate::support;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use support::{encode, get, post_json, websocket_from, Collector};
use tokio_tungstenite::tungstenite::Message;

fn batch(service: &str, bodies: &[&str]) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    let records: Vec<_> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| json!({ "timeUnixNano": (now + i as u64).to_string(), "severityNumber": 9, "body": { "stringValue": b } }))
        .collect();
    json!({ "resourceLogs": [{
        "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": service } }] },
        "scopeLogs": [{ "logRecords": records }],
    }] })
    .to_string()
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_lines(socket: &mut Socket) -> (Vec<String>, Value) {
    let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .expect("a tail message within 10 s")
        .expect("the socket is open")
        .unwrap();
    let Message::Text(text) = message else { panic!("a text message, got {message:?}") };
    let body: Value = serde_json::from_str(&text).unwrap();
    assert!(body.get("dropped_entries").is_some(), "{body}");
    let lines = body["streams"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["values"].as_array().unwrap().iter().map(|v| v[1].as_str().unwrap().to_owned()))
        .collect();
    (lines, body)
}

#[tokio::test]
async fn a_tail_gets_the_recent_records_then_each_new_matching_one_until_it_closes() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    assert_eq!(post_json(collector.otlp, "/v1/logs", &batch("web", &["old 1", "old 2", "old 3"])).await.status, 200);

    let query = encode(r#"{service_name="web"} != "noise""#);
    let url = format!("ws://{}/loki/api/v1/tail?query={query}&limit=2", collector.ui);
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let (backlog, _) = next_lines(&mut socket).await;
    assert_eq!(backlog, ["old 2", "old 3"], "the last `limit` records, oldest first");

    assert_eq!(post_json(collector.otlp, "/v1/logs", &batch("api", &["other service"])).await.status, 200);
    assert_eq!(post_json(collector.otlp, "/v1/logs", &batch("web", &["new 1", "noise", "new 2"])).await.status, 200);
    let (live, body) = next_lines(&mut socket).await;
    assert_eq!(live, ["new 1", "new 2"], "only matching records, as they arrive");
    assert_eq!(body["streams"][0]["stream"], json!({ "service_name": "web", "level": "info", "severity_number": "9" }));

    // Many records at once arrive whole, in order, over as many messages as it takes.
    let many: Vec<String> = (0..2500).map(|i| format!("bulk {i}")).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(post_json(collector.otlp, "/v1/logs", &batch("web", &refs)).await.status, 200);
    let mut received = Vec::new();
    while received.len() < many.len() {
        received.extend(next_lines(&mut socket).await.0);
    }
    assert_eq!(received, many);

    socket.send(Message::Close(None)).await.unwrap();
    // The server answers the Close frame with its own (RFC 6455 5.5.1), so the close is clean.
    let answer = tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("an answer within 10 s");
    assert!(matches!(answer, Some(Ok(Message::Close(_)))), "the server's Close frame, got {answer:?}");
    // The server keeps serving after the client left.
    assert_eq!(get(collector.ui, "/health").await.status, 200);
    collector.stop().await;
}

#[tokio::test]
async fn a_tail_with_a_malformed_query_is_refused_before_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let url = format!("ws://{}/loki/api/v1/tail?query={}", collector.ui, encode("{oops"));
    let error = tokio_tungstenite::connect_async(url).await.unwrap_err();
    let tokio_tungstenite::tungstenite::Error::Http(response) = error else { panic!("an HTTP refusal, got {error}") };
    assert_eq!(response.status(), 400);
    collector.stop().await;
}

#[tokio::test]
async fn a_tail_from_a_page_of_another_site_is_refused() {
    // Browsers apply no CORS to WebSockets: without an Origin check any site the user visits
    // could read the stored logs through a tail when no query token is set.
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    assert_eq!(post_json(collector.otlp, "/v1/logs", &batch("web", &["private"])).await.status, 200);
    let url = format!("ws://{}/loki/api/v1/tail?query={}", collector.ui, encode(r#"{service_name="web"}"#));
    match websocket_from(&url, "https://evil.example").await {
        Err(tokio_tungstenite::tungstenite::Error::Http(answer)) => assert_eq!(answer.status(), 403),
        other => panic!("a page of another site got {:?}", other.map(|(_, r)| r.status())),
    }
    for origin in [format!("http://{}", collector.ui), "http://localhost:5173".to_owned()] {
        let (mut socket, _) = websocket_from(&url, &origin).await.unwrap_or_else(|e| panic!("{origin}: {e}"));
        let (lines, _) = next_lines(&mut socket).await;
        assert_eq!(lines, ["private"], "{origin}");
        socket.send(Message::Close(None)).await.unwrap();
    }
    collector.stop().await;
}

#[tokio::test]
async fn exports_stored_while_a_slow_tail_scan_runs_are_all_sent() {
    // A line filter read through the full-text index over many stored records makes each scan
    // of the tail take long enough for exports of four senders to be committed meanwhile; every
    // record of every export still reaches the tail, once.
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    for round in 0..4 {
        let bodies: Vec<String> = (0..5000).map(|i| format!("rec of another service {round} {i}")).collect();
        let bodies: Vec<&str> = bodies.iter().map(String::as_str).collect();
        assert_eq!(post_json(collector.otlp, "/v1/logs", &batch("noise", &bodies)).await.status, 200);
    }
    let query = encode(r#"{service_name="web"} |= "rec""#);
    let url = format!("ws://{}/loki/api/v1/tail?query={query}", collector.ui);
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let (backlog, _) = next_lines(&mut socket).await;
    assert!(backlog.is_empty(), "{backlog:?}");
    const SENDERS: usize = 4;
    const EXPORTS: usize = 20;
    const RECORDS: usize = 50;
    let senders: Vec<_> = (0..SENDERS)
        .map(|s| {
            let otlp = collector.otlp;
            tokio::spawn(async move {
                for e in 0..EXPORTS {
                    let bodies: Vec<String> =
                        (0..RECORDS).map(|i| format!("rec {}", (s * EXPORTS + e) * RECORDS + i)).collect();
                    let bodies: Vec<&str> = bodies.iter().map(String::as_str).collect();
                    assert_eq!(post_json(otlp, "/v1/logs", &batch("web", &bodies)).await.status, 200);
                }
            })
        })
        .collect();
    let total = SENDERS * EXPORTS * RECORDS;
    let mut got = Vec::new();
    while got.len() < total {
        match tokio::time::timeout(Duration::from_secs(8), next_lines(&mut socket)).await {
            Ok((lines, _)) => got.extend(lines),
            Err(_) => break,
        }
    }
    for sender in senders {
        sender.await.unwrap();
    }
    let mut numbers: Vec<usize> = got.iter().map(|l| l.trim_start_matches("rec ").parse().unwrap()).collect();
    numbers.sort_unstable();
    let missing = (0..total).filter(|n| numbers.binary_search(n).is_err()).count();
    assert_eq!((got.len(), missing), (total, 0), "each record once, none missing");
    collector.stop().await;
}

#[tokio::test]
async fn a_tail_pings_its_client_as_lokis_does() {
    // A client gone without closing (a phone off the network) answers no ping, and its tail
    // ends; one that is there answers each (tungstenite does as it reads, as browsers do).
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let url = format!("ws://{}/loki/api/v1/tail?query={}", collector.ui, encode(r#"{service_name="web"}"#));
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let pinged = tokio::time::timeout(Duration::from_secs(8), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Ping(_))) => return true,
                Some(Ok(_)) => {}
                _ => return false,
            }
        }
    })
    .await;
    assert_eq!(pinged, Ok(true), "a ping within 8 s");
    collector.stop().await;
}

#[tokio::test]
async fn a_client_that_answers_no_ping_gets_a_close_after_three() {
    // The client reads nothing (so answers no ping) for 21 s: its tail has sent three pings,
    // at 5, 10 and 15 s, and at 20 s closes with a frame that says why, not a cut connection.
    // A raw socket, as a WebSocket library would answer the pings as it reads them.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let mut tcp = tokio::net::TcpStream::connect(collector.ui).await.unwrap();
    let path = format!("/loki/api/v1/tail?query={}", encode(r#"{service_name="web"}"#));
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        collector.ui
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_secs(21)).await;
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut raw)).await;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("the handshake's answer") + 4;
    assert!(raw.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&raw[..split]));
    // The server's frames (unmasked): opcode, then a length of at most 125 here.
    let (mut frames, mut at) = (Vec::new(), split);
    while at + 2 <= raw.len() {
        let (opcode, len) = (raw[at] & 0x0f, usize::from(raw[at + 1] & 0x7f));
        frames.push((opcode, raw[at + 2..at + 2 + len].to_vec()));
        at += 2 + len;
    }
    let pings = frames.iter().filter(|(op, _)| *op == 0x9).count();
    assert_eq!(pings, 3, "{frames:?}");
    let (opcode, payload) = frames.last().unwrap();
    assert_eq!(*opcode, 0x8, "the last frame is a close: {frames:?}");
    assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), 1000);
    assert_eq!(&payload[2..], b"three pings went unanswered");
    collector.stop().await;
}

#[tokio::test]
async fn a_stopping_collector_closes_its_tails_as_going_away() {
    // RFC 6455's 1001 tells the viewer the server went away (it reconnects), not that the
    // connection broke.
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let url = format!("ws://{}/loki/api/v1/tail?query={}", collector.ui, encode(r#"{service_name="web"}"#));
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let (backlog, _) = next_lines(&mut socket).await;
    assert!(backlog.is_empty());
    collector.stop().await;
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                _ => return None,
            }
        }
    })
    .await
    .expect("a close within 5 s");
    assert_eq!(closed, Some(1001));
}

#[tokio::test]
async fn a_tail_beyond_the_limit_is_closed_with_the_reason_and_one_that_ends_makes_room() {
    // At most 32 tails at once, as Loki's max_concurrent_tail_requests: each reads the store at
    // every export.
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let url = format!("ws://{}/loki/api/v1/tail?query={}", collector.ui, encode(r#"{service_name="web"}"#));
    let first_message = |mut socket: tokio_tungstenite::WebSocketStream<_>| async move {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next()).await.unwrap().unwrap().unwrap();
        (message, socket)
    };
    let mut open = Vec::new();
    for _ in 0..32 {
        let (socket, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
        let (message, socket) = first_message(socket).await;
        assert!(matches!(message, Message::Text(_)), "{message:?}");
        open.push(socket);
    }
    let (socket, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let (message, _) = first_message(socket).await;
    let Message::Close(Some(frame)) = message else { panic!("{message:?}") };
    assert_eq!(u16::from(frame.code), 1011);
    assert_eq!(frame.reason.as_str(), "max concurrent tail requests limit exceeded (32 open)");
    // One ends: the next tail opens (once the server has seen the end, a moment after the client).
    let mut gone = open.pop().unwrap();
    gone.close(None).await.unwrap();
    while gone.next().await.is_some() {}
    let mut opened = false;
    for _ in 0..50 {
        let (socket, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
        if let (Message::Text(_), _) = first_message(socket).await {
            opened = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(opened, "a tail opens once another has ended");
    collector.stop().await;
}
