//! OTLP protobuf as the span store keeps it: attributes, events, links, spans and log records
//! are written as protobuf when they are recorded, with every length known before it is
//! written, so a batch is a resource and scope header plus the spans' bytes copied after it.
//!
//! The field numbers are those of `opentelemetry-proto`, in the order prost writes them; the
//! core's tests decode what this writes with the shared decoder in `edgescope-otlp`.

use alloc::vec::Vec;
use core::mem::MaybeUninit;

use edgescope_otlp::{AnyValue, KeyValue};

pub(crate) const VARINT: u8 = 0;
pub(crate) const FIXED64: u8 = 1;
pub(crate) const LEN: u8 = 2;
pub(crate) const FIXED32: u8 = 5;

/// Bytes of `v` as a varint.
#[inline(always)]
pub(crate) fn varint_len(v: u64) -> usize {
    (70 - (v | 1).leading_zeros() as usize) / 7
}

#[inline(always)]
fn tag_len(field: u32) -> usize {
    varint_len((field as u64) << 3)
}

/// Bytes of a length-delimited field (tag, length, body) with a `len`-byte body.
#[inline(always)]
pub(crate) fn field_size(field: u32, len: usize) -> usize {
    tag_len(field) + varint_len(len as u64) + len
}

#[inline(always)]
pub(crate) fn bytes_size(field: u32, len: usize) -> usize {
    if len == 0 {
        0
    } else {
        field_size(field, len)
    }
}

#[inline(always)]
pub(crate) fn uint_size(field: u32, v: u64) -> usize {
    if v == 0 {
        0
    } else {
        tag_len(field) + varint_len(v)
    }
}

#[inline(always)]
pub(crate) fn fixed64_size(field: u32, v: u64) -> usize {
    if v == 0 {
        0
    } else {
        tag_len(field) + 8
    }
}

#[inline(always)]
pub(crate) fn fixed32_size(field: u32, v: u32) -> usize {
    if v == 0 {
        0
    } else {
        tag_len(field) + 4
    }
}

/// Appends a message of exactly `size` bytes to `buf`, written by `f`: the bytes are made
/// room for once, and `f` writes them through a cursor into the vector's spare capacity
/// instead of growing it byte by byte (which, at `-Oz`, is a call per byte), and without
/// zeroing the room first.
pub(crate) fn write(buf: &mut Vec<u8>, size: usize, f: impl FnOnce(&mut W<'_>)) {
    buf.reserve(size);
    let at = buf.len();
    let room = buf.spare_capacity_mut().get_mut(..size).unwrap_or_default();
    if room.len() != size {
        return; // `reserve` makes the room; this is unreachable.
    }
    let mut w = W { b: room, at: 0 };
    f(&mut w);
    debug_assert_eq!(w.at, size, "a size computed ahead differs from what was written");
    if w.at != size {
        // A size computation is wrong (the tests compare every message with the shared
        // encoder): the bytes are zeroed rather than left uninitialised.
        w.b.fill(MaybeUninit::new(0));
    }
    // SAFETY: the spare capacity holds `size` bytes (checked above), and every one of them is
    // initialised: the cursor writes in sequence from 0, and a write that would pass `size` is
    // dropped but still moves `at` past `size` for good, so `at == size` means every write
    // landed; otherwise all were zeroed.
    unsafe { buf.set_len(at + size) };
}

/// A cursor over room made ahead in a buffer. Writes past the end are dropped (they would be
/// a bug in a size computation, which the tests compare against the shared encoder).
#[derive(Debug)]
pub(crate) struct W<'a> {
    b: &'a mut [MaybeUninit<u8>],
    at: usize,
}

