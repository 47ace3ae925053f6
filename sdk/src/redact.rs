//! Redaction of secrets in telemetry, on by default: secret-looking query and fragment
//! parameters in URL attributes and in any other text (an error's message with a URL in it), and
//! payment card numbers (Luhn-valid), JSON Web Tokens and bearer tokens in any string attribute
//! value or log message.
//!
//! It runs where values enter the core, so nothing unredacted is queued, encoded or exported.

use alloc::borrow::Cow;
use alloc::string::String;

use crate::text::{find, push_ascii, rsplit_once, split, split_once};

/// What replaces a secret.
pub const REDACTED: &str = "REDACTED";

/// Attribute keys whose values are URLs (`url.previous`: the page a browser navigation left).
pub fn is_url_key(key: &str) -> bool {
    // By length first: most keys are none of these, and each comparison is a call at `-Oz`.
    let k = key.as_bytes();
    match k.len() {
        8 => k == b"url.full" || k == b"http.url",
        9 => k == b"url.query",
        11 => k == b"http.target",
        12 => k == b"url.original" || k == b"url.fragment" || k == b"url.previous",
        _ => false,
    }
}

/// Parameter names treated as secrets: these exactly, and any name containing one of
/// `secret_parts` (ignoring case).
const SECRET_PARAMS: [&str; 9] = ["auth", "authorization", "code", "session", "session_id", "sid", "sig", "key", "pwd"];

/// The parts of names that make them secret, matched ignoring case and the `_` and `-` in the name
/// (`api_key`, `X-Api-Key`, `AWS_ACCESS_KEY_ID`, `private_key`, `session_id`): tokens, passwords,
/// signed URLs' signatures and credentials (`X-Amz-Signature`, `X-Amz-Credential`,
/// `X-Goog-Signature`, `AWSAccessKeyId`, the keys OpenTelemetry's `url.full` convention redacts by
/// default), API and private keys, JWTs, server session ids (`PHPSESSID`, `jsessionid`) and the
/// headers that carry credentials.
/// (Grouped by first letter: each group is tried only where its letter is.)
fn secret_parts(first: u8) -> &'static [&'static [u8]] {
    match first {
        b't' => &[b"token"],
        b's' => &[b"secret", b"signature", b"sessid", b"sessionid"],
        b'p' => &[b"password", b"passwd", b"passphrase", b"privatekey"],
        b'c' => &[b"credential", b"cookie"],
        b'a' => &[b"accesskey", b"apikey", b"authorization"],
        b'j' => &[b"jwt"],
        _ => &[],
    }
}

