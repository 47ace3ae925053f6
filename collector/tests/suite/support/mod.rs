//! A collector on ephemeral loopback ports and a minimal HTTP/1.1 client, so that tests talk
//! real bytes to the real server.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use edgescope_collector::{run, Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct Collector {
    pub otlp: SocketAddr,
    pub ui: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Collector {
    pub async fn start(data_dir: &Path) -> Collector {
        Self::start_with(Settings { data_dir: data_dir.to_owned(), ..Settings::default() }).await
    }

    pub async fn start_with(settings: Settings) -> Collector {
        let otlp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ui = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (otlp_addr, ui_addr) = (otlp.local_addr().unwrap(), ui.local_addr().unwrap());
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            run(otlp, ui, settings, async {
                let _ = rx.await;
            })
            .await
            .expect("collector runs");
        });
        Collector { otlp: otlp_addr, ui: ui_addr, stop: Some(tx), task: Some(task) }
    }

    /// Shuts the collector down gracefully and waits until it has stopped.
    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(std::time::Duration::from_secs(10), self.task.take().unwrap())
            .await
            .expect("collector stops within 10 s")
            .unwrap();
    }
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy for binary bodies).
    pub body: String,
    /// The body as bytes.
    pub bytes: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }
}

/// Sends one request with `Connection: close` and reads the whole answer.
pub async fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_to_end(&mut raw))
        .await
        .expect("answer within 10 s")
        .unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a header block");
    let head = String::from_utf8(raw[..split].to_vec()).expect("ASCII headers");
    let body = &raw[split + 4..];
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))).collect();
    let bytes = if headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v == "chunked") {
        dechunk(body)
    } else {
        body.to_vec()
    };
    Response { status, headers, body: String::from_utf8_lossy(&bytes).into_owned(), bytes }
}

fn dechunk(mut s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = s.windows(2).position(|w| w == b"\r\n") {
        let n = usize::from_str_radix(std::str::from_utf8(&s[..eol]).unwrap().trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        let rest = &s[eol + 2..];
        out.extend_from_slice(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

pub async fn post_json(addr: SocketAddr, path: &str, body: &str) -> Response {
    request(addr, "POST", path, &[("Content-Type", "application/json")], body.as_bytes()).await
}

/// Posts OTLP/JSON log `records` as the logs of service `service`, and checks they were stored.
pub async fn post_logs(collector: &Collector, service: &str, records: Vec<serde_json::Value>) {
    let body = serde_json::json!({ "resourceLogs": [{
        "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": service } }] },
        "scopeLogs": [{ "logRecords": records }],
    }] })
    .to_string();
    let answer = post_json(collector.otlp, "/v1/logs", &body).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

/// Log records with these bodies, one a second from `t0` + 1 s (Unix nanoseconds).
pub fn lines_at(t0: u64, bodies: &[&str]) -> Vec<serde_json::Value> {
    (1u64..)
        .zip(bodies)
        .map(|(i, b)| serde_json::json!({ "timeUnixNano": (t0 + i * 1_000_000_000).to_string(), "body": { "stringValue": b } }))
        .collect()
}

pub async fn get(addr: SocketAddr, path: &str) -> Response {
    request(addr, "GET", path, &[], b"").await
}

/// A file from `../shared/fixtures`: real telemetry written by other projects (see the
/// MANIFEST.tsv there for each file's source repository, path and licence).
pub fn fixture(name: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "..", "shared", "fixtures", name].iter().collect();
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// Percent-encodes a query-string value (everything but RFC 3986 unreserved characters).
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A search window that holds every fixture.
pub const ALL_TIME: [(&str, &str); 2] =
    [("query.start_time_min", "1970-01-01T00:00:00Z"), ("query.start_time_max", "2100-01-01T00:00:00Z")];

/// `GET /api/v3/traces` with the given query parameters.
pub async fn find_traces(addr: SocketAddr, params: &[(&str, &str)]) -> Response {
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
    get(addr, &format!("/api/v3/traces?{}", query.join("&"))).await
}

/// Posts fixture files to the OTLP port and returns what they hold, read with the same reader.
pub async fn seed(collector: &Collector, names: &[&str]) -> edgescope_otlp::TracesData {
    let mut sent = edgescope_otlp::TracesData::default();
    for name in names {
        let text = fixture(name);
        let answer = post_json(collector.otlp, "/v1/traces", &text).await;
        assert_eq!(answer.status, 200, "{name}: {}", answer.body);
        let data = edgescope_otlp::read::traces_from_str(&text, edgescope_otlp::read::Ids::Strict).unwrap();
        sent.resource_spans.extend(data.resource_spans);
    }
    sent
}

/// Every span with its service name, sorted by trace and span id, so that two payloads that
/// group the same spans differently compare equal.
pub fn spans_by_id(data: &edgescope_otlp::TracesData) -> Vec<(String, edgescope_otlp::Span)> {
    let mut v: Vec<_> = data.spans().map(|(r, _, s)| (r.service_name().to_owned(), s.clone())).collect();
    v.sort_by_key(|(_, s)| (s.trace_id, s.span_id));
    v
}

/// The spans of `data` that belong to one of `traces`, as [`spans_by_id`] lists them.
pub fn spans_of(
    data: &edgescope_otlp::TracesData,
    traces: &[edgescope_otlp::TraceId],
) -> Vec<(String, edgescope_otlp::Span)> {
    spans_by_id(data).into_iter().filter(|(_, s)| traces.contains(&s.trace_id)).collect()
}

/// The body of a successful search, read back into the model.
pub fn found(answer: &Response) -> edgescope_otlp::TracesData {
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body.as_object().unwrap().keys().collect::<Vec<_>>(), ["result"], "{}", answer.body);
    edgescope_otlp::read::traces(&body, edgescope_otlp::read::Ids::Strict).unwrap()
}