impl W<'_> {
    #[inline(always)]
    fn byte(&mut self, v: u8) {
        if let Some(x) = self.b.get_mut(self.at) {
            *x = MaybeUninit::new(v);
        }
        self.at += 1;
    }

    #[inline(always)]
    pub(crate) fn slice(&mut self, s: &[u8]) {
        if let Some(d) = self.b.get_mut(self.at..self.at + s.len()) {
            // SAFETY: `d` is `s.len()` bytes long, and a shared and a mutable borrow never
            // overlap. A plain copy: `copy_from_slice` is a call with its own length check and
            // panic path at `-Oz`, made for every field written.
            unsafe { core::ptr::copy_nonoverlapping(s.as_ptr(), d.as_mut_ptr().cast::<u8>(), s.len()) };
        }
        self.at += s.len();
    }

    /// A varint; one byte, the common case (tags, short lengths, small numbers), inline.
    #[inline(always)]
    pub(crate) fn varint(&mut self, v: u64) {
        if v < 0x80 {
            self.byte(v as u8);
        } else {
            self.long_varint(v);
        }
    }

    fn long_varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.byte(v as u8 | 0x80);
            v >>= 7;
        }
        self.byte(v as u8);
    }

    /// A field's tag: one byte below field 16, which is every field but `Span.flags`.
    #[inline(always)]
    pub(crate) fn tag(&mut self, field: u32, wire: u8) {
        let tag = (field << 3) | wire as u32;
        if tag < 0x80 {
            self.byte(tag as u8);
        } else {
            self.varint(tag as u64);
        }
    }

    /// The tag and length of a length-delimited field whose body is `len` bytes.
    pub(crate) fn header(&mut self, field: u32, len: usize) {
        self.tag(field, LEN);
        self.varint(len as u64);
    }

    /// A bytes or string field, left out when empty (proto3 defaults are not written).
    pub(crate) fn bytes(&mut self, field: u32, v: &[u8]) {
        if !v.is_empty() {
            self.header(field, v.len());
            self.slice(v);
        }
    }

    pub(crate) fn uint(&mut self, field: u32, v: u64) {
        if v != 0 {
            self.tag(field, VARINT);
            self.varint(v);
        }
    }

    pub(crate) fn fixed64(&mut self, field: u32, v: u64) {
        if v != 0 {
            self.tag(field, FIXED64);
            self.slice(&v.to_le_bytes());
        }
    }

    pub(crate) fn fixed32(&mut self, field: u32, v: u32) {
        if v != 0 {
            self.tag(field, FIXED32);
            self.slice(&v.to_le_bytes());
        }
    }
}

