//! The gateway: `/upstream/{name}/…` on the UI port reaches a configured backend with the
//! credentials configured for it, for plain requests and for WebSockets (Loki's tail).
use crate::support;

use std::net::SocketAddr;

use axum::extract::ws::{Message as WsMessage, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::get;
use edgescope_collector::{Settings, Upstream};
use futures_util::{SinkExt, StreamExt};
use support::{request, websocket_from, Collector};
use tokio_tungstenite::tungstenite::Message;

/// A collector (and its data directory) with these upstreams.
async fn with_upstreams(upstreams: Vec<Upstream>) -> (Collector, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let collector =
        Collector::start_with(Settings { data_dir: dir.path().to_owned(), upstreams, ..Settings::default() }).await;
    (collector, dir)
}

/// A collector (and its data directory) whose upstream `t` is `app`, served on a loopback port.
async fn behind_gateway(app: axum::Router) -> (Collector, tempfile::TempDir) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let backend = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    with_upstreams(vec![Upstream::parse(&format!("t=http://{backend}")).unwrap()]).await
}

/// A stand-in backend under `/base` that reports what it was sent.
async fn fake_backend() -> SocketAddr {
    async fn echo(uri: Uri, headers: HeaderMap) -> impl IntoResponse {
        let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let body = serde_json::json!({
            "path": uri.path(), "query": uri.query(), "authorization": h("authorization"),
            "cookie": h("cookie"), "flags": h("x-loki-response-encoding-flags"),
        });
        ([("content-type", "application/json"), ("x-internal", "hidden")], body.to_string())
    }
    async fn tail(uri: Uri, headers: HeaderMap, upgrade: WebSocketUpgrade) -> impl IntoResponse {
        let greeting = format!(
            "hello {} {}",
            uri.query().unwrap_or(""),
            headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("")
        );
        upgrade.on_upgrade(move |mut socket| async move {
            let _ = socket.send(WsMessage::Text(greeting.into())).await;
            while let Some(Ok(WsMessage::Text(t))) = socket.recv().await {
                let _ = socket.send(WsMessage::Text(format!("echo {}", t.as_str()).into())).await;
            }
        })
    }
    let app = axum::Router::new()
        .route("/base/api/search", get(echo))
        .route("/base/missing", get(|| async { (StatusCode::NOT_FOUND, "trace not found") }))
        .route(
            "/base/login",
            get(|| async { (StatusCode::FOUND, [("location", "https://sso.example.com/auth?next=%2F")], "") }),
        )
        .route("/base/loki/api/v1/tail", get(tail));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test]
