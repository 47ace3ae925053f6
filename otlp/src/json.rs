//! A strict OTLP/JSON writer: lowerCamelCase keys, lowercase hex ids, integer enums,
//! 64-bit integers as strings, `bytes` as base64, empty fields left out.
//!
//! It builds the text by hand rather than through serde so that the browser SDK, which uses it,
//! carries no JSON library. Doubles go through a formatter the caller may replace
//! ([`write_traces_with`]); on wasm the SDK hands that job to JavaScript's own number printing.

use alloc::string::String;

use crate::{AnyValue, Event, InstrumentationScope, KeyValue, Link, LogRecord, LogsData, Resource, Span, TracesData};

/// Formats a finite or non-finite double as a JSON value.
pub type FloatFormat = fn(f64, &mut String);

/// Writes a double as the shortest text that reads back to the same value; NaN and the
/// infinities as the strings proto3 JSON uses.
pub fn format_f64(v: f64, out: &mut String) {
    if v.is_nan() {
        out.push_str("\"NaN\"");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "\"Infinity\"" } else { "\"-Infinity\"" });
    } else if v == 0.0 && v.is_sign_negative() {
        // As protojson writes it: an integer's form would lose the sign.
        out.push_str("-0");
    } else if v.abs() < 1e15 && v == (v as i64) as f64 {
        push_i64(v as i64, out);
    } else {
        out.push_str(ryu::Buffer::new().format_finite(v));
    }
}

/// `ExportTraceServiceRequest` as OTLP/JSON.
pub fn write_traces(data: &TracesData) -> String {
    write_traces_with(data, format_f64)
}

/// `ExportLogsServiceRequest` as OTLP/JSON.
pub fn write_logs(data: &LogsData) -> String {
    write_logs_with(data, format_f64)
}

/// [`write_traces`] with a caller-supplied double formatter.
pub fn write_traces_with(data: &TracesData, float: FloatFormat) -> String {
    let mut w = Writer { out: String::with_capacity(1024), float };
    w.out.push_str("{\"resourceSpans\":[");
    for (i, rs) in data.resource_spans.iter().enumerate() {
        w.comma(i);
        w.out.push_str("{\"resource\":");
        w.resource(&rs.resource);
        w.out.push_str(",\"scopeSpans\":[");
        for (j, ss) in rs.scope_spans.iter().enumerate() {
            w.comma(j);
            w.out.push_str("{\"scope\":");
            w.scope(&ss.scope);
            w.out.push_str(",\"spans\":[");
            for (k, span) in ss.spans.iter().enumerate() {
                w.comma(k);
                w.span(span);
            }
            w.out.push(']');
            w.opt_str("schemaUrl", &ss.schema_url);
            w.out.push('}');
        }
        w.out.push(']');
        w.opt_str("schemaUrl", &rs.schema_url);
        w.out.push('}');
    }
    w.out.push_str("]}");
    w.out
}

/// [`write_logs`] with a caller-supplied double formatter.
pub fn write_logs_with(data: &LogsData, float: FloatFormat) -> String {
    let mut w = Writer { out: String::with_capacity(1024), float };
    w.out.push_str("{\"resourceLogs\":[");
    for (i, rl) in data.resource_logs.iter().enumerate() {
        w.comma(i);
        w.out.push_str("{\"resource\":");
        w.resource(&rl.resource);
        w.out.push_str(",\"scopeLogs\":[");
        for (j, sl) in rl.scope_logs.iter().enumerate() {
            w.comma(j);
            w.out.push_str("{\"scope\":");
            w.scope(&sl.scope);
            w.out.push_str(",\"logRecords\":[");
            for (k, record) in sl.log_records.iter().enumerate() {
                w.comma(k);
                w.log_record(record);
            }
            w.out.push(']');
            w.opt_str("schemaUrl", &sl.schema_url);
            w.out.push('}');
        }
        w.out.push(']');
        w.opt_str("schemaUrl", &rl.schema_url);
        w.out.push('}');
    }
    w.out.push_str("]}");
    w.out
}

/// One resource as an OTLP/JSON `Resource` object.
pub fn write_resource(resource: &Resource) -> String {
    let mut w = Writer { out: String::new(), float: format_f64 };
    w.resource(resource);
    w.out
}

/// One scope as an OTLP/JSON `InstrumentationScope` object.
pub fn write_scope(scope: &InstrumentationScope) -> String {
    let mut w = Writer { out: String::new(), float: format_f64 };
    w.scope(scope);
    w.out
}

/// One span as an OTLP/JSON `Span` object.
pub fn write_span(span: &Span) -> String {
    let mut w = Writer { out: String::new(), float: format_f64 };
    w.span(span);
    w.out
}

/// One record as an OTLP/JSON `LogRecord` object.
pub fn write_log_record(record: &LogRecord) -> String {
    let mut w = Writer { out: String::new(), float: format_f64 };
    w.log_record(record);
    w.out
}

