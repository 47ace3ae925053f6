//! Every file in `../shared/fixtures` (real telemetry written by other projects; MANIFEST.tsv
//! there names each file's source repository, path and licence) loads through the tolerant
//! reader with the span or record count the manifest gives, or is refused with a clear error
//! when it is not a trace or log document.

use std::collections::HashSet;

use edgescope_otlp::read::{self, any_traces, Ids};
use edgescope_otlp::{attribute, AnyValue};

fn dir() -> String {
    format!("{}/../../shared/fixtures", env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/{name}", dir())).unwrap()
}

#[test]
fn every_fixture_loads_with_the_manifest_counts() {
    let manifest = fixture("MANIFEST.tsv");
    let mut checked = 0;
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, format, count) = (cols[0], cols[5], cols[7]);
        let text = fixture(file);
        let n: Option<usize> = count.split(' ').next().and_then(|n| n.parse().ok());
        if count.ends_with("spans") || count.ends_with("span") {
            let data = any_traces(&text).unwrap_or_else(|e| panic!("{file} ({format}): {e}"));
            let spans: Vec<_> = data.spans().map(|(_, _, s)| (s.trace_id, s.span_id)).collect();
            assert_eq!(Some(spans.len()), n, "{file}: span count");
            assert_eq!(spans.iter().collect::<HashSet<_>>().len(), spans.len(), "{file}: ids are unique");
            checked += 1;
        } else if count.contains("log record") {
            let data = read::logs_from_str(&text, Ids::Tolerant).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(Some(data.records().count()), n, "{file}: record count");
            checked += 1;
        } else {
            let e = any_traces(&text).expect_err(file);
            assert!(!e.message.is_empty(), "{file}: a clear error");
            checked += 1;
        }
    }
    assert!(checked >= 24, "all fixtures were checked ({checked})");
}

#[test]
fn zipkin_shared_ids_become_parent_and_child_and_missing_timestamps_are_inferred() {
    let data = any_traces(&fixture("zipkin-lens-smartthings-mobile-web-install.json")).unwrap();
    let spans: Vec<_> = data.spans().map(|(r, _, s)| (r.service_name().to_owned(), s.clone())).collect();
    assert_eq!(spans.len(), 1041);
    let services: HashSet<_> = spans.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(services.len(), 16, "one resource per Zipkin service");
    let ids: HashSet<_> = spans.iter().map(|(_, s)| s.span_id).collect();
    let orphans = spans.iter().filter(|(_, s)| s.parent_span_id.is_some_and(|p| !ids.contains(&p))).count();
    assert_eq!(orphans, 0, "every parent id names a span of the trace");
    assert_eq!(spans.iter().filter(|(_, s)| s.parent_span_id.is_none()).count(), 1, "one root");
    let inferred = spans
        .iter()
        .filter(|(_, s)| attribute(&s.attributes, "edgescope.zipkin.missing_timestamp").is_some())
        .collect::<Vec<_>>();
    assert_eq!(inferred.len(), 84);
    assert!(spans.iter().all(|(_, s)| s.start_time_unix_nano > 1_500_000_000_000_000_000), "every span has a time");
}

#[test]
fn jaeger_json_keeps_tag_types_processes_and_references() {
    let data = any_traces(&fixture("jaeger-uimodel-ui_01.json")).unwrap();
    let services: Vec<_> = data.resource_spans.iter().map(|rs| rs.resource.service_name().to_owned()).collect();
    assert_eq!(services, ["service-x", "service-y"]);
    // The fixture has two spans with id 2 (a Jaeger test of exactly that): the second gets a new id.
    let span =
        data.spans().map(|(_, _, s)| s).find(|s| s.name == "some-operation" && s.parent_span_id.is_none()).unwrap();
    assert_eq!(attribute(&span.attributes, "edgescope.original_span_id"), Some(&AnyValue::from("0000000000000002")));
    assert_eq!(span.trace_id.to_hex(), "00000000000000000000000000000001", "64-bit ids are left-padded");
    assert_eq!(attribute(&span.attributes, "javascript_limit"), Some(&AnyValue::Int(9_223_372_036_854_775_222)));
    assert_eq!(attribute(&span.attributes, "temperature"), Some(&AnyValue::Double(72.5)));
    assert_eq!(attribute(&span.attributes, "blob"), Some(&AnyValue::Bytes(vec![0, 0, 48, 57])));
    assert_eq!(span.status.code, edgescope_otlp::StatusCode::Error, "error=true");
    assert_eq!(span.duration_nanos(), 5_000, "microseconds");
    let with_refs =
        data.spans().map(|(_, _, s)| s).filter(|s| s.parent_span_id.is_some() || !s.links.is_empty()).count();
    assert!(with_refs >= 3, "references became parents and links");
}

#[test]
fn otlp_json_lines_and_garbage_are_told_apart() {
    let one = fixture("otlp-proto-trace.json").replace('\n', "");
    let two = fixture("otel-rust-it-traces.json").replace('\n', "");
    let lines = format!("{one}\n{two}\n");
    assert_eq!(any_traces(&lines).unwrap().spans().count(), 3);
    // A first line that is no JSON by itself: the whole text is read as one document, whose
    // error names the place.
    let e = any_traces("{\"resourceSpans\": [}\n{}").unwrap_err();
    assert!(e.message.starts_with("invalid JSON") && e.message.contains("line 1 column 20"), "{e:?}");
    // Lines are numbered as in the file, blank ones counted.
    let e = any_traces(&format!("{one}\n\n{{\"resourceSpans\": [}}\n")).unwrap_err();
    assert_eq!((e.path.as_str(), e.message.starts_with("invalid JSON")), ("line 3", true), "{e:?}");
    assert!(any_traces("42").unwrap_err().message.contains("not a trace document"));
}
