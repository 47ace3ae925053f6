//! The LogQL subset that the Loki-shaped query API understands: a stream selector with label
//! matchers, then any number of line filters and label filters.
//!
//! ```text
//! {service_name="checkout", level=~"warn|error"} |= "timeout" != "retry" |~ `id=\d+` | trace_id="4bf9…"
//! ```
//!
//! Matchers and label filters use `=`, `!=`, `=~` and `!~`; regular expressions in them match
//! the whole value, as in Loki. Line filters are `|=` (contains), `!=` (does not contain), `|~`
//! (a regular expression matches somewhere in the line) and `!~`. Strings are double-quoted
//! with Go escapes or back-quoted raw. A label that a record does not have has the empty value.
//! Parsers (`| json`, `| logfmt`), formatting stages and metric queries are refused with an error
//! that says so, rather than being half understood.

use std::fmt;

use regex::Regex;

/// A parsed log query.
#[derive(Debug, Clone)]
pub(crate) struct LogQl {
    /// The stream selector's matchers, all of which must hold.
    pub(crate) selector: Vec<Matcher>,
    /// Filters after the selector, applied in order.
    pub(crate) stages: Vec<Stage>,
}

/// `name op "value"`.
#[derive(Debug, Clone)]
pub(crate) struct Matcher {
    pub(crate) name: String,
    pub(crate) op: MatchOp,
    pub(crate) value: String,
    /// For `=~` and `!~`: the value anchored at both ends.
    regex: Option<Regex>,
}

/// How a matcher compares a label's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MatchOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `=~`
    Re,
    /// `!~`
    NotRe,
}

/// One stage of the pipeline.
#[derive(Debug, Clone)]
pub(crate) enum Stage {
    /// A line filter.
    Line(LineFilter),
    /// `| name op "value"` on a label or structured metadata.
    Label(Matcher),
}

/// `|= "text"`, `!= "text"`, `|~ "re"` or `!~ "re"`.
#[derive(Debug, Clone)]
pub(crate) struct LineFilter {
    pub(crate) op: LineOp,
    pub(crate) needle: String,
    regex: Option<Regex>,
}

/// How a line filter tests a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineOp {
    /// `|=`
    Contains,
    /// `!=`
    NotContains,
    /// `|~`
    Matches,
    /// `!~`
    NotMatches,
}

/// Why a query could not be read; shown as Loki shows parse errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    /// 1-based column of the offending character.
    pub(crate) col: usize,
    pub(crate) message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "parse error at line 1, col {}: {}", self.col, self.message)
    }
}

impl std::error::Error for ParseError {}

impl Matcher {
    fn new(name: String, op: MatchOp, value: String, col: usize) -> Result<Matcher, ParseError> {
        let regex = match op {
            MatchOp::Re | MatchOp::NotRe => Some(Regex::new(&format!("^(?:{value})$")).map_err(|e| ParseError {
                col,
                message: format!("invalid regular expression `{value}`: {}", first_line(&e.to_string())),
            })?),
            MatchOp::Eq | MatchOp::Ne => None,
        };
        Ok(Matcher { name, op, value, regex })
    }

    /// Whether `value` (empty for a missing label) satisfies the matcher.
    pub(crate) fn matches(&self, value: &str) -> bool {
        match self.op {
            MatchOp::Eq => value == self.value,
            MatchOp::Ne => value != self.value,
            MatchOp::Re => self.regex.as_ref().is_some_and(|r| r.is_match(value)),
            MatchOp::NotRe => !self.regex.as_ref().is_some_and(|r| r.is_match(value)),
        }
    }
}

impl LineFilter {
    /// Whether `line` passes the filter.
    pub(crate) fn matches(&self, line: &str) -> bool {
        match self.op {
            LineOp::Contains => line.contains(&self.needle),
            LineOp::NotContains => !line.contains(&self.needle),
            LineOp::Matches => self.regex.as_ref().is_some_and(|r| r.is_match(line)),
            LineOp::NotMatches => !self.regex.as_ref().is_some_and(|r| r.is_match(line)),
        }
    }
}

