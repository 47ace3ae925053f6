//! Grafana's Jaeger data source, with the `jaegerBackendMigration` toggle, searches at
//! `/api/traces` whatever the data source URL's path (`pkg/tsdb/jaeger/client.go`, `Search`, sets
//! `jaegerURL.Path = "/api/traces"`), so the `/jaeger` prefix is lost. It reads `data` from
//! Jaeger's envelope. `/api/traces` answers a Jaeger search in Jaeger's shape, and the
//! collector's own list to everyone else, other Grafana data sources (Infinity, JSON API) included.
use crate::support;

use serde_json::json;
use support::{get, post_json, request, Collector};

#[tokio::test]
async fn api_traces_answers_grafanas_jaeger_search_in_jaegers_shape_and_everyone_else_in_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let body = json!({ "resourceSpans": [{
        "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": "shop" } }] },
        "scopeSpans": [{ "spans": [{
            "traceId": "0102030405060708090a0b0c0d0e0f10", "spanId": "0102030405060708", "name": "GET /cart",
            "startTimeUnixNano": now.to_string(), "endTimeUnixNano": (now + 1_000_000).to_string()
        }] }]
    }] });
    assert_eq!(post_json(collector.otlp, "/v1/traces", &body.to_string()).await.status, 200);
    let jaeger = get(collector.ui, "/jaeger/api/traces?limit=20&service=shop").await.json();
    assert_eq!(jaeger["data"].as_array().unwrap().len(), 1, "{jaeger}");

    // What Grafana's Jaeger data source sends (a Go `http.Client.Get`): its user agent, Go's
    // Accept-Encoding, no Accept, and only the parameters the query names.
    let grafana = [("User-Agent", "Grafana/11.3.0"), ("Accept-Encoding", "gzip")];
    let answer = request(collector.ui, "GET", "/api/traces?limit=20&service=shop", &grafana, b"").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json(), jaeger, "Grafana's Jaeger data source gets Jaeger's answer");
    // Behind a proxy (an ingress, an egress proxy) that adds X-Forwarded-For, the same.
    let proxied = [("User-Agent", "Grafana/11.3.0"), ("Accept-Encoding", "gzip"), ("X-Forwarded-For", "10.0.0.7")];
    let answer = request(collector.ui, "GET", "/api/traces?limit=20&service=shop", &proxied, b"").await;
    assert_eq!(answer.json(), jaeger, "Grafana's Jaeger data source behind a proxy");

    // Other Grafana data sources reading the collector's own list, with Grafana's user agent:
    // Infinity (its JSON Accept header), a JSON API data source through Grafana's data proxy (which
    // passes on the browser's Accept, and adds X-Forwarded-For), and a query naming a parameter no
    // Jaeger search has.
    let infinity = [
        ("User-Agent", "Grafana/11.3.0"),
        ("Accept", "application/json;q=0.9,text/plain"),
        ("Accept-Encoding", "gzip"),
    ];
    let data_proxy = [("User-Agent", "Grafana/11.3.0"), ("Accept", "*/*"), ("X-Forwarded-For", "10.0.0.7")];
    let browser_accept = [("User-Agent", "Grafana/11.3.0"), ("Accept", "application/json, text/plain, */*")];
    for (path, headers) in [
        ("/api/traces?limit=20&service=shop", &infinity[..]),
        ("/api/traces?limit=20&service=shop", &data_proxy[..]),
        ("/api/traces?limit=20&service=shop", &browser_accept[..]),
        ("/api/traces?limit=20&service=shop&orgId=1", &grafana[..]),
    ] {
        let own = request(collector.ui, "GET", path, headers, b"").await;
        assert_eq!(own.status, 200, "{headers:?}: {}", own.body);
        let own = own.json();
        assert_eq!(own.as_object().unwrap().keys().collect::<Vec<_>>(), ["traces"], "{path} {headers:?}: {own}");
        assert_eq!(own["traces"][0]["traceId"], "0102030405060708090a0b0c0d0e0f10");
    }
    // Parameters only Jaeger's search has make it a Jaeger search, whoever asks.
    for query in [
        "service=shop&operation=GET%20%2Fcart&limit=20",
        "service=shop&minDuration=1ms&limit=20",
        "service=shop&tags=%7B%7D&limit=20",
        &format!("service=shop&start={}&end={}&limit=20", now / 1000 - 60_000_000, now / 1000 + 60_000_000),
    ] {
        let answer = get(collector.ui, &format!("/api/traces?{query}")).await;
        assert_eq!(answer.status, 200, "{query}: {}", answer.body);
        assert_eq!(answer.json()["data"][0]["spans"][0]["operationName"], "GET /cart", "{query}");
    }
    // A Jaeger search that cannot be read gets Jaeger's 400.
    let answer = get(collector.ui, "/api/traces?operation=x").await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.json()["errors"][0]["msg"], "parameter 'service' is required");

    // Everyone else keeps the collector's own list.
    for (path, headers) in
        [("/api/traces?limit=20&service=shop", &[][..]), ("/api/traces", &[("User-Agent", "node")][..])]
    {
        let own = request(collector.ui, "GET", path, headers, b"").await.json();
        assert_eq!(own.as_object().unwrap().keys().collect::<Vec<_>>(), ["traces"], "{path}: {own}");
        assert_eq!(own["traces"][0]["traceId"], "0102030405060708090a0b0c0d0e0f10", "{path}");
    }
    collector.stop().await;
}
