//! The W3C `baggage` header: application key/value pairs that travel with a request.
//!
//! Values are percent-encoded UTF-8 on the wire and plain strings here. Invalid members are
//! skipped one by one (the others are kept); when writing, members that would pass 64 members
//! or 8,192 bytes are dropped whole, never cut.

#[allow(unused_imports)]
use alloc::{borrow::ToOwned, boxed::Box, format, string::String, vec, vec::Vec};

use crate::text::{push_ascii, split, split_once, trim_ows};

/// At most this many members are written.
pub const MAX_BAGGAGE_MEMBERS: usize = 64;
/// At most this many bytes are written.
pub const MAX_BAGGAGE_BYTES: usize = 8192;

/// One baggage member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaggageEntry {
    /// The key (an RFC 7230 token).
    pub key: String,
    /// The decoded value.
    pub value: String,
    /// Properties (`;k=v;flag`) as they were, without the leading `;`; empty when none.
    pub properties: String,
}

/// A set of baggage members in insertion order, one per key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Baggage {
    entries: Vec<BaggageEntry>,
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.as_bytes().iter().all(|&c| {
            c.is_ascii_alphanumeric()
                || matches!(c, b'!' | b'#'..=b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~')
        })
}

fn is_baggage_octet(c: u8) -> bool {
    matches!(c, 0x21 | 0x23..=0x2b | 0x2d..=0x3a | 0x3c..=0x5b | 0x5d..=0x7e)
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' | b'A'..=b'F' => Some((c | 0x20) - b'a' + 10),
        _ => None,
    }
}

/// Percent-decodes; bytes that are not UTF-8 become U+FFFD, as W3C Baggage asks ("MUST be
/// replaced with the replacement code point"). A `%` without two hex digits stays.
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| lossy(e.as_bytes()))
}

/// `bytes` as text, each invalid sequence a U+FFFD (what `String::from_utf8_lossy` gives, in
/// less code: `from_utf8` is in the module anyway).
fn lossy(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    loop {
        match core::str::from_utf8(bytes) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (good, rest) = bytes.split_at(e.valid_up_to());
                out.push_str(core::str::from_utf8(good).unwrap_or_default());
                out.push('\u{FFFD}');
                bytes = rest.get(e.error_len().unwrap_or(rest.len())..).unwrap_or_default();
            }
        }
    }
}

fn encode(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &c in s.as_bytes() {
        if is_baggage_octet(c) && c != b'%' {
            push_ascii(out, c);
        } else {
            push_ascii(out, b'%');
            push_ascii(out, HEX[(c >> 4) as usize]);
            push_ascii(out, HEX[(c & 15) as usize]);
        }
    }
}

fn parse_member(member: &str) -> Option<BaggageEntry> {
    let mut parts = split(member, b';');
    let (key, value) = split_once(parts.next()?, b'=')?;
    let (key, value) = (trim_ows(key), trim_ows(value));
    if !is_token(key) || !value.as_bytes().iter().all(|c| is_baggage_octet(*c)) {
        return None;
    }
    Some(BaggageEntry { key: key.to_owned(), value: decode(value), properties: properties(parts)? })
}

/// A member's properties (`k=v` or `k`, each trimmed) joined by `;`; `None` when one is invalid.
fn properties<'a>(parts: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut properties = String::new();
    for p in parts {
        let p = trim_ows(p);
        let ok = match split_once(p, b'=') {
            Some((k, v)) => is_token(trim_ows(k)) && trim_ows(v).as_bytes().iter().all(|c| is_baggage_octet(*c)),
            None => is_token(p),
        };
        if !ok {
            return None;
        }
        if !properties.is_empty() {
            push_ascii(&mut properties, b';');
        }
        properties.push_str(p);
    }
    Some(properties)
}

impl Baggage {
    /// No members.
    pub const fn new() -> Baggage {
        Baggage { entries: Vec::new() }
    }

