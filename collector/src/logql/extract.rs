//! What LogQL's parser stages take out of a line (`| json`, `| logfmt`), and the conversions of
//! label text into numbers that numeric label filters and `| unwrap` use.

use serde_json::Value;

/// A label name made of what Loki allows (letters, digits, `_`), other characters as `_`.
pub(crate) fn sanitize(key: &str) -> String {
    let mut name: String = key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    name
}

/// `| json`: every scalar of a JSON object, nested keys joined with `_`; arrays and `null`
/// values are skipped (no label), as Loki's parser does. The error names what is wrong.
pub(crate) fn json(line: &str, out: &mut Vec<(String, String)>) -> Result<(), String> {
    let value: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let Value::Object(object) = value else {
        return Err("the line is JSON but not an object".into());
    };
    fn walk(prefix: &str, object: &serde_json::Map<String, Value>, out: &mut Vec<(String, String)>) {
        for (key, value) in object {
            let name = if prefix.is_empty() { sanitize(key) } else { format!("{prefix}_{}", sanitize(key)) };
            match value {
                Value::Object(inner) => walk(&name, inner, out),
                Value::Array(_) | Value::Null => {}
                Value::String(s) => out.push((name, s.clone())),
                Value::Bool(b) => out.push((name, b.to_string())),
                Value::Number(n) => out.push((name, n.to_string())),
            }
        }
    }
    walk("", &object, out);
    Ok(())
}

/// `| logfmt`: `key=value` pairs separated by spaces; values may be double-quoted with
/// backslash escapes, and a key alone has the empty value.
pub(crate) fn logfmt(line: &str, out: &mut Vec<(String, String)>) -> Result<(), String> {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == bytes.len() {
            break;
        }
        let start = i;
        while i < bytes.len() && bytes[i] != b'=' && !bytes[i].is_ascii_whitespace() {
            if bytes[i] == b'"' {
                return Err(format!("unexpected '\"' in a key at byte {i}"));
            }
            i += 1;
        }
        let key = &line[start..i];
        if key.is_empty() {
            return Err(format!("a value without a key at byte {i}"));
        }
        if i == bytes.len() || bytes[i] != b'=' {
            out.push((sanitize(key), String::new()));
            continue;
        }
        i += 1;
        let value = if bytes.get(i) == Some(&b'"') {
            i += 1;
            let mut value = String::new();
            loop {
                let Some(&b) = bytes.get(i) else {
                    return Err(format!("unterminated quoted value of `{key}`"));
                };
                match b {
                    b'"' => {
                        i += 1;
                        break;
                    }
                    b'\\' => {
                        let invalid = || format!("invalid escape in the value of `{key}`");
                        match bytes.get(i + 1) {
                            Some(b'n') => value.push('\n'),
                            Some(b't') => value.push('\t'),
                            Some(b'r') => value.push('\r'),
                            Some(b'b') => value.push('\u{8}'),
                            Some(b'f') => value.push('\u{c}'),
                            Some(&c @ (b'"' | b'\\' | b'/' | b'\'')) => value.push(c as char),
                            Some(b'u') => {
                                let unit = |at: usize| {
                                    let hex = line.get(at..at + 4).filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
                                    hex.and_then(|h| u16::from_str_radix(h, 16).ok())
                                };
                                let first = unit(i + 2).ok_or_else(invalid)?;
                                i += 6;
                                // A surrogate pair is one character; a lone surrogate is U+FFFD,
                                // as go-logfmt (encoding/json's unquote) reads them.
                                let second = (line[i..].starts_with("\\u")).then(|| unit(i + 2)).flatten();
                                match char::decode_utf16(std::iter::once(first).chain(second)).next() {
                                    Some(Ok(c)) if second.is_some() && c.len_utf16() == 2 => {
                                        value.push(c);
                                        i += 6;
                                    }
                                    Some(Ok(c)) => value.push(c),
                                    _ => value.push(char::REPLACEMENT_CHARACTER),
                                }
                                continue;
                            }
                            _ => return Err(invalid()),
                        }
                        i += 2;
                    }
                    _ => {
                        // Whole UTF-8 characters: `"` and `\` never occur inside one.
                        let len = line[i..].chars().next().map_or(1, char::len_utf8);
                        value.push_str(&line[i..i + len]);
                        i += len;
                    }
                }
            }
            value
        } else {
            let start = i;
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            line[start..i].to_owned()
        };
        out.push((sanitize(key), value));
    }
    Ok(())
}

