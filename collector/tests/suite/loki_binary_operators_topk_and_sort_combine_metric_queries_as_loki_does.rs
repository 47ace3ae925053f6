//! Binary operators (with `on`/`ignoring` and `group_left`/`group_right`), `topk`/`bottomk`,
//! `sort`/`sort_desc`, `label_replace`, numbers and `vector(n)` in LogQL metric queries on both
//! query endpoints, answered as Loki answers them: what Grafana's error-ratio panels, "share of
//! each level" and "top N" tables ask for.
use crate::support;

use serde_json::{json, Value};
use support::{encode, get, matrix, post_json, Collector};

const T0: u64 = 1_000_000_000_000_000_000;
const S: u64 = 1_000_000_000;
/// The instant the queries look at: every line is in the minute before it.
const T1: u64 = T0 + 60 * S;
const T2: u64 = T0 + 120 * S;

fn record(t: u64, severity: i32, body: &str) -> Value {
    json!({ "timeUnixNano": t.to_string(), "severityNumber": severity, "body": { "stringValue": body } })
}

/// `web` has two error lines of four, `api` one info line.
async fn seeded() -> (tempfile::TempDir, Collector) {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    for (service, records) in [
        (
            "web",
            vec![
                record(T0 + S, 17, "GET /a error timeout"),
                record(T0 + 2 * S, 9, "GET /b ok"),
                record(T0 + 3 * S, 9, "GET /c ok"),
                record(T0 + 4 * S, 17, "GET /d error refused"),
            ],
        ),
        ("api", vec![record(T0 + 5 * S, 9, "POST /x ok")]),
    ] {
        let body = json!({ "resourceLogs": [{
            "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": service } }] },
            "scopeLogs": [{ "logRecords": records }],
        }] });
        assert_eq!(post_json(collector.otlp, "/v1/logs", &body.to_string()).await.status, 200);
    }
    (dir, collector)
}

async fn range(collector: &Collector, query: &str) -> Value {
    let path = format!("/loki/api/v1/query_range?query={}&start={T1}&end={T2}&step=60", encode(query));
    let answer = get(collector.ui, &path).await;
    assert_eq!(answer.status, 200, "{query}: {}", answer.body);
    answer.json()
}

/// The `data` of an instant query at `T1`.
async fn instant(collector: &Collector, query: &str) -> Value {
    let path = format!("/loki/api/v1/query?query={}&time={T1}", encode(query));
    let answer = get(collector.ui, &path).await;
    assert_eq!(answer.status, 200, "{query}: {}", answer.body);
    answer.json()["data"].clone()
}

/// `(labels, value)` of each sample of an instant vector, in the answer's order.
fn vector(data: &Value) -> Vec<(String, String)> {
    assert_eq!(data["resultType"], "vector", "{data}");
    data["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let labels = s["metric"].as_object().unwrap().iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap()));
            assert_eq!(s["value"][0], json!(T1 / S), "{data}");
            (labels.collect::<Vec<_>>().join(","), s["value"][1].as_str().unwrap().to_owned())
        })
        .collect()
}

fn one(labels: &str, value: &str) -> Vec<(String, String)> {
    vec![(labels.to_owned(), value.to_owned())]
}

const ALL: &str = r#"sum by (service_name) (count_over_time({service_name=~"web|api"}[1m]))"#;
const ERRORS: &str = r#"sum by (service_name) (count_over_time({service_name=~"web|api"} |= "error" [1m]))"#;

