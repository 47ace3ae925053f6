use crate::support;

use serde_json::json;
use support::{get, seed, Collector};

#[tokio::test]
async fn each_service_lists_its_span_names_with_the_kind_jaeger_shows() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    seed(&collector, &["jaeger-integration-example_trace.json", "jaeger-memory-otel_traces_01.json"]).await;

    // example-operation-1 has no kind: Jaeger's HTTP gateway shows an unspecified kind as `internal`.
    let answer = get(collector.ui, "/api/v3/operations?service=example-service-1").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.json(),
        json!({ "operations": [
            { "name": "example-operation-1", "spanKind": "internal" },
            { "name": "example-operation-3", "spanKind": "server" },
            { "name": "example-operation-4", "spanKind": "client" },
        ] })
    );
    let answer = get(collector.ui, "/api/v3/operations?service=service-x").await;
    assert_eq!(
        answer.json(),
        json!({ "operations": [
            { "name": "test-general-conversion-2", "spanKind": "server" },
            { "name": "test-general-conversion-3", "spanKind": "client" },
            { "name": "test-general-conversion-4", "spanKind": "producer" },
            { "name": "test-general-conversion-5", "spanKind": "consumer" },
        ] })
    );

    let server = get(collector.ui, "/api/v3/operations?service=example-service-1&span_kind=server").await;
    assert_eq!(server.json(), json!({ "operations": [{ "name": "example-operation-3", "spanKind": "server" }] }));
    let client = get(collector.ui, "/api/v3/operations?service=example-service-1&spanKind=client").await;
    assert_eq!(client.json(), json!({ "operations": [{ "name": "example-operation-4", "spanKind": "client" }] }));
    let internal = get(collector.ui, "/api/v3/operations?service=example-service-1&span_kind=internal").await;
    assert_eq!(internal.json(), json!({ "operations": [{ "name": "example-operation-1", "spanKind": "internal" }] }));

    let unknown = get(collector.ui, "/api/v3/operations?service=nobody").await;
    assert_eq!((unknown.status, unknown.json()), (200, json!({ "operations": [] })));
    collector.stop().await;
}