/// Where `needle` (not empty) first occurs in `hay`, ignoring ASCII case. A plain loop:
/// `str::find` with a string pattern brings a string-search algorithm that costs the wasm
/// module kilobytes.
fn find_ignore_case(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < hay.len() {
        if hay.get(i..i + needle.len()).is_some_and(|w| w.eq_ignore_ascii_case(needle)) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Where `part` (lowercase) ends when it starts at `name[start]`, matched ignoring ASCII case and
/// any `_` or `-` in `name`.
fn part_at(name: &[u8], start: usize, part: &[u8]) -> Option<usize> {
    let (mut i, mut k) = (start, 0);
    while k < part.len() && i < name.len() {
        if k > 0 && matches!(name[i], b'_' | b'-') {
            i += 1;
        } else if name[i].to_ascii_lowercase() == part[k] {
            (i, k) = (i + 1, k + 1);
        } else {
            break;
        }
    }
    (k == part.len()).then_some(i)
}

/// Where `part` first ends in `name` (see `part_at`).
fn find_part(name: &[u8], part: &[u8]) -> Option<usize> {
    (0..name.len()).find_map(|start| part_at(name, start, part))
}

/// Whether `name` ends with `suffix` (ignoring ASCII case), and, with `segment`, starts there or
/// after a `_`, `-` or `.`.
fn ends_ignore_case(name: &[u8], suffix: &[u8], segment: bool) -> bool {
    let Some(at) = name.len().checked_sub(suffix.len()) else { return false };
    name.get(at..).is_some_and(|t| t.eq_ignore_ascii_case(suffix))
        && (!segment || at == 0 || name.get(at - 1).is_some_and(|c| matches!(c, b'_' | b'-' | b'.')))
}

/// A name secret wherever it is (a key in text, an attribute's key): one with a part of
/// `secret_parts`, or a last segment `pass` or `pwd` (`DB_PASS`). Not: a last segment `type` or
/// `arn` (`gen_ai.token.type`, `aws.secretsmanager.secret.arn`), `tokens` and `tokenizer` (a
/// language model's counts), or an error's name (`TokenExpiredError`).
pub fn is_secret_name(name: &[u8]) -> bool {
    // The exceptions are looked at only for a secret-looking name: most names are none.
    let secret = ends_ignore_case(name, b"pass", true) || ends_ignore_case(name, b"pwd", true) || has_secret_part(name);
    secret
        && !(ends_ignore_case(name, b"error", false)
            || ends_ignore_case(name, b"exception", false)
            || ends_ignore_case(name, b"type", true)
            || ends_ignore_case(name, b"arn", true))
}

/// One pass over the name (it runs for every string attribute): a part is tried only where its
/// first letter is.
fn has_secret_part(name: &[u8]) -> bool {
    for start in 0..name.len() {
        let c = name[start].to_ascii_lowercase();
        for part in secret_parts(c) {
            if let Some(end) = part_at(name, start, part) {
                // `tokens`, `tokenizer`: a language model's.
                if c != b't' || !matches!(name.get(end), Some(b's' | b'S' | b'i' | b'I')) {
                    return true;
                }
            }
        }
    }
    false
}

/// A URL parameter's name that is secret: those of `is_secret_name`, the short ones of
/// `SECRET_PARAMS`, which only a URL makes secret (`code`, `key`, `session`), and `extra`.
fn is_secret_param(name: &[u8], extra: &[String]) -> bool {
    SECRET_PARAMS.iter().any(|p| p.as_bytes().eq_ignore_ascii_case(name))
        || is_secret_name(name)
        || extra.iter().any(|e| e.as_bytes().eq_ignore_ascii_case(name))
}

/// Replaces the values of secret parameters in `params` (`a=1&token=x`).
fn redact_params(params: &str, extra: &[String], out: &mut String) {
    for (i, pair) in split(params, b'&').enumerate() {
        if i > 0 {
            push_ascii(out, b'&');
        }
        match split_once(pair, b'=') {
            Some((name, _)) if is_secret_param(name.as_bytes(), extra) => {
                out.push_str(name);
                push_ascii(out, b'=');
                out.push_str(REDACTED);
            }
            _ => out.push_str(pair),
        }
    }
}

/// A fragment with its secret parameters replaced: a hash router's `/route?a=1&b=2` by the
/// parameters after its `?`, else `a=1&b=2` (an OAuth implicit-flow answer) as parameters.
fn redact_fragment(fragment: &str, extra: &[String], out: &mut String) {
    match split_once(fragment, b'?') {
        Some((route, params)) => {
            out.push_str(route);
            push_ascii(out, b'?');
            redact_params(params, extra, out);
        }
        None if fragment.bytes().any(|c| c == b'=') => redact_params(fragment, extra, out),
        None => out.push_str(fragment),
    }
}

/// A URL with its user, password and secret query and fragment parameters replaced.
pub fn redact_url<'a>(url: &'a str, extra: &[String]) -> Cow<'a, str> {
    let mut out = String::with_capacity(url.len());
    let (before_fragment, fragment) = match split_once(url, b'#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let (base, query) = match split_once(before_fragment, b'?') {
        Some((b, q)) => (b, Some(q)),
        None => (before_fragment, None),
    };
    // user:password@ in the authority: both replaced, as OpenTelemetry's `url.full` asks
    // (`https://REDACTED:REDACTED@host`); a user alone is often a key (`https://KEY@host`).
    let scheme_end = find_ignore_case(base.as_bytes(), b"://");
    match scheme_end.map(|i| (base.get(..i).unwrap_or(""), base.get(i + 3..).unwrap_or(""))) {
        Some((scheme, rest)) => {
            let authority_end = find(rest.as_bytes(), b'/').unwrap_or(rest.len());
            let (authority, path) =
                (rest.get(..authority_end).unwrap_or(rest), rest.get(authority_end..).unwrap_or(""));
            out.push_str(scheme);
            out.push_str("://");
            match rsplit_once(authority, b'@') {
                Some((userinfo, host)) => {
                    let user = split_once(userinfo, b':').map_or(userinfo, |(user, _)| user);
                    if !user.is_empty() {
                        out.push_str(REDACTED);
                    }
                    if user.len() < userinfo.len() {
                        out.push_str(":REDACTED");
                    }
                    push_ascii(&mut out, b'@');
                    out.push_str(host);
                }
                None => out.push_str(authority),
            }
            out.push_str(path);
        }
        None => out.push_str(base),
    }
    if let Some(q) = query {
        push_ascii(&mut out, b'?');
        redact_params(q, extra, &mut out);
    }
    if let Some(f) = fragment {
        push_ascii(&mut out, b'#');
        redact_fragment(f, extra, &mut out);
    }
    if out.as_str() == url {
        Cow::Borrowed(url)
    } else {
        Cow::Owned(out)
    }
}

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = *d as u32;
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

fn is_b64url(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
}

/// Copies `text[*at..start]` and the mask to `out` (made on the first secret), and moves `at`
/// past the secret.
fn mask(out: &mut Option<String>, text: &str, at: &mut usize, start: usize, end: usize) {
    let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
    out.push_str(text.get(*at..start).unwrap_or(""));
    out.push_str(REDACTED);
    *at = end;
}

/// Whether `c` ends a parameter's value in free text wherever it is: whitespace and what a URL
/// query cannot hold unescaped (`"`, `<`, `>`, `\`, `^`, `` ` ``, `{`, `|`, `}`, `[`, `]`),
/// a quote that ends a quoted URL, the next parameter and the fragment. Anything else, non-ASCII
/// too (an IRI as prose writes it), is part of the value: when in doubt, mask.
fn ends_value(c: u8) -> bool {
    c <= b' '
        || matches!(
            c,
            b'&' | b'#' | b'"' | b'\'' | b'`' | b'<' | b'>' | b'\\' | b'^' | b'{' | b'|' | b'}' | b'[' | b']'
        )
}

/// Where the value of the parameter whose name starts at `b[name]` is, when it is a secret
/// one: after the name and `=`, up to a character that ends a value (see `ends_value`), or up to
/// the sentence's punctuation after the URL: a run of `,` `;` `)` `.` `!` `?` `:` followed by
/// such a character or the end of the text (within a value they are part of it). An empty
/// range when the name is not secret or there is no value. A path's parameter (`/app;jsessionid=…/x`,
/// after a `;`) ends at the path's next `/`, `;` or `?` too.
fn param_value(b: &[u8], name: usize, extra: &[String]) -> (usize, usize) {
    let path = name > 0 && b[name - 1] == b';';
    let mut eq = name;
    while eq < b.len() && (is_b64url(b[eq]) || b[eq] == b'.') {
        eq += 1;
    }
    if b.get(eq) != Some(&b'=') || !b.get(name..eq).is_some_and(|n| !n.is_empty() && is_secret_param(n, extra)) {
        return (0, 0);
    }
    (eq + 1, value_end(b, eq + 1, path))
}

/// Where a value starting at `start` ends: at a character that ends it (see `ends_value`; in a
/// path, a `/`, `;` or `?` too), less the sentence's punctuation right before that.
fn value_end(b: &[u8], start: usize, path: bool) -> usize {
    let (mut end, mut kept) = (start, start);
    while end < b.len() && !ends_value(b[end]) && !(path && matches!(b[end], b'/' | b';' | b'?')) {
        if !matches!(b[end], b',' | b';' | b')' | b'.' | b'!' | b'?' | b':') {
            kept = end + 1;
        }
        end += 1;
    }
    kept
}

