//! The `tracestate` header (W3C Trace Context Level 2): an ordered list of vendor entries.
//!
//! Validation is all or nothing: one malformed member, a duplicated key or more than 32
//! members make the whole header invalid, and it is not propagated. Updating an entry moves it
//! to the front, as the specification requires.

#[allow(unused_imports)]
use alloc::{borrow::ToOwned, boxed::Box, format, string::String, vec, vec::Vec};

use crate::text::{push_ascii, split, split_once, trim_ows};

/// At most this many list members.
pub const MAX_TRACESTATE_MEMBERS: usize = 32;

/// Vendor-specific trace state, in header order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceState {
    /// The list members as they are written, `key=value`: one string each.
    entries: Vec<String>,
}

/// A member's key and value.
fn key_value(member: &str) -> (&str, &str) {
    split_once(member, b'=').unwrap_or((member, ""))
}

fn is_key(key: &str) -> bool {
    let b = key.as_bytes();
    !b.is_empty()
        && b.len() <= 256
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .skip(1)
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'_' | b'-' | b'*' | b'/' | b'@'))
}

fn is_value(value: &str) -> bool {
    let b = value.as_bytes();
    !b.is_empty()
        && b.len() <= 256
        && b.iter().all(|&c| (0x20..=0x7e).contains(&c) && c != b',' && c != b'=')
        && b[b.len() - 1] != b' '
}

impl TraceState {
    /// Parses a (possibly combined) `tracestate` header; `None` when any part is invalid.
    pub fn parse(header: &str) -> Option<TraceState> {
        let mut entries: Vec<String> = Vec::new();
        for member in split(header, b',') {
            let member = trim_ows(member);
            if member.is_empty() {
                continue;
            }
            let (key, value) = split_once(member, b'=')?;
            if !is_key(key) || !is_value(value) || entries.iter().any(|m| key_value(m).0 == key) {
                return None;
            }
            entries.push(member.to_owned());
            if entries.len() > MAX_TRACESTATE_MEMBERS {
                return None;
            }
        }
        Some(TraceState { entries })
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.iter().map(|m| key_value(m)).find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Sets `key` and moves it to the front; when the list is full the last entry is dropped.
    /// Returns false (and changes nothing) when the key or value is invalid.
    pub fn insert(&mut self, key: &str, value: &str) -> bool {
        if !is_key(key) || !is_value(value) {
            return false;
        }
        self.remove(key);
        let mut member = String::with_capacity(key.len() + 1 + value.len());
        member.push_str(key);
        push_ascii(&mut member, b'=');
        member.push_str(value);
        self.entries.insert(0, member);
        self.entries.truncate(MAX_TRACESTATE_MEMBERS);
        true
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &str) {
        self.entries.retain(|m| key_value(m).0 != key);
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The header value, entries joined with `,`.
    pub fn header(&self) -> String {
        let mut out = String::new();
        for (i, member) in self.entries.iter().enumerate() {
            if i > 0 {
                push_ascii(&mut out, b',');
            }
            out.push_str(member);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_lists_keep_their_order_and_skip_empty_members() {
        let ts = TraceState::parse(" rojo=00f067aa0ba902b7 ,, \t,congo=t61rcWkgMzE,tenant@sys=a b").unwrap();
        assert_eq!(ts.header(), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,tenant@sys=a b");
        assert_eq!(ts.get("congo"), Some("t61rcWkgMzE"));
        assert_eq!(TraceState::parse("").unwrap(), TraceState::default());
        assert_eq!(TraceState::parse("1a=x").unwrap().get("1a"), Some("x"), "Level 2 keys may start with a digit");
        assert_eq!(TraceState::parse("k= leading").unwrap().get("k"), Some(" leading"));
    }

    #[test]
    fn any_invalid_member_invalidates_the_whole_header() {
        for bad in [
            "Upper=1",
            "k=1,k=2",
            "k=",
            "=v",
            "k=a,b",
            "k=a=b",
            "k=\u{e9}",
            "_k=1",
            "k\tx=1",
            &format!("{}=1", "k".repeat(257)),
            &format!("k={}", "v".repeat(257)),
        ] {
            assert_eq!(TraceState::parse(bad), None, "{bad:?}");
        }
    }

    /// Trace Context Level 2, "Key": `key = ( lcalpha / DIGIT ) 0*255 ( keychar )` with
    /// `keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"`. Level 1's `tenant@system` form
    /// (at most one `@`, a system id of 1 to 14 characters starting with a letter, a tenant id
    /// of at most 241) is gone: `@` is an ordinary character after the first, and the only
    /// length limit is 256 characters for the whole key. (The W3C test suite checked the Level 1
    /// form until w3c/trace-context#584.)
    #[test]
    fn keys_follow_the_level_2_grammar_where_an_at_sign_is_an_ordinary_character() {
        let valid = |key: &str| TraceState::parse(&format!("{key}=1,bar=2")).map(|ts| ts.header());
        for key in [
            "foo@".to_owned(),
            "foo@@bar".to_owned(),
            "foo@bar@baz".to_owned(),
            "7@0".to_owned(),
            format!("{}@v", "t".repeat(242)),
            format!("t@{}", "v".repeat(15)),
            format!("{}@{}", "t".repeat(241), "v".repeat(14)),
            "z".repeat(256),
            format!("{}@", "z".repeat(255)),
        ] {
            assert_eq!(valid(&key), Some(format!("{key}=1,bar=2")), "{key:?} is a key");
        }
        for key in [
            "@foo".to_owned(),
            "z".repeat(257),
            format!("{}@", "z".repeat(256)),
            "foo@Bar".to_owned(),
            "foo@.".to_owned(),
        ] {
            assert_eq!(valid(&key), None, "{key:?} is not a key, so the whole header is dropped");
        }
    }

    #[test]
    fn thirty_two_members_are_allowed_and_thirty_three_are_not() {
        let list = |n: usize| (0..n).map(|i| format!("k{i}=v")).collect::<Vec<_>>().join(",");
        assert!(TraceState::parse(&list(32)).is_some());
        assert!(TraceState::parse(&list(33)).is_none());
    }

    #[test]
    fn updates_move_the_entry_to_the_front_and_keep_the_limit() {
        let mut ts = TraceState::parse("a=1,b=2,c=3").unwrap();
        assert!(ts.insert("c", "4"));
        assert_eq!(ts.header(), "c=4,a=1,b=2");
        assert!(!ts.insert("Bad", "x"));
        let mut full = TraceState::parse(&(0..32).map(|i| format!("k{i}=v")).collect::<Vec<_>>().join(",")).unwrap();
        full.insert("ours", "x");
        assert!(full.header().starts_with("ours=x,k0=v"));
        assert!(!full.header().contains("k31="), "the last entry makes room");
    }
}