impl LogQl {
    /// Whether a record passes the selector and every stage. `label` looks a name up among the
    /// record's labels and structured metadata (`None` when it has none of that name).
    pub(crate) fn matches<'a>(&self, line: &str, label: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.selector.iter().all(|m| m.matches(label(&m.name).unwrap_or("")))
            && self.stages.iter().all(|stage| match stage {
                Stage::Line(filter) => filter.matches(line),
                Stage::Label(m) => m.matches(label(&m.name).unwrap_or("")),
            })
    }

    /// Values that label `name` must equal, from `=` matchers in the selector and label filters.
    pub(crate) fn required<'q>(&'q self, name: &'q str) -> impl Iterator<Item = &'q str> + 'q {
        let stages = self.stages.iter().filter_map(|s| match s {
            Stage::Label(m) => Some(m),
            Stage::Line(_) => None,
        });
        self.selector
            .iter()
            .chain(stages)
            .filter(move |m| m.name == name && m.op == MatchOp::Eq)
            .map(|m| m.value.as_str())
    }

    /// Texts that every matching line contains.
    pub(crate) fn contained(&self) -> impl Iterator<Item = &str> {
        self.stages.iter().filter_map(|s| match s {
            Stage::Line(LineFilter { op: LineOp::Contains, needle, .. }) => Some(needle.as_str()),
            _ => None,
        })
    }

    /// Whether any part of the query looks at a label other than those in `names`.
    pub(crate) fn uses_labels_outside(&self, names: &[&str]) -> bool {
        let outside = |m: &Matcher| !names.contains(&m.name.as_str());
        self.selector.iter().any(outside) || self.stages.iter().any(|s| matches!(s, Stage::Label(m) if outside(m)))
    }
}

fn first_line(s: &str) -> &str {
    s.lines().find(|l| !l.trim().is_empty()).unwrap_or(s).trim()
}