/// The value after a secret key's `=` or `:` at `b[sep]` in text (`password=…`, `"api_key": "…"`,
/// `secret: …`, `{\"token\":\"…\"}` in a logged JSON string): the key is the run of name
/// characters before it (spaces and a closing quote, escaped or not, skipped), the value a quoted
/// string to its closing quote, a credential header's (`Authorization`, `Cookie`) to the end of
/// the line, any other up to where a parameter's value ends. No key: one right after a `/` (a
/// URL's host or path: `http://token-service:8080`, `/v1/tokens:revoke`) or a `:` (the parts of
/// an ARN: `arn:aws:secretsmanager:…`), an unquoted one with a
/// `.` before a `:` and a digit (a stack trace's `authToken.js:12:5`, a host's port). An empty
/// range when the key is not secret or there is no value.
fn keyed_value(b: &[u8], sep: usize) -> (usize, usize) {
    let blank = |c: u8| c == b' ' || c == b'\t';
    let mut n = sep;
    while n > 0 && blank(b[n - 1]) {
        n -= 1;
    }
    let quoted = n > 0 && matches!(b[n - 1], b'"' | b'\'');
    if quoted {
        n -= 1;
        if n > 0 && b[n - 1] == b'\\' {
            n -= 1;
        }
    }
    let (key_end, mut dotted) = (n, false);
    while n > 0 && (is_b64url(b[n - 1]) || b[n - 1] == b'.') {
        dotted |= b[n - 1] == b'.';
        n -= 1;
    }
    let key = b.get(n..key_end).unwrap_or(&[]);
    let mut start = sep + 1;
    while start < b.len() && blank(b[start]) {
        start += 1;
    }
    let dotted_line = !quoted && b[sep] == b':' && dotted && b.get(start).is_some_and(u8::is_ascii_digit);
    if key.is_empty() || (n > 0 && matches!(b[n - 1], b'/' | b':')) || dotted_line || !is_secret_name(key) {
        return (0, 0);
    }
    // A quote, or an escaped one (`\"`) that the value ends with too.
    let escaped = b.get(start) == Some(&b'\\') && matches!(b.get(start + 1), Some(b'"' | b'\''));
    match b.get(start + usize::from(escaped)) {
        Some(&q) if q == b'"' || q == b'\'' => {
            let from = start + usize::from(escaped) + 1;
            let mut end = from;
            while end < b.len() && b[end] != q {
                if b[end] == b'\\' {
                    if escaped && b.get(end + 1) == Some(&q) {
                        break;
                    }
                    end += 1;
                }
                end += 1;
            }
            (from, end.min(b.len()))
        }
        _ => {
            // A credential header's value runs to the line's end; an authorization's scheme stays
            // (`Bearer REDACTED`): a word, then a space.
            let authorization = find_part(key, b"authorization").is_some();
            if !authorization && find_part(key, b"cookie").is_none() {
                return (start, value_end(b, start, false));
            }
            let mut word = start;
            while word < b.len() && b[word].is_ascii_alphabetic() {
                word += 1;
            }
            if authorization && word > start && b.get(word) == Some(&b' ') {
                start = word + 1;
            }
            let mut end = start;
            while end < b.len() && !matches!(b[end], b'\r' | b'\n' | b'"' | b'\'') {
                end += 1;
            }
            (start, end)
        }
    }
}

/// How far past a `://` a URL's user and password are looked for.
const MAX_USERINFO: usize = 2048;

