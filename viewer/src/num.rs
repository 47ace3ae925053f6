//! Numbers as text without core's float printing (`{:.1}`, `{}` of an `f64`), whose shortest and
//! exact algorithms (Grisu, Dragon4 and their tables) would otherwise weigh about 10 KB gzip in
//! the viewer's module: [`fixed`] rounds through integers, [`shortest`] reuses `zmij`, which
//! `serde_json` already brings in.

/// A rate for people, in the unit that shows it (`2.50/s`, `0.20/min`, `3.00/h`), so that a quiet
/// service's 12 requests an hour are not `0.00/s`; no rate at all is `0/s`.
pub fn rate_text(per_second: f64) -> String {
    match per_second {
        v if v <= 0.0 || !v.is_finite() => "0/s".to_owned(),
        v if v >= 0.995 => format!("{}/s", fixed(v, 2)),
        v if v * 60.0 >= 0.995 => format!("{}/min", fixed(v * 60.0, 2)),
        v => format!("{}/h", fixed(v * 3600.0, 2)),
    }
}

/// `v` with `decimals` (at most 15) digits after the point, as `format!("{v:.decimals$}")` writes
/// it, except that a value that rounds to zero has no minus sign and integer parts beyond `u64`
/// saturate: the viewer prints coordinates, percentages and rates with it.
pub fn fixed(v: f64, decimals: u32) -> String {
    if !v.is_finite() {
        return shortest(v);
    }
    let scale = 10u64.pow(decimals);
    let a = v.abs();
    // Halves round to the even last digit, as `format!` rounds them: with no decimals that digit
    // is the integer part's. `a - trunc(a)` is exact; only the scaling rounds.
    let (mut int, mut frac) = match decimals {
        0 => (a.round_ties_even() as u64, 0),
        _ => (a.trunc() as u64, round_product(a - a.trunc(), scale as f64)),
    };
    if frac >= scale {
        int += 1;
        frac -= scale;
    }
    let mut out = String::new();
    if v < 0.0 && (int, frac) != (0, 0) {
        out.push('-');
    }
    out.push_str(&int.to_string());
    if decimals > 0 {
        out.push('.');
        let digits = frac.to_string();
        out.extend(std::iter::repeat_n('0', decimals as usize - digits.len()));
        out.push_str(&digits);
    }
    out
}

/// `x * y` rounded to an integer as if the product were exact, halves to even: the rounded
/// product only misleads when it lands on a half, and then the sign of its rounding error
/// (Dekker's exact product, without a fused multiply-add) tells which way the exact one lies.
fn round_product(x: f64, y: f64) -> u64 {
    let p = x * y;
    if p - p.trunc() != 0.5 {
        return p.round() as u64;
    }
    let split = |a: f64| {
        let c = 134_217_729.0 * a; // 2^27 + 1
        let hi = c - (c - a);
        (hi, a - hi)
    };
    let ((xh, xl), (yh, yl)) = (split(x), split(y));
    let error = ((xh * yh - p) + xh * yl + xl * yh) + xl * yl;
    match error.partial_cmp(&0.0) {
        Some(std::cmp::Ordering::Greater) => p.ceil() as u64,
        Some(std::cmp::Ordering::Less) => p.floor() as u64,
        _ => p.round_ties_even() as u64,
    }
}

/// `v` as `v.to_string()` writes it: the shortest digits that read back as `v`, in positional
/// notation (`1`, `0.0000001`, `10000000000000000`), `NaN`, `inf` or `-inf`. When two digit
/// strings of that length lie equally near `v`, zmij may pick the other one (for example
/// `1658206780088562.2` for core's `…562.3`); both read back as `v`.
pub fn shortest(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v < 0.0 { "-inf" } else { "inf" }.into();
    }
    let mut buffer = zmij::Buffer::new();
    // zmij writes `1.0`, `1.5e-7` or `1e16`: digits, a point, an optional exponent.
    let text = buffer.format_finite(v);
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match text.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (text, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    // The significant digits, and where the point goes among them.
    let digits: String = int.chars().chain(frac.chars()).collect();
    let mut point = int.len() as i32 + exponent;
    let trimmed = digits.trim_start_matches('0');
    point -= (digits.len() - trimmed.len()) as i32;
    let digits = trimmed.trim_end_matches('0');
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if digits.is_empty() {
        out.push('0');
    } else if point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', -point as usize));
        out.push_str(digits);
    } else if point as usize >= digits.len() {
        out.push_str(digits);
        out.extend(std::iter::repeat_n('0', point as usize - digits.len()));
    } else {
        out.push_str(&digits[..point as usize]);
        out.push('.');
        out.push_str(&digits[point as usize..]);
    }
    out
}

