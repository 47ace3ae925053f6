//! What LogQL's parser stages take out of a line (`| json`, `| logfmt`), and the conversions of
//! label text into numbers that numeric label filters and `| unwrap` use.

/// A label name made of what Loki allows (letters, digits, `_`), other characters as `_`, the
/// key's surrounding spaces left out (a key of spaces gives the empty name), as Loki does.
pub(crate) fn sanitize(key: &str) -> String {
    let mut name: String =
        key.trim().chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    name
}

/// `| json`: every scalar of the line's JSON object, nested keys joined with `_`, as Loki's
/// parser reads it: numbers as written, strings unescaped (the empty value when an escape does
/// not decode), keys sanitised as written, arrays and `null` values skipped (no label), text
/// after the object ignored, and what was read before an error kept. The error names what is
/// wrong.
pub(crate) fn json(line: &str, out: &mut Vec<(String, String)>) -> Result<(), String> {
    let mut reader = JsonReader { text: line, pos: 0, out, paths: None };
    reader.space();
    if reader.peek() != Some(b'{') {
        return Err(reader.error("the line is not a JSON object"));
    }
    reader.object(Some(""), 0)
}

/// [`json`], and beside each label (in `paths`, in the same order) the keys of the path to its
/// value as the line writes them (unescaped, not sanitised): Loki's `jsonPath` of a detected
/// field, which the label's name cannot give back (`_` joins keys and replaces characters).
pub(crate) fn json_with_paths(
    line: &str,
    out: &mut Vec<(String, String)>,
    paths: &mut Vec<Vec<String>>,
) -> Result<(), String> {
    let mut reader = JsonReader { text: line, pos: 0, out, paths: Some((Vec::new(), paths)) };
    reader.space();
    if reader.peek() != Some(b'{') {
        return Err(reader.error("the line is not a JSON object"));
    }
    reader.object(Some(""), 0)
}

/// Objects and arrays nested deeper are refused (serde_json's limit): the reader recurses.
const MAX_JSON_DEPTH: usize = 128;

