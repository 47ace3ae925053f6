//! The Loki endpoints Grafana 11/12 call besides the query ones: `detected_labels` (probed when
//! a Loki data source starts, and listed by Logs Drilldown) with each stream label's
//! cardinality; `detected_fields`, `detected_field/{name}/values` and `patterns` in Loki's
//! shapes, empty (the collector detects no fields or patterns), instead of `404`.
mod support;

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

    for (path, body) in [
        ("detected_fields", json!({ "fields": [], "limit": 1000 })),
        ("detected_field/level/values", json!({ "values": [], "limit": 1000 })),
        ("patterns", json!({ "status": "success", "data": [] })),
    ] {
        let answer = get(collector.ui, &format!("/loki/api/v1/{path}?{range}&query={web}")).await;
        assert_eq!((answer.status, answer.json()), (200, body), "{path}");
    }
    // A query that cannot be read gets Loki's 400, as from the other endpoints.
    for path in ["detected_labels", "detected_fields", "detected_field/level/values", "patterns"] {
        let answer = get(collector.ui, &format!("/loki/api/v1/{path}?query={}", encode("{service_name"))).await;
        assert_eq!(answer.status, 400, "{path}: {}", answer.body);
    }
    collector.stop().await;
}
