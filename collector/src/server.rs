//! HTTP routes: OTLP/HTTP ingest, the query API and the static viewer.

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request};
use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use edgescope_otlp::read::{self, Ids, ReadError};
use edgescope_otlp::{json, proto, LogsData, Partial, TracesData};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutError};

use crate::gateway::{Gateway, Upstream};
use crate::group_commit::GroupQueue;
use crate::jaeger::{self, Params};
use crate::jaeger_legacy;
use crate::loki;
use crate::metrics::{Family, Metrics, Signal};
use crate::store::{LogQuery, Pruned, Reader, Store, StoreError, PRUNE_BATCH};
use edgescope_otlp::signals;

/// How the collector runs.
#[derive(Clone)]
pub struct Settings {
    /// Where `edgescope.db` lives.
    pub data_dir: PathBuf,
    /// The built viewer (`viewer/dist`), served at `/` on the UI port when set.
    pub ui_dir: Option<PathBuf>,
    /// Origins allowed to call the collector from a browser besides `localhost`,
    /// `127.0.0.1` and `[::1]` on any port; `*` allows every origin.
    pub cors_origins: Vec<String>,
    /// Host names (without a port) a collector on a loopback address answers requests for besides
    /// `localhost` names and IP addresses: a reverse proxy's in front of it (see [`addressed_here`]).
    pub allowed_hosts: Vec<String>,
    /// Larger request bodies get `413`.
    pub max_body_bytes: usize,
    /// Traces whose spans all ended longer ago than this, and older log records, are deleted
    /// (checked at start and every `retention_interval`); `None` keeps everything.
    pub retention: Option<Duration>,
    /// While the data takes more bytes than this, the oldest traces and log records are
    /// deleted; `None` sets no limit.
    pub max_db_bytes: Option<u64>,
    /// How often retention runs.
    pub retention_interval: Duration,
    /// When set, `POST /v1/*` needs `Authorization: Bearer <token>`.
    pub ingest_token: Option<String>,
    /// When set, the `/api/*` query routes need `Authorization: Bearer <token>` (the viewer's
    /// files and `/health` do not).
    pub query_token: Option<String>,
    /// Ingest requests that may wait for the database at once; more get 503 with `Retry-After`.
    pub max_pending_writes: usize,
    /// The most bytes of export bodies held in memory at once (counted as they arrive, and again
    /// as gzip inflates them), at least `max_body_bytes`: an export that would go past it waits up
    /// to `body_memory_wait` for others to finish, then gets `503` with `Retry-After`.
    pub max_body_memory_bytes: usize,
    /// How long an export waits for memory that other exports' bodies hold before it gets `503`
    /// (1 s; the command line does not change it).
    pub body_memory_wait: Duration,
    /// Backends the viewer reaches through `/upstream/{name}/…` on the UI port.
    pub upstreams: Vec<Upstream>,
    /// How long a client may take to send a request's head (counted from when the connection
    /// is ready for one, so also how long a connection may stay idle), and how long an export's
    /// body may go without a byte arriving: then the connection closes, or the export gets
    /// `408`. Clients that never finish a request (phones that lost the network, or a
    /// slowloris) cannot hold connections for ever.
    pub client_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            data_dir: PathBuf::from(".data"),
            ui_dir: None,
            cors_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            max_body_bytes: 16 << 20,
            // The command line keeps 168 hours by default; a library user opts in.
            retention: None,
            max_db_bytes: None,
            retention_interval: Duration::from_secs(60),
            ingest_token: None,
            query_token: None,
            max_pending_writes: 64,
            max_body_memory_bytes: 256 << 20,
            body_memory_wait: Duration::from_secs(1),
            upstreams: Vec::new(),
            client_timeout: Duration::from_secs(30),
        }
    }
}

// By hand, so that tokens never reach a log line.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |t: &Option<String>| t.as_ref().map(|_| "<redacted>");
        f.debug_struct("Settings")
            .field("data_dir", &self.data_dir)
            .field("ui_dir", &self.ui_dir)
            .field("cors_origins", &self.cors_origins)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("retention", &self.retention)
            .field("max_db_bytes", &self.max_db_bytes)
            .field("retention_interval", &self.retention_interval)
            .field("ingest_token", &redacted(&self.ingest_token))
            .field("query_token", &redacted(&self.query_token))
            .field("max_pending_writes", &self.max_pending_writes)
            .field("max_body_memory_bytes", &self.max_body_memory_bytes)
            .field("body_memory_wait", &self.body_memory_wait)
            .field("upstreams", &self.upstreams)
            .field("client_timeout", &self.client_timeout)
            .finish()
    }
}

#[derive(Clone)]
struct App {
    /// Writes go through one connection so that SQLite never sees two writers.
    writer: Arc<Mutex<Store>>,
    /// Reads use their own connection, on one thread (see [`Reader`]); in WAL mode they never
    /// wait for a write. This one takes the queries that scan (searches, Loki's queries, signals).
    reader: Reader,
    /// The reads that look up by index (a trace by id, the trace list, services, operations, a
    /// trace's logs), on a thread and connection of their own: behind a Loki metric query over
    /// 500,000 records, a trace page waited 70 s (debug build) on the one reader.
    lookups: Reader,
    /// The largest accepted body, also after gzip inflation.
    max_body_bytes: usize,
    client_timeout: Duration,
    /// What `/metrics` reports.
    metrics: Arc<Metrics>,
    /// Writes waiting for or holding the writer; see [`write`].
    pending_writes: Arc<tokio::sync::Semaphore>,
    /// Trace exports waiting for the writer, written in groups; see [`write_traces`].
    trace_queue: Arc<ExportQueue<TracesData>>,
    /// Log exports waiting for the writer, written in groups; see [`write_logs`].
    log_queue: Arc<ExportQueue<LogsData>>,
    /// The number of permits `pending_writes` started with.
    max_pending_writes: usize,
    /// Forwards the viewer's calls to other backends.
    gateway: Gateway,
    /// The id of the newest stored log record; live tails wait for it to change.
    log_ids: Arc<tokio::sync::watch::Sender<i64>>,
    /// Sent once, when the collector begins to stop: live tails then close with 1001.
    stopping: Arc<tokio::sync::watch::Sender<()>>,
    /// The extra origins CORS allows (`--cors-origin`), which WebSockets are held to as well.
    cors_origins: Arc<[String]>,
    /// Exports being inflated and decoded, at most one per core (see [`decode_export`]).
    decoders: Arc<tokio::sync::Semaphore>,
    /// The memory export bodies may hold, in KiB (see [`ExportBody`]).
    body_memory: Arc<tokio::sync::Semaphore>,
    /// The KiB `body_memory` started with.
    body_memory_kib: usize,
    /// Told whenever an export gives memory back (see [`Held::take`]).
    body_freed: Arc<tokio::sync::Notify>,
    body_memory_wait: Duration,
    /// Live tails open at once, at most [`MAX_TAILS`]: each reads the store at every export.
    tails: Arc<tokio::sync::Semaphore>,
    /// How long age retention keeps data; exports dated further ahead are refused (see [`horizon`]).
    retention: Option<Duration>,
}

impl App {
    /// The state of a collector serving the database at `db` with `settings`.
    fn open(db: &std::path::Path, settings: &Settings) -> Result<App, Box<dyn std::error::Error + Send + Sync>> {
        let reader = Store::open(db)?;
        let log_ids = Arc::new(tokio::sync::watch::Sender::new(reader.last_log_id()?));
        let max_pending_writes = settings.max_pending_writes.clamp(1, tokio::sync::Semaphore::MAX_PERMITS);
        // Never less than one export of the largest size, inflated or not.
        let body_memory_kib = kib(settings.max_body_memory_bytes.max(settings.max_body_bytes))
            .min(tokio::sync::Semaphore::MAX_PERMITS.min(u32::MAX as usize));
        Ok(App {
            body_memory: Arc::new(tokio::sync::Semaphore::new(body_memory_kib)),
            body_memory_kib,
            body_freed: Arc::new(tokio::sync::Notify::new()),
            body_memory_wait: settings.body_memory_wait,
            writer: Arc::new(Mutex::new(Store::open(db)?)),
            reader: Reader::spawn(reader)?,
            lookups: Reader::spawn(Store::open(db)?)?,
            log_ids,
            stopping: Arc::new(tokio::sync::watch::channel(()).0),
            gateway: Gateway::new(&settings.upstreams),
            max_body_bytes: settings.max_body_bytes,
            client_timeout: settings.client_timeout,
            metrics: Arc::new(Metrics::new(db.to_owned())),
            pending_writes: Arc::new(tokio::sync::Semaphore::new(max_pending_writes)),
            trace_queue: Arc::new(GroupQueue::new(GROUP_MAX_RECORDS)),
            log_queue: Arc::new(GroupQueue::new(GROUP_MAX_RECORDS)),
            max_pending_writes,
            tails: Arc::new(tokio::sync::Semaphore::new(MAX_TAILS)),
            retention: settings.retention,
            decoders: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
            )),
            // Trimmed, as lists are written with spaces after the commas (`a, b`).
            cors_origins: settings
                .cors_origins
                .iter()
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
        })
    }
}

/// Creates the data directory when it is missing and opens (or creates) the database in it,
/// as [`run`] does first: the command line calls it before it announces that it serves. The
/// error names the path and what failed. Returns the database's path.
pub fn open_data_dir(dir: &std::path::Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create the data directory {}: {e}", dir.display()))?;
    let db = dir.join("edgescope.db");
    Store::open(&db).map_err(|e| format!("cannot open the database {}: {e}", db.display()))?;
    Ok(db)
}