struct JsonReader<'a, 'o> {
    text: &'a str,
    pos: usize,
    out: &'o mut Vec<(String, String)>,
    /// For [`json_with_paths`]: the keys down to the value being read, and each label's path.
    paths: Option<(Vec<String>, &'o mut Vec<Vec<String>>)>,
}

impl<'a> JsonReader<'a, '_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn error(&self, what: &str) -> String {
        format!("{what} at byte {}", self.pos)
    }

    /// The object at `{`: its scalars become labels under `prefix`, or nothing when `None`.
    fn object(&mut self, prefix: Option<&str>, depth: usize) -> Result<(), String> {
        if depth == MAX_JSON_DEPTH {
            return Err(self.error("JSON nested too deep"));
        }
        self.pos += 1;
        self.space();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.space();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a key"));
            }
            let (raw, _) = self.string()?;
            self.space();
            if self.peek() != Some(b':') {
                return Err(self.error("expected `:`"));
            }
            self.pos += 1;
            let name = prefix.map(|prefix| {
                let key = sanitize(raw);
                if prefix.is_empty() {
                    key
                } else {
                    format!("{prefix}_{key}")
                }
            });
            if let Some((keys, _)) = &mut self.paths {
                keys.push(if raw.contains('\\') { unquote(raw, true).unwrap_or_default() } else { raw.to_owned() });
            }
            self.value(name, depth)?;
            if let Some((keys, _)) = &mut self.paths {
                keys.pop();
            }
            self.space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    /// A value; a scalar becomes the label `name`, if any.
    fn value(&mut self, name: Option<String>, depth: usize) -> Result<(), String> {
        self.space();
        let text = match self.peek() {
            Some(b'{') => return self.object(name.as_deref(), depth + 1),
            Some(b'[') => return self.array(depth + 1),
            Some(b'"') => {
                let (raw, escaped) = self.string()?;
                let text = if escaped { unquote(raw, true).unwrap_or_default() } else { raw.to_owned() };
                // U+FFFD is rejected in label values; Loki writes a space for it.
                if text.contains('\u{fffd}') {
                    text.replace('\u{fffd}', " ")
                } else {
                    text
                }
            }
            Some(b'n') => return self.literal("null"),
            Some(b't') => self.literal("true").map(|()| "true".to_owned())?,
            Some(b'f') => self.literal("false").map(|()| "false".to_owned())?,
            Some(b'-' | b'0'..=b'9') => {
                // As written, up to the next delimiter, as Loki's parser takes it.
                let start = self.pos;
                while self.peek().is_some_and(|b| !matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')) {
                    self.pos += 1;
                }
                self.text.get(start..self.pos).ok_or_else(|| self.error("invalid number"))?.to_owned()
            }
            _ => return Err(self.error("expected a value")),
        };
        if let Some(name) = name {
            self.out.push((name, text));
            if let Some((keys, paths)) = &mut self.paths {
                paths.push(keys.clone());
            }
        }
        Ok(())
    }

    /// The value at `path` from here: its text (see [`json_values`]), `None` when there is no
    /// such path; an error when the JSON on the way is malformed.
    fn find(&mut self, path: &[PathStep], depth: usize) -> Result<Option<String>, String> {
        if depth == MAX_JSON_DEPTH {
            return Err(self.error("JSON nested too deep"));
        }
        self.space();
        let Some((step, rest)) = path.split_first() else {
            let start = self.pos;
            let first = self.peek();
            if first == Some(b'"') {
                let (raw, escaped) = self.string()?;
                let text = if escaped { unquote(raw, true).unwrap_or_default() } else { raw.to_owned() };
                return Ok(Some(text.replace('\u{fffd}', " ")));
            }
            self.value(None, depth)?;
            return Ok(Some(if first == Some(b'n') { String::new() } else { self.text[start..self.pos].to_owned() }));
        };
        let (open, close) = match (self.peek(), step) {
            (Some(b'{'), PathStep::Key(_)) => (b'{', b'}'),
            (Some(b'['), PathStep::Index(_)) => (b'[', b']'),
            _ => return Ok(None),
        };
        debug_assert_eq!(self.peek(), Some(open));
        self.pos += 1;
        self.space();
        if self.peek() == Some(close) {
            return Ok(None);
        }
        let mut index = 0;
        loop {
            self.space();
            let here = match step {
                PathStep::Key(wanted) => self.member_key()? == *wanted,
                PathStep::Index(wanted) => {
                    index += 1;
                    index - 1 == *wanted
                }
            };
            if here {
                return self.find(rest, depth + 1);
            }
            self.value(None, depth + 1)?;
            self.space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b) if b == close => return Ok(None),
                _ => return Err(self.error("expected `,` or the end of the object or array")),
            }
        }
    }

    /// The values of the paths `active` (indexes into `paths`, each `level` steps in) from the
    /// value here, in one reading: each path's text (see [`json_values`]) or `None` goes into
    /// `found`, as [`Self::find`] gives it for that path alone (the first of repeated keys; the
    /// JSON after a path's value is not its concern). Reading stops once no path is `left`; an
    /// error leaves the paths not found yet at `None`.
    fn find_all(
        &mut self,
        paths: &[&[PathStep]],
        active: &[usize],
        level: usize,
        found: &mut [Option<Option<String>>],
        left: &mut usize,
        depth: usize,
    ) -> Result<(), String> {
        if depth == MAX_JSON_DEPTH {
            return Err(self.error("JSON nested too deep"));
        }
        self.space();
        let start = self.pos;
        let (ending, going): (Vec<usize>, Vec<usize>) = active.iter().partition(|&&i| paths[i].len() == level);
        if !going.is_empty() {
            self.find_inside(paths, &going, level, found, left, depth)?;
            if ending.is_empty() || *left == 0 {
                return Ok(());
            }
            // A path that ends here takes the whole value, read again (`a` and `a.b` together).
            self.pos = start;
        }
        let value = self.find(&[], depth)?;
        for i in ending {
            found[i] = Some(value.clone());
            *left -= 1;
        }
        Ok(())
    }

    /// [`Self::find_all`] for paths going into the object or array here.
    fn find_inside(
        &mut self,
        paths: &[&[PathStep]],
        going: &[usize],
        level: usize,
        found: &mut [Option<Option<String>>],
        left: &mut usize,
        depth: usize,
    ) -> Result<(), String> {
        let close = match self.peek() {
            Some(b'{') => b'}',
            Some(b'[') => b']',
            _ => 0,
        };
        let fits =
            |i: &usize| matches!((close, &paths[*i][level]), (b'}', PathStep::Key(_)) | (b']', PathStep::Index(_)));
        // A path whose step does not fit the value here has no value.
        let none = |i: usize, found: &mut [Option<Option<String>>], left: &mut usize| {
            if found[i].is_none() {
                found[i] = Some(None);
                *left -= 1;
            }
        };
        for &i in going.iter().filter(|i| !fits(i)) {
            none(i, found, left);
        }
        let going: Vec<usize> = going.iter().copied().filter(fits).collect();
        if going.is_empty() {
            return if *left == 0 { Ok(()) } else { self.value(None, depth) };
        }
        self.pos += 1;
        self.space();
        if self.peek() == Some(close) {
            self.pos += 1;
            for &i in &going {
                none(i, found, left);
            }
            return Ok(());
        }
        let mut index = 0;
        loop {
            self.space();
            let here: Vec<usize> = if close == b'}' {
                let key = self.member_key()?;
                going
                    .iter()
                    .copied()
                    .filter(|&i| found[i].is_none() && matches!(&paths[i][level], PathStep::Key(k) if *k == key))
                    .collect()
            } else {
                index += 1;
                going
                    .iter()
                    .copied()
                    .filter(|&i| found[i].is_none() && matches!(paths[i][level], PathStep::Index(n) if n == index - 1))
                    .collect()
            };
            if here.is_empty() {
                self.value(None, depth + 1)?;
            } else {
                self.find_all(paths, &here, level + 1, found, left, depth + 1)?;
                if *left == 0 {
                    return Ok(());
                }
            }
            self.space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b) if b == close => {
                    self.pos += 1;
                    for &i in &going {
                        none(i, found, left);
                    }
                    return Ok(());
                }
                _ => return Err(self.error("expected `,` or the end of the object or array")),
            }
        }
    }

    /// The array at `[`, read to be skipped.
    fn array(&mut self, depth: usize) -> Result<(), String> {
        if depth == MAX_JSON_DEPTH {
            return Err(self.error("JSON nested too deep"));
        }
        self.pos += 1;
        self.space();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.value(None, depth)?;
            self.space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    fn literal(&mut self, word: &str) -> Result<(), String> {
        if !self.text[self.pos..].starts_with(word) {
            return Err(self.error("expected a value"));
        }
        self.pos += word.len();
        Ok(())
    }

    /// An object member's key and the `:` after it, the reader at its value.
    fn member_key(&mut self) -> Result<String, String> {
        if self.peek() != Some(b'"') {
            return Err(self.error("expected a key"));
        }
        let (raw, escaped) = self.string()?;
        let key = if escaped { unquote(raw, true).unwrap_or_default() } else { raw.to_owned() };
        self.space();
        if self.peek() != Some(b':') {
            return Err(self.error("expected `:`"));
        }
        self.pos += 1;
        Ok(key)
    }

    /// The string at `"`: its text between the quotes as written, and whether it has escapes.
    fn string(&mut self) -> Result<(&'a str, bool), String> {
        let text = self.text;
        let bytes = text.as_bytes();
        let start = self.pos + 1;
        let (mut i, mut escaped) = (start, false);
        loop {
            match bytes.get(i) {
                None => {
                    self.pos = i;
                    return Err(self.error("unterminated string"));
                }
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    i += 2;
                }
                // Control characters pass, as Loki's parser lets them.
                Some(_) => i += 1,
            }
        }
        self.pos = i + 1;
        // Both ends are quotes, ASCII: character boundaries.
        Ok((&text[start..i], escaped))
    }
}

