//! Spans recorded by the JavaScript layer (ADR 0011): `sdk/js/records.js` keeps an open span in a
//! JavaScript object, with no call into wasm, and writes it as one record when it ends; a batch
//! of records crosses the boundary at once and is encoded here into the export queue, through
//! the same limits, redaction and span encoding as a span the core recorded itself.
//!
//! A record, all numbers little-endian: its byte length (u32, itself included); the trace id
//! (16 bytes), span id (8) and parent span id (8, zero for none); the OTLP span flags (u32);
//! the kind (u8) and three bytes of padding; the start and end times (f64 Unix milliseconds);
//! the name (u32 byte length, UTF-8); the attribute count and the count of attributes the
//! JavaScript layer already dropped (u32 each); then each attribute as an interned key id (u32)
//! and a typed value: 0 a string (u32 byte length, UTF-8), 1 a number (f64), 2 a boolean (one
//! byte), 3 an array (u32 count, then that many values, never arrays). Keys are distinct: the
//! JavaScript layer replaces a value set twice.

use alloc::vec::Vec;

use edgescope_otlp::{AnyValue, KeyValue};

use super::is_int;

#[cfg(feature = "records")]
mod encode;

/// Reads a record field by field; `None` past its end.
pub(crate) struct Reader<'a>(pub(crate) &'a [u8]);

impl<'a> Reader<'a> {
    #[inline(always)]
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    #[inline(always)]
    pub(crate) fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    #[inline(always)]
    fn f64(&mut self) -> Option<f64> {
        Some(f64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    /// A string (u32 byte length, UTF-8); `None` past the end or for bytes that are not UTF-8.
    pub(crate) fn text(&mut self) -> Option<&'a str> {
        let n = self.u32()? as usize;
        let b = self.take(n)?;
        // Only where records are encoded: the lean module reads few strings this way.
        #[cfg(feature = "records")]
        if b.iter().all(u8::is_ascii) {
            // SAFETY: ASCII is UTF-8. The common short attribute value is checked in a loop
            // rather than through `from_utf8`'s call (about 40 instructions each at `-Oz`).
            return Some(unsafe { core::str::from_utf8_unchecked(b) });
        }
        core::str::from_utf8(b).ok()
    }

    /// A typed value as an `AnyValue`: 0 a string, 1 a number, 2 a boolean, 3 an array (u32 count,
    /// then its items), 4 bytes (u32 length), 5 a map (u32 count, then each key as a string and
    /// its value), 6 a number kept as a double, 7 no value (an array's `null` item).
    pub(crate) fn any(&mut self) -> Option<AnyValue> {
        Some(match self.take(1)?[0] {
            0 => AnyValue::String(self.text()?.into()),
            1 => number(self.f64()?),
            2 => AnyValue::Bool(self.take(1)?[0] != 0),
            3 => {
                let n = self.u32()?;
                let mut items = Vec::new();
                for _ in 0..n {
                    items.push(self.any()?);
                }
                AnyValue::Array(items)
            }
            4 => {
                let n = self.u32()? as usize;
                AnyValue::Bytes(self.take(n)?.to_vec())
            }
            5 => {
                let n = self.u32()?;
                let mut entries = Vec::new();
                for _ in 0..n {
                    let key = self.text()?.into();
                    entries.push(KeyValue { key, value: Some(self.any()?) });
                }
                AnyValue::KvList(entries)
            }
            // A measurement, a double even when it is whole (a web vital's value).
            6 => AnyValue::Double(self.f64()?),
            7 => AnyValue::Empty,
            _ => return None,
        })
    }
}

/// A JavaScript number as an attribute value: whole and safe numbers are OTLP ints, others
/// doubles.
pub(crate) fn number(n: f64) -> AnyValue {
    if is_int(n) {
        AnyValue::Int(n as i64)
    } else {
        AnyValue::Double(n)
    }
}