/// Serves OTLP on `otlp` and the query API, viewer and OTLP on `ui` until `shutdown` completes.
pub async fn run(
    otlp: TcpListener,
    ui: TcpListener,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    if settings.client_timeout.is_zero() {
        return Err("the client timeout must be above zero".into());
    }
    let db = open_data_dir(&settings.data_dir)?;
    let app = App::open(&db, &settings)?;

    let cors = cors_layer(app.cors_origins.clone());
    // An empty token (a variable filled from a secret that is missing) is none: said, not silent.
    for (name, token) in [("ingest", &settings.ingest_token), ("query", &settings.query_token)] {
        if token.as_deref() == Some("") {
            tracing::warn!("the {name} token is empty, so it is not required: every client may use those routes");
        }
    }
    let ingest_token = Token::new(settings.ingest_token.as_deref());
    let query_token = Token::new(settings.query_token.as_deref());
    // Route layers run after CORS (applied last, so outermost) has answered preflights, and
    // before a handler reads the body.
    let ingest = Router::new()
        .route("/v1/traces", post(ingest_traces))
        .route("/v1/logs", post(ingest_logs))
        .layer(RequestBodyTimeoutLayer::new(settings.client_timeout))
        .route_layer(middleware::from_fn_with_state(ingest_token, require_ingest_token))
        .route("/v1/{*rest}", any(no_route))
        .method_not_allowed_fallback(wrong_method);
    let api = Router::new()
        .route("/api/traces", get(list_traces))
        .route("/api/v3/traces", get(find_traces))
        .route("/api/v3/trace-summaries", get(find_trace_summaries))
        .route("/api/v3/traces/{trace_id}", get(get_trace))
        .route("/api/v3/services", get(list_services))
        .route("/api/v3/operations", get(list_operations))
        .route("/api/logs", get(list_logs))
        .route("/loki/api/v1/query_range", get(loki_query_range).post(loki_query_range))
        .route("/loki/api/v1/query", get(loki_query).post(loki_query))
        .route("/loki/api/v1/labels", get(loki_labels).post(loki_labels))
        // Loki's older name of the same route, which its own clients still call.
        .route("/loki/api/v1/label", get(loki_labels).post(loki_labels))
        .route("/loki/api/v1/label/{name}/values", get(loki_label_values).post(loki_label_values))
        .route("/loki/api/v1/tail", get(loki_tail))
        .route("/loki/api/v1/series", get(loki_series).post(loki_series))
        .route("/loki/api/v1/index/stats", get(loki_index_stats).post(loki_index_stats))
        .route("/loki/api/v1/index/volume", get(loki_volume).post(loki_volume))
        .route("/loki/api/v1/index/volume_range", get(loki_volume_range).post(loki_volume_range))
        .route("/loki/api/v1/detected_labels", get(loki_detected_labels).post(loki_detected_labels))
        .route("/loki/api/v1/detected_fields", get(loki_detected_fields).post(loki_detected_fields))
        .route(
            "/loki/api/v1/detected_field/{name}/values",
            get(loki_detected_field_values).post(loki_detected_field_values),
        )
        .route("/loki/api/v1/patterns", get(loki_patterns).post(loki_patterns))
        .route("/api/upstreams", get(list_upstreams))
        .route("/api/signals", get(get_signals))
        .route("/api/signals/examples", get(get_examples))
        .route("/api/dependencies", get(get_dependencies))
        // Jaeger's older JSON API, as Jaeger UI and Grafana's Jaeger data source call it.
        .route("/jaeger/api/services", get(jaeger_services))
        .route("/jaeger/api/services/{service}/operations", get(jaeger_service_operations))
        .route("/jaeger/api/operations", get(jaeger_operations))
        .route("/jaeger/api/traces", get(jaeger_search))
        .route("/jaeger/api/traces/{trace_id}", get(jaeger_trace))
        .route("/jaeger/api/dependencies", get(jaeger_dependencies))
        // And API v3 beside it, so that a client given `…/jaeger` finds both.
        .route("/jaeger/api/v3/traces", get(find_traces))
        .route("/jaeger/api/v3/trace-summaries", get(find_trace_summaries))
        .route("/jaeger/api/v3/traces/{trace_id}", get(get_trace))
        .route("/jaeger/api/v3/services", get(list_services))
        .route("/jaeger/api/v3/operations", get(list_operations))
        // The upstream's base URL itself: `{*rest}` matches no empty path.
        .route("/upstream/{name}", get(upstream))
        .route("/upstream/{name}/", get(upstream))
        .route("/upstream/{name}/{*rest}", get(upstream))
        .route("/loki/api/v1/status/buildinfo", get(loki_buildinfo))
        .route("/loki/api/v1/drilldown-limits", get(loki_drilldown_limits))
        // Loki's POST forms: a body that stalls ends the request as an export's does.
        .layer(RequestBodyTimeoutLayer::new(settings.client_timeout))
        .route_layer(middleware::from_fn_with_state(query_token, require_query_token))
        // Paths under an API that no route serves: a 404 in that API's shape, never the viewer.
        .route("/api/{*rest}", any(no_route))
        .route("/jaeger/api/{*rest}", any(no_route))
        .route("/loki/api/{*rest}", any(no_route))
        .method_not_allowed_fallback(wrong_method);
    let mut query = api.route("/health", get(|| async { "ok" })).route("/metrics", get(metrics)).merge(ingest.clone());
    if let Some(dir) = &settings.ui_dir {
        // Unknown paths get index.html, so that deep links such as /trace/{id} reach the app. Its
        // files keep their names from one build to the next: a browser asks again (an unchanged
        // file costs a 304) rather than keep an old viewer after an upgrade, and takes each as the
        // type it is served as.
        let files = Router::new()
            .fallback_service(ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html"))))
            .layer(middleware::map_request(single_slashes))
            .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache"),
            ))
            .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ));
        query = query.merge(files);
    }

    // Outermost, so that every answer is counted, preflights and 401s included.
    let track = middleware::from_fn_with_state(app.metrics.clone(), track);
    // Clients learn how long an idle connection stays open (as Node's server says it): undici,
    // for one, then stops sending on a connection before the collector closes it.
    let keep_alive = tower_http::set_header::SetResponseHeaderLayer::if_not_present(
        header::HeaderName::from_static("keep-alive"),
        HeaderValue::from_str(&format!("timeout={}", settings.client_timeout.as_secs()))?,
    );
    // On a loopback address, requests must be addressed to it (see `addressed_here`).
    let allowed: Arc<[String]> = settings
        .allowed_hosts
        .iter()
        .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect();
    let host = |listener: &TcpListener| {
        let loopback = listener.local_addr().is_ok_and(|a| a.ip().is_loopback());
        middleware::from_fn_with_state(loopback.then(|| allowed.clone()), addressed_here)
    };
    let otlp_app = ingest
        .layer(cors.clone())
        .layer(host(&otlp))
        .layer(track.clone())
        .layer(keep_alive.clone())
        .with_state(app.clone());
    let ui_app = query.layer(cors).layer(host(&ui)).layer(track).layer(keep_alive).with_state(app.clone());

    let tx = app.stopping.clone();
    let rx = tx.subscribe();
    tokio::spawn(async move {
        shutdown.await;
        let _ = tx.send(());
    });
    let stopped_app = app.clone();
    let retention =
        Retention { keep: settings.retention, max_bytes: settings.max_db_bytes, every: settings.retention_interval };
    let pruning = tokio::spawn(retention.run(app, rx.clone()));
    let rx2 = rx.clone();
    let mut stopping = rx.clone();
    let rx1 = rx;
    let a = serve(otlp, otlp_app, settings.client_timeout, rx1);
    let b = serve(ui, ui_app, settings.client_timeout, rx2);
    // After the signal, requests under way have `SHUTDOWN_GRACE` to end: a client that stalls
    // halfway through sending one (a phone that lost its network mid-upload) must not hold the
    // stop for ever. Nothing answered is lost; a request cut off was never acknowledged, and its
    // sender's retry is stored once.
    // Dropping the servers at the cut-off ends their connections, so that nothing writes while
    // the write-ahead log is moved into the database file below.
    let servers = async { tokio::join!(a, b) };
    let grace = async move {
        let _ = stopping.changed().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        ((), ()) = servers => {}
        () = grace => {
            tracing::warn!(seconds = SHUTDOWN_GRACE.as_secs(), "requests still under way after the stop signal are cut off");
        }
    }
    // The servers stop on the same signal; a retention run in progress finishes first.
    let _ = pruning.await;
    // A clean stop leaves everything in edgescope.db itself, not partly in its `-wal` file: a
    // copy of the database file alone (a backup, a move) then has all that was acknowledged.
    let writer = stopped_app.writer.clone();
    let checkpoint = tokio::task::spawn_blocking(move || writer.lock().unwrap_or_else(|p| p.into_inner()).checkpoint());
    if let Ok(Err(e)) = checkpoint.await {
        tracing::warn!(error = %e, "the write-ahead log could not be moved into the database file; keep edgescope.db-wal with it");
    }
    Ok(())
}

/// The background task that deletes old data and keeps the database under its size limit.
#[derive(Debug, Clone, Copy)]
struct Retention {
    keep: Option<Duration>,
    max_bytes: Option<u64>,
    every: Duration,
}

impl Retention {
    /// One run: retention steps, each its own write so that exports wait for one batch at
    /// most, then one tidy-up. Errors are logged by `write`; the next run tries again.
    async fn prune(self, app: &App, cutoff: Option<i64>, stop: &tokio::sync::watch::Receiver<()>) {
        let mut total = Pruned::default();
        loop {
            let max_bytes = self.max_bytes;
            match write(app, move |s| s.prune_step(cutoff, max_bytes, PRUNE_BATCH)).await {
                Ok(step) if step != Pruned::default() => total.add(step),
                Ok(_) => break,
                Err(_) => return,
            }
            // Shutting down: stop between batches; the next start carries on.
            if stop.has_changed().unwrap_or(true) {
                break;
            }
        }
        if total != Pruned::default() && write(app, |s| s.tidy()).await.is_ok() {
            tracing::info!(traces = total.traces, spans = total.spans, log_records = total.log_records, "retention");
        }
    }

    /// Prunes once now and then every `every` until `stop` changes.
    async fn run(self, app: App, mut stop: tokio::sync::watch::Receiver<()>) {
        if self.keep.is_none() && self.max_bytes.is_none() {
            return;
        }
        loop {
            let cutoff = self.keep.map(|keep| {
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
                i64::try_from(now.saturating_sub(keep).as_nanos()).unwrap_or(i64::MAX)
            });
            self.prune(&app, cutoff, &stop).await;
            tokio::select! {
                _ = stop.changed() => return,
                _ = tokio::time::sleep(self.every) => {}
            }
        }
    }
}

/// Counts and times every request by route family.
async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let family = Family::of(request.uri().path());
    // The path only: query strings may carry secrets.
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    metrics.request(family, response.status().as_u16(), elapsed);
    tracing::debug!(%method, %path, status = response.status().as_u16(), micros = elapsed.as_micros() as u64, "request");
    response
}

/// `GET /metrics`: the Prometheus text format 0.0.4.
async fn metrics(State(app): State<App>) -> Response {
    let queue = (app.max_pending_writes.saturating_sub(app.pending_writes.available_permits()), app.max_pending_writes);
    let body_memory = (app.body_memory_kib.saturating_sub(app.body_memory.available_permits()), app.body_memory_kib);
    let text = tokio::task::spawn_blocking(move || app.metrics.render(queue, body_memory)).await.unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

/// A bearer token a family of routes requires; `None` when it is open.
#[derive(Clone)]
struct Token(Option<Arc<[u8]>>);

/// Why a request was refused: RFC 6750 tells a missing token from a wrong one.
enum Unauthorized {
    Missing,
    Wrong,
}

impl Token {
    fn new(token: Option<&str>) -> Token {
        Token(token.filter(|t| !t.is_empty()).map(|t| Arc::from(t.as_bytes())))
    }

    fn check(&self, headers: &HeaderMap) -> Result<(), Unauthorized> {
        let Some(expected) = &self.0 else {
            return Ok(());
        };
        let value = headers.get(header::AUTHORIZATION).map(HeaderValue::as_bytes).ok_or(Unauthorized::Missing)?;
        let given = match value.iter().position(|&b| b == b' ') {
            Some(i) if value[..i].eq_ignore_ascii_case(b"bearer") => value[i + 1..].trim_ascii(),
            _ => return Err(Unauthorized::Missing),
        };
        if same_secret(given, expected) {
            Ok(())
        } else {
            Err(Unauthorized::Wrong)
        }
    }
}

/// Compares a presented secret with the expected one in a time that depends only on the
/// expected secret's length, so that timing tells an attacker nothing about how much matched.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    let mut diff = u8::from(given.len() != expected.len());
    for (i, e) in expected.iter().enumerate() {
        diff |= std::hint::black_box(given.get(i).copied().unwrap_or(0) ^ e);
    }
    std::hint::black_box(diff) == 0
}

/// A `401` with the `WWW-Authenticate` challenge of RFC 6750.
fn unauthorized(failure: Failure, why: Unauthorized) -> Response {
    let challenge = match why {
        Unauthorized::Missing => "Bearer",
        Unauthorized::Wrong => "Bearer error=\"invalid_token\"",
    };
    let mut response = failure.into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    response
}

fn unauthorized_message(why: &Unauthorized) -> &'static str {
    match why {
        Unauthorized::Missing => "missing bearer token: send `Authorization: Bearer <token>`",
        Unauthorized::Wrong => "invalid bearer token",
    }
}

/// The encoding of a failure's `google.rpc.Status` under `/v1/` that is answered before the
/// body is read (a `401`, a `404` or `405`): protobuf when the request says it sends protobuf,
/// as OTLP/HTTP asks failures to use the request's encoding, else JSON.
fn failure_encoding(headers: &HeaderMap) -> Encoding {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type.to_ascii_lowercase().contains("protobuf") {
        Encoding::Protobuf
    } else {
        Encoding::Json
    }
}

/// Guards `POST /v1/*`: a `401` with a `google.rpc.Status` (`UNAUTHENTICATED`) in the
/// request's encoding.
async fn require_ingest_token(State(token): State<Token>, request: Request, next: Next) -> Response {
    match token.check(request.headers()) {
        Ok(()) => next.run(request).await,
        Err(why) => {
            let failure = rpc_error(
                failure_encoding(request.headers()),
                StatusCode::UNAUTHORIZED,
                16,
                unauthorized_message(&why),
            );
            unauthorized(failure, why)
        }
    }
}

/// Guards the `/api/*` query routes: a `401` in the Jaeger error shape.
async fn require_query_token(State(token): State<Token>, request: Request, next: Next) -> Response {
    match token.check(request.headers()) {
        Ok(()) => next.run(request).await,
        Err(why) => unauthorized(query_error(StatusCode::UNAUTHORIZED, unauthorized_message(&why)), why),
    }
}

/// CORS for the local origins and `extra` (`--cors-origin`, without trailing slashes; `*` for any).
fn cors_layer(extra: Arc<[String]>) -> CorsLayer {
    let any = extra.iter().any(|o| o == "*");
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            let Ok(origin) = origin.to_str() else {
                return false;
            };
            any || is_local_origin(origin) || extra.iter().any(|o| o == origin)
        }))
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        // And the header a Loki client (the viewer's log page, Grafana) sends for Loki's
        // categorized labels: without it another collector's viewer cannot read the logs.
        .allow_headers([
            header::CONTENT_TYPE,
            header::CONTENT_ENCODING,
            header::AUTHORIZATION,
            header::HeaderName::from_static("x-loki-response-encoding-flags"),
            // The tenant, which the gateway forwards when no --upstream-header sets it.
            header::HeaderName::from_static("x-scope-orgid"),
        ])
        // Not CORS-safelisted: without this a page's SDK cannot read how long to back off.
        .expose_headers([header::RETRY_AFTER])
        .max_age(std::time::Duration::from_secs(3600))
}

