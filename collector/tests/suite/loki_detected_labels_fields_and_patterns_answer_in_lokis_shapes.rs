//! The Loki endpoints Grafana 11/12 call besides the query ones: `detected_labels` (probed when
//! a Loki data source starts, and listed by Logs Drilldown) with each stream label's
//! cardinality; `detected_fields` and `detected_field/{name}/values` with the keys of JSON and
//! logfmt lines, their types, cardinality and parsers (and a JSON key's path), and structured
//! metadata; `patterns` in Loki's shape, empty (the
//! collector finds no patterns), instead of `404`.
use crate::support;

use serde_json::json;
use support::{encode, get, lines_at, post_logs, Collector};

#[tokio::test]
async fn detected_labels_count_values_and_fields_and_patterns_answer_empty_in_lokis_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let t0 = 2_000_000_000_000_000_000u64;
    post_logs(&collector, "web", lines_at(t0, &["a", "b"])).await;
    post_logs(&collector, "api", lines_at(t0, &["c"])).await;
    let range = format!("start={t0}&end={}", t0 + 60_000_000_000);

    let answer = get(collector.ui, &format!("/loki/api/v1/detected_labels?{range}")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.json(),
        json!({ "detectedLabels": [
            { "label": "level", "cardinality": 1 },
            { "label": "service_name", "cardinality": 2 },
        ] }),
        "Loki's shape: no status envelope"
    );
    let web = encode(r#"{service_name="web"}"#);
    let answer = get(collector.ui, &format!("/loki/api/v1/detected_labels?{range}&query={web}")).await;
    assert_eq!(
        answer.json(),
        json!({ "detectedLabels": [{ "label": "level", "cardinality": 1 }, { "label": "service_name", "cardinality": 1 }] })
    );

    // Lines without fields have none.
    for (path, body) in [
        ("detected_fields", json!({ "fields": [], "limit": 1000 })),
        ("detected_field/level/values", json!({ "values": [], "limit": 1000 })),
        ("patterns", json!({ "status": "success", "data": [] })),
    ] {
        let answer = get(collector.ui, &format!("/loki/api/v1/{path}?{range}&query={web}")).await;
        assert_eq!((answer.status, answer.json()), (200, body), "{path}");
    }
    // The keys of logfmt and JSON lines, typed as Loki types them.
    post_logs(
        &collector,
        "shop",
        lines_at(
            t0,
            &[
                "level=info status=200 took=15ms size=1.5KB path=/a",
                "level=warn status=503 took=2s size=10MB path=/b ok=true",
                r#"{"status":404,"req":{"path":"/c","ratio":0.5},"user":"ann"}"#,
                "plain text, no fields",
            ],
        ),
    )
    .await;
    let shop = encode(r#"{service_name="shop"}"#);
    let answer = get(collector.ui, &format!("/loki/api/v1/detected_fields?{range}&query={shop}")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.json(),
        json!({ "fields": [
            // A stream label's name (`level`) gets `_extracted`, as `| logfmt` names it.
            { "label": "level_extracted", "type": "string", "cardinality": 2, "parsers": ["logfmt"] },
            { "label": "ok", "type": "boolean", "cardinality": 1, "parsers": ["logfmt"] },
            { "label": "path", "type": "string", "cardinality": 2, "parsers": ["logfmt"] },
            { "label": "req_path", "type": "string", "cardinality": 1, "parsers": ["json"], "jsonPath": ["req", "path"] },
            { "label": "req_ratio", "type": "float", "cardinality": 1, "parsers": ["json"], "jsonPath": ["req", "ratio"] },
            { "label": "size", "type": "bytes", "cardinality": 2, "parsers": ["logfmt"] },
            { "label": "status", "type": "int", "cardinality": 3, "parsers": ["json", "logfmt"], "jsonPath": ["status"] },
            { "label": "took", "type": "duration", "cardinality": 2, "parsers": ["logfmt"] },
            { "label": "user", "type": "string", "cardinality": 1, "parsers": ["json"], "jsonPath": ["user"] },
        ], "limit": 1000 })
    );
    let answer = get(collector.ui, &format!("/loki/api/v1/detected_field/status/values?{range}&query={shop}")).await;
    assert_eq!(answer.json(), json!({ "values": ["200", "404", "503"], "limit": 1000 }));
    // `line_limit` samples the newest lines only (here the plain one and the JSON one).
    let answer = get(collector.ui, &format!("/loki/api/v1/detected_fields?{range}&query={shop}&line_limit=2")).await;
    let labels: Vec<String> =
        answer.json()["fields"].as_array().unwrap().iter().map(|f| f["label"].as_str().unwrap().to_owned()).collect();
    assert_eq!(labels, ["req_path", "req_ratio", "status", "user"]);
    // `limit` caps the fields; logcli sends it as `field_limit`, the older name Loki still reads.
    let all = get(collector.ui, &format!("/loki/api/v1/detected_fields?{range}&query={shop}")).await.json();
    assert!(all["fields"].as_array().unwrap().len() > 2, "{all}");
    for limit in ["limit=2", "field_limit=2", "limit=2&field_limit=50"] {
        let answer = get(collector.ui, &format!("/loki/api/v1/detected_fields?{range}&query={shop}&{limit}")).await;
        let body = answer.json();
        assert_eq!((body["fields"].as_array().unwrap().len(), &body["limit"]), (2, &json!(2)), "{limit}: {body}");
    }
    // Without a query: Loki's 400 naming it (no panic, no 500); a huge line_limit is read as
    // the most lines a query gives (5,000), not as unbounded work.
    for path in ["detected_fields", "detected_field/level/values"] {
        let answer = get(collector.ui, &format!("/loki/api/v1/{path}?{range}")).await;
        assert_eq!(answer.status, 400, "{path}: {}", answer.body);
        assert!(answer.body.contains("query"), "{path}: {}", answer.body);
    }
    let huge =
        get(collector.ui, &format!("/loki/api/v1/detected_fields?{range}&query={shop}&line_limit=100000000")).await;
    let all = get(collector.ui, &format!("/loki/api/v1/detected_fields?{range}&query={shop}")).await;
    assert_eq!((huge.status, huge.json()), (200, all.json()));
    // A query that cannot be read gets Loki's 400, as from the other endpoints.
    for path in ["detected_labels", "detected_fields", "detected_field/level/values", "patterns"] {
        let answer = get(collector.ui, &format!("/loki/api/v1/{path}?query={}", encode("{service_name"))).await;
        assert_eq!(answer.status, 400, "{path}: {}", answer.body);
    }
    collector.stop().await;
}

/// Loki's `detected_fields` (pkg/querier/queryrange/detected_fields.go) lists each record's
/// structured metadata as fields no parser found (`"parsers": null`), and gives a field of a
/// JSON line its `jsonPath`: the keys down to it as the line writes them, which its label
/// cannot give back (`_` joins the keys and replaces characters a label cannot have).
#[tokio::test]
async fn detected_fields_list_structured_metadata_without_parsers_and_json_keys_with_their_path() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let t0 = 2_000_000_000_000_000_000u64;
    let attribute = |k: &str, v: serde_json::Value| json!({ "key": k, "value": v });
    post_logs(
        &collector,
        "shop",
        vec![
            json!({ "timeUnixNano": (t0 + 1_000_000_000).to_string(),
                    "body": { "stringValue": r#"{"http":{"status.code":200,"user-agent":"curl"},"a_b":{"c":"x"}}"# },
                    "attributes": [attribute("user.id", json!({ "stringValue": "u1" })),
                                   attribute("retries", json!({ "intValue": "2" }))] }),
            json!({ "timeUnixNano": (t0 + 2_000_000_000).to_string(),
                    "body": { "stringValue": "retries=3 msg=again" },
                    "attributes": [attribute("user.id", json!({ "stringValue": "u2" }))] }),
        ],
    )
    .await;
    let range = format!("start={t0}&end={}", t0 + 60_000_000_000);
    let shop = encode(r#"{service_name="shop"}"#);
    let answer = get(collector.ui, &format!("/loki/api/v1/detected_fields?{range}&query={shop}")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.json(),
        json!({ "fields": [
            { "label": "a_b_c", "type": "string", "cardinality": 1, "parsers": ["json"], "jsonPath": ["a_b", "c"] },
            { "label": "http_status_code", "type": "int", "cardinality": 1, "parsers": ["json"],
              "jsonPath": ["http", "status.code"] },
            { "label": "http_user_agent", "type": "string", "cardinality": 1, "parsers": ["json"],
              "jsonPath": ["http", "user-agent"] },
            { "label": "msg", "type": "string", "cardinality": 1, "parsers": ["logfmt"] },
            // Metadata and a logfmt key of one name are one field, with the parser that found it.
            { "label": "retries", "type": "int", "cardinality": 2, "parsers": ["logfmt"] },
            // Metadata only: no parser found it, and Loki gives `null`, not `[]`.
            { "label": "user_id", "type": "string", "cardinality": 2, "parsers": null },
        ], "limit": 1000 })
    );
    let answer = get(collector.ui, &format!("/loki/api/v1/detected_field/user_id/values?{range}&query={shop}")).await;
    assert_eq!(answer.json(), json!({ "values": ["u1", "u2"], "limit": 1000 }));
    collector.stop().await;
}
