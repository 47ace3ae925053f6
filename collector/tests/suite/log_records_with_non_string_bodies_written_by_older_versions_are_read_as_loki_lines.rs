//! Before commit 97cf581 the store kept a record's non-string body (a map, an array, a number,
//! bytes) in the `body` column (the line Loki queries and the full-text index read) as the
//! OTLP/JSON of a record holding only that body: `{"timeUnixNano":"0",…,"body":{"kvlistValue":…}}`.
//! Since then the column holds the line Loki's OTLP ingestion makes (`Body().AsString()`: a map
//! as JSON with sorted keys). A database written before is rewritten once when it is opened,
//! so that `| json` reads its map bodies and `|=` finds their text, and the OTLP query path
//! answers as before.
use crate::support;

use serde_json::json;
use support::{encode, get, Collector};

const T: i64 = 1_764_000_000_000_000_000;
const RANGE: &str = "start=1763999999000000000&end=1764000010000000000";

/// The stored texts of a record with `body`: the old `body` column and `record_json`.
fn old_row(n: i64, body: serde_json::Value) -> (i64, String, String) {
    // What `json::write_log_record` wrote of a record holding only the body, in its key order.
    let old_body = format!(r#"{{"timeUnixNano":"0","observedTimeUnixNano":"0","body":{body}}}"#);
    let record = json!({ "timeUnixNano": (T + n).to_string(), "observedTimeUnixNano": "0", "severityNumber": 9,
                         "body": body });
    (T + n, old_body, record.to_string())
}

async fn lines(c: &Collector, logql: &str) -> Vec<String> {
    let answer =
        get(c.ui, &format!("/loki/api/v1/query_range?query={}&{RANGE}&direction=forward", encode(logql))).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let mut out = Vec::new();
    for stream in answer.json()["data"]["result"].as_array().unwrap() {
        for value in stream["values"].as_array().unwrap() {
            out.push(value[1].as_str().unwrap().to_owned());
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn an_older_databases_map_array_and_number_bodies_become_loki_lines_once_on_open() {
    let dir = tempfile::tempdir().unwrap();
    // The schema, created by a start with no data; then rows as the older version wrote them.
    Collector::start(dir.path()).await.stop().await;
    let map = json!({ "kvlistValue": { "values": [
        { "key": "msg", "value": { "stringValue": "structured body" } },
        { "key": "code", "value": { "intValue": "7" } }] } });
    let rows = [
        old_row(1, map),
        old_row(2, json!({ "arrayValue": { "values": [{ "stringValue": "x" }, { "intValue": "2" }] } })),
        old_row(3, json!({ "intValue": "42" })),
    ];
    {
        let db = rusqlite::Connection::open(dir.path().join("edgescope.db")).unwrap();
        db.execute_batch(
            r#"PRAGMA user_version = 0;
               INSERT INTO resources (id, json, service)
               VALUES (1, '{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}}]}', 'shop');"#,
        )
        .unwrap();
        for (time, body, record) in &rows {
            db.execute(
                "INSERT INTO logs (time_ns, severity, service, body, resource_id, scope_json, record_json)
                 VALUES (?1, 9, 'shop', ?2, 1, '{\"name\":\"s\"}', ?3)",
                rusqlite::params![time, body, record],
            )
            .unwrap();
        }
        // And one written by this version, whose string body stays as it is.
        db.execute(
            "INSERT INTO logs (time_ns, severity, service, body, resource_id, scope_json, record_json)
             VALUES (?1, 9, 'shop', '{\"timeUnixNano\": \"a string body\"}', 1, '{\"name\":\"s\"}', ?2)",
            rusqlite::params![
                T + 4,
                json!({ "timeUnixNano": (T + 4).to_string(), "body": { "stringValue": "{\"timeUnixNano\": \"a string body\"}" } })
                    .to_string()
            ],
        )
        .unwrap();
    }

    for round in 0..2 {
        // Opened twice: the second open finds nothing left to rewrite and changes nothing.
        let c = Collector::start(dir.path()).await;
        assert_eq!(
            lines(&c, r#"{service_name="shop"}"#).await,
            [r#"42"#, r#"["x",2]"#, r#"{"code":7,"msg":"structured body"}"#, r#"{"timeUnixNano": "a string body"}"#],
            "round {round}"
        );
        assert_eq!(
            lines(&c, r#"{service_name="shop"} | json | msg="structured body" | code=7"#).await,
            [r#"{"code":7,"msg":"structured body"}"#],
            "round {round}"
        );
        // The full-text index holds the new lines, not the old texts.
        assert_eq!(lines(&c, r#"{service_name="shop"} |= "kvlistValue""#).await, Vec::<String>::new());
        assert_eq!(lines(&c, r#"{service_name="shop"} |= "\"msg\":\"structured""#).await.len(), 1);
        assert_eq!(lines(&c, r#"{service_name="shop"} |= "timeUnixNano""#).await.len(), 1, "the string body");
        // The OTLP query path reads the stored records, as before.
        let answer = get(c.ui, "/api/logs?limit=10").await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let records = &answer.json()["result"]["resourceLogs"][0]["scopeLogs"][0]["logRecords"];
        assert_eq!(records.as_array().map(Vec::len), Some(4), "{}", answer.body);
        assert_eq!(records[1]["body"], json!({ "intValue": "42" }), "{}", answer.body);
        assert_eq!(records[3]["body"]["kvlistValue"]["values"][0]["key"], "msg", "{}", answer.body);
        c.stop().await;
        // The full-text index agrees with the rows (a rewrite that left an old entry fails here).
        let db = rusqlite::Connection::open(dir.path().join("edgescope.db")).unwrap();
        db.execute("INSERT INTO logs_fts (logs_fts, rank) VALUES ('integrity-check', 1)", []).unwrap();
    }
}