/// A double in OTLP/JSON, as `edgescope_otlp::json::format_f64` writes it (integers bare, NaN
/// and the infinities as strings) but with zmij's digits: that function's `ryu` would bring its
/// own tables (10 KB) into the module. Pass it to `edgescope_otlp::json::write_traces_with`.
pub fn json_f64(v: f64, out: &mut String) {
    if v.is_nan() {
        out.push_str("\"NaN\"");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "\"Infinity\"" } else { "\"-Infinity\"" });
    } else if v == 0.0 && v.is_sign_negative() {
        out.push_str("-0");
    } else if v.abs() < 1e15 && v == (v as i64) as f64 {
        out.push_str(&(v as i64).to_string());
    } else {
        // zmij writes `1e+16` where ryu writes `1e16`.
        let mut buffer = zmij::Buffer::new();
        let text = buffer.format_finite(v);
        match text.split_once("e+") {
            Some((mantissa, exponent)) => {
                out.push_str(mantissa);
                out.push('e');
                out.push_str(exponent);
            }
            None => out.push_str(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic stream of f64 bit patterns (xorshift).
    fn bits(n: usize) -> impl Iterator<Item = f64> {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        (0..n).map(move |_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            f64::from_bits(x)
        })
    }

    #[test]
    fn shortest_writes_what_to_string_writes() {
        let special = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            0.25,
            12.5,
            26.0,
            1e-7,
            1.5e-7,
            1e15,
            1e16,
            1.2e17,
            1e21,
            123456789.125,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::MIN,
            5e-324,
            f64::EPSILON,
            1.0 / 3.0,
            100.0 / 60.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let mut ties = 0;
        for v in special.into_iter().chain(bits(200_000)) {
            let (ours, core) = (shortest(v), v.to_string());
            if ours != core {
                // Equally near: the same length, and it reads back as `v`.
                assert_eq!(
                    (ours.len(), ours.parse::<f64>().map(f64::to_bits)),
                    (core.len(), Ok(v.to_bits())),
                    "{core}"
                );
                ties += 1;
            }
        }
        assert!(ties < 200, "{ties} of 200,000 differ");
        for i in 0..100_000u32 {
            let v = i as f64 / 977.0 - 50.0;
            assert_eq!(shortest(v), v.to_string());
        }
    }

    #[test]
    fn json_f64_writes_what_the_otlp_writer_writes() {
        let special = [0.0, -0.0, 1.0, -7.0, 0.1, 1e-7, 1e15, -1e15, 1e16, 1.5e300, f64::MAX, 5e-324];
        let mut ties = 0;
        for v in special.into_iter().chain(bits(200_000)).chain([f64::NAN, f64::INFINITY, f64::NEG_INFINITY]) {
            let (mut ours, mut otlp) = (String::new(), String::new());
            json_f64(v, &mut ours);
            edgescope_otlp::json::format_f64(v, &mut otlp);
            if ours != otlp {
                // Equally near digits: the same length, and the same value.
                assert_eq!(
                    (ours.len(), ours.parse::<f64>().map(f64::to_bits)),
                    (otlp.len(), Ok(v.to_bits())),
                    "{otlp} written as {ours}"
                );
                ties += 1;
            }
        }
        assert!(ties < 200, "{ties} of 200,000 differ");
    }

    #[test]
    fn rates_are_written_in_the_unit_that_shows_them() {
        assert_eq!(rate_text(0.0), "0/s");
        assert_eq!(rate_text(2.5), "2.50/s");
        assert_eq!(rate_text(12.0 / 3600.0), "12.00/h");
        assert_eq!(rate_text(0.18), "10.80/min");
        assert_eq!(rate_text(1.0 / 60.0), "1.00/min");
        assert_eq!(rate_text(0.999), "1.00/s");
    }

    #[test]
    fn fixed_writes_what_format_writes() {
        let special = [
            0.0,
            1.0,
            0.05,
            0.125,
            0.375,
            2.675,
            1.25,
            0.45,
            1e-4,
            0.95,
            9.95,
            99.99,
            0.5,
            1.5,
            2.5,
            1e-9,
            600.0,
            1e15,
            123456.789,
            f64::NAN,
            f64::INFINITY,
        ];
        for d in 0..=4u32 {
            for v in special {
                assert_eq!(fixed(v, d), format!("{v:.*}", d as usize), "{v} to {d} places");
                let core = format!("{:.*}", d as usize, -v);
                let core = if core.trim_start_matches(['-', '0', '.']).is_empty() { &core[1..] } else { &core };
                assert_eq!(fixed(-v, d), core, "-{v} to {d} places");
            }
            // Coordinates, percentages and rates as the views compute them.
            for i in 0..200_000u32 {
                let v = i as f64 * 1000.0 / 199_999.0 * 0.731;
                assert_eq!(fixed(v, d), format!("{v:.*}", d as usize), "{v} to {d} places");
            }
        }
        assert_eq!(fixed(-0.04, 1), "0.0");
        assert_eq!(fixed(-12.25, 1), "-12.2");
    }
}
