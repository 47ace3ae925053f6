//! The `traceparent` header: lowercase hex only, all-zero ids and version `ff` are invalid,
//! version `00` is exactly 55 characters, and a later version may append fields after a `-`
//! that this version does not understand.

#[allow(unused_imports)]
use alloc::{borrow::ToOwned, boxed::Box, format, string::String, vec, vec::Vec};

use edgescope_otlp::{SpanId, TraceId};

use crate::text::push_ascii;

/// Trace flag: the trace is sampled.
pub const FLAG_SAMPLED: u8 = 0x01;
/// Trace flag (W3C Trace Context Level 2): the trace id's rightmost 7 bytes are random.
pub const FLAG_RANDOM: u8 = 0x02;

/// The part of a span that crosses process boundaries.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SpanContext {
    /// The trace.
    pub trace_id: TraceId,
    /// The span.
    pub span_id: SpanId,
    /// W3C trace flags.
    pub flags: u8,
    /// The `tracestate` header as received or to be sent.
    pub trace_state: String,
    /// True when the context came from another process.
    pub is_remote: bool,
}

impl SpanContext {
    /// True when the sampled flag is set.
    pub fn is_sampled(&self) -> bool {
        self.flags & FLAG_SAMPLED != 0
    }
}

/// A lowercase hex digit (uppercase is invalid in `traceparent`).
fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Parses a `traceparent` header; `None` when it is invalid.
pub fn parse_traceparent(header: &str) -> Option<SpanContext> {
    let b = crate::text::trim_ows(header).as_bytes();
    // The first 55 bytes in one pass: `-` at 2, 35 and 52, and 26 bytes in hex around them
    // (version, trace id, span id, flags). `get` rather than indexing keeps panics (and their
    // formatting code) out of the module.
    let mut raw = [0u8; 26];
    let (mut i, mut n) = (0, 0);
    while i < 55 {
        if matches!(i, 2 | 35 | 52) {
            if !matches!(b.get(i), Some(b'-')) {
                return None;
            }
            i += 1;
        } else {
            *raw.get_mut(n)? = nibble(*b.get(i)?)? << 4 | nibble(*b.get(i + 1)?)?;
            (i, n) = (i + 2, n + 1);
        }
    }
    let version = raw[0];
    // Version 00 is exactly 55 characters; a later version may append `-`-separated fields.
    if version == 0xff || (version == 0 && b.len() != 55) || (b.len() > 55 && b[55] != b'-') {
        return None;
    }
    let trace_id = TraceId(raw[1..17].try_into().ok()?);
    let span_id = SpanId(raw[17..25].try_into().ok()?);
    if !trace_id.is_valid() || !span_id.is_valid() {
        return None;
    }
    // Flags this version does not define must be sent as zero, whatever we received.
    let flags = raw[25] & (FLAG_SAMPLED | FLAG_RANDOM);
    Some(SpanContext { trace_id, span_id, flags, trace_state: String::new(), is_remote: true })
}

/// Formats a `traceparent` header (always version `00`).
pub fn format_traceparent(cx: &SpanContext) -> String {
    // Written in place: no intermediate hex strings, and no `char` pushes.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(55);
    s.push_str("00");
    for field in [&cx.trace_id.0[..], &cx.span_id.0[..], &[cx.flags][..]] {
        push_ascii(&mut s, b'-');
        for &b in field {
            push_ascii(&mut s, HEX[(b >> 4) as usize]);
            push_ascii(&mut s, HEX[(b & 15) as usize]);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_valid_header_round_trips() {
        let cx = parse_traceparent(VALID).unwrap();
        assert_eq!(cx.trace_id.to_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(cx.span_id.to_hex(), "00f067aa0ba902b7");
        assert!(cx.is_sampled() && cx.is_remote);
        assert_eq!(format_traceparent(&cx), VALID);
        assert_eq!(parse_traceparent(&format!(" \t{VALID} ")), Some(cx), "blanks around the header");
    }

    #[test]
    fn invalid_headers_are_rejected() {
        for bad in [
            "",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
            "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-\u{e9}",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7\u{e9}01",
        ] {
            assert_eq!(parse_traceparent(bad), None, "{bad:?} must be invalid");
        }
    }

    #[test]
    fn future_versions_may_append_fields_after_a_dash() {
        let cx =
            parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-what-the-future-holds").unwrap();
        assert_eq!(cx.flags, FLAG_SAMPLED);
        let unknown_bits = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff").unwrap();
        assert_eq!(unknown_bits.flags, FLAG_SAMPLED | FLAG_RANDOM, "undefined flags are cleared");
        assert!(parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.x").is_none());
    }
}
