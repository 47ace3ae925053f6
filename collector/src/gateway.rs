//! The viewer's gateway to other backends: `GET /upstream/{name}/{path…}` is forwarded to the
//! upstream configured under that name, with the headers configured for it (credentials stay on
//! the server), and its answer comes back under the collector's origin. Browsers block the
//! viewer from calling Jaeger, Tempo, Loki or Zipkin directly, since those send no CORS headers
//! by default; through the gateway they need none. WebSocket upgrades (Loki's live tail) are
//! forwarded too, message by message, when they come from the collector's own origin or a local
//! one (browsers apply no CORS to WebSockets).
//!
//! Only configured upstreams are reachable and only below their base path, so the gateway is
//! not an open proxy; only `GET` is forwarded (every query API it serves reads with `GET`).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ws::{self, WebSocket, WebSocketUpgrade};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

/// One backend the gateway forwards to.
#[derive(Clone)]
pub struct Upstream {
    /// The name in `/upstream/{name}/…`.
    pub name: String,
    /// Base URL (`http` or `https`); request paths are appended to its path.
    pub url: String,
    /// Headers added to every forwarded request, typically `Authorization`.
    pub headers: Vec<(String, String)>,
}

// By hand, so that header values (credentials) never reach a log line.
impl fmt::Debug for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Upstream").field("name", &self.name).field("url", &self.url).field("headers", &names).finish()
    }
}

impl Upstream {
    /// Reads `NAME=URL`.
    pub fn parse(text: &str) -> Result<Upstream, String> {
        let (name, url) =
            text.split_once('=').ok_or_else(|| format!("`{}`: expected NAME=URL", without_credentials(text)))?;
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(format!("`{name}`: an upstream name is letters, digits, `-` and `_`"));
        }
        let url = url.trim().trim_end_matches('/');
        // Messages name the URL without its user and password, which start-up errors would
        // otherwise write to the service's journal.
        let shown = without_credentials(url);
        let parsed: Uri = url.parse().map_err(|e| format!("`{shown}`: not a URL: {e}"))?;
        if !matches!(parsed.scheme_str(), Some("http" | "https")) || parsed.host().is_none() {
            return Err(format!("`{shown}`: an upstream URL starts with http:// or https:// and names a host"));
        }
        if parsed.query().is_some() {
            return Err(format!("`{shown}`: an upstream URL has no query string"));
        }
        // `Uri` takes a fragment and any digits for a port; the client's own parser reads the
        // URL it sends to.
        if url.contains('#') {
            return Err(format!("`{shown}`: an upstream URL has no fragment (`#…`)"));
        }
        let sent = reqwest::Url::parse(url).map_err(|e| format!("`{shown}`: not a URL: {e}"))?;
        if sent.port() == Some(0) {
            return Err(format!("`{shown}`: not a URL: invalid port number"));
        }
        // A user and password in the URL (`https://user:token@logs.example.com`, as Grafana
        // Cloud hands them out) become the `Authorization: Basic` header, so that WebSockets carry
        // them as plain requests do, and the URL kept holds no secret.
        let mut headers = Vec::new();
        if !sent.username().is_empty() || sent.password().is_some() {
            let credentials =
                [percent_decoded(sent.username()), b":".to_vec(), percent_decoded(sent.password().unwrap_or(""))]
                    .concat();
            headers.push(("Authorization".to_owned(), format!("Basic {}", base64(&credentials))));
        }
        Ok(Upstream { name: name.to_owned(), url: strip_credentials(url), headers })
    }

    /// Reads `NAME=Header: value` and adds the header to the upstream of that name.
    pub fn add_header(upstreams: &mut [Upstream], text: &str) -> Result<(), String> {
        Upstream::check_names(upstreams)?;
        let (name, rest) = text.split_once('=').ok_or_else(|| format!("expected NAME=Header: value, got `{text}`"))?;
        let (key, value) = rest.split_once(':').ok_or_else(|| format!("`{rest}`: expected Header: value"))?;
        let (key, value) = (key.trim(), value.trim());
        HeaderName::from_bytes(key.as_bytes()).map_err(|_| format!("`{key}` is not a header name"))?;
        HeaderValue::from_str(value).map_err(|_| format!("the value of `{key}` is not a valid header value"))?;
        // Headers that frame or route the request are the HTTP client's to write: set by hand
        // they would break every request (a `Content-Length` of a body that is not there) or
        // send it elsewhere than the URL says.
        const THE_CLIENTS: &[&str] =
            &["host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer", "keep-alive"];
        if THE_CLIENTS.iter().any(|h| key.eq_ignore_ascii_case(h)) {
            return Err(format!(
                "`{key}` is written by the gateway's HTTP client: give it in --upstream's URL, or not at all"
            ));
        }
        let upstream = upstreams
            .iter_mut()
            .find(|u| u.name == name.trim())
            .ok_or_else(|| format!("a header for `{}`, but no --upstream of that name", name.trim()))?;
        // A request carries one `Authorization`: the one given here wins over the URL's user and password.
        if key.eq_ignore_ascii_case("authorization") {
            upstream.headers.retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
        }
        upstream.headers.push((key.to_owned(), value.to_owned()));
        Ok(())
    }

    /// Refuses a name given to two upstreams: requests would reach one of them and the
    /// `--upstream-header`s (credentials) go to the other.
    pub fn check_names(upstreams: &[Upstream]) -> Result<(), String> {
        for (i, upstream) in upstreams.iter().enumerate() {
            if upstreams[..i].iter().any(|u| u.name == upstream.name) {
                return Err(format!(
                    "`{}` is given to two --upstream URLs: each upstream needs a name of its own",
                    upstream.name
                ));
            }
        }
        Ok(())
    }
}

