//! A path under `/api/`, `/jaeger/api/`, `/loki/api/` or `/v1/` that no route serves is a `404`
//! (a `405` for a method its route does not take) in that API's error shape; only other paths
//! fall back to the viewer's index.html (its deep links).

use crate::support;

use edgescope_collector::Settings;
use support::{get, request, Collector};

async fn start() -> (Collector, tempfile::TempDir, tempfile::TempDir) {
    let (data, ui) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    std::fs::write(ui.path().join("index.html"), "<title>viewer</title>").unwrap();
    let settings =
        Settings { data_dir: data.path().to_owned(), ui_dir: Some(ui.path().to_owned()), ..Settings::default() };
    (Collector::start_with(settings).await, data, ui)
}

#[tokio::test]
async fn unknown_api_paths_are_404s_in_the_shape_of_their_api() {
    let (c, _data, _ui) = start().await;
    for path in ["/loki/api/v1/format_query", "/loki/api/v1/rules", "/loki/api/v1/push"] {
        let answer = get(c.ui, path).await;
        assert_eq!(answer.status, 404, "{path}: {}", answer.body);
        assert!(answer.header("content-type").unwrap().starts_with("text/plain"), "{path}");
        assert!(!answer.body.contains("viewer"), "{path}: {}", answer.body);
    }
    let answer = get(c.ui, "/api/nonexistent").await;
    assert_eq!(answer.status, 404, "{}", answer.body);
    assert_eq!(answer.json()["error"]["httpCode"], 404, "{}", answer.body);

    let answer = get(c.ui, "/jaeger/api/x").await;
    assert_eq!(answer.status, 404, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["data"], serde_json::Value::Null, "{body}");
    assert_eq!(body["errors"][0]["code"], 404, "{body}");

    let answer = get(c.otlp, "/v1/metrics").await;
    assert_eq!(answer.status, 404, "{}", answer.body);
    assert!(answer.json()["message"].as_str().unwrap().contains("/v1/metrics"), "{}", answer.body);

    // A known path with a method it does not take.
    let answer = request(c.ui, "POST", "/api/traces", &[], b"").await;
    assert_eq!(answer.status, 405, "{}", answer.body);
    assert_eq!(answer.json()["error"]["httpCode"], 405, "{}", answer.body);
    let answer = request(c.ui, "DELETE", "/loki/api/v1/labels", &[], b"").await;
    assert_eq!(answer.status, 405, "{}", answer.body);
    let answer = get(c.otlp, "/v1/traces").await;
    assert_eq!(answer.status, 405, "{}", answer.body);
    assert_eq!(answer.json()["code"], 12, "{}", answer.body);

    // A protobuf sender (an SDK exporting metrics here, or a wrong method) gets its failure in
    // protobuf, as OTLP/HTTP asks of every failure.
    const PROTOBUF: (&str, &str) = ("Content-Type", "application/x-protobuf");
    let answer = request(c.otlp, "POST", "/v1/metrics", &[PROTOBUF], b"").await;
    assert_eq!(answer.status, 404, "{}", answer.body);
    assert_eq!(answer.header("content-type"), Some("application/x-protobuf"));
    assert_eq!(answer.bytes, edgescope_otlp::proto::encode_status(5, "no such API path: /v1/metrics"));
    let answer = request(c.otlp, "PUT", "/v1/traces", &[PROTOBUF], b"").await;
    assert_eq!(answer.status, 405, "{}", answer.body);
    assert_eq!(answer.header("content-type"), Some("application/x-protobuf"));
    assert_eq!(answer.bytes, edgescope_otlp::proto::encode_status(12, "method PUT is not allowed for /v1/traces"));

    // Viewer routes still get the viewer, asked for again by the browser after an upgrade (its
    // files keep their names) and taken as the type they are served as.
    for path in ["/trace/0af7651916cd43dd8448eb211c80319c", "/index.html", "/"] {
        let answer = get(c.ui, path).await;
        assert_eq!(answer.status, 200, "{path}");
        assert!(answer.body.contains("viewer"), "{path}");
        assert_eq!(answer.header("cache-control"), Some("no-cache"), "{path}");
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"), "{path}");
    }
    c.stop().await;
}

#[tokio::test]
async fn lokis_buildinfo_answers_a_version_grafana_reads() {
    let (c, _data, _ui) = start().await;
    let answer = get(c.ui, "/loki/api/v1/status/buildinfo").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    let version = body["version"].as_str().unwrap();
    let parts: Vec<u32> = version.split('.').map(|p| p.parse().unwrap()).collect();
    assert!(parts.len() == 3 && parts[0] >= 3, "{body}");
    assert!(body["revision"].as_str().unwrap().contains("edgescope"), "{body}");
    c.stop().await;
}

#[tokio::test]
async fn a_directory_asked_for_with_two_slashes_is_never_redirected_to_another_host() {
    let (c, _data, ui) = start().await;
    std::fs::create_dir(ui.path().join("evil.example")).unwrap();
    std::fs::write(ui.path().join("evil.example").join("a.js"), "ok").unwrap();
    // ServeDir redirects a directory to its path with a `/` after it: `//evil.example/` would send
    // the browser to the host evil.example.
    let answer = get(c.ui, "//evil.example").await;
    let location = answer.header("location").unwrap_or("").to_owned();
    assert!(!location.starts_with("//"), "{} redirected to {location}", answer.status);
    assert_eq!((answer.status, location.as_str()), (307, "/evil.example/"));
    let answer = get(c.ui, "//evil.example//a.js?v=1").await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "ok"));
    c.stop().await;
}