/// Masks card numbers, JWTs, bearer tokens, users and passwords in URLs (`https://user:…@host`, `https://key@host`) and the values
/// of secret URL parameters (`?token=…`, `&access_token=…`, `#id_token=…`, as in `redact_url`,
/// `extra` too) in free text: an error's
/// message, a log message with a URL in it.
pub fn redact_text<'a>(text: &'a str, extra: &[String]) -> Cow<'a, str> {
    let b = text.as_bytes();
    // The shortest secret found here is a parameter, `?sid=x` (a card number needs 13 bytes, a
    // bearer token 15, a JWT 20): shorter text is returned without a scan.
    if b.len() < 6 {
        return Cow::Borrowed(text);
    }
    // The text with the secrets found so far masked, up to `at`; `None` while there are none.
    let (mut out, mut at) = (None, 0);
    // Where the last run after a `://` without an `@` ended (see the password below).
    let mut bare_until = 0;
    let mut i = 0;
    while i < b.len() {
        // A URL parameter's value. Only at `?`, `&`, `#` or a path's `;`, so most text costs
        // nothing more.
        if matches!(b[i], b'?' | b'&' | b'#' | b';') {
            let (start, end) = param_value(b, i + 1, extra);
            if end > start {
                mask(&mut out, text, &mut at, start, end);
                i = end;
                continue;
            }
        }
        // A user and password in a URL: `scheme://user:password@host`, the password written by hand
        // perhaps, with a raw `/`, `?`, `#` or `@`: it runs from the user's `:` (the user has
        // none of `/?#@`) to the last `@` before whitespace, a quote, the next `://` (a list of
        // URLs) or a `?` or `#` after an `@` (the query or fragment of a URL whose password
        // ended at that `@`, which may hold an `@` of its own: `?email=a@b.c`), unless a port (digits, then the path, query or
        // fragment) is what follows a user's `:` (`https://h:8080/a@b`; with no user, as in
        // `redis://:123/x@cache`, it is a password). The scan is linear: it ends where the user
        // does without a `:`, looks at most `MAX_USERINFO` bytes ahead, and a run found without
        // an `@` is not looked at again from a later `://` inside it.
        if b[i] == b':' && i >= bare_until && b.get(i + 1..i + 3) == Some(b"//") {
            // One pass: the user's `:`, the last `@`; or the `@` after a user alone.
            let (mut j, mut colon, mut at_sign, mut user_at) = (i + 3, 0, 0, 0);
            let stop = b.len().min(i + 3 + MAX_USERINFO);
            while j < stop && b[j] > b' ' && !matches!(b[j], b'"' | b'\'' | b'<' | b'>') {
                // A query or fragment after an `@`, or the next URL of a list, ends the search.
                if (at_sign != 0 && matches!(b[j], b'?' | b'#')) || (b[j] == b':' && b.get(j + 1..j + 3) == Some(b"//"))
                {
                    break;
                }
                if colon == 0 && matches!(b[j], b':' | b'/' | b'?' | b'#' | b'@') {
                    if b[j] != b':' {
                        // The user ended without a password: a user alone is masked (it is
                        // often a key: `https://KEY@host`), a path or query has no user.
                        if b[j] == b'@' {
                            user_at = j;
                        }
                        break;
                    }
                    colon = j;
                } else if b[j] == b'@' {
                    at_sign = j;
                }
                j += 1;
            }
            if at_sign == 0 && j < stop {
                bare_until = j;
            }
            if user_at > i + 3 {
                mask(&mut out, text, &mut at, i + 3, user_at);
                i = user_at + 1;
                continue;
            }
            if colon != 0 && at_sign > colon {
                let mut d = colon + 1;
                while d < at_sign && b[d].is_ascii_digit() {
                    d += 1;
                }
                if d == colon + 1 || colon == i + 3 || !matches!(b[d], b'/' | b'?' | b'#') {
                    // The user and the password, as in a URL attribute.
                    if colon > i + 3 {
                        mask(&mut out, text, &mut at, i + 3, colon);
                    }
                    mask(&mut out, text, &mut at, colon + 1, at_sign);
                    i = at_sign + 1;
                    continue;
                }
            }
        }
        // A secret key's value in text: `password=…`, `"access_token":"…"`, `secret: …` (a
        // form body, a JSON object, a config dump). Only at `=` or `:`, not a URL's `://`.
        if matches!(b[i], b'=' | b':') && b.get(i + 1..i + 3) != Some(b"//") {
            let (start, end) = keyed_value(b, i);
            if end > start {
                mask(&mut out, text, &mut at, start, end);
                i = end;
                continue;
            }
        }
        // Bearer tokens and Basic credentials: "bearer " or "basic " (any case) then a token; a
        // Basic one (base64) with a digit or `=` in it, so that prose ("basic usage") stays.
        let bearer = b.get(i..i + 7).is_some_and(|w| w.eq_ignore_ascii_case(b"bearer "));
        let basic = !bearer && b.get(i..i + 6).is_some_and(|w| w.eq_ignore_ascii_case(b"basic "));
        if (bearer || basic) && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
            let start = i + if bearer { 7 } else { 6 };
            let (mut end, mut coded) = (start, bearer);
            while end < b.len() && (is_b64url(b[end]) || matches!(b[end], b'~' | b'+' | b'/' | b'.' | b'=')) {
                coded |= b[end].is_ascii_digit() || b[end] == b'=';
                end += 1;
            }
            if end - start >= 8 && coded {
                mask(&mut out, text, &mut at, start, end);
                i = end;
                continue;
            }
        }
        // JWTs: three base64url segments joined by dots, the first starting with "eyJ".
        if b.get(i..).is_some_and(|rest| rest.starts_with(b"eyJ")) && (i == 0 || !is_b64url(b[i - 1])) {
            let mut end = i;
            let mut dots = 0;
            while end < b.len() && (is_b64url(b[end]) || (b[end] == b'.' && dots < 2)) {
                if b[end] == b'.' {
                    dots += 1;
                }
                end += 1;
            }
            if dots == 2 && end - i >= 20 {
                mask(&mut out, text, &mut at, i, end);
                i = end;
                continue;
            }
        }
        // Card numbers: 13–19 digits, optionally grouped by spaces or dashes, Luhn-valid.
        if b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
            // At most 19 digits, in place: no allocation per number.
            let (mut digits, mut n) = ([0u8; 19], 0);
            let mut end = i;
            let mut last_digit_end = i;
            while end < b.len() && n < 19 {
                if b[end].is_ascii_digit() {
                    digits[n] = b[end] - b'0';
                    n += 1;
                    last_digit_end = end + 1;
                } else if !(b[end] == b' ' || b[end] == b'-') || end + 1 >= b.len() || !b[end + 1].is_ascii_digit() {
                    break;
                }
                end += 1;
            }
            let ends_clean = last_digit_end >= b.len() || !b[last_digit_end].is_ascii_alphanumeric();
            if n >= 13 && ends_clean && digits.get(..n).is_some_and(luhn) {
                mask(&mut out, text, &mut at, i, last_digit_end);
                i = last_digit_end;
                continue;
            }
            // Skip the whole digit run so that its tail is not tried as a number of its own.
            while i < b.len() && b[i].is_ascii_alphanumeric() {
                i += 1;
            }
            continue;
        }
        i += 1;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.push_str(text.get(at..).unwrap_or(""));
            Cow::Owned(out)
        }
    }
}

/// A span's or an event's name with its secrets masked as `redact_text` masks a message. Names
/// are short and mostly clean, so one pass first looks for a byte that every secret needs: the
/// `?`, `&`, `#` or `;` before a parameter, a URL's or key's `:`, a key's `=`, a card number's digit, a JWT's
/// `.`, or the space after "bearer" or "basic"; a name with none is returned as it is.
pub fn redact_name<'a>(name: &'a str, extra: &[String]) -> Cow<'a, str> {
    let b = name.as_bytes();
    let mut prev = 0u8;
    for &c in b {
        if matches!(c, b'?' | b'&' | b'#' | b';' | b'=' | b'.' | b':' | b'0'..=b'9')
            || (c == b' ' && matches!(prev | 0x20, b'r' | b'c'))
        {
            return redact_text(name, extra);
        }
        prev = c;
    }
    Cow::Borrowed(name)
}