/// One step of a `| json name="a.b[0]"` expression: a key of an object or an index of an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PathStep {
    Key(String),
    Index(usize),
}

/// Reads a JSON expression as Loki's `jsonexpr` does: keys joined by `.` (`response.status`),
/// indexes in brackets (`items[0]`) and keys in brackets and quotes (`["a key"]`).
pub(crate) fn json_path(text: &str) -> Result<Vec<PathStep>, String> {
    let fail = |what: &str| Err(format!("cannot parse expression [{text}]: {what}"));
    let mut steps = Vec::new();
    let mut rest = text;
    // Whether a key may start here: at the start, or after a `.`.
    let mut key_may_start = true;
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('[') {
            if let Some(quoted) = inner.strip_prefix('"') {
                let Some(end) = quoted.find("\"]") else {
                    return fail("expected `\"]` after a quoted key");
                };
                steps.push(PathStep::Key(quoted[..end].to_owned()));
                rest = &quoted[end + 2..];
            } else {
                let Some(end) = inner.find(']') else {
                    return fail("expected `]`");
                };
                let Ok(index) = inner[..end].trim().parse::<usize>() else {
                    return fail("expected an index or a quoted key in brackets");
                };
                steps.push(PathStep::Index(index));
                rest = &inner[end + 1..];
            }
            key_may_start = false;
        } else if let Some(after) = rest.strip_prefix('.') {
            if key_may_start || after.is_empty() {
                return fail("unexpected `.`");
            }
            rest = after;
            key_may_start = true;
        } else if key_may_start {
            let end = rest.find(['.', '[', ']', '"', ' ']).unwrap_or(rest.len());
            if end == 0 {
                return fail("expected a key");
            }
            steps.push(PathStep::Key(rest[..end].to_owned()));
            rest = &rest[end..];
            key_may_start = false;
        } else {
            return fail("expected `.` or `[` after a key");
        }
    }
    if steps.is_empty() {
        return fail("empty expression");
    }
    Ok(steps)
}

/// `| json name="path", …`: the value at each path of the line, as Loki's
/// `JSONExpressionParser` takes it: a string unescaped, `null` as the empty value, an object,
/// array, number or boolean as written; `None` where the line has no such path. An empty line
/// gives nothing; a line that does not start as JSON does (`{`, `[` or `"`), or that is
/// malformed on the way to a path, is an error (the values found are kept).
pub(crate) fn json_values(
    line: &str,
    paths: &[(String, Vec<PathStep>)],
    out: &mut Vec<(String, Option<String>)>,
) -> Result<(), String> {
    if line.is_empty() {
        return Ok(());
    }
    if !line.starts_with(['{', '[', '"']) {
        return Err("the line does not start as JSON does (`{`, `[` or `\"`)".into());
    }
    // Every path in one reading of the line.
    let mut sink = Vec::new();
    let mut reader = JsonReader { text: line, pos: 0, out: &mut sink, paths: None };
    #[cfg(test)]
    tests::LINE_READS.with(|n| n.set(n.get() + 1));
    let steps: Vec<&[PathStep]> = paths.iter().map(|(_, p)| p.as_slice()).collect();
    let mut found = vec![None; paths.len()];
    let mut left = paths.len();
    let all: Vec<usize> = (0..paths.len()).collect();
    let result = reader.find_all(&steps, &all, 0, &mut found, &mut left, 0);
    for ((name, _), value) in paths.iter().zip(found) {
        out.push((name.clone(), value.flatten()));
    }
    result
}

/// A line unpacked: the entry and the labels.
pub(crate) type Unpacked = (String, Vec<(String, String)>);