#[tokio::test]
async fn arithmetic_between_metric_queries_and_numbers_gives_error_ratios() {
    let (_dir, collector) = seeded().await;
    // Grafana's error-ratio panel: one sum over another, both without labels, match one to one.
    let ratio = r#"sum(rate({service_name="web"} |= "error" [1m])) / sum(rate({service_name="web"} [1m]))"#;
    // A step whose range holds no line has no point on either side, and so none in the result.
    assert_eq!(matrix(&range(&collector, ratio).await), [(String::new(), vec![((T1 / S) as i64, "0.5".to_owned())])]);
    assert_eq!(vector(&instant(&collector, ratio).await), one("", "0.5"));
    // `*` binds tighter than `+` and as tightly as `/`, left to right; parentheses first.
    assert_eq!(vector(&instant(&collector, &format!("{ratio} * 100")).await), one("", "50"));
    assert_eq!(vector(&instant(&collector, &format!("100 * {ratio}")).await), one("", "50"));
    assert_eq!(vector(&instant(&collector, &format!("1 + {ratio} * 2")).await), one("", "2"));
    assert_eq!(vector(&instant(&collector, &format!("(1 + {ratio}) * 2")).await), one("", "3"));
    assert_eq!(vector(&instant(&collector, &format!("1 - {ratio}")).await), one("", "0.5"));
    // Series match on their labels: web has errors, api none, so only web has a ratio.
    assert_eq!(vector(&instant(&collector, &format!("{ERRORS} / {ALL}")).await), one("service_name=web", "0.5"));
    // Loki's MergeBinOp "guard against divide by zero": NaN, for `/` and `%` alike.
    let web = r#"sum(count_over_time({service_name="web"}[1m]))"#;
    assert_eq!(vector(&instant(&collector, &format!("{web} / ({web} - 4)")).await), one("", "NaN"));
    assert_eq!(vector(&instant(&collector, &format!("{web} % 0")).await), one("", "NaN"));
    assert_eq!(vector(&instant(&collector, &format!("{web} % 3 + {web} ^ 2")).await), one("", "17"));
    collector.stop().await;
}

#[tokio::test]
async fn on_and_ignoring_choose_the_labels_that_match_and_that_the_result_keeps() {
    let (_dir, collector) = seeded().await;
    let web = r#"sum by (level, service_name) (count_over_time({service_name="web"}[1m]))"#;
    let both = r#"sum by (level) (count_over_time({service_name=~"web|api"}[1m]))"#;
    // Without a modifier the label sets differ and nothing matches.
    assert_eq!(vector(&instant(&collector, &format!("{web} / {both}")).await), []);
    // `on (level)` keeps only `level` (Prometheus' and Loki's resultMetric for one-to-one).
    let share = vector(&instant(&collector, &format!("{web} / on (level) {both}")).await);
    assert_eq!(
        share,
        [("level=error".to_owned(), "1".to_owned()), ("level=info".to_owned(), (2.0f64 / 3.0).to_string())]
    );
    // `ignoring (service_name)` keeps all other labels of the left side.
    let share = vector(&instant(&collector, &format!("{web} / ignoring (service_name) {both}")).await);
    assert_eq!(
        share,
        [("level=error".to_owned(), "1".to_owned()), ("level=info".to_owned(), (2.0f64 / 3.0).to_string())]
    );
    // Two left series matching one right series need group_left: without it, refused with why.
    let many =
        format!("{web} / ignoring (level) sum by (service_name) (count_over_time({{service_name=\"web\"}}[1m]))");
    let answer = get(collector.ui, &format!("/loki/api/v1/query?query={}&time={T1}", encode(&many))).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(answer.body.contains("many-to-one matching must be explicit"), "{}", answer.body);
    collector.stop().await;
}

#[tokio::test]
async fn comparisons_filter_series_or_give_0_and_1_with_bool_and_set_operators_combine_them() {
    let (_dir, collector) = seeded().await;
    // A comparison keeps the samples for which it holds, with their own values (Loki's
    // MergeBinOp returns the vector's sample, whichever side the number is on).
    assert_eq!(vector(&instant(&collector, &format!("{ALL} > 1")).await), one("service_name=web", "4"));
    assert_eq!(vector(&instant(&collector, &format!("1 < {ALL}")).await), one("service_name=web", "4"));
    assert_eq!(vector(&instant(&collector, &format!("{ALL} == 1")).await), one("service_name=api", "1"));
    let with_bool = vector(&instant(&collector, &format!("{ALL} > bool 1")).await);
    assert_eq!(
        with_bool,
        [("service_name=api".to_owned(), "0".to_owned()), ("service_name=web".to_owned(), "1".to_owned())]
    );
    // Between two vectors: the left sample where it holds.
    assert_eq!(vector(&instant(&collector, &format!("{ALL} >= {ERRORS}")).await), one("service_name=web", "4"));
    assert_eq!(vector(&instant(&collector, &format!("{ALL} != bool {ERRORS}")).await), one("service_name=web", "1"));
    // Comparisons bind looser than arithmetic: `a > b * 2` is `a > (b * 2)`.
    assert_eq!(vector(&instant(&collector, &format!("{ALL} > {ERRORS} * 2")).await), []);
    assert_eq!(vector(&instant(&collector, &format!("{ALL} >= {ERRORS} * 2")).await), one("service_name=web", "4"));
    // and / unless / or match on all labels.
    assert_eq!(vector(&instant(&collector, &format!("{ALL} and {ERRORS}")).await), one("service_name=web", "4"));
    assert_eq!(vector(&instant(&collector, &format!("{ALL} unless {ERRORS}")).await), one("service_name=api", "1"));
    let either = vector(&instant(&collector, &format!("{ERRORS} or {ALL}")).await);
    assert_eq!(
        either,
        [("service_name=api".to_owned(), "1".to_owned()), ("service_name=web".to_owned(), "2".to_owned())]
    );
    // `and` binds tighter than `or`.
    let mixed = vector(&instant(&collector, &format!("{ERRORS} or {ALL} and {ERRORS}")).await);
    assert_eq!(mixed, one("service_name=web", "2"));
    collector.stop().await;
}