/// Appends a JSON string literal, escaping quotes, backslashes and control characters.
pub fn push_string(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    // Char by char rather than by slicing runs: slicing carries a formatting panic path that
    // costs the SDK's wasm module kilobytes.
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0'..='\u{1f}' => {
                out.push_str("\\u00");
                crate::hex::encode_into(&[c as u8], out);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends an unsigned integer in decimal.
pub fn push_u64(mut v: u64, out: &mut String) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        out.push(b as char);
    }
}

fn push_i64(v: i64, out: &mut String) {
    if v < 0 {
        out.push('-');
    }
    push_u64(v.unsigned_abs(), out);
}

struct Writer {
    out: String,
    float: FloatFormat,
}

impl Writer {
    fn comma(&mut self, index: usize) {
        if index > 0 {
            self.out.push(',');
        }
    }

    fn key(&mut self, key: &str) {
        self.out.push_str(",\"");
        self.out.push_str(key);
        self.out.push_str("\":");
    }

    fn opt_str(&mut self, key: &str, value: &str) {
        if !value.is_empty() {
            self.key(key);
            push_string(value, &mut self.out);
        }
    }

    fn opt_u32(&mut self, key: &str, value: u32) {
        if value != 0 {
            self.key(key);
            push_u64(value as u64, &mut self.out);
        }
    }

    /// A uint64/fixed64 field, which OTLP/JSON writes as a decimal string.
    fn u64_str(&mut self, key: &str, value: u64) {
        self.key(key);
        self.out.push('"');
        push_u64(value, &mut self.out);
        self.out.push('"');
    }

    fn hex(&mut self, key: &str, bytes: &[u8]) {
        self.key(key);
        self.out.push('"');
        crate::hex::encode_into(bytes, &mut self.out);
        self.out.push('"');
    }

    fn resource(&mut self, resource: &Resource) {
        self.out.push_str("{\"attributes\":");
        self.attributes(&resource.attributes);
        self.opt_u32("droppedAttributesCount", resource.dropped_attributes_count);
        self.out.push('}');
    }

    fn scope(&mut self, scope: &InstrumentationScope) {
        self.out.push_str("{\"name\":");
        push_string(&scope.name, &mut self.out);
        self.opt_str("version", &scope.version);
        if !scope.attributes.is_empty() {
            self.key("attributes");
            self.attributes(&scope.attributes);
        }
        self.opt_u32("droppedAttributesCount", scope.dropped_attributes_count);
        self.out.push('}');
    }

    fn attributes(&mut self, attributes: &[KeyValue]) {
        self.out.push('[');
        for (i, kv) in attributes.iter().enumerate() {
            self.comma(i);
            self.out.push_str("{\"key\":");
            push_string(&kv.key, &mut self.out);
            if let Some(v) = &kv.value {
                self.key("value");
                self.any_value(v);
            }
            self.out.push('}');
        }
        self.out.push(']');
    }

    fn any_value(&mut self, value: &AnyValue) {
        match value {
            AnyValue::String(s) => {
                self.out.push_str("{\"stringValue\":");
                push_string(s, &mut self.out);
            }
            AnyValue::Bool(b) => {
                self.out.push_str(if *b { "{\"boolValue\":true" } else { "{\"boolValue\":false" });
            }
            AnyValue::Int(i) => {
                self.out.push_str("{\"intValue\":\"");
                push_i64(*i, &mut self.out);
                self.out.push('"');
            }
            AnyValue::Double(d) => {
                self.out.push_str("{\"doubleValue\":");
                (self.float)(*d, &mut self.out);
            }
            AnyValue::Array(values) => {
                self.out.push_str("{\"arrayValue\":{\"values\":[");
                for (i, v) in values.iter().enumerate() {
                    self.comma(i);
                    self.any_value(v);
                }
                self.out.push_str("]}");
            }
            AnyValue::KvList(values) => {
                self.out.push_str("{\"kvlistValue\":{\"values\":");
                self.attributes(values);
                self.out.push('}');
            }
            AnyValue::Bytes(bytes) => {
                self.out.push_str("{\"bytesValue\":\"");
                crate::hex::base64_into(bytes, &mut self.out);
                self.out.push('"');
            }
            AnyValue::Empty => self.out.push('{'),
        }
        self.out.push('}');
    }