async fn requests_and_websockets_reach_the_upstream_with_its_headers_and_nothing_else() {
    let backend = fake_backend().await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let mut upstreams = vec![
        Upstream::parse(&format!("fake=http://{backend}/base/")).unwrap(),
        Upstream::parse(&format!("down=http://{closed}")).unwrap(),
    ];
    Upstream::add_header(&mut upstreams, "fake=Authorization: Bearer up-secret").unwrap();
    let (collector, _dir) = with_upstreams(upstreams).await;

    let browser_headers = [
        ("Authorization", "Bearer browser-token"),
        ("Cookie", "session=1"),
        ("X-Loki-Response-Encoding-Flags", "categorize-labels"),
    ];
    let answer =
        request(collector.ui, "GET", "/upstream/fake/api/search?q=%7B%7D&limit=5", &browser_headers, b"").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.json(),
        serde_json::json!({
            "path": "/base/api/search", "query": "q=%7B%7D&limit=5", "authorization": "Bearer up-secret",
            "cookie": "", "flags": "categorize-labels",
        }),
        "the upstream's own credentials replace the browser's, cookies stay behind, query and Loki flags pass"
    );
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(answer.header("x-internal"), None, "only known answer headers come back");

    let missing = request(collector.ui, "GET", "/upstream/fake/missing", &[], b"").await;
    assert_eq!((missing.status, missing.body.as_str()), (404, "trace not found"), "upstream answers pass through");

    // A redirect (an upstream behind a login page) is not followed, which could take its
    // credentials elsewhere, nor passed on for the browser to follow: it is named.
    let redirected = request(collector.ui, "GET", "/upstream/fake/login", &[], b"").await;
    assert_eq!(redirected.status, 502, "{}", redirected.body);
    assert_eq!(redirected.header("location"), None);
    let message = redirected.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("upstream `fake` answered 302, a redirect to https://sso.example.com/auth?next=%2F"),
        "{message}"
    );

    let unknown = request(collector.ui, "GET", "/upstream/nope/api", &[], b"").await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.json()["error"]["message"].as_str().unwrap().contains("no upstream named `nope`"));

    let down = request(collector.ui, "GET", "/upstream/down/api/traces/1", &[], b"").await;
    assert_eq!(down.status, 502, "{}", down.body);
    assert!(down.json()["error"]["message"].as_str().unwrap().contains("upstream `down` could not be reached"));

    let escape = request(collector.ui, "GET", "/upstream/fake/api/../../secret", &[], b"").await;
    assert_ne!(escape.status, 200, "no path leaves the upstream's base");

    let list = request(collector.ui, "GET", "/api/upstreams", &[], b"").await;
    assert_eq!(list.json(), serde_json::json!({ "upstreams": ["down", "fake"] }));

    let url = format!("ws://{}/upstream/fake/loki/api/v1/tail?query=%7Ba%3D%22b%22%7D", collector.ui);
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let first =
        tokio::time::timeout(std::time::Duration::from_secs(10), socket.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(first, Message::Text("hello query=%7Ba%3D%22b%22%7D Bearer up-secret".into()));
    socket.send(Message::Text("more".into())).await.unwrap();
    let echoed =
        tokio::time::timeout(std::time::Duration::from_secs(10), socket.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(echoed, Message::Text("echo more".into()), "messages flow both ways");
    socket.send(Message::Close(None)).await.unwrap();
    collector.stop().await;
}

/// A backend with a route outside the upstream's base, and one under it that reports its tenant.
async fn tenant_backend() -> SocketAddr {
    async fn tenants(headers: HeaderMap) -> String {
        let all: Vec<&str> = headers.get_all("x-scope-orgid").iter().filter_map(|v| v.to_str().ok()).collect();
        all.join(",")
    }
    let app = axum::Router::new()
        .route("/base/api/tenant", get(tenants))
        .route("/secret", get(|| async { "outside the base" }))
        .route("/base/secret", get(|| async { "below the base" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test]
async fn percent_encoded_dot_segments_do_not_leave_the_base() {
    let backend = tenant_backend().await;
    let upstreams = vec![Upstream::parse(&format!("t=http://{backend}/base")).unwrap()];
    let (collector, _dir) = with_upstreams(upstreams).await;

    // URL parsers (WHATWG, as reqwest's) read %2e as a dot in a path segment.
    for path in
        ["/upstream/t/%2e%2e/secret", "/upstream/t/%2E%2e/secret", "/upstream/t/.%2e/secret", "/upstream/t/%2e./secret"]
    {
        let escape = request(collector.ui, "GET", path, &[], b"").await;
        assert_eq!(escape.status, 400, "{path}: {}", escape.body);
    }
    let below = request(collector.ui, "GET", "/upstream/t/%2e/secret", &[], b"").await;
    assert_eq!(below.status, 400, "a single dot segment is refused as `.` is");
    let fine = request(collector.ui, "GET", "/upstream/t/secret%2e", &[], b"").await;
    assert_ne!(fine.body, "outside the base");
    collector.stop().await;
}

#[tokio::test]
async fn configured_headers_replace_the_browsers_headers_of_the_same_name() {
    let backend = tenant_backend().await;
    let mut upstreams = vec![Upstream::parse(&format!("t=http://{backend}/base")).unwrap()];
    Upstream::add_header(&mut upstreams, "t=X-Scope-OrgID: configured").unwrap();
    let (collector, _dir) = with_upstreams(upstreams).await;
    // Another tenant's data stays out of reach: the browser's X-Scope-OrgID does not go along
    // with the configured one (Loki and Tempo read the first value).
    let tenant = request(collector.ui, "GET", "/upstream/t/api/tenant", &[("X-Scope-OrgID", "other")], b"").await;
    assert_eq!((tenant.status, tenant.body.as_str()), (200, "configured"));
    let tenant = request(collector.ui, "GET", "/upstream/t/api/tenant", &[("x-scope-orgid", "other")], b"").await;
    assert_eq!((tenant.status, tenant.body.as_str()), (200, "configured"), "names match in any case");
    collector.stop().await;
}

#[tokio::test]
async fn websockets_from_pages_of_other_sites_are_refused() {
    // Browsers apply no CORS to WebSockets: without an Origin check any site the user visits
    // could read the upstream's live tail with the credentials configured here.
    let backend = fake_backend().await;
    let mut upstreams = vec![Upstream::parse(&format!("fake=http://{backend}/base/")).unwrap()];
    Upstream::add_header(&mut upstreams, "fake=Authorization: Bearer up-secret").unwrap();
    let (collector, _dir) = with_upstreams(upstreams).await;
    let url = format!("ws://{}/upstream/fake/loki/api/v1/tail?query=x", collector.ui);
    match websocket_from(&url, "https://evil.example").await {
        Err(tokio_tungstenite::tungstenite::Error::Http(answer)) => assert_eq!(answer.status(), 403),
        other => panic!("a page of another site got {:?}", other.map(|(_, r)| r.status())),
    }
    for origin in [format!("http://{}", collector.ui), "http://localhost:5173".to_owned()] {
        let (mut socket, _) = websocket_from(&url, &origin).await.unwrap_or_else(|e| panic!("{origin}: {e}"));
        let first =
            tokio::time::timeout(std::time::Duration::from_secs(10), socket.next()).await.unwrap().unwrap().unwrap();
        assert_eq!(first, Message::Text("hello query=x Bearer up-secret".into()), "{origin}");
        socket.send(Message::Close(None)).await.unwrap();
    }
    collector.stop().await;
}

/// A backend that answers every path with the path it was sent, still percent-encoded, and
/// reports each path on `seen`.
async fn path_backend() -> (SocketAddr, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let (seen, paths) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().fallback(move |uri: Uri| {
        let seen = seen.clone();
        async move {
            let _ = seen.send(uri.to_string());
            uri.to_string()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, paths)
}

#[tokio::test]
async fn dot_segments_between_encoded_slashes_or_backslashes_do_not_leave_the_base() {
    let (backend, mut seen) = path_backend().await;
    let upstreams = vec![Upstream::parse(&format!("t=http://{backend}/base")).unwrap()];
    let (collector, _dir) = with_upstreams(upstreams).await;
    // Servers that decode %2F and %5C before they resolve dot segments (Python's http.server,
    // nginx in front of a backend under a prefix) read each of these as `../../secret.txt`.
    for path in [
        "api%2F..%2F..%2Fsecret.txt",
        "api/%2e%2e%2f%2e%2e%2fsecret.txt",
        "x/..%2F..%2Fsecret.txt",
        "x/..%2f",
        "a%5C..%5Csecret",
        "a/..%5csecret",
        "a/%2E%2e%5Csecret",
        "a%2F.%2Fsecret",
        // A path parameter, which servlet containers drop before they resolve `..`.
        "a/..;x/secret",
    ] {
        let answer = request(collector.ui, "GET", &format!("/upstream/t/{path}"), &[], b"").await;
        assert_eq!(answer.status, 400, "{path}: {}", answer.body);
        assert!(answer.json()["error"]["message"].as_str().unwrap().contains("`..` segments"), "{path}");
    }
    assert!(seen.try_recv().is_err(), "none of them reached the upstream");
    // An encoded slash within a segment (an id) and dots within a name go along unchanged.
    for path in ["api/traces/a%2Fb", "api/v1.2/x..y/...", "api/%2e%2e%2e%2Fz"] {
        let answer = request(collector.ui, "GET", &format!("/upstream/t/{path}"), &[], b"").await;
        assert_eq!((answer.status, answer.body.as_str()), (200, format!("/base/{path}").as_str()));
    }
    collector.stop().await;
}

#[tokio::test]
async fn the_upstreams_base_url_itself_is_reachable_even_beside_the_viewer() {
    let (backend, _seen) = path_backend().await;
    let upstreams = vec![Upstream::parse(&format!("t=http://{backend}/base/")).unwrap()];
    let dir = tempfile::tempdir().unwrap();
    // With a viewer, whose index.html answers every path no route takes.
    let ui = tempfile::tempdir().unwrap();
    std::fs::write(ui.path().join("index.html"), "<html>the viewer</html>").unwrap();
    let settings = Settings {
        data_dir: dir.path().to_owned(),
        ui_dir: Some(ui.path().to_owned()),
        upstreams,
        ..Settings::default()
    };
    let collector = Collector::start_with(settings).await;
    for (path, reached) in
        [("/upstream/t", "/base/"), ("/upstream/t/", "/base/"), ("/upstream/t/?query=%7B%7D", "/base/?query=%7B%7D")]
    {
        let answer = request(collector.ui, "GET", path, &[], b"").await;
        assert_eq!((answer.status, answer.body.as_str()), (200, reached), "{path}");
    }
    let unknown = request(collector.ui, "GET", "/upstream/nope", &[], b"").await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert!(unknown.json()["error"]["message"].as_str().unwrap().contains("no upstream named `nope`"));
    collector.stop().await;
}

#[tokio::test]
async fn content_headers_come_back_and_browsers_may_send_the_tenant() {
    async fn download() -> impl IntoResponse {
        (
            [
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
                ("content-disposition", "attachment; filename=\"trace.json\""),
                ("content-language", "en"),
                ("vary", "Accept-Encoding"),
            ],
            // An empty gzip member: the gateway passes bodies through as sent.
            &b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00"[..],
        )
    }
    let (collector, _dir) = behind_gateway(axum::Router::new().route("/download", get(download))).await;

    let origin = ("Origin", "http://localhost:5173");
    let answer =
        request(collector.ui, "GET", "/upstream/t/download", &[("Accept-Encoding", "gzip"), origin], b"").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("content-encoding"), Some("gzip"));
    assert_eq!(answer.header("content-disposition"), Some("attachment; filename=\"trace.json\""));
    assert_eq!(answer.header("content-language"), Some("en"));
    assert_eq!(&answer.bytes[..2], b"\x1f\x8b");
    // Caches must keep the gzip answer apart from others, beside CORS's own `Vary`.
    let vary: Vec<String> = answer
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("vary"))
        .flat_map(|(_, v)| v.split(',').map(|v| v.trim().to_ascii_lowercase()))
        .collect();
    assert!(vary.iter().any(|v| v == "accept-encoding"), "{vary:?}");
    assert!(vary.iter().any(|v| v == "origin"), "{vary:?}");

    // A page of another local origin asks first whether it may send X-Scope-OrgID.
    let preflight = request(
        collector.ui,
        "OPTIONS",
        "/upstream/t/download",
        &[origin, ("Access-Control-Request-Method", "GET"), ("Access-Control-Request-Headers", "x-scope-orgid")],
        b"",
    )
    .await;
    assert_eq!(preflight.status, 200, "{}", preflight.body);
    let allowed = preflight.header("access-control-allow-headers").unwrap_or("").to_ascii_lowercase();
    assert!(allowed.split(',').any(|h| h.trim() == "x-scope-orgid"), "{allowed}");
    collector.stop().await;
}

/// A Loki stand-in whose `/tail?close` closes at once with Loki's code and reason for too many
/// tails, and whose `/tail` waits; every close frame it receives is reported on the channel.
async fn closing_backend() -> (SocketAddr, tokio::sync::mpsc::UnboundedReceiver<Option<(u16, String)>>) {
    let (closes, received) = tokio::sync::mpsc::unbounded_channel();
    let tail = move |uri: Uri, upgrade: WebSocketUpgrade| {
        let closes = closes.clone();
        async move {
            upgrade.on_upgrade(move |mut socket| async move {
                if uri.query() == Some("close") {
                    let reason = "max concurrent tail requests limit exceeded";
                    let frame = axum::extract::ws::CloseFrame { code: 1011, reason: reason.into() };
                    let _ = socket.send(WsMessage::Close(Some(frame))).await;
                }
                while let Some(Ok(message)) = socket.recv().await {
                    if let WsMessage::Close(frame) = message {
                        let _ = closes.send(frame.map(|f| (f.code, f.reason.to_string())));
                    }
                }
            })
        }
    };
    let app = axum::Router::new().route("/tail", get(tail));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, received)
}

#[tokio::test]
async fn websocket_closes_pass_through_with_their_code_and_reason_and_end_cleanly() {
    use tokio_tungstenite::tungstenite::protocol::{frame::coding::CloseCode, CloseFrame};
    let seconds = std::time::Duration::from_secs(10);
    let (backend, mut upstream_closes) = closing_backend().await;
    let upstreams = vec![Upstream::parse(&format!("loki=http://{backend}")).unwrap()];
    let (collector, _dir) = with_upstreams(upstreams).await;
    let code = |message: &Option<Result<Message, _>>| match message {
        Some(Ok(Message::Close(Some(frame)))) => Some((u16::from(frame.code), frame.reason.to_string())),
        _ => None,
    };

    // Loki refuses another tail: the page learns why, and the upstream gets its close answered.
    let url = format!("ws://{}/upstream/loki/tail?close", collector.ui);
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let closed = tokio::time::timeout(seconds, socket.next()).await.unwrap();
    let why = Some((1011, "max concurrent tail requests limit exceeded".to_owned()));
    assert_eq!(code(&closed), why, "{closed:?}");
    // Reading on answers the close; then the gateway ends the connection, cleanly (not an error).
    let end = tokio::time::timeout(seconds, socket.next()).await.unwrap();
    assert!(end.is_none(), "the connection ends after the closing handshake: {end:?}");
    assert_eq!(tokio::time::timeout(seconds, upstream_closes.recv()).await.unwrap(), Some(why));

    // The page closes with its own code: the upstream gets it, and the page an answering close.
    let url = format!("ws://{}/upstream/loki/tail", collector.ui);
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let stop = CloseFrame { code: CloseCode::from(4001), reason: "user stopped".into() };
    socket.close(Some(stop)).await.unwrap();
    let answered = tokio::time::timeout(seconds, socket.next()).await.unwrap();
    assert_eq!(code(&answered), Some((4001, "user stopped".to_owned())), "{answered:?}");
    let end = tokio::time::timeout(seconds, socket.next()).await.unwrap();
    assert!(end.is_none(), "{end:?}");
    let upstream_saw = tokio::time::timeout(seconds, upstream_closes.recv()).await.unwrap();
    assert_eq!(upstream_saw, Some(Some((4001, "user stopped".to_owned()))));

    // A page gone without a close: the upstream is told so rather than left with a dead tail.
    let url = format!("ws://{}/upstream/loki/tail", collector.ui);
    let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    drop(socket);
    let upstream_saw = tokio::time::timeout(seconds, upstream_closes.recv()).await.unwrap();
    assert_eq!(upstream_saw, Some(Some((1001, "the browser went away".to_owned()))));
    collector.stop().await;
}

#[tokio::test]
async fn a_websocket_handshake_answered_with_a_redirect_gets_502_naming_it() {
    let backend = fake_backend().await;
    let upstreams = vec![Upstream::parse(&format!("fake=http://{backend}/base/")).unwrap()];
    let (collector, _dir) = with_upstreams(upstreams).await;
    let url = format!("ws://{}/upstream/fake/login", collector.ui);
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(answer)) => {
            assert_eq!(answer.status(), 502);
            assert_eq!(answer.headers().get("location"), None);
            let body = String::from_utf8_lossy(answer.body().as_deref().unwrap_or_default()).into_owned();
            assert!(
                body.contains("upstream `fake` answered 302, a redirect to https://sso.example.com/auth?next=%2F"),
                "{body}"
            );
        }
        other => panic!("expected a 502, got {:?}", other.map(|(_, r)| r.status())),
    }
    collector.stop().await;
}

#[test]
fn upstream_names_are_given_once_and_urls_without_fragments_or_impossible_ports() {
    for bad in ["t=http://127.0.0.1:9/x#frag", "t=http://127.0.0.1:99999", "t=http://127.0.0.1:0/x"] {
        assert!(Upstream::parse(bad).is_err(), "{bad}");
    }
    let ok = Upstream::parse("t=http://127.0.0.1:65535/x%23y").unwrap();
    assert_eq!(ok.url, "http://127.0.0.1:65535/x%23y");
    let mut twice = vec![
        Upstream::parse("t=http://127.0.0.1:1/first").unwrap(),
        Upstream::parse("t=http://127.0.0.1:1/second").unwrap(),
    ];
    assert!(Upstream::check_names(&twice).unwrap_err().contains("`t` is given to two --upstream URLs"));
    // Else the credentials would go to the first while requests reach the second.
    assert!(Upstream::add_header(&mut twice, "t=Authorization: Bearer x").unwrap_err().contains("`t` is given to two"));
    assert!(twice.iter().all(|u| u.headers.is_empty()));
}

/// Runs the binary until it serves (or stops), returning it and its UI address.
fn edgescope(args: &[&str], data: &std::path::Path) -> (std::process::Child, Option<SocketAddr>) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_edgescope"))
        .args(["serve", "--otlp-addr", "127.0.0.1:0", "--ui-addr", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .args(args)
        .env("EDGESCOPE_LOG", "info")
        .env_remove("EDGESCOPE_LOG_FORMAT")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let ui = stdout
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("edgescope: viewer and query API on http://").map(|a| a.parse().unwrap()));
    (child, ui)
}

#[test]
fn the_binary_refuses_a_name_given_twice_before_it_serves() {
    let twice = ["--upstream", "t=http://127.0.0.1:1/first", "--upstream", "t=http://127.0.0.1:1/second"];
    let header = ["--upstream-header", "t=Authorization: Bearer for-the-first"];
    // With or without a header for it: which of the two would it go to, and requests?
    for args in [twice.to_vec(), [&twice[..], &header[..]].concat()] {
        let dir = tempfile::tempdir().unwrap();
        let (mut child, ui) = edgescope(&args, dir.path());
        if let Some(ui) = ui {
            child.kill().unwrap();
            panic!("serves on {ui} with a name given twice: {args:?}");
        }
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("`t` is given to two --upstream URLs"), "{stderr}");
    }
}

