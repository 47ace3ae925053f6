//! OTLP files opened by URL (`/open?url=…` for traces, `/logs?file=…` for logs): which URLs are
//! taken, and what the error panel says when a fetch fails. The bytes go through the same
//! tolerant reader as a chosen or dropped file ([`read_file`]).

use crate::model::Trace;
use crate::sources::TraceSummary;
use edgescope_otlp::{ResourceSpans, ScopeSpans, TraceId, TracesData};

/// The URL typed in, trimmed: an `http(s)` URL or a path on the viewer's own origin. Anything
/// else (`javascript:`, `file:`, a bare word) is refused with a message saying so.
pub fn check_url(text: &str) -> Result<String, String> {
    let url = text.trim();
    let http = ["http://", "https://"].iter().any(|s| url.get(..s.len()).is_some_and(|u| u.eq_ignore_ascii_case(s)));
    let path = url.starts_with('/') && !url[1..].starts_with(['/', '\\']);
    if url.len() > 8 && http || path {
        Ok(url.to_owned())
    } else {
        Err(format!("`{url}` is not a URL: give an http(s) URL or a path on this server"))
    }
}

/// The file's name within its URL, for messages: the last path segment, without the query.
pub fn file_name(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit('/').find(|s| !s.is_empty()).unwrap_or(url)
}

/// What a non-2xx answer means for the user; `None` for a success.
pub fn answer_error(url: &str, status: u16) -> Option<String> {
    let why = match status {
        200..=299 => return None,
        401 | 403 => "the server refuses to give it without credentials",
        404 | 410 => "no such file",
        _ => "the server did not give the file",
    };
    Some(format!("{url} answered {status}: {why}"))
}

/// A fetch that failed before any answer (the browser gives no reason to the page).
pub fn fetch_failed(url: &str, detail: &str) -> String {
    format!(
        "{url} could not be fetched ({detail}): the server is unreachable, or it is on another origin and \
         does not allow this page to read it (CORS: it must answer with Access-Control-Allow-Origin)"
    )
}

/// A fetch of another origin given up after [`crate::sources::DIRECT_TIMEOUT_SECONDS`] in which
/// the server sent nothing: no answer, or an answer that stopped midway.
pub fn timed_out(url: &str) -> String {
    format!(
        "{url} could not be fetched: the server sent nothing for {} s (no answer, or an answer that stopped \
         midway): is it up?",
        crate::sources::DIRECT_TIMEOUT_SECONDS
    )
}

/// What a file of `bytes` says when it is larger than the viewer reads
/// ([`crate::sources::MAX_ANSWER_BYTES`]); `None` when it is not.
pub fn too_large(url: &str, bytes: f64) -> Option<String> {
    let max = crate::sources::MAX_ANSWER_BYTES;
    (bytes > max).then(|| {
        format!(
            "{url} is too large to open ({} MB; the viewer reads up to {} MB)",
            (bytes / 1e6).round() as u64,
            (max / 1e6).round() as u64
        )
    })
}

/// What a trace file holds: one trace, laid out, or several, listed newest first (Jaeger UI
/// lists every trace of an uploaded file too) with the spans to lay out the one chosen.
#[derive(Debug)]
pub enum Opened {
    /// The file's only trace.
    One(Trace),
    /// Every trace of the file, summarised, and the file's spans.
    Many(Vec<TraceSummary>, std::sync::Arc<TracesData>),
}

/// Reads a trace file's bytes with the tolerant reader (OTLP/JSON or JSON lines, Jaeger JSON,
/// Zipkin v2): a file of one trace is laid out, one of several listed. `name` names the file in
/// the error messages. The second value says which lines of a JSON-lines file could not be read
/// and were left out.
pub fn read_file(name: &str, bytes: Vec<u8>) -> Result<(Opened, Option<String>), String> {
    let text = String::from_utf8(bytes).map_err(|e| format!("{name} is not a trace file: not UTF-8 text ({e})"))?;
    if text.trim().is_empty() {
        return Err(format!("{name} is empty"));
    }
    let (data, skipped) =
        edgescope_otlp::read::any_traces_file(&text).map_err(|e| format!("{name} is not a trace file: {e}"))?;
    drop(text);
    let skipped = skipped.map(|s| format!("{name}: {s}"));
    let first = data.spans().next().map(|(_, _, s)| s.trace_id);
    if first.is_some_and(|first| data.spans().any(|(_, _, s)| s.trace_id != first)) {
        return Ok((Opened::Many(crate::sources::summarize(&data), std::sync::Arc::new(data)), skipped));
    }
    let trace = Trace::from_data(data);
    if trace.rows.is_empty() {
        return Err(format!("{name} holds no spans"));
    }
    Ok((Opened::One(trace), skipped))
}

