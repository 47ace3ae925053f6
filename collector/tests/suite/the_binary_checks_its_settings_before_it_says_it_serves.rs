//! Runs the real binary with settings it cannot serve with: it refuses them, naming what is
//! wrong, before it prints the lines that scripts wait for ("OTLP receiver on …"). And text logs
//! written to a pipe (a service's journal, a file) carry no colour codes.
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn edgescope(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_edgescope"))
        .args(["serve", "--otlp-addr", "127.0.0.1:0", "--ui-addr", "127.0.0.1:0"])
        .args(args)
        .env_remove("EDGESCOPE_LOG_FORMAT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the edgescope binary starts")
}

/// Waits (10 s at most) for the process to stop; one that keeps serving is killed and fails.
fn outcome(mut child: Child, what: &str) -> (i32, String, String) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            let mut out = String::new();
            child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
            panic!("{what}: still serving after 10 s; stdout: {out}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut out, mut err) = (String::new(), String::new());
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (status.code().unwrap_or(-1), out, err)
}

#[test]
fn bad_settings_are_refused_with_their_reason_before_the_serving_lines() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let missing = dir.path().join("no-viewer-here");
    let (data, file, missing) = (data.to_str().unwrap(), file.to_str().unwrap(), missing.to_str().unwrap());
    let cases: [(&[&str], i32, &str); 11] = [
        (&["--data-dir", data, "--upstream", "tempo"], 1, "expected NAME=URL"),
        (&["--data-dir", data, "--upstream", "tempo=ftp://x"], 1, "starts with http:// or https://"),
        (&["--data-dir", data, "--upstream", "tempo=http://x", "--upstream-header", "loki=A: b"], 1, "loki"),
        (&["--data-dir", file], 1, &format!("cannot create the data directory {file}")),
        (&["--data-dir", data, "--ui-dir", missing], 1, &format!("--ui-dir {missing}: no such directory")),
        (&["--data-dir", data, "--max-body-bytes", "0"], 2, "1024"),
        (&["--data-dir", data, "--max-body-bytes", "1023"], 2, "--max-body-bytes"),
        (&["--data-dir", data, "--max-pending-writes", "0"], 2, "--max-pending-writes"),
        // Above what a semaphore holds, which panicked after the serving lines.
        (&["--data-dir", data, "--max-pending-writes", "2305843009213693952"], 2, "1000000"),
        // Zero would close every connection before its first byte.
        (&["--data-dir", data, "--client-timeout-secs", "0"], 2, "--client-timeout-secs"),
        (&["--data-dir", data, "--client-timeout-secs", "3601"], 2, "3600"),
    ];
    for (args, code, reason) in cases {
        let what = args.join(" ");
        let (status, out, err) = outcome(edgescope(args), &what);
        assert_eq!(status, code, "{what}: {err}");
        assert!(err.contains(reason), "{what}: `{reason}` not in {err}");
        assert_eq!(out, "", "{what}: nothing announced");
        assert!(!err.contains("serving"), "{what}: {err}");
    }
}

#[test]
fn text_logs_to_a_pipe_have_no_colour_codes_and_the_smallest_limits_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let ui = dir.path().join("ui");
    std::fs::create_dir(&ui).unwrap();
    let data = dir.path().join("data");
    let mut child = edgescope(&[
        "--data-dir",
        data.to_str().unwrap(),
        "--ui-dir",
        ui.to_str().unwrap(),
        "--max-body-bytes",
        "1024",
        "--max-pending-writes",
        "1",
    ]);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(line.starts_with("edgescope: OTLP receiver on http://"), "{line}");
    line.clear();
    stdout.read_line(&mut line).unwrap();
    let ui = line.trim().strip_prefix("edgescope: viewer and query API on http://").unwrap().to_owned();
    // Once it answers, it has its signal handler: SIGTERM is a graceful stop.
    let mut stream = std::net::TcpStream::connect(&ui).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    std::io::Write::write_all(&mut stream, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    Command::new("kill").arg(child.id().to_string()).status().unwrap();
    assert!(child.wait().unwrap().success());
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(err.contains("serving"), "{err}");
    assert!(err.contains("no index.html in --ui-dir"), "a viewer directory without its page is named: {err}");
    assert!(!err.contains('\u{1b}'), "no ANSI escape codes: {err:?}");
}