/// A Go duration (`1.5s`, `300ms`, `1h2m`, `-2us`) in seconds.
pub(crate) fn duration_seconds(text: &str) -> Option<f64> {
    crate::jaeger::parse_go_duration(text).ok().map(|ns| ns as f64 / 1e9)
}

/// A size with an optional unit, as Loki's `bytes(…)` reads it: `512`, `1.5KB` (×1000),
/// `10MiB` (×1024²), `2 GB`, units in any case. In bytes.
pub(crate) fn bytes(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "tb" | "t" => 1e12,
        "pb" | "p" => 1e15,
        "kib" | "ki" => 1024.0,
        "mib" | "mi" => 1024f64.powi(2),
        "gib" | "gi" => 1024f64.powi(3),
        "tib" | "ti" => 1024f64.powi(4),
        "pib" | "pi" => 1024f64.powi(5),
        _ => return None,
    };
    Some(number * factor)
}

/// A plain number (`200`, `-0.5`, `1e3`, `NaN` refused).
pub(crate) fn number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
        v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    #[test]
    fn json_flattens_nested_objects_and_skips_arrays_and_nulls() {
        let mut out = Vec::new();
        json(
            r#"{"status":500,"ok":false,"req":{"http.method":"GET","path":"/a"},"tags":["x"],"gone":null,"1st":"y"}"#,
            &mut out,
        )
        .unwrap();
        assert_eq!(
            pairs(&out),
            // In key order (serde_json's map sorts them).
            [("_1st", "y"), ("ok", "false"), ("req_http_method", "GET"), ("req_path", "/a"), ("status", "500")]
        );
        assert!(json("not json", &mut out).is_err());
        assert!(json("[1,2]", &mut out).unwrap_err().contains("not an object"));
    }

    #[test]
    fn logfmt_reads_bare_quoted_and_empty_values() {
        let mut out = Vec::new();
        logfmt(r#"level=warn msg="slow \"query\" é" took=1.5s  flag path=/a=b"#, &mut out).unwrap();
        assert_eq!(
            pairs(&out),
            [("level", "warn"), ("msg", "slow \"query\" é"), ("took", "1.5s"), ("flag", ""), ("path", "/a=b")]
        );
        assert!(logfmt(r#"msg="open"#, &mut Vec::new()).unwrap_err().contains("unterminated"));
        assert!(logfmt("=x", &mut Vec::new()).unwrap_err().contains("without a key"));
    }

    #[test]
    fn logfmt_reads_the_escapes_of_go_logfmt_quoted_values() {
        // go-logfmt writes control characters as `\u00XX`; its decoder (and Loki's) reads JSON's
        // escapes, `\/`, `\b`, `\f` and surrogate pairs too.
        let mut out = Vec::new();
        logfmt(r#"msg="\u001b[31mred\u001b[0m a\/b \b\f \u00e9 \ud83d\ude00 \ud83d!""#, &mut out).unwrap();
        assert_eq!(pairs(&out), [("msg", "\u{1b}[31mred\u{1b}[0m a/b \u{8}\u{c} é 😀 \u{fffd}!")]);
        assert!(logfmt(r#"msg="\x41""#, &mut Vec::new()).unwrap_err().contains("invalid escape"));
        assert!(logfmt(r#"msg="\u12""#, &mut Vec::new()).unwrap_err().contains("invalid escape"));
    }

    #[test]
    fn sizes_durations_and_numbers_convert() {
        assert_eq!(bytes("512"), Some(512.0));
        assert_eq!(bytes("1.5KB"), Some(1500.0));
        assert_eq!(bytes("2 MiB"), Some(2.0 * 1024.0 * 1024.0));
        assert_eq!(bytes("3gb"), Some(3e9));
        assert_eq!(bytes("3 parsecs"), None);
        assert_eq!(duration_seconds("1.5s"), Some(1.5));
        assert_eq!(duration_seconds("250ms"), Some(0.25));
        assert_eq!(duration_seconds("fast"), None);
        assert_eq!(number(" 42 "), Some(42.0));
        assert_eq!(number("NaN"), None);
    }
}
