//! The request side of Jaeger's query API v3 HTTP gateway: its parameter names, its value
//! formats (RFC 3339 timestamps, Go duration strings, a JSON object of attributes) and the
//! checks Jaeger's query service makes before it runs a search.
//!
//! Names follow Jaeger: the camelCase form (`query.serviceName`) is read first, then the
//! snake_case form (`query.service_name`) that older clients send. An empty value counts as
//! absent and the first of repeated values wins, as with Go's `url.Values.Get`. Also the
//! summaries of found traces that `/api/v3/trace-summaries` answers (Jaeger 2.19).

use std::collections::BTreeMap;

use edgescope_otlp::TraceId;

use crate::store::TraceQuery;

/// Traces a search returns when it names no `query.search_depth` (or names 0): Jaeger's
/// `defaultSearchDepth`.
pub(crate) const DEFAULT_SEARCH_DEPTH: usize = 100;

/// The largest `query.search_depth` Jaeger accepts.
pub(crate) const MAX_SEARCH_DEPTH: u64 = 10_000;

const SERVICE: &[&str] = &["query.serviceName", "query.service_name"];
const OPERATION: &[&str] = &["query.operationName", "query.operation_name"];
const TIME_MIN: &[&str] = &["query.startTimeMin", "query.start_time_min"];
const TIME_MAX: &[&str] = &["query.startTimeMax", "query.start_time_max"];
const DURATION_MIN: &[&str] = &["query.durationMin", "query.duration_min"];
const DURATION_MAX: &[&str] = &["query.durationMax", "query.duration_max"];
const SEARCH_DEPTH: &[&str] = &["query.searchDepth", "query.search_depth", "query.num_traces"];
const RAW_TRACES: &[&str] = &["query.rawTraces", "query.raw_traces"];
const ATTRIBUTES: &[&str] = &["query.attributes"];
const SPAN_KIND: &[&str] = &["spanKind", "span_kind"];
const TRACE_START: &[&str] = &["startTime", "start_time"];
const TRACE_END: &[&str] = &["endTime", "end_time"];
const TRACE_RAW: &[&str] = &["rawTraces", "raw_traces"];

/// The decoded query string of a request, in order.
#[derive(Debug)]
pub(crate) struct Params<'a>(pub(crate) &'a [(String, String)]);

impl<'a> Params<'a> {
    /// The first non-empty value under the first of `names` that has one, with that name.
    pub(crate) fn get(&self, names: &[&'static str]) -> Option<(&'static str, &'a str)> {
        names.iter().find_map(|&name| {
            let value = self.0.iter().find(|(k, _)| k == name)?.1.as_str();
            (!value.is_empty()).then_some((name, value))
        })
    }
}

fn malformed(name: &str, reason: impl std::fmt::Display) -> String {
    format!("malformed parameter {name}: {reason}")
}

/// `GET /api/v3/operations`: the service (required here) and the span kind to keep, if any.
pub(crate) fn operations_query<'a>(params: &Params<'a>) -> Result<(&'a str, Option<&'a str>), String> {
    let (_, service) = params.get(&["service"]).ok_or("the `service` parameter is required")?;
    Ok((service, params.get(SPAN_KIND).map(|(_, kind)| kind)))
}

/// A trace id as every query route reads it, as Jaeger's `model.TraceIDFromString` does: 1 to 32
/// hex digits in either case, left-padded with zeros (so 64-bit ids work). The all-zero id is
/// invalid (W3C Trace Context), so none is stored and none is asked for.
pub(crate) fn parse_trace_id(text: &str) -> Option<TraceId> {
    if text.is_empty() || text.len() > 32 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    TraceId::from_hex(&format!("{text:0>32}")).filter(TraceId::is_valid)
}

