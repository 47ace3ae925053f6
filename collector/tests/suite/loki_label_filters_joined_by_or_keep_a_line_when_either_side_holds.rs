//! `or` between label filters, as Loki's `BinaryLabelFilter` reads it: a line passes when
//! either side holds; `and` (or `,`) binds tighter, and parentheses group. Log and metric
//! queries both take it.
use crate::support;

use support::{encode, get, lines_at, matrix, post_logs, Collector};

const T0: u64 = 1_000_000_000_000_000_000;
const S: u64 = 1_000_000_000;

#[tokio::test]
async fn or_between_label_filters_passes_lines_either_side_holds_for() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let bodies = ["status=500 took=1200ms", "status=200 took=20ms msg=ok", "status=404 took=300ms"];
    post_logs(&collector, "api", lines_at(T0, &bodies)).await;
    let end = T0 + 60 * S;

    let lines = |query: &str| {
        let path = format!("/loki/api/v1/query_range?query={}&start={T0}&end={end}", encode(query));
        async move {
            let answer = get(collector.ui, &path).await;
            assert_eq!(answer.status, 200, "{}", answer.body);
            let mut lines: Vec<String> = answer.json()["data"]["result"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|s| s["values"].as_array().unwrap().iter().map(|v| v[1].as_str().unwrap().to_owned()))
                .collect();
            lines.sort();
            lines
        }
    };
    assert_eq!(
        lines(r#"{service_name="api"} | logfmt | status >= 500 or msg="ok""#).await,
        ["status=200 took=20ms msg=ok", "status=500 took=1200ms"]
    );
    // `and` first: 404 passes neither `status >= 500` nor `msg="ok" and took < 1ms`.
    assert_eq!(
        lines(r#"{service_name="api"} | logfmt | status >= 500 or msg="ok" and took < 1ms"#).await,
        ["status=500 took=1200ms"]
    );
    assert_eq!(
        lines(r#"{service_name="api"} | logfmt | (status >= 500 or status == 404), took < 1s"#).await,
        ["status=404 took=300ms"]
    );

    let path = format!(
        "/loki/api/v1/query_range?query={}&start={end}&end={end}&step=60",
        encode(r#"sum(count_over_time({service_name="api"} | logfmt | status == 404 or took > 1s [1m]))"#)
    );
    let answer = get(collector.ui, &path).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(matrix(&answer.json()), [(String::new(), vec![((end / S) as i64, "2".to_owned())])]);
    collector.stop().await;
}