/// `| unpack`: the string values of the line's JSON object (as Promtail's `pack` stage wrote
/// them), as Loki's `UnpackParser` reads them: `_entry` is the new line and the others labels;
/// values of other types are skipped, and without `_entry` nothing changes (`None`). An empty
/// line is left as it is; one that is not a JSON object, or malformed, is an error.
pub(crate) fn unpack(line: &str) -> Result<Option<Unpacked>, String> {
    if line.is_empty() {
        return Ok(None);
    }
    if !line.starts_with('{') {
        return Err("expecting a JSON object, but the line is not one".into());
    }
    let mut sink = Vec::new();
    let mut reader = JsonReader { text: line, pos: 0, out: &mut sink, paths: None };
    let (mut entry, mut labels) = (None, Vec::new());
    reader.pos += 1;
    reader.space();
    if reader.peek() == Some(b'}') {
        return Ok(None);
    }
    loop {
        reader.space();
        let key = reader.member_key()?;
        reader.space();
        if reader.peek() == Some(b'"') {
            let (raw, escaped) = reader.string()?;
            if key == "_entry" {
                let text = if escaped { unquote(raw, true) } else { Some(raw.to_owned()) };
                entry = Some(text.ok_or_else(|| reader.error("invalid escape in _entry"))?);
            } else {
                let text = if escaped { unquote(raw, true).unwrap_or_default() } else { raw.to_owned() };
                labels.push((sanitize(&key), text.replace('\u{fffd}', " ")));
            }
        } else {
            reader.value(None, 1)?;
        }
        reader.space();
        match reader.peek() {
            Some(b',') => reader.pos += 1,
            Some(b'}') => break,
            _ => return Err(reader.error("expected `,` or `}`")),
        }
    }
    Ok(entry.map(|entry| (entry, labels)))
}

/// `| decolorize`: the line without its ANSI escape sequences, matched as Loki's `Decolorizer`
/// matches them (the expression of acarl005/stripansi, digits ASCII as in Go).
pub(crate) fn decolorize(line: &str) -> Option<String> {
    static ANSI: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let ansi = ANSI.get_or_init(|| {
        super::re2::compile(
            "[\\x{1b}\\x{9b}][\\[\\]()#;?]*(?:(?:(?:[a-zA-Z0-9]*(?:;[a-zA-Z0-9]*)*)?\\x{07})\
             |(?:(?:[0-9]{1,4}(?:;[0-9]{0,4})*)?[0-9A-PRZcf-ntqry=><~]))",
        )
        .expect("a valid expression")
    });
    match ansi.replace_all(line, "") {
        std::borrow::Cow::Owned(clean) => Some(clean),
        std::borrow::Cow::Borrowed(_) => None,
    }
}

/// `| logfmt`, as Loki's decoder reads a line: `key=value` pairs separated by spaces (any byte
/// up to ` `), values bare or double-quoted with JSON's escapes. A pair that does not read is
/// skipped (Loki's default) or, with `strict`, ends the parse with an error that names its
/// position, the pairs before it kept. A key alone, `key=` and `key=""` have the empty value,
/// which gives a label only with `keep_empty`.
pub(crate) fn logfmt(
    line: &str,
    strict: bool,
    keep_empty: bool,
    out: &mut Vec<(String, String)>,
) -> Result<(), String> {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] <= b' ' {
            i += 1;
            continue;
        }
        match logfmt_pair(line, &mut i) {
            Ok((key, value)) => {
                // U+FFFD is rejected in label values; Loki writes a space for it.
                let value = if value.contains('\u{fffd}') { value.replace('\u{fffd}', " ") } else { value };
                let name = sanitize(key);
                if !name.is_empty() && (keep_empty || !value.is_empty()) {
                    out.push((name, value));
                }
            }
            Err(details) if strict => return Err(details),
            Err(_) => {}
        }
    }
    Ok(())
}

/// The `key[=value]` pair at `*i` (not a space); `*i` ends past it, also when it does not read.
fn logfmt_pair<'a>(line: &'a str, i: &mut usize) -> Result<(&'a str, String), String> {
    let bytes = line.as_bytes();
    let error = |at: usize, message: &str| format!("logfmt syntax error at pos {} : {message}", at + 1);
    // After an error the rest of the token is skipped, as the decoder does.
    let fail = |i: &mut usize, message: &str| {
        let e = error(*i, message);
        while *i < bytes.len() && bytes[*i] > b' ' {
            *i += 1;
        }
        Err(e)
    };
    let start = *i;
    while *i < bytes.len() && bytes[*i] != b'=' && bytes[*i] > b' ' {
        if bytes[*i] == b'"' {
            return fail(i, "unexpected '\"'");
        }
        *i += 1;
    }
    // The key ends at an ASCII byte or the end: a character boundary.
    let key = &line[start..*i];
    if bytes.get(*i) != Some(&b'=') {
        return Ok((key, String::new()));
    }
    if key.is_empty() {
        return fail(i, "unexpected '='");
    }
    *i += 1;
    match bytes.get(*i) {
        None => Ok((key, String::new())),
        Some(&b) if b <= b' ' => Ok((key, String::new())),
        Some(b'"') => {
            let open = *i;
            let (mut escaped, mut escape) = (false, false);
            *i += 1;
            while *i < bytes.len() {
                match bytes[*i] {
                    _ if escape => escape = false,
                    b'\\' => (escaped, escape) = (true, true),
                    b'"' => {
                        *i += 1;
                        let inner = &line[open + 1..*i - 1];
                        if !escaped {
                            return Ok((key, inner.to_owned()));
                        }
                        return unquote(inner, false)
                            .map(|v| (key, v))
                            .ok_or_else(|| error(*i, "invalid quoted value"));
                    }
                    _ => {}
                }
                *i += 1;
            }
            Err(error(*i, "unterminated quoted value"))
        }
        Some(_) => {
            let start = *i;
            while *i < bytes.len() && bytes[*i] > b' ' {
                if matches!(bytes[*i], b'=' | b'"') {
                    let message = format!("unexpected '{}'", bytes[*i] as char);
                    return fail(i, &message);
                }
                *i += 1;
            }
            Ok((key, line[start..*i].to_owned()))
        }
    }
}

