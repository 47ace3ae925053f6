use crate::support;

use edgescope_collector::Settings;
use support::{fixture, get, post_json, request, Collector};

#[tokio::test]
async fn query_routes_without_the_right_bearer_token_get_401_in_the_jaeger_shape() {
    let dir = tempfile::tempdir().unwrap();
    let ui_dir = tempfile::tempdir().unwrap();
    std::fs::write(ui_dir.path().join("index.html"), "<title>viewer</title>").unwrap();
    let settings = Settings {
        data_dir: dir.path().to_owned(),
        ui_dir: Some(ui_dir.path().to_owned()),
        query_token: Some("q-token".into()),
        ..Settings::default()
    };
    let collector = Collector::start_with(settings).await;
    assert_eq!(post_json(collector.otlp, "/v1/traces", &fixture("otlp-proto-trace.json")).await.status, 200);

    for path in ["/api/traces", "/api/v3/services", "/api/v3/traces/5b8efff798038103d269b633813fc60c", "/api/logs"] {
        let answer = get(collector.ui, path).await;
        assert_eq!(answer.status, 401, "{path}");
        assert_eq!(answer.header("www-authenticate"), Some("Bearer"), "{path}");
        assert_eq!(answer.json()["error"]["httpCode"], 401, "{path}: {}", answer.body);
        let wrong = request(collector.ui, "GET", path, &[("Authorization", "Bearer q-tokeN")], b"").await;
        assert_eq!(wrong.status, 401, "{path}");
    }
    let auth = [("Authorization", "Bearer q-token")];
    let traces = request(collector.ui, "GET", "/api/traces", &auth, b"").await;
    assert_eq!(traces.status, 200);
    assert_eq!(traces.json()["traces"].as_array().unwrap().len(), 1);
    let services = request(collector.ui, "GET", "/api/v3/services", &auth, b"").await;
    assert_eq!(services.status, 200, "{}", services.body);

    let health = get(collector.ui, "/health").await;
    assert_eq!((health.status, health.body.as_str()), (200, "ok"));
    let page = get(collector.ui, "/trace/5b8efff798038103d269b633813fc60c").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<title>viewer</title>"));

    let preflight = [("Origin", "http://127.0.0.1:8080"), ("Access-Control-Request-Method", "GET")];
    let answer = request(collector.ui, "OPTIONS", "/api/traces", &preflight, b"").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("access-control-allow-origin"), Some("http://127.0.0.1:8080"));
    collector.stop().await;
}
