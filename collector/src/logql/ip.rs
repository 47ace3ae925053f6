//! LogQL's `ip("…")`: a line filter (`|= ip("10.0.0.0/8")`, `!= ip(…)`) that looks for an
//! address in the line, and a label filter (`| addr = ip(…)`, `!=`) that looks in a label. The
//! pattern is one address, a range (`10.0.0.1-10.0.0.9`) or a CIDR prefix (`10.1.2.3/16`), IPv4
//! or IPv6, as Loki reads it (`pkg/logql/log/ip.go`): an address only matches a pattern of its
//! own family, and the text is scanned for addresses the way Loki scans it, so the same lines
//! pass.

use std::net::IpAddr;

/// An `ip("…")` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IpPattern {
    /// One address.
    Addr(IpAddr),
    /// The addresses from the first to the second, both included, of one family.
    Range(IpAddr, IpAddr),
    /// The addresses sharing the first `bits` bits with the address.
    Prefix(IpAddr, u8),
}

impl IpPattern {
    /// Reads a pattern; the error says what a pattern may be.
    pub(crate) fn parse(text: &str) -> Result<IpPattern, String> {
        let bad = || {
            format!(
                "invalid ip pattern `{text}`: expected an address (192.168.0.1, ::1), a range \
                 (192.168.0.1-192.168.0.9) or a CIDR prefix (192.168.0.0/16)"
            )
        };
        if let Ok(addr) = text.parse::<IpAddr>() {
            return Ok(IpPattern::Addr(addr));
        }
        if let Some((addr, bits)) = text.split_once('/') {
            let addr: IpAddr = addr.parse().map_err(|_| bad())?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            // Decimal digits without a leading zero, as Go's netip.ParsePrefix reads them.
            let digits =
                !bits.is_empty() && bits.bytes().all(|b| b.is_ascii_digit()) && (bits == "0" || !bits.starts_with('0'));
            return match bits.parse::<u8>() {
                Ok(bits) if digits && bits <= max => Ok(IpPattern::Prefix(addr, bits)),
                _ => Err(bad()),
            };
        }
        if let Some((from, to)) = text.split_once('-') {
            let (from, to): (IpAddr, IpAddr) = (from.parse().map_err(|_| bad())?, to.parse().map_err(|_| bad())?);
            if from.is_ipv4() != to.is_ipv4() || from > to {
                return Err(format!(
                    "invalid ip range `{text}`: both ends of one family, the first not above the last"
                ));
            }
            return Ok(IpPattern::Range(from, to));
        }
        Err(bad())
    }

    /// Whether the pattern holds `addr`.
    pub(crate) fn contains(&self, addr: IpAddr) -> bool {
        match *self {
            IpPattern::Addr(a) => a == addr,
            IpPattern::Range(from, to) => from.is_ipv4() == addr.is_ipv4() && from <= addr && addr <= to,
            IpPattern::Prefix(base, bits) => match (base, addr) {
                (IpAddr::V4(b), IpAddr::V4(a)) => {
                    let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
                    u32::from(b) & mask == u32::from(a) & mask
                }
                (IpAddr::V6(b), IpAddr::V6(a)) => {
                    let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
                    u128::from(b) & mask == u128::from(a) & mask
                }
                _ => false,
            },
        }
    }

    /// Whether `text` holds an address the pattern holds. As Loki does, it walks the text for
    /// the start of an address (a digit with a `.` within the next three bytes, or a hex digit
    /// or `::` with a `:` within the next five), takes the longest run of address characters
    /// from there and reads it as a whole; a run that is no address is skipped.
    pub(crate) fn found_in(&self, text: &str) -> bool {
        const V4: &[u8] = b"0123456789.";
        const V6: &[u8] = b"0123456789abcdefABCDEF:.";
        let b = text.as_bytes();
        let n = b.len();
        let mut i = 0;
        while i < n {
            let charset = if i + 3 < n && v4_hint(&b[i..i + 4]) {
                Some(V4)
            } else if i + 4 < n && v6_hint(&b[i..i + 5]) {
                Some(V6)
            } else {
                None
            };
            if let Some(charset) = charset {
                let len = b[i..].iter().take_while(|c| charset.contains(c)).count();
                // The run is ASCII, so it is a whole `str`.
                if text[i..i + len].parse::<IpAddr>().is_ok_and(|addr| self.contains(addr)) {
                    return true;
                }
                i += len;
            }
            i += 1;
        }
        false
    }
}

