//! Values as text, as the OpenTelemetry Collector's `pcommon.Value.AsString` writes them, and so
//! Loki's OTLP ingestion makes a log line or a label value of them: strings as they are,
//! booleans as `true`/`false`, integers in decimal, doubles in their shortest form (`72.5`,
//! `1e+21`; infinities and NaN as `json: unsupported value: +Inf`, and an array or map holding
//! one as nothing), bytes as padded base64, and arrays and maps as JSON (map keys sorted).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::{json, AnyValue, KeyValue};

/// A value as text, as `pcommon.Value.AsString` writes it (and so Loki's OTLP ingestion, for a
/// line or a label value): strings as they are, bytes in base64, maps and arrays as the JSON Go's
/// `encoding/json` writes for their raw values (keys sorted); an empty value is `""`.
pub fn as_string(value: Option<&AnyValue>) -> String {
    as_string_with(value, push_double)
}

/// Writes a double.
type Double = fn(f64, &mut String);

/// [`as_string`] with doubles written by `double`.
fn as_string_with(value: Option<&AnyValue>, double: Double) -> String {
    let mut out = String::new();
    match value {
        None => {}
        // Go's json.Marshal refuses a non-finite double, and pcommon then writes nothing.
        Some(v @ (AnyValue::Array(_) | AnyValue::KvList(_))) if !finite(v) => {}
        Some(AnyValue::Array(_) | AnyValue::KvList(_)) => push_json(value, &mut out, double),
        Some(scalar) => push_scalar(scalar, &mut out, double),
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

fn push_scalar(value: &AnyValue, out: &mut String, double: Double) {
    match value {
        AnyValue::String(s) => out.push_str(s),
        AnyValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        AnyValue::Int(i) => out.push_str(&i.to_string()),
        AnyValue::Double(d) => double(*d, out),
        AnyValue::Bytes(bytes) => push_base64(bytes, out),
        AnyValue::Array(_) | AnyValue::KvList(_) => push_json(Some(value), out, double),
    }
}

/// Arrays and maps as JSON, map keys sorted (as Go's `encoding/json` writes a map).
fn push_json(value: Option<&AnyValue>, out: &mut String, double: Double) {
    match value {
        None => out.push_str("null"),
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
                push_json(Some(item), out, double);
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
                push_json(kv.value.as_ref(), out, double);
            }
            out.push('}');
        }
        Some(scalar) => push_scalar(scalar, out, double),
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