#[tokio::test]
async fn an_unreachable_upstream_is_logged_without_the_query_string() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let upstream = format!("t=http://{closed}/base");
    let (mut child, ui) = edgescope(&["--upstream", &upstream], dir.path());
    let ui = ui.expect("the collector serves");
    let answer = request(ui, "GET", "/upstream/t/api/search?q=%7Bspan.user.email%3D%22alice%22%7D", &[], b"").await;
    assert_eq!(answer.status, 502, "{}", answer.body);
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let warning = stderr.lines().find(|l| l.contains("upstream unreachable")).unwrap_or_else(|| panic!("{stderr}"));
    assert!(warning.contains("upstream=t") && warning.contains("api/search"), "{warning}");
    assert!(warning.contains("Connection refused"), "the cause is kept: {warning}");
    assert!(!warning.contains("alice") && !warning.contains("q="), "no query string: {warning}");
}

#[tokio::test]
async fn an_upstream_that_accepts_no_connection_gets_the_same_message_for_http_and_websockets() {
    // A listener that never accepts, its backlog full: further connections hang unanswered.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let address = listener.local_addr().unwrap();
    let fillers: Vec<_> = (0..8).map(|_| tokio::spawn(tokio::net::TcpStream::connect(address))).collect();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let upstreams = vec![Upstream::parse(&format!("black=http://{address}")).unwrap()];
    let (collector, _dir) = with_upstreams(upstreams).await;
    let http = async {
        // Not `request`, which waits 10 s at most: the gateway gives up after 10 s.
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(collector.ui).await.unwrap();
        let head = "GET /upstream/black/api/search HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        String::from_utf8_lossy(&raw).into_owned()
    };
    let websocket = async {
        let url = format!("ws://{}/upstream/black/loki/api/v1/tail", collector.ui);
        match tokio_tungstenite::connect_async(url).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(answer)) => {
                String::from_utf8_lossy(answer.body().as_deref().unwrap_or_default()).into_owned()
            }
            other => panic!("expected a refusal, got {:?}", other.map(|(_, r)| r.status())),
        }
    };
    let (http, websocket) =
        tokio::time::timeout(std::time::Duration::from_secs(30), async { tokio::join!(http, websocket) })
            .await
            .expect("the gateway gives up by itself");
    let message = "upstream `black` could not be reached: no connection within 10 s";
    assert!(http.starts_with("HTTP/1.1 502") && http.contains(message), "{http}");
    assert!(websocket.contains(message), "{websocket}");
    drop(listener);
    fillers.into_iter().for_each(|f| f.abort());
    collector.stop().await;
}