/// The start and end of the user and password in `url`'s authority (the text before its last
/// `@`), if it has them.
fn credentials_in(url: &str) -> Option<(usize, usize)> {
    let from = url.find("://")? + 3;
    let authority_end = url[from..].find(['/', '?']).map_or(url.len(), |end| from + end);
    url[from..authority_end].rfind('@').map(|at| (from, from + at + 1))
}

/// `url` without the user and password of its authority.
fn strip_credentials(url: &str) -> String {
    match credentials_in(url) {
        Some((from, to)) => format!("{}{}", &url[..from], &url[to..]),
        None => url.to_owned(),
    }
}

/// `text` (a URL, or a command-line form holding one) with a user and password written as `…@`.
fn without_credentials(text: &str) -> String {
    match credentials_in(text) {
        Some((from, to)) => format!("{}…@{}", &text[..from], &text[to..]),
        None => text.to_owned(),
    }
}

/// `text` with its `%XX` escapes decoded, as URL parsers give a URL's user and password.
fn percent_decoded(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

/// Standard base64 with padding (RFC 4648 §4), as Basic credentials are written.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

/// Request headers passed on to the upstream; everything else (cookies, the collector's own
/// authorization) stays behind.
const FORWARDED_REQUEST_HEADERS: &[&str] =
    &["accept", "accept-encoding", "accept-language", "x-loki-response-encoding-flags", "x-scope-orgid"];

/// Answer headers passed back to the browser (`Vary` beside the CORS layer's, which adds its own).
const FORWARDED_RESPONSE_HEADERS: &[&str] = &[
    "content-type",
    "content-encoding",
    "content-disposition",
    "content-language",
    "vary",
    "cache-control",
    "etag",
    "last-modified",
    "retry-after",
];

/// How long connecting to an upstream may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long an upstream may keep the gateway waiting for (the next part of) its answer, or for
/// its answer to a WebSocket handshake.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(120);

/// The configured upstreams and one HTTP client for all of them.
#[derive(Clone, Debug)]
pub(crate) struct Gateway {
    upstreams: Arc<HashMap<String, Upstream>>,
    client: reqwest::Client,
    /// [`CONNECT_TIMEOUT`], for WebSockets (the HTTP client has its own); shorter in tests.
    connect_timeout: Duration,
    /// [`ANSWER_TIMEOUT`], for WebSocket handshakes; shorter in tests.
    answer_timeout: Duration,
}

fn refusal(status: StatusCode, message: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({ "error": { "httpCode": status.as_u16(), "message": message } }).to_string(),
    )
        .into_response()
}

impl Gateway {
    pub(crate) fn new(upstreams: &[Upstream]) -> Gateway {
        Gateway::with_timeouts(upstreams, CONNECT_TIMEOUT, ANSWER_TIMEOUT)
    }