#[tokio::test]
async fn topk_bottomk_and_sort_pick_and_order_series_by_value() {
    let (_dir, collector) = seeded().await;
    assert_eq!(vector(&instant(&collector, &format!("topk(1, {ALL})")).await), one("service_name=web", "4"));
    assert_eq!(vector(&instant(&collector, &format!("bottomk(1, {ALL})")).await), one("service_name=api", "1"));
    // Per group, labels kept.
    let per_level = r#"sum by (level, service_name) (count_over_time({service_name=~"web|api"}[1m]))"#;
    let top = vector(&instant(&collector, &format!("topk by (level) (1, {per_level})")).await);
    assert_eq!(
        top,
        [
            ("level=error,service_name=web".to_owned(), "2".to_owned()),
            ("level=info,service_name=web".to_owned(), "2".to_owned())
        ]
    );
    let range_top = matrix(&range(&collector, &format!("topk(1, {per_level}) by (level)")).await);
    assert_eq!(range_top.len(), 2, "{range_top:?}");
    // stdvar and stddev are the population's, as in Prometheus and Loki: of 4 and 1.
    assert_eq!(vector(&instant(&collector, &format!("stdvar({ALL})")).await), one("", "2.25"));
    assert_eq!(vector(&instant(&collector, &format!("stddev by (level) ({ALL})")).await), one("", "1.5"));
    // An instant query keeps sort's order (Loki's `Sortable`); otherwise it sorts by labels.
    let desc = vector(&instant(&collector, &format!("sort_desc({ALL})")).await);
    assert_eq!(
        desc,
        [("service_name=web".to_owned(), "4".to_owned()), ("service_name=api".to_owned(), "1".to_owned())]
    );
    let asc = vector(&instant(&collector, &format!("sort({ALL} * -1)")).await);
    assert_eq!(
        asc,
        [("service_name=web".to_owned(), "-4".to_owned()), ("service_name=api".to_owned(), "-1".to_owned())]
    );
    collector.stop().await;
}

