//! Matching one `key = value` condition of a trace search against a span, the way Jaeger's
//! reference (in-memory) storage does.
//!
//! A condition holds when the span, one of its events or links, its instrumentation scope or
//! its resource has an attribute `key` whose value, written as text, equals `value`. Values
//! are written as Go's `pcommon.Value.AsString` writes them: strings as they are, booleans as
//! `true`/`false`, integers in decimal, doubles in their shortest form (`72.5`, `1e+21`; infinities and
//! NaN as `json: unsupported value: +Inf`, and an array or map holding one as nothing), bytes
//! as padded base64, and arrays and maps as JSON. The key `error` is special, as in Jaeger: it
//! matches the span status (`true`: error, `false`: ok).

use edgescope_otlp::{json, AnyValue, InstrumentationScope, KeyValue, Resource, Span, StatusCode};

use crate::jaeger::parse_go_bool;
use crate::jaeger_legacy::{field_tags, scope_tags, DERIVED_TAGS};

/// One `key = value` condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttributeFilter {
    key: String,
    value: String,
}

impl AttributeFilter {
    pub(crate) fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        AttributeFilter { key: key.into(), value: value.into() }
    }

    /// Text that the stored OTLP/JSON of the span, its scope or its resource must contain for
    /// the condition to hold (the key as a JSON string), so that storage can skip rows cheaply;
    /// `None` when the condition is not about an attribute.
    pub(crate) fn needle(&self) -> Option<String> {
        if self.derived() {
            return None;
        }
        let mut out = String::new();
        json::push_string(&self.key, &mut out);
        Some(out)
    }

    /// Bytes that a span stored as protobuf must contain for the condition to hold on it, one
    /// of its events or one of its links: the key as field 1 of a `KeyValue` (tag, length,
    /// UTF-8), as `proto::encode_span` writes every attribute key. Like the JSON needle it can
    /// also occur elsewhere (a string value is field 1 of an `AnyValue`); the exact check
    /// follows. Empty for an empty key, which the encoder leaves out (every row contains the
    /// empty needle); `None` when the condition is not about an attribute.
    pub(crate) fn protobuf_needle(&self) -> Option<Vec<u8>> {
        if self.derived() {
            return None;
        }
        if self.key.is_empty() {
            return Some(Vec::new());
        }
        let mut out = vec![0x0a];
        let mut len = self.key.len();
        while len >= 0x80 {
            out.push(len as u8 | 0x80);
            len >>= 7;
        }
        out.push(len as u8);
        out.extend_from_slice(self.key.as_bytes());
        Some(out)
    }

    /// Whether the span, with its scope and resource, satisfies the condition.
    pub(crate) fn matches(&self, resource: &Resource, scope: &InstrumentationScope, span: &Span) -> bool {
        if self.key == "error" {
            return match parse_go_bool(&self.value) {
                // Jaeger's `error` tag: from status ERROR, or the span's own `error` attribute.
                Some(true) => span.is_error(),
                Some(false) => span.status.code == StatusCode::Ok,
                None => false,
            };
        }
        if self.matches_derived(scope, span) {
            return true;
        }
        let lists = [&span.attributes, &scope.attributes, &resource.attributes]
            .into_iter()
            .chain(span.events.iter().map(|e| &e.attributes))
            .chain(span.links.iter().map(|l| &l.attributes));
        lists.into_iter().any(|list| self.matches_list(list))
    }

    /// Whether a tag that Jaeger's model gives the span from its fields (`jaeger_legacy.rs`
    /// writes them) has the value, or an event has it as its name (Jaeger writes an event as a
    /// log whose `event` field is the name): Jaeger's storage matches those as ordinary tags.
    fn matches_derived(&self, scope: &InstrumentationScope, span: &Span) -> bool {
        if self.key == "event" {
            return span.events.iter().any(|e| e.name == self.value);
        }
        DERIVED_TAGS.contains(&self.key.as_str())
            && scope_tags(scope)
                .chain(field_tags(span))
                .any(|(key, value)| key == self.key && value_text(Some(&value)) == self.value)
    }

    /// Whether the condition is about a tag Jaeger derives from a span's fields, not about an
    /// attribute (so that no needle narrows the stored rows).
    fn derived(&self) -> bool {
        self.key == "error" || self.key == "event" || DERIVED_TAGS.contains(&self.key.as_str())
    }

    fn matches_list(&self, attributes: &[KeyValue]) -> bool {
        // Like a Go map lookup: the first attribute with the key decides.
        match attributes.iter().find(|kv| kv.key == self.key) {
            // A double JSON cannot hold is also found by the text its Jaeger tag shows
            // (`jaeger_legacy::tag`: `inf`, `-inf`, `NaN`), which is what a user copies.
            Some(kv) => {
                value_text(kv.value.as_ref()) == self.value
                    || matches!(kv.value, Some(AnyValue::Double(d)) if !d.is_finite() && d.to_string() == self.value)
            }
            None => false,
        }
    }
}

