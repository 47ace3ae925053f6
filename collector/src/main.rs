//! `edgescope`: the collector's command line.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use edgescope_collector::{open_data_dir, run, Settings, Upstream};
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(
    name = "edgescope",
    version,
    about = "edgescope collector: OTLP receiver, SQLite store, query API and viewer"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Receive OTLP, store it and serve the viewer.
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address of the OTLP/HTTP receiver.
    #[arg(long, env = "EDGESCOPE_OTLP_ADDR", default_value = "127.0.0.1:4318")]
    otlp_addr: SocketAddr,
    /// Address of the viewer and query API.
    #[arg(long, env = "EDGESCOPE_UI_ADDR", default_value = "127.0.0.1:16686")]
    ui_addr: SocketAddr,
    /// Directory of the SQLite database.
    #[arg(long, env = "EDGESCOPE_DATA_DIR", default_value = ".data")]
    data_dir: PathBuf,
    /// Directory of the built viewer to serve at `/`.
    #[arg(long, env = "EDGESCOPE_UI_DIR")]
    ui_dir: Option<PathBuf>,
    /// Extra origins allowed by CORS (localhost origins always are); `*` for any.
    #[arg(long = "cors-origin", env = "EDGESCOPE_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Vec<String>,
    /// Host names a collector on a loopback address also answers requests for (a reverse
    /// proxy's, which passes on the name it was reached by); localhost names and IP addresses
    /// always are.
    #[arg(long = "allowed-host", env = "EDGESCOPE_ALLOWED_HOSTS", value_delimiter = ',')]
    allowed_hosts: Vec<String>,
    /// Largest accepted request body in bytes (at least 1024).
    #[arg(long, env = "EDGESCOPE_MAX_BODY_BYTES", default_value_t = 16 << 20,
          value_parser = clap::value_parser!(u64).range(MIN_BODY_BYTES..))]
    max_body_bytes: u64,
    /// Delete traces and log records older than this many hours (0: keep everything).
    #[arg(long, env = "EDGESCOPE_RETENTION_HOURS", default_value_t = 168)]
    retention_hours: u64,
    /// Keep the stored data under this many MiB by deleting the oldest first (0: no limit).
    #[arg(long, env = "EDGESCOPE_MAX_DB_MB", default_value_t = 0)]
    max_db_mb: u64,
    /// Bearer token that `POST /v1/traces` and `/v1/logs` require (none: open).
    #[arg(long, env = "EDGESCOPE_INGEST_TOKEN", hide_env_values = true)]
    ingest_token: Option<String>,
    /// Bearer token that the query routes (`/api/*`, `/jaeger/api/*`, `/loki/api/*`, `/upstream/*`)
    /// require (none: open).
    #[arg(long, env = "EDGESCOPE_QUERY_TOKEN", hide_env_values = true)]
    query_token: Option<String>,
    /// Ingest requests that may wait for the database at once (1 to 1,000,000); more get 503
    /// with Retry-After.
    #[arg(long, env = "EDGESCOPE_MAX_PENDING_WRITES", default_value_t = 64,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_pending_writes: u64,
    /// MiB of export bodies the collector holds in memory at once (counted as they arrive and as
    /// gzip inflates them; at least --max-body-bytes): an export past it waits up to 1 s, then gets
    /// 503 with Retry-After.
    #[arg(long, env = "EDGESCOPE_MAX_BODY_MEMORY_MB", default_value_t = 256,
          value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    max_body_memory_mb: u64,
    /// Seconds a client may take to send a request's head, keep a connection idle, or leave an
    /// export's body without a byte (1 to 3600): then the connection closes, or the export gets
    /// 408.
    #[arg(long, env = "EDGESCOPE_CLIENT_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    client_timeout_secs: u64,
    /// How the collector's own logs are written on stderr: `text` for people, `json` (one
    /// object per line) for log pipelines in production. Levels come from `EDGESCOPE_LOG`
    /// (`info` by default; `debug` adds one line per request).
    #[arg(long, env = "EDGESCOPE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// A backend the viewer may reach through `/upstream/NAME/…` on the UI port, as NAME=URL
    /// (for example `tempo=http://127.0.0.1:3200`); repeatable.
    #[arg(long = "upstream", env = "EDGESCOPE_UPSTREAMS", value_delimiter = ',', value_name = "NAME=URL")]
    upstreams: Vec<String>,
    /// A header the gateway adds to every request to an upstream, as `NAME=Header: value`
    /// (for example `tempo=Authorization: Bearer …`); repeatable; kept on the server.
    #[arg(
        long = "upstream-header",
        env = "EDGESCOPE_UPSTREAM_HEADERS",
        value_delimiter = '\n',
        hide_env_values = true,
        value_name = "NAME=HEADER: VALUE"
    )]
    upstream_headers: Vec<String>,
}

