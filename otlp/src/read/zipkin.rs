//! Zipkin v2 JSON (`/api/v2/trace/{id}`, `/api/v2/traces`) into the OTLP model.
//!
//! Zipkin shares one span id between the client and server halves of an RPC (`"shared": true`
//! on the server half, or a SERVER span with a CLIENT span's id, whose flag zipkin2's
//! `Trace.merge` fills in). OTLP ids are unique, so the server half gets an id derived from the
//! shared one and becomes the client half's child, and the shared id's other children move
//! under it. Times are microseconds; a timestamp of zero is none, as zipkin2 reads it, and an
//! all-zero `parentId` is no parent. A span without a timestamp (Zipkin allows it) starts when
//! its earliest child does, else when its parent does, through chains of such spans of any
//! depth, and is marked `edgescope.zipkin.missing_timestamp`.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value};

use super::{err, find_id, sorted_ids, tolerant_id, IdKey, Result};
use crate::{
    AnyValue, Event, KeyValue, Resource, ResourceSpans, ScopeSpans, Span, SpanId, SpanKind, Status, StatusCode,
    TraceId, TracesData,
};

/// A derived id for the server half of a shared span: the shared id with every bit of its
/// first byte flipped and its last byte rotated, never zero and stable for the same input.
pub(super) fn server_half(id: SpanId) -> SpanId {
    let mut b = id.0;
    b[0] ^= 0xff;
    b[7] = b[7].rotate_left(3) ^ 0x5a;
    SpanId(b)
}

/// Microseconds written as a number (a whole float too: `1472470996199000.0`, as some JSON
/// writers print numbers) or as a string of digits.
pub(super) fn micros(v: Option<&Value>) -> Option<u64> {
    v.and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0 && (0.0..1.8e19).contains(f)).map(|f| f as u64))
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    })
}

/// Converts a Zipkin v2 span array.
pub(super) fn traces(spans: &[Value]) -> Result<TracesData> {
    Ok(finish(convert_values(spans)?))
}

/// Reads a Zipkin v2 span array straight from text when every span has the common shape
/// (string ids, numeric times, string tags), without building a `serde_json::Value` tree: on a
/// 100,000-span file that is most of the reading time and memory. `None` when the text is not
/// such an array; the caller then reads it through [`traces`], which names what is wrong.
#[cfg(feature = "fast-zipkin")]
pub(super) fn traces_from_text(text: &str) -> Option<TracesData> {
    Some(finish(fast::spans(text)?))
}

/// One span on its way into the model, with what the fix-ups below need to know.
struct Converted {
    service: String,
    span: Span,
    shared: bool,
    missing_timestamp: bool,
}

fn kind_of(kind: Option<&str>) -> SpanKind {
    match kind {
        Some("CLIENT") => SpanKind::Client,
        Some("SERVER") => SpanKind::Server,
        Some("PRODUCER") => SpanKind::Producer,
        Some("CONSUMER") => SpanKind::Consumer,
        _ => SpanKind::Internal,
    }
}

fn convert_values(spans: &[Value]) -> Result<Vec<Converted>> {
    let mut out: Vec<Converted> = Vec::with_capacity(spans.len());
    for (i, v) in spans.iter().enumerate() {
        let path = format!("[{i}]");
        let o: &Map<String, Value> = v.as_object().ok_or_else(|| err(&path, "expected a Zipkin span object"))?;
        let id_of = |key: &str| -> Result<Option<[u8; 8]>> {
            match o.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.is_empty() => Ok(None),
                Some(Value::String(s)) => {
                    tolerant_id::<8>(s).map(Some).ok_or_else(|| err(&format!("{path}.{key}"), "not a hex span id"))
                }
                Some(_) => Err(err(&format!("{path}.{key}"), "expected a string")),
            }
        };
        let trace = o.get("traceId").and_then(Value::as_str).ok_or_else(|| err(&path, "missing traceId"))?;
        let trace_id =
            TraceId(tolerant_id::<16>(trace).ok_or_else(|| err(&format!("{path}.traceId"), "not a hex trace id"))?);
        let span_id = SpanId(id_of("id")?.ok_or_else(|| err(&path, "missing id"))?);
        // zipkin2's Span.Builder reads an all-zero parent id as none, and a zero timestamp as
        // absent (a zero duration is absent too, which reads the same as zero here).
        let parent_span_id = id_of("parentId")?.map(SpanId).filter(SpanId::is_valid);
        let timestamp = micros(o.get("timestamp")).filter(|&t| t != 0);
        let duration = micros(o.get("duration")).unwrap_or(0);
        let kind = kind_of(o.get("kind").and_then(Value::as_str));
        let mut attributes = Vec::new();
        let mut status = Status::default();
        if let Some(Value::Object(tags)) = o.get("tags") {
            for (k, v) in tags {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if k == "error" {
                    status = Status { code: StatusCode::Error, message: text.clone() };
                }
                attributes.push(KeyValue::new(k.as_str(), text));
            }
        }
        let endpoint = |key: &str| o.get(key).and_then(Value::as_object);
        if let Some(remote) = endpoint("remoteEndpoint") {
            if let Some(name) = remote.get("serviceName").and_then(Value::as_str) {
                attributes.push(KeyValue::new("peer.service", name));
            }
        }
        for (key, names) in ENDPOINTS {
            let Some(e) = endpoint(key) else { continue };
            let ip = |v: &str| e.get(v).and_then(Value::as_str).filter(|ip| !ip.is_empty());
            let port = e.get("port").and_then(Value::as_u64);
            push_address(&mut attributes, names, ip("ipv4").or_else(|| ip("ipv6")), port);
        }
        let events = match o.get("annotations") {
            Some(Value::Array(list)) => list
                .iter()
                .map(|a| Event {
                    time_unix_nano: micros(a.get("timestamp")).unwrap_or(0).saturating_mul(1000),
                    name: a.get("value").and_then(Value::as_str).unwrap_or("").to_owned(),
                    ..Default::default()
                })
                .collect(),
            _ => Vec::new(),
        };
        let service = endpoint("localEndpoint")
            .and_then(|e| e.get("serviceName"))
            .and_then(Value::as_str)
            .unwrap_or("unknown_service")
            .to_owned();
        let start = timestamp.unwrap_or(0).saturating_mul(1000);
        out.push(Converted {
            service,
            shared: o.get("shared").and_then(Value::as_bool).unwrap_or(false),
            missing_timestamp: timestamp.is_none(),
            span: Span {
                trace_id,
                span_id,
                parent_span_id,
                name: o.get("name").and_then(Value::as_str).unwrap_or("").to_owned(),
                kind,
                start_time_unix_nano: start,
                end_time_unix_nano: start.saturating_add(duration.saturating_mul(1000)),
                attributes,
                events,
                status,
                ..Default::default()
            },
        });
    }
    Ok(out)
}