/// Whether a WebSocket may open: browsers apply no CORS to WebSockets, so without this check a
/// page of any site the user visits could read the stored logs (`/loki/api/v1/tail`) or an
/// upstream with the credentials configured here. The `Origin` must be one CORS allows (a local
/// one or an extra one), or the collector itself (the `Host` the browser called); clients that
/// are not browsers send none.
fn websocket_origin_allowed(headers: &HeaderMap, extra: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let called = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let authority = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
    is_local_origin(origin)
        || authority.is_some_and(|a| !called.is_empty() && a.eq_ignore_ascii_case(called))
        || extra.iter().any(|o| o == "*" || o == origin)
}

fn websocket_refused() -> Response {
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "a WebSocket must come from the viewer's own origin, a local one or one given with --cors-origin",
    )
        .into_response()
}

fn is_local_origin(origin: &str) -> bool {
    let Some(rest) = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) else {
        return false;
    };
    let host = match rest.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => rest.split(':').next().unwrap_or(""),
    };
    matches!(host, "localhost" | "127.0.0.1" | "::1")
}

/// How an OTLP request (and so its answer) is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Json,
    Protobuf,
}

/// An error answer: its status and body.
#[derive(Debug)]
struct Failure {
    status: StatusCode,
    body: FailureBody,
    /// Seconds for a `Retry-After` header (throttling answers).
    retry_after: Option<u32>,
}

#[derive(Debug)]
enum FailureBody {
    Json(serde_json::Value),
    Protobuf(Vec<u8>),
}

impl Failure {
    /// The same failure as a `google.rpc.Status` in `encoding` (storage errors are made before
    /// the request's encoding is known to the helper that reports them).
    fn reencode(self, encoding: Encoding) -> Failure {
        match (&self.body, encoding) {
            (FailureBody::Json(v), Encoding::Protobuf) => {
                let code = v["code"].as_i64().unwrap_or(13) as i32;
                let message = v["message"].as_str().unwrap_or("").to_owned();
                Failure { retry_after: self.retry_after, ..rpc_error(encoding, self.status, code, message) }
            }
            _ => self,
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut response = match self.body {
            FailureBody::Json(v) => (self.status, Json(v)).into_response(),
            FailureBody::Protobuf(b) => (self.status, [(header::CONTENT_TYPE, PROTOBUF)], b).into_response(),
        };
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

const PROTOBUF: &str = "application/x-protobuf";

/// An OTLP error answer: a `google.rpc.Status` with its gRPC code, in the request's encoding.
fn rpc_error(encoding: Encoding, status: StatusCode, grpc_code: i32, message: impl Into<String>) -> Failure {
    let message = message.into();
    let body = match encoding {
        Encoding::Json => FailureBody::Json(json!({ "code": grpc_code, "message": message })),
        Encoding::Protobuf => FailureBody::Protobuf(proto::encode_status(grpc_code, &message)),
    };
    Failure { status, body, retry_after: None }
}

/// An answer for a path no route serves (`404`) or a method its route does not take (`405`),
/// in the error shape of the API the path is under.
fn api_miss(status: StatusCode, method: &Method, uri: &Uri, headers: &HeaderMap) -> Response {
    let path = uri.path();
    let message = if status == StatusCode::METHOD_NOT_ALLOWED {
        format!("method {method} is not allowed for {path}")
    } else {
        format!("no such API path: {path}")
    };
    let grpc_code = if status == StatusCode::NOT_FOUND { 5 } else { 12 };
    path_error(status, grpc_code, path, headers, message)
}

/// An error answer in the shape of the API `path` is under: Loki's, Jaeger's legacy one, a
/// `google.rpc.Status` with `grpc_code` in the request's encoding for OTLP (`/v1/…`), else the
/// query API's.
fn path_error(status: StatusCode, grpc_code: i32, path: &str, headers: &HeaderMap, message: String) -> Response {
    if path.starts_with("/loki/") {
        loki_error(status, message)
    } else if path.starts_with("/jaeger/api/") && !path.starts_with("/jaeger/api/v3/") {
        jaeger_error(status, message)
    } else if path.starts_with("/v1/") {
        rpc_error(failure_encoding(headers), status, grpc_code, message).into_response()
    } else {
        query_error(status, message).into_response()
    }
}

/// The viewer's files are asked for with runs of `/` made one: a directory asked for as `//DIR`
/// would otherwise be redirected to `//DIR/`, which a browser reads as the host `DIR` (an open
/// redirect, once `--ui-dir` has a directory of that name).
async fn single_slashes(mut request: Request) -> Request {
    if request.uri().path().contains("//") {
        let mut path = String::with_capacity(request.uri().path().len());
        for c in request.uri().path().chars() {
            if !(c == '/' && path.ends_with('/')) {
                path.push(c);
            }
        }
        let target = match request.uri().query() {
            Some(query) => format!("{path}?{query}"),
            None => path,
        };
        if let Ok(uri) = target.parse::<Uri>() {
            *request.uri_mut() = uri;
        }
    }
    request
}

async fn no_route(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    api_miss(StatusCode::NOT_FOUND, &method, &uri, &headers)
}

async fn wrong_method(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    api_miss(StatusCode::METHOD_NOT_ALLOWED, &method, &uri, &headers)
}

/// `GET /loki/api/v1/status/buildinfo`, which Grafana's Loki data source asks for to learn which
/// features it may use: the Loki API version this collector follows (3.0, whose LogQL forms it
/// reads), with `revision` and `branch` naming edgescope, so that no one takes it for a Loki.
async fn loki_buildinfo() -> Response {
    Json(json!({
        "version": "3.0.0",
        "revision": concat!("edgescope-collector ", env!("CARGO_PKG_VERSION")),
        "branch": "edgescope",
        "buildUser": "edgescope",
        "buildDate": "",
        "goVersion": "",
    }))
    .into_response()
}

/// `GET /loki/api/v1/drilldown-limits`, which Grafana's Logs Drilldown asks for when it opens
/// (Loki 3.5's tenant limits for it): the limits this collector holds queries to, so that the
/// app offers as many lines as a query may return, and hides the Patterns tab (`/patterns` finds
/// none: this collector mines no patterns). Levels and service names come from OTLP (`level` from the severity, `service_name` from
/// `service.name`), not discovered from other labels; `0s` is no limit, as in Loki.
async fn loki_drilldown_limits(State(app): State<App>) -> Response {
    let retention = app.retention.map_or("0s".to_owned(), |keep| format!("{}s", keep.as_secs()));
    Json(json!({
        "limits": {
            "discover_log_levels": false,
            "discover_service_name": [],
            "log_level_fields": [],
            "max_entries_limit_per_query": loki::MAX_ENTRIES,
            "max_line_size_truncate": false,
            "max_query_bytes_read": "0B",
            "max_query_length": "0s",
            "max_query_lookback": retention,
            "max_query_range": "0s",
            "max_query_series": loki::MAX_SERIES,
            "metric_aggregation_enabled": false,
            "otlp_config": {
                "ResourceAttributes": {
                    "AttributesConfig": [{ "Action": "index_label", "Attributes": loki::INDEXED_RESOURCE_ATTRIBUTES, "Regex": "" }],
                    "IgnoreDefaults": false,
                },
                "ScopeAttributes": null,
                "LogAttributes": null,
                "SeverityTextAsLabel": false,
            },
            "pattern_persistence_enabled": false,
            "query_timeout": "0s",
            "retention_period": retention,
            "volume_enabled": true,
            "volume_max_series": loki::MAX_ENTRIES,
        },
        "pattern_ingester_enabled": false,
        "version": "3.0.0",
    }))
    .into_response()
}

/// Query errors in the shape the Jaeger query API uses.
/// On a port that listens on a loopback address (`allowed` is then the `--allowed-host` names),
/// only requests whose `Host` is a loopback name (`localhost`, `*.localhost`), an IP address or an
/// allowed name (a reverse proxy's that passes on the name it was reached by) are answered;
/// others get `421`. A
/// page of another site whose name its DNS server rebinds to 127.0.0.1 sends its own name as
/// `Host` (and as `Origin`, which then passes as same-origin): without this check it could read
/// every stored record, write exports and use the gateway's credentials. Only clients on this
/// machine reach a loopback address, and they address it by `localhost` or 127.0.0.1; a
/// collector meant to be reached by name listens on another address, and has tokens for that.
async fn addressed_here(State(allowed): State<Option<Arc<[String]>>>, request: Request, next: Next) -> Response {
    let refuse = |status: StatusCode, grpc_code: i32, message: String| {
        path_error(status, grpc_code, request.uri().path(), request.headers(), message)
    };
    // RFC 9112 §3.2: one `Host`, and in HTTP/1.1 always one; a target in absolute form
    // (`GET http://name/path`) names the host itself (§3.2.2). One whose `Host` names another is
    // refused, so that every check here (the WebSocket origin's too) reads the same host.
    let mut hosts = request.headers().get_all(header::HOST).iter();
    let header = match (hosts.next(), hosts.next()) {
        (_, Some(_)) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                3,
                "a request names its host once: this one has two `Host` headers".into(),
            )
        }
        (header, None) => header.map(|h| h.to_str().unwrap_or("")),
    };
    let authority = request.uri().authority().map(|a| a.as_str());
    let host = match (authority.map(|a| a.rsplit_once('@').map_or(a, |(_, host)| host)), header) {
        (Some(named), Some(header)) if !named.eq_ignore_ascii_case(header) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                3,
                format!("the request's target names the host `{named}` and its `Host` header `{header}`"),
            )
        }
        // Without the `user@` an absolute URL may carry.
        (Some(named), _) => Some(named),
        (None, None) if request.version() == axum::http::Version::HTTP_11 => {
            return refuse(
                StatusCode::BAD_REQUEST,
                3,
                "an HTTP/1.1 request names its host: this one has no `Host` header".into(),
            )
        }
        (None, header) => header,
    };
    match (host, allowed) {
        // In the error shape of the API asked (OTLP's `Status`: `PERMISSION_DENIED`).
        (Some(host), Some(allowed)) if !is_direct_host(host) && !is_allowed_host(host, &allowed) => refuse(
            StatusCode::MISDIRECTED_REQUEST,
            7,
            format!(
                "this collector listens on a loopback address and answers requests addressed to localhost or an IP \
                 address, not to `{host}` (a page of another site can point its own name at 127.0.0.1); behind a \
                 reverse proxy that passes on that name, give it with --allowed-host"
            ),
        ),
        // An HTTP/1.0 request without a name comes from a program on this machine, not a page.
        _ => next.run(request).await,
    }
}

/// The name of a `Host` header, lowercase, without its port, trailing dot or IPv6 brackets;
/// `None` when the header is malformed (a port that is none, text after the brackets).
fn host_name(host: &str) -> Option<String> {
    let port = |p: &str| p.is_empty() || p.strip_prefix(':').is_some_and(|p| p.parse::<u16>().is_ok());
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split_once(']').filter(|(_, after)| port(after))?.0,
        None => {
            let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
            port(&host[name.len()..]).then_some(name)?
        }
    };
    Some(name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase())
}

/// Whether a `Host` header's name is one of `allowed` (lowercase).
fn is_allowed_host(host: &str, allowed: &[String]) -> bool {
    host_name(host).is_some_and(|name| allowed.contains(&name))
}

/// Whether a `Host` header names an IP address or a loopback name (with or without a port).
fn is_direct_host(host: &str) -> bool {
    host_name(host).is_some_and(|name| {
        name.parse::<std::net::IpAddr>().is_ok() || name == "localhost" || name.ends_with(".localhost")
    })
}

fn query_error(status: StatusCode, message: impl Into<String>) -> Failure {
    Failure {
        status,
        body: FailureBody::Json(json!({ "error": { "httpCode": status.as_u16(), "message": message.into() } })),
        retry_after: None,
    }
}

fn store_error(e: StoreError) -> Failure {
    // Nobody reads this answer: its client went away.
    if matches!(e, StoreError::Abandoned) {
        return rpc_error(Encoding::Json, StatusCode::SERVICE_UNAVAILABLE, 1, e.to_string());
    }
    tracing::error!(error = %e, "storage failed");
    rpc_error(Encoding::Json, StatusCode::SERVICE_UNAVAILABLE, 14, e.to_string())
}

