//! A collector on a loopback address answers only requests addressed to a loopback name or an IP
//! address: a page of another site whose name is rebound to 127.0.0.1 (DNS rebinding) sends its
//! own name as `Host`, and gets `421`, on both ports, so it can neither read the stored records
//! nor write exports.
use crate::support;

use support::Collector;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The status line's code of `head` sent as it is, and the whole answer.
async fn raw(addr: std::net::SocketAddr, head: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    (text.split(' ').nth(1).unwrap().parse().unwrap(), text)
}

/// The status of `method path` sent with `host` as its `Host`.
async fn status(addr: std::net::SocketAddr, method: &str, path: &str, host: &str) -> (u16, String) {
    status_of(addr, method, path, host, "application/json").await
}

/// The status of `method path` sent with `host` as its `Host` and a body of `content_type`,
/// and the whole answer.
async fn status_of(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    host: &str,
    content_type: &str,
) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = if content_type == "application/json" { "{}" } else { "" };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    (text.split(' ').nth(1).unwrap().parse().unwrap(), text)
}

#[tokio::test]
async fn requests_addressed_to_another_name_get_421_on_both_ports() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    for (addr, method, path) in
        [(collector.ui, "GET", "/api/logs"), (collector.ui, "GET", "/health"), (collector.otlp, "POST", "/v1/traces")]
    {
        for host in [addr.to_string(), format!("localhost:{}", addr.port()), "127.0.0.1".into()] {
            let (code, text) = status(addr, method, path, &host).await;
            assert_eq!(code, 200, "{method} {path} as {host}: {text}");
        }
        let rebound = format!("rebind.evil.example:{}", addr.port());
        let (code, text) = status(addr, method, path, &rebound).await;
        assert_eq!(code, 421, "{method} {path} as {rebound}: {text}");
        assert!(text.contains("answers requests addressed to localhost or an IP address"), "{text}");
    }
    collector.stop().await;
}

#[tokio::test]
async fn the_421_comes_in_the_error_shape_of_the_api_asked() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let host = "rebind.evil.example";
    let header = |text: &str, name: &str| {
        text.lines().find_map(|l| l.to_ascii_lowercase().strip_prefix(&format!("{name}: ")).map(str::to_owned))
    };
    // OTLP: a `google.rpc.Status` (PERMISSION_DENIED) in the request's encoding, as every failure.
    let (code, text) = status_of(collector.otlp, "POST", "/v1/traces", host, "application/json").await;
    assert_eq!(code, 421, "{text}");
    assert_eq!(header(&text, "content-type").as_deref(), Some("application/json"), "{text}");
    assert!(text.contains(r#"{"code":7,"message":"this collector listens on a loopback address"#), "{text}");
    let (code, text) = status_of(collector.otlp, "POST", "/v1/logs", host, "application/x-protobuf").await;
    assert_eq!(code, 421, "{text}");
    assert_eq!(header(&text, "content-type").as_deref(), Some("application/x-protobuf"), "{text}");
    // Field 1 (code) = 7, then field 2 (message).
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    assert!(body.starts_with("\u{8}\u{7}\u{12}"), "{body:?}");
    // Loki: its text error; Jaeger's legacy API: its `errors` list.
    let (code, text) = status(collector.ui, "GET", "/loki/api/v1/labels", host).await;
    assert_eq!((code, header(&text, "content-type").as_deref()), (421, Some("text/plain; charset=utf-8")), "{text}");
    let (code, text) = status(collector.ui, "GET", "/jaeger/api/services", host).await;
    assert_eq!(code, 421, "{text}");
    assert!(text.contains(r#""errors":[{"code":421,"msg":"this collector listens"#), "{text}");
    collector.stop().await;
}

#[tokio::test]
async fn a_reverse_proxys_name_is_answered_once_it_is_allowed() {
    // A proxy on the same machine (Caddy passes on the name it was reached by) in front of the
    // collector: its name is given with --allowed-host, in any case, with or without a port.
    let dir = tempfile::tempdir().unwrap();
    let settings = edgescope_collector::Settings {
        data_dir: dir.path().to_owned(),
        allowed_hosts: vec![" Telemetry.Example.com ".into()],
        ..edgescope_collector::Settings::default()
    };
    let collector = Collector::start_with(settings).await;
    for host in ["telemetry.example.com", "TELEMETRY.example.com:443", "telemetry.example.com."] {
        let (code, text) = status(collector.ui, "GET", "/api/logs", host).await;
        assert_eq!(code, 200, "{host}: {text}");
    }
    let (code, text) = status(collector.ui, "GET", "/api/logs", "other.example.com").await;
    assert_eq!(code, 421, "{text}");
    assert!(text.contains("give it with --allowed-host"), "{text}");
    collector.stop().await;
}

#[tokio::test]
async fn a_request_names_its_host_once_and_an_absolute_target_names_it_for_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let ui = collector.ui;
    // RFC 9112 §3.2.2: the host of an absolute-form target is the one addressed.
    let (code, text) = raw(
        ui,
        "GET http://rebind.evil.example/api/logs HTTP/1.1\r\nHost: rebind.evil.example\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(code, 421, "{text}");
    let (code, text) =
        raw(ui, "GET http://rebind.evil.example/api/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await;
    assert_eq!(code, 400, "a `Host` of this machine does not stand for it: {text}");
    let (code, text) =
        raw(ui, &format!("GET http://{ui}/api/logs HTTP/1.1\r\nHost: {ui}\r\nConnection: close\r\n\r\n")).await;
    assert_eq!(code, 200, "{text}");
    // One whose `Host` names another host is refused, so that no check reads the other one (the
    // WebSocket origin check compares the `Origin` with the `Host`).
    let (code, text) = raw(
        ui,
        &format!("GET http://{ui}/loki/api/v1/tail?query=%7Ba%3D%22b%22%7D HTTP/1.1\r\nHost: evil.example\r\nOrigin: http://evil.example\r\nConnection: Upgrade, close\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"),
    )
    .await;
    assert_eq!(code, 400, "{text}");
    assert!(text.contains("names the host"), "{text}");
    // §3.2: two `Host` lines, or none in HTTP/1.1, get 400, in the API's error shape.
    let (code, text) =
        raw(ui, "GET /api/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: rebind.evil.example\r\nConnection: close\r\n\r\n")
            .await;
    assert_eq!(code, 400, "{text}");
    assert!(text.contains("two `Host` headers"), "{text}");
    let (code, text) = raw(collector.otlp, "POST /v1/traces HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}").await;
    assert_eq!(code, 400, "{text}");
    assert!(text.contains(r#"{"code":3,"message":"an HTTP/1.1 request names its host"#), "{text}");
    // HTTP/1.0 has no `Host` to require: a local program's request is answered.
    let (code, text) = raw(ui, "GET /health HTTP/1.0\r\n\r\n").await;
    assert_eq!(code, 200, "{text}");
    collector.stop().await;
}
