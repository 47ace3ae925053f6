//! Runs the real binary with `--log-format json` and reads what it writes on stderr.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn every_log_line_is_a_json_object_with_time_level_and_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_edgescope"))
        .args(["serve", "--otlp-addr", "127.0.0.1:0", "--ui-addr", "127.0.0.1:0", "--log-format", "json"])
        .arg("--data-dir")
        .arg(dir.path())
        .env("EDGESCOPE_LOG", "debug,hyper=off,tower=off")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the edgescope binary starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (mut ui, mut otlp) = (String::new(), String::new());
    for _ in 0..2 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        if let Some(addr) = line.trim().strip_prefix("edgescope: viewer and query API on http://") {
            ui = addr.to_owned();
        }
        if let Some(addr) = line.trim().strip_prefix("edgescope: OTLP receiver on http://") {
            otlp = addr.to_owned();
        }
    }
    let spans = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10",
        "spanId":"0102030405060708","name":"x","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}"#;
    let mut stream = TcpStream::connect(&otlp).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        stream,
        "POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{spans}",
        spans.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let mut stream = TcpStream::connect(&ui).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET /health?token=secret HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // SIGTERM: a graceful stop that logs, then stderr ends.
    Command::new("kill").arg(child.id().to_string()).status().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();

    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    for (line, text) in lines.iter().zip(stderr.lines()) {
        let keys = serde_json::from_str::<Keys>(text).unwrap().0;
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(keys.len(), unique.len(), "each key once: {text}");
        assert!(line["timestamp"].is_string() && line["level"].is_string() && line["message"].is_string(), "{line}");
    }
    let with_message =
        |m: &str| lines.iter().find(|l| l["message"] == m).unwrap_or_else(|| panic!("no `{m}` in {stderr}"));
    assert_eq!(with_message("serving")["level"], "INFO");
    let request = lines
        .iter()
        .find(|l| l["message"] == "request" && l["method"] == "GET")
        .unwrap_or_else(|| panic!("no GET request in {stderr}"));
    assert_eq!(
        (request["method"].as_str(), request["path"].as_str(), request["status"].as_u64()),
        (Some("GET"), Some("/health"), Some(200))
    );
    assert!(!stderr.contains("secret"), "query strings stay out of the logs");
    let stored = with_message("stored");
    assert_eq!((stored["span_count"].as_u64(), stored["rejected"].as_u64()), (Some(1), Some(0)), "{stored}");
    with_message("shutting down");
}

/// The keys of a JSON object in order, repeated ones included (a `Map` keeps only the last).
struct Keys(Vec<String>);

impl<'de> serde::Deserialize<'de> for Keys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Keys, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Keys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some((key, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                    keys.push(key);
                }
                Ok(Keys(keys))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}
