use crate::support;

use edgescope_collector::Settings;
use support::{fixture, get, request, Collector};

const JSON: (&str, &str) = ("Content-Type", "application/json");
const PROTOBUF: (&str, &str) = ("Content-Type", "application/x-protobuf");

#[tokio::test]
async fn exports_without_the_right_bearer_token_get_401_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let settings =
        Settings { data_dir: dir.path().to_owned(), ingest_token: Some("s3cret".into()), ..Settings::default() };
    let collector = Collector::start_with(settings).await;
    let body = fixture("otlp-proto-trace.json");

    let missing = request(collector.otlp, "POST", "/v1/traces", &[JSON], body.as_bytes()).await;
    assert_eq!(missing.status, 401, "{}", missing.body);
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
    assert_eq!(missing.json()["code"], 16, "google.rpc.Status UNAUTHENTICATED");
    assert!(missing.json()["message"].as_str().unwrap().contains("Authorization: Bearer"));

    for auth in ["Bearer s3creT", "Bearer s3cre", "Basic czNjcmV0", "s3cret"] {
        let answer =
            request(collector.otlp, "POST", "/v1/logs", &[JSON, ("Authorization", auth)], b"{\"resourceLogs\":[]}")
                .await;
        assert_eq!(answer.status, 401, "{auth}");
        assert!(answer.header("www-authenticate").unwrap().starts_with("Bearer"), "{auth}");
    }
    let wrong =
        request(collector.ui, "POST", "/v1/traces", &[JSON, ("Authorization", "Bearer nope")], body.as_bytes()).await;
    assert_eq!(wrong.status, 401, "the UI port's ingest routes are guarded too");
    assert_eq!(wrong.header("www-authenticate"), Some("Bearer error=\"invalid_token\""));

    let protobuf = request(collector.otlp, "POST", "/v1/traces", &[PROTOBUF], b"").await;
    assert_eq!(protobuf.status, 401);
    assert_eq!(protobuf.header("content-type"), Some("application/x-protobuf"), "the request's encoding");

    assert_eq!(get(collector.ui, "/api/traces").await.json()["traces"], serde_json::json!([]), "nothing stored");
    let ok =
        request(collector.otlp, "POST", "/v1/traces", &[JSON, ("Authorization", "bearer s3cret")], body.as_bytes())
            .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(get(collector.ui, "/api/traces").await.json()["traces"].as_array().unwrap().len(), 1);
    collector.stop().await;
}

#[tokio::test]
async fn browser_preflights_pass_without_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let settings =
        Settings { data_dir: dir.path().to_owned(), ingest_token: Some("s3cret".into()), ..Settings::default() };
    let collector = Collector::start_with(settings).await;
    let preflight = [
        ("Origin", "http://localhost:5173"),
        ("Access-Control-Request-Method", "POST"),
        ("Access-Control-Request-Headers", "authorization,content-type"),
    ];
    let answer = request(collector.otlp, "OPTIONS", "/v1/traces", &preflight, b"").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("access-control-allow-origin"), Some("http://localhost:5173"));
    assert!(answer.header("access-control-allow-headers").unwrap().contains("authorization"));
    collector.stop().await;
}
