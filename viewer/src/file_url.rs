//! OTLP files opened by URL (`/open?url=…` for traces, `/logs?file=…` for logs): which URLs are
//! taken, and what the error panel says when a fetch fails. The bytes go through the same
//! tolerant reader as a chosen or dropped file ([`read_trace`]).

use crate::model::Trace;

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

/// Reads a trace file's bytes with the tolerant reader (OTLP/JSON or JSON lines, Jaeger JSON,
/// Zipkin v2) and lays out its first trace. `name` names the file in the error messages.
pub fn read_trace(name: &str, bytes: Vec<u8>) -> Result<Trace, String> {
    let text = String::from_utf8(bytes).map_err(|e| format!("{name} is not a trace file: not UTF-8 text ({e})"))?;
    let data = edgescope_otlp::read::any_traces(&text).map_err(|e| format!("{name} is not a trace file: {e}"))?;
    drop(text);
    let trace = Trace::first_of(data);
    if trace.rows.is_empty() {
        return Err(format!("{name} holds no spans"));
    }
    Ok(trace)
}

#[cfg(test)]
mod tests {
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
    }

    #[test]
    fn files_go_through_the_tolerant_reader_and_a_file_that_is_no_trace_says_so() {
        let otlp = read_trace("otlp.json", fixture("otlp-proto-trace.json")).unwrap();
        assert_eq!(otlp.trace_id, "5b8efff798038103d269b633813fc60c");
        let zipkin = read_trace("skew.json", fixture("zipkin-lens-skew.json")).unwrap();
        assert!(zipkin.rows.len() > 1);
        let e = read_trace("services.json", fixture("jaeger-apiv3-GetServices.json")).unwrap_err();
        assert!(e.starts_with("services.json "), "{e}");
        let e = read_trace("x.bin", vec![0xff, 0xfe]).unwrap_err();
        assert!(e.contains("x.bin is not a trace file: not UTF-8"), "{e}");
    }
}
