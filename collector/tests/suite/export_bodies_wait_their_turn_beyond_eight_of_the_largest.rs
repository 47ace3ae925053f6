//! The collector holds at most eight of the largest export bodies at once (in bytes): an export
//! above a sixteenth of the body limit waits for its share (its `Content-Length`) before its body
//! is read, so that many large exports sent at once wait in the network rather than in memory, and
//! it is answered once earlier ones have given theirs back. Smaller exports (every SDK's batches)
//! never wait, so clients that declare large bodies and send them slowly hold up only large ones.
use crate::support;

use std::time::Duration;

use support::{request, Collector};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn an_export_beyond_the_budget_waits_until_one_before_it_is_answered() {
    let dir = tempfile::tempdir().unwrap();
    let settings = edgescope_collector::Settings {
        data_dir: dir.path().to_owned(),
        max_body_bytes: 1024,
        ..edgescope_collector::Settings::default()
    };
    let collector = Collector::start_with(settings).await;
    // Eight exports of the largest body, whose bodies have not come yet, hold the whole budget.
    let mut held = Vec::new();
    for _ in 0..8 {
        let mut stream = tokio::net::TcpStream::connect(collector.otlp).await.unwrap();
        let head = "POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1024\r\n\r\n";
        stream.write_all(head.as_bytes()).await.unwrap();
        held.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let json = [("Content-Type", "application/json")];
    // A small export (at most 64 bytes here, a sixteenth of the limit) is answered at once.
    let tiny = request(collector.otlp, "POST", "/v1/logs", &json, br#"{"resourceLogs":[]}"#).await;
    assert_eq!(tiny.status, 200, "{}", tiny.body);
    // A larger one waits.
    let otlp = collector.otlp;
    let large = format!("{{\"resourceLogs\":[]}}{}", " ".repeat(200));
    let small = tokio::spawn(async move { request(otlp, "POST", "/v1/logs", &json, large.as_bytes()).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!small.is_finished(), "the export waits while the budget is held");
    // One held export sends its body (no OTLP document: a 400) and is answered: its share is back.
    let mut first = held.remove(0);
    first.write_all(&[b' '; 1024]).await.unwrap();
    let mut answer = vec![0; 12];
    first.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 400");
    let small =
        tokio::time::timeout(Duration::from_secs(10), small).await.expect("answered once a share is free").unwrap();
    assert_eq!(small.status, 200, "{}", small.body);
    drop(held);
    collector.stop().await;
}
