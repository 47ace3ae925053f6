use crate::support;

use edgescope_collector::Settings;
use support::{request, Collector};

async fn preflight(addr: std::net::SocketAddr, origin: &str) -> support::Response {
    request(
        addr,
        "OPTIONS",
        "/v1/traces",
        &[
            ("Origin", origin),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        b"",
    )
    .await
}

#[tokio::test]
async fn preflights_from_localhost_and_configured_origins_are_allowed_and_others_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        data_dir: dir.path().to_owned(),
        // As `EDGESCOPE_CORS_ORIGINS="https://app.example.com, https://b.example.com/"` splits:
        // entries are trimmed.
        cors_origins: vec!["https://app.example.com".into(), " https://b.example.com/".into()],
        ..Settings::default()
    };
    let collector = Collector::start_with(settings).await;
    for origin in ["http://localhost:5173", "http://127.0.0.1:8080", "https://app.example.com", "https://b.example.com"]
    {
        let answer = preflight(collector.otlp, origin).await;
        assert_eq!(answer.header("access-control-allow-origin"), Some(origin), "{origin}");
        assert!(answer.header("access-control-allow-headers").unwrap().contains("content-type"));
    }
    // The viewer of another collector asks the Loki API with Loki's categorized-labels header.
    let loki = request(
        collector.ui,
        "OPTIONS",
        "/loki/api/v1/query_range",
        &[
            ("Origin", "http://localhost:5173"),
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "x-loki-response-encoding-flags"),
        ],
        b"",
    )
    .await;
    assert_eq!(loki.header("access-control-allow-origin"), Some("http://localhost:5173"));
    let allowed = loki.header("access-control-allow-headers").unwrap_or_default().to_ascii_lowercase();
    assert!(allowed.contains("x-loki-response-encoding-flags"), "{allowed}");
    let refused = preflight(collector.otlp, "https://evil.example.net").await;
    assert_eq!(refused.header("access-control-allow-origin"), None);
    collector.stop().await;
}

#[tokio::test]
async fn a_page_of_another_origin_may_read_retry_after_from_an_export_answer() {
    // Retry-After is not a CORS-safelisted response header: without it listed in
    // Access-Control-Expose-Headers a page's SDK reads null and backs off on its own schedule.
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let answer = request(
        collector.otlp,
        "POST",
        "/v1/traces",
        &[("Origin", "http://localhost:5173"), ("Content-Type", "application/json")],
        b"{}",
    )
    .await;
    assert_eq!(answer.header("access-control-allow-origin"), Some("http://localhost:5173"));
    let exposed = answer.header("access-control-expose-headers").unwrap_or_default().to_ascii_lowercase();
    assert!(exposed.split(',').any(|h| h.trim() == "retry-after"), "exposed: {exposed:?}");
    collector.stop().await;
}