/// A value as text, as `pcommon.Value.AsString` writes it (and so Loki's OTLP ingestion, for a
/// line or a label value): strings as they are, bytes in base64, maps and arrays as the JSON Go's
/// `encoding/json` writes for their raw values (keys sorted); an empty value is `""`.
pub(crate) fn value_text(value: Option<&AnyValue>) -> String {
    let mut out = String::new();
    match value {
        None => {}
        // Go's json.Marshal refuses a non-finite double, and pcommon then writes nothing.
        Some(v @ (AnyValue::Array(_) | AnyValue::KvList(_))) if !finite(v) => {}
        Some(AnyValue::Array(_) | AnyValue::KvList(_)) => push_json(value, &mut out),
        Some(scalar) => push_scalar(scalar, &mut out),
    }
    out
}

/// Whether every double in `value` (nested too) is finite.
fn finite(value: &AnyValue) -> bool {
    match value {
        AnyValue::Double(d) => d.is_finite(),
        AnyValue::Array(items) => items.iter().all(finite),
        AnyValue::KvList(entries) => entries.iter().all(|kv| kv.value.as_ref().is_none_or(finite)),
        _ => true,
    }
}

fn push_scalar(value: &AnyValue, out: &mut String) {
    match value {
        AnyValue::String(s) => out.push_str(s),
        AnyValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        AnyValue::Int(i) => out.push_str(&i.to_string()),
        AnyValue::Double(d) => push_double(*d, out),
        AnyValue::Bytes(bytes) => push_base64(bytes, out),
        AnyValue::Array(_) | AnyValue::KvList(_) => push_json(Some(value), out),
        // As the Collector's pdata writes an empty value as text.
        AnyValue::Empty => {}
    }
}

/// Arrays and maps as JSON, map keys sorted (as Go's `encoding/json` writes a map).
fn push_json(value: Option<&AnyValue>, out: &mut String) {
    match value {
        None | Some(AnyValue::Empty) => out.push_str("null"),
        Some(AnyValue::String(s)) => push_go_json_string(s, out),
        Some(AnyValue::Bytes(bytes)) => {
            out.push('"');
            push_base64(bytes, out);
            out.push('"');
        }
        Some(AnyValue::Array(items)) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_json(Some(item), out);
            }
            out.push(']');
        }
        Some(AnyValue::KvList(entries)) => {
            // Sorted by key; of repeated keys the last one stays, as in a Go map built in order.
            let mut sorted: Vec<&KeyValue> = entries.iter().rev().collect();
            sorted.sort_by(|a, b| a.key.cmp(&b.key));
            sorted.dedup_by(|next, kept| next.key == kept.key);
            out.push('{');
            for (i, kv) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_go_json_string(&kv.key, out);
                out.push(':');
                push_json(kv.value.as_ref(), out);
            }
            out.push('}');
        }
        Some(scalar) => push_scalar(scalar, out),
    }
}

/// A JSON string as Go's `json.Marshal` writes it: `<`, `>`, `&`, U+2028 and U+2029 escaped.
fn push_go_json_string(s: &str, out: &mut String) {
    let mut text = String::new();
    json::push_string(s, &mut text);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
}

/// The shortest text that reads back to `d`, in ECMAScript's number-to-string style as Go's
/// `pcommon` uses it: plain digits from 1e-6 up to 1e21, exponent form (`1e+21`, `1e-7`) beyond.
fn push_double(d: f64, out: &mut String) {
    // What pcommon's `float64AsString` writes for values JSON cannot hold.
    if !d.is_finite() {
        out.push_str("json: unsupported value: ");
        out.push_str(if d.is_nan() {
            "NaN"
        } else if d > 0.0 {
            "+Inf"
        } else {
            "-Inf"
        });
        return;
    }
    let abs = d.abs();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        out.push_str(&d.to_string());
    } else {
        let text = format!("{d:e}");
        match text.split_once('e') {
            Some((mantissa, exponent)) if !exponent.starts_with('-') => {
                out.push_str(mantissa);
                out.push_str("e+");
                out.push_str(exponent);
            }
            _ => out.push_str(&text),
        }
    }
}

