//! LogQL's regular expressions as Loki reads them: Go's `regexp` (RE2 syntax), compiled here by
//! the `regex` crate after rewriting what the two read differently.
//!
//! - `\d`, `\s`, `\w`, `\b` and their negations are ASCII in Go (`\s` is `[\t\n\f\r ]`), Unicode
//!   in the crate: they become ASCII classes, and `\b`/`\B` the crate's ASCII assertions.
//! - `\Q…\E` quotes text (to the end without `\E`); the crate has no such thing.
//! - Go reads an escaped punctuation character as itself (`\<` is `<`, where the crate has a
//!   word-start assertion), octal escapes (`\101`), `\p{^Greek}` for `\P{Greek}`, and a `{` or
//!   `}` that makes no repetition (`a{,3}`, `{x}`) as a literal.
//! - In a class, Go has no nesting or set operators: `[a&&b]` is `a`, `&` and `b`, `[[x]` holds
//!   `[`; only `[:alpha:]` and the like are classes inside it.
//! - Flags are Go's `i`, `m`, `s` and `U`; the crate's others (`x`, `u`, `R`) are refused, as Go
//!   refuses them.
//!
//! `(?i)` folds case over Unicode in both, so it is left as it is.

use regex::Regex;

/// Compiles a LogQL regular expression as Go reads it; the error is a short reason.
pub(crate) fn compile(pattern: &str) -> Result<Regex, String> {
    let translated = translate(pattern)?;
    Regex::new(&translated).map_err(|e| reason(&e))
}

/// Compiles a regular expression that must match the whole text, as Prometheus's label
/// matchers (which Loki's are) and `label_replace` anchor theirs: `^(?s:…)$`, so that `.` also
/// matches a newline.
pub(crate) fn compile_whole(pattern: &str) -> Result<Regex, String> {
    let translated = translate(pattern)?;
    Regex::new(&format!("^(?s:{translated})$")).map_err(|e| reason(&e))
}

/// The last line of the crate's error (`error: unclosed group`), without its caret diagram,
/// which would point into the rewritten expression.
fn reason(e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or(&text).trim();
    last.strip_prefix("error: ").unwrap_or(last).to_owned()
}

/// `\w` as Go has it.
const WORD: &str = "0-9A-Za-z_";
/// `\d` as Go has it.
const DIGIT: &str = "0-9";
/// `\s` as Go has it (no vertical tab).
const SPACE: &str = r"\t\n\x0C\r ";