/// Trace ids in the order their spans first appear.
pub fn trace_ids(data: &edgescope_otlp::TracesData) -> Vec<edgescope_otlp::TraceId> {
    let mut ids = Vec::new();
    for (_, _, span) in data.spans() {
        if !ids.contains(&span.trace_id) {
            ids.push(span.trace_id);
        }
    }
    ids
}

/// A hex trace id as the model holds it.
pub fn trace_id(hex: &str) -> edgescope_otlp::TraceId {
    edgescope_otlp::TraceId::from_hex(hex).unwrap()
}

/// Asserts a `404` in Jaeger's error shape for a search that matches nothing.
pub fn assert_no_traces(answer: &Response) {
    assert_eq!(answer.status, 404, "{}", answer.body);
    assert_eq!(answer.json(), serde_json::json!({ "error": { "httpCode": 404, "message": "No traces found" } }));
}

/// `(labels as "k=v,…", [(seconds, value)])` of each series of a matrix answer, sorted.
pub fn matrix(body: &serde_json::Value) -> Vec<(String, Vec<(i64, String)>)> {
    assert_eq!(body["status"], "success", "{body}");
    assert_eq!(body["data"]["resultType"], "matrix", "{body}");
    let mut out: Vec<_> = body["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let labels = s["metric"].as_object().unwrap().iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap()));
            let values = s["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (p[0].as_i64().unwrap(), p[1].as_str().unwrap().to_owned()));
            (labels.collect::<Vec<_>>().join(","), values.collect())
        })
        .collect();
    out.sort();
    out
}

/// Opens a WebSocket to `url` as a page of `origin` would (its `Origin` header).
pub async fn websocket_from(
    url: &str,
    origin: &str,
) -> Result<
    (
        tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
        tokio_tungstenite::tungstenite::handshake::client::Response,
    ),
    tokio_tungstenite::tungstenite::Error,
> {
    let mut request = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url).unwrap();
    request.headers_mut().insert("origin", origin.parse().unwrap());
    tokio_tungstenite::connect_async(request).await
}
