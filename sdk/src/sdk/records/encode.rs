//! The encoder of records (the `records` feature): each record straight into the export queue.

use alloc::string::String;
use alloc::vec::Vec;

use edgescope_otlp::{AnyValue, SpanKind};

use super::super::wire::{self, Value, LEN, VARINT, W};
use super::super::{is_int, Sdk};
use super::Reader;

// Unix milliseconds (as JavaScript reads them) in nanoseconds, as the core converts its own.
use crate::platform::millis_to_nanos as nanos;

impl Sdk {
    /// Encodes the records of ended spans (see the module's documentation) into the export
    /// queue, as [`Sdk::end_span_at`] does for a span the core recorded: attribute values are
    /// redacted and cut, and a span that finds the queue full is dropped and counted. `keys`
    /// are the interned attribute keys. A malformed record ends the batch and is counted as an
    /// API error.
    #[inline(never)]
    pub fn record_spans(&mut self, records: &[u8], keys: &[String]) {
        let mut r = Reader(records);
        // Whether each key is a secret's (`is_secret_name`), looked at once per batch: 2 for
        // not yet.
        let mut secret = alloc::vec![2u8; keys.len()];
        while !r.0.is_empty() {
            if self.record_span(&mut r, keys, &mut secret).is_none() {
                self.diagnostics.api_errors += 1;
                return;
            }
        }
    }

    fn record_span(&mut self, all: &mut Reader<'_>, keys: &[String], secret: &mut [u8]) -> Option<()> {
        let len = all.u32()? as usize;
        let mut r = Reader(all.take(len.checked_sub(4)?)?);
        let ids = r.take(32)?;
        let flags = r.u32()?;
        let kind = r.take(4)?[0];
        let (start, end) = (nanos(r.f64()?), nanos(r.f64()?));
        let name = self.config.clean_name(r.text()?);
        // JavaScript counted its drops in the diagnostics when they happened.
        let (count, dropped) = (r.u32()?, r.u32()?);
        let head = Head {
            trace_id: ids.get(..16)?.try_into().ok()?,
            span_id: ids.get(16..24)?.try_into().ok()?,
            parent: ids.get(24..32)?.try_into().ok()?,
            flags,
            kind: SpanKind::from_i32(kind as i64),
            start,
            // A clock that stepped back must not produce a negative duration.
            end: end.max(start),
            name: &name,
            dropped,
        };
        self.encode_record(&head, count as usize, r, keys, secret)
    }

    /// Encodes a record straight into the queue: the values (redacted and cut) first, then
    /// the span's size, then one write, as `OpenSpan::encode` writes it. JavaScript keeps a
    /// span's keys distinct and within `Config::max_attributes`.
    fn encode_record<'a>(
        &mut self,
        h: &Head<'_>,
        count: usize,
        mut r: Reader<'a>,
        keys: &[String],
        secret: &mut [u8],
    ) -> Option<()> {
        // Each attribute takes at least 6 bytes: a count beyond that is a malformed record.
        if count > r.0.len() / 6 {
            return None;
        }
        let mut stack = [(0u32, Pending::Bool(false), 0usize); STACK_ATTRIBUTES];
        let mut heap = Vec::new();
        let items = if count <= STACK_ATTRIBUTES {
            stack.get_mut(..count)?
        } else {
            heap.resize(count, (0u32, Pending::Bool(false), 0usize));
            &mut heap[..]
        };
        let mut owned: Vec<String> = Vec::new();
        let mut anys: Vec<AnyValue> = Vec::new();
        let redact = self.config.redact;
        let max_len = self.config.max_attribute_value_length;
        // Each value as it will be written, with the size of its `AnyValue` body.
        for item in items.iter_mut() {
            let key_id = r.u32()?;
            let key = key_of(keys, key_id);
            let v = match r.0.first()? {
                0 => {
                    r.take(1)?;
                    let s = r.text()?;
                    let red = redact.then(|| {
                        let known = secret.get_mut(key_id as usize).map(|f| {
                            if *f == 2 {
                                *f = u8::from(crate::redact::is_secret_name(key.as_bytes()));
                            }
                            *f == 1
                        });
                        let is = known.unwrap_or_else(|| crate::redact::is_secret_name(key.as_bytes()));
                        crate::redact::redact_keyed(key, is, s, &self.config.redact_params)
                    });
                    match red.flatten() {
                        Some(red) => {
                            let n = cut_to(&red, max_len).len();
                            owned.push(red);
                            (Pending::Owned(owned.len() - 1), wire::field_size(1, n))
                        }
                        None => (Pending::Str(s), wire::field_size(1, cut_to(s, max_len).len())),
                    }
                }
                1 => {
                    r.take(1)?;
                    let n = r.f64()?;
                    if is_int(n) {
                        (Pending::Int(n as i64), 1 + wire::varint_len(n as i64 as u64))
                    } else {
                        (Pending::Double(n), 9)
                    }
                }
                2 => {
                    r.take(1)?;
                    (Pending::Bool(r.take(1)?[0] != 0), 2)
                }
                _ => {
                    let mut any = r.any()?;
                    if redact {
                        super::super::redact_value(key, Some(&mut any), &self.config.redact_params);
                    }
                    if self.config.max_attribute_value_length > 0 {
                        super::super::truncate_value(&mut any, self.config.max_attribute_value_length);
                    }
                    let n = wire::value_size(Value::from(&any));
                    anys.push(any);
                    (Pending::Any(anys.len() - 1), n)
                }
            };
            *item = (key_id, v.0, v.1);
        }
        let (owned, anys) = (&owned[..], &anys[..]);
        let value = move |p: Pending<'a>| pending_value(p, owned, anys, max_len);
        let items = &*items;
        // A `KeyValue` body's size, from its key and its value's size.
        let kv_size = |k: u32, v: usize| wire::bytes_size(1, key_of(keys, k).len()) + wire::field_size(2, v);
        let attributes: usize = items.iter().map(|&(k, _, v)| wire::field_size(9, kv_size(k, v))).sum();
        if self.spans.len() >= self.config.max_queue_size {
            self.diagnostics.spans_dropped += 1;
            return Some(());
        }
        let parent = h.parent != [0; 8];
        let size = wire::field_size(1, 16)
            + wire::field_size(2, 8)
            + if parent { wire::field_size(4, 8) } else { 0 }
            + wire::bytes_size(5, h.name.len())
            + wire::uint_size(6, h.kind as u64)
            + wire::fixed64_size(7, h.start)
            + wire::fixed64_size(8, h.end)
            + attributes
            + wire::uint_size(10, h.dropped as u64)
            + wire::fixed32_size(16, h.flags);
        // The fields as `OpenSpan::encode` writes them.
        self.spans.push(0, |out| {
            wire::write(out, wire::field_size(2, size), |w| {
                w.tag(2, LEN);
                w.varint(size as u64);
                bytes(w, 1, &h.trace_id);
                bytes(w, 2, &h.span_id);
                if parent {
                    bytes(w, 4, &h.parent);
                }
                if !h.name.is_empty() {
                    bytes(w, 5, h.name.as_bytes());
                }
                w.uint(6, h.kind as u64);
                w.fixed64(7, h.start);
                w.fixed64(8, h.end);
                for &(k, p, v) in items {
                    let kv = kv_size(k, v);
                    attribute(w, key_of(keys, k).as_bytes(), value(p), v, kv);
                }
                w.uint(10, h.dropped as u64);
                w.fixed32(16, h.flags);
            })
        });
        Some(())
    }
}