/// Whether reading a body failed because no byte arrived for [`Settings::client_timeout`].
fn stalled(rejection: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(rejection);
    while let Some(e) = cause {
        if e.is::<TimeoutError>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// `n` bytes in whole KiB, as [`App::body_memory`] counts them.
fn kib(n: usize) -> usize {
    n.div_ceil(1024)
}

/// Why an export's body could not be read.
enum BodyError {
    /// Past `--max-body-bytes`.
    TooLarge,
    /// No byte arrived for the client timeout.
    Stalled,
    /// The memory for bodies stayed taken for [`Settings::body_memory_wait`].
    Busy,
    /// The connection broke, or the body did not read.
    Broken(String),
}

/// The memory an export's body holds, in [`App::body_memory`]'s KiB, given back when dropped
/// (and the exports waiting for memory told so).
#[derive(Default)]
struct Held {
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
    freed: Option<Arc<tokio::sync::Notify>>,
}

impl Held {
    /// Takes `more` KiB more, waiting up to [`Settings::body_memory_wait`] for other exports to give them
    /// back. Waiters do not queue: each tries again whenever memory is given back, so that a large
    /// export waiting for memory never holds up a small one that fits meanwhile.
    async fn take(&mut self, app: &App, more: usize) -> Result<(), BodyError> {
        if more == 0 {
            return Ok(());
        }
        let more = u32::try_from(more).map_err(|_| BodyError::TooLarge)?;
        let deadline = tokio::time::Instant::now() + app.body_memory_wait;
        let permit = loop {
            // Listening before trying, so that memory given back in between is not missed.
            let freed = app.body_freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if let Ok(permit) = app.body_memory.clone().try_acquire_many_owned(more) {
                break permit;
            }
            if tokio::time::timeout_at(deadline, freed).await.is_err() {
                return Err(BodyError::Busy);
            }
        };
        match &mut self.permit {
            Some(held) => held.merge(permit),
            None => self.permit = Some(permit),
        }
        self.freed = Some(app.body_freed.clone());
        Ok(())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if self.permit.take().is_some() {
            if let Some(freed) = &self.freed {
                freed.notify_waiters();
            }
        }
    }
}

/// An export's body, read within the memory export bodies may hold
/// ([`Settings::max_body_memory_bytes`]): a body that says its length takes that much before it is
/// read, one without (chunked) as its bytes arrive, so that a slow sender holds only what it has
/// sent. Without such a bound, many large exports at once took gigabytes (60 of 15.7 MB: 3.8 GB).
/// What it holds stays taken until the export is stored, since its decoded data is as large.
struct ExportBody {
    bytes: Result<Bytes, BodyError>,
    held: Held,
}

impl axum::extract::FromRequest<App> for ExportBody {
    type Rejection = std::convert::Infallible;

    async fn from_request(request: Request, app: &App) -> Result<Self, Self::Rejection> {
        let mut held = Held::default();
        let bytes = read_export_body(request, app, &mut held).await;
        Ok(ExportBody { bytes, held })
    }
}

async fn read_export_body(request: Request, app: &App, held: &mut Held) -> Result<Bytes, BodyError> {
    let limit = app.max_body_bytes;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    let mut stream = request.into_body().into_data_stream();
    let refused = match declared {
        Some(n) if n > limit => Some(BodyError::TooLarge),
        Some(n) => held.take(app, kib(n)).await.err(),
        None => None,
    };
    if let Some(refused) = refused {
        return Err(drained(&mut stream, limit, refused).await);
    }
    let mut taken = declared.map_or(0, kib);
    let mut body = Vec::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
        let chunk =
            chunk.map_err(|e| if stalled(&e) { BodyError::Stalled } else { BodyError::Broken(e.to_string()) })?;
        let refused = if body.len() + chunk.len() > limit {
            Some(BodyError::TooLarge)
        } else {
            body.extend_from_slice(&chunk);
            let more = kib(body.len()).saturating_sub(taken);
            taken += more;
            held.take(app, more).await.err()
        };
        if let Some(refused) = refused {
            // What was read, and the memory it held, go before the rest is drained.
            drop(std::mem::take(&mut body));
            *held = Held::default();
            return Err(drained(&mut stream, limit, refused).await);
        }
    }
    Ok(Bytes::from(body))
}

/// Reads and drops the rest of a refused body (at most four times the limit), so that the
/// client, still sending, reads the answer rather than a reset connection, which exporters would
/// take for a network error and send again; then `refused`.
async fn drained(stream: &mut axum::body::BodyDataStream, limit: usize, refused: BodyError) -> BodyError {
    let mut left = limit.saturating_mul(4);
    while let Some(Ok(chunk)) = futures_util::StreamExt::next(stream).await {
        left = match left.checked_sub(chunk.len()) {
            Some(left) => left,
            None => break,
        };
    }
    refused
}

/// The body of an export, inflated and decoded by `decode` (a message for a `400` when it does
/// not decode), on the blocking threads rather than the server's: a body of a million gzip
/// members or a large JSON one takes seconds of CPU, which there would stop every other request,
/// `/health` too. At most one export per core is inflated or decoded at a time; others wait their
/// turn. A body that could not be read, or whose headers refuse it, is answered at once, as every
/// OTLP failure: a `Status` in the request's encoding. Inflated payloads obey the same size limit
/// as bodies, and take their size from the memory for bodies too (once inflated, and outside
/// their turn); what the export holds there is returned with its data, to be kept until the data
/// is stored.
async fn decode_export<T: Send + 'static>(
    app: &App,
    headers: HeaderMap,
    body: ExportBody,
    decode: fn(Encoding, &[u8]) -> Result<T, String>,
) -> Result<(Encoding, T, Held), Failure> {
    let ExportBody { bytes, mut held } = body;
    let limit = app.max_body_bytes;
    // What can be answered from the headers and the read is answered without a turn.
    let encoding = export_encoding(&headers)?;
    let body = bytes.map_err(|e| body_failure(encoding, e, limit, app.client_timeout, app.body_memory_kib))?;
    let gzipped = gzipped(&headers, encoding)?;
    let failed = |e: tokio::task::JoinError| {
        rpc_error(encoding, StatusCode::INTERNAL_SERVER_ERROR, 13, format!("the export could not be decoded: {e}"))
    };
    let decoded = |payload: Bytes| {
        move || decode(encoding, &payload).map_err(|m| rpc_error(encoding, StatusCode::BAD_REQUEST, 3, m))
    };
    let mut turn = app.decoders.clone().acquire_owned().await;
    if !gzipped {
        let decoded = tokio::task::spawn_blocking(decoded(body)).await.map_err(failed)??;
        return Ok((encoding, decoded, held));
    }
    let sent = body.len();
    let payload = tokio::task::spawn_blocking(move || inflated(encoding, &body, limit)).await.map_err(failed)??;
    if kib(payload.len()) > kib(sent) {
        // The inflated body takes its memory without keeping another export from its turn.
        drop(turn);
        held.take(app, kib(payload.len()) - kib(sent)).await.map_err(|_| busy(encoding, app.body_memory_kib))?;
        turn = app.decoders.clone().acquire_owned().await;
    }
    let decoded = tokio::task::spawn_blocking(decoded(payload)).await.map_err(failed)??;
    drop(turn);
    Ok((encoding, decoded, held))
}

/// The `503` of an export that found the memory for bodies taken for [`Settings::body_memory_wait`].
fn busy(encoding: Encoding, memory_kib: usize) -> Failure {
    Failure {
        retry_after: Some(1),
        ..rpc_error(
            encoding,
            StatusCode::SERVICE_UNAVAILABLE,
            14,
            format!(
                "the collector holds as many export bodies as its memory for them allows ({} MiB, \
                 --max-body-memory-mb); retry after 1 s",
                memory_kib / 1024
            ),
        )
    }
}

/// The encoding an export's `Content-Type` names, or the `415` that refuses it.
fn export_encoding(headers: &HeaderMap) -> Result<Encoding, Failure> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match mime.as_str() {
        "application/json" => Ok(Encoding::Json),
        "application/x-protobuf" | "application/protobuf" => Ok(Encoding::Protobuf),
        _ => Err(rpc_error(
            Encoding::Json,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            3,
            format!("unsupported Content-Type `{content_type}`: send application/x-protobuf or application/json"),
        )),
    }
}

/// The answer to an export whose body could not be read, in its encoding.
fn body_failure(encoding: Encoding, error: BodyError, limit: usize, timeout: Duration, memory_kib: usize) -> Failure {
    match error {
        BodyError::TooLarge => rpc_error(
            encoding,
            StatusCode::PAYLOAD_TOO_LARGE,
            8,
            format!("the body is larger than the limit of {limit} bytes"),
        ),
        BodyError::Stalled => rpc_error(
            encoding,
            StatusCode::REQUEST_TIMEOUT,
            4,
            format!("the body stalled: no byte arrived for {} s", timeout.as_secs_f64()),
        ),
        BodyError::Busy => busy(encoding, memory_kib),
        BodyError::Broken(reason) => {
            rpc_error(encoding, StatusCode::BAD_REQUEST, 3, format!("the body could not be read: {reason}"))
        }
    }
}

/// Whether the export's `Content-Encoding` is gzip (else none), or the `415` that refuses another.
fn gzipped(headers: &HeaderMap, encoding: Encoding) -> Result<bool, Failure> {
    match headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).map(str::trim) {
        None | Some("") | Some("identity") => Ok(false),
        Some(e) if e.eq_ignore_ascii_case("gzip") => Ok(true),
        Some(other) => Err(rpc_error(
            encoding,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            3,
            format!("unsupported Content-Encoding `{other}`: send gzip or none"),
        )),
    }
}

/// A gzip body inflated, within the same `limit` as bodies.
fn inflated(encoding: Encoding, body: &[u8], limit: usize) -> Result<Bytes, Failure> {
    use std::io::Read;
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
    match flate2::read::MultiGzDecoder::new(body).take(limit as u64 + 1).read_to_end(&mut out) {
        Err(e) => Err(rpc_error(encoding, StatusCode::BAD_REQUEST, 3, format!("invalid gzip body: {e}"))),
        Ok(n) if n > limit => Err(rpc_error(
            encoding,
            StatusCode::PAYLOAD_TOO_LARGE,
            8,
            format!("the inflated body is larger than the limit of {limit} bytes"),
        )),
        Ok(_) => Ok(Bytes::from(out)),
    }
}

impl Signal {
    /// What the items of a request are called in messages.
    fn items(self) -> &'static str {
        match self {
            Signal::Traces => "spans",
            Signal::Logs => "log records",
        }
    }

    /// The count field of `partialSuccess` in OTLP/JSON.
    fn rejected_key(self) -> &'static str {
        match self {
            Signal::Traces => "rejectedSpans",
            Signal::Logs => "rejectedLogRecords",
        }
    }
}

/// The answer to an export after `stored` items were stored and `rejected` were left out: an
/// empty `Export…ServiceResponse` when nothing was rejected, otherwise one with a
/// `partialSuccess` that counts the rejected items and names the first problem.
fn export_answer(encoding: Encoding, signal: Signal, stored: usize, rejected: &[ReadError]) -> Response {
    let Some(first) = rejected.first() else {
        return match encoding {
            Encoding::Json => Json(json!({})).into_response(),
            Encoding::Protobuf => ([(header::CONTENT_TYPE, PROTOBUF)], Vec::new()).into_response(),
        };
    };
    let total = stored + rejected.len();
    let message = format!("{} of {total} {} rejected; the first: {first}", rejected.len(), signal.items());
    match encoding {
        // OTLP/JSON writes int64 fields as decimal strings, as the protobuf JSON mapping does.
        Encoding::Json => Json(json!({
            "partialSuccess": { signal.rejected_key(): rejected.len().to_string(), "errorMessage": message }
        }))
        .into_response(),
        Encoding::Protobuf => {
            ([(header::CONTENT_TYPE, PROTOBUF)], proto::encode_partial_success(rejected.len() as i64, &message))
                .into_response()
        }
    }
}

/// Spans and log records dated further ahead of this collector's clock than the retention
/// period are refused, naming the sender's clock: age retention deletes by time, so a record from
/// a sender whose clock runs a year ahead would be kept for that year, past every size of the
/// window it was meant for (Loki refuses such entries too, as too far in the future). Within
/// the period they are kept, and age out within twice the period. `None` without age retention.
fn horizon(retention: Option<Duration>) -> Option<Horizon> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos();
    let retention = retention?;
    Some(Horizon { now, limit: u64::try_from(now + retention.as_nanos()).ok()?, retention })
}

struct Horizon {
    now: u128,
    limit: u64,
    retention: Duration,
}