    fn with_timeouts(upstreams: &[Upstream], connect_timeout: Duration, answer_timeout: Duration) -> Gateway {
        let client = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .read_timeout(answer_timeout)
            // The browser decides: what it accepts is forwarded, and bodies pass through as sent.
            .no_gzip()
            .redirect(reqwest::redirect::Policy::none())
            // Idle connections are let go before common servers close them (Node after 5 s).
            .pool_idle_timeout(Duration::from_secs(4))
            .build()
            .unwrap_or_default();
        let upstreams = upstreams.iter().map(|u| (u.name.clone(), u.clone())).collect();
        Gateway { upstreams: Arc::new(upstreams), client, connect_timeout, answer_timeout }
    }

    /// The names, sorted, for `GET /api/upstreams`.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.upstreams.keys().cloned().collect();
        names.sort();
        names
    }

    /// The upstream URL for `rest` (the path after `/upstream/{name}`) and `query`.
    fn target(&self, name: &str, rest: &str, query: Option<&str>) -> Result<(&Upstream, String), (StatusCode, String)> {
        let upstream = self
            .upstreams
            .get(name)
            .ok_or_else(|| (StatusCode::NOT_FOUND, format!("no upstream named `{name}` is configured")))?;
        if climbs(rest) {
            return Err((StatusCode::BAD_REQUEST, "the path may not contain `.` or `..` segments".into()));
        }
        let mut url = format!("{}/{}", upstream.url, rest.trim_start_matches('/'));
        if let Some(q) = query.filter(|q| !q.is_empty()) {
            url.push('?');
            url.push_str(q);
        }
        Ok((upstream, url))
    }

    /// Forwards one `GET`.
    pub(crate) async fn forward(&self, name: &str, rest: &str, uri: &Uri, headers: &HeaderMap) -> Response {
        let (upstream, url) = match self.target(name, rest, uri.query()) {
            Ok(t) => t,
            Err((status, message)) => return refusal(status, message),
        };
        let mut request = self.client.get(&url);
        // A header configured for the upstream (a tenant, credentials) replaces the browser's:
        // sent both, the upstream would read the browser's first.
        let configured = |name: &str| upstream.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
        for name in FORWARDED_REQUEST_HEADERS.iter().filter(|name| !configured(name)) {
            for value in headers.get_all(*name) {
                request = request.header(*name, value.clone());
            }
        }
        for (k, v) in &upstream.headers {
            request = request.header(k.as_str(), v.as_str());
        }
        // An upstream may close an idle kept-alive connection just as the gateway sends on it:
        // the request then fails at once, the connection closed or reset before any answer,
        // and is sent once more on a new connection, as browsers do with a `GET`. A failure
        // after a wait (an upstream that broke while working on it) or an answer that is not
        // HTTP is not sent again.
        let retry = request.try_clone();
        let began = std::time::Instant::now();
        let sent = match (request.send().await, retry) {
            (Err(e), Some(retry)) if began.elapsed() < RACE && closed_unanswered(&e) => {
                let e = e.without_url();
                let (name, error) = (&upstream.name, chain(&e));
                tracing::debug!(upstream = %name, path = %rest, %error, "upstream closed the connection; sent again");
                retry.send().await
            }
            (sent, _) => sent,
        };
        let answer = match sent {
            Ok(a) => a,
            Err(e) => {
                // Without the URL: its query string holds what the user searched for, and it
                // may hold credentials written into the upstream's URL.
                let e = e.without_url();
                tracing::warn!(upstream = %upstream.name, path = %rest, error = %chain(&e), "upstream unreachable");
                // As the WebSocket path says it.
                let why = if e.is_connect() && e.is_timeout() {
                    format!("could not be reached: no connection within {} s", self.connect_timeout.as_secs_f64())
                } else if e.is_timeout() {
                    format!("did not answer in time: {}", root_cause(&e))
                } else {
                    format!("could not be reached: {}", root_cause(&e))
                };
                return refusal(StatusCode::BAD_GATEWAY, format!("upstream `{}` {why}", upstream.name));
            }
        };
        if let Some(refused) = redirected(&upstream.name, answer.status().as_u16(), answer.headers()) {
            return refused;
        }
        let mut response = Response::builder().status(answer.status().as_u16());
        for name in FORWARDED_RESPONSE_HEADERS {
            for value in answer.headers().get_all(*name) {
                response = response.header(*name, value.as_bytes());
            }
        }
        // The answer comes from the viewer's origin: a page it holds (a backend's own UI, a proxy's
        // login page) must not run there, where it could read every API and the sources'
        // credentials the viewer keeps. The viewer reads answers with `fetch`, which neither header
        // changes.
        response = response
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .header(header::CONTENT_SECURITY_POLICY, "sandbox; default-src 'none'");
        response.body(Body::from_stream(answer.bytes_stream())).unwrap_or_else(|e| {
            refusal(StatusCode::BAD_GATEWAY, format!("upstream `{}` sent an unusable answer: {e}", upstream.name))
        })
    }

    /// Forwards a WebSocket: connects upstream first (so a refusal reaches the browser as an
    /// HTTP status), then relays messages both ways until either side closes.
    pub(crate) async fn forward_websocket(
        &self,
        name: &str,
        rest: &str,
        uri: &Uri,
        headers: &HeaderMap,
        upgrade: WebSocketUpgrade,
    ) -> Response {
        let (upstream, url) = match self.target(name, rest, uri.query()) {
            Ok(t) => t,
            Err((status, message)) => return refusal(status, message),
        };
        let ws_url = url.replacen("http", "ws", 1);
        let mut request = match ws_url.as_str().into_client_request() {
            Ok(r) => r,
            Err(e) => return refusal(StatusCode::BAD_GATEWAY, format!("upstream `{}`: {e}", upstream.name)),
        };
        for name in FORWARDED_REQUEST_HEADERS {
            if let Some(value) = headers.get(*name) {
                request.headers_mut().insert(*name, value.clone());
            }
        }
        for (k, v) in &upstream.headers {
            if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
                request.headers_mut().insert(k, v);
            }
        }
        match self.connect(upstream, request).await {
            Ok(upstream_socket) => {
                let name = upstream.name.clone();
                upgrade.on_upgrade(move |browser| relay(name, browser, upstream_socket))
            }
            Err(refusal) => refusal,
        }
    }

    /// Opens the upstream's WebSocket within the HTTP client's bounds: the connection within
    /// the connect timeout, the handshake's answer within the answer timeout. The error is the
    /// browser's answer: the upstream's refusal, or a `502` that says what went wrong.
    async fn connect(
        &self,
        upstream: &Upstream,
        request: tungstenite::handshake::client::Request,
    ) -> Result<UpstreamSocket, Response> {
        let name = &upstream.name;
        let unreachable = |e: &dyn fmt::Display| {
            tracing::warn!(upstream = %name, error = %e, "upstream unreachable");
            refusal(StatusCode::BAD_GATEWAY, format!("upstream `{name}` could not be reached: {e}"))
        };
        let uri = request.uri();
        let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = uri.port_u16().unwrap_or(if uri.scheme_str() == Some("wss") { 443 } else { 80 });
        let tcp =
            match tokio::time::timeout(self.connect_timeout, tokio::net::TcpStream::connect((host.as_str(), port)))
                .await
            {
                Ok(Ok(tcp)) => tcp,
                Ok(Err(e)) => return Err(unreachable(&e)),
                Err(_) => {
                    let seconds = self.connect_timeout.as_secs_f64();
                    return Err(unreachable(&format!("no connection within {seconds} s")));
                }
            };
        match tokio::time::timeout(self.answer_timeout, tokio_tungstenite::client_async_tls(request, tcp)).await {
            Ok(Ok((socket, _))) => Ok(socket),
            Ok(Err(tungstenite::Error::Http(answer))) => {
                if let Some(refused) = redirected(name, answer.status().as_u16(), answer.headers()) {
                    return Err(refused);
                }
                let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
                let body = answer.body().as_deref().unwrap_or_default();
                // The handshake reader hands over the bytes as they came: a chunked body with its framing.
                let chunked = answer
                    .headers()
                    .get(header::TRANSFER_ENCODING)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
                let body = if chunked { dechunked(body) } else { body.to_vec() };
                Err((status, String::from_utf8_lossy(&body).into_owned()).into_response())
            }
            Ok(Err(e)) => Err(unreachable(&e)),
            // As an HTTP request would be after as long without an answer.
            Err(_) => {
                let seconds = self.answer_timeout.as_secs_f64();
                tracing::warn!(upstream = %name, "upstream did not answer a WebSocket handshake in time");
                let message = format!(
                    "upstream `{name}` did not answer in time: no answer to the WebSocket handshake in {seconds} s"
                );
                Err(refusal(StatusCode::BAD_GATEWAY, message))
            }
        }
    }
}

