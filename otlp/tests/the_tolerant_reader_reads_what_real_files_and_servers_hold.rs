//! Inputs real tools write that the tolerant reader must read as their authors meant them.

use edgescope_otlp::read::{self, any_traces, Ids};

const OTLP: &str = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"a"}]}]}]}"#;

fn names(text: &str) -> Vec<String> {
    let data = any_traces(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    data.spans().map(|(_, _, s)| s.name.clone()).collect()
}

#[test]
fn a_byte_order_mark_before_the_document_is_skipped() {
    // Windows tools (PowerShell's Out-File, Notepad) start UTF-8 files with one.
    assert_eq!(names(&format!("\u{feff}{OTLP}")), ["a"]);
    let zipkin = r#"[{"traceId":"a1","id":"b2","name":"z","timestamp":1}]"#;
    assert_eq!(names(&format!("\u{feff}{zipkin}")), ["z"]);
    let lines = format!(
        "\u{feff}{OTLP}\r\n\r\n{}\r\n",
        OTLP.replace("\"a\"", "\"b\"").replace("0708\",\"name", "0709\",\"name")
    );
    assert_eq!(names(&lines), ["a", "b"]);
    assert_eq!(read::traces_from_str(&format!("\u{feff}{OTLP}"), Ids::Strict).unwrap().spans().count(), 1);
    let logs = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"x"}}]}]}]}"#;
    assert_eq!(read::logs_from_str(&format!("\u{feff}{logs}"), Ids::Strict).unwrap().records().count(), 1);
}