/// `GET /api/v3/traces/{trace_id}`: the id as Jaeger's `model.TraceIDFromString` reads it (1 to
/// 32 hex digits in either case, left-padded with zeros, so 64-bit ids work), then the optional
/// `startTime`, `endTime` and `rawTraces` checked as Jaeger checks them. A stored trace is
/// returned whole, so the time bounds are only read. The error is the message of a `400` answer.
pub(crate) fn get_trace_query(trace_id: &str, params: &Params<'_>) -> Result<TraceId, String> {
    let id = parse_trace_id(trace_id).ok_or_else(|| {
        malformed("trace_id", format!("`{trace_id}` is not a trace id of 1 to 32 hex digits, not all zeros"))
    })?;
    for names in [TRACE_START, TRACE_END] {
        if let Some((name, text)) = params.get(names) {
            parse_rfc3339(text).map_err(|e| malformed(name, e))?;
        }
    }
    if let Some((name, text)) = params.get(TRACE_RAW) {
        parse_go_bool(text).ok_or_else(|| malformed(name, "expected true or false"))?;
    }
    Ok(id)
}

/// `GET /api/v3/traces`: reads every parameter, then checks the query as a whole in the order
/// Jaeger does (time range, durations, search depth). The error is the
/// message of a `400` answer.
pub(crate) fn find_traces_query(params: &Params<'_>) -> Result<TraceQuery, String> {
    let attributes = match params.get(ATTRIBUTES) {
        None => Vec::new(),
        Some((name, text)) => parse_attributes(text).map_err(|e| malformed(name, e))?,
    };
    let time = |names| -> Result<Option<i128>, String> {
        params.get(names).map(|(name, text)| parse_rfc3339(text).map_err(|e| malformed(name, e))).transpose()
    };
    let (time_min, time_max) = (time(TIME_MIN)?, time(TIME_MAX)?);
    let search_depth = match params.get(SEARCH_DEPTH) {
        None => 0,
        Some((name, text)) => parse_decimal_u32(text).ok_or_else(|| malformed(name, "expected a whole number"))?,
    };
    let duration = |names| -> Result<Option<i64>, String> {
        params.get(names).map(|(name, text)| parse_go_duration(text).map_err(|e| malformed(name, e))).transpose()
    };
    let (duration_min, duration_max) = (duration(DURATION_MIN)?, duration(DURATION_MAX)?);
    if let Some((name, text)) = params.get(RAW_TRACES) {
        // Accepted for compatibility: stored spans are always returned as they were received.
        parse_go_bool(text).ok_or_else(|| malformed(name, "expected true or false"))?;
    }

    let (Some(time_min), Some(time_max)) = (time_min, time_max) else {
        return Err("query.start_time_min and query.start_time_max are both required".into());
    };
    if time_min >= time_max {
        return Err("query.start_time_min must be earlier than query.start_time_max".into());
    }
    // Jaeger reads a zero duration as "no bound".
    let (duration_min, duration_max) = (duration_min.filter(|d| *d != 0), duration_max.filter(|d| *d != 0));
    if duration_min.is_some_and(|d| d < 0) || duration_max.is_some_and(|d| d < 0) {
        return Err("query.duration_min and query.duration_max cannot be negative".into());
    }
    if let (Some(min), Some(max)) = (duration_min, duration_max) {
        if max < min {
            return Err("query.duration_max cannot be less than query.duration_min".into());
        }
    }
    if u64::from(search_depth) > MAX_SEARCH_DEPTH {
        return Err(format!("query.search_depth must be between 0 and {MAX_SEARCH_DEPTH}"));
    }
    // Jaeger requires a service; this collector searches every service when none is named
    // (or the name is empty), so that a viewer's "Any service" keeps every other condition.
    let service = params.get(SERVICE).map_or("", |(_, service)| service);

    let clamp = |ns: i128| ns.clamp(i64::MIN.into(), i64::MAX.into()) as i64;
    Ok(TraceQuery {
        service: service.to_owned(),
        operation: params.get(OPERATION).map(|(_, op)| op.to_owned()),
        start_min_ns: clamp(time_min),
        start_max_ns: clamp(time_max),
        duration_min_ns: duration_min,
        duration_max_ns: duration_max,
        attributes,
        limit: match search_depth {
            0 => DEFAULT_SEARCH_DEPTH,
            n => n as usize,
        },
    })
}

