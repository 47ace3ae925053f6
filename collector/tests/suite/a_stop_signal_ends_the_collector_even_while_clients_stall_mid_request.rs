//! SIGTERM stops the real binary even while clients have sent part of a request and then
//! nothing (a phone that lost its network mid-upload): requests under way get a grace period,
//! then are cut off, never acknowledged. An export answered before the signal stays stored, in
//! the database file itself: a copy of `edgescope.db` alone (a backup) has it.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SPAN: &str = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","name":"before the stop","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}"#;

fn post(addr: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn sigterm_ends_the_collector_while_a_client_has_sent_half_a_request() {
    let dir = tempfile::tempdir().unwrap();
    let serve = |dir: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_edgescope"))
            .args(["serve", "--otlp-addr", "127.0.0.1:0", "--ui-addr", "127.0.0.1:0", "--retention-hours", "0"])
            .arg("--data-dir")
            .arg(dir)
            .env_remove("EDGESCOPE_LOG_FORMAT")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the edgescope binary starts")
    };
    let mut child = serve(dir.path());
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let otlp = line.trim().strip_prefix("edgescope: OTLP receiver on http://").unwrap().to_owned();

    assert!(post(&otlp, SPAN).starts_with("HTTP/1.1 200"), "acknowledged before the signal");
    // One client stops halfway through its body, another halfway through its headers.
    let mut body = TcpStream::connect(&otlp).unwrap();
    body.write_all(
        b"POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"resourceSpans\"",
    )
    .unwrap();
    let mut headers = TcpStream::connect(&otlp).unwrap();
    headers.write_all(b"POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty").unwrap();
    std::thread::sleep(Duration::from_millis(300));

    Command::new("kill").arg(child.id().to_string()).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("still running 30 s after SIGTERM while two clients stall");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(err.contains("cut off"), "the log says requests were cut off: {err}");
    drop((body, headers));

    let wal = dir.path().join("edgescope.db-wal");
    assert_eq!(std::fs::metadata(&wal).map_or(0, |m| m.len()), 0, "the write-ahead log is emptied into the database");

    // Restarted on a copy of the database file alone: the acknowledged span is there.
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(dir.path().join("edgescope.db"), copy.path().join("edgescope.db")).unwrap();
    let mut child = serve(copy.path());
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    stdout.read_line(&mut first).unwrap();
    stdout.read_line(&mut second).unwrap();
    let ui = second.trim().strip_prefix("edgescope: viewer and query API on http://").unwrap().to_owned();
    let mut stream = TcpStream::connect(&ui).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream
        .write_all(
            b"GET /api/v3/traces/4bf92f3577b34da6a3ce929d0e0e4736 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    assert!(answer.starts_with("HTTP/1.1 200") && answer.contains("before the stop"), "{answer}");
}