#[tokio::test]
async fn numbers_answer_a_scalar_at_an_instant_and_a_series_without_labels_over_a_range() {
    let (_dir, collector) = seeded().await;
    // Loki reduces `1 + 1` to a literal (reduceBinOp) and answers it with evalLiteral: a scalar
    // for an instant query, a matrix of one series without labels (PopulateMatrixFromScalar)
    // for a range query.
    let data = instant(&collector, "1 + 1").await;
    assert_eq!(data["resultType"], "scalar", "{data}");
    assert_eq!(data["result"], json!([T1 / S, "2"]));
    let t = |s: u64| (s / S) as i64;
    assert_eq!(
        matrix(&range(&collector, "1 + 1").await),
        [(String::new(), vec![(t(T1), "2".into()), (t(T2), "2".into())])]
    );
    // Precedence, right-associative `^`, comparisons of numbers (1 or 0, bool or not), `/ 0`.
    for (query, value) in [
        ("1 + 2 * 3", "7"),
        ("(1 + 2) * 3", "9"),
        ("2 ^ 3 ^ 2", "512"),
        ("10 % 4 - -1", "3"),
        ("2 > 1", "1"),
        ("2 < bool 1", "0"),
        ("1 / 0", "NaN"),
    ] {
        assert_eq!(instant(&collector, query).await["result"], json!([T1 / S, value]), "{query}");
    }
    // vector(n) is a series without labels, a vector at an instant.
    assert_eq!(vector(&instant(&collector, "vector(5)").await), one("", "5"));
    // Grafana's "Save & test" of a Loki data source asks exactly this, instantly, and wants one
    // sample of 2 (grafana/grafana pkg/tsdb/loki/healthcheck.go).
    assert_eq!(vector(&instant(&collector, "vector(1)+vector(1)").await), one("", "2"));
    assert_eq!(
        vector(&instant(&collector, r#"sum(count_over_time({service_name="nobody"}[1m])) or vector(0)"#).await),
        one("", "0")
    );
    collector.stop().await;
}

#[tokio::test]
async fn pattern_line_filters_select_lines_and_count_them() {
    let (_dir, collector) = seeded().await;
    let path = format!(
        "/loki/api/v1/query_range?query={}&start={T0}&end={T2}&direction=forward",
        encode(r#"{service_name="web"} |> "GET <_> error <_>""#)
    );
    let answer = get(collector.ui, &path).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let lines: Vec<String> = answer.json()["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["values"].as_array().unwrap().iter().map(|v| v[1].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(lines, ["GET /a error timeout", "GET /d error refused"]);
    let count = r#"sum(count_over_time({service_name=~"web|api"} !> "<_> error <_>" or "POST <_>" [1m]))"#;
    assert_eq!(vector(&instant(&collector, count).await), one("", "2"));
    collector.stop().await;
}

#[tokio::test]
async fn absent_over_time_is_1_where_a_range_has_no_line_labelled_by_the_selectors_equalities() {
    let (_dir, collector) = seeded().await;
    // Loki's absentLabels: the selector's `=` matchers; other operators add nothing.
    let web = r#"absent_over_time({service_name="web", level!="debug"} |= "error" [1m])"#;
    let t = (T2 / S) as i64;
    assert_eq!(matrix(&range(&collector, web).await), [("service_name=web".to_owned(), vec![(t, "1".to_owned())])]);
    assert_eq!(vector(&instant(&collector, web).await), []);
    let nobody = r#"absent_over_time({service_name="nobody", level="x", level="y"}[1m])"#;
    assert_eq!(vector(&instant(&collector, nobody).await), one("service_name=nobody", "1"));
    collector.stop().await;
}

/// `(labels, value)` pairs as [`vector`] gives them.
fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(l, v)| (l.to_string(), v.to_string())).collect()
}

/// The body of an instant query answered with 400.
async fn refused(collector: &Collector, query: &str) -> String {
    let answer = get(collector.ui, &format!("/loki/api/v1/query?query={}&time={T1}", encode(query))).await;
    assert_eq!(answer.status, 400, "{query}: {}", answer.body);
    answer.body
}

#[tokio::test]
async fn group_left_and_group_right_match_many_series_to_one_keeping_the_many_sides_labels() {
    let (_dir, collector) = seeded().await;
    let per_level = r#"sum by (level, service_name) (count_over_time({service_name=~"web|api"}[1m]))"#;
    let per_service = r#"sum by (service_name) (count_over_time({service_name=~"web|api"}[1m]))"#;
    // Each level's share of its service: many left series to one right series per service.
    let share = format!("{per_level} / on (service_name) group_left {per_service}");
    let expected = pairs(&[
        ("level=error,service_name=web", "0.5"),
        ("level=info,service_name=api", "1"),
        ("level=info,service_name=web", "0.5"),
    ]);
    assert_eq!(vector(&instant(&collector, &share).await), expected);
    assert_eq!(matrix(&range(&collector, &share).await).len(), 3);
    // `ignoring (level)` matches the same way.
    let share = format!("{per_level} / ignoring (level) group_left {per_service}");
    assert_eq!(vector(&instant(&collector, &share).await), expected);
    // group_right: the right side is the "many" one, whose labels the result keeps; the value is
    // still left op right.
    let inverse = format!("{per_service} / on (service_name) group_right {per_level}");
    assert_eq!(
        vector(&instant(&collector, &inverse).await),
        pairs(&[
            ("level=error,service_name=web", "2"),
            ("level=info,service_name=api", "1"),
            ("level=info,service_name=web", "2")
        ])
    );
    // A comparison keeps the left sample where it holds.
    let most = format!("{per_level} >= on (service_name) group_left {per_service}");
    assert_eq!(vector(&instant(&collector, &most).await), pairs(&[("level=info,service_name=api", "1")]));
    // `group_left (team)` copies `team` from the one side (given here by label_replace).
    let teams = format!(r#"label_replace({per_service}, "team", "team-$1", "service_name", "(.*)")"#);
    let with_team = format!("{per_level} * on (service_name) group_left (team) {teams}");
    assert_eq!(
        vector(&instant(&collector, &with_team).await),
        pairs(&[
            ("level=error,service_name=web,team=team-web", "8"),
            ("level=info,service_name=api,team=team-api", "1"),
            ("level=info,service_name=web,team=team-web", "8"),
        ])
    );
    // Two series of the "one" side with one signature at a step: many-to-many, refused.
    let body = refused(&collector, &format!("{per_level} / on (service_name) group_right {per_level}")).await;
    assert!(body.contains("many-to-many matching not allowed") && body.contains("left hand-side"), "{body}");
    // A grouping needs on (…) or ignoring (…), and the set operators take none.
    let body = refused(&collector, &format!("{per_level} / group_left {per_service}")).await;
    assert!(body.contains("`group_left` needs `on (…)` or `ignoring (…)`"), "{body}");
    let body = refused(&collector, &format!("{per_level} and on (service_name) group_left {per_service}")).await;
    assert!(body.contains("no grouping allowed for `and`"), "{body}");
    let body =
        refused(&collector, &format!("{per_level} / on (service_name) group_left (service_name) {per_service}")).await;
    assert!(body.contains("must not occur in ON and GROUP clause at once"), "{body}");
    collector.stop().await;
}

#[tokio::test]
async fn label_replace_sets_removes_or_keeps_a_label_by_a_whole_value_match() {
    let (_dir, collector) = seeded().await;
    let replace = |args: &str| format!("label_replace({ALL}, {args})");
    // `$1` and `${name}` expand the groups; the expression must match the whole value.
    assert_eq!(
        vector(&instant(&collector, &replace(r#""tier", "${t}-tier", "service_name", "(?P<t>w)eb""#)).await),
        pairs(&[("service_name=api", "1"), ("service_name=web,tier=w-tier", "4")])
    );
    // No match (`we` is not the whole of `web`): the series stays as it was.
    assert_eq!(
        vector(&instant(&collector, &replace(r#""tier", "x", "service_name", "we""#)).await),
        pairs(&[("service_name=api", "1"), ("service_name=web", "4")])
    );
    // A missing source label is the empty value, which `.*` matches.
    assert_eq!(
        vector(&instant(&collector, &replace(r#""zone", "eu", "no_such_label", ".*""#)).await),
        pairs(&[("service_name=api,zone=eu", "1"), ("service_name=web,zone=eu", "4")])
    );
    // An empty expansion removes the label: `api` keeps its own, `web` loses it.
    assert_eq!(
        vector(&instant(&collector, &replace(r#""service_name", "", "service_name", "web""#)).await),
        pairs(&[("", "4"), ("service_name=api", "1")])
    );
    // Over a range too, and under an aggregation.
    let summed = format!(r#"sum by (tier) ({})"#, replace(r#""tier", "all", "service_name", ".+""#));
    assert_eq!(
        matrix(&range(&collector, &summed).await),
        [("tier=all".to_owned(), vec![((T1 / S) as i64, "5".to_owned())])]
    );
    // Two series left with one set of labels: refused, as Loki refuses it.
    let body = refused(&collector, &replace(r#""service_name", "", "service_name", ".*""#)).await;
    assert!(body.contains("same labelset"), "{body}");
    // Bad arguments are named.
    let body = refused(&collector, &replace(r#""1st", "x", "service_name", ".*""#)).await;
    assert!(body.contains("invalid destination label name in label_replace(): 1st"), "{body}");
    let body = refused(&collector, &replace(r#""a", "x", "service_name", "(""#)).await;
    assert!(body.contains("invalid regular expression in label_replace()"), "{body}");
    let body = refused(&collector, &format!(r#"label_replace({ALL}, "a", "x")"#)).await;
    assert!(body.contains("expected `,` and a string"), "{body}");
    collector.stop().await;
}