/// The data of a chunked body (RFC 9112 §7.1), as far as it arrived whole: the handshake reader
/// keeps only what came with the answer's head, so a chunk cut short ends it.
fn dechunked(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..line_end])
            .ok()
            .and_then(|line| usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16).ok());
        let Some(size) = size.filter(|&n| n > 0) else { break };
        let data = &body[line_end + 2..];
        out.extend_from_slice(&data[..size.min(data.len())]);
        match size.checked_add(2).and_then(|end| data.get(end..)) {
            Some(rest) => body = rest,
            None => break,
        }
    }
    out
}

/// Whether `path` (still percent-encoded) holds a `.` or `..` segment as some server may read
/// it: URL parsers (WHATWG, as reqwest's) read `%2e` as a dot and `\` as `/`, and servers that
/// decode `%2F` and `%5C` before they resolve dot segments (Python's `http.server`; nginx in
/// front of a backend under a prefix) see segments there, so `..%2F..%2Fx` climbs above the
/// base as `../../x` does; a `;` ends a segment's name for servlet containers (`..;` is `..` to
/// Tomcat). An encoded slash within a segment (an id) goes along unchanged.
fn climbs(path: &str) -> bool {
    let path = path.to_ascii_lowercase().replace("%2f", "/").replace("%5c", "/").replace('\\', "/");
    path.split('/').any(|segment| {
        let name = segment.split(';').next().unwrap_or_default().replace("%2e", ".");
        name == "." || name == ".."
    })
}