/// Zipkin trace ids are 64 or 128 bits, and one trace may carry both when some of its
/// instrumentation propagates the lower 64 bits only. Zipkin joins them: a server with
/// `strictTraceId=false` finds the spans of the same lower 64 bits for a trace id, and zipkin2's
/// `Trace.merge` (as Zipkin Lens's span cleaner, for a trace's spans in a file) gives them all
/// the longest id. Here a 64-bit id takes the 128-bit id that ends with it; when several
/// 128-bit ids end with it, which trace it belongs to is unknown, and it stays as it is.
fn join_64_bit_trace_ids(out: &mut [Converted]) {
    // The lower 64 bits as a number (big-endian: the order of the bytes). Sorted as (number,
    // index) pairs, the element type of the viewer's other sorts: one copy of the sort in its wasm.
    let low = |t: &TraceId| u64::from_be_bytes(t.0[8..].try_into().unwrap_or_default());
    let is_64_bit = |t: &TraceId| t.0[..8] == [0; 8];
    let ids: Vec<TraceId> = out.iter().map(|c| c.span.trace_id).filter(|t| !is_64_bit(t)).collect();
    if ids.is_empty() {
        return;
    }
    let mut wide: Vec<(u64, usize)> = ids.iter().enumerate().map(|(i, t)| (low(t), i)).collect();
    wide.sort_unstable();
    // (lower 64 bits, the one 128-bit id ending with them), or None when more than one does.
    let mut unique: Vec<(u64, Option<TraceId>)> = Vec::with_capacity(wide.len());
    for (l, i) in wide {
        let t = ids[i];
        match unique.last_mut() {
            Some(last) if last.0 == l => {
                if last.1 != Some(t) {
                    last.1 = None;
                }
            }
            _ => unique.push((l, Some(t))),
        }
    }
    for c in out.iter_mut().filter(|c| is_64_bit(&c.span.trace_id)) {
        if let Ok(i) = unique.binary_search_by(|(l, _)| l.cmp(&low(&c.span.trace_id))) {
            if let Some(t) = unique[i].1 {
                c.span.trace_id = t;
            }
        }
    }
}

/// The fix-ups every Zipkin span array needs, then one resource per service.
fn finish(mut out: Vec<Converted>) -> TracesData {
    join_64_bit_trace_ids(&mut out);
    let key = |s: &Span| (s.trace_id, s.span_id);
    // Some instrumentation leaves the shared flag off the server half; a SERVER span with the id
    // of a CLIENT span is that half all the same (zipkin2's Trace.merge sets the flag on it).
    let clients = sorted_ids(
        out.iter().filter(|c| !c.shared && c.span.kind == SpanKind::Client).map(|c| (key(&c.span), 0)).collect(),
    );
    if !clients.is_empty() {
        for c in out.iter_mut().filter(|c| !c.shared && c.span.kind == SpanKind::Server) {
            c.shared = find_id(&clients, &key(&c.span)).is_some();
        }
    }
    drop(clients);
    // Shared ids: the server half gets its own id under the client half, and takes the
    // shared id's children with it.
    let client_halves = sorted_ids(out.iter().filter(|c| !c.shared).map(|c| (key(&c.span), 0)).collect());
    let mut moved = Vec::new();
    for c in out.iter_mut().filter(|c| c.shared) {
        let shared = key(&c.span);
        if find_id(&client_halves, &shared).is_some() {
            let own = server_half(c.span.span_id);
            c.span.parent_span_id = Some(c.span.span_id);
            c.span.span_id = own;
            moved.push((shared, u64::from_be_bytes(own.0)));
        }
    }
    drop(client_halves);
    let moved = sorted_ids(moved);
    if !moved.is_empty() {
        for c in out.iter_mut() {
            let Some(parent) = c.span.parent_span_id else { continue };
            if let Some(own) = find_id(&moved, &(c.span.trace_id, parent)).map(|o| SpanId(o.to_be_bytes())) {
                if own != c.span.span_id {
                    c.span.parent_span_id = Some(own);
                }
            }
        }
    }
    if out.iter().any(|c| c.missing_timestamp) {
        infer_missing_starts(&mut out);
    }
    by_service(out)
}

