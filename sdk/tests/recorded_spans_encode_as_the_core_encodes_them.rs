//! Spans that JavaScript recorded (ADR 0011) reach the export queue as the bytes the core
//! writes for the same span, through the same limits and redaction; a full queue drops and
//! counts them, and a malformed batch is counted rather than read past.

use edgescope::{AnyValue, Config, Sdk, SpanKind};
use edgescope_otlp::{proto, SpanId, TraceId};

/// An attribute value as `sdk/js/api.js` writes it in a record.
enum V<'a> {
    S(&'a str),
    N(f64),
    B(bool),
    A(Vec<V<'a>>),
}

fn value(out: &mut Vec<u8>, v: &V<'_>) {
    match v {
        V::S(s) => {
            out.push(0);
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        V::N(n) => {
            out.push(1);
            out.extend_from_slice(&n.to_le_bytes());
        }
        V::B(b) => out.extend_from_slice(&[2, *b as u8]),
        V::A(items) => {
            out.push(3);
            out.extend_from_slice(&(items.len() as u32).to_le_bytes());
            items.iter().for_each(|i| value(out, i));
        }
    }
}

struct Span<'a> {
    trace: [u8; 16],
    id: [u8; 8],
    parent: [u8; 8],
    flags: u8,
    kind: u8,
    start_ms: f64,
    end_ms: f64,
    name: &'a str,
    dropped: u32,
    attributes: Vec<(u32, V<'a>)>,
}

fn record(out: &mut Vec<u8>, s: &Span<'_>) {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&s.trace);
    out.extend_from_slice(&s.id);
    out.extend_from_slice(&s.parent);
    out.extend_from_slice(&(s.flags as u32 | 0x100).to_le_bytes());
    out.extend_from_slice(&[s.kind, 0, 0, 0]);
    out.extend_from_slice(&s.start_ms.to_le_bytes());
    out.extend_from_slice(&s.end_ms.to_le_bytes());
    out.extend_from_slice(&(s.name.len() as u32).to_le_bytes());
    out.extend_from_slice(s.name.as_bytes());
    out.extend_from_slice(&(s.attributes.len() as u32).to_le_bytes());
    out.extend_from_slice(&s.dropped.to_le_bytes());
    for (k, v) in &s.attributes {
        out.extend_from_slice(&k.to_le_bytes());
        value(out, v);
    }
    let len = (out.len() - at) as u32;
    out[at..at + 4].copy_from_slice(&len.to_le_bytes());
}

fn any(v: &V<'_>) -> AnyValue {
    match v {
        V::S(s) => AnyValue::String((*s).into()),
        V::N(n) if n.fract() == 0.0 && n.abs() < 9e15 => AnyValue::Int(*n as i64),
        V::N(n) => AnyValue::Double(*n),
        V::B(b) => AnyValue::Bool(*b),
        V::A(items) => AnyValue::Array(items.iter().map(any).collect()),
    }
}

const KEYS: [&str; 8] =
    ["http.request.method", "http.response.status_code", "url.full", "ratio", "ok", "tags", "note", ""];

/// The interned keys: `KEYS`, then `k8` to `k29`.
fn keys() -> Vec<String> {
    KEYS.iter().map(|k| k.to_string()).chain((8..30).map(|i| format!("k{i}"))).collect()
}

/// Unix milliseconds in nanoseconds as the JavaScript API's times cross into the core: the whole
/// milliseconds and the fraction apart, so that whole milliseconds are exact.
fn nanos(ms: f64) -> u64 {
    let whole = ms as u64;
    whole * 1_000_000 + ((ms - whole as f64) * 1e6 + 0.5) as u64
}

/// The same span recorded by the core: opened with the record's ids, given its attributes,
/// ended at its end.
fn core_bytes(config: Config, spans: &[Span<'_>]) -> Vec<u8> {
    let mut sdk = Sdk::new(config);
    for s in spans {
        let parent = (s.parent != [0; 8]).then_some(SpanId(s.parent));
        let kind = SpanKind::from_i32(s.kind as i64);
        let ids = (TraceId(s.trace), SpanId(s.id), parent);
        let h = sdk.adopt_span(s.name, kind, ids, s.flags, nanos(s.start_ms), s.dropped);
        for (k, v) in &s.attributes {
            sdk.set_attribute(h, &keys()[*k as usize], any(v));
        }
        sdk.end_span_at(h, Some(nanos(s.end_ms)));
    }
    sdk.take_traces_proto().unwrap()
}

fn recorded_bytes(config: Config, spans: &[Span<'_>]) -> (Vec<u8>, Sdk) {
    let mut sdk = Sdk::new(config);
    let mut records = Vec::new();
    spans.iter().for_each(|s| record(&mut records, s));
    sdk.record_spans(&records, &keys());
    (sdk.take_traces_proto().unwrap(), sdk)
}

fn spans() -> Vec<Span<'static>> {
    let base = Span {
        trace: [7; 16],
        id: [1, 2, 3, 4, 5, 6, 7, 8],
        parent: [0; 8],
        flags: 3,
        kind: 1,
        start_ms: 1_764_115_200_000.25,
        end_ms: 1_764_115_200_003.5,
        name: "op",
        dropped: 0,
        attributes: vec![(0, V::S("GET")), (1, V::N(200.0)), (2, V::S("/todos"))],
    };
    vec![
        base,
        Span {
            trace: [9; 16],
            id: [8; 8],
            parent: [1, 2, 3, 4, 5, 6, 7, 8],
            flags: 1,
            kind: 3,
            // An end before the start (a clock that stepped back) is the start.
            end_ms: 1_764_115_199_999.0,
            name: "GET /todos ünïcode",
            attributes: vec![
                (2, V::S("https://u:hunter2@api.example.com/v1?q=shoes&access_token=abc")),
                (6, V::S("card 4111 1111 1111 1111 declined")),
                (3, V::N(0.25)),
                (4, V::B(true)),
                (5, V::A(vec![V::S("a"), V::N(1.0), V::B(false), V::S("Bearer abcdefgh")])),
                (7, V::S("")),
                (1, V::S("")),
            ],
            ..spans_base()
        },
        Span {
            name: "",
            kind: 0,
            // More attributes than the list on the stack holds.
            attributes: (0..20).map(|i| (i + 8, V::N(i as f64 * 1.5))).collect(),
            ..spans_base()
        },
    ]
}

fn spans_base() -> Span<'static> {
    Span {
        trace: [7; 16],
        id: [3; 8],
        parent: [0; 8],
        flags: 3,
        kind: 1,
        start_ms: 1_764_115_200_000.0,
        end_ms: 1_764_115_200_001.0,
        name: "op",
        dropped: 0,
        attributes: Vec::new(),
    }
}

#[test]
fn a_recorded_span_is_encoded_byte_for_byte_as_the_core_encodes_it() {
    for config in [
        Config::default(),
        Config { max_attribute_value_length: 5, ..Config::default() },
        Config { redact: false, ..Config::default() },
    ] {
        for span in spans() {
            let (recorded, _) = recorded_bytes(config.clone(), core::slice::from_ref(&span));
            assert_eq!(recorded, core_bytes(config.clone(), core::slice::from_ref(&span)), "{}", span.name);
        }
    }
}

#[test]
fn limits_redaction_and_the_dropped_count_apply_to_recorded_spans() {
    let config = Config { max_attribute_value_length: 12, ..Config::default() };
    let (bytes, sdk) = recorded_bytes(config, &spans());
    let data = proto::decode_traces(&bytes).unwrap();
    let spans: Vec<_> = data.spans().map(|(_, _, s)| s).collect();
    assert_eq!(spans.len(), 3);
    // Times to the nanosecond: 1_764_115_200_000.25 and 1_764_115_200_003.5 ms.
    assert_eq!(
        (spans[0].start_time_unix_nano, spans[0].end_time_unix_nano),
        (1_764_115_200_000_250_000, 1_764_115_200_003_500_000)
    );
    let second = &spans[1];
    assert_eq!(second.parent_span_id, Some(SpanId([1, 2, 3, 4, 5, 6, 7, 8])));
    assert_eq!(second.start_time_unix_nano, second.end_time_unix_nano, "the end is never before the start");
    let text = format!("{:?}", second.attributes);
    assert!(!text.contains("hunter2") && !text.contains("abc") && !text.contains("4111"), "{text}");
    assert!(!text.contains("abcdefgh"), "strings in arrays are redacted too: {text}");
    assert_eq!(spans[2].attributes.len(), 20);
    assert_eq!(sdk.diagnostics().spans_dropped, 0);

    let dropped = Span { dropped: 2, ..spans_base() };
    let (bytes, _) = recorded_bytes(Config::default(), &[dropped]);
    let data = proto::decode_traces(&bytes).unwrap();
    assert_eq!(data.spans().next().unwrap().2.dropped_attributes_count, 2);
}

#[test]
fn recorded_span_names_are_redacted() {
    let named = Span { name: "GET /cb?code=CANARYREC1&state=s", ..spans_base() };
    let (bytes, _) = recorded_bytes(Config::default(), &[named]);
    let data = proto::decode_traces(&bytes).unwrap();
    assert_eq!(data.spans().next().unwrap().2.name, "GET /cb?code=REDACTED&state=s");
}

#[test]
fn recorded_spans_that_find_the_queue_full_are_dropped_and_counted() {
    let mut sdk = Sdk::new(Config { max_queue_size: 2, ..Config::default() });
    let mut records = Vec::new();
    spans().iter().for_each(|s| record(&mut records, s));
    sdk.record_spans(&records, &keys());
    assert_eq!(sdk.queued_spans(), 2);
    assert_eq!(sdk.diagnostics().spans_dropped, 1);
}

#[test]
fn a_malformed_batch_is_counted_and_never_read_past_its_end() {
    let mut records = Vec::new();
    record(&mut records, &spans_base());
    let whole = records.len();
    record(&mut records, &spans_base());
    for cut in [whole + 3, whole + 40, records.len() - 1] {
        let mut sdk = Sdk::new(Config::default());
        sdk.record_spans(&records[..cut], &keys());
        assert_eq!(sdk.queued_spans(), 1, "the whole first record is kept");
        assert_eq!(sdk.diagnostics().api_errors, 1);
    }
    // A name that is not UTF-8 (here a lone continuation byte in place of the `o` of "op").
    let mut bad = Vec::new();
    record(&mut bad, &spans_base());
    let name_at = 4 + 32 + 4 + 4 + 16 + 4;
    assert_eq!(&bad[name_at..name_at + 2], b"op");
    bad[name_at] = 0x80;
    let mut sdk = Sdk::new(Config::default());
    sdk.record_spans(&bad, &keys());
    assert_eq!((sdk.queued_spans(), sdk.diagnostics().api_errors), (0, 1));
    // A length that claims more than the batch holds, and one below the length field itself.
    for len in [u32::MAX, 2] {
        let mut bad = records.clone();
        bad[..4].copy_from_slice(&len.to_le_bytes());
        let mut sdk = Sdk::new(Config::default());
        sdk.record_spans(&bad, &keys());
        assert_eq!((sdk.queued_spans(), sdk.diagnostics().api_errors), (0, 1));
    }
}