impl Horizon {
    /// The error of an item dated `at` (Unix nanoseconds), when that is past the horizon.
    fn refuse(&self, at: u64, what: impl FnOnce() -> String) -> Option<ReadError> {
        if at <= self.limit {
            return None;
        }
        let count = |n: u128, unit: &str| if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") };
        // Rounded to the nearest hour, or day from two days on.
        let hours = ((u128::from(at) - self.now) / 1_000_000 + 1_800_000) / 3_600_000;
        let ahead = if hours < 48 { count(hours, "hour") } else { count((hours + 12) / 24, "day") };
        let period = self.retention.as_secs();
        let period =
            if period % 3600 == 0 { count(u128::from(period / 3600), "hour") } else { count(period.into(), "second") };
        Some(ReadError {
            path: String::new(),
            message: format!(
                "{} is dated {ahead} ahead of this collector's clock, past its retention period ({period}): check \
                 the sender's clock",
                what(),
            ),
        })
    }
}

/// Leaves out, as rejected, the spans that start or end past the [`horizon`].
fn refuse_far_future_spans(data: &mut TracesData, retention: Option<Duration>, rejected: &mut Vec<ReadError>) {
    let Some(horizon) = horizon(retention) else { return };
    for ss in data.resource_spans.iter_mut().flat_map(|rs| &mut rs.scope_spans) {
        ss.spans.retain(|span| {
            let at = span.start_time_unix_nano.max(span.end_time_unix_nano);
            let error = horizon.refuse(at, || format!("span {:?} of trace {}", span.name, span.trace_id.to_hex()));
            rejected.extend(error.clone());
            error.is_none()
        });
    }
}

/// Leaves out, as rejected, the log records whose time (else observed time) is past the
/// [`horizon`].
fn refuse_far_future_logs(data: &mut LogsData, retention: Option<Duration>, rejected: &mut Vec<ReadError>) {
    let Some(horizon) = horizon(retention) else { return };
    for sl in data.resource_logs.iter_mut().flat_map(|rl| &mut rl.scope_logs) {
        sl.log_records.retain(|record| {
            let at = if record.time_unix_nano != 0 { record.time_unix_nano } else { record.observed_time_unix_nano };
            let error = horizon.refuse(at, || "a log record".to_owned());
            rejected.extend(error.clone());
            error.is_none()
        });
    }
}

/// The `400` for a request of which no item could be read: the OTLP/HTTP answer for data that
/// is invalid as a whole, naming the first problem.
fn all_rejected(encoding: Encoding, signal: Signal, rejected: &[ReadError]) -> Failure {
    let first = rejected.first().map(ToString::to_string).unwrap_or_default();
    let message = format!("all {} {} rejected; the first: {first}", rejected.len(), signal.items());
    rpc_error(encoding, StatusCode::BAD_REQUEST, 3, message)
}

/// A place among the writes that wait for the writer, or the 503 with `Retry-After` that
/// refuses the request when all `max_pending_writes` are taken, before anything is read into
/// the store, so that an export is never accepted and then dropped.
fn pending_write(app: &App) -> Result<tokio::sync::OwnedSemaphorePermit, Failure> {
    app.pending_writes.clone().try_acquire_owned().map_err(|_| Failure {
        retry_after: Some(1),
        ..rpc_error(Encoding::Json, StatusCode::SERVICE_UNAVAILABLE, 14, "the write queue is full; retry after 1 s")
    })
}

/// Runs a write on the writer connection, as one of the pending writes (see [`pending_write`]).
async fn write<T: Send + 'static>(
    app: &App,
    f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Failure> {
    let permit = pending_write(app)?;
    let writer = app.writer.clone();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        f(&mut writer.lock().unwrap_or_else(|p| p.into_inner()))
    })
    .await
    .map_err(|e| rpc_error(Encoding::Json, StatusCode::INTERNAL_SERVER_ERROR, 13, e.to_string()))?
    .map_err(store_error)
}

/// Records at most (spans, or log records) in one group of exports written in one transaction
/// (a group holds at least one export).
const GROUP_MAX_RECORDS: usize = 16_384;

/// How long requests under way may take to end after a stop signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves `app` on `listener` until `stop` changes, then waits for the connections to end (the
/// caller bounds how long, and dropping this future ends those left). Unlike `axum::serve`, it
/// closes a connection whose client does not send a request's head within `timeout`, or keeps
/// it idle as long (see [`Settings::client_timeout`]). HTTP/1 only, as `axum::serve` without
/// its `http2` feature: OTLP/HTTP clients speak 1.1, and HTTP/2 connections would need their
/// own idle rules.
async fn serve(listener: TcpListener, app: Router, timeout: Duration, mut stop: tokio::sync::watch::Receiver<()>) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;

    let mut connections = tokio::task::JoinSet::new();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, most likely: let connections end, then go on.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            _ = stop.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let mut stopping = stop.clone();
        connections.spawn(async move {
            // hyper's clock for the head starts at its first byte on a new connection. One that
            // has sent nothing when the stop comes (a browser's preconnect) is closed at once.
            let mut first = [0; 1];
            tokio::select! {
                peeked = tokio::time::timeout(timeout, stream.peek(&mut first)) => match peeked {
                    Ok(Ok(n)) if n > 0 => {}
                    _ => return,
                },
                _ = stopping.changed() => return,
            }
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(timeout)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let mut connection = std::pin::pin!(connection);
            // At the stop, a request under way is answered, then the connection closes; an
            // idle one closes at once.
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                _ = stopping.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = ended {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

/// An export in a group queue, with its place among the pending writes: the place is given
/// back when the export leaves the queue's hands (answered, or failed), even if the request
/// that sent it went away.
struct Queued<D> {
    data: D,
    _place: tokio::sync::OwnedSemaphorePermit,
}

/// Exports of one signal waiting for the writer, each answered with how many records it held.
type ExportQueue<D> = GroupQueue<Queued<D>, Result<usize, StoreError>>;

/// Stores an export with group commit, as one of the pending writes: the export is queued, and
/// the first task to hold the writer after that writes every export waiting in `queue` (up to
/// [`GROUP_MAX_RECORDS`]) in one transaction with `write_group` ([`Store::insert_trace_group`],
/// [`Store::insert_log_group`]). The answer comes once that transaction committed, so a 200
/// still means the records are on disk.
async fn write_grouped<D: Send + Sync + 'static>(
    app: &App,
    signal: Signal,
    queue: &Arc<ExportQueue<D>>,
    data: D,
    records: usize,
    write_group: impl Fn(&mut Store, &[&D]) -> Vec<Result<usize, StoreError>> + Send + 'static,
) -> Result<usize, Failure> {
    let place = pending_write(app)?;
    let ticket = queue.push(Queued { data, _place: place }, records);
    let (writer, queue, metrics, number) = (app.writer.clone(), queue.clone(), app.metrics.clone(), ticket.number);
    // Not awaited: the answer may come from an earlier task's group, and this task then has
    // nothing to do.
    tokio::task::spawn_blocking(move || {
        if queue.taken(number) {
            return;
        }
        let mut store = writer.lock().unwrap_or_else(|p| p.into_inner());
        queue.write_through(number, |group| {
            let answers = write_group(&mut store, &group.iter().map(|queued| &queued.data).collect::<Vec<_>>());
            // Counted before the answers go, so that a scrape after an answer counts its group.
            metrics.groups(signal, 1);
            answers
        });
    });
    match ticket.answer.await {
        Ok(answer) => answer.map_err(store_error),
        // The task that took the export failed (a panic) before answering: nothing is promised.
        Err(_) => Err(rpc_error(Encoding::Json, StatusCode::INTERNAL_SERVER_ERROR, 13, "the writer failed")),
    }
}

/// Stores a trace export with group commit (see [`write_grouped`]).
async fn write_traces(app: &App, data: TracesData) -> Result<usize, Failure> {
    let spans = data.spans().count();
    write_grouped(app, Signal::Traces, &app.trace_queue, data, spans, Store::insert_trace_group).await
}

/// Stores a log export with group commit (see [`write_grouped`]); live tails hear of the new
/// records after the group's commit, before the answers go.
async fn write_logs(app: &App, data: LogsData) -> Result<usize, Failure> {
    let records = data.records().count();
    let log_ids = app.log_ids.clone();
    write_grouped(app, Signal::Logs, &app.log_queue, data, records, move |store, group| {
        let answers = store.insert_log_group(group);
        if let Ok(last_id) = store.last_log_id() {
            log_ids.send_if_modified(|id| {
                let newer = last_id > *id;
                *id = (*id).max(last_id);
                newer
            });
        }
        answers
    })
    .await
}

async fn read_with<T: Send + 'static>(
    app: &App,
    f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Failure> {
    read_on(&app.reader, f).await
}

/// [`read_with`] for a read that looks up by index (see [`App::lookups`]).
async fn lookup_with<T: Send + 'static>(
    app: &App,
    f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Failure> {
    read_on(&app.lookups, f).await
}

async fn read_on<T: Send + 'static>(
    reader: &Reader,
    f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Failure> {
    reader
        .read(f)
        .await
        .ok_or_else(|| rpc_error(Encoding::Json, StatusCode::INTERNAL_SERVER_ERROR, 13, "the query failed"))?
        .map_err(store_error)
}

/// `POST /v1/traces`: stores the spans that read and answers with a partial success naming
/// the first rejected one; `400` when the body does not decode or no span reads.
#[tracing::instrument(skip_all, fields(bytes = body.bytes.as_ref().map_or(0, Bytes::len)))]
async fn ingest_traces(State(app): State<App>, headers: HeaderMap, body: ExportBody) -> Result<Response, Failure> {
    // What the body holds of the memory for bodies is given back once its spans are stored.
    let (encoding, Partial { mut data, mut rejected }, _held) =
        decode_export(&app, headers, body, |encoding, payload| match encoding {
            Encoding::Json => {
                read::json_value_of_bytes(payload).map_err(|e| format!("invalid JSON: {e}")).and_then(|v| {
                    read::traces_partial(&v, Ids::Strict).map_err(|e| format!("not an OTLP trace request: {e}"))
                })
            }
            Encoding::Protobuf => {
                proto::decode_traces_partial(payload).map_err(|e| format!("not an OTLP trace request: {e}"))
            }
        })
        .await?;
    refuse_far_future_spans(&mut data, app.retention, &mut rejected);
    if !rejected.is_empty() && data.spans().next().is_none() {
        app.metrics.records(Signal::Traces, 0, rejected.len());
        return Err(all_rejected(encoding, Signal::Traces, &rejected));
    }
    let n = write_traces(&app, data).await.map_err(|f| f.reencode(encoding))?;
    app.metrics.records(Signal::Traces, n, rejected.len());
    // Not `spans`: JSON logs already have that key, the list of the spans the event is in.
    tracing::debug!(span_count = n, rejected = rejected.len(), "stored");
    Ok(export_answer(encoding, Signal::Traces, n, &rejected))
}

/// `POST /v1/logs`: stores the log records that read and answers with a partial success naming
/// the first rejected one; `400` when the body does not decode or no record reads.
#[tracing::instrument(skip_all, fields(bytes = body.bytes.as_ref().map_or(0, Bytes::len)))]
async fn ingest_logs(State(app): State<App>, headers: HeaderMap, body: ExportBody) -> Result<Response, Failure> {
    // What the body holds of the memory for bodies is given back once its records are stored.
    let (encoding, Partial { mut data, mut rejected }, _held) =
        decode_export(&app, headers, body, |encoding, payload| match encoding {
            Encoding::Json => {
                read::json_value_of_bytes(payload).map_err(|e| format!("invalid JSON: {e}")).and_then(|v| {
                    read::logs_partial(&v, Ids::Strict).map_err(|e| format!("not an OTLP logs request: {e}"))
                })
            }
            Encoding::Protobuf => {
                proto::decode_logs_partial(payload).map_err(|e| format!("not an OTLP logs request: {e}"))
            }
        })
        .await?;
    refuse_far_future_logs(&mut data, app.retention, &mut rejected);
    if !rejected.is_empty() && data.records().next().is_none() {
        app.metrics.records(Signal::Logs, 0, rejected.len());
        return Err(all_rejected(encoding, Signal::Logs, &rejected));
    }
    let n = write_logs(&app, data).await.map_err(|f| f.reencode(encoding))?;
    app.metrics.records(Signal::Logs, n, rejected.len());
    tracing::debug!(records = n, rejected = rejected.len(), "stored");
    Ok(export_answer(encoding, Signal::Logs, n, &rejected))
}

#[derive(Deserialize)]
struct ListParams {
    limit: Option<usize>,
    service: Option<String>,
    trace_id: Option<String>,
}

fn json_text(text: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], text).into_response()
}