/// A start not known (yet), in [`infer_missing_starts`]' table.
const UNKNOWN: u64 = u64::MAX;

/// Gives each span without a timestamp the start of its earliest child, else of its parent,
/// where that child or parent may have its start the same way, through chains of any depth
/// (the earliest child's start is the earliest start below the span through spans without
/// one). A span that finds none keeps its time, and every such span is marked.
fn infer_missing_starts(out: &mut [Converted]) {
    let key = |s: &Span| (s.trace_id, s.span_id);
    // Every id's start, the earliest of those its spans have (Zipkin merges spans sent in
    // pieces under one id), or UNKNOWN when none of them has a timestamp.
    let mut starts = sorted_ids(
        out.iter()
            .map(|c| (key(&c.span), if c.missing_timestamp { UNKNOWN } else { c.span.start_time_unix_nano }))
            .collect(),
    );
    starts.dedup_by(|later, first| {
        let same = later.0 == first.0;
        if same {
            first.1 = first.1.min(later.1);
        }
        same
    });
    // The parents of the spans without a timestamp (the span id within the same trace, as a
    // number), to walk up from a child.
    let parents = sorted_ids(
        out.iter()
            .filter(|c| c.missing_timestamp)
            .filter_map(|c| Some((key(&c.span), u64::from_be_bytes(c.span.parent_span_id?.0))))
            .collect(),
    );
    let parents_of = |(trace, span): IdKey| {
        let from = parents.partition_point(|e| e.0 < (trace, span));
        parents[from..]
            .iter()
            .take_while(move |e| e.0 == (trace, span))
            .map(move |e| (trace, SpanId(e.1.to_be_bytes())))
    };
    let at = |starts: &[(IdKey, u64)], id: IdKey| starts.binary_search_by(|e| e.0.cmp(&id)).ok();

    // From children: the spans with a timestamp, earliest first, each give their start to the
    // ancestors without one above them, up to one that already has a start (from this child's
    // earlier sibling or cousin, or a timestamp of its own), whose ancestors have theirs.
    let mut timed: Vec<(u64, usize)> = out
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.missing_timestamp && c.span.parent_span_id.is_some())
        .map(|(i, c)| (c.span.start_time_unix_nano, i))
        .collect();
    timed.sort_unstable();
    let mut above: Vec<IdKey> = Vec::new();
    for (start, i) in timed {
        let span = &out[i].span;
        above.extend(span.parent_span_id.map(|p| (span.trace_id, p)));
        while let Some(id) = above.pop() {
            let Some(a) = at(&starts, id).filter(|&a| starts[a].1 == UNKNOWN) else { continue };
            starts[a].1 = start;
            above.extend(parents_of(id));
        }
    }

    // From parents: each id still without a start takes that of the nearest ancestor with one.
    // An id is walked through once (a chain that finds none, or a cycle of parents, is not
    // walked again), so this takes time in proportion to the ids.
    let mut walked = alloc::vec![false; starts.len()];
    let mut chain: Vec<usize> = Vec::new();
    for a in 0..starts.len() {
        if walked[a] || starts[a].1 != UNKNOWN {
            continue;
        }
        chain.clear();
        let mut next = Some(a);
        let found = loop {
            let Some(b) = next else { break UNKNOWN };
            if starts[b].1 != UNKNOWN {
                break starts[b].1;
            }
            if walked[b] {
                break UNKNOWN;
            }
            walked[b] = true;
            chain.push(b);
            // The first of an id's parents (spans that repeat an id may name different ones).
            next = parents_of(starts[b].0).next().and_then(|p| at(&starts, p));
        };
        for &b in &chain {
            starts[b].1 = found;
        }
    }

    for c in out.iter_mut().filter(|c| c.missing_timestamp) {
        if let Some(start) = find_id(&starts, &key(&c.span)).filter(|&t| t != UNKNOWN) {
            let duration = c.span.end_time_unix_nano.saturating_sub(c.span.start_time_unix_nano);
            c.span.start_time_unix_nano = start;
            c.span.end_time_unix_nano = start.saturating_add(duration);
        }
        c.span.attributes.push(KeyValue::new("edgescope.zipkin.missing_timestamp", AnyValue::Bool(true)));
    }
}

/// Spans grouped into one resource per service, in order of first appearance.
fn by_service(out: Vec<Converted>) -> TracesData {
    let mut resource_spans: Vec<ResourceSpans> = Vec::new();
    let mut services: Vec<String> = Vec::new();
    for c in out {
        match services.iter().position(|s| *s == c.service) {
            Some(i) => resource_spans[i].scope_spans[0].spans.push(c.span),
            None => {
                services.push(c.service.clone());
                resource_spans.push(ResourceSpans {
                    resource: Resource {
                        attributes: alloc::vec![KeyValue::new("service.name", c.service)],
                        ..Default::default()
                    },
                    scope_spans: alloc::vec![ScopeSpans { spans: alloc::vec![c.span], ..Default::default() }],
                    ..Default::default()
                })
            }
        }
    }
    TracesData { resource_spans }
}

