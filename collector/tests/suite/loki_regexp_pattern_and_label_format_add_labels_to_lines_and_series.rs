//! `| regexp` and `| pattern`, Loki's parsers for lines that are neither JSON nor logfmt, and
//! `| label_format`: their labels are there for later filters, for the answer and for the series
//! of metric queries.
use crate::support;

use serde_json::json;
use support::{encode, get, lines_at, matrix, post_logs, Collector};

const T0: u64 = 1_000_000_000_000_000_000;
const S: u64 = 1_000_000_000;

#[tokio::test]
async fn regexp_and_pattern_captures_filter_label_and_group_lines() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let lines = ["GET /a 200 12ms", "GET /b 503 900ms", "POST /a 201 30ms", "not a request"];
    post_logs(&collector, "api", lines_at(T0, &lines)).await;
    let end = T0 + 60 * S;

    let logs = |query: &str| format!("/loki/api/v1/query_range?query={}&start={T0}&end={end}", encode(query));
    let answer = get(
        collector.ui,
        &logs(r#"{service_name="api"} | regexp `^(?P<method>\w+) \S+ (?P<status>\d+)` | status >= 500"#),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let result = answer.json()["data"]["result"].clone();
    assert_eq!(result.as_array().unwrap().len(), 1, "{result}");
    assert_eq!(result[0]["stream"]["method"], "GET");
    assert_eq!(result[0]["values"][0][1], "GET /b 503 900ms");

    let metric =
        |query: &str| format!("/loki/api/v1/query_range?query={}&start={end}&end={end}&step=60", encode(query));
    let answer = get(
        collector.ui,
        &metric(r#"sum by (method) (count_over_time({service_name="api"} | pattern "<method> <path> <_>" [1m]))"#),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let point = |v: &str| vec![((end / S) as i64, v.to_owned())];
    // The line that is no request has `not` for a method: the pattern does not judge.
    assert_eq!(
        matrix(&answer.json()),
        [
            ("method=GET".to_owned(), point("2")),
            ("method=POST".to_owned(), point("1")),
            ("method=not".to_owned(), point("1"))
        ]
    );
    let q = r#"max_over_time({service_name="api"} | pattern "<_> <path> <_> <took>" | unwrap duration(took) [1m]) by (path)"#;
    let answer = get(collector.ui, &metric(q)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(matrix(&answer.json()), [("path=/a".to_owned(), point("0.03")), ("path=/b".to_owned(), point("0.9"))]);

    // `| label_format` renames (the old name is gone) and fills templates from other labels.
    let q = r#"sum by (route, lvl) (count_over_time({service_name="api"} | pattern "<method> <path> <_>" | label_format route="{{.method}} {{.path}}", lvl=level [1m]))"#;
    let answer = get(collector.ui, &metric(q)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        matrix(&answer.json()),
        [
            ("lvl=unknown,route=GET /a".to_owned(), point("1")),
            ("lvl=unknown,route=GET /b".to_owned(), point("1")),
            ("lvl=unknown,route=POST /a".to_owned(), point("1")),
            ("lvl=unknown,route=not a".to_owned(), point("1")),
        ]
    );
    let answer =
        get(collector.ui, &logs(r#"{service_name="api"} |= "POST" | label_format lvl=level | level="""#)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["data"]["result"][0]["stream"], json!({ "service_name": "api", "lvl": "unknown" }));
    collector.stop().await;
}