/// A redirect is answered `502` naming it: not followed (it could take the upstream's
/// credentials to another host) nor passed on (the browser would follow it to a page of another
/// origin and fail on CORS, or a WebSocket to a host the gateway never checked).
fn redirected(name: &str, status: u16, headers: &HeaderMap) -> Option<Response> {
    if !matches!(status, 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let to = headers.get(header::LOCATION).and_then(|l| l.to_str().ok()).unwrap_or("nowhere");
    Some(refusal(
        StatusCode::BAD_GATEWAY,
        format!(
            "upstream `{name}` answered {status}, a redirect to {to}, which the gateway does not follow: give \
             --upstream the URL it redirects to, or check the credentials given with --upstream-header (a login \
             page asks for others)"
        ),
    ))
}

/// How soon a request on a kept-alive connection the upstream was closing fails.
const RACE: Duration = Duration::from_secs(1);

/// Whether the connection closed or was reset before the answer's head was complete (not a
/// time-out, a refused connection or an answer that does not parse as HTTP).
fn closed_unanswered(e: &reqwest::Error) -> bool {
    if e.is_timeout() || e.is_connect() {
        return false;
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(h) = c.downcast_ref::<hyper::Error>() {
            if h.is_incomplete_message() {
                return true;
            }
        }
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset};
            if matches!(io.kind(), ConnectionReset | ConnectionAborted | BrokenPipe) {
                return true;
            }
        }
        cause = c.source();
    }
    false
}

/// The error and its causes, as `a: b: c`.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