#[tokio::test]
async fn a_page_an_upstream_answers_with_cannot_run_as_the_viewers_origin() {
    // A backend's own UI, or a proxy's login page: HTML whose script would read every API and the
    // sources' credentials the viewer keeps, were it to run as the viewer's origin. Sniffing is
    // off and the page is sandboxed, whatever the upstream said of either.
    async fn page() -> impl IntoResponse {
        ([("content-type", "text/html"), ("content-security-policy", "script-src 'self'")], "<script>steal()</script>")
    }
    let (collector, _dir) = behind_gateway(axum::Router::new().route("/ui", get(page))).await;
    let answer = request(collector.ui, "GET", "/upstream/t/ui", &[], b"").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
    let policies: Vec<&str> = answer
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("content-security-policy"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(policies, ["sandbox; default-src 'none'"], "the upstream's own policy does not replace it");
    collector.stop().await;
}

#[tokio::test]
async fn a_user_and_password_in_the_upstreams_url_reach_it_on_requests_and_websockets() {
    let backend = fake_backend().await;
    // Grafana Cloud writes its Loki URLs this way: a user id and a token (here with an escaped `/`).
    let upstreams = vec![Upstream::parse(&format!("fake=http://12345:glc_a%2Fb@{backend}/base/")).unwrap()];
    let (collector, _dir) = with_upstreams(upstreams).await;
    let basic = "Basic MTIzNDU6Z2xjX2EvYg=="; // base64 of "12345:glc_a/b"
    let answer = request(collector.ui, "GET", "/upstream/fake/api/search", &[], b"").await;
    assert_eq!(answer.json()["authorization"], basic, "{}", answer.body);
    let url = format!("ws://{}/upstream/fake/loki/api/v1/tail?query=x", collector.ui);
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let first =
        tokio::time::timeout(std::time::Duration::from_secs(10), socket.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(first, Message::Text(format!("hello query=x {basic}").into()), "the handshake carried them too");
    socket.send(Message::Close(None)).await.unwrap();
    collector.stop().await;
}

#[tokio::test]
async fn a_websocket_handshake_refused_with_a_chunked_body_reaches_the_page_as_its_text() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A proxy in front of Loki that refuses the tail with a chunked answer.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let backend = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut head = [0u8; 4096];
            let _ = socket.read(&mut head).await;
            let answer =
                "HTTP/1.1 429 Too Many Requests\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n\
                          9\r\ntoo many \r\n10\r\ntails at once...\r\n0\r\n\r\n";
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    let upstreams = vec![Upstream::parse(&format!("loki=http://{backend}")).unwrap()];
    let (collector, _dir) = with_upstreams(upstreams).await;
    let url = format!("ws://{}/upstream/loki/loki/api/v1/tail", collector.ui);
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(answer)) => {
            assert_eq!(answer.status(), 429);
            let body = String::from_utf8_lossy(answer.body().as_deref().unwrap_or_default()).into_owned();
            assert_eq!(body, "too many tails at once...");
        }
        other => panic!("expected a 429, got {:?}", other.map(|(_, r)| r.status())),
    }
    collector.stop().await;
}