    /// Parses one or more `baggage` headers (pass each; they are combined in order). Invalid
    /// members are skipped; a later member replaces an earlier one with the same key.
    pub fn parse<'a>(headers: impl IntoIterator<Item = &'a str>) -> Baggage {
        let mut baggage = Baggage::default();
        for header in headers {
            for member in split(header, b',') {
                if let Some(entry) = parse_member(trim_ows(member)) {
                    baggage.remove(&entry.key);
                    baggage.entries.push(entry);
                }
            }
        }
        baggage
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.iter().find(|e| e.key.as_str() == key).map(|e| e.value.as_str())
    }

    /// Sets `key` (keeping its place when present); false when the key is not a token.
    pub fn set(&mut self, key: &str, value: &str) -> bool {
        self.set_with_properties(key, value, "")
    }

    /// Sets `key` with its member properties (`ttl=60;sensitive`, as a parsed member has them;
    /// empty for none); false when the key is not a token or a property is invalid.
    pub fn set_with_properties(&mut self, key: &str, value: &str, properties: &str) -> bool {
        let properties = match properties {
            "" => String::new(),
            p => match self::properties(split(p, b';')) {
                Some(p) => p,
                None => return false,
            },
        };
        if !is_token(key) {
            return false;
        }
        match self.entries.iter_mut().find(|e| e.key.as_str() == key) {
            Some(e) => {
                e.value = value.to_owned();
                e.properties = properties;
            }
            None => self.entries.push(BaggageEntry { key: key.into(), value: value.into(), properties }),
        }
        true
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &str) {
        // Keys are unique: at most one entry goes.
        if let Some(i) = self.entries.iter().position(|e| e.key.as_str() == key) {
            crate::remove_at(&mut self.entries, i);
        }
    }

    /// The members in order.
    pub fn entries(&self) -> &[BaggageEntry] {
        &self.entries
    }

    /// Each member's key, its decoded value and its properties (empty for none), in order.
    pub fn into_members(self) -> Vec<String> {
        let mut out = Vec::with_capacity(3 * self.entries.len());
        for e in self.entries {
            out.push(e.key);
            out.push(e.value);
            out.push(e.properties);
        }
        out
    }

    /// The header value within the limits: members that do not fit are left out whole.
    pub fn header(&self) -> String {
        let mut out = String::new();
        let mut count = 0;
        for e in &self.entries {
            if count == MAX_BAGGAGE_MEMBERS {
                break;
            }
            // Written in place, and taken back when it does not fit.
            let mark = out.len();
            if mark > 0 {
                push_ascii(&mut out, b',');
            }
            out.push_str(&e.key);
            push_ascii(&mut out, b'=');
            encode(&e.value, &mut out);
            if !e.properties.is_empty() {
                push_ascii(&mut out, b';');
                out.push_str(&e.properties);
            }
            if out.len() > MAX_BAGGAGE_BYTES {
                // SAFETY: `mark` was the length of the string, so a char boundary.
                unsafe { out.as_mut_vec().truncate(mark) };
                continue;
            }
            count += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_with_properties_and_percent_encoding_are_read() {
        let b = Baggage::parse(["userId=alice, serverNode = DF%2028 ;region=eu;sensitive", "isProduction=false"]);
        assert_eq!(b.get("userId"), Some("alice"));
        assert_eq!(b.get("serverNode"), Some("DF 28"));
        assert_eq!(b.entries()[1].properties, "region=eu;sensitive");
        assert_eq!(b.get("isProduction"), Some("false"));
    }

    #[test]
    fn keys_and_values_come_out_in_member_order() {
        let b = Baggage::parse(["a=1;p, b = %C3%BC,a=3"]);
        assert_eq!(b.into_members(), ["b", "\u{fc}", "", "a", "3", ""], "a later `a` replaces the first, at the end");
    }

    #[test]
    fn members_set_with_properties_write_them_and_invalid_ones_are_refused() {
        let mut b = Baggage::default();
        assert!(b.set_with_properties("user", "alice", "ttl=60; sensitive"));
        assert!(!b.set_with_properties("x", "1", "not a token"));
        assert!(!b.set_with_properties("y", "1", "k=\"quoted\""));
        assert_eq!(b.header(), "user=alice;ttl=60;sensitive");
        assert!(b.set("user", "bob"), "a plain set drops the properties");
        assert_eq!(b.header(), "user=bob");
    }

    #[test]
    fn utf8_values_round_trip_through_percent_encoding() {
        let mut b = Baggage::default();
        assert!(b.set("city", "Zürich, \"CH\"; 100%"));
        let header = b.header();
        assert_eq!(header, "city=Z%C3%BCrich%2C%20%22CH%22%3B%20100%25");
        assert_eq!(Baggage::parse([header.as_str()]).get("city"), Some("Zürich, \"CH\"; 100%"));
    }

    #[test]
    fn invalid_members_are_skipped_and_the_rest_kept() {
        let b = Baggage::parse(["good=1,bad key=2,noequals,quote=\"x\",also=ok;bad prop=1,last=2"]);
        let keys: Vec<_> = b.entries().iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["good", "last"]);
    }

    #[test]
    fn percent_encoded_bytes_that_are_not_utf8_become_replacement_characters() {
        // W3C Baggage: such sequences "MUST be replaced with the replacement code point".
        let b = Baggage::parse(["user=alice,name=a%FFb%C3,tenant=t1"]);
        let keys: Vec<_> = b.entries().iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["user", "name", "tenant"]);
        assert_eq!(b.get("name"), Some("a\u{FFFD}b\u{FFFD}"));
        assert_eq!(b.header(), "user=alice,name=a%EF%BF%BDb%EF%BF%BD,tenant=t1");
    }

    #[test]
    fn writing_drops_whole_members_beyond_64_members_or_8192_bytes() {
        let mut many = Baggage::default();
        for i in 0..70 {
            many.set(&format!("k{i}"), "v");
        }
        assert_eq!(many.header().split(',').count(), MAX_BAGGAGE_MEMBERS);

        let mut big = Baggage::default();
        big.set("a", &"x".repeat(5000));
        big.set("b", &"y".repeat(5000));
        big.set("c", "small");
        let header = big.header();
        assert!(header.len() <= MAX_BAGGAGE_BYTES);
        let keys: Vec<_> = Baggage::parse([header.as_str()]).entries().iter().map(|e| e.key.clone()).collect();
        assert_eq!(keys, ["a", "c"], "b does not fit and is dropped whole; c still fits");
    }
}