/// Redacts one attribute value by its key: the whole value of a secret key (`db.password`,
/// `app.api_key`, see `is_secret_name`), URLs by their parameters, other text by content.
pub fn redact_attribute(key: &str, value: &str, extra: &[String]) -> Option<String> {
    redact_keyed(key, is_secret_name(key.as_bytes()), value, extra)
}

/// `redact_attribute` with the key's `is_secret_name` known (a batch of recorded spans looks
/// at each interned key once).
pub fn redact_keyed(key: &str, secret: bool, value: &str, extra: &[String]) -> Option<String> {
    if secret && !value.is_empty() && value != REDACTED {
        return Some(REDACTED.into());
    }
    // `url.query` and `url.fragment` hold the parameters alone, without the `?` or `#` that
    // `redact_url` looks for: the first parameter is a parameter too.
    let url = if key == "url.query" || key == "url.fragment" {
        let mut out = String::with_capacity(value.len());
        if key == "url.query" {
            redact_params(value, extra, &mut out);
        } else {
            redact_fragment(value, extra, &mut out);
        }
        if out == value {
            Cow::Borrowed(value)
        } else {
            Cow::Owned(out)
        }
    } else if is_url_key(key) {
        redact_url(value, extra)
    } else {
        Cow::Borrowed(value)
    };
    // One scan of the text, of the URL redacted or of the value as it is.
    if let Cow::Owned(t) = redact_text(&url, extra) {
        return Some(t);
    }
    match url {
        Cow::Owned(u) => Some(u),
        Cow::Borrowed(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_query_and_fragment_parameters_and_passwords_are_replaced() {
        let extra = vec!["tenant_pin".to_string()];
        assert_eq!(
            redact_url("https://u:hunter2@api.example.com/v1?q=shoes&access_token=abc&Password=x&tenant_pin=9#id_token=eyJ&state=ok", &extra),
            "https://REDACTED:REDACTED@api.example.com/v1?q=shoes&access_token=REDACTED&Password=REDACTED&tenant_pin=REDACTED#id_token=REDACTED&state=ok"
        );
        assert_eq!(redact_url("/search?q=shoes&page=2", &[]), "/search?q=shoes&page=2");
        assert!(matches!(redact_url("/search?q=shoes", &[]), Cow::Borrowed(_)), "nothing to redact, nothing copied");
        assert_eq!(
            redact_url("/cb?code=xyz&session=s1&api_key=k", &[]),
            "/cb?code=REDACTED&session=REDACTED&api_key=REDACTED"
        );
    }

    #[test]
    fn the_first_parameter_of_url_query_and_url_fragment_is_redacted_too() {
        let attr = |k: &str, v: &str| redact_attribute(k, v, &[]);
        assert_eq!(
            attr("url.query", "access_token=abc&code=c&q=shoes").as_deref(),
            Some("access_token=REDACTED&code=REDACTED&q=shoes")
        );
        assert_eq!(attr("url.query", "api_key=k").as_deref(), Some("api_key=REDACTED"));
        assert_eq!(attr("url.fragment", "id_token=eyJ&state=ok").as_deref(), Some("id_token=REDACTED&state=ok"));
        assert_eq!(attr("url.query", "q=shoes&page=2"), None, "nothing to redact");
        assert_eq!(attr("url.fragment", "section-2"), None);
        // A hash router's route with parameters, in the fragment attribute and in a whole URL.
        assert_eq!(attr("url.fragment", "/cb?access_token=abc&x=1").as_deref(), Some("/cb?access_token=REDACTED&x=1"));
        assert_eq!(
            attr("url.full", "https://app.test/#/cb?access_token=abc&state=s").as_deref(),
            Some("https://app.test/#/cb?access_token=REDACTED&state=s")
        );
        // A URL in a URL attribute is still read as a URL.
        assert_eq!(attr("url.full", "https://x.test/a?token=t").as_deref(), Some("https://x.test/a?token=REDACTED"));
    }

    fn txt(text: &str) -> Cow<'_, str> {
        redact_text(text, &[])
    }

    #[test]
    fn luhn_valid_card_numbers_jwts_and_bearer_tokens_are_masked_in_text() {
        assert_eq!(txt("card 4111 1111 1111 1111 declined"), "card REDACTED declined");
        assert_eq!(txt("card 4111-1111-1111-1111"), "card REDACTED");
        assert_eq!(txt("order 4111111111111112 (not Luhn-valid)"), "order 4111111111111112 (not Luhn-valid)");
        assert_eq!(txt("id 1234567890"), "id 1234567890", "too short");
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(txt(&format!("sent {jwt} to api")), "sent REDACTED to api");
        assert_eq!(txt("Authorization: Bearer abcDEF123456.xyz"), "Authorization: Bearer REDACTED");
        assert_eq!(txt("nothing secret here"), "nothing secret here");
        // The shortest secrets, at the length below which text is not scanned.
        assert_eq!(txt("4222222222222"), "REDACTED", "13 digits, Luhn-valid");
        assert_eq!(txt("Bearer abcdefgh"), "Bearer REDACTED");
        assert_eq!(txt("422222222222"), "422222222222", "12 digits");
        assert_eq!(
            txt("Bearer abcDEF123456.xyz paid with 4111 1111 1111 1111, ok"),
            "Bearer REDACTED paid with REDACTED, ok",
            "every secret in the text, and the text between and after them"
        );
    }

    #[test]
    fn secret_url_parameters_are_masked_in_text() {
        let extra = vec!["tenant_pin".to_string()];
        assert_eq!(
            redact_text("GET https://api.test/x?q=1&access_token=abc.DEF-1&v=2#id_token=x failed", &[]),
            "GET https://api.test/x?q=1&access_token=REDACTED&v=2#id_token=REDACTED failed"
        );
        assert_eq!(
            redact_text("callback /cb?code=xyz&state=1 refused", &[]),
            "callback /cb?code=REDACTED&state=1 refused"
        );
        assert_eq!(
            redact_text("'/a?tenant_pin=9' and \"/b?sid=s1\"", &extra),
            "'/a?tenant_pin=REDACTED' and \"/b?sid=REDACTED\""
        );
        assert_eq!(redact_text("?sid=x", &[]), "?sid=REDACTED", "the shortest text scanned");
        assert_eq!(txt("a=1 & token = 2"), "a=1 & token = REDACTED", "a key's value, spaces around its `=`");
        for kept in ["/search?q=shoes&page=2", "?token=", "issue #12 and &amp; here", "x?tokens"] {
            assert!(matches!(redact_text(kept, &[]), Cow::Borrowed(_)), "{kept}: nothing to mask, nothing copied");
        }
    }

    #[test]
    fn a_parameter_value_in_text_ends_where_a_url_in_prose_ends() {
        // Punctuation of the sentence after the URL: a `,`, `;`, `)`, `.` (and `!`, `?`, `:`)
        // followed by whitespace, the end, or a character that ends the value.
        assert_eq!(txt("GET /cb?code=x, refused"), "GET /cb?code=REDACTED, refused");
        assert_eq!(txt("GET /cb?code=x; retrying"), "GET /cb?code=REDACTED; retrying");
        assert_eq!(txt("(see /cb?code=x) and more"), "(see /cb?code=REDACTED) and more");
        assert_eq!(txt("(see /cb?code=x)"), "(see /cb?code=REDACTED)");
        assert_eq!(txt("redirected to /cb?code=x."), "redirected to /cb?code=REDACTED.");
        assert_eq!(txt("to /cb?code=x), then /b?sid=y."), "to /cb?code=REDACTED), then /b?sid=REDACTED.");
        assert_eq!(txt("'/cb?code=x,'"), "'/cb?code=REDACTED,'");
        // `word?name=value` in prose has the form of a relative URL (`callback?code=x`): the two
        // cannot be told apart, so it is masked.
        assert_eq!(txt("see callback?code=x now"), "see callback?code=REDACTED now");
        // Within a value they are part of it (when in doubt, mask).
        assert_eq!(txt("/cb?code=a,b;c)d.e:f!g?h rest"), "/cb?code=REDACTED rest");
        assert_eq!(txt("/cb?code=a,,b"), "/cb?code=REDACTED");
        assert_eq!(txt("/cb?code=x%20y+z~(1)*!$ ok"), "/cb?code=REDACTED ok");
        assert_eq!(txt("/cb?code=zürich€ ok"), "/cb?code=REDACTED ok", "non-ASCII: an IRI as prose writes it");
        // What a URL query cannot hold unescaped ends the value wherever it is.
        for (text, masked) in [
            ("{\"url\":\"/cb?code=x\"}", "{\"url\":\"/cb?code=REDACTED\"}"),
            ("[/cb?code=x]", "[/cb?code=REDACTED]"),
            ("{url: /cb?code=x}", "{url: /cb?code=REDACTED}"),
            ("/cb?code=x|next", "/cb?code=REDACTED|next"),
            ("/cb?code=x\\y", "/cb?code=REDACTED\\y"),
            ("/cb?code=x^y", "/cb?code=REDACTED^y"),
            ("<a href=/cb?code=x>link</a>", "<a href=/cb?code=REDACTED>link</a>"),
            ("`/cb?code=x`", "`/cb?code=REDACTED`"),
            ("/cb?code=x\tnext", "/cb?code=REDACTED\tnext"),
        ] {
            assert_eq!(txt(text), masked, "{text}");
        }
    }

    #[test]
    fn names_are_scanned_once_and_masked_as_text_is() {
        for clean in ["GET", "GET /api/users", "click button.buy", "checkout", "documentLoad"] {
            assert!(matches!(redact_name(clean, &[]), Cow::Borrowed(_)), "{clean}");
        }
        assert_eq!(redact_name("GET /cb?code=x&state=s", &[]), "GET /cb?code=REDACTED&state=s");
        assert_eq!(redact_name("auth Bearer abcdefgh12", &[]), "auth Bearer REDACTED");
        assert_eq!(redact_name("paid 4111 1111 1111 1111", &[]), "paid REDACTED");
        assert_eq!(redact_name("BEARER abcdefghij", &[]), "BEARER REDACTED");
        assert_eq!(
            redact_name("GET https://admin:pw@db.internal/x", &[]),
            "GET https://REDACTED:REDACTED@db.internal/x"
        );
    }

    #[test]
    fn a_password_in_a_url_in_text_is_masked() {
        assert_eq!(
            txt("connect postgres://app:s3cr%40t@db:5432/main failed"),
            "connect postgres://REDACTED:REDACTED@db:5432/main failed"
        );
        assert_eq!(txt("GET https://u:p@h/x?token=t"), "GET https://REDACTED:REDACTED@h/x?token=REDACTED");
        assert_eq!(
            txt("'https://u:p@h' and https://v:q@i"),
            "'https://REDACTED:REDACTED@h' and https://REDACTED:REDACTED@i"
        );
        for kept in ["https://host:8080/a@b", "mailto:a@b.c", "at 10:30 see a@b", "https://h/x y:z@w", "https://h/a@b"]
        {
            assert!(matches!(redact_text(kept, &[]), Cow::Borrowed(_)), "{kept}: no password");
        }
    }

    #[test]
    fn a_user_alone_in_a_url_is_masked_as_it_is_often_a_key() {
        assert_eq!(
            txt("POST https://KEY123@o1.ingest.example/api/9 failed"),
            "POST https://REDACTED@o1.ingest.example/api/9 failed"
        );
        assert_eq!(txt("clone ssh://git@host/repo"), "clone ssh://REDACTED@host/repo");
        let attr = |k: &str, v: &str| redact_attribute(k, v, &[]);
        assert_eq!(attr("url.full", "http://KEY@h:8080/a?x=1").as_deref(), Some("http://REDACTED@h:8080/a?x=1"));
        assert_eq!(attr("url.full", "https://u:p@h/").as_deref(), Some("https://REDACTED:REDACTED@h/"));
        assert_eq!(
            attr("url.full", "redis://:p@h/").as_deref(),
            Some("redis://:REDACTED@h/"),
            "no user, nothing for it"
        );
        assert_eq!(attr("url.full", "https://@h/"), None, "an empty user");
    }

    #[test]
    fn signed_url_keys_and_session_ids_are_secret_parameters() {
        let attr = |v: &str| redact_attribute("url.full", v, &[]);
        assert_eq!(
            attr("https://b.s3.test/o?X-Amz-Algorithm=A&X-Amz-Credential=AKIA%2F1&X-Amz-Signature=abc&X-Amz-Expires=60").as_deref(),
            Some("https://b.s3.test/o?X-Amz-Algorithm=A&X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&X-Amz-Expires=60")
        );
        assert_eq!(
            attr("https://s.test/o?AWSAccessKeyId=AKIA&Signature=s&Expires=1&X-Goog-Signature=g").as_deref(),
            Some("https://s.test/o?AWSAccessKeyId=REDACTED&Signature=REDACTED&Expires=1&X-Goog-Signature=REDACTED")
        );
        assert_eq!(
            attr("/a?PHPSESSID=p&jsessionid=j&x-api-key=k&q=1").as_deref(),
            Some("/a?PHPSESSID=REDACTED&jsessionid=REDACTED&x-api-key=REDACTED&q=1")
        );
        // A path parameter ends at the path's next `/`, `;` or `?`.
        assert_eq!(attr("/app;jsessionid=J9/list?q=1").as_deref(), Some("/app;jsessionid=REDACTED/list?q=1"));
        assert_eq!(attr("/app;jsessionid=J9;v=2?q=1").as_deref(), Some("/app;jsessionid=REDACTED;v=2?q=1"));
        assert_eq!(txt("GET /app;jsessionid=J9 failed"), "GET /app;jsessionid=REDACTED failed");
        assert_eq!(redact_name("GET /app;jsessionid=J9", &[]), "GET /app;jsessionid=REDACTED");
        // An HTML-escaped query: the parameter after `&amp;`.
        assert_eq!(txt("href=/cb?a=1&amp;token=t2"), "href=/cb?a=1&amp;token=REDACTED");
        for kept in ["a; b=1", "x;y=2", "/p;v=1/q", "sessions=3&keys_count=2"] {
            assert!(matches!(redact_text(kept, &[]), Cow::Borrowed(_)), "{kept}");
        }
    }

    #[test]
    fn secret_keys_values_and_basic_credentials_are_masked_in_text() {
        assert_eq!(
            txt(r#"signed in {"email":"a@b.c","password":"pw 1\"x"} ok"#),
            r#"signed in {"email":"a@b.c","password":"REDACTED"} ok"#
        );
        assert_eq!(txt("retrying body password=pw2&user=a"), "retrying body password=REDACTED&user=a");
        assert_eq!(
            txt(r#"refresh failed: {"access_token": "t4", "refresh_token":"t5", "expires_in": 3600}"#),
            r#"refresh failed: {"access_token": "REDACTED", "refresh_token":"REDACTED", "expires_in": 3600}"#
        );
        assert_eq!(txt("config secret: s3cr3t, mode: fast"), "config secret: REDACTED, mode: fast");
        assert_eq!(txt("db.password='x y' next"), "db.password='REDACTED' next");
        assert_eq!(txt("Authorization: Basic Q0FOQVJZX0JBU0lDXzM6eA=="), "Authorization: Basic REDACTED");
        assert_eq!(
            redact_text("tenant_pin=9 sent", &["tenant_pin".to_string()]),
            "tenant_pin=9 sent",
            "`extra` is for URLs"
        );
        assert_eq!(redact_name("login password=pw", &[]), "login password=REDACTED");
        for kept in [
            "basic usage of the API",
            "code: 500, key=value, session: 3",
            "at 10:30 x=1",
            "password reset: sent",
            "token=",
            "https://h/x",
            "at refresh (https://app.test/authToken.js:12:5)",
            "GET api.token.test:8443 failed",
        ] {
            assert!(matches!(redact_text(kept, &[]), Cow::Borrowed(_)), "{kept}");
        }
    }

    #[test]
    fn secret_keys_in_the_forms_logs_take() {
        let leaks = |text: &str| {
            let out = txt(text);
            assert!(!out.contains("hunter2"), "{text:?} -> {out:?}");
        };
        for text in [
            // Spaces before the separator (pretty printers, INI, TOML), a JSON string holding JSON.
            r#"{"password" : "hunter2"}"#,
            "password = hunter2",
            "api_key = \"hunter2\"",
            r#"{"body":"{\"password\":\"hunter2\",\"user\":\"a\"}"}"#,
            // Dotted keys, quoted or before a value that is no line number.
            r#"{"db.password":"hunter2"}"#,
            "spring.datasource.password: hunter2",
            // Credential headers, whatever their scheme.
            "authorization: hunter2xyz",
            r#"{"authorization":"hunter2xyz"}"#,
            "Authorization: token hunter2",
            "Cookie: session=hunter2; theme=dark",
            // Names with `_` or `-` in them, private keys, a password's short names.
            "AWS_ACCESS_KEY_ID=hunter2",
            "PRIVATE_KEY=hunter2",
            r#"{"private_key": "hunter2"}"#,
            "DB_PASS=hunter2",
            "pwd=hunter2&user=a",
            "export CLIENT_SECRET=hunter2",
        ] {
            leaks(text);
        }
        assert_eq!(txt("Authorization: Basic dXNlcjpwYXNz"), "Authorization: Basic REDACTED", "the scheme stays");
        assert_eq!(txt(r#"{"body":"{\"token\":\"t\",\"n\":1}"}"#), r#"{"body":"{\"token\":\"REDACTED\",\"n\":1}"}"#);
        for kept in [
            // A language model's counts, an error's name, a host or path before a `:`.
            "usage: prompt_tokens: 12, completion_tokens: 30",
            r#"{"prompt_tokens":12,"total_tokens":42}"#,
            "max_tokens=256",
            "tokenizer: cl100k_base",
            "TokenExpiredError: jwt expired",
            "JsonWebTokenError: invalid signature",
            "GET http://token-service:8080/v1/x failed",
            "POST https://h/v1/tokens:revoke 403",
            "at f (/src/api/token:12:5)",
            "ui state: loading",
        ] {
            assert!(matches!(txt(kept), Cow::Borrowed(_)), "{kept:?} -> {:?}", txt(kept));
        }
        let attr = |k: &str, v: &str| redact_attribute(k, v, &[]);
        assert_eq!(attr("url.full", "http://token-service:8080/v1/x"), None);
        assert_eq!(attr("http.request.header.authorization", "hunter2").as_deref(), Some("REDACTED"));
        assert_eq!(attr("gen_ai.token.type", "input"), None);
        assert_eq!(attr("aws.secretsmanager.secret.arn", "arn:aws:secretsmanager:us-east-1:1:secret:x"), None);
    }

    #[test]
    fn a_secret_keys_attribute_value_is_masked_whole() {
        let attr = |k: &str, v: &str| redact_attribute(k, v, &[]);
        assert_eq!(attr("db.password", "hunter2").as_deref(), Some("REDACTED"));
        assert_eq!(attr("app.api_key", "k-1").as_deref(), Some("REDACTED"));
        assert_eq!(attr("x-auth-token", "t").as_deref(), Some("REDACTED"));
        assert_eq!(attr("tenant_pin", "9"), None);
        assert_eq!(redact_attribute("tenant_pin", "9", &["tenant_pin".to_string()]), None, "`extra` is for URLs");
        for (k, v) in [("session.id", "abc"), ("user.id", "u1"), ("db.password", ""), ("http.route", "/token")] {
            assert_eq!(attr(k, v), None, "{k}");
        }
    }

    #[test]
    fn a_password_with_a_raw_slash_question_mark_or_hash_is_masked_up_to_the_last_at() {
        assert_eq!(
            txt("connect postgres://app:pa/ss@db:5432/x failed"),
            "connect postgres://REDACTED:REDACTED@db:5432/x failed"
        );
        assert_eq!(txt("dsn='mysql://root:p?w#d@db/x'"), "dsn='mysql://REDACTED:REDACTED@db/x'");
        assert_eq!(txt("redis://:a/b@cache:6379"), "redis://:REDACTED@cache:6379", "a password without a user");
        assert_eq!(txt("ftp://u:1234@h/f"), "ftp://REDACTED:REDACTED@h/f", "digits alone are a password");
        assert_eq!(txt("amqp://u:p@ss/w@mq/vhost"), "amqp://REDACTED:REDACTED@mq/vhost", "an `@` in the password too");
        // An `@` in the query or fragment after the password's `@` is no part of the password.
        assert_eq!(txt("https://u:p@h/p?email=a@b.c"), "https://REDACTED:REDACTED@h/p?email=a@b.c");
        assert_eq!(txt("see https://u:p@h/#to=a@b.c"), "see https://REDACTED:REDACTED@h/#to=a@b.c");
        // Every URL of a list without spaces is looked at, those after a run without an `@` too.
        assert_eq!(
            txt("a,http://h/x,http://u:p@h/x,http://h2:80/y,https://v:q@h3"),
            "a,http://h/x,http://REDACTED:REDACTED@h/x,http://h2:80/y,https://REDACTED:REDACTED@h3"
        );
        // Without a user, digits after the `:` are a password, not a port.
        assert_eq!(txt("redis://:123/abc@cache:6379"), "redis://:REDACTED@cache:6379");
        assert_eq!(redact_name("connect postgres://app:pa#ss@db", &[]), "connect postgres://REDACTED:REDACTED@db");
        assert_eq!(
            redact_attribute("url.full", "postgres://app:pa/ss@db:5432/x", &[]).as_deref(),
            Some("postgres://REDACTED:REDACTED@db:5432/x")
        );
        assert_eq!(
            redact_attribute("db.connection_string", "postgres://app:pa?ss@db", &[]).as_deref(),
            Some("postgres://REDACTED:REDACTED@db")
        );
        // A port, then a path with an `@`; an `@` past whitespace or a quote; a `:` in a path.
        for kept in [
            "https://host:8080/a@b",
            "https://host:8080?to=a@b",
            "https://h/x y:z@w",
            "'https://h:1/x' u:v@w",
            "https://h/a:b/c@d",
        ] {
            assert!(matches!(redact_text(kept, &[]), Cow::Borrowed(_)), "{kept}: no password");
        }
    }

    #[test]
    fn attributes_are_redacted_by_key_and_content() {
        assert_eq!(
            redact_attribute("url.full", "https://x.io/?token=t", &[]).as_deref(),
            Some("https://x.io/?token=REDACTED")
        );
        assert_eq!(
            redact_attribute("url.previous", "https://x.io/a?session=s#access_token=t", &[]).as_deref(),
            Some("https://x.io/a?session=REDACTED#access_token=REDACTED"),
            "the URL a navigation left"
        );
        assert_eq!(
            redact_attribute("exception.message", "GET https://x.io/?token=t failed", &[]).as_deref(),
            Some("GET https://x.io/?token=REDACTED failed"),
            "a URL's secret parameters in any text"
        );
        assert_eq!(
            redact_attribute("note", "https://u:pw@x.io/", &[]).as_deref(),
            Some("https://REDACTED:REDACTED@x.io/"),
            "a password in a URL in any text"
        );
        assert_eq!(redact_attribute("note", "Bearer 0123456789abcdef", &[]).as_deref(), Some("Bearer REDACTED"));
    }
}
