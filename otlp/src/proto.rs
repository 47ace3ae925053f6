//! OTLP protobuf: an encoder for `ExportTraceServiceRequest` / `ExportLogsServiceRequest` and a
//! decoder for the same messages, with field numbers from `opentelemetry-proto`; also single
//! `Span` messages ([`encode_span`], [`decode_span`]), which the collector stores one per row.
//!
//! Both are hand-written so that the SDK's wasm module carries no protobuf library; the tests
//! check them against the official definitions (`opentelemetry-proto` with prost) as the oracle.
//! Nested messages are written with a one-byte length placeholder that grows in place when the
//! message turns out longer than 127 bytes, so encoding is a single pass.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::{
    AnyValue, Event, InstrumentationScope, KeyValue, Link, LogRecord, LogsData, Partial, ReadError, Resource,
    ResourceLogs, ResourceSpans, ScopeLogs, ScopeSpans, Span, SpanId, SpanKind, Status, StatusCode, TraceId,
    TracesData,
};

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const FIXED32: u8 = 5;
const START_GROUP: u8 = 3;
const END_GROUP: u8 = 4;

struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    fn tag(&mut self, field: u32, wire: u8) {
        self.varint(((field as u64) << 3) | wire as u64);
    }

    fn uint(&mut self, field: u32, v: u64) {
        if v != 0 {
            self.tag(field, VARINT);
            self.varint(v);
        }
    }

    fn fixed64(&mut self, field: u32, v: u64) {
        if v != 0 {
            self.tag(field, FIXED64);
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
    }

    fn fixed32(&mut self, field: u32, v: u32) {
        if v != 0 {
            self.tag(field, FIXED32);
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
    }

    fn bytes(&mut self, field: u32, v: &[u8]) {
        if !v.is_empty() {
            self.tag(field, LEN);
            self.varint(v.len() as u64);
            self.buf.extend_from_slice(v);
        }
    }

    /// Writes a nested message (always, even when empty: presence matters for `value`).
    fn message(&mut self, field: u32, body: impl FnOnce(&mut Self)) {
        self.tag(field, LEN);
        let at = self.buf.len();
        self.buf.push(0);
        body(self);
        let len = self.buf.len() - at - 1;
        if len < 0x80 {
            self.buf[at] = len as u8;
        } else {
            let mut prefix = [0u8; 10];
            let mut n = 0;
            let mut v = len as u64;
            while v >= 0x80 {
                prefix[n] = v as u8 | 0x80;
                v >>= 7;
                n += 1;
            }
            prefix[n] = v as u8;
            self.buf.splice(at..at + 1, prefix[..=n].iter().copied());
        }
    }

    fn attributes(&mut self, field: u32, attributes: &[KeyValue]) {
        for kv in attributes {
            self.message(field, |e| {
                e.bytes(1, kv.key.as_bytes());
                if let Some(v) = &kv.value {
                    e.message(2, |e| e.any_value(v));
                }
            });
        }
    }

    fn any_value(&mut self, v: &AnyValue) {
        match v {
            // Oneof members are written even when they hold the default value.
            AnyValue::String(s) => {
                self.tag(1, LEN);
                self.varint(s.len() as u64);
                self.buf.extend_from_slice(s.as_bytes());
            }
            AnyValue::Bool(b) => {
                self.tag(2, VARINT);
                self.varint(*b as u64);
            }
            AnyValue::Int(i) => {
                self.tag(3, VARINT);
                self.varint(*i as u64);
            }
            AnyValue::Double(d) => {
                self.tag(4, FIXED64);
                self.buf.extend_from_slice(&d.to_bits().to_le_bytes());
            }
            AnyValue::Array(values) => self.message(5, |e| {
                for v in values {
                    e.message(1, |e| e.any_value(v));
                }
            }),
            AnyValue::KvList(values) => self.message(6, |e| e.attributes(1, values)),
            AnyValue::Bytes(b) => {
                self.tag(7, LEN);
                self.varint(b.len() as u64);
                self.buf.extend_from_slice(b);
            }
            // An AnyValue message with no member set.
            AnyValue::Empty => {}
        }
    }

    fn resource(&mut self, r: &Resource) {
        self.message(1, |e| {
            e.attributes(1, &r.attributes);
            e.uint(2, r.dropped_attributes_count as u64);
        });
    }

    fn scope(&mut self, s: &InstrumentationScope) {
        self.message(1, |e| {
            e.bytes(1, s.name.as_bytes());
            e.bytes(2, s.version.as_bytes());
            e.attributes(3, &s.attributes);
            e.uint(4, s.dropped_attributes_count as u64);
        });
    }

    fn span(&mut self, s: &Span) {
        self.message(2, |e| e.span_fields(s));
    }

    fn span_fields(&mut self, s: &Span) {
        self.bytes(1, &s.trace_id.0);
        self.bytes(2, &s.span_id.0);
        self.bytes(3, s.trace_state.as_bytes());
        if let Some(p) = &s.parent_span_id {
            self.bytes(4, &p.0);
        }
        self.bytes(5, s.name.as_bytes());
        self.uint(6, s.kind as u64);
        self.fixed64(7, s.start_time_unix_nano);
        self.fixed64(8, s.end_time_unix_nano);
        self.attributes(9, &s.attributes);
        self.uint(10, s.dropped_attributes_count as u64);
        for ev in &s.events {
            self.message(11, |e| e.event(ev));
        }
        self.uint(12, s.dropped_events_count as u64);
        for l in &s.links {
            self.message(13, |e| e.link(l));
        }
        self.uint(14, s.dropped_links_count as u64);
        if s.status != Status::default() {
            self.message(15, |e| {
                e.bytes(2, s.status.message.as_bytes());
                e.uint(3, s.status.code as u64);
            });
        }
        self.fixed32(16, s.flags);
    }

    fn event(&mut self, ev: &Event) {
        self.fixed64(1, ev.time_unix_nano);
        self.bytes(2, ev.name.as_bytes());
        self.attributes(3, &ev.attributes);
        self.uint(4, ev.dropped_attributes_count as u64);
    }

    fn link(&mut self, l: &Link) {
        self.bytes(1, &l.trace_id.0);
        self.bytes(2, &l.span_id.0);
        self.bytes(3, l.trace_state.as_bytes());
        self.attributes(4, &l.attributes);
        self.uint(5, l.dropped_attributes_count as u64);
        self.fixed32(6, l.flags);
    }

    fn log_record(&mut self, r: &LogRecord) {
        self.message(2, |e| {
            e.fixed64(1, r.time_unix_nano);
            e.uint(2, r.severity_number as u32 as u64);
            e.bytes(3, r.severity_text.as_bytes());
            if let Some(body) = &r.body {
                e.message(5, |e| e.any_value(body));
            }
            e.attributes(6, &r.attributes);
            e.uint(7, r.dropped_attributes_count as u64);
            e.fixed32(8, r.flags);
            if let Some(t) = &r.trace_id {
                e.bytes(9, &t.0);
            }
            if let Some(s) = &r.span_id {
                e.bytes(10, &s.0);
            }
            e.fixed64(11, r.observed_time_unix_nano);
            e.bytes(12, r.event_name.as_bytes());
        });
    }
}

/// `ExportTraceServiceRequest` as protobuf.
pub fn encode_traces(data: &TracesData) -> Vec<u8> {
    let mut e = Encoder { buf: Vec::with_capacity(1024) };
    for rs in &data.resource_spans {
        e.message(1, |e| {
            e.resource(&rs.resource);
            for ss in &rs.scope_spans {
                e.message(2, |e| {
                    e.scope(&ss.scope);
                    for s in &ss.spans {
                        e.span(s);
                    }
                    e.bytes(3, ss.schema_url.as_bytes());
                });
            }
            e.bytes(3, rs.schema_url.as_bytes());
        });
    }
    e.buf
}

/// One `Span` message as protobuf, appended to `out` (which can be reused from span to span).
/// This is the message as it sits inside `ScopeSpans`, without a tag or length in front.
pub fn encode_span(span: &Span, out: &mut Vec<u8>) {
    let mut e = Encoder { buf: core::mem::take(out) };
    e.span_fields(span);
    *out = e.buf;
}

/// `ExportLogsServiceRequest` as protobuf.
pub fn encode_logs(data: &LogsData) -> Vec<u8> {
    let mut e = Encoder { buf: Vec::with_capacity(1024) };
    for rl in &data.resource_logs {
        e.message(1, |e| {
            e.resource(&rl.resource);
            for sl in &rl.scope_logs {
                e.message(2, |e| {
                    e.scope(&sl.scope);
                    for r in &sl.log_records {
                        e.log_record(r);
                    }
                    e.bytes(3, sl.schema_url.as_bytes());
                });
            }
            e.bytes(3, rl.schema_url.as_bytes());
        });
    }
    e.buf
}

/// A `google.rpc.Status` with a gRPC code and a message, the body of OTLP/HTTP error answers.
pub fn encode_status(code: i32, message: &str) -> Vec<u8> {
    let mut e = Encoder { buf: Vec::new() };
    e.uint(1, code as u32 as u64);
    e.bytes(2, message.as_bytes());
    e.buf
}

/// An `Export{Trace,Logs}ServiceResponse` with a `partial_success`; empty when nothing was
/// rejected (the success answer).
pub fn encode_partial_success(rejected: i64, message: &str) -> Vec<u8> {
    let mut e = Encoder { buf: Vec::new() };
    if rejected != 0 || !message.is_empty() {
        e.message(1, |e| {
            e.uint(1, rejected as u64);
            e.bytes(2, message.as_bytes());
        });
    }
    e.buf
}

// ---------------------------------------------------------------------------------------------
// Decoding

type Result<T> = core::result::Result<T, ReadError>;

/// A protobuf field: its number and its payload.
enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
    /// A group (proto2's deprecated wire types 3 and 4), skipped whole: no OTLP field is one,
    /// and protobuf parsers skip an unknown one as any unknown field.
    Group,
}

struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
    path: &'a str,
}

fn fail(path: &str, message: impl Into<String>) -> ReadError {
    ReadError { path: path.to_owned(), message: message.into() }
}

impl<'a> Fields<'a> {
    fn new(buf: &'a [u8], path: &'a str) -> Fields<'a> {
        Fields { buf, pos: 0, path }
    }

    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let Some(&b) = self.buf.get(self.pos) else { return Err(fail(self.path, "truncated varint")) };
            self.pos += 1;
            if shift == 63 && b > 1 {
                return Err(fail(self.path, "varint overflows 64 bits"));
            }
            v |= ((b & 0x7f) as u64) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(fail(self.path, "varint longer than 10 bytes"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let Some(end) = end else { return Err(fail(self.path, "field runs past the end of the message")) };
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn next_field(&mut self) -> Result<Option<(u32, Value<'a>)>> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let field = u32::try_from(key >> 3).map_err(|_| fail(self.path, "field number out of range"))?;
        if field == 0 {
            return Err(fail(self.path, "field number 0"));
        }
        let value = match (key & 7) as u8 {
            VARINT => Value::Varint(self.varint()?),
            FIXED64 => Value::Fixed64(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes"))),
            LEN => {
                let n = usize::try_from(self.varint()?).map_err(|_| fail(self.path, "length out of range"))?;
                Value::Bytes(self.take(n)?)
            }
            FIXED32 => Value::Fixed32(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes"))),
            START_GROUP => {
                self.skip_group(field)?;
                Value::Group
            }
            w => return Err(fail(self.path, format!("unsupported wire type {w}"))),
        };
        Ok(Some((field, value)))
    }

    /// Skips to the end of the group `field` began, over the fields and groups inside it (a
    /// loop, so that nested groups cost no stack).
    fn skip_group(&mut self, field: u32) -> Result<()> {
        let mut open = alloc::vec![field];
        while let Some(&inner) = open.last() {
            if self.pos >= self.buf.len() {
                return Err(fail(self.path, "a group runs past the end of the message"));
            }
            let key = self.varint()?;
            let number = u32::try_from(key >> 3).map_err(|_| fail(self.path, "field number out of range"))?;
            match (key & 7) as u8 {
                VARINT => {
                    self.varint()?;
                }
                FIXED64 => {
                    self.take(8)?;
                }
                LEN => {
                    let n = usize::try_from(self.varint()?).map_err(|_| fail(self.path, "length out of range"))?;
                    self.take(n)?;
                }
                FIXED32 => {
                    self.take(4)?;
                }
                START_GROUP => open.push(number),
                END_GROUP if number == inner => {
                    open.pop();
                }
                w => return Err(fail(self.path, format!("unexpected wire type {w} in a group"))),
            }
        }
        Ok(())
    }
}

fn wrong(path: &str, field: &str) -> ReadError {
    fail(path, format!("`{field}` has the wrong wire type"))
}

fn string(v: Value<'_>, path: &str, field: &str) -> Result<String> {
    match v {
        Value::Bytes(b) => {
            String::from_utf8(b.to_vec()).map_err(|_| fail(path, format!("`{field}` is not valid UTF-8")))
        }
        _ => Err(wrong(path, field)),
    }
}

fn varint(v: Value<'_>, path: &str, field: &str) -> Result<u64> {
    match v {
        Value::Varint(n) => Ok(n),
        _ => Err(wrong(path, field)),
    }
}

fn fixed64(v: Value<'_>, path: &str, field: &str) -> Result<u64> {
    match v {
        Value::Fixed64(n) => Ok(n),
        _ => Err(wrong(path, field)),
    }
}

fn fixed32(v: Value<'_>, path: &str, field: &str) -> Result<u32> {
    match v {
        Value::Fixed32(n) => Ok(n),
        _ => Err(wrong(path, field)),
    }
}

fn bytes<'a>(v: Value<'a>, path: &str, field: &str) -> Result<&'a [u8]> {
    match v {
        Value::Bytes(b) => Ok(b),
        _ => Err(wrong(path, field)),
    }
}

/// An id of exactly `N` bytes; empty means absent.
fn id<const N: usize>(v: Value<'_>, path: &str, field: &str) -> Result<Option<[u8; N]>> {
    let b = bytes(v, path, field)?;
    if b.is_empty() {
        return Ok(None);
    }
    <[u8; N]>::try_from(b).map(Some).map_err(|_| fail(path, format!("`{field}` must be {N} bytes, not {}", b.len())))
}

fn join(path: &str, field: &str, index: usize) -> String {
    if path.is_empty() {
        format!("{field}[{index}]")
    } else {
        format!("{path}.{field}[{index}]")
    }
}

/// How deep arrays and maps may nest inside one value. The decoder recurses once per level, so
/// without a bound a small body (about 8 bytes a level) could overflow the stack of the thread
/// reading it. 24 levels still fit serde_json's 128-level limit when the value is written back
/// as OTLP/JSON (four JSON levels for each map, plus the request's own), which the viewer reads.
pub(crate) const MAX_VALUE_DEPTH: usize = 24;

fn key_value(buf: &[u8], path: &str) -> Result<KeyValue> {
    key_value_at(buf, path, 0)
}

fn key_value_at(buf: &[u8], path: &str, depth: usize) -> Result<KeyValue> {
    let mut f = Fields::new(buf, path);
    let mut kv = KeyValue { key: String::new(), value: None };
    while let Some((n, v)) = f.next_field()? {
        match n {
            1 => kv.key = string(v, path, "key")?,
            2 => kv.value = any_value_at(bytes(v, path, "value")?, path, depth)?,
            _ => {}
        }
    }
    Ok(kv)
}

fn any_value(buf: &[u8], path: &str) -> Result<Option<AnyValue>> {
    any_value_at(buf, path, 0)
}

fn any_value_at(buf: &[u8], path: &str, depth: usize) -> Result<Option<AnyValue>> {
    if depth > MAX_VALUE_DEPTH {
        return Err(fail(path, format!("a value nests arrays or maps more than {MAX_VALUE_DEPTH} levels deep")));
    }
    let mut f = Fields::new(buf, path);
    let mut out = None;
    while let Some((n, v)) = f.next_field()? {
        out = Some(match n {
            1 => AnyValue::String(string(v, path, "string_value")?),
            2 => AnyValue::Bool(varint(v, path, "bool_value")? != 0),
            3 => AnyValue::Int(varint(v, path, "int_value")? as i64),
            4 => AnyValue::Double(f64::from_bits(fixed64(v, path, "double_value")?)),
            5 => {
                let mut values = Vec::new();
                let mut inner = Fields::new(bytes(v, path, "array_value")?, path);
                while let Some((m, item)) = inner.next_field()? {
                    if m == 1 {
                        let item = any_value_at(bytes(item, path, "values")?, path, depth + 1)?;
                        values.push(item.unwrap_or(AnyValue::Empty));
                    }
                }
                AnyValue::Array(values)
            }
            6 => {
                let mut values = Vec::new();
                let mut inner = Fields::new(bytes(v, path, "kvlist_value")?, path);
                while let Some((m, item)) = inner.next_field()? {
                    if m == 1 {
                        values.push(key_value_at(bytes(item, path, "values")?, path, depth + 1)?);
                    }
                }
                AnyValue::KvList(values)
            }
            7 => AnyValue::Bytes(bytes(v, path, "bytes_value")?.to_vec()),
            _ => continue,
        });
    }
    Ok(out)
}

/// A resource read onto `r`: an embedded message given twice is merged, as protobuf parsers
/// read it (repeated fields appended, scalars present in the later one replaced).
fn resource(mut r: Resource, buf: &[u8], path: &str) -> Result<Resource> {
    let mut f = Fields::new(buf, path);
    while let Some((n, v)) = f.next_field()? {
        match n {
            1 => r.attributes.push(key_value(bytes(v, path, "attributes")?, path)?),
            2 => r.dropped_attributes_count = varint(v, path, "dropped_attributes_count")? as u32,
            _ => {}
        }
    }
    Ok(r)
}

/// A scope read onto `s`, merged as [`resource`] is.
fn scope(mut s: InstrumentationScope, buf: &[u8], path: &str) -> Result<InstrumentationScope> {
    let mut f = Fields::new(buf, path);
    while let Some((n, v)) = f.next_field()? {
        match n {
            1 => s.name = string(v, path, "name")?,
            2 => s.version = string(v, path, "version")?,
            3 => s.attributes.push(key_value(bytes(v, path, "attributes")?, path)?),
            4 => s.dropped_attributes_count = varint(v, path, "dropped_attributes_count")? as u32,
            _ => {}
        }
    }
    Ok(s)
}

fn span(buf: &[u8], path: &str) -> Result<Span> {
    let mut f = Fields::new(buf, path);
    let mut s = Span::default();
    let (mut has_trace, mut has_span) = (false, false);
    let (mut events, mut links) = (0, 0);
    while let Some((n, v)) = f.next_field()? {
        match n {
            1 => {
                s.trace_id = TraceId(id::<16>(v, path, "trace_id")?.ok_or_else(|| fail(path, "`trace_id` is empty"))?);
                has_trace = true;
            }
            2 => {
                s.span_id = SpanId(id::<8>(v, path, "span_id")?.ok_or_else(|| fail(path, "`span_id` is empty"))?);
                has_span = true;
            }
            3 => s.trace_state = string(v, path, "trace_state")?,
            // All zeros is no parent, as the JSON reader reads it (W3C: an all-zero id is invalid).
            4 => s.parent_span_id = id::<8>(v, path, "parent_span_id")?.map(SpanId).filter(SpanId::is_valid),
            5 => s.name = string(v, path, "name")?,
            6 => s.kind = SpanKind::from_i32(varint(v, path, "kind")? as i32 as i64),
            7 => s.start_time_unix_nano = fixed64(v, path, "start_time_unix_nano")?,
            8 => s.end_time_unix_nano = fixed64(v, path, "end_time_unix_nano")?,
            9 => s.attributes.push(key_value(bytes(v, path, "attributes")?, path)?),
            10 => s.dropped_attributes_count = varint(v, path, "dropped_attributes_count")? as u32,
            11 => {
                let p = join(path, "events", events);
                events += 1;
                s.events.push(event(bytes(v, path, "events")?, &p)?);
            }
            12 => s.dropped_events_count = varint(v, path, "dropped_events_count")? as u32,
            13 => {
                let p = join(path, "links", links);
                links += 1;
                s.links.push(link(bytes(v, path, "links")?, &p)?);
            }
            14 => s.dropped_links_count = varint(v, path, "dropped_links_count")? as u32,
            15 => {
                let mut inner = Fields::new(bytes(v, path, "status")?, path);
                while let Some((m, sv)) = inner.next_field()? {
                    match m {
                        2 => s.status.message = string(sv, path, "status.message")?,
                        3 => s.status.code = StatusCode::from_i32(varint(sv, path, "status.code")? as i32 as i64),
                        _ => {}
                    }
                }
            }
            16 => s.flags = fixed32(v, path, "flags")?,
            _ => {}
        }
    }
    if !has_trace || !has_span {
        return Err(fail(path, if has_trace { "`span_id` is missing" } else { "`trace_id` is missing" }));
    }
    Ok(s)
}

fn event(buf: &[u8], path: &str) -> Result<Event> {
    let mut f = Fields::new(buf, path);
    let mut e = Event::default();
    while let Some((n, v)) = f.next_field()? {
        match n {
            1 => e.time_unix_nano = fixed64(v, path, "time_unix_nano")?,
            2 => e.name = string(v, path, "name")?,
            3 => e.attributes.push(key_value(bytes(v, path, "attributes")?, path)?),
            4 => e.dropped_attributes_count = varint(v, path, "dropped_attributes_count")? as u32,
            _ => {}
        }
    }
    Ok(e)
}

fn link(buf: &[u8], path: &str) -> Result<Link> {
    let mut f = Fields::new(buf, path);
    let mut l = Link::default();
    while let Some((n, v)) = f.next_field()? {
        match n {
            1 => l.trace_id = TraceId(id::<16>(v, path, "trace_id")?.ok_or_else(|| fail(path, "`trace_id` is empty"))?),
            2 => l.span_id = SpanId(id::<8>(v, path, "span_id")?.ok_or_else(|| fail(path, "`span_id` is empty"))?),
            3 => l.trace_state = string(v, path, "trace_state")?,
            4 => l.attributes.push(key_value(bytes(v, path, "attributes")?, path)?),
            5 => l.dropped_attributes_count = varint(v, path, "dropped_attributes_count")? as u32,
            6 => l.flags = fixed32(v, path, "flags")?,
            _ => {}
        }
    }
    Ok(l)
}

fn log_record(buf: &[u8], path: &str) -> Result<LogRecord> {
    let mut f = Fields::new(buf, path);
    let mut r = LogRecord::default();
    while let Some((n, v)) = f.next_field()? {
        match n {
            1 => r.time_unix_nano = fixed64(v, path, "time_unix_nano")?,
            2 => r.severity_number = varint(v, path, "severity_number")? as i32,
            3 => r.severity_text = string(v, path, "severity_text")?,
            5 => r.body = any_value(bytes(v, path, "body")?, path)?,
            6 => r.attributes.push(key_value(bytes(v, path, "attributes")?, path)?),
            7 => r.dropped_attributes_count = varint(v, path, "dropped_attributes_count")? as u32,
            8 => r.flags = fixed32(v, path, "flags")?,
            9 => r.trace_id = id::<16>(v, path, "trace_id")?.map(TraceId),
            10 => r.span_id = id::<8>(v, path, "span_id")?.map(SpanId),
            11 => r.observed_time_unix_nano = fixed64(v, path, "observed_time_unix_nano")?,
            12 => r.event_name = string(v, path, "event_name")?,
            _ => {}
        }
    }
    Ok(r)
}

/// Decodes an `ExportTraceServiceRequest`. Unknown fields are skipped, as protobuf requires.
pub fn decode_traces(buf: &[u8]) -> Result<TracesData> {
    decode_traces_with(buf, None)
}

/// Decodes an `ExportTraceServiceRequest` like [`decode_traces`], but a span whose own bytes
/// do not decode (a wrong id length, a missing id, a malformed field inside it) is left out
/// and its error kept in [`Partial::rejected`], as is a span with an all-zero trace or span id.
/// Errors in the framing around spans (a truncated body, a broken resource or scope) still fail
/// the whole request.
pub fn decode_traces_partial(buf: &[u8]) -> Result<Partial<TracesData>> {
    let mut rejected = Vec::new();
    let data = decode_traces_with(buf, Some(&mut rejected))?;
    Ok(Partial { data, rejected })
}

/// Decodes one `Span` message, as [`encode_span`] writes it. Unknown fields are skipped.
pub fn decode_span(buf: &[u8]) -> Result<Span> {
    span(buf, "span")
}

/// Keeps an item's error in `rejected` when decoding leniently; fails otherwise.
fn keep_or_fail<T>(item: Result<T>, rejected: &mut Option<&mut Vec<ReadError>>, out: &mut Vec<T>) -> Result<()> {
    match (item, rejected) {
        (Ok(x), _) => out.push(x),
        (Err(e), Some(rejected)) => rejected.push(e),
        (Err(e), None) => return Err(e),
    }
    Ok(())
}

fn decode_traces_with(buf: &[u8], mut rejected: Option<&mut Vec<ReadError>>) -> Result<TracesData> {
    let mut out = TracesData::default();
    let mut top = Fields::new(buf, "");
    while let Some((n, v)) = top.next_field()? {
        if n != 1 {
            continue;
        }
        let rs_path = join("", "resourceSpans", out.resource_spans.len());
        let mut rs = ResourceSpans::default();
        // OTLP before 0.15 sent `instrumentation_library_spans` (field 1000, the same layout):
        // read where a request has no `scope_spans`, as the JSON reader and the OpenTelemetry
        // Collector read it.
        let mut legacy = Vec::new();
        let mut f = Fields::new(bytes(v, &rs_path, "resource_spans")?, &rs_path);
        while let Some((n, v)) = f.next_field()? {
            match n {
                1 => {
                    rs.resource =
                        resource(core::mem::take(&mut rs.resource), bytes(v, &rs_path, "resource")?, &rs_path)?
                }
                2 | 1000 => {
                    let ss_path = match n {
                        2 => join(&rs_path, "scopeSpans", rs.scope_spans.len()),
                        _ => join(&rs_path, "instrumentationLibrarySpans", legacy.len()),
                    };
                    let mut ss = ScopeSpans::default();
                    let mut seen = 0;
                    let mut g = Fields::new(bytes(v, &ss_path, "scope_spans")?, &ss_path);
                    while let Some((m, v)) = g.next_field()? {
                        match m {
                            1 => {
                                ss.scope =
                                    scope(core::mem::take(&mut ss.scope), bytes(v, &ss_path, "scope")?, &ss_path)?
                            }
                            2 => {
                                let p = join(&ss_path, "spans", seen);
                                seen += 1;
                                // Decoded leniently (as a receiver does), a span with an
                                // all-zero id is rejected.
                                let item = span(bytes(v, &p, "spans")?, &p).and_then(|s| {
                                    match s.invalid_id().filter(|_| rejected.is_some()) {
                                        Some(field) => Err(fail(&format!("{p}.{field}"), "an all-zero id is invalid")),
                                        None => Ok(s),
                                    }
                                });
                                keep_or_fail(item, &mut rejected, &mut ss.spans)?;
                            }
                            3 => ss.schema_url = string(v, &ss_path, "schema_url")?,
                            _ => {}
                        }
                    }
                    if n == 2 {
                        rs.scope_spans.push(ss)
                    } else {
                        legacy.push(ss)
                    }
                }
                3 => rs.schema_url = string(v, &rs_path, "schema_url")?,
                _ => {}
            }
        }
        if rs.scope_spans.is_empty() {
            rs.scope_spans = legacy;
        }
        out.resource_spans.push(rs);
    }
    Ok(out)
}

/// Decodes an `ExportLogsServiceRequest`. Unknown fields are skipped, as protobuf requires.
pub fn decode_logs(buf: &[u8]) -> Result<LogsData> {
    decode_logs_with(buf, None)
}

/// Decodes an `ExportLogsServiceRequest` like [`decode_logs`], but a log record whose own
/// bytes do not decode is left out and its error kept in [`Partial::rejected`]; errors in the
/// framing around log records still fail the whole request.
pub fn decode_logs_partial(buf: &[u8]) -> Result<Partial<LogsData>> {
    let mut rejected = Vec::new();
    let data = decode_logs_with(buf, Some(&mut rejected))?;
    Ok(Partial { data, rejected })
}

fn decode_logs_with(buf: &[u8], mut rejected: Option<&mut Vec<ReadError>>) -> Result<LogsData> {
    let mut out = LogsData::default();
    let mut top = Fields::new(buf, "");
    while let Some((n, v)) = top.next_field()? {
        if n != 1 {
            continue;
        }
        let rl_path = join("", "resourceLogs", out.resource_logs.len());
        let mut rl = ResourceLogs::default();
        // `instrumentation_library_logs` (field 1000), as for spans.
        let mut legacy = Vec::new();
        let mut f = Fields::new(bytes(v, &rl_path, "resource_logs")?, &rl_path);
        while let Some((n, v)) = f.next_field()? {
            match n {
                1 => {
                    rl.resource =
                        resource(core::mem::take(&mut rl.resource), bytes(v, &rl_path, "resource")?, &rl_path)?
                }
                2 | 1000 => {
                    let sl_path = match n {
                        2 => join(&rl_path, "scopeLogs", rl.scope_logs.len()),
                        _ => join(&rl_path, "instrumentationLibraryLogs", legacy.len()),
                    };
                    let mut sl = ScopeLogs::default();
                    let mut seen = 0;
                    let mut g = Fields::new(bytes(v, &sl_path, "scope_logs")?, &sl_path);
                    while let Some((m, v)) = g.next_field()? {
                        match m {
                            1 => {
                                sl.scope =
                                    scope(core::mem::take(&mut sl.scope), bytes(v, &sl_path, "scope")?, &sl_path)?
                            }
                            2 => {
                                let p = join(&sl_path, "logRecords", seen);
                                seen += 1;
                                let record = log_record(bytes(v, &p, "log_records")?, &p);
                                keep_or_fail(record, &mut rejected, &mut sl.log_records)?;
                            }
                            3 => sl.schema_url = string(v, &sl_path, "schema_url")?,
                            _ => {}
                        }
                    }
                    if n == 2 {
                        rl.scope_logs.push(sl)
                    } else {
                        legacy.push(sl)
                    }
                }
                3 => rl.schema_url = string(v, &rl_path, "schema_url")?,
                _ => {}
            }
        }
        if rl.scope_logs.is_empty() {
            rl.scope_logs = legacy;
        }
        out.resource_logs.push(rl);
    }
    Ok(out)
}

/// The `partial_success` of an `Export{Trace,Logs}ServiceResponse`: rejected count and message
/// (zero and empty for a full success).
pub fn decode_partial_success(buf: &[u8]) -> Result<(i64, String)> {
    let mut top = Fields::new(buf, "");
    let mut out = (0, String::new());
    while let Some((n, v)) = top.next_field()? {
        if n != 1 {
            continue;
        }
        let mut f = Fields::new(bytes(v, "", "partial_success")?, "partialSuccess");
        while let Some((m, v)) = f.next_field()? {
            match m {
                1 => out.0 = varint(v, "partialSuccess", "rejected")? as i64,
                2 => out.1 = string(v, "partialSuccess", "error_message")?,
                _ => {}
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named_span(name: &str, id: u8) -> Span {
        Span { trace_id: TraceId([1; 16]), span_id: SpanId([id; 8]), name: name.into(), ..Default::default() }
    }

    /// One resource and scope holding a valid span, a span with a 3-byte trace id, a span
    /// without a span id, one with an all-zero span id and another valid span.
    fn mixed_spans() -> Vec<u8> {
        let mut e = Encoder { buf: Vec::new() };
        e.message(1, |e| {
            e.message(2, |e| {
                e.span(&named_span("a", 1));
                e.message(2, |e| {
                    e.bytes(1, &[1, 2, 3]);
                    e.bytes(2, &[2; 8]);
                });
                e.message(2, |e| e.bytes(1, &[1; 16]));
                e.span(&named_span("zero", 0));
                e.span(&named_span("b", 4));
            });
        });
        e.buf
    }

    /// OTLP before 0.15: `instrumentation_library_spans` and `_logs` (field 1000, whose
    /// `instrumentation_library` has a scope's name and version) are read as scope spans and logs
    /// where a resource has none of those, and left out where it has (a sender in transition
    /// writing both).
    #[test]
    fn field_1000_of_old_senders_is_read_as_scope_spans_and_scope_logs() {
        let old = |with_new: bool| {
            let mut e = Encoder { buf: Vec::new() };
            e.message(1, |e| {
                e.message(1000, |e| {
                    e.message(1, |e| e.bytes(1, b"old.lib"));
                    e.span(&named_span("old", 1));
                });
                if with_new {
                    e.message(2, |e| e.span(&named_span("new", 2)));
                }
            });
            e.buf
        };
        let data = decode_traces(&old(false)).unwrap();
        let (_, scope, span) = data.spans().next().unwrap();
        assert_eq!((scope.name.as_str(), span.name.as_str()), ("old.lib", "old"));
        let both = decode_traces(&old(true)).unwrap();
        assert_eq!(both.spans().map(|(_, _, s)| s.name.as_str()).collect::<Vec<_>>(), ["new"]);

        let mut e = Encoder { buf: Vec::new() };
        e.message(1, |e| {
            e.message(1000, |e| {
                e.message(1, |e| e.bytes(1, b"old.logger"));
                e.log_record(&LogRecord { severity_text: "WARN".into(), ..Default::default() });
            });
        });
        let logs = decode_logs(&e.buf).unwrap();
        let sl = &logs.resource_logs[0].scope_logs[0];
        assert_eq!((sl.scope.name.as_str(), sl.log_records[0].severity_text.as_str()), ("old.logger", "WARN"));
    }

    #[test]
    fn a_resource_or_scope_given_twice_is_merged_and_unknown_groups_are_skipped_as_protobuf_parsers_do() {
        let attribute = |e: &mut Encoder, key: &str, value: &str| {
            e.message(1, |e| {
                e.bytes(1, key.as_bytes());
                e.message(2, |e| e.bytes(1, value.as_bytes()));
            })
        };
        let mut e = Encoder { buf: Vec::new() };
        e.message(1, |e| {
            e.message(1, |e| attribute(e, "service.name", "checkout"));
            e.message(1, |e| attribute(e, "host.name", "h1"));
            e.message(2, |e| {
                e.message(1, |e| e.bytes(1, b"lib"));
                e.message(1, |e| e.bytes(2, b"1.0"));
                e.message(2, |e| {
                    e.bytes(1, &[1; 16]);
                    e.bytes(2, &[2; 8]);
                    e.bytes(5, b"op");
                    // An unknown group (field 90) holding a varint and a nested group (91).
                    e.buf.extend_from_slice(&[0xd3, 0x05, 0x08, 0x01, 0xdb, 0x05, 0x10, 0x02, 0xdc, 0x05, 0xd4, 0x05]);
                });
            });
        });
        let data = decode_traces(&e.buf).unwrap();
        let (resource, scope, span) = data.spans().next().unwrap();
        let keys: Vec<&str> = resource.attributes.iter().map(|kv| kv.key.as_str()).collect();
        assert_eq!(keys, ["service.name", "host.name"], "both resource messages, merged");
        assert_eq!((scope.name.as_str(), scope.version.as_str()), ("lib", "1.0"), "both scope messages, merged");
        assert_eq!(span.name, "op", "the span after its unknown group");
        // A group that never ends, or an end without its start, is still an error.
        assert!(decode_traces(&[0xd3, 0x05, 0x08, 0x01]).is_err());
        assert!(decode_traces(&[0xd4, 0x05]).is_err());
    }

    #[test]
    fn a_partial_decode_keeps_the_spans_that_decode_and_names_each_rejected_one() {
        let buf = mixed_spans();
        assert!(decode_traces(&buf).is_err(), "the strict decoder still fails the whole request");
        let partial = decode_traces_partial(&buf).unwrap();
        let names: Vec<&str> = partial.data.spans().map(|(_, _, s)| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        let rejected: Vec<String> = partial.rejected.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            rejected,
            [
                "resourceSpans[0].scopeSpans[0].spans[1]: `trace_id` must be 16 bytes, not 3",
                "resourceSpans[0].scopeSpans[0].spans[2]: `span_id` is missing",
                "resourceSpans[0].scopeSpans[0].spans[3].spanId: an all-zero id is invalid",
            ]
        );
        assert!(decode_traces_partial(&buf[..buf.len() - 2]).is_err(), "a truncated request still fails");
    }

    #[test]
    fn a_partial_decode_of_logs_keeps_the_records_that_decode() {
        let mut e = Encoder { buf: Vec::new() };
        e.message(1, |e| {
            e.message(2, |e| {
                e.log_record(&LogRecord { severity_text: "INFO".into(), ..Default::default() });
                e.message(2, |e| e.bytes(9, &[9; 5]));
            });
        });
        let partial = decode_logs_partial(&e.buf).unwrap();
        assert_eq!(partial.data.records().map(|(_, _, r)| r.severity_text.as_str()).collect::<Vec<_>>(), ["INFO"]);
        assert_eq!(partial.rejected.len(), 1);
        assert_eq!(partial.rejected[0].path, "resourceLogs[0].scopeLogs[0].logRecords[1]");
    }

    /// `levels` arrays nested in one resource attribute of a logs request, built back to front
    /// (each level's length is what has been written so far) so that it takes linear time.
    fn nested_arrays(levels: usize) -> Vec<u8> {
        fn prefix(rev: &mut Vec<u8>, field: u8) {
            let mut n = rev.len() as u64;
            let mut varint = Vec::new();
            loop {
                let b = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    varint.push(b);
                    break;
                }
                varint.push(b | 0x80);
            }
            rev.extend(varint.iter().rev());
            rev.push(field << 3 | LEN);
        }
        let mut rev = b"x".to_vec();
        prefix(&mut rev, 1); // AnyValue { string_value }
        for _ in 0..levels {
            prefix(&mut rev, 1); // ArrayValue { values }
            prefix(&mut rev, 5); // AnyValue { array_value }
        }
        prefix(&mut rev, 2); // KeyValue { value }
        rev.extend(b"k".iter().rev());
        rev.push(1);
        rev.push(1 << 3 | LEN); // KeyValue { key: "k" }, reversed
        prefix(&mut rev, 1); // Resource { attributes }
        prefix(&mut rev, 1); // ResourceLogs { resource }
        prefix(&mut rev, 1); // ExportLogsServiceRequest { resource_logs }
        rev.reverse();
        rev
    }

    #[test]
    fn values_nested_too_deep_are_refused_instead_of_overflowing_the_stack() {
        let depth_of = |v: &AnyValue| {
            let (mut v, mut depth) = (v, 0);
            while let AnyValue::Array(items) = v {
                v = &items[0];
                depth += 1;
            }
            depth
        };
        let logs = decode_logs(&nested_arrays(MAX_VALUE_DEPTH)).unwrap();
        let kv = &logs.resource_logs[0].resource.attributes[0];
        assert_eq!(kv.key, "k");
        assert_eq!(depth_of(kv.value.as_ref().unwrap()), MAX_VALUE_DEPTH);

        // About 800 KB: far more levels than any thread's stack holds frames for.
        for levels in [MAX_VALUE_DEPTH + 1, 100_000] {
            let err = decode_logs(&nested_arrays(levels)).unwrap_err();
            assert!(err.message.contains("more than 24 levels deep"), "{err:?}");
        }
    }
}