/// Reads a LogQL log query.
pub(crate) fn parse(query: &str) -> Result<LogQl, ParseError> {
    let mut p = Parser { text: query, pos: 0 };
    p.skip_space();
    if p.peek() != Some('{') {
        let message = if p.ident_here().is_some() {
            "metric queries and functions are not supported: write a log query that starts with a stream \
             selector, such as {service_name=\"checkout\"}"
        } else {
            "a log query starts with a stream selector, such as {service_name=\"checkout\"}"
        };
        return Err(p.error(message));
    }
    let selector = p.selector()?;
    let mut stages = Vec::new();
    loop {
        p.skip_space();
        let op = if p.eat("|=") {
            LineOp::Contains
        } else if p.eat("!=") {
            LineOp::NotContains
        } else if p.eat("|~") {
            LineOp::Matches
        } else if p.eat("!~") {
            LineOp::NotMatches
        } else if p.eat("|") {
            stages.push(Stage::Label(p.label_filter()?));
            continue;
        } else if p.peek().is_none() {
            break;
        } else {
            return Err(p.error("expected a line filter (|=, !=, |~, !~) or a label filter (| name=\"value\")"));
        };
        p.skip_space();
        let scol = p.pos;
        let needle = p.string()?;
        let regex = match op {
            LineOp::Matches | LineOp::NotMatches => Some(Regex::new(&needle).map_err(|e| ParseError {
                col: scol + 1,
                message: format!("invalid regular expression `{needle}`: {}", first_line(&e.to_string())),
            })?),
            _ => None,
        };
        stages.push(Stage::Line(LineFilter { op, needle, regex }));
    }
    if !selector.iter().any(|m| matches!(m.op, MatchOp::Eq | MatchOp::Re) && !m.matches("")) {
        return Err(ParseError {
            col: 1,
            message: "queries need at least one matcher with `=` or `=~` that an empty value does not satisfy: \
                      {service_name=~\".*\"} does not, {service_name=~\".+\"} does"
                .into(),
        });
    }
    Ok(LogQl { selector, stages })
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError { col: self.text[..self.pos].chars().count() + 1, message: message.into() }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += self.peek().map_or(0, char::len_utf8);
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.text[self.pos..].starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    /// The identifier starting here, without consuming it.
    fn ident_here(&self) -> Option<&str> {
        let rest = &self.text[self.pos..];
        let first = rest.chars().next()?;
        if !(first.is_ascii_alphabetic() || first == '_') {
            return None;
        }
        let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
        Some(&rest[..end])
    }

    fn ident(&mut self) -> Result<String, ParseError> {
        let ident = self.ident_here().ok_or_else(|| self.error("expected a label name"))?.to_owned();
        self.pos += ident.len();
        Ok(ident)
    }

    fn match_op(&mut self) -> Result<MatchOp, ParseError> {
        // Two-character operators first, so that `!=` is not read as `!` then `=`.
        for (token, op) in [("=~", MatchOp::Re), ("!~", MatchOp::NotRe), ("!=", MatchOp::Ne), ("=", MatchOp::Eq)] {
            if self.eat(token) {
                return Ok(op);
            }
        }
        Err(self.error("expected one of =, !=, =~, !~"))
    }

    fn matcher(&mut self) -> Result<Matcher, ParseError> {
        self.skip_space();
        let name = self.ident()?;
        self.skip_space();
        let op = self.match_op()?;
        self.skip_space();
        let col = self.pos + 1;
        let value = self.string()?;
        Matcher::new(name, op, value, col)
    }

    fn selector(&mut self) -> Result<Vec<Matcher>, ParseError> {
        self.eat("{");
        let mut matchers = Vec::new();
        loop {
            self.skip_space();
            if self.eat("}") {
                return Ok(matchers);
            }
            if !matchers.is_empty() && !self.eat(",") {
                return Err(self.error("expected `,` or `}` in the stream selector"));
            }
            self.skip_space();
            if matchers.is_empty() || self.peek() != Some('}') {
                matchers.push(self.matcher()?);
            }
        }
    }

    fn label_filter(&mut self) -> Result<Matcher, ParseError> {
        self.skip_space();
        if let Some(word) = self.ident_here() {
            let rest = self.text[self.pos + word.len()..].trim_start();
            if !rest.starts_with(['=', '!']) {
                return Err(self.error(format!(
                    "the `{word}` stage is not supported: after the selector, use line filters (|=, !=, |~, !~) \
                     and label filters (| name=\"value\")"
                )));
            }
        }
        self.matcher()
    }

    /// A double-quoted string with Go escapes, or a back-quoted raw string.
    fn string(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        match self.peek() {
            Some('`') => {
                let rest = &self.text[self.pos + 1..];
                let end = rest.find('`').ok_or_else(|| self.error("unterminated raw string"))?;
                self.pos += end + 2;
                Ok(rest[..end].to_owned())
            }
            Some('"') => {
                self.pos += 1;
                let mut out = String::new();
                let mut chars = self.text[self.pos..].char_indices();
                while let Some((i, c)) = chars.next() {
                    match c {
                        '"' => {
                            self.pos += i + 1;
                            return Ok(out);
                        }
                        '\\' => match chars.next().map(|(_, c)| c) {
                            Some('n') => out.push('\n'),
                            Some('t') => out.push('\t'),
                            Some('r') => out.push('\r'),
                            Some('\\') => out.push('\\'),
                            Some('"') => out.push('"'),
                            Some('\'') => out.push('\''),
                            Some('u') => {
                                let hex: String = chars.by_ref().take(4).map(|(_, c)| c).collect();
                                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                                    Some(c) if hex.len() == 4 => out.push(c),
                                    _ => {
                                        self.pos = start;
                                        return Err(self.error(format!("invalid escape \\u{hex} in string")));
                                    }
                                }
                            }
                            other => {
                                self.pos = start;
                                let shown = other.map(String::from).unwrap_or_default();
                                return Err(self.error(format!("invalid escape \\{shown} in string")));
                            }
                        },
                        c => out.push(c),
                    }
                }
                self.pos = start;
                Err(self.error("unterminated string"))
            }
            _ => Err(self.error("expected a string in double quotes or back quotes")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }

    #[test]
    fn a_selector_with_every_operator_and_every_line_filter_reads_and_evaluates() {
        let q = parse(r#" { service_name = "checkout" , level=~"warn|error", env!="dev", host!~`db-\d+` } |= "time\"out" != "retry" |~ `id=\d+` !~ "(?i)ignored" | trace_id="abc""#)
            .unwrap();
        assert_eq!(q.selector.len(), 4);
        assert_eq!(q.stages.len(), 5);
        let record = [("service_name", "checkout"), ("level", "error"), ("host", "web-1"), ("trace_id", "abc")];
        assert!(q.matches("a time\"out with id=42", labels(&record)));
        assert!(!q.matches("a time\"out with id=42, retry", labels(&record)), "!= excludes");
        assert!(!q.matches("a time\"out without an id", labels(&record)), "|~ requires a match");
        assert!(!q.matches("a time\"out with id=42 IGNORED", labels(&record)), "!~ excludes");
        let db = [("service_name", "checkout"), ("level", "warn"), ("host", "db-7"), ("trace_id", "abc")];
        assert!(!q.matches("a time\"out with id=42", labels(&db)), "!~ on a label excludes db-7");
        let info = [("service_name", "checkout"), ("level", "information"), ("trace_id", "abc")];
        assert!(!q.matches("a time\"out with id=42", labels(&info)), "=~ is anchored at both ends");
        let other_trace = [("service_name", "checkout"), ("level", "warn"), ("trace_id", "abd")];
        assert!(!q.matches("a time\"out with id=42", labels(&other_trace)));
    }

    #[test]
    fn a_missing_label_has_the_empty_value() {
        let q = parse(r#"{service_name="a", env!="prod", region=""}"#).unwrap();
        assert!(q.matches("", labels(&[("service_name", "a")])));
        assert!(!q.matches("", labels(&[("service_name", "a"), ("region", "eu")])));
    }

    #[test]
    fn equality_requirements_and_contained_texts_are_listed_for_the_store() {
        let q = parse(r#"{service_name="a"} |= "x" |~ "y" | level="error" | level!="warn""#).unwrap();
        assert_eq!(q.required("service_name").collect::<Vec<_>>(), ["a"]);
        assert_eq!(q.required("level").collect::<Vec<_>>(), ["error"]);
        assert_eq!(q.contained().collect::<Vec<_>>(), ["x"]);
        assert!(!q.uses_labels_outside(&["service_name", "level"]));
        assert!(q.uses_labels_outside(&["service_name"]));
    }

    #[test]
    fn malformed_and_unsupported_queries_are_refused_with_the_column() {
        let cases = [
            (r#"{service_name="a""#, 18, "expected `,` or `}`"),
            (r#"{service_name="a} "#, 15, "unterminated string"),
            (r#"{service_name=a}"#, 15, "expected a string"),
            (r#"{service_name~"a"}"#, 14, "expected one of"),
            (r#"{service_name=~"("}"#, 16, "invalid regular expression"),
            (r#"{service_name="a"} |~ "(""#, 23, "invalid regular expression"),
            (r#"{service_name="a"} | json"#, 22, "`json` stage is not supported"),
            (r#"{service_name="a"} | line_format "{{.x}}""#, 22, "`line_format` stage is not supported"),
            (r#"{service_name="a"} "x""#, 20, "expected a line filter"),
            (r#"count_over_time({service_name="a"}[5m])"#, 1, "metric queries"),
            (r#"service_name="a""#, 1, "metric queries"),
            ("", 1, "starts with a stream selector"),
            (r#"{}"#, 1, "at least one matcher"),
            (r#"{service_name=~".*"}"#, 1, "at least one matcher"),
            (r#"{service_name!="a"}"#, 1, "at least one matcher"),
            (r#"{service_name="a\q"}"#, 15, "invalid escape"),
        ];
        for (query, col, message) in cases {
            let e = parse(query).expect_err(query);
            assert_eq!(e.col, col, "{query}: {e}");
            assert!(e.message.contains(message), "{query}: {e}");
            assert!(e.to_string().starts_with(&format!("parse error at line 1, col {col}: ")), "{e}");
        }
    }

    #[test]
    fn strings_take_go_escapes_and_raw_strings_take_backslashes_literally() {
        let q = parse(r#"{a="x\n\t\u00e9\\"} |= `\d`"#).unwrap();
        assert_eq!(q.selector[0].value, "x\n\té\\");
        assert_eq!(q.contained().collect::<Vec<_>>(), [r"\d"]);
    }

    #[test]
    fn a_trailing_comma_in_the_selector_is_accepted() {
        assert_eq!(parse(r#"{a="x",}"#).unwrap().selector.len(), 1);
    }
}