/// The trace with this id (lowercase hex, as [`TraceSummary::trace_id`]) among a file's spans:
/// only its spans are copied, with their resources and scopes.
pub fn trace_of(data: &TracesData, trace_id: &str) -> Trace {
    let Some(wanted) = TraceId::from_hex(trace_id) else {
        return Trace::from_data(TracesData::default());
    };
    let resource_spans = data
        .resource_spans
        .iter()
        .filter_map(|rs| {
            let scope_spans: Vec<ScopeSpans> = rs
                .scope_spans
                .iter()
                .filter_map(|ss| {
                    let spans: Vec<_> = ss.spans.iter().filter(|s| s.trace_id == wanted).cloned().collect();
                    (!spans.is_empty()).then(|| ScopeSpans {
                        scope: ss.scope.clone(),
                        spans,
                        schema_url: ss.schema_url.clone(),
                    })
                })
                .collect();
            (!scope_spans.is_empty()).then(|| ResourceSpans {
                resource: rs.resource.clone(),
                scope_spans,
                schema_url: rs.schema_url.clone(),
            })
        })
        .collect();
    Trace::from_data(TracesData { resource_spans })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/../../shared/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn http_urls_and_own_paths_are_taken_and_anything_else_is_refused() {
        assert_eq!(check_url(" https://files.test/a.json ").unwrap(), "https://files.test/a.json");
        assert_eq!(check_url("HTTP://files.test/a.json").unwrap(), "HTTP://files.test/a.json");
        assert_eq!(check_url("/fixtures/a.json").unwrap(), "/fixtures/a.json");
        for bad in [
            "not a url",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "//evil.test/a.json",
            "/\\evil.test",
            "http://",
            "",
        ] {
            let e = check_url(bad).unwrap_err();
            assert!(e.contains("is not a URL"), "{bad}: {e}");
        }
    }

    #[test]
    fn failures_name_the_file_and_what_went_wrong() {
        assert_eq!(file_name("https://files.test/dir/trace.json?x=1"), "trace.json");
        assert_eq!(file_name("https://files.test/dir/"), "dir");
        assert_eq!(answer_error("https://files.test/a.json", 200), None);
        let missing = answer_error("https://files.test/a.json", 404).unwrap();
        assert!(missing.starts_with("https://files.test/a.json answered 404") && missing.contains("no such file"));
        assert!(answer_error("/a.json", 403).unwrap().contains("credentials"));
        assert!(answer_error("/a.json", 500).unwrap().contains("answered 500"));
        let blocked = fetch_failed("https://files.test/a.json", "TypeError: Failed to fetch");
        assert!(
            blocked.contains("could not be fetched") && blocked.contains("CORS") && blocked.contains("Failed to fetch")
        );
        // No answer in 30 s, or one above the 256 MiB the viewer reads: named with the URL.
        let late = timed_out("https://files.test/a.json");
        assert!(
            late.starts_with("https://files.test/a.json could not be fetched")
                && late.contains("sent nothing for 30 s"),
            "{late}"
        );
        assert_eq!(too_large("https://files.test/a.json", crate::sources::MAX_ANSWER_BYTES), None);
        assert_eq!(
            too_large("https://files.test/a.json", 300e6).unwrap(),
            "https://files.test/a.json is too large to open (300 MB; the viewer reads up to 268 MB)"
        );
    }

    #[test]
    fn files_go_through_the_tolerant_reader_and_a_file_that_is_no_trace_says_so() {
        let one = |name: &str| match read_file(name, fixture(name)).unwrap().0 {
            Opened::One(trace) => trace,
            Opened::Many(..) => panic!("{name} holds one trace"),
        };
        assert_eq!(one("otlp-proto-trace.json").trace_id, "5b8efff798038103d269b633813fc60c");
        assert!(one("zipkin-lens-skew.json").rows.len() > 1);
        let e = read_file("services.json", fixture("jaeger-apiv3-GetServices.json")).err().unwrap();
        assert!(e.starts_with("services.json "), "{e}");
        let e = read_file("x.bin", vec![0xff, 0xfe]).err().unwrap();
        assert!(e.contains("x.bin is not a trace file: not UTF-8"), "{e}");
    }

    /// A traces line and a logs line of one trace, and a metrics line: what one OpenTelemetry
    /// Collector file exporter in three pipelines writes.
    pub(crate) const MIXED_LINES: &str = concat!(
        r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"mixed"}}]},"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"1111111111111111","name":"root","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000100000000"}]}]}]}"#,
        "\n",
        r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"mixed"}}]},"scopeLogs":[{"logRecords":[{"timeUnixNano":"1700000000020000000","severityNumber":9,"body":{"stringValue":"hello"},"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"1111111111111111"}]}]}]}"#,
        "\n",
        r#"{"resourceMetrics":[{"resource":{},"scopeMetrics":[]}]}"#,
        "\n"
    );

    #[test]
    fn json_lines_of_traces_and_other_signals_open_the_traces_and_a_file_without_traces_says_where_to_open_it() {
        let Opened::One(trace) = read_file("mixed.jsonl", MIXED_LINES.as_bytes().to_vec()).unwrap().0 else { panic!() };
        assert_eq!(trace.rows.len(), 1);
        assert_eq!(trace.rows[0].span.name, "root");
        // A line cut off (a file exporter stopped mid-write) is left out, and named.
        let cut = format!("{MIXED_LINES}{{\"resourceSpans\":[{{\"scopeSpans\"\n");
        let (Opened::One(trace), Some(skipped)) = read_file("cut.jsonl", cut.into_bytes()).unwrap() else { panic!() };
        assert_eq!(trace.rows.len(), 1);
        assert!(
            skipped.starts_with(
                "cut.jsonl: 1 of its 4 lines could not be read and was left out (it: line 4: invalid JSON"
            ),
            "{skipped}"
        );
        let logs_only: String = MIXED_LINES.lines().skip(1).map(|l| format!("{l}\n")).collect();
        let e = read_file("logs.jsonl", logs_only.into_bytes()).err().unwrap();
        assert!(e.starts_with("logs.jsonl ") && e.ends_with(edgescope_otlp::read::LOGS_PAGE), "{e}");
        let one_logs_document = MIXED_LINES.lines().nth(1).unwrap().as_bytes().to_vec();
        let e = read_file("logs.json", one_logs_document).err().unwrap();
        assert!(e.contains("holds logs, not traces") && e.ends_with(edgescope_otlp::read::LOGS_PAGE), "{e}");
        assert_eq!(read_file("empty.json", b" \n".to_vec()).err().unwrap(), "empty.json is empty");
    }

    #[test]
    fn a_file_of_several_traces_lists_each_and_opens_any_of_them() {
        let Opened::Many(list, data) = read_file("two.json", fixture("jaeger-memory-otel_traces_01.json")).unwrap().0
        else {
            panic!("two traces are listed, not the first laid out alone")
        };
        let ids: Vec<&str> = list.iter().map(|t| t.trace_id.as_str()).collect();
        assert_eq!(ids.len(), 2);
        assert!(ids.contains(&"00000000000000010000000000000000") && ids.contains(&"00000000000000020000000000000000"));
        assert!(list.iter().all(|t| t.span_count == 2 && t.services == ["service-x"]), "{list:?}");
        let second = trace_of(&data, "00000000000000020000000000000000");
        assert_eq!(second.trace_id, "00000000000000020000000000000000");
        assert_eq!(second.rows.len(), 2);
    }

    #[test]
    fn a_trace_opened_from_a_file_names_only_its_own_services_and_scopes() {
        let file = br#"{"resourceSpans":[
            {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"web"}}]},
             "scopeSpans":[{"scope":{"name":"web-scope"},"spans":[
                {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"GET /","startTimeUnixNano":"1","endTimeUnixNano":"5"}]}]},
            {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"batch"}}]},
             "scopeSpans":[{"scope":{"name":"batch-scope"},"spans":[
                {"traceId":"11111111111111111111111111111111","spanId":"00f067aa0ba902b7","name":"job","startTimeUnixNano":"2","endTimeUnixNano":"9"}]}]}
        ]}"#;
        let Opened::Many(_, data) = read_file("two.json", file.to_vec()).unwrap().0 else {
            panic!("two traces are listed")
        };
        let web = trace_of(&data, "0af7651916cd43dd8448eb211c80319c");
        assert_eq!(web.services, ["web"], "the other trace's resource is not this trace's service");
        assert_eq!(web.scopes.len(), 1);
        assert_eq!(web.rows.len(), 1);
        assert_eq!(trace_of(&data, "not hex").rows.len(), 0);
    }
}