/// The smallest `--max-body-bytes`: below it not even a one-span export fits.
const MIN_BODY_BYTES: u64 = 1024;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("EDGESCOPE_LOG").unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        // Colours only on a terminal: a file or a service's journal would keep the escape codes.
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).init(),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let Command::Serve(args) = Cli::parse().command;
    let format = args.log_format;
    init_logging(format);
    match serve(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            match format {
                LogFormat::Json => tracing::error!(error = %e, "edgescope stopped"),
                LogFormat::Text => eprintln!("edgescope: {e}"),
            }
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // Everything is checked before the lines that say the collector serves.
    let mut upstreams = args.upstreams.iter().map(|u| Upstream::parse(u)).collect::<Result<Vec<_>, _>>()?;
    Upstream::check_names(&upstreams)?;
    for h in &args.upstream_headers {
        Upstream::add_header(&mut upstreams, h)?;
    }
    if let Some(dir) = &args.ui_dir {
        if !dir.is_dir() {
            return Err(format!("--ui-dir {}: no such directory (build the viewer first)", dir.display()).into());
        }
        if !dir.join("index.html").is_file() {
            tracing::warn!(ui_dir = %dir.display(), "no index.html in --ui-dir: viewer pages will answer 404");
        }
    }
    open_data_dir(&args.data_dir)?;
    let otlp =
        TcpListener::bind(args.otlp_addr).await.map_err(|e| format!("cannot listen on {}: {e}", args.otlp_addr))?;
    let ui = TcpListener::bind(args.ui_addr).await.map_err(|e| format!("cannot listen on {}: {e}", args.ui_addr))?;
    // Printed on stdout, one per line, so that scripts can wait for and parse them.
    println!("edgescope: OTLP receiver on http://{}", otlp.local_addr()?);
    println!("edgescope: viewer and query API on http://{}", ui.local_addr()?);
    tracing::info!(otlp = %otlp.local_addr()?, ui = %ui.local_addr()?, data_dir = %args.data_dir.display(), "serving");
    let settings = Settings {
        data_dir: args.data_dir,
        ui_dir: args.ui_dir,
        cors_origins: args.cors_origins,
        allowed_hosts: args.allowed_hosts,
        max_body_bytes: usize::try_from(args.max_body_bytes).unwrap_or(usize::MAX),
        retention: (args.retention_hours > 0).then(|| Duration::from_secs(args.retention_hours.saturating_mul(3600))),
        max_db_bytes: (args.max_db_mb > 0).then(|| args.max_db_mb.saturating_mul(1 << 20)),
        retention_interval: Duration::from_secs(60),
        ingest_token: args.ingest_token,
        query_token: args.query_token,
        max_pending_writes: usize::try_from(args.max_pending_writes).unwrap_or(usize::MAX),
        max_body_memory_bytes: usize::try_from(args.max_body_memory_mb.saturating_mul(1 << 20)).unwrap_or(usize::MAX),
        body_memory_wait: Duration::from_secs(1),
        upstreams,
        client_timeout: Duration::from_secs(args.client_timeout_secs),
    };
    run(otlp, ui, settings, shutdown_signal()).await
}

/// Resolves at SIGINT or SIGTERM. The handlers are in place when this returns, before the
/// servers answer (an async fn would install them at its first poll, which may come after the
/// first request is answered: a SIGTERM then would kill the process with no graceful stop).
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let int = signal(SignalKind::interrupt());
        let term = signal(SignalKind::terminate());
        async move {
            match (int, term) {
                (Ok(mut int), Ok(mut term)) => {
                    tokio::select! {
                        _ = int.recv() => {}
                        _ = term.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
            tracing::info!("shutting down");
        }
    }
    #[cfg(not(unix))]
    async move {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    }
}