/// `query.attributes`: a JSON object whose values are all strings (Jaeger decodes it into a
/// `map[string]string`: `null` means none, a `null` value is an empty string and a later
/// duplicate key wins).
pub(crate) fn parse_attributes(text: &str) -> Result<Vec<(String, String)>, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let object = match value {
        serde_json::Value::Null => return Ok(Vec::new()),
        serde_json::Value::Object(object) => object,
        _ => return Err("expected a JSON object such as {\"http.status_code\":\"200\"}".into()),
    };
    let mut out = BTreeMap::new();
    for (key, value) in object {
        let value = match value {
            serde_json::Value::String(value) => value,
            // Go leaves a string it decodes `null` into as it was: empty.
            serde_json::Value::Null => String::new(),
            _ => return Err(format!("the value of `{key}` is not a string")),
        };
        out.insert(key, value);
    }
    Ok(out.into_iter().collect())
}

/// Digits only, at most `u32::MAX` (Go's `strconv.ParseUint(s, 10, 32)`).
fn parse_decimal_u32(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The spellings Go's `strconv.ParseBool` accepts.
pub(crate) fn parse_go_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// An RFC 3339 timestamp as Go's `time.Parse(time.RFC3339Nano, …)` reads it, in nanoseconds
/// since the Unix epoch: `YYYY-MM-DDTHH:MM:SS`, an optional fraction of any length (digits
/// past the ninth are dropped), then `Z` or `±HH:MM`. `T` and `Z` are upper case, every field
/// is range-checked (no leap second, no 30 February).
pub(crate) fn parse_rfc3339(text: &str) -> Result<i128, &'static str> {
    const SHAPE: &str = "expected an RFC 3339 timestamp such as 2024-01-01T00:00:00Z";
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Result<i128, &'static str> {
        let part = b.get(range).ok_or(SHAPE)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return Err(SHAPE);
        }
        Ok(part.iter().fold(0, |n, d| n * 10 + i128::from(d - b'0')))
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(at(4, b'-') && at(7, b'-') && at(10, b'T') && at(13, b':') && at(16, b':')) {
        return Err(SHAPE);
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&month) {
        return Err("month out of range");
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if day < 1 || day > month_days[(month - 1) as usize] {
        return Err("day out of range");
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err("time of day out of range");
    }

    let mut i = 19;
    let mut nanos = 0i128;
    if at(i, b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        let mut scale = 100_000_000;
        while let Some(d) = b.get(i).filter(|d| d.is_ascii_digit()) {
            nanos += i128::from(d - b'0') * scale;
            scale /= 10;
            i += 1;
        }
    }
    let offset_seconds = match &b[i..] {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (digits(i + 1..i + 3)?, digits(i + 4..i + 6)?);
            if h > 23 || m > 59 {
                return Err("time zone offset out of range");
            }
            let offset = h * 3600 + m * 60;
            if *sign == b'-' {
                -offset
            } else {
                offset
            }
        }
        _ => return Err(SHAPE),
    };
    let days = i128::from(edgescope_otlp::civil::days_from_civil(year as i64, month as i64, day as i64));
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Ok(seconds * 1_000_000_000 + nanos)
}

/// A Go duration string as `time.ParseDuration` reads it, in nanoseconds: an optional sign,
/// then one or more decimal numbers each with a unit (`ns`, `us`, `µs`, `μs`, `ms`, `s`, `m`,
/// `h`), such as `1.5s`, `100ms` or `1h30m`; a bare `0` is also accepted.
pub(crate) fn parse_go_duration(text: &str) -> Result<i64, &'static str> {
    const SHAPE: &str = "expected a Go duration such as 1.5s, 100ms or 1h30m";
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(SHAPE);
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let whole_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (whole, after) = rest.split_at(whole_len);
        let (fraction, after) = match after.strip_prefix('.') {
            Some(after) => after.split_at(after.bytes().take_while(u8::is_ascii_digit).count()),
            None => ("", after),
        };
        if whole.is_empty() && fraction.is_empty() {
            return Err(SHAPE);
        }
        let unit_len = after.find(|c: char| c == '.' || c.is_ascii_digit()).unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let unit: u128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => return Err("missing unit (ns, us, ms, s, m or h)"),
            _ => return Err("unknown unit: use ns, us, ms, s, m or h"),
        };
        let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| "duration out of range")? };
        // Digits past the nanosecond cannot change the result, but they may be many.
        let fraction = &fraction[..fraction.len().min(20)];
        let scale = 10u128.pow(fraction.len() as u32);
        let fraction: u128 = if fraction.is_empty() { 0 } else { fraction.parse().map_err(|_| SHAPE)? };
        total = whole
            .checked_mul(unit)
            .and_then(|n| n.checked_add(fraction * unit / scale))
            .and_then(|n| total.checked_add(n))
            .filter(|n| *n <= i64::MAX as u128 + u128::from(negative))
            .ok_or("duration out of range")?;
        rest = after;
    }
    Ok(if negative { (total as i128).wrapping_neg() as i64 } else { total as i64 })
}