/// The text of a quoted value with escapes, as go-logfmt (after encoding/json) reads it:
/// `\"`, `\\`, `\/`, `\'`, `\b`, `\f`, `\n`, `\r`, `\t` and `\uXXXX` (a surrogate pair is one
/// character, a lone surrogate U+FFFD); `None` for another escape or a control character.
/// For `json`, as Loki's JSON parser reads a string: without `\'`, with control characters,
/// and `None` for a surrogate that is not half of a pair.
fn unquote(text: &str, json: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut value = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                match bytes.get(i + 1)? {
                    b'n' => value.push('\n'),
                    b't' => value.push('\t'),
                    b'r' => value.push('\r'),
                    b'b' => value.push('\u{8}'),
                    b'f' => value.push('\u{c}'),
                    &c @ (b'"' | b'\\' | b'/') => value.push(c as char),
                    b'\'' if !json => value.push('\''),
                    b'u' => {
                        let unit = |at: usize| {
                            let hex = text.get(at..at + 4).filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
                            hex.and_then(|h| u16::from_str_radix(h, 16).ok())
                        };
                        let first = unit(i + 2)?;
                        i += 6;
                        let second = text[i..].starts_with("\\u").then(|| unit(i + 2)).flatten();
                        match char::decode_utf16(std::iter::once(first).chain(second)).next() {
                            Some(Ok(c)) if second.is_some() && c.len_utf16() == 2 => {
                                value.push(c);
                                i += 6;
                            }
                            Some(Ok(c)) => value.push(c),
                            _ if json => return None,
                            _ => value.push(char::REPLACEMENT_CHARACTER),
                        }
                        continue;
                    }
                    _ => return None,
                }
                i += 2;
            }
            b if b < b' ' && !json => return None,
            _ => {
                // Whole UTF-8 characters: `\` never occurs inside one.
                let len = text[i..].chars().next().map_or(1, char::len_utf8);
                value.push_str(&text[i..i + len]);
                i += len;
            }
        }
    }
    Some(value)
}

/// A Go duration (`1.5s`, `300ms`, `1h2m`, `-2us`) in seconds.
pub(crate) fn duration_seconds(text: &str) -> Option<f64> {
    crate::jaeger::parse_go_duration(text).ok().map(|ns| ns as f64 / 1e9)
}

/// A size with an optional unit, as Loki's `bytes(…)` reads it: `512`, `1.5KB` (×1000),
/// `10MiB` (×1024²), `2 GB`, units in any case. In bytes.
pub(crate) fn bytes(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "tb" | "t" => 1e12,
        "pb" | "p" => 1e15,
        "eb" | "e" => 1e18,
        "kib" | "ki" => 1024.0,
        "mib" | "mi" => 1024f64.powi(2),
        "gib" | "gi" => 1024f64.powi(3),
        "tib" | "ti" => 1024f64.powi(4),
        "pib" | "pi" => 1024f64.powi(5),
        "eib" | "ei" => 1024f64.powi(6),
        _ => return None,
    };
    Some(number * factor)
}

/// A plain number (`200`, `-0.5`, `1e3`, `NaN` refused).
pub(crate) fn number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// `| regexp`: the named groups of the regular expression's first match in the line, as Loki's
/// regexp parser takes them: names sanitised as JSON keys are, a group that takes no part as the
/// empty value, nothing when the line does not match.
pub(crate) fn regexp(regex: &regex::Regex, line: &str, out: &mut Vec<(String, String)>) {
    let Some(found) = regex.captures(line) else {
        return;
    };
    for (i, name) in regex.capture_names().enumerate() {
        let Some(name) = name.map(sanitize).filter(|n| !n.is_empty()) else {
            continue;
        };
        out.push((name, found.get(i).map_or("", |m| m.as_str()).to_owned()));
    }
}

/// The name of the capture `<name>` at the start of `rest`, if one is there.
fn capture_name(rest: &str) -> Option<&str> {
    let inner = rest.strip_prefix('<')?;
    let n = inner.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
    let starts_well = inner.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
    (n > 0 && starts_well && inner[n..].starts_with('>')).then(|| &inner[..n])
}

/// A `| pattern` expression as Loki's pattern parser reads it: literal text and captures,
/// `<name>` (a letter or `_`, then letters, digits and `_`) or `<_>` for text to skip.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    /// Literals and captures (`None`: `<_>`), never two captures in a row.
    nodes: Vec<PatternNode>,
}

#[derive(Debug, Clone)]
enum PatternNode {
    Literal(String),
    Capture(Option<String>),
}