/// An attribute value as the core receives it: the common kinds borrowed, so that recording
/// one copies its bytes once, into the store.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Value<'a> {
    Str(&'a str),
    Bool(bool),
    Int(i64),
    Double(f64),
    /// Arrays, key-value lists and bytes.
    Any(&'a AnyValue),
}

impl<'a> From<&'a AnyValue> for Value<'a> {
    fn from(v: &'a AnyValue) -> Value<'a> {
        match v {
            AnyValue::String(s) => Value::Str(s),
            AnyValue::Bool(b) => Value::Bool(*b),
            AnyValue::Int(i) => Value::Int(*i),
            AnyValue::Double(d) => Value::Double(*d),
            other => Value::Any(other),
        }
    }
}

/// Bytes of an `AnyValue` message body. Oneof members are written even when they hold the
/// default value.
pub(crate) fn value_size(v: Value<'_>) -> usize {
    match v {
        Value::Str(s) => field_size(1, s.len()),
        Value::Bool(b) => 1 + varint_len(b as u64),
        Value::Int(i) => 1 + varint_len(i as u64),
        Value::Double(_) => 9,
        Value::Any(AnyValue::Array(items)) => {
            field_size(5, items.iter().map(|i| field_size(1, value_size(i.into()))).sum())
        }
        Value::Any(AnyValue::KvList(kvs)) => field_size(6, kvs.iter().map(|kv| field_size(1, kv_body_size(kv))).sum()),
        Value::Any(AnyValue::Bytes(b)) => field_size(7, b.len()),
        Value::Any(AnyValue::Empty) => 0,
        Value::Any(other) => value_size(other.into()),
    }
}

pub(crate) fn value(w: &mut W<'_>, v: Value<'_>) {
    match v {
        Value::Str(s) => {
            w.header(1, s.len());
            w.slice(s.as_bytes());
        }
        Value::Bool(b) => {
            w.tag(2, VARINT);
            w.varint(b as u64);
        }
        Value::Int(i) => {
            w.tag(3, VARINT);
            w.varint(i as u64);
        }
        Value::Double(d) => {
            w.tag(4, FIXED64);
            w.slice(&d.to_bits().to_le_bytes());
        }
        Value::Any(AnyValue::Array(items)) => {
            w.header(5, items.iter().map(|i| field_size(1, value_size(i.into()))).sum());
            for item in items {
                w.header(1, value_size(item.into()));
                value(w, item.into());
            }
        }
        Value::Any(AnyValue::KvList(kvs)) => {
            w.header(6, kvs.iter().map(|kv| field_size(1, kv_body_size(kv))).sum());
            for kv in kvs {
                key_value(w, 1, &kv.key, kv.value.as_ref().map(Value::from));
            }
        }
        Value::Any(AnyValue::Bytes(b)) => {
            w.header(7, b.len());
            w.slice(b);
        }
        // An AnyValue with no member set: a `null` array item.
        Value::Any(AnyValue::Empty) => {}
        Value::Any(other) => value(w, other.into()),
    }
}

fn kv_body_size(kv: &KeyValue) -> usize {
    key_value_body_size(&kv.key, kv.value.as_ref().map(Value::from))
}

fn key_value_body_size(key: &str, v: Option<Value<'_>>) -> usize {
    bytes_size(1, key.len()) + v.map_or(0, |v| field_size(2, value_size(v)))
}

/// Bytes of a `KeyValue` message as a field of its parent.
pub(crate) fn key_value_size(field: u32, key: &str, v: Option<Value<'_>>) -> usize {
    field_size(field, key_value_body_size(key, v))
}

/// A `KeyValue` message as field `field` of its parent.
pub(crate) fn key_value(w: &mut W<'_>, field: u32, key: &str, v: Option<Value<'_>>) {
    match v {
        Some(v) => key_value_sized(w, field, key, v, value_size(v)),
        None => {
            w.header(field, bytes_size(1, key.len()));
            w.bytes(1, key.as_bytes());
        }
    }
}

/// `key_value` with the value's size already known (sizing a value walks it).
fn key_value_sized(w: &mut W<'_>, field: u32, key: &str, v: Value<'_>, value_len: usize) {
    w.header(field, bytes_size(1, key.len()) + field_size(2, value_len));
    w.bytes(1, key.as_bytes());
    w.header(2, value_len);
    value(w, v);
}

/// A list of `KeyValue` messages, all with the same (one-byte) field tag, as one byte buffer:
/// the attributes of a span, event, link or log record while it is being recorded.
#[derive(Debug, Default)]
pub(crate) struct Attributes {
    pub(crate) buf: Vec<u8>,
    pub(crate) count: u32,
    pub(crate) dropped: u32,
    /// One bit per key written by `set` (a hash of its length and end bytes): a key whose bit is
    /// clear is not in `buf`, so setting it needs no scan for an entry to replace.
    pub(crate) keys: u64,
}

/// The bit of `key` in `Attributes::keys`.
#[inline(always)]
fn key_bit(key: &[u8]) -> u64 {
    let h = key.len() as u32 ^ key.first().map_or(0, |&b| (b as u32) << 2) ^ key.last().map_or(0, |&b| (b as u32) * 5);
    1 << (h & 63)
}

impl Attributes {
    pub(crate) fn clear(&mut self) {
        self.buf.clear();
        self.count = 0;
        self.dropped = 0;
        self.keys = 0;
    }

    /// The byte range of the entry with key `key`.
    pub(crate) fn find(&self, key: &str) -> Option<(usize, usize)> {
        let b = &self.buf;
        let mut pos = 0;
        while pos < b.len() {
            let start = pos;
            pos += 1; // the tag: fields below 16
            let len = read_varint(b, &mut pos)? as usize;
            let end = pos.checked_add(len)?;
            // A key is field 1; an empty key is not written.
            let found = if b.get(pos) == Some(&0x0a) {
                let mut p = pos + 1;
                let klen = read_varint(b, &mut p)? as usize;
                b.get(p..p.checked_add(klen)?)? == key.as_bytes()
            } else {
                key.is_empty()
            };
            if found {
                return Some((start, end));
            }
            pos = end;
        }
        None
    }

    /// Records `key` = `v` as field `field`: replaces an existing entry with the same key in
    /// place, appends below `max` entries, else counts a drop and returns false.
    pub(crate) fn set(&mut self, field: u32, key: &str, v: Value<'_>, max: usize) -> bool {
        let bit = key_bit(key.as_bytes());
        let existing = if self.keys & bit == 0 { None } else { self.find(key) };
        self.keys |= bit;
        if existing.is_none() && self.count as usize >= max {
            self.dropped += 1;
            return false;
        }
        let at = self.buf.len();
        let value_len = value_size(v);
        let size = field_size(field, bytes_size(1, key.len()) + field_size(2, value_len));
        write(&mut self.buf, size, |w| key_value_sized(w, field, key, v, value_len));
        match existing {
            Some((start, end)) => {
                // Out with the old entry and in with the new one, the entries after it moved
                // behind (through a copy: slice rotation and `drain` cost the module more).
                let moved = self.buf.get(end..).map(<[u8]>::to_vec).unwrap_or_default();
                let (after, new) = moved.split_at_checked(at - end).unwrap_or_default();
                self.buf.truncate(start);
                self.buf.extend_from_slice(new);
                self.buf.extend_from_slice(after);
            }
            None => self.count += 1,
        }
        true
    }
}

fn read_varint(b: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let byte = *b.get(*pos)?;
        *pos += 1;
        v |= ((byte & 0x7f) as u64) << shift;
        if byte < 0x80 {
            return Some(v);
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

/// Attributes from the data model (resource, scopes, `opentelemetry` log records), appended.
pub(crate) fn model_attributes(buf: &mut Vec<u8>, field: u32, attributes: &[KeyValue]) {
    for kv in attributes {
        let v = kv.value.as_ref().map(Value::from);
        write(buf, key_value_size(field, &kv.key, v), |w| key_value(w, field, &kv.key, v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_lengths() {
        for (v, n) in [(0u64, 1), (1, 1), (127, 1), (128, 2), (16_383, 2), (16_384, 3), (u64::MAX, 10)] {
            assert_eq!(varint_len(v), n, "{v}");
            let mut buf = Vec::new();
            write(&mut buf, n, |w| w.varint(v));
            assert_eq!(buf.len(), n);
        }
    }

    #[test]
    fn a_replaced_attribute_keeps_its_place() {
        let mut a = Attributes::default();
        a.set(9, "a", Value::Int(1), 8);
        a.set(9, "b", Value::Str("two"), 8);
        a.set(9, "c", Value::Bool(true), 8);
        a.set(9, "b", Value::Str("a longer value"), 8);
        let mut expected = Attributes::default();
        expected.set(9, "a", Value::Int(1), 8);
        expected.set(9, "b", Value::Str("a longer value"), 8);
        expected.set(9, "c", Value::Bool(true), 8);
        assert_eq!(a.buf, expected.buf);
        assert_eq!(a.count, 3);
        // The first and the last entry, replaced by shorter and longer values.
        a.set(9, "a", Value::Bool(false), 8);
        a.set(9, "c", Value::Str("three"), 8);
        let mut expected = Attributes::default();
        expected.set(9, "a", Value::Bool(false), 8);
        expected.set(9, "b", Value::Str("a longer value"), 8);
        expected.set(9, "c", Value::Str("three"), 8);
        assert_eq!(a.buf, expected.buf);
        assert!(!a.set(9, "d", Value::Int(4), 3));
        assert_eq!(a.dropped, 1);
    }
}