/// Attributes of a record read into a list on the stack; more take one on the heap.
const STACK_ATTRIBUTES: usize = 8;

/// The fixed fields of a record.
struct Head<'a> {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    parent: [u8; 8],
    flags: u32,
    kind: SpanKind,
    start: u64,
    end: u64,
    name: &'a str,
    dropped: u32,
}

/// An attribute value of a record, read and redacted, before its size is known: owned values
/// are indices into the lists `encode_record` keeps.
#[derive(Clone, Copy)]
enum Pending<'a> {
    Str(&'a str),
    Owned(usize),
    Int(i64),
    Double(f64),
    Bool(bool),
    Any(usize),
}

/// A length-delimited field (also when empty: a string attribute value is written even when
/// empty).
#[inline(always)]
fn bytes(w: &mut W<'_>, field: u32, b: &[u8]) {
    w.tag(field, LEN);
    w.varint(b.len() as u64);
    w.slice(b);
}

/// A `KeyValue` as field 9 of a span, with the sizes of its value and body worked out; the
/// common values written inline.
#[inline(always)]
fn attribute(w: &mut W<'_>, key: &[u8], v: Value<'_>, value_len: usize, body_len: usize) {
    w.tag(9, LEN);
    w.varint(body_len as u64);
    if !key.is_empty() {
        bytes(w, 1, key);
    }
    w.tag(2, LEN);
    w.varint(value_len as u64);
    match v {
        Value::Str(s) => bytes(w, 1, s.as_bytes()),
        Value::Int(n) => {
            w.tag(3, VARINT);
            w.varint(n as u64);
        }
        other => wire::value(w, other),
    }
}

/// The value of `p`: a string cut to `max_len` bytes (when not 0), an owned value from the lists.
fn pending_value<'a>(p: Pending<'a>, owned: &'a [String], anys: &'a [AnyValue], max_len: usize) -> Value<'a> {
    match p {
        Pending::Str(s) => Value::Str(cut_to(s, max_len)),
        Pending::Owned(i) => Value::Str(cut_to(owned.get(i).map_or("", String::as_str), max_len)),
        Pending::Int(n) => Value::Int(n),
        Pending::Double(n) => Value::Double(n),
        Pending::Bool(b) => Value::Bool(b),
        Pending::Any(i) => anys.get(i).map_or(Value::Bool(false), Value::from),
    }
}

/// `s` cut to `max` bytes at a character boundary when `max` is not 0.
#[inline(always)]
fn cut_to(s: &str, max: usize) -> &str {
    if max > 0 {
        super::super::cut_chars(s, max)
    } else {
        s
    }
}

fn key_of(keys: &[String], id: u32) -> &str {
    keys.get(id as usize).map_or("", String::as_str)
}