/// The common shape of a Zipkin v2 span, borrowed from the text where it has no escapes, read
/// by a small hand-written JSON scanner rather than serde derives: those keep serde's error
/// messages, and with them core's float printing and Unicode tables, in the viewer's module
/// (about 23 KB gzip). Anything else (string times, non-string tags, a missing id, JSON that
/// serde_json would reject) makes the scanner give up, and the span array is read through
/// `serde_json::Value` instead, which names what is wrong.
/// The span attributes of a Zipkin endpoint's address and port (its `serviceName` is the resource's,
/// or the peer's), as the OpenTelemetry network conventions name them.
const ENDPOINTS: [(&str, [&str; 2]); 2] = [
    ("localEndpoint", ["network.local.address", "network.local.port"]),
    ("remoteEndpoint", ["network.peer.address", "network.peer.port"]),
];

/// Adds an endpoint's address (IPv4 before IPv6, as Zipkin shows them) and port (0: none).
fn push_address(attributes: &mut Vec<KeyValue>, [address, port_key]: [&str; 2], ip: Option<&str>, port: Option<u64>) {
    if let Some(ip) = ip {
        attributes.push(KeyValue::new(address, ip));
    }
    if let Some(port) = port.filter(|p| (1..=65535).contains(p)) {
        attributes.push(KeyValue::new(port_key, port as i64));
    }
}

#[cfg(feature = "fast-zipkin")]
mod fast {
    use alloc::borrow::Cow;
    use alloc::string::String;
    use alloc::vec::Vec;

    use super::{kind_of, tolerant_id, Converted};
    use crate::{Event, KeyValue, Span, SpanId, Status, StatusCode, TraceId};

