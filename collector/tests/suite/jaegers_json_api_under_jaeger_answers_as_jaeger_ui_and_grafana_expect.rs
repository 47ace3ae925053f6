//! Jaeger's older JSON API under `/jaeger/api/…`, which Grafana's Jaeger data source and Jaeger
//! UI call. Spans posted as OTLP come back in Jaeger's model; the expected conversion of one
//! fixture is Jaeger UI's own (`jaeger-ui-oltp2jaeger-multi-out.json`), and the tags Jaeger's
//! query service writes for the other are checked as it writes them.
use crate::support;

use std::collections::BTreeMap;

use serde_json::{json, Value};
use support::{encode, fixture, get, seed, Collector};

async fn jaeger(collector: &Collector, path: &str, params: &[(&str, &str)]) -> support::Response {
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
    get(collector.ui, &format!("/jaeger/api/{path}?{}", query.join("&"))).await
}

/// A span's fields that both conversions must agree on, with the tags that carry the span's
/// own attributes and the process that carries its resource.
fn essentials(span: &Value, processes: &Value) -> Value {
    let process = span.get("process").unwrap_or_else(|| &processes[span["processID"].as_str().unwrap()]);
    let tags: Vec<&Value> = span["tags"]
        .as_array()
        .unwrap()
        .iter()
        // Jaeger UI names the scope `otel.library.*`; the query service writes `otel.scope.*`.
        // Both write an internal kind, as OpenTelemetry's Jaeger translator does.
        .filter(|t| {
            !t["key"].as_str().unwrap().starts_with("otel.library.")
                && !t["key"].as_str().unwrap().starts_with("otel.scope.")
        })
        .collect();
    let references: Vec<Value> = span["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| json!({ "refType": r["refType"], "traceID": r["traceID"], "spanID": r["spanID"] }))
        .collect();
    json!({
        "traceID": span["traceID"],
        "operationName": span["operationName"],
        "references": references,
        "startTime": span["startTime"],
        "duration": span["duration"],
        "tags": tags,
        "logs": span["logs"],
        "process": process,
    })
}

fn by_span_id(trace: &Value) -> BTreeMap<String, Value> {
    trace["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["spanID"].as_str().unwrap().to_owned(), essentials(s, &trace["processes"])))
        .collect()
}

#[tokio::test]
async fn traces_services_and_operations_come_back_in_jaegers_model() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    seed(&collector, &["jaeger-ui-otlp2jaeger-multi-in-combined.json", "jaeger-query-otlp2jaeger-in.json"]).await;

    // Grafana's "Save & test" reads the services.
    let services = jaeger(&collector, "services", &[]).await;
    assert_eq!(services.status, 200, "{}", services.body);
    let services = services.json();
    let names: Vec<&str> = services["data"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert!(names.contains(&"example-trace") && names.contains(&"telemetrygen"), "{names:?}");
    assert_eq!(services["total"], names.len());
    assert_eq!(services["errors"], Value::Null);

    let operations = jaeger(&collector, "services/example-trace/operations", &[]).await.json();
    assert_eq!(operations["data"], json!(["info", "main", "ohboy.do"]));
    let with_kind =
        jaeger(&collector, "operations", &[("service", "telemetrygen"), ("spanKind", "server")]).await.json();
    assert_eq!(with_kind["data"], json!([{ "name": "okey-dokey-0", "spanKind": "server" }]));
    let no_client =
        jaeger(&collector, "operations", &[("service", "telemetrygen"), ("spanKind", "client")]).await.json();
    assert_eq!(no_client["data"], json!([]));

    // The trace by id, against Jaeger UI's own conversion of the same OTLP.
    let expected: Value = serde_json::from_str(&fixture("jaeger-ui-oltp2jaeger-multi-out.json")).unwrap();
    let expected = &expected["data"][0];
    let id = expected["traceID"].as_str().unwrap();
    let answer = get(collector.ui, &format!("/jaeger/api/traces/{id}")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["errors"], Value::Null);
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    let got = &body["data"][0];
    assert_eq!(got["traceID"], id);
    assert_eq!(by_span_id(got), by_span_id(expected));
    // Four resources with the same service and tags are one process.
    assert_eq!(got["processes"].as_object().unwrap().len(), 1, "{}", got["processes"]);
    let ohboy = got["spans"].as_array().unwrap().iter().find(|s| s["spanID"] == "26f5ef9dbb885479").unwrap();
    assert_eq!(
        ohboy["tags"],
        json!([
            { "key": "otel.scope.name", "type": "string", "value": "ohboy" },
            { "key": "span.kind", "type": "string", "value": "internal" },
        ])
    );

    // The search Grafana sends: service, operation, times in microseconds, limit.
    let found = jaeger(
        &collector,
        "traces",
        &[
            ("service", "example-trace"),
            ("operation", "info"),
            ("start", "1711138000000000"),
            ("end", "1711139000000000"),
            ("minDuration", "100ms"),
            ("limit", "20"),
            ("lookback", "custom"),
        ],
    )
    .await;
    assert_eq!(found.status, 200, "{}", found.body);
    let found = found.json();
    let traces = found["data"].as_array().unwrap();
    assert_eq!(traces.len(), 1);
    assert_eq!(traces[0]["traceID"], id);
    assert_eq!(traces[0]["spans"].as_array().unwrap().len(), 4, "the whole trace, not only the matching span");
    let too_long = jaeger(
        &collector,
        "traces",
        &[("service", "example-trace"), ("start", "1711138000000000"), ("minDuration", "1s")],
    )
    .await;
    assert_eq!(too_long.json()["data"], json!([]), "no span of it lasts a second");

    // Tags as Jaeger's query service writes them for a server span: the scope first, then the
    // attributes, then the kind.
    let telemetrygen =
        jaeger(&collector, "traces", &[("traceID", "83a9efd15c1c98a977e0711cc93ee28b"), ("traceID", "1234")])
            .await
            .json();
    let span = &telemetrygen["data"][0]["spans"][0];
    assert_eq!(
        span["references"],
        json!([{ "refType": "CHILD_OF", "traceID": "83a9efd15c1c98a977e0711cc93ee28b", "spanID": "909541b92cf05311" }])
    );
    assert_eq!(span["startTime"], 1_706_678_909_209_712u64);
    assert_eq!(span["duration"], 123);
    assert_eq!(
        span["tags"],
        json!([
            { "key": "otel.scope.name", "type": "string", "value": "telemetrygen" },
            { "key": "net.peer.ip", "type": "string", "value": "1.2.3.4" },
            { "key": "peer.service", "type": "string", "value": "telemetrygen-client" },
            { "key": "span.kind", "type": "string", "value": "server" },
        ])
    );
    assert_eq!(telemetrygen["data"][0]["processes"]["p1"], json!({ "serviceName": "telemetrygen", "tags": [] }));
    // An id that is not stored is named in `errors`, beside the traces that are.
    assert_eq!(
        telemetrygen["errors"],
        json!([{ "code": 404, "msg": "trace not found", "traceID": "00000000000000000000000000001234" }])
    );

    collector.stop().await;
}

#[tokio::test]
async fn bad_requests_get_jaegers_error_shape() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;

    let missing = get(collector.ui, "/jaeger/api/traces/0af7651916cd43dd8448eb211c80319c").await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.json(),
        json!({ "data": null, "total": 0, "limit": 0, "offset": 0, "errors": [{ "code": 404, "msg": "trace not found" }] })
    );
    for (path, message) in [
        ("/jaeger/api/traces/not-an-id", "cannot parse traceID param"),
        ("/jaeger/api/traces", "parameter 'service' is required"),
        ("/jaeger/api/traces?service=a&start=yesterday", "unable to parse param 'start'"),
        (
            "/jaeger/api/traces?service=a&minDuration=2s&maxDuration=1s",
            "'maxDuration' should be greater than 'minDuration'",
        ),
        ("/jaeger/api/traces?service=a&tag=nocolon", "malformed 'tag' parameter"),
        ("/jaeger/api/operations", "parameter 'service' is required"),
    ] {
        let answer = get(collector.ui, path).await;
        assert_eq!(answer.status, 400, "{path}: {}", answer.body);
        let body = answer.json();
        assert_eq!(body["errors"][0]["code"], 400, "{path}");
        assert!(body["errors"][0]["msg"].as_str().unwrap().contains(message), "{path}: {body}");
    }
    // The collector's own `/api/traces` keeps its shape.
    let own = get(collector.ui, "/api/traces?limit=5").await;
    assert_eq!(own.json(), json!({ "traces": [] }));
    collector.stop().await;
}