type UpstreamSocket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a side may take to finish the closing handshake (its answering close, then the end
/// of its connection) once it or the other side has closed or gone.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Relays messages both ways. A close is passed on with its code and reason (Loki's 1011 "max
/// concurrent tail requests limit exceeded", a page's own code); each side's close is answered
/// (tungstenite echoes it when the side is read on) and its connection read to its end, so that
/// both close cleanly. A side that goes without a close gets one for the other: 1001 upstream
/// for a browser gone, 1011 for the browser when the upstream went.
async fn relay(name: String, browser: WebSocket, upstream: UpstreamSocket) {
    let (mut to_browser, mut from_browser) = browser.split();
    let (mut to_upstream, mut from_upstream) = upstream.split();
    let down = async {
        while let Some(Ok(message)) = from_upstream.next().await {
            let message = match message {
                tungstenite::Message::Text(t) => ws::Message::Text(t.as_str().into()),
                tungstenite::Message::Binary(b) => ws::Message::Binary(b),
                tungstenite::Message::Ping(p) => ws::Message::Ping(p),
                tungstenite::Message::Pong(p) => ws::Message::Pong(p),
                tungstenite::Message::Frame(_) => continue,
                tungstenite::Message::Close(frame) => {
                    let frame = frame.map(|f| ws::CloseFrame { code: f.code.into(), reason: f.reason.as_str().into() });
                    let _ = to_browser.send(ws::Message::Close(frame)).await;
                    // Reading on sends the answering close and waits for the upstream's end.
                    let _ = tokio::time::timeout(CLOSE_GRACE, drain(&mut from_upstream)).await;
                    return;
                }
            };
            if to_browser.send(message).await.is_err() {
                // The browser is closing or gone: the upstream's close is still read.
                let _ = tokio::time::timeout(CLOSE_GRACE, drain(&mut from_upstream)).await;
                return;
            }
        }
        let reason = format!("upstream `{name}` ended the connection without a close frame");
        let close = ws::CloseFrame { code: ws::close_code::ERROR, reason: truncated(reason).into() };
        // The browser's answering close is read by `up`.
        let _ = to_browser.send(ws::Message::Close(Some(close))).await;
    };
    let up = async {
        while let Some(Ok(message)) = from_browser.next().await {
            let message = match message {
                ws::Message::Text(t) => tungstenite::Message::Text(t.as_str().into()),
                ws::Message::Binary(b) => tungstenite::Message::Binary(b),
                ws::Message::Ping(p) => tungstenite::Message::Ping(p),
                ws::Message::Pong(p) => tungstenite::Message::Pong(p),
                ws::Message::Close(frame) => {
                    let frame = frame.map(|f| tungstenite::protocol::CloseFrame {
                        code: f.code.into(),
                        reason: f.reason.as_str().into(),
                    });
                    let _ = to_upstream.send(tungstenite::Message::Close(frame)).await;
                    // Reading on sends the browser the answering close.
                    let _ = tokio::time::timeout(CLOSE_GRACE, drain(&mut from_browser)).await;
                    return;
                }
            };
            if to_upstream.send(message).await.is_err() {
                let _ = tokio::time::timeout(CLOSE_GRACE, drain(&mut from_browser)).await;
                return;
            }
        }
        let close = tungstenite::protocol::CloseFrame {
            code: tungstenite::protocol::frame::coding::CloseCode::Away,
            reason: "the browser went away".into(),
        };
        let _ = to_upstream.send(tungstenite::Message::Close(Some(close))).await;
    };
    // Either side closing or going ends the relay once the other has had its time to close.
    let (mut down, mut up) = (std::pin::pin!(down), std::pin::pin!(up));
    tokio::select! {
        () = &mut down => { let _ = tokio::time::timeout(CLOSE_GRACE, up).await; }
        () = &mut up => { let _ = tokio::time::timeout(CLOSE_GRACE, down).await; }
    }
}

/// Reads a side to its end (or first error), dropping what it still sends.
async fn drain<S: futures_util::Stream + Unpin>(side: &mut S) {
    while side.next().await.is_some() {}
}

/// A close frame's reason fits 123 bytes.
fn truncated(mut reason: String) -> String {
    while reason.len() > 123 {
        reason.pop();
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstreams_and_their_headers_are_read_from_the_command_line_forms() {
        let mut ups = vec![Upstream::parse("tempo=https://tempo.example.com:3200/base/").unwrap()];
        assert_eq!(ups[0].url, "https://tempo.example.com:3200/base");
        Upstream::add_header(&mut ups, "tempo=Authorization: Bearer abc:def").unwrap();
        assert_eq!(ups[0].headers, [("Authorization".to_owned(), "Bearer abc:def".to_owned())]);
        assert!(!format!("{:?}", ups[0]).contains("abc"), "credentials stay out of Debug");
        for bad in ["tempo", "=http://x", "a b=http://x", "t=ftp://x", "t=http://x?q=1", "t=not a url"] {
            assert!(Upstream::parse(bad).is_err(), "{bad}");
        }
        assert!(Upstream::add_header(&mut ups, "loki=Authorization: x").unwrap_err().contains("no --upstream"));
        assert!(Upstream::add_header(&mut ups, "tempo=Bad Header: x").is_err());
        for framing in ["tempo=Host: evil.example", "tempo=content-length: 5", "tempo=Transfer-Encoding: chunked"] {
            assert!(Upstream::add_header(&mut ups, framing)
                .unwrap_err()
                .contains("written by the gateway's HTTP client"));
        }
    }

    #[test]
    fn a_user_and_password_in_an_upstream_url_become_its_basic_authorization() {
        let mut ups = vec![Upstream::parse("loki=https://12345:glc_ab%2Fc%40d@logs.example.com/base/").unwrap()];
        // "12345:glc_ab/c@d", percent-decoded as URL parsers decode it.
        let basic = ("Authorization".to_owned(), "Basic MTIzNDU6Z2xjX2FiL2NAZA==".to_owned());
        assert_eq!((ups[0].url.as_str(), &ups[0].headers[..]), ("https://logs.example.com/base", &[basic][..]));
        assert!(!format!("{:?}", ups[0]).contains("glc"), "the password stays out of Debug");
        let user_only = Upstream::parse("t=http://key@127.0.0.1:3100").unwrap();
        assert_eq!(
            (user_only.url.as_str(), user_only.headers[0].1.as_str()),
            ("http://127.0.0.1:3100", "Basic a2V5Og==")
        );
        // An `Authorization` given with --upstream-header replaces the URL's: a request carries one.
        Upstream::add_header(&mut ups, "loki=Authorization: Bearer t").unwrap();
        assert_eq!(ups[0].headers, [("Authorization".to_owned(), "Bearer t".to_owned())]);
        assert!(
            Upstream::parse("t=http://127.0.0.1:3100/a@b").unwrap().headers.is_empty(),
            "an @ in the path is no user"
        );
        // A URL refused at start is named without its secret (it goes to the service's journal).
        for bad in [
            "t=http://12345:glc_se#cret@127.0.0.1:3100",
            "t=http://u:glc_secret@127.0.0.1:99999",
            "t=ftp://u:glc_secret@h",
        ] {
            let error = Upstream::parse(bad).unwrap_err();
            assert!(!error.contains("glc_se"), "{error}");
            assert!(error.contains("…@"), "{error}");
        }
    }

    #[test]
    fn base64_and_chunked_bodies_are_read_as_their_rfcs_write_them() {
        // RFC 4648 §10's test vectors.
        for (text, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(text.as_bytes()), encoded, "{text}");
        }
        assert_eq!(dechunked(b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n"), b"hello, world");
        assert_eq!(dechunked(b"5\r\nhel"), b"hel", "a chunk cut short gives what arrived");
        assert_eq!(dechunked(b"zz\r\nhello"), b"", "a size that does not read ends the body");
        assert_eq!(dechunked(b"ffffffffffffffff\r\nabc"), b"abc", "a size past any body gives what arrived");
    }

    /// An upstream that accepts the connection and never answers the handshake holds the
    /// browser's WebSocket only as long as an HTTP request would wait for its answer.
    #[tokio::test]
    async fn a_websocket_upstream_that_never_answers_the_handshake_is_given_up_with_a_reason() {
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = silent.local_addr().unwrap();
        let held = tokio::spawn(async move {
            let (socket, _) = silent.accept().await.unwrap();
            // Holds the connection open without a byte.
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            drop(socket);
        });
        let upstream = Upstream::parse(&format!("loki=http://{address}")).unwrap();
        let short = std::time::Duration::from_millis(200);
        let gateway = Gateway::with_timeouts(std::slice::from_ref(&upstream), short, short);
        let request = format!("ws://{address}/loki/api/v1/tail").into_client_request().unwrap();
        // A generous bound, only so that a regression fails instead of hanging.
        let outcome = tokio::time::timeout(std::time::Duration::from_secs(30), gateway.connect(&upstream, request))
            .await
            .expect("the gateway gives up by itself");
        let Err(refusal) = outcome else { panic!("no WebSocket was expected") };
        assert_eq!(refusal.status(), StatusCode::BAD_GATEWAY);
        let body = axum::body::to_bytes(refusal.into_body(), usize::MAX).await.unwrap();
        let body = String::from_utf8_lossy(&body);
        assert!(
            body.contains("upstream `loki` did not answer in time") && body.contains("WebSocket handshake"),
            "{body}"
        );
        held.abort();
    }

    /// Reads one request head from `socket`; false when the peer sent nothing more.
    async fn read_head(socket: &mut tokio::net::TcpStream) -> bool {
        use tokio::io::AsyncReadExt;
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if socket.read(&mut byte).await.unwrap_or(0) == 0 {
                return false;
            }
            head.push(byte[0]);
        }
        true
    }

    /// The race of a kept-alive connection: the upstream closes it, unanswered, just as the
    /// gateway's next request arrives on it. The browser still gets its answer.
    #[tokio::test]
    async fn a_request_on_a_connection_the_upstream_closes_unanswered_is_sent_again() {
        use tokio::io::AsyncWriteExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
            let (mut first, _) = listener.accept().await.unwrap();
            assert!(read_head(&mut first).await);
            first.write_all(OK).await.unwrap();
            // The second request comes on the kept connection, which closes without a byte.
            let reused = read_head(&mut first).await;
            drop(first);
            let (mut second, _) = listener.accept().await.unwrap();
            assert!(read_head(&mut second).await);
            second.write_all(OK).await.unwrap();
            reused
        });
        let gateway = Gateway::new(&[Upstream::parse(&format!("t=http://{address}")).unwrap()]);
        for round in 0..2 {
            let uri: Uri = "/upstream/t/api/search".parse().unwrap();
            let answer = gateway.forward("t", "api/search", &uri, &HeaderMap::new()).await;
            assert_eq!(answer.status(), StatusCode::OK, "request {round}");
            assert_eq!(&axum::body::to_bytes(answer.into_body(), usize::MAX).await.unwrap()[..], b"ok");
        }
        let reused = tokio::time::timeout(Duration::from_secs(30), server).await.unwrap().unwrap();
        assert!(reused, "the second request was sent on the kept-alive connection first");
    }

    /// What the upstream did receive is not sent again: an answer that is not HTTP, and a
    /// connection dropped after the upstream worked on the request for a while.
    #[tokio::test]
    async fn a_request_the_upstream_broke_on_or_answered_wrongly_is_not_sent_again() {
        use tokio::io::AsyncWriteExt;
        for (name, wait, answer) in [
            ("not HTTP", Duration::ZERO, &b"hello\r\n\r\n"[..]),
            ("dropped after a wait", Duration::from_millis(1500), &b""[..]),
        ] {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let counted = connections.clone();
            let server = tokio::spawn(async move {
                loop {
                    let (mut socket, _) = listener.accept().await.unwrap();
                    counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    tokio::spawn(async move {
                        read_head(&mut socket).await;
                        tokio::time::sleep(wait).await;
                        let _ = socket.write_all(answer).await;
                    });
                }
            });
            let gateway = Gateway::new(&[Upstream::parse(&format!("t=http://{address}")).unwrap()]);
            let uri: Uri = "/upstream/t/api/search".parse().unwrap();
            let answer = gateway.forward("t", "api/search", &uri, &HeaderMap::new()).await;
            assert_eq!(answer.status(), StatusCode::BAD_GATEWAY, "{name}");
            assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1, "{name}: sent once");
            server.abort();
        }
    }

    #[test]
    fn paths_stay_below_the_upstream_base() {
        let gateway = Gateway::new(&[Upstream::parse("t=http://127.0.0.1:1/base").unwrap()]);
        let (_, url) = gateway.target("t", "api/search", Some("q=%7B%7D")).unwrap();
        assert_eq!(url, "http://127.0.0.1:1/base/api/search?q=%7B%7D");
        assert!(gateway.target("t", "api/../../etc", None).is_err());
        assert!(gateway.target("t", "./x", None).is_err());
        assert!(gateway.target("t", "api/%2E%2e/%2e./.%2E/etc", None).is_err());
        assert!(gateway.target("t", "api/%2e", None).is_err());
        assert!(gateway.target("t", "api/%2e%2e%2e/x.%2e", None).is_ok(), "only whole dot segments");
        assert!(gateway.target("other", "x", None).is_err());
    }
}