/// The expression in the crate's syntax, with Go's meaning.
pub(crate) fn translate(pattern: &str) -> Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i = escape(&chars, i, &mut out)?,
            '[' => i = class(&chars, i, &mut out)?,
            '{' => match repetition(&chars[i..]) {
                Some(n) => {
                    // Go refuses counts above 1,000, and a minimum above the maximum.
                    let text: String = chars[i..i + n].iter().collect();
                    let inner = &text[1..text.len() - 1];
                    let (min, max) = match inner.split_once(',') {
                        Some((min, max)) => (min, Some(max).filter(|m| !m.is_empty())),
                        None => (inner, Some(inner)),
                    };
                    let count = |c: &str| c.parse::<u64>().unwrap_or(u64::MAX);
                    let (min, max) = (count(min), max.map(count));
                    if min > 1000 || max.is_some_and(|max| max > 1000 || max < min) {
                        return Err(format!("invalid repeat count: `{text}`"));
                    }
                    out.push_str(&text);
                    i += n;
                }
                None => {
                    out.push_str(r"\{");
                    i += 1;
                }
            },
            '}' => {
                out.push_str(r"\}");
                i += 1;
            }
            '(' if chars.get(i + 1) == Some(&'?') => {
                check_flags(&chars[i + 2..])?;
                out.push_str("(?");
                i += 2;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Refuses the crate's flags that Go does not have, after `(?`.
fn check_flags(rest: &[char]) -> Result<(), String> {
    // Named groups (`(?P<name>`, `(?<name>`) are read alike; lookarounds are refused by both.
    if matches!(rest.first(), Some('P' | '<')) {
        return Ok(());
    }
    for &c in rest {
        match c {
            ')' | ':' => return Ok(()),
            'i' | 'm' | 's' | 'U' | '-' => {}
            _ => {
                let written: String = rest.iter().take_while(|&&c| c != ')' && c != ':').collect();
                return Err(format!("invalid or unsupported Perl syntax: `(?{written}`"));
            }
        }
    }
    Ok(())
}

/// The length of a Go repetition `{n}`, `{n,}` or `{n,m}` at the start of `s` (numbers without
/// leading zeros), or `None` when the `{` is a literal, as Go's `parseRepeat` decides.
fn repetition(s: &[char]) -> Option<usize> {
    let number = |from: usize| -> Option<usize> {
        let digits = s[from..].iter().take_while(|c| c.is_ascii_digit()).count();
        match digits {
            0 => None,
            n if n >= 2 && s[from] == '0' => None,
            n => Some(from + n),
        }
    };
    let mut at = number(1)?;
    if s.get(at) == Some(&',') {
        at += 1;
        if s.get(at) != Some(&'}') {
            at = number(at)?;
        }
    }
    (s.get(at) == Some(&'}')).then_some(at + 1)
}

/// An escape outside a class, at `chars[i]` (a backslash): what it means in the crate's syntax,
/// and where the text goes on.
fn escape(chars: &[char], i: usize, out: &mut String) -> Result<usize, String> {
    let Some(&c) = chars.get(i + 1) else {
        return Err("trailing backslash at end of expression".into());
    };
    Ok(match c {
        'Q' => {
            let rest = &chars[i + 2..];
            let end = rest.windows(2).position(|w| w == ['\\', 'E']).unwrap_or(rest.len());
            out.push_str(&regex::escape(&rest[..end].iter().collect::<String>()));
            (i + 2 + end + 2).min(chars.len())
        }
        'd' | 'D' | 'w' | 'W' | 's' | 'S' => {
            let (set, negated) = perl_class(c);
            out.push_str(if negated { "[^" } else { "[" });
            out.push_str(set);
            out.push(']');
            i + 2
        }
        'b' => {
            out.push_str(r"(?-u:\b)");
            i + 2
        }
        'B' => {
            out.push_str(r"(?-u:\B)");
            i + 2
        }
        'p' | 'P' => unicode_class(chars, i, out),
        'A' | 'z' => {
            out.push('\\');
            out.push(c);
            i + 2
        }
        _ => {
            let (c, next) = literal_escape(chars, i)?;
            push_literal(out, c);
            next
        }
    })
}

/// The set of `\d`, `\w`, `\s` (or their negations, `negated`) as Go has them.
fn perl_class(c: char) -> (&'static str, bool) {
    let set = match c.to_ascii_lowercase() {
        'd' => DIGIT,
        'w' => WORD,
        _ => SPACE,
    };
    (set, c.is_ascii_uppercase())
}

/// `\pL`, `\p{Greek}`, `\P{…}` at `chars[i]`, with Go's `\p{^Greek}` as `\P{Greek}`.
fn unicode_class(chars: &[char], i: usize, out: &mut String) -> usize {
    let mut negated = chars[i + 1] == 'P';
    if chars.get(i + 2) != Some(&'{') {
        out.extend(&chars[i..(i + 3).min(chars.len())]);
        return (i + 3).min(chars.len());
    }
    let Some(close) = chars[i + 3..].iter().position(|&c| c == '}').map(|p| i + 3 + p) else {
        out.extend(&chars[i..]);
        return chars.len();
    };
    let mut name = &chars[i + 3..close];
    if name.first() == Some(&'^') {
        negated = !negated;
        name = &name[1..];
    }
    out.push_str(if negated { r"\P{" } else { r"\p{" });
    out.extend(name);
    out.push('}');
    close + 1
}

/// An escape that stands for one character in Go (`\n`, `\x41`, octal `\101`, `\.`, `\<`), at
/// `chars[i]`: the character and where the text goes on; Go's error for any other (`\u0041`,
/// `\Z`, `\C` and a back-reference `\1` are none of Go's, though some are the crate's).
fn literal_escape(chars: &[char], i: usize) -> Result<(char, usize), String> {
    let invalid = || {
        let end = (i + 2).min(chars.len());
        format!("invalid escape sequence: `{}`", chars[i..end].iter().collect::<String>())
    };
    read_escape(chars, i).ok_or_else(invalid)
}

fn read_escape(chars: &[char], i: usize) -> Option<(char, usize)> {
    let c = *chars.get(i + 1)?;
    let simple = match c {
        'a' => Some('\x07'),
        'f' => Some('\x0C'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\x0B'),
        _ => None,
    };
    if let Some(s) = simple {
        return Some((s, i + 2));
    }
    if c.is_ascii() && !c.is_ascii_alphanumeric() {
        return Some((c, i + 2));
    }
    if c == 'x' {
        if chars.get(i + 2) == Some(&'{') {
            let close = chars[i + 3..].iter().position(|&c| c == '}')? + i + 3;
            let hex: String = chars[i + 3..close].iter().collect();
            let value = u32::from_str_radix(&hex, 16).ok().filter(|_| !hex.is_empty())?;
            return Some((char::from_u32(value)?, close + 1));
        }
        let hex: String = chars.get(i + 2..i + 4)?.iter().collect();
        let value = u32::from_str_radix(&hex, 16).ok().filter(|_| hex.chars().all(|c| c.is_ascii_hexdigit()))?;
        return Some((char::from_u32(value)?, i + 4));
    }
    // Go: `\0` and up to two more octal digits; `\1`-`\7` only when another follows (alone it
    // would be a back-reference, which both refuse).
    let octal = |k: usize| chars.get(k).is_some_and(|c| ('0'..='7').contains(c));
    if octal(i + 1) && (c == '0' || octal(i + 2)) {
        let digits = (i + 1..i + 4).take_while(|&k| octal(k)).count();
        let text: String = chars[i + 1..i + 1 + digits].iter().collect();
        let value = u32::from_str_radix(&text, 8).ok()?;
        return Some((char::from_u32(value)?, i + 1 + digits));
    }
    None
}

/// `c` as a literal, outside a class or in one.
fn push_literal(out: &mut String, c: char) {
    if c.is_alphanumeric() {
        out.push(c);
    } else {
        out.push_str(&format!(r"\x{{{:X}}}", u32::from(c)));
    }
}

/// A class at `chars[i]` (`[`), read as Go's `parseClass` reads it and written out item by
/// item: a leading `]` and any `[` that starts no `[:name:]` are characters, `-` makes a range
/// only between two characters, and nothing else is special. Where the text goes on.
fn class(chars: &[char], i: usize, out: &mut String) -> Result<usize, String> {
    let mut j = i + 1;
    let negated = chars.get(j) == Some(&'^');
    if negated {
        j += 1;
    }
    let mut items = String::new();
    let mut first = true;
    loop {
        match chars.get(j) {
            None => {
                let text: String = chars[i..].iter().collect();
                return Err(format!("missing closing ]: `{text}`"));
            }
            Some(']') if !first => break,
            _ => {}
        }
        first = false;
        // `[:alpha:]`, `[:^space:]`: ASCII in both.
        if chars[j] == '[' && chars.get(j + 1) == Some(&':') {
            if let Some(end) = chars[j + 2..].windows(2).position(|w| w == [':', ']']) {
                items.extend(&chars[j..j + 2 + end + 2]);
                j += 2 + end + 2;
                continue;
            }
        }
        if chars[j] == '\\' {
            match chars.get(j + 1) {
                Some(&c @ ('d' | 'D' | 'w' | 'W' | 's' | 'S')) => {
                    let (set, negated) = perl_class(c);
                    if negated {
                        items.push_str("[^");
                        items.push_str(set);
                        items.push(']');
                    } else {
                        items.push_str(set);
                    }
                    j += 2;
                    continue;
                }
                Some('p' | 'P') => {
                    j = unicode_class(chars, j, &mut items);
                    continue;
                }
                _ => {}
            }
        }
        let (lo, next) = class_char(chars, j)?;
        j = next;
        push_literal(&mut items, lo);
        if chars.get(j) == Some(&'-') && chars.get(j + 1).is_some_and(|&c| c != ']') {
            let (hi, next) = class_char(chars, j + 1)?;
            if hi < lo {
                let text: String = chars[j - 1..next].iter().collect();
                return Err(format!("invalid character class range: `{text}`"));
            }
            j = next;
            items.push('-');
            push_literal(&mut items, hi);
        }
    }
    out.push('[');
    if negated {
        out.push('^');
    }
    out.push_str(&items);
    out.push(']');
    Ok(j + 1)
}

/// A character of a class, at `chars[j]`, and where the class goes on.
fn class_char(chars: &[char], j: usize) -> Result<(char, usize), String> {
    match chars.get(j) {
        None => Err("missing closing ]".into()),
        Some('\\') => literal_escape(chars, j),
        Some(&c) => Ok((c, j + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finds(pattern: &str, text: &str) -> bool {
        compile(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}")).is_match(text)
    }

    /// What `pattern` captures in `text`, as Go's `FindStringSubmatch(text)[1]`.
    fn captured(pattern: &str, text: &str) -> Option<String> {
        let re = compile(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        re.captures(text).and_then(|c| c.get(1)).map(|m| m.as_str().to_owned())
    }

    #[test]
    fn perl_classes_and_word_boundaries_are_ascii_as_in_go() {
        // Answers of Go 1.22's regexp, for each expression over each text.
        assert_eq!(captured(r"user=(\w+)", "user=josé"), Some("jos".into()));
        assert_eq!(captured(r"(\W+)", "josé!"), Some("é!".into()));
        assert!(!finds(r"^\d+$", "١٢٣"), "Arabic-Indic digits are no \\d in Go");
        assert!(finds(r"^\D+$", "١٢٣"));
        assert!(finds(r"^\d+$", "123"));
        assert!(!finds(r"a\sb", "a\u{a0}b"), "a no-break space is no \\s in Go");
        assert!(!finds(r"a\sb", "a\x0Bb"), "nor a vertical tab");
        assert!(finds(r"a\sb", "a\x0Cb") && finds(r"a\Sb", "a\u{a0}b"));
        // `é` is no word character, so Go sees a boundary between `s` and `é`, none between
        // `é` and a space.
        assert!(finds(r"jos\b", "josé"));
        assert!(!finds(r"é\b", "é "));
        assert!(finds(r"é\B", "é "));
        assert_eq!(captured(r"(\b\w+\b)", "ça va"), Some("a".into()));
        // In classes too, negated ones nested.
        assert_eq!(captured(r"([\w-]+)", "naïve-x"), Some("na".into()));
        assert_eq!(captured(r"([^\d\s]+)", "x١ 2"), Some("x١".into()));
        assert_eq!(captured(r"([\D]+)", "١2"), Some("١".into()));
        assert_eq!(captured(r"([^\W]+)", "éa"), Some("a".into()));
        // Unicode classes stay Unicode, and `\p{^…}` is their negation as in Go.
        assert!(finds(r"^\pN+$", "١٢٣") && finds(r"^\p{Greek}$", "λ"));
        assert!(finds(r"^\p{^Greek}$", "l") && !finds(r"^\p{^Greek}$", "λ") && finds(r"^[\P{^Greek}]$", "λ"));
        // POSIX classes are ASCII in both.
        assert!(!finds(r"^[[:alpha:]]$", "é") && finds(r"^[[:^alpha:]]$", "é"));
    }

    #[test]
    fn case_insensitive_matching_folds_unicode_as_go_does() {
        assert!(finds("(?i)JOSÉ", "josé"));
        // Go folds `\w` under `(?i)` too: K and s take the Kelvin sign and the long s.
        assert!(finds(r"(?i)^\w$", "\u{212A}") && finds(r"(?i)^\w$", "ſ"));
        assert!(!finds(r"^\w$", "\u{212A}"));
    }

    #[test]
    fn quoted_text_escapes_and_literal_braces_read_as_in_go() {
        assert!(finds(r"\Quser=bob.*\E", "user=bob.*") && !finds(r"\Quser=bob.*\E", "user=bobby"));
        assert!(finds(r"^\Qa+b", "a+b"), "\\Q runs to the end without \\E");
        assert!(finds(r"^\Q(x)\E+$", "(x)))"), "a quantifier after \\E takes the last character");
        assert!(finds(r"^\Q\d\E$", r"\d"));
        // `\\w` is a backslash and `w`; `\\\w` a backslash and a word character.
        assert!(finds(r"^\\w$", r"\w") && !finds(r"^\\w$", "\\a"));
        assert!(finds(r"^\\\w$", "\\a"));
        // Escaped punctuation is itself: `\<` is no word-start assertion.
        assert!(finds(r"^\<b\>$", "<b>"));
        assert!(finds(r"^\101\0$", "A\0") && finds(r"^[\101-\103]+$", "ABC"));
        assert!(finds(r"^\x41\x{1F600}$", "A😀"));
        // A brace that makes no repetition is a literal.
        assert!(finds(r"^a{,3}$", "a{,3}") && finds(r"^a{$", "a{") && finds(r"^{x}$", "{x}"));
        assert!(finds(r"^a{01}$", "a{01}") && finds(r"^a{2}$", "aa") && finds(r"^a{1,}b{0,1}$", "aaa"));
        assert!(finds(r"^\{\}$", "{}"));
    }

    #[test]
    fn classes_have_no_nesting_or_set_operators_as_in_go() {
        assert!(finds(r"^[a&&b]+$", "a&b") && finds(r"^[a~~b]+$", "~"));
        assert!(finds(r"^[[x]+$", "[x") && finds(r"^[]a]+$", "]a") && finds(r"^[^]a]$", "b"));
        assert!(finds(r"^[a-]+$", "-a") && finds(r"^[-a]+$", "-a") && !finds(r"^[a-c]$", "-"));
        assert!(finds(r"^[\[\]\\^]+$", r"[]\^"));
        assert!(finds(r"^[.*+]+$", ".*+") && !finds(r"^[.*+]+$", "a"));
    }

    #[test]
    fn what_go_refuses_is_refused_with_its_reason() {
        let refused = [
            (r"(?x)a b", "invalid or unsupported Perl syntax: `(?x`"),
            (r"(?u)a", "invalid or unsupported Perl syntax: `(?u`"),
            (r"a\", "trailing backslash at end of expression"),
            (r"\u0041", r"invalid escape sequence: `\u`"),
            (r"\Z", r"invalid escape sequence: `\Z`"),
            (r"\C", r"invalid escape sequence: `\C`"),
            (r"\1", r"invalid escape sequence: `\1`"),
            (r"[\b]", r"invalid escape sequence: `\b`"),
            ("[a", "missing closing ]: `[a`"),
            ("[z-a]", "invalid character class range: `z-a`"),
            ("(", "unclosed group"),
            // Go's repeat counts stop at 1,000.
            ("a{1001}", "invalid repeat count: `{1001}`"),
            ("a{2,5000}", "invalid repeat count: `{2,5000}`"),
            ("a{1001,}", "invalid repeat count: `{1001,}`"),
            ("a{5,2}", "invalid repeat count: `{5,2}`"),
            ("a{99999999999999999999}", "invalid repeat count: `{99999999999999999999}`"),
        ];
        for (pattern, reason) in refused {
            assert_eq!(compile(pattern).map(|_| ()), Err(reason.to_owned()), "{pattern}");
        }
        // Go's flags and named groups are read.
        for pattern in [
            r"(?i)a",
            r"(?-s:a)",
            r"(?sU)a",
            r"(?P<n>a)",
            r"(?<n>a)",
            r"(?im-sU:a)",
            r"\Aa\z",
            "a{1000}",
            "a{0,1000}",
            "a{3,}",
        ] {
            assert!(compile(pattern).is_ok(), "{pattern}");
        }
    }
}
