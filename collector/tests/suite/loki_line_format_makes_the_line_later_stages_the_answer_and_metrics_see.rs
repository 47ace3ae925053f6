//! `| line_format`, Loki's LineFormatter: a Go template makes the line anew from the labels, the
//! line and its time; the answer shows it, later line filters and parsers read it, and metric
//! queries count and measure it. `| label_format` takes the same template functions.
use crate::support;

use serde_json::Value;
use support::{encode, get, lines_at, matrix, post_logs, Collector};

const T0: u64 = 1_000_000_000_000_000_000;
const S: u64 = 1_000_000_000;

async fn query(collector: &Collector, query: &str, end: u64, step: &str) -> (u16, Value, String) {
    let path = format!("/loki/api/v1/query_range?query={}&start={T0}&end={end}&step={step}", encode(query));
    let answer = get(collector.ui, &path).await;
    let body = if answer.status == 200 { answer.json() } else { Value::Null };
    (answer.status, body, answer.body)
}

/// The lines of a streams answer, in its order, with the stream labels of each.
fn lines(body: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for stream in body["data"]["result"].as_array().unwrap() {
        for value in stream["values"].as_array().unwrap() {
            out.push((value[1].as_str().unwrap().to_owned(), stream["stream"].clone()));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[tokio::test]
async fn line_format_rewrites_lines_for_filters_parsers_answers_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let bodies = [r#"status=500 msg="timed out" took=1200ms"#, "status=200 msg=ok took=20ms"];
    post_logs(&collector, "api", lines_at(T0, &bodies)).await;
    let end = T0 + 60 * S;

    // The answer shows the new line; filters and parsers after the stage read it.
    let (status, body, text) =
        query(&collector, r#"{service_name="api"} | logfmt | line_format "{{.status}} {{.msg | ToUpper}}""#, end, "")
            .await;
    assert_eq!(status, 200, "{text}");
    let got: Vec<String> = lines(&body).into_iter().map(|(line, _)| line).collect();
    assert_eq!(got, ["200 OK", "500 TIMED OUT"]);
    let q = r#"{service_name="api"} | logfmt | line_format `{{ __timestamp__ | unixEpoch }} {{.msg}}` |= "timed" | regexp "^(?P<second>\\d+) ""#;
    let (status, body, text) = query(&collector, q, end, "").await;
    assert_eq!(status, 200, "{text}");
    let got = lines(&body);
    assert_eq!(got.len(), 1, "{body}");
    assert_eq!(got[0].0, format!("{} timed out", T0 / S + 1));
    assert_eq!(got[0].1["second"], (T0 / S + 1).to_string());

    // Metric queries count the lines that pass and measure the new ones.
    let point = |v: &str| vec![((end / S) as i64, v.to_owned())];
    let q = r#"sum(count_over_time({service_name="api"} | logfmt | line_format "{{.status}}" |= "5" [1m]))"#;
    let (status, body, text) = query(&collector, q, end, "60").await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(matrix(&body), [(String::new(), point("1"))]);
    let q = r#"sum(bytes_over_time({service_name="api"} | logfmt | line_format "{{.status}}" [1m]))"#;
    let (status, body, text) = query(&collector, q, end, "60").await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(matrix(&body), [(String::new(), point("6"))], "two lines of 3 bytes");

    // `| label_format` runs the same functions.
    let q = r#"{service_name="api"} | logfmt | label_format what=`{{ .msg | replace " " "_" | default "none" }}` | what="timed_out""#;
    let (status, body, text) = query(&collector, q, end, "").await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(lines(&body).len(), 1, "{body}");

    // A template that fails (Go compares no string with a number) keeps the line with
    // `__error__`; a metric query over such lines is refused, as in Loki.
    let q = r#"{service_name="api"} | logfmt | line_format "{{ if gt .status 300 }}bad{{ end }}""#;
    let (status, body, text) = query(&collector, q, end, "").await;
    assert_eq!(status, 200, "{text}");
    for (line, stream) in lines(&body) {
        assert!(line.starts_with("status="), "{line}");
        assert_eq!(stream["__error__"], "TemplateFormatErr");
    }
    let (status, _, text) = query(&collector, &format!("count_over_time({q} [1m])"), end, "60").await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("TemplateFormatErr"), "{text}");

    // What the templates here do not read is refused, naming the column.
    let (status, _, text) =
        query(&collector, r#"{service_name="api"} | line_format "{{ .a | b64enc }}""#, end, "").await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("col 36") && text.contains("`b64enc` is not supported"), "{text}");
    collector.stop().await;
}

#[tokio::test]
async fn chained_line_formats_that_double_the_line_stop_at_lokis_line_size() {
    // Thirty stages that each double the line would make 5 GiB of one 5-byte line: a template's
    // text stops at 256 KiB (Loki's max_line_size), the line stays as it was before the stage
    // that went past it, and says so in `__error__`, as any template failure does.
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    post_logs(&collector, "api", lines_at(T0, &["abcde"])).await;
    let stages = r#" | line_format "{{__line__}}{{__line__}}""#.repeat(30);
    let (status, body, text) =
        query(&collector, &format!(r#"{{service_name="api"}}{stages}"#), T0 + 60 * S, "1s").await;
    assert_eq!(status, 200, "{text}");
    assert!(text.len() < 1 << 20, "{} bytes", text.len());
    let lines = lines(&body);
    assert_eq!(lines.len(), 1);
    let (line, labels) = &lines[0];
    // 5 bytes doubled 15 times is 160 KiB; once more is past 256 KiB.
    assert_eq!(line.len(), 5 << 15);
    assert_eq!(labels["__error__"], "TemplateFormatErr", "{labels}");
    assert!(labels["__error_details__"].as_str().unwrap().contains("more than 262144 bytes"), "{labels}");

    // Within one template too: `replace` with an empty old text makes the line eleven times as
    // long at each step, and `printf` pads; neither goes past the limit before it is checked.
    let steps = r#" | replace \"\" \"0123456789\""#.repeat(9);
    for template in [format!(r#"{{{{ __line__{steps} }}}}"#), r#"{{ printf \"%10000s%10000s%10000s%10000s%10000s%10000s%10000s%10000s%10000s%10000s%10000s%10000s%10000s%10000s%10000s%10000s%10000s%10000s%10000s%10000s%10000s%10000s%10000s%10000s%10000s%10000s%10000s%10000s\" __line__ __line__ __line__ __line__ __line__ __line__ __line__ __line__ __line__ __line__ __line__ __line__ __line__ __line__ __line__ __line__ __line__ __line__ __line__ __line__ __line__ __line__ __line__ __line__ __line__ __line__ __line__ __line__ }}"#.to_owned()] {
        let stages = format!(r#" | line_format "{template}""#).repeat(3);
        let (status, body, text) = query(&collector, &format!(r#"{{service_name="api"}}{stages}"#), T0 + 60 * S, "1s").await;
        assert_eq!(status, 200, "{text}");
        assert!(text.len() < 1 << 20, "{} bytes", text.len());
        let got = self::lines(&body);
        assert_eq!(got[0].0, "abcde", "the line stays as it was");
        assert_eq!(got[0].1["__error__"], "TemplateFormatErr");
    }
    collector.stop().await;
}