    #[derive(Default)]
    struct ZSpan<'a> {
        trace_id: Option<Cow<'a, str>>,
        id: Option<Cow<'a, str>>,
        parent_id: Option<Cow<'a, str>>,
        name: Option<Cow<'a, str>>,
        kind: Option<Cow<'a, str>>,
        timestamp: Option<u64>,
        duration: Option<u64>,
        local_endpoint: Option<Endpoint<'a>>,
        remote_endpoint: Option<Endpoint<'a>>,
        annotations: Option<Vec<Annotation<'a>>>,
        tags: Option<Tags<'a>>,
        shared: Option<bool>,
    }

    #[derive(Default)]
    struct Endpoint<'a> {
        service_name: Option<Cow<'a, str>>,
        ipv4: Option<Cow<'a, str>>,
        ipv6: Option<Cow<'a, str>>,
        port: Option<u64>,
    }

    #[derive(Default)]
    struct Annotation<'a> {
        timestamp: Option<u64>,
        value: Option<Cow<'a, str>>,
    }

    /// Tags in document order; [`convert`] sorts them the way a `serde_json::Map` iterates.
    struct Tags<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

    /// Below serde_json's nesting limit (128): deeper documents are left to it, which rejects them.
    const MAX_DEPTH: usize = 100;

    /// Every span of a Zipkin v2 array converted, or `None` where the `Value` path should read it.
    pub(super) fn spans(text: &str) -> Option<Vec<Converted>> {
        let mut r = Scanner { text, at: 0 };
        let mut out = Vec::new();
        r.array(|r| {
            out.push(convert(r.span()?)?);
            Some(())
        })?;
        r.blank();
        (r.at == text.len()).then_some(out)
    }

    /// A position in the text; every method returns `None` on what it does not expect.
    struct Scanner<'a> {
        text: &'a str,
        at: usize,
    }

    impl<'a> Scanner<'a> {
        fn peek(&self) -> Option<u8> {
            self.text.as_bytes().get(self.at).copied()
        }

        /// JSON whitespace, the only kind serde_json skips.
        fn blank(&mut self) {
            while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
                self.at += 1;
            }
        }

        /// The next byte after whitespace, consumed if it is `b`.
        fn eat(&mut self, b: u8) -> bool {
            self.blank();
            let found = self.peek() == Some(b);
            self.at += usize::from(found);
            found
        }

        fn literal(&mut self, word: &str) -> bool {
            self.blank();
            let found = self.text[self.at..].starts_with(word);
            self.at += if found { word.len() } else { 0 };
            found
        }

        /// `null` (then `None`), else what `read` makes of the value.
        fn nullable<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
            if self.literal("null") {
                return Some(None);
            }
            read(self).map(Some)
        }

        /// `[item, ...]`, each item read by `item`.
        fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
            if !self.eat(b'[') {
                return None;
            }
            if self.eat(b']') {
                return Some(());
            }
            loop {
                item(self)?;
                if self.eat(b']') {
                    return Some(());
                }
                if !self.eat(b',') {
                    return None;
                }
            }
        }

        /// `{"key": value, ...}`, each value read by `entry` given its key.
        fn object(&mut self, mut entry: impl FnMut(&mut Self, Cow<'a, str>) -> Option<()>) -> Option<()> {
            if !self.eat(b'{') {
                return None;
            }
            if self.eat(b'}') {
                return Some(());
            }
            loop {
                let key = self.string()?;
                if !self.eat(b':') {
                    return None;
                }
                entry(self, key)?;
                if self.eat(b'}') {
                    return Some(());
                }
                if !self.eat(b',') {
                    return None;
                }
            }
        }

        /// A string, borrowed from the text unless it has escapes.
        fn string(&mut self) -> Option<Cow<'a, str>> {
            if !self.eat(b'"') {
                return None;
            }
            let bytes = self.text.as_bytes();
            let start = self.at;
            let mut owned: Option<String> = None;
            let mut run = start;
            loop {
                let b = *bytes.get(self.at)?;
                match b {
                    b'"' => {
                        let tail = &self.text[run..self.at];
                        self.at += 1;
                        return Some(match owned {
                            None => Cow::Borrowed(tail),
                            Some(mut s) => {
                                s.push_str(tail);
                                Cow::Owned(s)
                            }
                        });
                    }
                    b'\\' => {
                        let s = owned.get_or_insert_with(String::new);
                        s.push_str(&self.text[run..self.at]);
                        let c = match *bytes.get(self.at + 1)? {
                            b'"' => '"',
                            b'\\' => '\\',
                            b'/' => '/',
                            b'b' => '\u{8}',
                            b'f' => '\u{c}',
                            b'n' => '\n',
                            b'r' => '\r',
                            b't' => '\t',
                            b'u' => {
                                self.at += 2;
                                let hi = self.hex4()?;
                                let code = if (0xd800..0xdc00).contains(&hi) {
                                    // A surrogate pair: `\uD83D\uDE00`.
                                    if !self.text[self.at..].starts_with("\\u") {
                                        return None;
                                    }
                                    self.at += 2;
                                    let lo = self.hex4()?;
                                    if !(0xdc00..0xe000).contains(&lo) {
                                        return None;
                                    }
                                    0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                                } else {
                                    hi
                                };
                                s.push(char::from_u32(code)?);
                                run = self.at;
                                continue;
                            }
                            _ => return None,
                        };
                        s.push(c);
                        self.at += 2;
                        run = self.at;
                    }
                    // Control characters must be escaped.
                    0..=0x1f => return None,
                    _ => self.at += 1,
                }
            }
        }

        /// Four hex digits of a `\u` escape.
        fn hex4(&mut self) -> Option<u32> {
            let digits = self.text.get(self.at..self.at + 4)?;
            let mut v = 0;
            for d in digits.chars() {
                v = v * 16 + d.to_digit(16)?;
            }
            self.at += 4;
            Some(v)
        }

        /// A non-negative integer that fits a `u64`; a fraction, an exponent or a sign give up,
        /// as serde did for a `u64` field.
        fn u64(&mut self) -> Option<u64> {
            self.blank();
            let start = self.at;
            let mut v: u64 = 0;
            while let Some(d @ b'0'..=b'9') = self.peek() {
                v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
                self.at += 1;
            }
            let digits = self.at - start;
            // No leading zeros in JSON, and no `.` or `e` after the digits.
            let valid = digits == 1 || (digits > 1 && self.text.as_bytes()[start] != b'0');
            (valid && !matches!(self.peek(), Some(b'.' | b'e' | b'E'))).then_some(v)
        }

        fn bool(&mut self) -> Option<bool> {
            if self.literal("true") {
                Some(true)
            } else if self.literal("false") {
                Some(false)
            } else {
                None
            }
        }

        /// Passes over any JSON value, checking it as serde_json would.
        fn skip(&mut self, depth: usize) -> Option<()> {
            if depth > MAX_DEPTH {
                return None;
            }
            self.blank();
            match self.peek()? {
                b'"' => self.string().map(drop),
                b'[' => self.array(|r| r.skip(depth + 1)),
                b'{' => self.object(|r, _| r.skip(depth + 1)),
                b't' | b'f' => self.bool().map(drop),
                b'n' => self.literal("null").then_some(()),
                _ => self.number(),
            }
        }

        /// Any JSON number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
        fn number(&mut self) -> Option<()> {
            let bytes = self.text.as_bytes();
            let digits = |at: &mut usize| {
                let start = *at;
                while bytes.get(*at).is_some_and(u8::is_ascii_digit) {
                    *at += 1;
                }
                *at - start
            };
            let mut at = self.at;
            at += usize::from(bytes.get(at) == Some(&b'-'));
            let whole = at;
            match digits(&mut at) {
                0 => return None,
                n if n > 1 && bytes[whole] == b'0' => return None,
                _ => {}
            }
            if bytes.get(at) == Some(&b'.') {
                at += 1;
                if digits(&mut at) == 0 {
                    return None;
                }
            }
            if let Some(b'e' | b'E') = bytes.get(at) {
                at += 1;
                at += usize::from(matches!(bytes.get(at), Some(b'+' | b'-')));
                if digits(&mut at) == 0 {
                    return None;
                }
            }
            self.at = at;
            Some(())
        }

        fn span(&mut self) -> Option<ZSpan<'a>> {
            let mut z = ZSpan::default();
            // A repeated key: the last one wins, as in a `serde_json::Map`.
            self.object(|r, key| {
                match key.as_ref() {
                    "traceId" => z.trace_id = r.nullable(Self::string)?,
                    "id" => z.id = r.nullable(Self::string)?,
                    "parentId" => z.parent_id = r.nullable(Self::string)?,
                    "name" => z.name = r.nullable(Self::string)?,
                    "kind" => z.kind = r.nullable(Self::string)?,
                    "timestamp" => z.timestamp = r.nullable(Self::u64)?,
                    "duration" => z.duration = r.nullable(Self::u64)?,
                    "localEndpoint" => z.local_endpoint = r.nullable(Self::endpoint)?,
                    "remoteEndpoint" => z.remote_endpoint = r.nullable(Self::endpoint)?,
                    "annotations" => {
                        z.annotations = r.nullable(|r| {
                            let mut list = Vec::new();
                            r.array(|r| {
                                list.push(r.annotation()?);
                                Some(())
                            })?;
                            Some(list)
                        })?
                    }
                    "tags" => {
                        z.tags = r.nullable(|r| {
                            let mut tags = Vec::new();
                            r.object(|r, k| {
                                tags.push((k, r.string()?));
                                Some(())
                            })?;
                            Some(Tags(tags))
                        })?
                    }
                    "shared" => z.shared = r.nullable(Self::bool)?,
                    _ => r.skip(2)?,
                }
                Some(())
            })?;
            Some(z)
        }

        fn endpoint(&mut self) -> Option<Endpoint<'a>> {
            let mut e = Endpoint::default();
            self.object(|r, key| match key.as_ref() {
                "serviceName" => {
                    e.service_name = r.nullable(Self::string)?;
                    Some(())
                }
                "ipv4" => {
                    e.ipv4 = r.nullable(Self::string)?;
                    Some(())
                }
                "ipv6" => {
                    e.ipv6 = r.nullable(Self::string)?;
                    Some(())
                }
                "port" => {
                    e.port = r.nullable(Self::u64)?;
                    Some(())
                }
                _ => r.skip(3),
            })?;
            Some(e)
        }

        fn annotation(&mut self) -> Option<Annotation<'a>> {
            let mut a = Annotation::default();
            self.object(|r, key| {
                match key.as_ref() {
                    "timestamp" => a.timestamp = r.nullable(Self::u64)?,
                    "value" => a.value = r.nullable(Self::string)?,
                    _ => r.skip(4)?,
                }
                Some(())
            })?;
            Some(a)
        }
    }

    fn id<const N: usize>(s: Option<&Cow<'_, str>>) -> Option<Option<[u8; N]>> {
        match s.map(|s| s.as_ref()) {
            None | Some("") => Some(None),
            Some(s) => tolerant_id::<N>(s).map(Some),
        }
    }

    /// The same span the `Value` path makes of it, or `None` where that path would report an
    /// error (so that it does, with its path and message).
    fn nonempty<'s>(v: &'s Option<Cow<'_, str>>) -> Option<&'s str> {
        v.as_deref().filter(|s| !s.is_empty())
    }

    fn convert(z: ZSpan<'_>) -> Option<Converted> {
        let trace_id = TraceId(id::<16>(z.trace_id.as_ref())??);
        let span_id = SpanId(id::<8>(z.id.as_ref())??);
        let parent_span_id = id::<8>(z.parent_id.as_ref())?.map(SpanId).filter(SpanId::is_valid);
        let timestamp = z.timestamp.filter(|&t| t != 0);
        let mut tags = z.tags.map(|t| t.0).unwrap_or_default();
        // A JSON object keeps the last of repeated keys and iterates in key order.
        tags.reverse();
        let mut order: Vec<usize> = (0..tags.len()).collect();
        order.sort_unstable_by(|&a, &b| tags[a].0.cmp(&tags[b].0).then(a.cmp(&b)));
        order.dedup_by(|later, first| tags[*later].0 == tags[*first].0);
        let mut tags: Vec<_> = tags.into_iter().map(Some).collect();
        let tags = order.into_iter().filter_map(|i| tags[i].take());
        let mut status = Status::default();
        let mut attributes = Vec::new();
        for (k, v) in tags {
            let v = String::from(v);
            if k == "error" {
                status = Status { code: StatusCode::Error, message: v.clone() };
            }
            attributes.push(KeyValue::new(k.as_ref(), v));
        }
        if let Some(name) = z.remote_endpoint.as_ref().and_then(|e| e.service_name.as_deref()) {
            attributes.push(KeyValue::new("peer.service", name));
        }
        for (e, (_, names)) in [z.local_endpoint.as_ref(), z.remote_endpoint.as_ref()].into_iter().zip(super::ENDPOINTS)
        {
            let Some(e) = e else { continue };
            let ip = nonempty(&e.ipv4).or_else(|| nonempty(&e.ipv6));
            super::push_address(&mut attributes, names, ip, e.port);
        }
        let events = z
            .annotations
            .unwrap_or_default()
            .into_iter()
            .map(|a| Event {
                time_unix_nano: a.timestamp.unwrap_or(0).saturating_mul(1000),
                name: a.value.map(String::from).unwrap_or_default(),
                ..Default::default()
            })
            .collect();
        let service =
            z.local_endpoint.and_then(|e| e.service_name).map(String::from).unwrap_or_else(|| "unknown_service".into());
        let start = timestamp.unwrap_or(0).saturating_mul(1000);
        Some(Converted {
            service,
            shared: z.shared.unwrap_or(false),
            missing_timestamp: timestamp.is_none(),
            span: Span {
                trace_id,
                span_id,
                parent_span_id,
                name: z.name.map(String::from).unwrap_or_default(),
                kind: kind_of(z.kind.as_deref()),
                start_time_unix_nano: start,
                end_time_unix_nano: start.saturating_add(z.duration.unwrap_or(0).saturating_mul(1000)),
                attributes,
                events,
                status,
                ..Default::default()
            },
        })
    }
}

