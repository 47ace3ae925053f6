//! Splitting and trimming at ASCII bytes, for header and URL parsing. `str::split`,
//! `split_once` and `trim_matches` take any `char` pattern, and their generic searchers cost
//! the wasm module about a kilobyte and a half; these compare bytes, which is all the parsers
//! need: an ASCII byte in UTF-8 is always a whole character, so every cut is a char boundary.

use alloc::string::String;

/// The index of the first `sep` in `b`. A plain loop: `position` compiles to more code here.
pub(crate) fn find(b: &[u8], sep: u8) -> Option<usize> {
    let mut i = 0;
    while i < b.len() {
        if b[i] == sep {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// `s` cut at byte `i`, an ASCII byte, which is left out.
fn cut(s: &str, i: usize) -> (&str, &str) {
    debug_assert!(s.as_bytes()[i].is_ascii());
    // SAFETY: `s[i]` is an ASCII byte, so `i` and `i + 1` are char boundaries.
    unsafe { (s.get_unchecked(..i), s.get_unchecked(i + 1..)) }
}

/// `s` cut at its first `sep`, without it; `None` when there is none.
pub(crate) fn split_once(s: &str, sep: u8) -> Option<(&str, &str)> {
    debug_assert!(sep.is_ascii());
    find(s.as_bytes(), sep).map(|i| cut(s, i))
}

/// `s` cut at its last `sep`, without it; `None` when there is none.
pub(crate) fn rsplit_once(s: &str, sep: u8) -> Option<(&str, &str)> {
    debug_assert!(sep.is_ascii());
    let b = s.as_bytes();
    let mut i = b.len();
    while i > 0 {
        i -= 1;
        if matches!(b.get(i), Some(&c) if c == sep) {
            return Some(cut(s, i));
        }
    }
    None
}

/// `s` without leading and trailing spaces and tabs (the OWS of HTTP headers).
pub(crate) fn trim_ows(s: &str) -> &str {
    let b = s.as_bytes();
    let (mut start, mut end) = (0, b.len());
    while start < end && matches!(b.get(start), Some(b' ' | b'\t')) {
        start += 1;
    }
    while end > start && matches!(b.get(end - 1), Some(b' ' | b'\t')) {
        end -= 1;
    }
    // SAFETY: the bytes cut off are ASCII, so `start` and `end` are char boundaries, and
    // `start <= end <= s.len()`.
    unsafe { s.get_unchecked(start..end) }
}

/// Appends an ASCII byte (callers pass only those; anything else is left out): `String::push`
/// also carries the UTF-8 encoding of wider characters.
pub(crate) fn push_ascii(out: &mut String, c: u8) {
    if c.is_ascii() {
        // SAFETY: an ASCII byte is a whole UTF-8 character.
        unsafe { out.as_mut_vec() }.push(c);
    }
}

/// The parts of `s` between `sep` bytes, as `str::split` with a `char` gives them.
pub(crate) fn split(s: &str, sep: u8) -> Split<'_> {
    debug_assert!(sep.is_ascii());
    Split { rest: Some(s), sep }
}

/// The iterator of [`split`].
#[derive(Debug)]
pub(crate) struct Split<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        Some(match split_once(rest, self.sep) {
            Some((part, tail)) => {
                self.rest = Some(tail);
                part
            }
            None => {
                self.rest = None;
                rest
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn cuts_and_trims_as_the_str_methods_do() {
        for s in ["", ",", "a", "a,b", ",a,,b,", "ü,é=1, x ", "\t a = b \t"] {
            assert_eq!(split(s, b',').collect::<Vec<_>>(), s.split(',').collect::<Vec<_>>(), "{s:?}");
            assert_eq!(split_once(s, b'='), s.split_once('='), "{s:?}");
            assert_eq!(rsplit_once(s, b','), s.rsplit_once(','), "{s:?}");
            assert_eq!(trim_ows(s), s.trim_matches(|c| c == ' ' || c == '\t'), "{s:?}");
        }
        assert_eq!(trim_ows(" \t "), "");
    }
}