impl Pattern {
    /// Reads a pattern; the error says what is wrong with it.
    pub(crate) fn new(text: &str) -> Result<Pattern, String> {
        let mut nodes = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        let capture = |rest: &str| capture_name(rest).map(str::len);
        while let Some(c) = rest.chars().next() {
            if let Some(n) = capture(rest) {
                if !literal.is_empty() {
                    nodes.push(PatternNode::Literal(std::mem::take(&mut literal)));
                }
                let name = &rest[1..1 + n];
                nodes.push(PatternNode::Capture((name != "_").then(|| name.to_owned())));
                rest = &rest[n + 2..];
            } else {
                literal.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        if !literal.is_empty() {
            nodes.push(PatternNode::Literal(literal));
        }
        let names: Vec<&str> = nodes
            .iter()
            .filter_map(|n| match n {
                PatternNode::Capture(Some(name)) => Some(name.as_str()),
                _ => None,
            })
            .collect();
        if names.is_empty() {
            return Err("a pattern needs at least one capture, such as <name>".into());
        }
        if nodes.windows(2).any(|w| matches!(w, [PatternNode::Capture(_), PatternNode::Capture(_)])) {
            return Err("a pattern may not have consecutive captures: put text between them".into());
        }
        if let Some(twice) = names.iter().enumerate().find(|(i, n)| names[..*i].contains(n)).map(|(_, n)| n) {
            return Err(format!("a pattern may not name the capture `{twice}` twice"));
        }
        Ok(Pattern { nodes })
    }

    /// Reads the pattern of a `|>` or `!>` line filter, as Loki's `pattern.ParseLineFilter` does:
    /// only `<_>` captures, never two in a row, and none at all is allowed (the line must then
    /// equal the text).
    pub(crate) fn line_filter(text: &str) -> Result<Pattern, String> {
        let mut nodes = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if let Some(name) = capture_name(rest) {
                if name != "_" {
                    return Err(format!("a pattern line filter takes only <_>, not the named capture <{name}>"));
                }
                if !literal.is_empty() {
                    nodes.push(PatternNode::Literal(std::mem::take(&mut literal)));
                } else if matches!(nodes.last(), Some(PatternNode::Capture(_))) {
                    return Err("a pattern may not have consecutive captures: put text between them".into());
                }
                nodes.push(PatternNode::Capture(None));
                rest = &rest[name.len() + 2..];
            } else {
                literal.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        if !literal.is_empty() {
            nodes.push(PatternNode::Literal(literal));
        }
        Ok(Pattern { nodes })
    }

    /// Whether `line` passes a pattern line filter, as Loki's `Matcher.Test` decides: each
    /// literal is found, in order, after the previous one, with text between them (an empty
    /// `<_>` does not match), and the line ends where the pattern does: on its last literal, or
    /// with some text for a last `<_>`. Loki looks for the first literal anywhere in the line,
    /// even when no `<_>` comes before it. An empty line matches only an empty pattern.
    pub(crate) fn test(&self, line: &str) -> bool {
        if line.is_empty() || self.nodes.is_empty() {
            return line.is_empty() && self.nodes.is_empty();
        }
        let mut off = 0;
        for (i, node) in self.nodes.iter().enumerate() {
            let PatternNode::Literal(literal) = node else {
                continue;
            };
            let Some(j) = line[off..].find(literal.as_str()) else {
                return false;
            };
            if i != 0 && j == 0 {
                return false;
            }
            off += j + literal.len();
        }
        let ends_on_capture = matches!(self.nodes.last(), Some(PatternNode::Capture(_)));
        ends_on_capture == (off != line.len())
    }

    /// The captures of `line`, as Loki matches a pattern: a leading literal must start the line,
    /// each capture runs to the first occurrence of the literal after it, and the last capture
    /// (or one whose literal is missing) takes the rest of the line.
    pub(crate) fn extract(&self, line: &str, out: &mut Vec<(String, String)>) {
        let mut nodes = &self.nodes[..];
        let mut rest = line;
        if line.is_empty() {
            return;
        }
        if let Some(PatternNode::Literal(first)) = nodes.first() {
            if !rest.starts_with(first.as_str()) {
                return;
            }
            rest = &rest[first.len()..];
            nodes = &nodes[1..];
        }
        while let [PatternNode::Capture(name), after @ ..] = nodes {
            let end = match after.first() {
                Some(PatternNode::Literal(literal)) => rest.find(literal.as_str()).map(|i| (i, literal.len())),
                _ => None,
            };
            let value = end.map_or(rest, |(i, _)| &rest[..i]);
            if let Some(name) = name {
                out.push((name.clone(), value.to_owned()));
            }
            let Some((i, len)) = end else {
                return;
            };
            rest = &rest[i + len..];
            nodes = &after[1..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        /// How many times [`json_values`] has read a line on this thread.
        pub(super) static LINE_READS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    /// What [`json_values`] gave before it read every path at once: each path read alone.
    fn json_values_one_by_one(
        line: &str,
        paths: &[(String, Vec<PathStep>)],
    ) -> (Vec<(String, Option<String>)>, Option<String>) {
        let mut out = Vec::new();
        let mut error = None;
        for (name, path) in paths {
            let mut sink = Vec::new();
            match (JsonReader { text: line, pos: 0, out: &mut sink, paths: None }).find(path, 0) {
                Ok(found) => out.push((name.clone(), found)),
                Err(e) => {
                    error.get_or_insert(e);
                    out.push((name.clone(), None));
                }
            }
        }
        (out, error)
    }

    #[test]
    fn json_with_several_paths_reads_the_line_once_and_finds_what_each_path_alone_finds() {
        let paths = |names: &[&str]| -> Vec<(String, Vec<PathStep>)> {
            names.iter().map(|n| (n.replace(['.', '[', ']', '"'], "_"), json_path(n).unwrap())).collect()
        };
        let three = paths(&["a", "b.c", "d[1]"]);
        let before = LINE_READS.with(|n| n.get());
        let mut out = Vec::new();
        json_values(r#"{"a":1,"b":{"c":"x"},"d":[true,"y"]}"#, &three, &mut out).unwrap();
        assert_eq!(LINE_READS.with(|n| n.get()) - before, 1, "one reading for three paths");
        assert_eq!(
            out,
            [("a".into(), Some("1".into())), ("b_c".into(), Some("x".into())), ("d_1_".into(), Some("y".into()))]
        );

        let many = paths(&[
            "a",
            "a.b",
            "a.b.c",
            "b",
            "x[0]",
            "x[2].k",
            "x[9]",
            "a.z",
            "dup",
            "n",
            "s",
            "[\"sp ace\"]",
            "a.b[0]",
            "q.r",
        ]);
        for line in [
            r#"{"a":{"b":{"c":[1,2]},"z":null},"b":"two","x":[0,{"k":1},{"k":"v"}],"dup":1,"dup":2,"n":-1.5e3,"s":"\u00e9\"","sp ace":7}"#,
            r#"{"dup":{"x":1},"a":[1],"b":{},"x":{"0":1},"q":{"r":[]}}"#,
            r#"{ "a" : { "b" : "c" } , "x" : [ 1 , 2 , { "k" : [ ] } ] } "#,
            r#"{"a":{"b":{"c":3}},"b":1,"x":[1,2,"#,
            r#"{"a":1,"b":2 "x":[1]}"#,
            r#"{"a":{"b":{"c":3}, "bad" 1},"b":1}"#,
            r#"{"b":1,"a":{"b":"open}"#,
            r#"["a",{"a":1}]"#,
            r#""a string""#,
            r#"{}"#,
            r#"{"x":[{"k":1},{"k":2},{"k":3}],"a":{"b":[9]}}"#,
        ] {
            let mut out = Vec::new();
            let error = json_values(line, &many, &mut out).err();
            assert_eq!((out, error), json_values_one_by_one(line, &many), "{line}");
        }
    }

    fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
        v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    #[test]
    fn json_flattens_nested_objects_and_skips_arrays_and_nulls() {
        let mut out = Vec::new();
        json(
            r#"{"status":500,"ok":false,"req":{"http.method":"GET","path":"/a"},"tags":["x"],"gone":null,"1st":"y"}"#,
            &mut out,
        )
        .unwrap();
        assert_eq!(
            pairs(&out),
            // In the line's order.
            [("status", "500"), ("ok", "false"), ("req_http_method", "GET"), ("req_path", "/a"), ("_1st", "y")]
        );
        assert!(json("not json", &mut out).is_err());
        assert!(json("[1,2]", &mut out).unwrap_err().contains("not a JSON object"));
    }

    #[test]
    fn json_values_are_read_as_lokis_parser_reads_them() {
        let mut out = Vec::new();
        // Numbers as written; a key's escapes are not decoded before sanitising (Loki sanitises
        // the raw key); a string with an escape that does not decode gives the empty value.
        let line = r#"{"n":1e3,"f":1.50,"big":123456789012345678901234567890,"z":-0,"k\u00e9y":"v\u00e9","bad":"\x","w":"\ud83d\ude00"} trailing"#;
        json(line, &mut out).unwrap();
        assert_eq!(
            pairs(&out),
            [
                ("n", "1e3"),
                ("f", "1.50"),
                ("big", "123456789012345678901234567890"),
                ("z", "-0"),
                ("k_u00e9y", "vé"),
                ("bad", ""),
                ("w", "😀"),
            ]
        );
        // What was read before an error stays.
        let mut out = Vec::new();
        assert!(json(r#"{"a":1,"b":{"c":"x"},"d":"#, &mut out).is_err());
        assert_eq!(pairs(&out), [("a", "1"), ("b_c", "x")]);
        // Control characters pass; `\'` and a lone surrogate are not JSON escapes.
        let mut out = Vec::new();
        json("{\"a\":\"x\u{1}\ty\",\"b\":\"\\'\",\"c\":\"\\ud83d\"}", &mut out).unwrap();
        assert_eq!(pairs(&out), [("a", "x\u{1}\ty"), ("b", ""), ("c", "")]);
        for bad in ["", "plain", "[1]", r#"{"a" 1}"#, r#"{"a":"open}"#, r#"{"a":tru}"#] {
            assert!(json(bad, &mut Vec::new()).is_err(), "{bad}");
        }
        // Nesting deeper than serde_json's limit is refused without exhausting the stack.
        let deep = format!("{}1{}", r#"{"a":["#.repeat(100_000), "]}".repeat(100_000));
        let outcome = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || json(&deep, &mut Vec::new()).is_err())
            .unwrap()
            .join();
        assert!(outcome.expect("no stack overflow"));
    }

    #[test]
    fn json_keys_are_trimmed_and_a_blank_one_adds_nothing_to_the_name() {
        // Loki trims a key's spaces before sanitising it, and a key that is only spaces joins
        // nothing to the names below it.
        let mut out = Vec::new();
        json(r#"{" a ":1," ":{"foo":"bar"},"x":{" y ":2}}"#, &mut out).unwrap();
        assert_eq!(pairs(&out), [("a", "1"), ("foo", "bar"), ("x_y", "2")]);
    }

    #[test]
    fn logfmt_reads_bare_and_quoted_values_and_skips_what_does_not_read() {
        // Loki's `| logfmt` goes on past a pair that does not read (a quote in a key, `=` or a
        // quote in a bare value, an unterminated quote), and gives no label for empty values.
        let mut out = Vec::new();
        let line = r#"level=warn "q"=x path=/a=b x=a"b flag empty= blank="" msg="slow \"query\" é" took=1.5s 1st=y"#;
        logfmt(line, false, false, &mut out).unwrap();
        assert_eq!(pairs(&out), [("level", "warn"), ("msg", "slow \"query\" é"), ("took", "1.5s"), ("_1st", "y")]);
        let mut out = Vec::new();
        logfmt(r#"flag empty= blank="" a=1 msg="open b=2"#, false, true, &mut out).unwrap();
        assert_eq!(pairs(&out), [("flag", ""), ("empty", ""), ("blank", ""), ("a", "1")]);
        // `--strict` stops at the first error, which names its position; pairs before it stay.
        let mut out = Vec::new();
        let e = logfmt("level=warn path=/a=b took=1s", true, false, &mut out).unwrap_err();
        assert_eq!(e, "logfmt syntax error at pos 19 : unexpected '='");
        assert_eq!(pairs(&out), [("level", "warn")]);
        let e = logfmt(r#"a=1 msg="open"#, true, false, &mut Vec::new()).unwrap_err();
        assert_eq!(e, "logfmt syntax error at pos 14 : unterminated quoted value");
        assert!(logfmt("=x", true, false, &mut Vec::new()).unwrap_err().contains("unexpected '='"));
        assert!(logfmt(r#"a"b=1"#, true, false, &mut Vec::new()).unwrap_err().contains(r#"unexpected '"'"#));
    }

    #[test]
    fn logfmt_reads_the_escapes_of_go_logfmt_quoted_values() {
        // go-logfmt writes control characters as `\u00XX`; its decoder (and Loki's) reads JSON's
        // escapes, `\/`, `\b`, `\f` and surrogate pairs too.
        let mut out = Vec::new();
        logfmt(r#"msg="\u001b[31mred\u001b[0m a\/b \b\f \u00e9 \ud83d\ude00 \ud83d!""#, true, false, &mut out).unwrap();
        assert_eq!(pairs(&out), [("msg", "\u{1b}[31mred\u{1b}[0m a/b \u{8}\u{c} é 😀  !")], "U+FFFD becomes a space");
        for bad in [r#"msg="\x41""#, r#"msg="\u12""#, "msg=\"\\n\u{1}\""] {
            let e = logfmt(bad, true, false, &mut Vec::new()).unwrap_err();
            assert!(e.contains("invalid quoted value"), "{bad}: {e}");
        }
    }

    /// Lines stitched from what logfmt and JSON are made of: the parsers never panic, and
    /// Loki's default logfmt never fails a line.
    #[test]
    fn stitched_lines_never_panic_and_default_logfmt_never_fails() {
        const PIECES: &[&str] =
            &["a", "=", "\"", "\\", "u", "d83d", "00e9", " ", "\t", "é", "😀", "{", "}", ":", ",", "[", "1", "null"];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let n = next() % 16;
            let line: String = (0..n).map(|_| PIECES[(next() % PIECES.len() as u64) as usize]).collect();
            let mut out = Vec::new();
            assert!(logfmt(&line, false, next() % 2 == 0, &mut out).is_ok(), "{line}");
            let _ = logfmt(&line, true, false, &mut Vec::new());
            let _ = json(&line, &mut Vec::new());
        }
    }

    #[test]
    fn sizes_durations_and_numbers_convert() {
        assert_eq!(bytes("512"), Some(512.0));
        assert_eq!(bytes("1.5KB"), Some(1500.0));
        assert_eq!(bytes("2 MiB"), Some(2.0 * 1024.0 * 1024.0));
        assert_eq!(bytes("3gb"), Some(3e9));
        assert_eq!(bytes("3 parsecs"), None);
        // go-humanize's units (Loki's bytes conversion) go up to exabytes.
        assert_eq!(bytes("2EB"), Some(2e18));
        assert_eq!(bytes("1 EiB"), Some(1024f64.powi(6)));
        assert_eq!(bytes("1e"), Some(1e18));
        assert_eq!(duration_seconds("1.5s"), Some(1.5));
        assert_eq!(duration_seconds("250ms"), Some(0.25));
        assert_eq!(duration_seconds("fast"), None);
        assert_eq!(number(" 42 "), Some(42.0));
        assert_eq!(number("NaN"), None);
    }
}