#[cfg(all(test, feature = "fast-zipkin"))]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!("{}/../../shared/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn the_fast_path_reads_every_zipkin_fixture_as_the_value_path_does() {
        for name in [
            "zipkin-lens-messaging-kafka.json",
            "zipkin-lens-skew.json",
            "zipkin-lens-smartthings-mobile-web-install.json",
            "zipkin-lens-smartthings-oauth-authorization.json",
            "zipkin-lens-yelp.json",
        ] {
            let text = fixture(name);
            let doc: Vec<Value> = serde_json::from_str(&text).unwrap();
            let fast = traces_from_text(&text).unwrap_or_else(|| panic!("{name}: the fast path gave up"));
            assert_eq!(fast, traces(&doc).unwrap(), "{name}");
        }
    }

    #[test]
    fn the_fast_path_gives_up_on_unusual_shapes_and_keeps_the_last_of_repeated_tags() {
        let odd = r#"[{"traceId":"1","id":"2","timestamp":"10","tags":{"n":1}}]"#;
        assert!(traces_from_text(odd).is_none());
        let repeated = r#"[{"traceId":"1","id":"2","timestamp":10,"tags":{"b":"x","a":"1","b":"y \u00e9"}}]"#;
        let doc: Vec<Value> = serde_json::from_str(repeated).unwrap();
        assert_eq!(traces_from_text(repeated).unwrap(), traces(&doc).unwrap());
        let span = &traces(&doc).unwrap().resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(span.attributes, [KeyValue::new("a", "1"), KeyValue::new("b", "y é")]);
    }

    /// Zipkin joins a trace's 64-bit ids to its 128-bit id when their lower 64 bits match
    /// (zipkin2's `Trace.merge` keeps the longest id for the spans a non-strict trace id finds).
    #[test]
    fn spans_with_the_lower_64_bits_of_a_128_bit_trace_id_join_that_trace() {
        let text = r#"[
            {"traceId":"463ac35c9f6413ad48485a3953bb6124","id":"a1","kind":"CLIENT","timestamp":10,"duration":9,
             "localEndpoint":{"serviceName":"web"}},
            {"traceId":"48485a3953bb6124","id":"a1","kind":"SERVER","shared":true,"timestamp":11,"duration":7,
             "localEndpoint":{"serviceName":"api"}},
            {"traceId":"48485a3953bb6124","id":"b2","parentId":"a1","timestamp":12,"duration":1,
             "localEndpoint":{"serviceName":"api"}},
            {"traceId":"00000000000000c3","id":"c3","timestamp":1},
            {"traceId":"1111111111111111aaaaaaaaaaaaaaaa","id":"d4","timestamp":1},
            {"traceId":"2222222222222222aaaaaaaaaaaaaaaa","id":"d5","timestamp":1},
            {"traceId":"aaaaaaaaaaaaaaaa","id":"d6","timestamp":1}
        ]"#;
        let data = value_path(text).unwrap().unwrap();
        assert_eq!(traces_from_text(text).unwrap(), data, "both paths agree");
        let spans: Vec<Span> = data.spans().map(|(_, _, s)| s.clone()).collect();
        let trace_of = |id: u8| spans.iter().find(|s| s.span_id.0[7] == id);
        let wide = "463ac35c9f6413ad48485a3953bb6124";
        assert!(spans.iter().filter(|s| s.trace_id.to_hex() == wide).count() == 3, "{spans:?}");
        // The server half of the shared id found its client half in the joined trace.
        let server = spans.iter().find(|s| s.kind == SpanKind::Server).unwrap();
        assert_eq!(server.parent_span_id.map(|p| p.0[7]), Some(0xa1));
        assert_eq!(trace_of(0xb2).unwrap().parent_span_id, Some(server.span_id));
        // A 64-bit id alone stays; one that two 128-bit ids end with cannot tell which, and stays.
        assert_eq!(trace_of(0xc3).unwrap().trace_id.to_hex(), "000000000000000000000000000000c3");
        assert_eq!(trace_of(0xd6).unwrap().trace_id.to_hex(), "0000000000000000aaaaaaaaaaaaaaaa");
    }

    /// The `Value` path's reading of a text, for the fast path to match (`None`: invalid JSON).
    fn value_path(text: &str) -> Option<Result<TracesData>> {
        let doc: Vec<Value> = serde_json::from_str(text).ok()?;
        Some(traces(&doc))
    }

    #[test]
    fn times_too_large_for_nanoseconds_stop_at_the_largest_instead_of_overflowing() {
        let text = r#"[{"traceId":"a1","id":"b2","timestamp":18446744073709551615,"duration":18446744073709551615,
            "annotations":[{"timestamp":18446744073709551615,"value":"late"}]},
            {"traceId":"a1","id":"c3","parentId":"b2","duration":5}]"#;
        let doc: Vec<Value> = serde_json::from_str(text).unwrap();
        let slow = traces(&doc).unwrap();
        assert_eq!(traces_from_text(text).unwrap(), slow, "both paths agree");
        let spans: Vec<_> = slow.spans().map(|(_, _, s)| s.clone()).collect();
        assert!(spans.iter().all(|s| s.end_time_unix_nano >= s.start_time_unix_nano));
        assert_eq!(
            spans.iter().find(|s| s.name.is_empty() && s.events.len() == 1).unwrap().events[0].time_unix_nano,
            u64::MAX
        );
    }

    #[test]
    fn the_scanner_reads_escapes_nulls_unknown_fields_and_repeated_keys_as_the_value_path_does() {
        for text in [
            "[]",
            " \n[ ]\t",
            r#"[{"traceId":"a1","id":"b2","name":"caf\u00e9 \"q\" \\ \/ \b\f\n\r\t \ud83d\ude00","timestamp":0}]"#,
            r#"[{"traceId":"a1","id":"b2","parentId":null,"name":null,"kind":null,"timestamp":null,"duration":null,
                "localEndpoint":null,"remoteEndpoint":null,"annotations":null,"tags":null,"shared":null}]"#,
            r#"[{"traceId":"a1","id":"b2","parentId":"","kind":"SERVER","shared":true,"debug":false,
                "localEndpoint":{"serviceName":"s","ipv4":"10.0.0.1","ipv6":"::1","port":8080,"x":[1,-2.5e-3,{"y":[]}]},
                "remoteEndpoint":{"serviceName":"peer"},"annotations":[{"timestamp":5,"value":"ws","endpoint":{}},{}],
                "extra":{"a":[true,false,null,0,-0,1.0E+2,"\u0041"]}}]"#,
            r#"[{"traceId":"a1","id":"b2","timestamp":1,"timestamp":1700000000000000,"name":"x","name":"y"},
                {"traceId":"a1","id":"b3","parentId":"b2","duration":7}]"#,
            r#"[{"tr\u0061ceId":"a1","id":"b2"}]"#,
        ] {
            let fast = traces_from_text(text).unwrap_or_else(|| panic!("gave up on {text}"));
            assert_eq!(Some(Ok(fast)), value_path(text), "{text}");
        }
    }

    #[test]
    fn the_scanner_gives_up_on_what_it_does_not_read_and_on_json_that_serde_json_rejects() {
        let deep = format!(r#"[{{"traceId":"a1","id":"b2","x":{}1{}}}]"#, "[".repeat(200), "]".repeat(200));
        // Left to the `Value` path, which reads them or names what is wrong.
        for text in [
            r#"[null]"#,
            r#"[["a1","b2"]]"#,
            r#"[{"id":"b2"}]"#,
            r#"[{"traceId":"a1"}]"#,
            r#"[{"traceId":"xyz","id":"b2"}]"#,
            r#"[{"traceId":"a1","id":7}]"#,
            r#"[{"traceId":"a1","id":"b2","timestamp":-1}]"#,
            r#"[{"traceId":"a1","id":"b2","timestamp":1.5}]"#,
            r#"[{"traceId":"a1","id":"b2","timestamp":1e3}]"#,
            r#"[{"traceId":"a1","id":"b2","timestamp":18446744073709551616}]"#,
            r#"[{"traceId":"a1","id":"b2","timestamp":"10"}]"#,
            r#"[{"traceId":"a1","id":"b2","tags":{"n":null}}]"#,
            r#"[{"traceId":"a1","id":"b2","tags":[]}]"#,
            r#"[{"traceId":"a1","id":"b2","localEndpoint":"s"}]"#,
            r#"[{"traceId":"a1","id":"b2","annotations":[1]}]"#,
            r#"[{"traceId":"a1","id":"b2","shared":1}]"#,
            r#"[{"traceId":"a1","id":"b2","name":3}]"#,
        ] {
            assert!(traces_from_text(text).is_none(), "read {text}");
            assert!(value_path(text).is_some(), "{text}");
        }
        for text in [
            deep.as_str(),
            "",
            "[",
            "[{}",
            "[{},]",
            "[,]",
            r#"[{"traceId":"a1","id":"b2"}] x"#,
            r#"[{"traceId":"a1","id":"b2",}]"#,
            r#"[{"traceId":"a1" "id":"b2"}]"#,
            r#"[{"traceId":"a1","id":"b2","timestamp":01}]"#,
            r#"[{"traceId":"a1","id":"b2","x":01}]"#,
            r#"[{"traceId":"a1","id":"b2","x":1.}]"#,
            r#"[{"traceId":"a1","id":"b2","x":-}]"#,
            r#"[{"traceId":"a1","id":"b2","x":.5}]"#,
            r#"[{"traceId":"a1","id":"b2","x":1e}]"#,
            r#"[{"traceId":"a1","id":"b2","x":nul}]"#,
            r#"[{"traceId":"a1","id":"b2","x":True}]"#,
            r#"[{"traceId":"a1","id":"b2","name":"\x"}]"#,
            r#"[{"traceId":"a1","id":"b2","name":"\u12"}]"#,
            r#"[{"traceId":"a1","id":"b2","name":"\ud83d"}]"#,
            r#"[{"traceId":"a1","id":"b2","name":"\ude00"}]"#,
            "[{\"traceId\":\"a1\",\"id\":\"b2\",\"name\":\"tab\there\"}]",
            r#"[{"traceId":"a1","id":"b2","name":"open]"#,
        ] {
            assert!(traces_from_text(text).is_none(), "read {text}");
            assert!(serde_json::from_str::<Value>(text).is_err(), "{text} is JSON");
        }
    }
}