/// `{"result": …}` around the OTLP/JSON `write` gives, written on a blocking thread (a trace of
/// 100,000 spans takes a while, which would hold up every request on an async worker) and sent
/// as three parts rather than copied into one (81 MB for such a trace).
async fn result_json(write: impl FnOnce() -> String + Send + 'static) -> Result<Response, Failure> {
    let written = tokio::task::spawn_blocking(write)
        .await
        .map_err(|e| query_error(StatusCode::INTERNAL_SERVER_ERROR, format!("writing the answer failed: {e}")))?;
    let length = written.len() + "{\"result\":}".len();
    let parts = [Bytes::from_static(b"{\"result\":"), Bytes::from(written), Bytes::from_static(b"}")];
    let body = Body::from_stream(futures_util::stream::iter(parts.map(Ok::<_, std::convert::Infallible>)));
    Ok(([(header::CONTENT_TYPE, "application/json"), (header::CONTENT_LENGTH, &length.to_string())], body)
        .into_response())
}

/// Parameters that only Jaeger's legacy search takes: a request to `/api/traces` naming one is
/// a Jaeger search.
const JAEGER_ONLY_PARAMS: [&str; 9] =
    ["operation", "tags", "tag", "minDuration", "maxDuration", "start", "end", "lookback", "traceID"];

/// The parameters Grafana's Jaeger data source sends to a search (`pkg/tsdb/jaeger/client.go`,
/// `Search`): those its query names, and the time range in newer versions.
const GRAFANA_JAEGER_PARAMS: [&str; 8] =
    ["service", "operation", "tags", "minDuration", "maxDuration", "limit", "start", "end"];

/// Whether a request to `/api/traces` is a Jaeger legacy search rather than a call of the
/// collector's own list: one naming a parameter that only Jaeger's search takes, whoever sends
/// it, or one from Grafana's Jaeger data source, whose backend client searches at `/api/traces`
/// without the data source URL's path. That client is told apart from other Grafana data sources
/// reading the collector's own list (Infinity, a JSON API data source through Grafana's data
/// proxy, all with Grafana's `Grafana/…` user agent) by what it sends: a plain Go `GET` with no
/// `Accept` header (Infinity sends `application/json;q=0.9,text/plain`, the data proxy passes on
/// the browser's, which a browser always sends) and only the parameters of a Jaeger search. An
/// `X-Forwarded-For` says nothing: any proxy on the way adds one.
fn is_jaeger_search(headers: &HeaderMap, params: &[(String, String)]) -> bool {
    if params.iter().any(|(k, _)| JAEGER_ONLY_PARAMS.contains(&k.as_str())) {
        return true;
    }
    let grafana = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|agent| agent.starts_with("Grafana/"));
    grafana
        && !headers.contains_key(header::ACCEPT)
        && params.iter().all(|(k, _)| GRAFANA_JAEGER_PARAMS.contains(&k.as_str()))
}

