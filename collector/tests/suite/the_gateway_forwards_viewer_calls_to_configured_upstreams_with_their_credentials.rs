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
    let dir = tempfile::tempdir().unwrap();
    let collector =
        Collector::start_with(Settings { data_dir: dir.path().to_owned(), upstreams, ..Settings::default() }).await;

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
    let dir = tempfile::tempdir().unwrap();
    let collector =
        Collector::start_with(Settings { data_dir: dir.path().to_owned(), upstreams, ..Settings::default() }).await;

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
    let dir = tempfile::tempdir().unwrap();
    let collector =
        Collector::start_with(Settings { data_dir: dir.path().to_owned(), upstreams, ..Settings::default() }).await;
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
    let dir = tempfile::tempdir().unwrap();
    let collector =
        Collector::start_with(Settings { data_dir: dir.path().to_owned(), upstreams, ..Settings::default() }).await;
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