fn v4_hint(b: &[u8]) -> bool {
    b[0].is_ascii_digit() && (b[1] == b'.' || b[2] == b'.' || b[3] == b'.')
}

fn v6_hint(b: &[u8]) -> bool {
    let hex = |k: usize| b[..k].iter().all(u8::is_ascii_hexdigit);
    (b[0] == b':' && b[1] == b':' && b[2].is_ascii_hexdigit()) || (1..=4).any(|k| hex(k) && b[k] == b':')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(pattern: &str, text: &str) -> bool {
        IpPattern::parse(pattern).unwrap().found_in(text)
    }

    #[test]
    fn patterns_read_as_loki_reads_them() {
        assert_eq!(IpPattern::parse("192.168.0.1"), Ok(IpPattern::Addr("192.168.0.1".parse().unwrap())));
        assert_eq!(IpPattern::parse("::1"), Ok(IpPattern::Addr("::1".parse().unwrap())));
        assert!(matches!(IpPattern::parse("192.168.4.5/16"), Ok(IpPattern::Prefix(_, 16))));
        assert!(matches!(IpPattern::parse("2001:db8::/32"), Ok(IpPattern::Prefix(_, 32))));
        assert!(matches!(IpPattern::parse("10.0.0.1-10.0.0.9"), Ok(IpPattern::Range(..))));
        for bad in ["", "10.0.0", "10.0.0.256", "01.2.3.4", "10.0.0.0/33", "10.0.0.0/016", "10.0.0.0/", "::/129", "x"] {
            assert!(IpPattern::parse(bad).unwrap_err().contains("invalid ip pattern"), "{bad}");
        }
        for bad in ["10.0.0.9-10.0.0.1", "10.0.0.1-::1", "10.0.0.1 - 10.0.0.9"] {
            assert!(IpPattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn addresses_in_text_are_found_as_loki_finds_them() {
        let line =
            r#"10.1.2.3 - - [17/May/2015:08:05:32 +0000] "GET /x HTTP/1.1" 200 from 192.168.7.42 via 2001:db8::7"#;
        assert!(found("10.1.2.3", line));
        assert!(found("192.168.0.0/16", line));
        assert!(found("192.168.7.40-192.168.7.50", line));
        assert!(found("2001:db8::/32", line));
        assert!(found("2001:db8::7", line));
        assert!(!found("192.168.7.43", line));
        assert!(!found("172.16.0.0/12", line));
        assert!(!found("2001:db9::/32", line));
        // Times and versions look like addresses but are none; dates neither.
        assert!(!found("0.0.0.0/0", r#"took 1.5 s, HTTP/1.1, 2015-05-17, v1.2.3"#));
        // A family only matches its own: an IPv4-mapped IPv6 address is not the IPv4 one.
        assert!(!found("1.2.3.4", "from ::ffff:1.2.3.4 port"));
        assert!(found("::ffff:0:0/96", "from ::ffff:1.2.3.4 port"));
        // As in Loki, the run of address characters is read whole: a sentence's last dot makes it
        // no address.
        assert!(!found("10.0.0.1", "connected to 10.0.0.1."));
        assert!(found("10.0.0.1", "connected to 10.0.0.1, then"));
        assert!(!found("10.0.0.1", ""));
    }

    #[test]
    fn prefixes_and_ranges_hold_their_own_addresses_only() {
        let p = |t: &str| IpPattern::parse(t).unwrap();
        let a = |t: &str| t.parse::<IpAddr>().unwrap();
        assert!(p("0.0.0.0/0").contains(a("255.255.255.255")));
        assert!(!p("0.0.0.0/0").contains(a("::1")));
        assert!(p("10.1.2.3/32").contains(a("10.1.2.3")) && !p("10.1.2.3/32").contains(a("10.1.2.4")));
        assert!(p("::/0").contains(a("ffff::1")));
        assert!(!p("::1-::ff").contains(a("0.0.0.5")));
        assert!(p("::1-::ff").contains(a("::5")));
    }
}
