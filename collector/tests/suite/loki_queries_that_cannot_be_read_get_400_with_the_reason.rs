use crate::support;

use support::{encode, get, Collector};

#[tokio::test]
async fn malformed_log_queries_and_parameters_are_refused_as_plain_text() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let cases = [
        ("query=", "the `query` parameter is required"),
        (&format!("query={}", encode(r#"{service_name="a""#)) as &str, "parse error at line 1, col 18"),
        (
            &format!("query={}", encode(r#"{service_name="a"} | line_format "{{.x | b64enc}}""#)),
            "invalid line template: the template function `b64enc` is not supported",
        ),
        (
            &format!("query={}", encode(r#"approx_topk(2, rate({service_name="a"}[1m]))"#)),
            "`approx_topk` is not supported",
        ),
        (
            &format!("query={}", encode(r#"label_replace(rate({service_name="a"}[1m]), "1a", "$1", "b", "(.*)")"#)),
            "invalid destination label name in label_replace(): 1a",
        ),
        (
            &format!(
                "query={}",
                encode(r#"rate({service_name="a"}[1m]) / group_left (b) rate({service_name="a"}[1m])"#)
            ),
            "`group_left` needs `on (…)` or `ignoring (…)` before it",
        ),
        (&format!("query={}", encode(r#"rate({service_name="a"})"#)), "needs a range"),
        (&format!("query={}&step=0", encode(r#"rate({a="b"}[1m])"#)), "zero or negative query resolution step"),
        (&format!("query={}&start=0&end=100000&step=1", encode(r#"rate({a="b"}[1m])"#)), "maximum resolution of 11000"),
        (&format!("query={}", encode(r#"{service_name=~".*"}"#)), "at least one matcher"),
        (&format!("query={}&limit=100000", encode(r#"{a="b"}"#)), "max entries limit per query exceeded"),
        (&format!("query={}&start=soon", encode(r#"{a="b"}"#)), "could not parse 'start' parameter"),
        (&format!("query={}&direction=up", encode(r#"{a="b"}"#)), "invalid direction"),
    ];
    for (params, message) in cases {
        let answer = get(collector.ui, &format!("/loki/api/v1/query_range?{params}")).await;
        assert_eq!(answer.status, 400, "{params}");
        assert!(answer.header("content-type").unwrap().starts_with("text/plain"), "{params}");
        assert!(answer.body.contains(message), "{params}: {}", answer.body);
    }
    let answer = get(collector.ui, &format!("/loki/api/v1/query?query={}", encode(r#"{a="b"}"#))).await;
    assert_eq!(answer.status, 400);
    assert!(answer.body.contains("log queries are answered by /loki/api/v1/query_range"), "{}", answer.body);
    let path = format!("/loki/api/v1/label/level/values?query={}", encode(r#"rate({a="b"}[1m])"#));
    let answer = get(collector.ui, &path).await;
    assert_eq!(answer.status, 400);
    assert!(answer.body.contains("metric queries are answered by query_range"), "{}", answer.body);
    let answer = get(collector.ui, &format!("/loki/api/v1/label/level/values?query={}", encode("{"))).await;
    assert_eq!(answer.status, 400);
    assert!(answer.body.starts_with("parse error"), "{}", answer.body);
    // The server keeps serving.
    let answer = get(collector.ui, &format!("/loki/api/v1/query_range?query={}", encode(r#"{a="b"}"#))).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    collector.stop().await;
}

#[tokio::test]
async fn a_metric_query_is_not_held_to_the_entry_limit_grafana_sends_with_every_query() {
    // Grafana sends its data source's "Maximum lines" as `limit` with metric queries too (its
    // dashboards, alerts and Explore's log volume); Loki checks the 5,000 entries only for log
    // queries. A limit that does not read is still refused.
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let metric = encode(r#"sum by (level) (count_over_time({service_name="a"} | drop __error__ [1m]))"#);
    for route in ["query_range", "query"] {
        let answer = get(collector.ui, &format!("/loki/api/v1/{route}?query={metric}&limit=10000&step=60000ms")).await;
        assert_eq!(answer.status, 200, "{route}: {}", answer.body);
        assert!(answer.body.contains(r#""status":"success""#), "{route}: {}", answer.body);
        let answer = get(collector.ui, &format!("/loki/api/v1/{route}?query={metric}&limit=0")).await;
        assert_eq!(answer.status, 400, "{route}: {}", answer.body);
        assert!(answer.body.contains("limit must be a positive value"), "{route}: {}", answer.body);
    }
    collector.stop().await;
}