/// The span kind as Jaeger's HTTP gateway writes it in an operation list: lower case, with an
/// unspecified kind shown as `internal`.
pub(crate) fn span_kind_name(kind: edgescope_otlp::SpanKind) -> &'static str {
    match kind {
        edgescope_otlp::SpanKind::Unspecified => "internal",
        other => other.name(),
    }
}

/// What a trace summary needs of a span (see [`trace_summary`]), so that a search's traces are
/// summed up without holding their spans: the summaries of three 100,000-span traces took
/// 656 MB when their spans were read whole.
#[derive(Debug)]
pub(crate) struct SpanSummary {
    service: String,
    span_id: edgescope_otlp::SpanId,
    parent: Option<edgescope_otlp::SpanId>,
    name: String,
    start: u64,
    end: u64,
    error: bool,
}

impl SpanSummary {
    pub(crate) fn of(service: &str, span: edgescope_otlp::Span) -> SpanSummary {
        SpanSummary {
            service: service.to_owned(),
            span_id: span.span_id,
            parent: span.parent_span_id,
            error: span.is_error(),
            start: span.start_time_unix_nano,
            end: span.end_time_unix_nano,
            name: span.name,
        }
    }
}

/// One entry of `/api/v3/trace-summaries`' `summaries`, for the trace `id` of `spans` (not
/// empty), as Jaeger's query service sums up a found trace: its id, the root span's service and
/// name (the earliest span without a parent in the trace, else the earliest span), the earliest
/// start and latest end (int64 strings), the span count, the count of spans that are errors
/// (status ERROR, or an `error` attribute `true`), and per service (by name) the same two counts.
pub(crate) fn trace_summary(id: TraceId, spans: &[SpanSummary]) -> serde_json::Value {
    let ids: std::collections::HashSet<edgescope_otlp::SpanId> = spans.iter().map(|s| s.span_id).collect();
    let earliest = |roots_only: bool| {
        spans.iter().filter(|s| !roots_only || s.parent.is_none_or(|p| !ids.contains(&p))).min_by_key(|s| s.start)
    };
    let root = earliest(true).or_else(|| earliest(false)).expect("a trace has spans");
    let mut services: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    let (mut errors, mut start, mut end) = (0u64, u64::MAX, 0u64);
    for span in spans {
        let error = u64::from(span.error);
        let counts = services.entry(&span.service).or_default();
        counts.0 += 1;
        counts.1 += error;
        errors += error;
        start = start.min(span.start);
        end = end.max(span.end);
    }
    serde_json::json!({
        "traceId": id.to_hex(),
        "rootServiceName": root.service,
        "rootOperationName": root.name,
        "minStartTimeUnixNano": start.to_string(),
        "maxEndTimeUnixNano": end.max(start).to_string(),
        "spanCount": spans.len(),
        "errorSpanCount": errors,
        "services": services
            .iter()
            .map(|(name, (spans, errors))| serde_json::json!({ "name": name, "spanCount": spans, "errorSpanCount": errors }))
            .collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_timestamps_read_as_go_reads_them() {
        let cases: [(&str, i128); 7] = [
            ("1970-01-01T00:00:00Z", 0),
            ("2024-01-01T00:00:00Z", 1_704_067_200_000_000_000),
            ("2024-01-01T01:00:00+01:00", 1_704_067_200_000_000_000),
            ("2023-12-31T19:30:00-04:30", 1_704_067_200_000_000_000),
            ("2024-02-29T12:00:00.5Z", 1_709_208_000_500_000_000),
            ("2017-01-26T16:46:31.639875Z", 1_485_449_191_639_875_000),
            ("2017-01-26T16:46:31.6398750019Z", 1_485_449_191_639_875_001),
        ];
        for (text, want) in cases {
            assert_eq!(parse_rfc3339(text), Ok(want), "{text}");
        }
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59.999999999Z"), Ok(-1));
        for bad in [
            "2024-01-01",
            "2024-01-01 00:00:00Z",
            "2024-01-01t00:00:00Z",
            "2024-01-01T00:00:00z",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00+0100",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T23:59:60Z",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00+24:00",
            "1704067200",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn go_durations_read_as_time_parse_duration_reads_them() {
        let cases: [(&str, i64); 12] = [
            ("0", 0),
            ("1.5s", 1_500_000_000),
            ("100ms", 100_000_000),
            ("1h30m", 5_400_000_000_000),
            ("10us", 10_000),
            ("10\u{b5}s", 10_000),
            ("10\u{3bc}s", 10_000),
            ("7ns", 7),
            (".5s", 500_000_000),
            ("5.s", 5_000_000_000),
            ("-2m", -120_000_000_000),
            ("+1.000000001s", 1_000_000_001),
        ];
        for (text, want) in cases {
            assert_eq!(parse_go_duration(text), Ok(want), "{text}");
        }
        assert_eq!(parse_go_duration("9223372036854775807ns"), Ok(i64::MAX));
        assert_eq!(parse_go_duration("-9223372036854775808ns"), Ok(i64::MIN));
        for bad in ["", "-", "10", "1.5", "s", ".s", "1d", "1 s", "1S", "9223372036854775808ns", "3000000h"] {
            assert!(parse_go_duration(bad).is_err(), "{bad}");
        }
    }

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    const RANGE: [(&str, &str); 2] =
        [("query.start_time_min", "2024-01-01T00:00:00Z"), ("query.start_time_max", "2024-01-02T00:00:00Z")];

    #[test]
    fn camel_case_names_win_over_snake_case_and_empty_values_count_as_absent() {
        let p = params(&[
            ("query.service_name", "old"),
            ("query.serviceName", "new"),
            ("query.operation_name", ""),
            ("query.search_depth", "5"),
            ("query.num_traces", "7"),
            RANGE[0],
            RANGE[1],
        ]);
        let q = find_traces_query(&Params(&p)).unwrap();
        assert_eq!((q.service.as_str(), q.operation, q.limit), ("new", None, 5));
        assert_eq!((q.start_min_ns, q.start_max_ns), (1_704_067_200_000_000_000, 1_704_153_600_000_000_000));
        let p = params(&[("query.service_name", "s"), ("query.num_traces", "7"), RANGE[0], RANGE[1]]);
        assert_eq!(find_traces_query(&Params(&p)).unwrap().limit, 7);
    }

    #[test]
    fn attributes_are_a_json_object_of_strings() {
        assert_eq!(
            parse_attributes(r#"{"b":"2","a":"1","b":"3"}"#).unwrap(),
            vec![("a".to_owned(), "1".to_owned()), ("b".to_owned(), "3".to_owned())]
        );
        assert_eq!(parse_attributes("null").unwrap(), vec![]);
        assert_eq!(parse_attributes(r#"{"a":null}"#).unwrap(), vec![("a".to_owned(), String::new())]);
        assert!(parse_attributes(r#"{"a":1}"#).unwrap_err().contains("`a`"));
        assert!(parse_attributes("a=1").is_err());
        assert!(parse_attributes(r#"["a"]"#).is_err());
    }

    #[test]
    fn zero_durations_and_zero_search_depth_mean_no_bound_and_the_default() {
        let p = params(&[
            ("query.service_name", "s"),
            ("query.duration_min", "0s"),
            ("query.duration_max", "0"),
            ("query.search_depth", "0"),
            RANGE[0],
            RANGE[1],
        ]);
        let q = find_traces_query(&Params(&p)).unwrap();
        assert_eq!((q.duration_min_ns, q.duration_max_ns, q.limit), (None, None, DEFAULT_SEARCH_DEPTH));
    }
}
