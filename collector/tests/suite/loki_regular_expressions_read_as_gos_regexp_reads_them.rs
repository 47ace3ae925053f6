//! LogQL's regular expressions are Go's `regexp` in Loki (RE2 syntax): `\w`, `\d`, `\s` and `\b`
//! are ASCII, `\Q…\E` quotes text, and label matchers match the whole value with `.` matching
//! newlines too (Prometheus's `^(?s:…)$`). Lines here hold non-ASCII letters and digits, where a
//! Unicode-aware engine answers otherwise.
use crate::support;

use serde_json::{json, Value};
use support::{encode, get, post_json, Collector, Response};

const T0: u64 = 1_000_000_000_000_000_000;

async fn query_range(collector: &Collector, query: &str) -> Response {
    let path = format!("/loki/api/v1/query_range?query={}&start={T0}&end={}", encode(query), T0 + 100_000_000_000);
    get(collector.ui, &path).await
}

/// `(line, labels)` of each entry of an answer, oldest first.
fn entries(answer: &Response) -> Vec<(String, Value)> {
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    let mut out: Vec<(String, String, Value)> = Vec::new();
    for stream in body["data"]["result"].as_array().unwrap() {
        for value in stream["values"].as_array().unwrap() {
            out.push((
                value[0].as_str().unwrap().to_owned(),
                value[1].as_str().unwrap().to_owned(),
                stream["stream"].clone(),
            ));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.into_iter().map(|(_, line, labels)| (line, labels)).collect()
}

fn lines(answer: &Response) -> Vec<String> {
    entries(answer).into_iter().map(|(line, _)| line).collect()
}

#[tokio::test]
async fn perl_classes_are_ascii_quoted_text_is_literal_and_label_matchers_match_newlines() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let text = |key: &str, value: &str| json!({ "key": key, "value": { "stringValue": value } });
    let record = |t: u64, body: &str, attributes: Value| json!({ "timeUnixNano": (T0 + t).to_string(), "body": { "stringValue": body }, "attributes": attributes });
    let body = json!({ "resourceLogs": [{
        "resource": { "attributes": [text("service.name", "uni")] },
        "scopeLogs": [{ "logRecords": [
            record(1, "user=josé action=login", json!([text("note", "first line\nsecond line")])),
            record(2, "user=bob action=login", json!([text("note", "one line")])),
            record(3, "order ١٢٣ shipped", json!([])),
            record(4, "order 123 shipped", json!([])),
            record(5, "a.b* <tag>", json!([])),
        ] }],
    }] })
    .to_string();
    assert_eq!(post_json(collector.otlp, "/v1/logs", &body).await.status, 200);
    let cases: [(&str, &[&str]); 13] = [
        // `é` is no `\w` in Go: josé's line has no `\w+ ` after `user=`.
        (r#"{service_name="uni"} |~ `user=\w+ action`"#, &["user=bob action=login"]),
        (
            r#"{service_name="uni"} !~ `user=\w+ action`"#,
            &["user=josé action=login", "order ١٢٣ shipped", "order 123 shipped", "a.b* <tag>"],
        ),
        (r#"{service_name="uni"} |~ `jos\W`"#, &["user=josé action=login"]),
        (r#"{service_name="uni"} |~ `jos\b`"#, &["user=josé action=login"]),
        // Arabic-Indic digits are no `\d`.
        (r#"{service_name="uni"} |~ `order \d+ shipped`"#, &["order 123 shipped"]),
        (r#"{service_name="uni"} |~ `order [\D]+ shipped`"#, &["order ١٢٣ shipped"]),
        (r#"{service_name="uni"} |~ `order\s\pN+\sshipped`"#, &["order ١٢٣ shipped", "order 123 shipped"]),
        // `\Q…\E` quotes; `\<` is a `<`.
        (r#"{service_name="uni"} |~ `\Quser=bob\E`"#, &["user=bob action=login"]),
        (r#"{service_name="uni"} |~ `^\Qa.b*\E \<`"#, &["a.b* <tag>"]),
        // Case-insensitive matching folds non-ASCII letters too, as in Go.
        (r#"{service_name="uni"} |~ `(?i)USER=JOSÉ`"#, &["user=josé action=login"]),
        // Label matchers match the whole value, `.` a newline too.
        (r#"{service_name="uni"} | note=~"first.+line""#, &["user=josé action=login"]),
        (r#"{service_name="uni"} | note!~".*line""#, &["order ١٢٣ shipped", "order 123 shipped", "a.b* <tag>"]),
        (r#"{service_name=~`u\wi`} | note=~`\w+ \w+`"#, &["user=bob action=login"]),
    ];
    for (query, expected) in cases {
        assert_eq!(lines(&query_range(&collector, query).await), expected, "{query}");
    }

    // `| regexp` captures what Go's expression does: `jos` of `josé`.
    let found = entries(&query_range(&collector, r#"{service_name="uni"} | regexp `user=(?P<user>\w+)`"#).await);
    let users: Vec<(&str, Option<&str>)> =
        found.iter().map(|(l, labels)| (l.as_str(), labels["user"].as_str())).collect();
    assert_eq!(
        users,
        [
            ("user=josé action=login", Some("jos")),
            ("user=bob action=login", Some("bob")),
            ("order ١٢٣ shipped", None),
            ("order 123 shipped", None),
            ("a.b* <tag>", None),
        ]
    );

    // What Go refuses is refused with its reason.
    for (query, reason) in [
        (r#"{service_name="uni"} |~ `(?x) a`"#, "invalid or unsupported Perl syntax: `(?x`"),
        (r#"{service_name="uni"} |~ `\u00e9`"#, r"invalid escape sequence: `\u`"),
        (r#"{service_name=~"[a"}"#, "missing closing ]"),
    ] {
        let answer = query_range(&collector, query).await;
        assert_eq!(answer.status, 400, "{query}: {}", answer.body);
        assert!(answer.body.contains("invalid regular expression") && answer.body.contains(reason), "{}", answer.body);
    }
    collector.stop().await;
}
