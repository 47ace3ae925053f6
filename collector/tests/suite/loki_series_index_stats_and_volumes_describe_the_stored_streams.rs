//! Loki's `series`, `index/stats`, `index/volume` and `index/volume_range`: what Grafana's label
//! browser, query statistics and log volumes read, checked against figures counted here.
use crate::support;

use serde_json::{json, Value};
use support::{encode, get, post_json, Collector};

const T0: u64 = 1_000_000_000_000_000_000;
const S: u64 = 1_000_000_000;

fn batch(service: &str, env: &str, records: &[(u64, i32, &str)]) -> String {
    let records: Vec<Value> = records
        .iter()
        .map(|(t, severity, body)| {
            json!({ "timeUnixNano": t.to_string(), "severityNumber": severity, "body": { "stringValue": body } })
        })
        .collect();
    json!({ "resourceLogs": [{
        "resource": { "attributes": [
            { "key": "service.name", "value": { "stringValue": service } },
            { "key": "deployment.environment.name", "value": { "stringValue": env } },
        ] },
        "scopeLogs": [{ "logRecords": records }],
    }] })
    .to_string()
}

async fn ask(collector: &Collector, path: &str, params: &[(&str, &str)]) -> (u16, String) {
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
    let answer = get(collector.ui, &format!("{path}?{}", query.join("&"))).await;
    (answer.status, answer.body)
}

async fn json_of(collector: &Collector, path: &str, params: &[(&str, &str)]) -> Value {
    let (status, body) = ask(collector, path, params).await;
    assert_eq!(status, 200, "{path} {params:?}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// `(labels as "k=v,…", value)` of a vector answer, in answer order.
fn vector(body: &Value) -> Vec<(String, String)> {
    assert_eq!(body["data"]["resultType"], "vector", "{body}");
    body["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let labels = s["metric"].as_object().unwrap().iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap()));
            (labels.collect::<Vec<_>>().join(","), s["value"][1].as_str().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn streams_are_listed_counted_and_weighed() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    // Lines of 10, 20, 5 and 7 bytes.
    let web_prod = batch("web", "prod", &[(T0 + S, 9, "aaaaaaaaaa"), (T0 + 70 * S, 9, "bbbbbbbbbbbbbbbbbbbb")]);
    let web_dev = batch("web", "dev", &[(T0 + 2 * S, 17, "ccccc")]);
    let api_prod = batch("api", "prod", &[(T0 + 3 * S, 9, "ddddddd")]);
    for body in [web_prod, web_dev, api_prod] {
        assert_eq!(post_json(collector.otlp, "/v1/logs", &body).await.status, 200);
    }
    let (start, end) = ((T0).to_string(), (T0 + 120 * S).to_string());
    let window = [("start", start.as_str()), ("end", end.as_str())];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&str, &str)> {
        window.iter().copied().chain(extra.iter().copied()).collect()
    };

    // series: the label sets a selector picks, each once.
    let body = json_of(&collector, "/loki/api/v1/series", &with(&[("match[]", r#"{service_name="web"}"#)])).await;
    assert_eq!(body["status"], "success");
    assert_eq!(
        body["data"],
        json!([
            { "deployment_environment_name": "dev", "level": "error", "service_name": "web" },
            { "deployment_environment_name": "prod", "level": "info", "service_name": "web" },
        ])
    );
    let both = with(&[("match[]", r#"{service_name="web", level="error"}"#), ("match[]", r#"{service_name="api"}"#)]);
    let body = json_of(&collector, "/loki/api/v1/series", &both).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 2, "{body}");
    // Loki reads `match` as well as Prometheus's `match[]`; no selector, or one `{}`, is every stream.
    let body = json_of(&collector, "/loki/api/v1/series", &with(&[("match", r#"{service_name="api"}"#)])).await;
    assert_eq!(
        body["data"],
        json!([{ "deployment_environment_name": "prod", "level": "info", "service_name": "api" }])
    );
    for every in [with(&[]), with(&[("match[]", "{}")]), with(&[("match", "{ }")])] {
        let body = json_of(&collector, "/loki/api/v1/series", &every).await;
        assert_eq!(body["data"].as_array().unwrap().len(), 3, "{every:?}: {body}");
    }
    for (params, message) in [
        (with(&[("match[]", r#"{service_name="web"} |= "x""#)]), "takes a stream selector only"),
        (with(&[("match[]", "{}"), ("match[]", r#"{service_name="web"}"#)]), "at least one matcher"),
    ] {
        let (status, text) = ask(&collector, "/loki/api/v1/series", &params).await;
        assert_eq!(status, 400);
        assert!(text.contains(message), "{text}");
    }

    // index/stats: streams, entries and bytes of lines.
    let body = json_of(&collector, "/loki/api/v1/index/stats", &with(&[("query", r#"{service_name="web"}"#)])).await;
    assert_eq!(body, json!({ "streams": 2, "chunks": 2, "entries": 3, "bytes": 35 }));
    let body = json_of(&collector, "/loki/api/v1/index/stats", &with(&[("query", r#"{service_name="none"}"#)])).await;
    assert_eq!(body, json!({ "streams": 0, "chunks": 0, "entries": 0, "bytes": 0 }));

    // index/volume: bytes per value of the labels the selector names, largest first.
    let body = json_of(&collector, "/loki/api/v1/index/volume", &with(&[("query", r#"{service_name=~".+"}"#)])).await;
    assert_eq!(
        vector(&body),
        [("service_name=web".to_owned(), "35".to_owned()), ("service_name=api".to_owned(), "7".to_owned())]
    );
    let by_level = with(&[("query", r#"{service_name=~".+"}"#), ("targetLabels", "level")]);
    let body = json_of(&collector, "/loki/api/v1/index/volume", &by_level).await;
    assert_eq!(vector(&body), [("level=info".to_owned(), "37".to_owned()), ("level=error".to_owned(), "5".to_owned())]);
    let names = with(&[("query", r#"{service_name="web", level=~".+"}"#), ("aggregateBy", "labels")]);
    let body = json_of(&collector, "/loki/api/v1/index/volume", &names).await;
    assert_eq!(vector(&body), [("level=".to_owned(), "35".to_owned()), ("service_name=".to_owned(), "35".to_owned())]);
    let one = with(&[("query", r#"{service_name=~".+"}"#), ("limit", "1")]);
    assert_eq!(vector(&json_of(&collector, "/loki/api/v1/index/volume", &one).await).len(), 1);

    // index/volume_range: the same per step; a step is the bytes in (t - step, t].
    let range = with(&[("query", r#"{service_name="web"}"#), ("step", "60")]);
    let body = json_of(&collector, "/loki/api/v1/index/volume_range", &range).await;
    assert_eq!(body["data"]["resultType"], "matrix");
    let t = |s: u64| ((T0 + s * S) / S) as i64;
    assert_eq!(
        support::matrix(&body),
        [("service_name=web".to_owned(), vec![(t(60), "15".to_owned()), (t(120), "20".to_owned())])]
    );
    let (status, text) = ask(&collector, "/loki/api/v1/index/volume", &with(&[("query", "{}")])).await;
    assert_eq!(status, 400, "{text}");
    collector.stop().await;
}
