//! `| json name="path"`, `| logfmt name="key"`, `| unpack` and `| decolorize` on the Loki API.
use crate::support;

use serde_json::{json, Value};
use support::{encode, get, lines_at, matrix, post_logs, Collector};

const T0: u64 = 1_000_000_000_000_000_000;
const S: u64 = 1_000_000_000;

async fn streams(collector: &Collector, query: &str) -> Value {
    let path =
        format!("/loki/api/v1/query_range?query={}&start={T0}&end={}&direction=forward", encode(query), T0 + 60 * S);
    let answer = get(collector.ui, &path).await;
    assert_eq!(answer.status, 200, "{query}: {}", answer.body);
    answer.json()["data"]["result"].clone()
}

#[tokio::test]
async fn json_expressions_unpack_and_decolorize_give_the_lines_and_labels_loki_gives() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    post_logs(
        &collector,
        "api",
        lines_at(T0, &[r#"{"req":{"path":"/a","ms":120},"items":["x"]}"#, r#"{"req":{"path":"/b","ms":80}}"#]),
    )
    .await;
    post_logs(&collector, "packed", lines_at(T0, &[r#"{"pod":"p-1","_entry":"GET /c took=5ms"}"#])).await;
    post_logs(&collector, "tty", lines_at(T0, &["\u{1b}[1;31mERROR\u{1b}[0m disk full"])).await;

    // Only the named paths become labels; a path a line lacks gives the empty value.
    let result = streams(&collector, r#"{service_name="api"} | json path="req.path", first="items[0]""#).await;
    let labels: Vec<&Value> = result.as_array().unwrap().iter().map(|s| &s["stream"]).collect();
    assert_eq!(labels[0]["path"], "/a");
    assert_eq!(labels[0]["first"], "x");
    assert!(labels[0].get("req_ms").is_none(), "{result}");
    assert_eq!(labels[1]["path"], "/b");
    assert_eq!(labels[1]["first"], "", "Loki's JSONExpressionParser sets a name whose path is missing, empty");
    // What Grafana's latency panels ask: an unwrapped value named by a JSON expression.
    let path = format!(
        "/loki/api/v1/query_range?query={}&start={}&end={}&step=60",
        encode(r#"max_over_time({service_name="api"} | json ms="req.ms", path="req.path" | unwrap ms [1m]) by (path)"#),
        T0 + 60 * S,
        T0 + 60 * S
    );
    let answer = get(collector.ui, &path).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let t = ((T0 + 60 * S) / S) as i64;
    assert_eq!(
        matrix(&answer.json()),
        [("path=/a".to_owned(), vec![(t, "120".to_owned())]), ("path=/b".to_owned(), vec![(t, "80".to_owned())])]
    );

    // `| unpack`: the packed entry is the line; the other strings are labels; `| logfmt a`
    // then reads the unpacked line.
    let result = streams(&collector, r#"{service_name="packed"} | unpack | logfmt took"#).await;
    assert_eq!(result[0]["values"][0][1], "GET /c took=5ms");
    assert_eq!(result[0]["stream"]["pod"], "p-1");
    assert_eq!(result[0]["stream"]["took"], "5ms");

    // `| decolorize` takes the ANSI codes out of the line the answer and later filters see.
    let result = streams(&collector, r#"{service_name="tty"} | decolorize |= "ERROR disk""#).await;
    assert_eq!(result[0]["values"][0][1], json!("ERROR disk full"));
    collector.stop().await;
}
