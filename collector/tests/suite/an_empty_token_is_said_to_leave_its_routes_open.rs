//! A token variable filled from a secret that is missing is empty: the binary says at start that
//! the routes it was meant to guard are open, rather than leaving them open silently.
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Starts the binary with these token variables, waits until it listens, stops it and returns
/// what it wrote to stderr.
fn warnings_at_start(tokens: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_edgescope"));
    command
        .args(["serve", "--otlp-addr", "127.0.0.1:0", "--ui-addr", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(dir.path())
        .env("EDGESCOPE_LOG", "warn")
        .env_remove("EDGESCOPE_INGEST_TOKEN")
        .env_remove("EDGESCOPE_QUERY_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in tokens {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("the edgescope binary starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Serving: both addresses printed, and an answer from the second (the warnings come before
    // the server answers anything).
    let lines: Vec<String> = (0..2).filter_map(|_| rx.recv_timeout(Duration::from_secs(20)).ok()).collect();
    let listening = lines.len() == 2 && {
        let ui = lines[1].rsplit("http://").next().unwrap_or_default();
        let mut stream = std::net::TcpStream::connect(ui).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        stream.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer.starts_with("HTTP/1.1 200")
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(listening, "the binary did not start: {stderr}");
    stderr
}

#[test]
fn an_empty_token_is_said_to_leave_its_routes_open_and_a_set_one_is_not() {
    let both = warnings_at_start(&[("EDGESCOPE_INGEST_TOKEN", ""), ("EDGESCOPE_QUERY_TOKEN", "")]);
    assert!(both.contains("the ingest token is empty, so it is not required"), "{both}");
    assert!(both.contains("the query token is empty, so it is not required"), "{both}");

    let one = warnings_at_start(&[("EDGESCOPE_INGEST_TOKEN", "s3cret"), ("EDGESCOPE_QUERY_TOKEN", "")]);
    assert!(!one.contains("ingest token is empty"), "{one}");
    assert!(one.contains("the query token is empty"), "{one}");

    let none = warnings_at_start(&[]);
    assert!(!none.contains("token is empty"), "{none}");
}