/// `GET /api/traces`: the collector's own list of recent traces, or Jaeger's legacy search
/// answer when the request is one (see [`is_jaeger_search`]).
async fn list_traces(
    State(app): State<App>,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, Failure> {
    if is_jaeger_search(&headers, &params) {
        return Ok(jaeger_search(State(app), Query(params)).await);
    }
    let first = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let limit = match first("limit") {
        None => None,
        Some(v) => Some(v.parse::<usize>().map_err(|_| {
            query_error(StatusCode::BAD_REQUEST, format!("malformed limit `{v}`: expected a whole number"))
        })?),
    };
    let p = ListParams { limit, service: first("service"), trace_id: None };
    let limit = p.limit.unwrap_or(50).min(1000);
    let traces = lookup_with(&app, move |s| s.recent_traces(limit, p.service.as_deref())).await?;
    Ok(Json(json!({ "traces": traces })).into_response())
}

async fn get_trace(
    State(app): State<App>,
    Path(trace_id): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, Failure> {
    let id =
        jaeger::get_trace_query(&trace_id, &Params(&params)).map_err(|m| query_error(StatusCode::BAD_REQUEST, m))?;
    match lookup_with(&app, move |s| s.trace(id)).await? {
        Some(data) => result_json(move || json::write_traces(&data)).await,
        None => Err(query_error(StatusCode::NOT_FOUND, format!("trace {trace_id} not found"))),
    }
}

async fn list_services(State(app): State<App>) -> Result<Response, Failure> {
    let services = lookup_with(&app, |s| s.services()).await?;
    Ok(Json(json!({ "services": services })).into_response())
}

/// `GET /api/v3/operations?service=…[&span_kind=…]`: `{"operations":[{"name","spanKind"}]}`.
#[tracing::instrument(skip(app))]
async fn list_operations(
    State(app): State<App>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, Failure> {
    let (service, kind) =
        jaeger::operations_query(&Params(&params)).map_err(|m| query_error(StatusCode::BAD_REQUEST, m))?;
    let (service, kind) = (service.to_owned(), kind.map(str::to_owned));
    let mut operations = lookup_with(&app, move |s| s.operations(&service)).await?;
    if let Some(kind) = kind {
        operations.retain(|op| jaeger::span_kind_name(op.span_kind) == kind);
    }
    #[derive(serde::Serialize)]
    struct Operations {
        operations: Vec<crate::store::Operation>,
    }
    Ok(Json(Operations { operations }).into_response())
}

/// `GET /api/v3/traces?query.…`: every span of each matching trace as OTLP/JSON inside
/// `{"result": …}`; `404` when nothing matches, as Jaeger answers.
#[tracing::instrument(skip(app))]
async fn find_traces(State(app): State<App>, Query(params): Query<Vec<(String, String)>>) -> Result<Response, Failure> {
    let query = jaeger::find_traces_query(&Params(&params)).map_err(|m| query_error(StatusCode::BAD_REQUEST, m))?;
    let data = read_with(&app, move |s| s.find_traces(&query)).await?;
    if data.resource_spans.is_empty() {
        return Err(query_error(StatusCode::NOT_FOUND, "No traces found"));
    }
    result_json(move || json::write_traces(&data)).await
}

/// `GET /api/v3/trace-summaries?query.…`: the traces `/api/v3/traces` would find, summed up
/// (see [`jaeger::trace_summaries`]); none found is an empty list.
async fn find_trace_summaries(
    State(app): State<App>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, Failure> {
    let query = jaeger::find_traces_query(&Params(&params)).map_err(|m| query_error(StatusCode::BAD_REQUEST, m))?;
    // A trace at a time, each span read into what its summary needs and dropped.
    let summaries = read_with(&app, move |s| {
        let mut summaries = Vec::new();
        for id in s.find_trace_ids(&query)? {
            if crate::store::abandoned() {
                return Err(StoreError::Abandoned);
            }
            let mut spans = Vec::new();
            if s.each_span_of(id, |service, span| spans.push(jaeger::SpanSummary::of(service, span)))? {
                summaries.push(jaeger::trace_summary(id, &spans));
            }
        }
        Ok(summaries)
    })
    .await?;
    Ok(Json(json!({ "summaries": summaries })).into_response())
}

async fn list_logs(State(app): State<App>, Query(p): Query<ListParams>) -> Result<Response, Failure> {
    let trace_id = match p.trace_id.as_deref().filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => Some(jaeger::parse_trace_id(t).ok_or_else(|| {
            query_error(
                StatusCode::BAD_REQUEST,
                format!("malformed trace id `{t}`: expected 1 to 32 hex digits, not all zeros"),
            )
        })?),
    };
    let service = p.service.filter(|s| !s.is_empty());
    let query = LogQuery { trace_id, service, limit: p.limit.unwrap_or(200).min(5000) };
    let data = lookup_with(&app, move |s| s.logs(&query)).await?;
    Ok(json_text(format!("{{\"result\":{}}}", json::write_logs(&data))))
}

/// A window in Unix nanoseconds from `start`/`end` (defaults: the last hour), or a `400`.
fn window(params: &[(String, String)]) -> Result<(i64, i64), Failure> {
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
    let number = |name: &str| -> Result<Option<i64>, Failure> {
        get(name)
            .map(|v| {
                v.parse::<i64>().map_err(|_| {
                    query_error(
                        StatusCode::BAD_REQUEST,
                        format!("malformed parameter {name}: `{v}` is not Unix nanoseconds"),
                    )
                })
            })
            .transpose()
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let end = number("end")?.unwrap_or(i64::try_from(now.as_nanos()).unwrap_or(i64::MAX));
    let start = number("start")?.unwrap_or(end.saturating_sub(3_600_000_000_000));
    if end <= start {
        return Err(query_error(StatusCode::BAD_REQUEST, "end must be after start"));
    }
    // Its width must fit in 64 bits of nanoseconds (about 292 years), as every use of it needs.
    if end.checked_sub(start).is_none() {
        return Err(query_error(StatusCode::BAD_REQUEST, "start and end are more than 292 years apart"));
    }
    Ok((start, end))
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

/// `GET /api/signals?start=&end=&step=&service=`: golden signals per service and operation.
async fn get_signals(State(app): State<App>, Query(params): Query<Vec<(String, String)>>) -> Result<Response, Failure> {
    let (start, end) = window(&params)?;
    let step = match param(&params, "step") {
        None => signals::default_step(start, end),
        Some(v) => v.parse::<i64>().ok().filter(|s| *s > 0 && (end - start) / s <= 10_000).ok_or_else(|| {
            query_error(
                StatusCode::BAD_REQUEST,
                format!("malformed parameter step: `{v}` (nanoseconds; at most 10,000 buckets)"),
            )
        })?,
    };
    let service = param(&params, "service").map(str::to_owned);
    // A trace at a time: the window's spans are never all in memory at once.
    let answer = read_with(&app, move |s| {
        let mut signals = signals::SignalsBuilder::new(start, end, step, service.as_deref());
        s.span_facts_by_trace(start, end, |trace| signals.add(trace))?;
        // Every series gets every bucket, empty ones too: 500 operations in 10,000 buckets made
        // a 256 MB answer that took 615 MB to build.
        let points = signals.points();
        Ok((points <= MAX_SIGNAL_POINTS).then(|| signals.finish()).ok_or(points))
    })
    .await?;
    match answer {
        Ok(answer) => Ok(Json(answer).into_response()),
        Err(points) => Err(query_error(
            StatusCode::BAD_REQUEST,
            format!(
                "the answer would hold {points} buckets (each service and operation times the window's buckets), \
                 more than {MAX_SIGNAL_POINTS}: choose a larger step, a shorter window or one service"
            ),
        )),
    }
}

/// The most buckets one `/api/signals` answer holds, over all its series.
const MAX_SIGNAL_POINTS: u64 = 1_000_000;

/// `GET /api/signals/examples?service=&operation=&start=&end=&limit=`: entry spans of a bucket,
/// errors first, then the slowest.
async fn get_examples(
    State(app): State<App>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, Failure> {
    let (start, end) = window(&params)?;
    let service = param(&params, "service")
        .ok_or_else(|| query_error(StatusCode::BAD_REQUEST, "the `service` parameter is required"))?
        .to_owned();
    let operation = param(&params, "operation").map(str::to_owned);
    let limit = param(&params, "limit").and_then(|l| l.parse().ok()).unwrap_or(20usize).min(1000);
    // A trace at a time, as `/api/signals`: at most `2 × limit` candidates are held.
    let found = read_with(&app, move |s| {
        let mut examples = signals::ExamplesBuilder::new(&service, operation.as_deref(), start, end, limit);
        s.span_facts_by_trace(start, end, |trace| examples.add(trace))?;
        Ok(examples.finish())
    })
    .await?;
    Ok(Json(json!({ "examples": found })).into_response())
}

/// `GET /api/dependencies?endTs=&lookback=` (milliseconds, as Jaeger's legacy API): the
/// service map as `{"data": [{"parent", "child", "callCount"}]}`, with `errorCount` added.
async fn get_dependencies(
    State(app): State<App>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, Failure> {
    let edges = dependencies(&app, &params).await.map_err(|(status, message)| query_error(status, message))?;
    Ok(Json(json!({ "data": edges })).into_response())
}

/// `GET /jaeger/api/dependencies?endTs=&lookback=`: the same edges in the envelope of Jaeger's
/// JSON API, and its errors in that API's shape.
async fn jaeger_dependencies(State(app): State<App>, Query(params): Query<Vec<(String, String)>>) -> Response {
    match dependencies(&app, &params).await {
        // Jaeger leaves `total` 0 here.
        Ok(edges) => Json(jaeger_legacy::envelope(edges, 0, Vec::new())).into_response(),
        Err((status, message)) => jaeger_error(status, message),
    }
}

/// The service map's edges for `endTs` and `lookback` (milliseconds), or an error's status and
/// message.
async fn dependencies(app: &App, params: &[(String, String)]) -> Result<Value, (StatusCode, String)> {
    let ms = |name: &str, default: i64| -> Result<i64, (StatusCode, String)> {
        match param(params, name) {
            None => Ok(default),
            Some(v) => v.parse::<i64>().map_err(|_| {
                (StatusCode::BAD_REQUEST, format!("malformed parameter {name}: `{v}` is not milliseconds"))
            }),
        }
    };
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis();
    let end = ms("endTs", i64::try_from(now_ms).unwrap_or(i64::MAX))?.saturating_mul(1_000_000);
    let start = end.saturating_sub(ms("lookback", 3_600_000)?.saturating_mul(1_000_000));
    let edges = read_with(app, move |s| {
        let mut signals = signals::SignalsBuilder::new(start, end, end - start, None);
        s.span_facts_by_trace(start, end, |trace| signals.add(trace))?;
        Ok(signals.finish().edges)
    })
    .await
    .map_err(|_| (StatusCode::SERVICE_UNAVAILABLE, "storage failed".to_owned()))?;
    serde_json::to_value(edges).map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

/// A `400`, `404` or `503` in the shape Jaeger's JSON API answers errors.
fn jaeger_error(status: StatusCode, message: impl AsRef<str>) -> Response {
    (status, Json(jaeger_legacy::error_body(status.as_u16(), message.as_ref()))).into_response()
}

/// Runs a store read for a Jaeger JSON API handler: a storage failure is a Jaeger-shaped `503`.
async fn jaeger_read<T: Send + 'static>(
    app: &App,
    f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Response> {
    read_with(app, f).await.map_err(|_| jaeger_error(StatusCode::SERVICE_UNAVAILABLE, "storage failed"))
}

/// [`jaeger_read`] for a read that looks up by index (see [`App::lookups`]).
async fn jaeger_lookup<T: Send + 'static>(
    app: &App,
    f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Response> {
    lookup_with(app, f).await.map_err(|_| jaeger_error(StatusCode::SERVICE_UNAVAILABLE, "storage failed"))
}

/// `GET /jaeger/api/services`: `{"data": ["service", …], "total": n, …}`.
async fn jaeger_services(State(app): State<App>) -> Response {
    match jaeger_lookup(&app, |s| s.services()).await {
        Ok(services) => {
            let total = services.len();
            Json(jaeger_legacy::envelope(services, total, Vec::new())).into_response()
        }
        Err(failure) => failure,
    }
}

/// `GET /jaeger/api/services/{service}/operations`: the span names, each once.
async fn jaeger_service_operations(State(app): State<App>, Path(service): Path<String>) -> Response {
    match jaeger_lookup(&app, move |s| s.operations(&service)).await {
        Ok(operations) => {
            let mut names: Vec<String> = operations.into_iter().map(|o| o.name).collect();
            names.dedup();
            let total = names.len();
            Json(jaeger_legacy::envelope(names, total, Vec::new())).into_response()
        }
        Err(failure) => failure,
    }
}

/// `GET /jaeger/api/operations?service=…[&spanKind=…]`: `{"data": [{"name", "spanKind"}], …}`.
async fn jaeger_operations(State(app): State<App>, Query(params): Query<Vec<(String, String)>>) -> Response {
    let Some(service) = param(&params, "service").map(str::to_owned) else {
        return jaeger_error(StatusCode::BAD_REQUEST, "parameter 'service' is required");
    };
    let kind = param(&params, "spanKind").map(str::to_owned);
    match jaeger_lookup(&app, move |s| s.operations(&service)).await {
        Ok(mut operations) => {
            if let Some(kind) = kind {
                operations.retain(|o| jaeger::span_kind_name(o.span_kind) == kind);
            }
            let total = operations.len();
            Json(jaeger_legacy::envelope(operations, total, Vec::new())).into_response()
        }
        Err(failure) => failure,
    }
}

/// `GET /jaeger/api/traces?service=…&start=…&end=…&…` (or `?traceID=…`): whole traces in
/// Jaeger's model. Ids that are not stored are named in `errors`, as Jaeger does.
async fn jaeger_search(State(app): State<App>, Query(params): Query<Vec<(String, String)>>) -> Response {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let search = match jaeger_legacy::search(&params, i64::try_from(now.as_nanos()).unwrap_or(i64::MAX)) {
        Ok(search) => search,
        Err(message) => return jaeger_error(StatusCode::BAD_REQUEST, message),
    };
    let found = jaeger_read(&app, move |s| match search {
        jaeger_legacy::Search::Query(query) => Ok((s.find_traces(&query)?, Vec::new())),
        jaeger_legacy::Search::Ids(ids) => {
            let (mut data, mut missing) = (TracesData::default(), Vec::new());
            for id in ids {
                match s.trace(id)? {
                    Some(trace) => data.resource_spans.extend(trace.resource_spans),
                    None => missing.push(id),
                }
            }
            Ok((data, missing))
        }
    })
    .await;
    match found {
        Ok((data, missing)) => {
            let errors: Vec<Value> = missing
                .iter()
                .map(|id| json!({ "code": 404, "msg": "trace not found", "traceID": id.to_hex() }))
                .collect();
            jaeger_answer(data, errors).await
        }
        Err(failure) => failure,
    }
}

/// Traces in Jaeger's answer, written on a blocking thread: a trace of 100,000 spans takes
/// seconds, which would hold up every request on an async worker.
async fn jaeger_answer(data: TracesData, errors: Vec<Value>) -> Response {
    match tokio::task::spawn_blocking(move || jaeger_legacy::write_answer(&data, &errors)).await {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => jaeger_error(StatusCode::INTERNAL_SERVER_ERROR, format!("writing the answer failed: {e}")),
    }
}

/// `GET /jaeger/api/traces/{id}`: one trace in Jaeger's model, or a `404`.
async fn jaeger_trace(State(app): State<App>, Path(trace_id): Path<String>) -> Response {
    let Some(id) = jaeger::parse_trace_id(&trace_id) else {
        return jaeger_error(
            StatusCode::BAD_REQUEST,
            format!("cannot parse traceID param: `{trace_id}` is not a trace id"),
        );
    };
    match jaeger_lookup(&app, move |s| s.trace(id)).await {
        Ok(Some(data)) => jaeger_answer(data, Vec::new()).await,
        Ok(None) => jaeger_error(StatusCode::NOT_FOUND, "trace not found"),
        Err(failure) => failure,
    }
}

/// `GET /api/upstreams`: the names the gateway forwards to.
async fn list_upstreams(State(app): State<App>) -> Response {
    Json(json!({ "upstreams": app.gateway.names() })).into_response()
}

/// `GET /upstream/{name}/{path…}` (also a WebSocket upgrade): forwarded by the gateway.
async fn upstream(State(app): State<App>, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    // The raw path, still percent-encoded, so that the upstream sees what the browser sent.
    let path = parts.uri.path().strip_prefix("/upstream/").unwrap_or_default();
    let (name, rest) = path.split_once('/').unwrap_or((path, ""));
    let (name, rest) = (name.to_owned(), rest.to_owned());
    let wants_websocket = parts
        .headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if wants_websocket {
        if !websocket_origin_allowed(&parts.headers, &app.cors_origins) {
            return websocket_refused();
        }
        match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
            Ok(upgrade) => app.gateway.forward_websocket(&name, &rest, &parts.uri, &parts.headers, upgrade).await,
            Err(rejection) => rejection.into_response(),
        }
    } else {
        app.gateway.forward(&name, &rest, &parts.uri, &parts.headers).await
    }
}

/// A Loki-shaped error: the status and the message as plain text, as Loki answers.
fn loki_error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], message.into()).into_response()
}

/// Runs a Loki read; storage failures become a `500` with the reason, as Loki answers.
async fn loki_read(
    app: &App,
    f: impl FnOnce(&Store) -> Result<serde_json::Value, StoreError> + Send + 'static,
) -> Response {
    match read_with(app, f).await {
        Ok(body) => Json(body).into_response(),
        Err(failure) => loki_failure(&failure),
    }
}

/// A storage failure as Loki answers it: a `500` with the reason.
fn loki_failure(failure: &Failure) -> Response {
    let message = match &failure.body {
        FailureBody::Json(v) => v["message"].as_str().unwrap_or("storage failed").to_owned(),
        FailureBody::Protobuf(_) => "storage failed".to_owned(),
    };
    loki_error(StatusCode::INTERNAL_SERVER_ERROR, message)
}

/// Whether a request asked for structured metadata apart from stream labels.
fn categorize_labels(headers: &HeaderMap) -> bool {
    headers
        .get_all("x-loki-response-encoding-flags")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|flag| flag.trim() == "categorize-labels")
}

/// The parameters of a Loki query route: its URL's query string and, for a `POST` with a form
/// body, the body's (Loki reads both, with Go's `ParseForm`, and a value in the body comes first,
/// so it wins). A client that sends its query in the body keeps long LogQL out of URL limits.
struct LokiParams(Vec<(String, String)>);

impl<S: Send + Sync> axum::extract::FromRequest<S> for LokiParams {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let bad = |status: StatusCode, text: String| loki_error(status, text);
        let url = Query::<Vec<(String, String)>>::try_from_uri(request.uri())
            .map_err(|e| bad(StatusCode::BAD_REQUEST, e.body_text()))?
            .0;
        let form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
        if request.method() != Method::POST || !form {
            return Ok(LokiParams(url));
        }
        let axum::Form(mut body) =
            axum::Form::<Vec<(String, String)>>::from_request(request, state).await.map_err(|e| {
                if stalled(&e) {
                    bad(
                        StatusCode::REQUEST_TIMEOUT,
                        "the body stalled: no byte arrived within the client timeout".into(),
                    )
                } else {
                    bad(e.status(), e.body_text())
                }
            })?;
        body.extend(url);
        Ok(LokiParams(body))
    }
}

/// `GET`/`POST` `/loki/api/v1/query_range` with a LogQL log or metric query.
async fn loki_query_range(State(app): State<App>, headers: HeaderMap, LokiParams(params): LokiParams) -> Response {
    match loki::range_query(&Params(&params)) {
        Ok(query) => loki_query_answer(&app, query, categorize_labels(&headers)).await,
        Err(message) => loki_error(StatusCode::BAD_REQUEST, message),
    }
}

/// `GET`/`POST` `/loki/api/v1/query`: a LogQL metric query at one instant.
async fn loki_query(State(app): State<App>, LokiParams(params): LokiParams) -> Response {
    match loki::instant_query(&Params(&params)) {
        Ok(query) => loki_query_answer(&app, query, false).await,
        Err(message) => loki_error(StatusCode::BAD_REQUEST, message),
    }
}

/// Runs a query; a metric query over too many series is a `400`, as in Loki.
async fn loki_query_answer(app: &App, query: loki::RangeQuery, categorize: bool) -> Response {
    match read_with(app, move |s| loki::query_range(s, &query, categorize)).await {
        Ok(Ok(answer)) => Json(answer).into_response(),
        Ok(Err(message)) => loki_error(StatusCode::BAD_REQUEST, message),
        Err(failure) => loki_failure(&failure),
    }
}

/// `GET`/`POST` `/loki/api/v1/labels`.
async fn loki_labels(State(app): State<App>, LokiParams(params): LokiParams) -> Response {
    match loki::label_range(&Params(&params)) {
        Ok((start, end, query)) => loki_read(&app, move |s| loki::label_names(s, start, end, query.as_ref())).await,
        Err(message) => loki_error(StatusCode::BAD_REQUEST, message),
    }
}

/// `GET`/`POST` `/loki/api/v1/detected_labels`: stream label names with their cardinality (Grafana 11/12
/// asks for it when a Loki data source starts, and Logs Drilldown lists them).
async fn loki_detected_labels(State(app): State<App>, LokiParams(params): LokiParams) -> Response {
    match loki::label_range(&Params(&params)) {
        Ok((start, end, query)) => loki_read(&app, move |s| loki::detected_labels(s, start, end, query.as_ref())).await,
        Err(message) => loki_error(StatusCode::BAD_REQUEST, message),
    }
}

/// `GET`/`POST` `/loki/api/v1/detected_fields`: the fields of a sample of the newest lines (`line_limit`,
/// 1,000 by default): the keys of JSON and logfmt lines, with their type, cardinality and parser.
async fn loki_detected_fields(State(app): State<App>, LokiParams(params): LokiParams) -> Response {
    match loki::detected_params(&Params(&params)) {
        Ok(asked) => loki_read(&app, move |s| loki::detected_fields(s, asked)).await,
        Err(message) => loki_error(StatusCode::BAD_REQUEST, message),
    }
}

/// `GET`/`POST` `/loki/api/v1/detected_field/{name}/values`: the distinct values of one detected field in
/// that sample (see [`loki_detected_fields`]).
async fn loki_detected_field_values(
    State(app): State<App>,
    Path(name): Path<String>,
    LokiParams(params): LokiParams,
) -> Response {
    match loki::detected_params(&Params(&params)) {
        Ok(asked) => loki_read(&app, move |s| loki::detected_field_values(s, &name, asked)).await,
        Err(message) => loki_error(StatusCode::BAD_REQUEST, message),
    }
}

/// `GET`/`POST` `/loki/api/v1/patterns`: the log patterns Loki's pattern ingester finds. The collector has
/// none: Loki's answer when no pattern is known, so that Grafana's Patterns tab shows none.
async fn loki_patterns(LokiParams(params): LokiParams) -> Response {
    match loki::label_range(&Params(&params)) {
        Ok(_) => Json(json!({ "status": "success", "data": [] })).into_response(),
        Err(message) => loki_error(StatusCode::BAD_REQUEST, message),
    }
}

/// `GET`/`POST` `/loki/api/v1/label/{name}/values`.
async fn loki_label_values(
    State(app): State<App>,
    Path(name): Path<String>,
    LokiParams(params): LokiParams,
) -> Response {
    match loki::label_range(&Params(&params)) {
        Ok((start, end, query)) => {
            loki_read(&app, move |s| loki::label_values(s, &name, start, end, query.as_ref())).await
        }
        Err(message) => loki_error(StatusCode::BAD_REQUEST, message),
    }
}

/// `GET`/`POST` `/loki/api/v1/series`: the stream label sets that `match[]` selectors select.
async fn loki_series(State(app): State<App>, LokiParams(params): LokiParams) -> Response {
    match loki::series_params(&Params(&params)) {
        Ok((start, end, selectors)) => loki_read(&app, move |s| loki::series(s, start, end, &selectors)).await,
        Err(message) => loki_error(StatusCode::BAD_REQUEST, message),
    }
}

/// `GET`/`POST` `/loki/api/v1/index/stats`: streams, chunks, entries and bytes a selector resolves to.
async fn loki_index_stats(State(app): State<App>, LokiParams(params): LokiParams) -> Response {
    match loki::index_params(&Params(&params)) {
        Ok((start, end, query)) => loki_read(&app, move |s| loki::index_stats(s, start, end, &query)).await,
        Err(message) => loki_error(StatusCode::BAD_REQUEST, message),
    }
}

/// `GET`/`POST` `/loki/api/v1/index/volume`: bytes per label combination over the range, as a vector.
async fn loki_volume(State(app): State<App>, LokiParams(params): LokiParams) -> Response {
    loki_volume_answer(&app, loki::volume_params(&Params(&params), false)).await
}

/// `GET`/`POST` `/loki/api/v1/index/volume_range`: the same per `step`, as a matrix.
async fn loki_volume_range(State(app): State<App>, LokiParams(params): LokiParams) -> Response {
    loki_volume_answer(&app, loki::volume_params(&Params(&params), true)).await
}

async fn loki_volume_answer(app: &App, query: Result<loki::VolumeQuery, String>) -> Response {
    let query = match query {
        Ok(query) => query,
        Err(message) => return loki_error(StatusCode::BAD_REQUEST, message),
    };
    match read_with(app, move |s| loki::volume(s, &query)).await {
        Ok(Ok(body)) => Json(loki::InLokiOrder(body)).into_response(),
        Ok(Err(message)) => loki_error(StatusCode::BAD_REQUEST, message),
        Err(failure) => loki_failure(&failure),
    }
}

/// `GET /loki/api/v1/tail`: a WebSocket that gets the recent matching records, then every
/// matching record as it is stored. The store is the buffer: a slow reader falls behind in
/// the database, not in memory, so nothing is dropped.
async fn loki_tail(
    State(app): State<App>,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !websocket_origin_allowed(&headers, &app.cors_origins) {
        return websocket_refused();
    }
    let query = match loki::tail_query(&Params(&params)) {
        Ok(q) => q,
        Err(message) => return loki_error(StatusCode::BAD_REQUEST, message),
    };
    let categorize = categorize_labels(&headers);
    // Beyond the limit, the socket is opened and closed at once with the reason, as Loki's
    // `max_concurrent_tail_requests` does (a browser sees no body of a refused handshake).
    let Ok(turn) = app.tails.clone().try_acquire_owned() else {
        return upgrade.on_upgrade(|mut socket| async move {
            let reason = format!("max concurrent tail requests limit exceeded ({MAX_TAILS} open)");
            let close = axum::extract::ws::CloseFrame { code: 1011, reason: reason.into() };
            let _ = tokio::time::timeout(Duration::from_secs(1), socket.send(Message::Close(Some(close)))).await;
        });
    };
    upgrade.on_upgrade(move |socket| async move {
        tail(app, socket, loki::Tail::new(query), categorize).await;
        drop(turn);
    })
}

/// Live tails open at once: each reads the store whenever an export arrives, so many of them
/// slow every query (100 made a service list take 27 s on two cores).
const MAX_TAILS: usize = 32;

async fn tail(app: App, mut socket: WebSocket, tail: loki::Tail, categorize: bool) {
    let mut changes = app.log_ids.subscribe();
    let mut stopping = app.stopping.subscribe();
    let tail = Arc::new(Mutex::new(tail));
    let step = |first: bool| {
        let tail = tail.clone();
        read_with(&app, move |s| {
            let mut tail = tail.lock().unwrap_or_else(|p| p.into_inner());
            if first {
                Ok((Some(tail.backlog(s, categorize)?), false))
            } else {
                tail.next(s, categorize)
            }
        })
    };
    let mut first = true;
    // Pings, as Loki's tail sends them: a client gone without closing (a phone off the network)
    // answers none, and its tail ends instead of holding its connection for ever.
    let mut ping = tokio::time::interval(TAIL_PING);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ping.tick().await;
    // Pings sent since the client last said anything. Counted, not timed: the time the tail
    // spends waiting for the store (a busy reader) is not the client's silence.
    let mut unanswered = 0;
    loop {
        // Send everything that is waiting, one batch per message.
        loop {
            let (message, more) = match step(first).await {
                Ok(answer) => answer,
                Err(_) => {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
            };
            first = false;
            if let Some(message) = message {
                if socket.send(Message::Text(message.to_string().into())).await.is_err() {
                    return;
                }
            }
            if !more {
                break;
            }
        }
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return },
            // The collector stops: "going away" (RFC 6455 7.4.1), not a broken connection.
            _ = stopping.changed() => {
                let close = axum::extract::ws::CloseFrame { code: 1001, reason: "the collector is stopping".into() };
                let _ = tokio::time::timeout(Duration::from_secs(1), socket.send(Message::Close(Some(close)))).await;
                return;
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) => {
                    // The socket has queued its answering Close frame (RFC 6455 5.5.1); it goes
                    // out with a flush, so the client sees a clean close (1000), not 1006.
                    let _ = tokio::time::timeout(Duration::from_secs(1), futures_util::SinkExt::flush(&mut socket)).await;
                    return;
                }
                Some(Err(_)) | None => return,
                // A pong, or anything else the client says: it is there.
                Some(Ok(_)) => unanswered = 0,
            },
            _ = ping.tick() => {
                if unanswered >= 3 {
                    let close = axum::extract::ws::CloseFrame { code: 1000, reason: "three pings went unanswered".into() };
                    let _ = tokio::time::timeout(Duration::from_secs(1), socket.send(Message::Close(Some(close)))).await;
                    return;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
                unanswered += 1;
            }
        }
    }
}

/// How often a live tail pings its client; three unanswered, and the tail ends.
const TAIL_PING: Duration = Duration::from_secs(5);

#[cfg(test)]
mod tests {
    use super::{is_direct_host, is_local_origin, same_secret, websocket_origin_allowed, write_logs, App, Settings};

    #[test]
    fn a_loopback_collector_is_addressed_by_a_loopback_name_or_an_ip_address() {
        for direct in [
            "127.0.0.1:16686",
            "127.0.0.1",
            "[::1]:4318",
            "[::1]",
            "localhost:16686",
            "LOCALHOST",
            "localhost.",
            "app.localhost:8080",
            "10.0.0.7:16686",
        ] {
            assert!(is_direct_host(direct), "{direct}");
        }
        for named in [
            "rebind.evil.example:16686",
            "evil.example",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "x",
            "",
            "[::1]x",
            "localhost:port",
            "[evil]:80",
        ] {
            assert!(!is_direct_host(named), "{named}");
        }
    }
    use crate::store::LogQuery;
    use axum::http::{header, HeaderMap, HeaderValue};
    use edgescope_otlp::{AnyValue, KeyValue, LogRecord, LogsData, Resource, ResourceLogs, ScopeLogs};

    /// A log export of one record, as a worker request sends it.
    fn one_record(n: u64) -> LogsData {
        LogsData {
            resource_logs: vec![ResourceLogs {
                resource: Resource { attributes: vec![KeyValue::new("service.name", "edge")], ..Default::default() },
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord {
                        time_unix_nano: 1_000 + n,
                        severity_number: 9,
                        body: Some(AnyValue::String(format!("request {n}"))),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn log_exports_that_wait_for_the_writer_are_stored_together_in_one_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let app = App::open(&dir.path().join("edgescope.db"), &Settings::default()).unwrap();
        // The writer is busy (as with another group's commit) while eight exports arrive.
        let (locked, release) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
        let writer = app.writer.clone();
        let busy = std::thread::spawn(move || {
            let _held = writer.lock().unwrap();
            locked.0.send(()).unwrap();
            let _ = release.1.recv();
        });
        locked.1.recv().unwrap();
        let exports: Vec<_> = (0..8)
            .map(|n| {
                let app = app.clone();
                tokio::spawn(async move { write_logs(&app, one_record(n)).await.map_err(|_| "failed") })
            })
            .collect();
        while app.log_queue.len() < 8 {
            tokio::task::yield_now().await;
        }
        release.0.send(()).unwrap();
        busy.join().unwrap();
        for export in exports {
            assert_eq!(export.await.unwrap(), Ok(1));
        }
        let scrape = app.metrics.render((0, 0), (0, 0));
        assert!(scrape.contains("edgescope_write_groups_total{signal=\"logs\"} 1\n"), "one commit for all:\n{scrape}");
        let stored = app.writer.lock().unwrap().logs(&LogQuery { limit: 100, ..Default::default() }).unwrap();
        assert_eq!(stored.records().count(), 8);
    }

    #[test]
    fn websockets_come_from_the_collectors_own_origin_a_local_one_or_an_extra_cors_origin() {
        let headers = |origin: Option<&str>, host: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
            if let Some(o) = origin {
                h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
            }
            h
        };
        let allowed = |origin, extra: &[&str]| {
            let extra: Vec<String> = extra.iter().map(|o| o.to_string()).collect();
            websocket_origin_allowed(&headers(origin, "scope.example:4318"), &extra)
        };
        assert!(allowed(None, &[]), "not a browser");
        assert!(allowed(Some("https://Scope.example:4318"), &[]));
        assert!(allowed(Some("http://[::1]:5173"), &[]));
        assert!(allowed(Some("https://grafana.example"), &["https://grafana.example"]));
        assert!(allowed(Some("https://evil.example"), &["*"]), "--cors-origin '*' allows any");
        for bad in ["https://evil.example", "http://scope.example:9999", "http://localhost.evil.example", "null"] {
            assert!(!allowed(Some(bad), &["https://grafana.example"]), "{bad}");
        }
    }

    #[test]
    fn secrets_are_equal_only_when_every_byte_and_the_length_match() {
        assert!(same_secret(b"s3cret", b"s3cret"));
        for wrong in [&b"s3creT"[..], b"s3cre", b"s3crets", b"", b"S3cret"] {
            assert!(!same_secret(wrong, b"s3cret"), "{wrong:?}");
        }
    }

    #[test]
    fn only_loopback_hosts_count_as_local_origins() {
        for ok in ["http://localhost:5173", "http://127.0.0.1", "https://[::1]:8080", "http://localhost"] {
            assert!(is_local_origin(ok), "{ok}");
        }
        for bad in ["http://localhost.evil.com", "http://example.com", "null", "file://", "http://127.0.0.2:80"] {
            assert!(!is_local_origin(bad), "{bad}");
        }
    }
}