    fn span(&mut self, span: &Span) {
        self.out.push_str("{\"traceId\":\"");
        crate::hex::encode_into(&span.trace_id.0, &mut self.out);
        self.out.push('"');
        self.hex("spanId", &span.span_id.0);
        self.opt_str("traceState", &span.trace_state);
        if let Some(parent) = &span.parent_span_id {
            self.hex("parentSpanId", &parent.0);
        }
        self.opt_u32("flags", span.flags);
        self.key("name");
        push_string(&span.name, &mut self.out);
        self.key("kind");
        push_u64(span.kind as u64, &mut self.out);
        self.u64_str("startTimeUnixNano", span.start_time_unix_nano);
        self.u64_str("endTimeUnixNano", span.end_time_unix_nano);
        if !span.attributes.is_empty() {
            self.key("attributes");
            self.attributes(&span.attributes);
        }
        self.opt_u32("droppedAttributesCount", span.dropped_attributes_count);
        if !span.events.is_empty() {
            self.key("events");
            self.out.push('[');
            for (i, e) in span.events.iter().enumerate() {
                self.comma(i);
                self.event(e);
            }
            self.out.push(']');
        }
        self.opt_u32("droppedEventsCount", span.dropped_events_count);
        if !span.links.is_empty() {
            self.key("links");
            self.out.push('[');
            for (i, l) in span.links.iter().enumerate() {
                self.comma(i);
                self.link(l);
            }
            self.out.push(']');
        }
        self.opt_u32("droppedLinksCount", span.dropped_links_count);
        self.key("status");
        self.out.push('{');
        let mut first = true;
        if !span.status.message.is_empty() {
            self.out.push_str("\"message\":");
            push_string(&span.status.message, &mut self.out);
            first = false;
        }
        if span.status.code as i32 != 0 {
            if !first {
                self.out.push(',');
            }
            self.out.push_str("\"code\":");
            push_u64(span.status.code as u64, &mut self.out);
        }
        self.out.push_str("}}");
    }

    fn event(&mut self, event: &Event) {
        self.out.push_str("{\"timeUnixNano\":\"");
        push_u64(event.time_unix_nano, &mut self.out);
        self.out.push('"');
        self.key("name");
        push_string(&event.name, &mut self.out);
        if !event.attributes.is_empty() {
            self.key("attributes");
            self.attributes(&event.attributes);
        }
        self.opt_u32("droppedAttributesCount", event.dropped_attributes_count);
        self.out.push('}');
    }

    fn link(&mut self, link: &Link) {
        self.out.push_str("{\"traceId\":\"");
        crate::hex::encode_into(&link.trace_id.0, &mut self.out);
        self.out.push('"');
        self.hex("spanId", &link.span_id.0);
        self.opt_str("traceState", &link.trace_state);
        if !link.attributes.is_empty() {
            self.key("attributes");
            self.attributes(&link.attributes);
        }
        self.opt_u32("droppedAttributesCount", link.dropped_attributes_count);
        self.opt_u32("flags", link.flags);
        self.out.push('}');
    }

    fn log_record(&mut self, r: &LogRecord) {
        self.out.push_str("{\"timeUnixNano\":\"");
        push_u64(r.time_unix_nano, &mut self.out);
        self.out.push('"');
        self.u64_str("observedTimeUnixNano", r.observed_time_unix_nano);
        if r.severity_number != 0 {
            self.key("severityNumber");
            push_i64(r.severity_number as i64, &mut self.out);
        }
        self.opt_str("severityText", &r.severity_text);
        if let Some(body) = &r.body {
            self.key("body");
            self.any_value(body);
        }
        if !r.attributes.is_empty() {
            self.key("attributes");
            self.attributes(&r.attributes);
        }
        self.opt_u32("droppedAttributesCount", r.dropped_attributes_count);
        self.opt_u32("flags", r.flags);
        if let Some(t) = &r.trace_id {
            self.hex("traceId", &t.0);
        }
        if let Some(s) = &r.span_id {
            self.hex("spanId", &s.0);
        }
        self.opt_str("eventName", &r.event_name);
        self.out.push('}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_quotes_backslashes_and_control_characters() {
        let mut s = String::new();
        push_string("a\"b\\c\nd\u{1}é", &mut s);
        assert_eq!(s, r#""a\"b\\c\nd\u0001é""#);
    }

    #[test]
    fn integers_print_in_decimal_at_the_extremes() {
        let mut s = String::new();
        push_u64(u64::MAX, &mut s);
        s.push(' ');
        push_i64(i64::MIN, &mut s);
        s.push(' ');
        push_u64(0, &mut s);
        assert_eq!(s, "18446744073709551615 -9223372036854775808 0");
    }

    #[test]
    fn doubles_are_shortest_round_trip_and_non_finite_values_are_strings() {
        let cases = [
            (0.1, "0.1"),
            (2.0, "2"),
            (-0.0, "-0"),
            (-1.5e300, "-1.5e300"),
            (f64::NAN, "\"NaN\""),
            (f64::NEG_INFINITY, "\"-Infinity\""),
        ];
        for (v, want) in cases {
            let mut s = String::new();
            format_f64(v, &mut s);
            assert_eq!(s, want);
        }
    }
}
