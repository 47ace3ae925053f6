//! Names that clash, as Loki's labels builder settles them (pkg/logql/log/labels.go,
//! parser.go): a parsed label or structured metadata named like a stream label gets
//! `_extracted` appended, and a parsed label named like structured metadata replaces it.
use crate::support;

use serde_json::{json, Value};
use support::{encode, get, post_json, request, Collector};

const T0: u64 = 1_000_000_000_000_000_000;
const S: u64 = 1_000_000_000;

async fn streams(collector: &Collector, query: &str, categorize: bool) -> Value {
    let path = format!("/loki/api/v1/query_range?query={}&start={T0}&end={}", encode(query), T0 + 60 * S);
    let headers: &[(&str, &str)] =
        if categorize { &[("X-Loki-Response-Encoding-Flags", "categorize-labels")] } else { &[] };
    let answer = request(collector.ui, "GET", &path, headers, b"").await;
    assert_eq!(answer.status, 200, "{query}: {}", answer.body);
    answer.json()["data"]["result"].clone()
}

#[tokio::test]
async fn parsed_labels_and_metadata_named_like_other_labels_are_renamed_or_replace_as_in_loki() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let record = json!({
        "timeUnixNano": (T0 + S).to_string(),
        "body": { "stringValue": r#"{"user":"bob","level":"warn"}"# },
        "attributes": [
            { "key": "user", "value": { "stringValue": "ann" } },
            { "key": "service.name", "value": { "stringValue": "other" } },
        ],
    });
    let body = json!({ "resourceLogs": [{
        "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": "api" } }] },
        "scopeLogs": [{ "logRecords": [record] }],
    }] })
    .to_string();
    assert_eq!(post_json(collector.otlp, "/v1/logs", &body).await.status, 200);

    // Metadata named like the stream label `service_name` is kept as `service_name_extracted`;
    // before a parser, `user` is the metadata's.
    let result =
        streams(&collector, r#"{service_name="api"} | user="ann" | service_name_extracted="other""#, false).await;
    assert_eq!(
        result[0]["stream"],
        json!({ "service_name": "api", "level": "unknown", "service_name_extracted": "other", "user": "ann" }),
        "{result}"
    );

    // The parsed `level` is renamed (a stream label has the name); the parsed `user` replaces
    // the metadata's, so filters see bob and the answer has no `user_extracted`.
    let query = r#"{service_name="api"} | json | user="bob" | level_extracted="warn""#;
    let result = streams(&collector, query, false).await;
    assert_eq!(
        result[0]["stream"],
        json!({
            "service_name": "api", "level": "unknown", "service_name_extracted": "other",
            "user": "bob", "level_extracted": "warn",
        }),
        "{result}"
    );
    let result = streams(&collector, query, true).await;
    assert_eq!(result[0]["stream"], json!({ "service_name": "api", "level": "unknown" }), "{result}");
    assert_eq!(
        result[0]["values"][0][2],
        json!({
            "structuredMetadata": { "service_name_extracted": "other" },
            "parsed": { "user": "bob", "level_extracted": "warn" },
        }),
        "{result}"
    );
    assert_eq!(streams(&collector, r#"{service_name="api"} | json | user="ann""#, false).await, json!([]));
    let path = format!(
        "/loki/api/v1/query_range?query={}&start={T0}&end={}",
        encode(r#"{service_name="api"} | json | user_extracted="bob""#),
        T0 + 60 * S
    );
    assert_eq!(get(collector.ui, &path).await.json()["data"]["result"], json!([]));

    // `| label_format` sets what it renames as a parsed label (Loki 3's `Set(ParsedLabel, …)`),
    // so categorized answers show it under `parsed`, and the old name is gone from where it was.
    let result = streams(&collector, r#"{service_name="api"} | label_format who=user, lvl=level"#, true).await;
    assert_eq!(result[0]["stream"], json!({ "service_name": "api" }), "{result}");
    assert_eq!(
        result[0]["values"][0][2],
        json!({
            "structuredMetadata": { "service_name_extracted": "other" },
            "parsed": { "who": "ann", "lvl": "unknown" },
        }),
        "{result}"
    );
    collector.stop().await;
}

#[tokio::test]
async fn metadata_written_twice_under_one_name_keeps_the_last_value_as_loki_sets_it() {
    // Loki's OTLP ingestion writes a record's attributes, then its fields, then the resource's
    // attributes, then the scope's name; its labels builder sets each name again (`Set`), so
    // the last one written is the value.
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let string = |k: &str, v: &str| json!({ "key": k, "value": { "stringValue": v } });
    let record = json!({
        "timeUnixNano": (T0 + S).to_string(),
        "severityText": "WARN",
        "body": { "stringValue": "x" },
        "attributes": [
            string("a.b", "dots"), string("a_b", "underscore"), string("host", "record"),
            string("severity_text", "attribute"), string("scope_name", "attribute"),
        ],
    });
    let body = json!({ "resourceLogs": [{
        "resource": { "attributes": [string("service.name", "api"), string("host", "resource")] },
        "scopeLogs": [{ "scope": { "name": "lib" }, "logRecords": [record] }],
    }] })
    .to_string();
    assert_eq!(post_json(collector.otlp, "/v1/logs", &body).await.status, 200);
    let want = json!({
        "a_b": "underscore", "host": "resource", "severity_text": "WARN", "scope_name": "lib",
    });
    let query =
        r#"{service_name="api"} | a_b="underscore" | host="resource" | severity_text="WARN" | scope_name="lib""#;
    let result = streams(&collector, query, true).await;
    assert_eq!(result[0]["values"][0][2]["structuredMetadata"], want, "{result}");
    let result = streams(&collector, query, false).await;
    assert_eq!(
        result[0]["stream"],
        json!({ "service_name": "api", "level": "warn", "a_b": "underscore", "host": "resource", "severity_text": "WARN", "scope_name": "lib" }),
        "{result}"
    );
    let path = format!(
        "/loki/api/v1/query_range?query={}&start={}&end={}&step=60",
        encode(r#"sum by (a_b, host) (count_over_time({service_name="api"}[1m]))"#),
        T0 + 60 * S,
        T0 + 60 * S
    );
    let answer = get(collector.ui, &path).await;
    assert_eq!(answer.json()["data"]["result"][0]["metric"], json!({ "a_b": "underscore", "host": "resource" }));
    collector.stop().await;
}