/// Standard base64 with padding, as Go writes `[]byte`.
fn push_base64(bytes: &[u8], out: &mut String) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgescope_otlp::{Event, Link, Status};

    #[test]
    fn values_are_written_as_go_pcommon_writes_them() {
        let cases: [(AnyValue, &str); 13] = [
            (AnyValue::from("five"), "five"),
            (AnyValue::Double(-0.0), "-0"),
            (AnyValue::Bool(true), "true"),
            (AnyValue::Int(-23456), "-23456"),
            (AnyValue::Double(72.5), "72.5"),
            (AnyValue::Double(2.0), "2"),
            (AnyValue::Double(1e21), "1e+21"),
            (AnyValue::Double(1e-7), "1e-7"),
            (AnyValue::Double(0.000001), "0.000001"),
            (AnyValue::Bytes(vec![0, 0, 0x30, 0x39]), "AAAwOQ=="),
            (AnyValue::Bytes(b"foob".to_vec()), "Zm9vYg=="),
            (AnyValue::Array(vec![AnyValue::Int(1), AnyValue::from("a")]), r#"[1,"a"]"#),
            (
                AnyValue::KvList(vec![KeyValue::new("b", AnyValue::Bool(false)), KeyValue::new("a", 1.5)]),
                r#"{"a":1.5,"b":false}"#,
            ),
        ];
        for (value, want) in cases {
            assert_eq!(value_text(Some(&value)), want, "{value:?}");
        }
        assert_eq!(value_text(None), "");
        // Values JSON cannot hold, as pcommon writes them: a message alone, or nothing in a list.
        assert_eq!(value_text(Some(&AnyValue::Double(f64::INFINITY))), "json: unsupported value: +Inf");
        assert_eq!(value_text(Some(&AnyValue::Double(f64::NEG_INFINITY))), "json: unsupported value: -Inf");
        assert_eq!(value_text(Some(&AnyValue::Double(f64::NAN))), "json: unsupported value: NaN");
        let nested = AnyValue::KvList(vec![KeyValue::new("a", AnyValue::Array(vec![AnyValue::Double(f64::NAN)]))]);
        assert_eq!(value_text(Some(&nested)), "");
    }

    #[test]
    fn a_condition_holds_on_span_event_link_scope_or_resource_attributes() {
        let resource = Resource { attributes: vec![KeyValue::new("host", "a")], ..Default::default() };
        let scope = InstrumentationScope { attributes: vec![KeyValue::new("lib", "x")], ..Default::default() };
        let span = Span {
            attributes: vec![KeyValue::new("n", 1i64), KeyValue::new("n", 2i64)],
            events: vec![Event { attributes: vec![KeyValue::new("ev", "yes")], ..Default::default() }],
            links: vec![Link { attributes: vec![KeyValue::new("ln", true)], ..Default::default() }],
            status: Status { code: StatusCode::Error, message: String::new() },
            ..Default::default()
        };
        for (key, value) in [("host", "a"), ("lib", "x"), ("n", "1"), ("ev", "yes"), ("ln", "true"), ("error", "t")] {
            assert!(AttributeFilter::new(key, value).matches(&resource, &scope, &span), "{key}={value}");
        }
        for (key, value) in [("host", "b"), ("n", "2"), ("missing", ""), ("error", "false"), ("error", "yes")] {
            assert!(!AttributeFilter::new(key, value).matches(&resource, &scope, &span), "{key}={value}");
        }
        // Doubles JSON cannot hold: by pcommon's text, and by the text their Jaeger tag shows.
        let span = Span {
            attributes: vec![
                KeyValue::new("up", f64::INFINITY),
                KeyValue::new("down", f64::NEG_INFINITY),
                KeyValue::new("nan", f64::NAN),
            ],
            ..Default::default()
        };
        for (key, value) in [
            ("up", "inf"),
            ("up", "json: unsupported value: +Inf"),
            ("down", "-inf"),
            ("nan", "NaN"),
            ("nan", "json: unsupported value: NaN"),
        ] {
            assert!(AttributeFilter::new(key, value).matches(&resource, &scope, &span), "{key}={value}");
        }
        assert!(!AttributeFilter::new("up", "-inf").matches(&resource, &scope, &span));
        // `error=true` finds a span marked by its own `error` attribute too, as Jaeger's tag does.
        for value in [AnyValue::Bool(true), AnyValue::from("true")] {
            let span =
                Span { attributes: vec![KeyValue { key: "error".into(), value: Some(value) }], ..Default::default() };
            assert!(AttributeFilter::new("error", "true").matches(&resource, &scope, &span));
        }
        assert!(!AttributeFilter::new("error", "true").matches(&resource, &scope, &Span::default()));
    }

    #[test]
    fn the_needle_is_the_key_as_the_json_writer_writes_it() {
        assert_eq!(AttributeFilter::new("a\"b", "").needle().as_deref(), Some(r#""a\"b""#));
        assert_eq!(AttributeFilter::new("error", "true").needle(), None);
    }

    #[test]
    fn the_protobuf_needle_is_the_key_as_the_protobuf_encoder_writes_it() {
        let contains = |span: &Span, needle: &[u8]| {
            let mut bytes = Vec::new();
            edgescope_otlp::proto::encode_span(span, &mut bytes);
            needle.is_empty() || bytes.windows(needle.len()).any(|w| w == needle)
        };
        let long = "k".repeat(200);
        for key in ["", "a", "http.route", long.as_str()] {
            let needle = AttributeFilter::new(key, "").protobuf_needle().unwrap();
            let event = Event { attributes: vec![KeyValue::new(key, "v")], ..Default::default() };
            let link = Link { attributes: vec![KeyValue::new(key, true)], ..Default::default() };
            for span in [
                Span { attributes: vec![KeyValue::new(key, 1i64)], ..Default::default() },
                Span { events: vec![event], ..Default::default() },
                Span { links: vec![link], ..Default::default() },
            ] {
                assert!(contains(&span, &needle), "{key}");
            }
        }
        let other = Span { attributes: vec![KeyValue::new("ab", 1i64)], ..Default::default() };
        assert!(!contains(&other, &AttributeFilter::new("a", "").protobuf_needle().unwrap()));
        assert_eq!(AttributeFilter::new("error", "true").protobuf_needle(), None);
    }
}
