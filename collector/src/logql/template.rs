//! The subset of Go's `text/template` that Loki's `| line_format` and `| label_format` run
//! (pkg/logql/log/fmt.go): text, `{{.label}}` (a missing label is empty, Loki's
//! `missingkey=zero`), `{{-`/`-}}` trimming, comments, `|` pipelines, `( … )`, string, number
//! and boolean constants, `if`/`else if`/`else`/`end`, and these functions:
//!
//! - `__line__` and `__timestamp__` (the line and its time);
//! - `ToUpper`, `ToLower`, `upper`, `lower`, `TrimSpace`, `trim`, `Trim`, `TrimLeft`,
//!   `TrimRight`, `TrimPrefix`, `TrimSuffix`, `trimPrefix`, `trimSuffix`, `trimAll`,
//!   `Replace`, `replace`, `contains`, `hasPrefix`, `hasSuffix`, `default`;
//! - Go's `printf` (`%s`, `%d`, `%v`, `%q`, `%%` with flags, width and precision), `eq`, `ne`,
//!   `lt`, `le`, `gt`, `ge`, `and`, `or`, `not`;
//! - sprig's `date` and `unixEpoch`, Loki's `unixEpochMillis` and `unixEpochNanos` (in UTC).
//!
//! What Go would refuse to parse, and anything else (variables, `range`, `with`, other
//! functions), is refused with a message; what Go fails at run time (a comparison of a label
//! with a number, a string function given a time) fails the line, which then gets Loki's
//! `TemplateFormatErr`.

use edgescope_otlp::civil::{civil_from_days, days_from_civil};
use std::fmt::Write as _;

/// How deep `if`s and parentheses may nest: reading and running them recurse.
const MAX_DEPTH: usize = 64;

/// A parsed template.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    nodes: Vec<Node>,
    /// The labels the template reads, for the store and for `| label_format`'s snapshot.
    fields: Vec<String>,
}

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Action(Pipeline),
    /// `{{if a}}…{{else if b}}…{{else}}…{{end}}`: the first branch whose pipeline is true, else
    /// `otherwise`.
    If {
        branches: Vec<(Pipeline, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
}

/// An `if` being read: its branches so far, and its `else` once that has come.
type OpenIf = (Vec<(Pipeline, Vec<Node>)>, Option<Vec<Node>>);

/// Commands joined by `|`: each one's value is the last argument of the next.
#[derive(Debug, Clone)]
struct Pipeline(Vec<Command>);

#[derive(Debug, Clone)]
enum Command {
    Operand(Operand),
    Call(Func, Vec<Operand>),
}

#[derive(Debug, Clone)]
enum Operand {
    Field(String),
    Const(Value),
    Pipeline(Pipeline),
    /// A function named alone among arguments (`printf "%s" __line__`), called without any.
    Call(Func),
}

/// A value while the template runs, as Go's reflection sees it.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A `time.Time`, in nanoseconds since the epoch.
    Time(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    Line,
    Timestamp,
    Upper,
    Lower,
    TrimSpace,
    /// Go's `strings.Trim(s, cutset)` and its kin take the string first.
    Trim,
    TrimLeft,
    TrimRight,
    TrimPrefix,
    TrimSuffix,
    /// sprig's `trimPrefix(prefix, s)` and its kin take the string last.
    SprigTrimPrefix,
    SprigTrimSuffix,
    SprigTrimAll,
    /// `strings.Replace(s, old, new, n)`.
    Replace,
    /// sprig's `replace(old, new, s)`.
    SprigReplace,
    Contains,
    HasPrefix,
    HasSuffix,
    Default,
    Printf,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Not,
    Date,
    UnixEpoch,
    UnixEpochMillis,
    UnixEpochNanos,
}

impl Func {
    fn named(name: &str) -> Option<Func> {
        Some(match name {
            "__line__" => Func::Line,
            "__timestamp__" => Func::Timestamp,
            "ToUpper" | "upper" => Func::Upper,
            "ToLower" | "lower" => Func::Lower,
            "TrimSpace" | "trim" => Func::TrimSpace,
            "Trim" => Func::Trim,
            "TrimLeft" => Func::TrimLeft,
            "TrimRight" => Func::TrimRight,
            "TrimPrefix" => Func::TrimPrefix,
            "TrimSuffix" => Func::TrimSuffix,
            "trimPrefix" => Func::SprigTrimPrefix,
            "trimSuffix" => Func::SprigTrimSuffix,
            "trimAll" => Func::SprigTrimAll,
            "Replace" => Func::Replace,
            "replace" => Func::SprigReplace,
            "contains" => Func::Contains,
            "hasPrefix" => Func::HasPrefix,
            "hasSuffix" => Func::HasSuffix,
            "default" => Func::Default,
            "printf" => Func::Printf,
            "eq" => Func::Eq,
            "ne" => Func::Ne,
            "lt" => Func::Lt,
            "le" => Func::Le,
            "gt" => Func::Gt,
            "ge" => Func::Ge,
            "and" => Func::And,
            "or" => Func::Or,
            "not" => Func::Not,
            "date" => Func::Date,
            "unixEpoch" => Func::UnixEpoch,
            "unixEpochMillis" => Func::UnixEpochMillis,
            "unixEpochNanos" => Func::UnixEpochNanos,
            _ => return None,
        })
    }

    /// How many arguments the function takes, at least and at most.
    fn arity(self) -> (usize, usize) {
        match self {
            Func::Line | Func::Timestamp => (0, 0),
            Func::Upper | Func::Lower | Func::TrimSpace | Func::Not => (1, 1),
            Func::UnixEpoch | Func::UnixEpochMillis | Func::UnixEpochNanos => (1, 1),
            Func::Trim | Func::TrimLeft | Func::TrimRight | Func::TrimPrefix | Func::TrimSuffix => (2, 2),
            Func::SprigTrimPrefix | Func::SprigTrimSuffix | Func::SprigTrimAll => (2, 2),
            Func::Contains | Func::HasPrefix | Func::HasSuffix | Func::Date => (2, 2),
            Func::Ne | Func::Lt | Func::Le | Func::Gt | Func::Ge => (2, 2),
            Func::Replace => (4, 4),
            Func::SprigReplace => (3, 3),
            Func::Default => (1, 2),
            Func::Eq => (2, usize::MAX),
            Func::Printf | Func::And | Func::Or => (1, usize::MAX),
        }
    }
}

/// What a template reads from the record while it runs.
pub(crate) struct Context<'a> {
    /// A label's value (empty when the record has none).
    pub(crate) field: &'a dyn Fn(&str) -> String,
    /// The line as the stage sees it.
    pub(crate) line: &'a str,
    /// The record's time, in nanoseconds since the epoch.
    pub(crate) time_ns: i64,
}

impl Template {
    /// Reads a template; the error says what is not understood.
    pub(crate) fn parse(text: &str) -> Result<Template, String> {
        let actions = split(text)?;
        let mut fields = Vec::new();
        // Open `if`s: their branches so far, and whether `else` has come.
        let mut stack: Vec<OpenIf> = Vec::new();
        let mut nodes: Vec<Node> = Vec::new();
        fn current<'n>(nodes: &'n mut Vec<Node>, stack: &'n mut [OpenIf]) -> &'n mut Vec<Node> {
            match stack.last_mut() {
                None => nodes,
                Some((_, Some(otherwise))) => otherwise,
                Some((branches, None)) => &mut branches.last_mut().expect("an if has a branch").1,
            }
        }
        for piece in actions {
            let tokens = match piece {
                Piece::Text(t) => {
                    current(&mut nodes, &mut stack).push(Node::Text(t));
                    continue;
                }
                Piece::Action(tokens) => tokens,
            };
            let keyword = match tokens.first() {
                Some(Token::Ident(word)) => word.as_str(),
                _ => "",
            };
            match keyword {
                "if" => {
                    if stack.len() == MAX_DEPTH {
                        return Err(format!("`{{{{if}}}}` nested more than {MAX_DEPTH} deep"));
                    }
                    let pipeline = Parser::new(&tokens[1..], &mut fields).pipeline_to_end()?;
                    stack.push((vec![(pipeline, Vec::new())], None));
                }
                "else" => {
                    let Some((branches, otherwise)) = stack.last_mut() else {
                        return Err("`{{else}}` without `{{if}}`".into());
                    };
                    if otherwise.is_some() {
                        return Err("`{{else}}` after `{{else}}`".into());
                    }
                    match tokens.get(1) {
                        None => *otherwise = Some(Vec::new()),
                        Some(Token::Ident(word)) if word == "if" => {
                            let pipeline = Parser::new(&tokens[2..], &mut fields).pipeline_to_end()?;
                            branches.push((pipeline, Vec::new()));
                        }
                        Some(_) => return Err("`{{else}}` takes nothing but `if`".into()),
                    }
                }
                "end" => {
                    if tokens.len() > 1 {
                        return Err("`{{end}}` takes nothing".into());
                    }
                    let Some((branches, otherwise)) = stack.pop() else {
                        return Err("`{{end}}` without `{{if}}`".into());
                    };
                    let node = Node::If { branches, otherwise: otherwise.unwrap_or_default() };
                    current(&mut nodes, &mut stack).push(node);
                }
                word @ ("range" | "with" | "define" | "template" | "block" | "break" | "continue") => {
                    return Err(format!("`{{{{{word}}}}}` is not supported in templates here, only `if`/`else`/`end`"));
                }
                _ => {
                    let pipeline = Parser::new(&tokens, &mut fields).pipeline_to_end()?;
                    current(&mut nodes, &mut stack).push(Node::Action(pipeline));
                }
            }
        }
        if !stack.is_empty() {
            return Err("`{{if}}` without `{{end}}`".into());
        }
        fields.sort();
        fields.dedup();
        Ok(Template { nodes, fields })
    }

    /// The labels the template reads.
    pub(crate) fn fields(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(String::as_str)
    }

    /// The text the template makes for a record; the error is Go's run-time failure.
    pub(crate) fn render(&self, ctx: &Context<'_>) -> Result<String, String> {
        let mut out = String::new();
        render_nodes(&self.nodes, ctx, &mut out)?;
        Ok(out)
    }
}

/// The longest text a template may make (Loki's default `max_line_size`, 256 KB): stages
/// chained in one query (`| line_format "{{__line__}}{{__line__}}"` twenty times) would
/// otherwise double a line at each, and a query of a kilobyte would ask for gigabytes.
pub(crate) const MAX_RENDERED: usize = 256 * 1024;

fn render_nodes(nodes: &[Node], ctx: &Context<'_>, out: &mut String) -> Result<(), String> {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Action(p) => print(&p.run(ctx)?, out),
            Node::If { branches, otherwise } => {
                let mut chosen = otherwise;
                for (condition, list) in branches {
                    if truth(&condition.run(ctx)?) {
                        chosen = list;
                        break;
                    }
                }
                render_nodes(chosen, ctx, out)?;
            }
        }
        if out.len() > MAX_RENDERED {
            return Err(too_long());
        }
    }
    Ok(())
}

/// A part of the template text: literal text or the tokens of an action.
enum Piece {
    Text(String),
    Action(Vec<Token>),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Field(String),
    Ident(String),
    Const(Value),
    Pipe,
    Open,
    Close,
}

/// Go's white space around trim markers.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Splits a template into text and actions, as Go's lexer does: `{{- ` trims the white space
/// before, ` -}}` the white space after, `{{/* … */}}` is a comment.
fn split(text: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    let mut trim_next = false;
    loop {
        let (before, action) = match rest.find("{{") {
            Some(i) => (&rest[..i], Some(&rest[i + 2..])),
            None => (rest, None),
        };
        let mut before = if trim_next { before.trim_start_matches(is_space) } else { before };
        let Some(mut action) = action else {
            if !before.is_empty() {
                pieces.push(Piece::Text(before.to_owned()));
            }
            return Ok(pieces);
        };
        if action.starts_with('-') && action[1..].starts_with(is_space) {
            before = before.trim_end_matches(is_space);
            action = &action[1..];
        }
        if !before.is_empty() {
            pieces.push(Piece::Text(before.to_owned()));
        }
        let (tokens, after, trims) = lex_action(action)?;
        if let Some(tokens) = tokens {
            if tokens.is_empty() {
                return Err("an empty action `{{}}`".into());
            }
            pieces.push(Piece::Action(tokens));
        }
        trim_next = trims;
        rest = after;
    }
}

/// Reads an action's tokens up to its `}}`: the tokens (`None` for a comment), the text after
/// the action, and whether it ends with ` -}}`.
fn lex_action(text: &str) -> Result<(Option<Vec<Token>>, &str, bool), String> {
    let end = |rest: &str| -> Option<(usize, bool)> {
        if rest.starts_with("}}") {
            Some((2, false))
        } else if rest.starts_with(is_space) {
            let spaces = rest.len() - rest.trim_start_matches(is_space).len();
            rest[spaces..].starts_with("-}}").then_some((spaces + 3, true))
        } else {
            None
        }
    };
    let trimmed = text.trim_start_matches(is_space);
    if let Some(comment) = trimmed.strip_prefix("/*") {
        let close = comment.find("*/").ok_or("an unclosed comment")?;
        let after = &comment[close + 2..];
        return match end(after) {
            Some((len, trims)) => Ok((None, &after[len..], trims)),
            None => Err("a comment ends with `*/}}`".into()),
        };
    }
    let mut tokens = Vec::new();
    let mut rest = text;
    loop {
        if let Some((len, trims)) = end(rest) {
            return Ok((Some(tokens), &rest[len..], trims));
        }
        rest = rest.trim_start_matches(is_space);
        if let Some(tail) = rest.strip_prefix("}}") {
            return Ok((Some(tokens), tail, false));
        }
        let Some(c) = rest.chars().next() else {
            return Err("an unclosed action: `}}` is missing".into());
        };
        let ident_len = |s: &str| s.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(s.len());
        match c {
            '|' => {
                tokens.push(Token::Pipe);
                rest = &rest[1..];
            }
            '(' => {
                tokens.push(Token::Open);
                rest = &rest[1..];
            }
            ')' => {
                tokens.push(Token::Close);
                rest = &rest[1..];
            }
            '.' => {
                let len = ident_len(&rest[1..]);
                if len == 0 {
                    return Err("`.` alone (all labels) is not supported: name a label, such as `.status`".into());
                }
                let name = &rest[1..1 + len];
                rest = &rest[1 + len..];
                if rest.starts_with('.') {
                    return Err(format!("`.{name}.…`: a label has no fields"));
                }
                tokens.push(Token::Field(name.to_owned()));
            }
            '"' | '`' => {
                let (value, len) = go_string(rest)?;
                tokens.push(Token::Const(Value::Str(value)));
                rest = &rest[len..];
            }
            '0'..='9' | '-' | '+' => {
                let len = rest[1..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
                    .map_or(rest.len(), |i| i + 1);
                let text = &rest[..len];
                let value = if let Ok(n) = text.parse::<i64>() {
                    Value::Int(n)
                } else if let Some(f) = text.parse::<f64>().ok().filter(|f| f.is_finite()) {
                    Value::Float(f)
                } else {
                    return Err(format!("`{text}` is not a number these templates read"));
                };
                tokens.push(Token::Const(value));
                rest = &rest[len..];
            }
            c if c.is_alphabetic() || c == '_' => {
                let len = ident_len(rest);
                let word = &rest[..len];
                rest = &rest[len..];
                tokens.push(match word {
                    "true" => Token::Const(Value::Bool(true)),
                    "false" => Token::Const(Value::Bool(false)),
                    _ => Token::Ident(word.to_owned()),
                });
            }
            '$' => return Err("template variables (`$x`) are not supported".into()),
            other => return Err(format!("`{other}` is not understood in a template action")),
        }
    }
}

/// A Go string constant at the start of `text` (double-quoted with escapes, or back-quoted
/// raw), and its length.
fn go_string(text: &str) -> Result<(String, usize), String> {
    if let Some(raw) = text.strip_prefix('`') {
        let end = raw.find('`').ok_or("an unterminated raw string in a template")?;
        return Ok((raw[..end].to_owned(), end + 2));
    }
    let mut out = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, i + 1)),
            '\n' => break,
            '\\' => {
                let escaped = match chars.next().map(|(_, c)| c) {
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some('r') => '\r',
                    Some('\\') => '\\',
                    Some('"') => '"',
                    Some(c @ ('x' | 'u')) => {
                        let len = if c == 'x' { 2 } else { 4 };
                        let hex: String = chars.by_ref().take(len).map(|(_, c)| c).collect();
                        match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                            Some(c) if hex.len() == len && (len == 4 || c.is_ascii()) => c,
                            _ => return Err(format!("an invalid escape `\\{c}{hex}` in a template string")),
                        }
                    }
                    other => {
                        let shown = other.map(String::from).unwrap_or_default();
                        return Err(format!("an invalid escape `\\{shown}` in a template string"));
                    }
                };
                out.push(escaped);
            }
            c => out.push(c),
        }
    }
    Err("an unterminated string in a template".into())
}

/// Reads the tokens of one action into a pipeline.
struct Parser<'t, 'f> {
    tokens: &'t [Token],
    pos: usize,
    fields: &'f mut Vec<String>,
    /// Parentheses open around this point.
    depth: usize,
}

impl<'t, 'f> Parser<'t, 'f> {
    fn new(tokens: &'t [Token], fields: &'f mut Vec<String>) -> Parser<'t, 'f> {
        Parser { tokens, pos: 0, fields, depth: 0 }
    }

    fn pipeline_to_end(mut self) -> Result<Pipeline, String> {
        let pipeline = self.pipeline()?;
        match self.tokens.get(self.pos) {
            None => Ok(pipeline),
            Some(_) => Err("an unexpected `)` in a template action".into()),
        }
    }

    /// Commands joined by `|`, up to `)` or the end of the action.
    fn pipeline(&mut self) -> Result<Pipeline, String> {
        let mut commands = Vec::new();
        loop {
            let mut operands = Vec::new();
            let mut func = None;
            while let Some(token) = self.tokens.get(self.pos) {
                if matches!(token, Token::Pipe | Token::Close) {
                    break;
                }
                self.pos += 1;
                let operand = match token {
                    Token::Field(name) => {
                        self.fields.push(name.clone());
                        Operand::Field(name.clone())
                    }
                    Token::Const(v) => Operand::Const(v.clone()),
                    Token::Open => {
                        self.depth += 1;
                        if self.depth > MAX_DEPTH {
                            return Err(format!("parentheses nested more than {MAX_DEPTH} deep"));
                        }
                        let inner = self.pipeline()?;
                        self.depth -= 1;
                        if self.tokens.get(self.pos) != Some(&Token::Close) {
                            return Err("an unclosed `(` in a template action".into());
                        }
                        self.pos += 1;
                        Operand::Pipeline(inner)
                    }
                    Token::Ident(name) => {
                        let Some(f) = Func::named(name) else {
                            return Err(format!(
                                "the template function `{name}` is not supported: use ToUpper, ToLower, upper, lower, \
                                 trim, TrimSpace, Trim, TrimLeft, TrimRight, TrimPrefix, TrimSuffix, trimPrefix, \
                                 trimSuffix, trimAll, Replace, replace, contains, hasPrefix, hasSuffix, default, \
                                 printf, eq, ne, lt, le, gt, ge, and, or, not, date, unixEpoch, unixEpochMillis, \
                                 unixEpochNanos, __line__ or __timestamp__"
                            ));
                        };
                        if operands.is_empty() && func.is_none() {
                            func = Some(f);
                            continue;
                        }
                        if f.arity().0 > 0 {
                            return Err(format!(
                                "the template function `{}` takes arguments: call it in parentheses, such as ({} …)",
                                func_name(f),
                                func_name(f)
                            ));
                        }
                        Operand::Call(f)
                    }
                    Token::Pipe | Token::Close => unreachable!("stopped above"),
                };
                operands.push(operand);
            }
            let piped = !commands.is_empty();
            let command = match func {
                Some(f) => {
                    let (least, most) = f.arity();
                    let given = operands.len() + usize::from(piped);
                    if given < least || given > most {
                        return Err(format!(
                            "the template function `{}` takes {}, not {given}",
                            func_name(f),
                            count(least, most)
                        ));
                    }
                    if let Func::Printf = f {
                        if let Some(Operand::Const(Value::Str(format))) = operands.first() {
                            check_format(format)?;
                        }
                    }
                    Command::Call(f, operands)
                }
                None if operands.is_empty() => return Err("an empty command in a template action".into()),
                None if piped => return Err("only a function can follow `|` in a template".into()),
                None if operands.len() > 1 => return Err("only a function takes arguments in a template".into()),
                None => Command::Operand(operands.pop().expect("one operand")),
            };
            commands.push(command);
            if self.tokens.get(self.pos) == Some(&Token::Pipe) {
                self.pos += 1;
                continue;
            }
            return Ok(Pipeline(commands));
        }
    }
}

/// A function's name as a template writes it, for messages.
fn func_name(f: Func) -> &'static str {
    match f {
        Func::Line => "__line__",
        Func::Timestamp => "__timestamp__",
        Func::Upper => "upper",
        Func::Lower => "lower",
        Func::TrimSpace => "TrimSpace",
        Func::Trim => "Trim",
        Func::TrimLeft => "TrimLeft",
        Func::TrimRight => "TrimRight",
        Func::TrimPrefix => "TrimPrefix",
        Func::TrimSuffix => "TrimSuffix",
        Func::SprigTrimPrefix => "trimPrefix",
        Func::SprigTrimSuffix => "trimSuffix",
        Func::SprigTrimAll => "trimAll",
        Func::Replace => "Replace",
        Func::SprigReplace => "replace",
        Func::Contains => "contains",
        Func::HasPrefix => "hasPrefix",
        Func::HasSuffix => "hasSuffix",
        Func::Default => "default",
        Func::Printf => "printf",
        Func::Eq => "eq",
        Func::Ne => "ne",
        Func::Lt => "lt",
        Func::Le => "le",
        Func::Gt => "gt",
        Func::Ge => "ge",
        Func::And => "and",
        Func::Or => "or",
        Func::Not => "not",
        Func::Date => "date",
        Func::UnixEpoch => "unixEpoch",
        Func::UnixEpochMillis => "unixEpochMillis",
        Func::UnixEpochNanos => "unixEpochNanos",
    }
}

fn count(least: usize, most: usize) -> String {
    let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
    if least == most {
        format!("{least} {}", plural(least))
    } else if most == usize::MAX {
        format!("at least {least} {}", plural(least))
    } else {
        format!("{least} to {most} arguments")
    }
}

impl Pipeline {
    fn run(&self, ctx: &Context<'_>) -> Result<Value, String> {
        let mut value: Option<Value> = None;
        for command in &self.0 {
            let made = match command {
                Command::Operand(o) => o.eval(ctx)?,
                Command::Call(f, args) => call(*f, args, value.take(), ctx)?,
            };
            // Each step's text is held to what a template may make, not only the whole.
            if matches!(&made, Value::Str(s) if s.len() > MAX_RENDERED) {
                return Err(too_long());
            }
            value = Some(made);
        }
        Ok(value.expect("a pipeline has a command"))
    }
}

impl Operand {
    fn eval(&self, ctx: &Context<'_>) -> Result<Value, String> {
        Ok(match self {
            Operand::Field(name) => Value::Str((ctx.field)(name)),
            Operand::Const(v) => v.clone(),
            Operand::Pipeline(p) => p.run(ctx)?,
            Operand::Call(f) => call(*f, &[], None, ctx)?,
        })
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Str(_) => "string",
        Value::Int(_) => "int",
        Value::Float(_) => "float64",
        Value::Bool(_) => "bool",
        Value::Time(_) => "time.Time",
    }
}

fn string(f: Func, v: Value) -> Result<String, String> {
    match v {
        Value::Str(s) => Ok(s),
        other => Err(format!("{}: wrong type for value; expected string; got {}", func_name(f), kind(&other))),
    }
}

fn time(f: Func, v: &Value) -> Result<i64, String> {
    match v {
        Value::Time(ns) => Ok(*ns),
        other => Err(format!("{}: wrong type for value; expected time.Time; got {}", func_name(f), kind(other))),
    }
}

/// Go's truth of a value: not the zero value of its type (a time is a struct: always true).
fn truth(v: &Value) -> bool {
    match v {
        Value::Str(s) => !s.is_empty(),
        Value::Int(n) => *n != 0,
        Value::Float(x) => *x != 0.0,
        Value::Bool(b) => *b,
        Value::Time(_) => true,
    }
}

/// Runs a function; `piped` is the value of the command before it in the pipeline, its last
/// argument.
fn call(f: Func, args: &[Operand], piped: Option<Value>, ctx: &Context<'_>) -> Result<Value, String> {
    // `and` and `or` evaluate their arguments only as far as they need, as Go does.
    if matches!(f, Func::And | Func::Or) {
        let mut last = None;
        for arg in args.iter().map(Some).chain(piped.is_some().then_some(None)) {
            let v = match arg {
                Some(a) => a.eval(ctx)?,
                None => piped.clone().expect("piped"),
            };
            if truth(&v) != (f == Func::And) {
                return Ok(v);
            }
            last = Some(v);
        }
        return Ok(last.expect("at least one argument"));
    }
    let mut values = args.iter().map(|a| a.eval(ctx)).collect::<Result<Vec<_>, _>>()?;
    values.extend(piped);
    let mut it = values.into_iter();
    let mut next = || it.next().expect("arity checked when parsed");
    Ok(match f {
        Func::Line => Value::Str(ctx.line.to_owned()),
        Func::Timestamp => Value::Time(ctx.time_ns),
        Func::Upper => Value::Str(string(f, next())?.chars().map(|c| simple_case(c, char::to_uppercase)).collect()),
        Func::Lower => Value::Str(string(f, next())?.chars().map(|c| simple_case(c, char::to_lowercase)).collect()),
        Func::TrimSpace => Value::Str(string(f, next())?.trim_matches(char::is_whitespace).to_owned()),
        Func::Trim | Func::TrimLeft | Func::TrimRight | Func::TrimPrefix | Func::TrimSuffix => {
            let (text, x) = (string(f, next())?, string(f, next())?);
            Value::Str(trim(f, &text, &x))
        }
        Func::SprigTrimPrefix | Func::SprigTrimSuffix | Func::SprigTrimAll => {
            let (x, text) = (string(f, next())?, string(f, next())?);
            let go = match f {
                Func::SprigTrimPrefix => Func::TrimPrefix,
                Func::SprigTrimSuffix => Func::TrimSuffix,
                _ => Func::Trim,
            };
            Value::Str(trim(go, &text, &x))
        }
        Func::Replace => {
            let (text, old, new) = (string(f, next())?, string(f, next())?, string(f, next())?);
            let n = match next() {
                Value::Int(n) => n,
                other => return Err(format!("Replace: wrong type for value; expected int; got {}", kind(&other))),
            };
            Value::Str(replace(&text, &old, &new, n)?)
        }
        Func::SprigReplace => {
            let (old, new, text) = (string(f, next())?, string(f, next())?, string(f, next())?);
            Value::Str(replace(&text, &old, &new, -1)?)
        }
        Func::Contains | Func::HasPrefix | Func::HasSuffix => {
            let (x, text) = (string(f, next())?, string(f, next())?);
            Value::Bool(match f {
                Func::Contains => text.contains(&x),
                Func::HasPrefix => text.starts_with(&x),
                _ => text.ends_with(&x),
            })
        }
        Func::Default => {
            let fallback = next();
            match it.next() {
                // sprig's `empty`: the zero value of its type (a time never is).
                Some(given) if truth(&given) => given,
                _ => fallback,
            }
        }
        Func::Printf => {
            let format = string(f, next())?;
            Value::Str(sprintf(&format, &it.collect::<Vec<_>>())?)
        }
        Func::Eq => {
            let first = next();
            let mut equal = false;
            for other in it.by_ref() {
                equal |= compare(&first, &other)? == std::cmp::Ordering::Equal;
            }
            Value::Bool(equal)
        }
        Func::Ne | Func::Lt | Func::Le | Func::Gt | Func::Ge => {
            let (a, b) = (next(), next());
            if f != Func::Ne && matches!(a, Value::Bool(_)) {
                return Err(format!("error calling {}: invalid type for comparison", func_name(f)));
            }
            let order = compare(&a, &b)?;
            Value::Bool(match f {
                Func::Ne => order.is_ne(),
                Func::Lt => order.is_lt(),
                Func::Le => order.is_le(),
                Func::Gt => order.is_gt(),
                _ => order.is_ge(),
            })
        }
        Func::Not => Value::Bool(!truth(&next())),
        Func::Date => {
            let layout = string(f, next())?;
            let ns = match next() {
                Value::Time(ns) => ns,
                Value::Int(seconds) => seconds.saturating_mul(1_000_000_000),
                // sprig formats the current time for anything else.
                _ => now_ns(),
            };
            Value::Str(format_time(&layout, ns))
        }
        Func::UnixEpoch => Value::Str(time(f, &next())?.div_euclid(1_000_000_000).to_string()),
        Func::UnixEpochMillis => Value::Str(time(f, &next())?.div_euclid(1_000_000).to_string()),
        Func::UnixEpochNanos => Value::Str(time(f, &next())?.to_string()),
        Func::And | Func::Or => unreachable!("handled above"),
    })
}

/// A character's case mapped one to one, as Go's `unicode.ToUpper` and `ToLower` map it (`ß`
/// stays `ß`, where Rust's full mapping makes `SS`).
fn simple_case<I: Iterator<Item = char> + ExactSizeIterator>(c: char, map: impl Fn(char) -> I) -> char {
    let mut mapped = map(c);
    match (mapped.len(), mapped.next()) {
        (1, Some(m)) => m,
        _ => c,
    }
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Go's comparison of two basic values of one kind (`eq` and its kin).
fn compare(a: &Value, b: &Value) -> Result<std::cmp::Ordering, String> {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Ok(x.cmp(y)),
        (Value::Int(x), Value::Int(y)) => Ok(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y).ok_or_else(|| "incompatible values (NaN)".into()),
        (Value::Bool(x), Value::Bool(y)) => Ok(x.cmp(y)),
        (Value::Time(x), Value::Time(y)) => Ok(x.cmp(y)),
        _ => Err(format!("incompatible types for comparison: {} and {}", kind(a), kind(b))),
    }
}

/// Go's `strings.Trim`, `TrimLeft`, `TrimRight` (a set of characters), `TrimPrefix` and
/// `TrimSuffix` (a string once).
fn trim(f: Func, text: &str, x: &str) -> String {
    let cut = |c: char| x.contains(c);
    match f {
        Func::TrimLeft => text.trim_start_matches(cut).to_owned(),
        Func::TrimRight => text.trim_end_matches(cut).to_owned(),
        Func::TrimPrefix => text.strip_prefix(x).unwrap_or(text).to_owned(),
        Func::TrimSuffix => text.strip_suffix(x).unwrap_or(text).to_owned(),
        _ => text.trim_matches(cut).to_owned(),
    }
}

/// Go's `strings.Replace`: the first `n` non-overlapping `old` (all when `n < 0`); refused when
/// the text it would make is longer than a template may make (an empty `old` matches between
/// every two characters, so `replace "" "0123456789"` makes a line eleven times as long).
fn replace(text: &str, old: &str, new: &str, n: i64) -> Result<String, String> {
    let most = usize::try_from(n).unwrap_or(usize::MAX);
    let matches = if old.is_empty() { text.chars().count() + 1 } else { text.matches(old).count() }.min(most);
    let size = (text.len() - matches.saturating_mul(old.len())).saturating_add(matches.saturating_mul(new.len()));
    if size > MAX_RENDERED {
        return Err(too_long());
    }
    Ok(match usize::try_from(n) {
        Ok(n) => text.replacen(old, new, n),
        Err(_) => text.replace(old, new),
    })
}

fn too_long() -> String {
    format!("the template made more than {MAX_RENDERED} bytes (Loki's max_line_size)")
}

/// How Go prints a value (`fmt.Fprint`, `%v`).
fn print(v: &Value, out: &mut String) {
    match v {
        Value::Str(s) => out.push_str(s),
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Float(x) => out.push_str(&go_float(*x)),
        Value::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Value::Time(ns) => out.push_str(&format_time("2006-01-02 15:04:05.999999999 -0700 MST", *ns)),
    }
}

/// A float as Go's `%v` writes it: the shortest form that reads back, with an exponent below
/// 1e-4 and from 1e21.
fn go_float(x: f64) -> String {
    if x.is_infinite() {
        return if x > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if x.is_nan() {
        return "NaN".into();
    }
    let e = format!("{x:e}");
    let (mantissa, exponent) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exponent.parse().unwrap_or(0);
    if (-4..21).contains(&exp) {
        return format!("{x}");
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
}

/// Checks a `printf` format given as a constant: the verbs these templates write.
fn check_format(format: &str) -> Result<(), String> {
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        while let Some(&c) = chars.peek() {
            if c.is_ascii_digit() || matches!(c, '-' | '+' | '0' | ' ' | '.') {
                chars.next();
            } else {
                break;
            }
        }
        match chars.next() {
            Some('s' | 'd' | 'v' | 'q' | '%') => {}
            Some(verb) => return Err(format!("printf's `%{verb}` is not supported here: use %s, %d, %v or %q")),
            None => return Err("printf's format ends with `%`".into()),
        }
    }
    Ok(())
}

/// Go's `fmt.Sprintf` for `%s`, `%d`, `%v`, `%q` and `%%`, with the flags `-`, `+`, `0` and
/// ` `, a width and a precision; a verb that does not suit its argument, a missing argument and
/// extra arguments are written as Go writes them (`%!d(string=a)`, `%!d(MISSING)`,
/// `%!(EXTRA int=1)`).
fn sprintf(format: &str, args: &[Value]) -> Result<String, String> {
    let mut out = String::new();
    let mut next = args.iter();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if out.len() > MAX_RENDERED {
            return Err(too_long());
        }
        if c != '%' {
            out.push(c);
            continue;
        }
        let (mut minus, mut plus, mut zero, mut space) = (false, false, false, false);
        while let Some(&c) = chars.peek() {
            match c {
                '-' => minus = true,
                '+' => plus = true,
                '0' => zero = true,
                ' ' => space = true,
                _ => break,
            }
            chars.next();
        }
        fn number(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<usize> {
            let mut n: Option<usize> = None;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(d as usize).min(10_000));
                chars.next();
            }
            n
        }
        let width = number(&mut chars);
        let precision = if chars.peek() == Some(&'.') {
            chars.next();
            Some(number(&mut chars).unwrap_or(0))
        } else {
            None
        };
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = next.next() else {
            let _ = write!(out, "%!{verb}(MISSING)");
            continue;
        };
        let body = match (verb, arg) {
            ('s' | 'v', Value::Str(text)) => match precision {
                Some(p) => text.chars().take(p).collect(),
                None => text.clone(),
            },
            ('q', Value::Str(text)) => format!("{text:?}"),
            ('d' | 'v', Value::Int(n)) => {
                let mut digits = n.unsigned_abs().to_string();
                if let Some(p) = precision {
                    if digits.len() < p {
                        digits = format!("{}{digits}", "0".repeat(p - digits.len()));
                    }
                }
                let sign = if *n < 0 {
                    "-"
                } else if plus {
                    "+"
                } else if space {
                    " "
                } else {
                    ""
                };
                // Go pads with zeros after the sign, unless a precision or `-` is given.
                if zero && !minus && precision.is_none() {
                    let width = width.unwrap_or(0);
                    let len = sign.len() + digits.len();
                    if len < width {
                        digits = format!("{}{digits}", "0".repeat(width - len));
                    }
                }
                format!("{sign}{digits}")
            }
            ('v', Value::Float(x)) => go_float(*x),
            ('v', Value::Bool(b)) => b.to_string(),
            ('s' | 'v', Value::Time(ns)) => format_time("2006-01-02 15:04:05.999999999 -0700 MST", *ns),
            (_, Value::Time(_)) => return Err(format!("printf: %{verb} of a time is not supported here")),
            (_, other) => {
                let mut shown = String::new();
                print(other, &mut shown);
                let _ = write!(out, "%!{verb}({}={shown})", kind(other));
                continue;
            }
        };
        let len = body.chars().count();
        let pad = width.unwrap_or(0).saturating_sub(len);
        let fill = if zero && !minus && verb != 'd' { '0' } else { ' ' };
        if minus {
            out.push_str(&body);
            out.extend(std::iter::repeat_n(' ', pad));
        } else {
            out.extend(std::iter::repeat_n(fill, pad));
            out.push_str(&body);
        }
    }
    let extra: Vec<String> = next
        .map(|v| {
            let mut shown = String::new();
            print(v, &mut shown);
            format!("{}={shown}", kind(v))
        })
        .collect();
    if !extra.is_empty() {
        let _ = write!(out, "%!(EXTRA {})", extra.join(", "));
    }
    Ok(out)
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// Formats a time in UTC with a Go layout (`2006-01-02T15:04:05Z07:00`), reading the layout's
/// elements as Go's `time.Format` does; other text is copied.
fn format_time(layout: &str, ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let nanos = ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (of_day / 3600, of_day / 60 % 60, of_day % 60);
    let weekday = (days + 4).rem_euclid(7) as usize;
    let year_day = days - days_from_civil(year, 1, 1) + 1;
    let hour12 = if hour % 12 == 0 { 12 } else { hour % 12 };
    let mut out = String::new();
    let mut rest = layout;
    while !rest.is_empty() {
        // `_2006` is a `_` and the year.
        let under_year = rest.starts_with("_2006");
        let mut take = |token: &str, text: String| -> bool {
            if rest.starts_with(token) {
                out.push_str(&text);
                rest = &rest[token.len()..];
                true
            } else {
                false
            }
        };
        let month_name = MONTHS[month as usize - 1];
        let day_name = DAYS[weekday];
        // Go's `nextStdChunk`, longest element first where two share a start.
        let done = take("January", month_name.into())
            || take("Jan", month_name[..3].into())
            || take("Monday", day_name.into())
            || take("Mon", day_name[..3].into())
            || take("MST", "UTC".into())
            || take("2006", format!("{year:04}"))
            || take("002", format!("{year_day:03}"))
            || take("01", format!("{month:02}"))
            || take("02", format!("{day:02}"))
            || take("03", format!("{hour12:02}"))
            || take("04", format!("{minute:02}"))
            || take("05", format!("{second:02}"))
            || take("06", format!("{:02}", year.rem_euclid(100)))
            || take("15", format!("{hour:02}"))
            || take("__2", format!("{year_day:>3}"))
            || (!under_year && take("_2", format!("{day:>2}")))
            || take("1", month.to_string())
            || take("2", day.to_string())
            || take("3", hour12.to_string())
            || take("4", minute.to_string())
            || take("5", second.to_string())
            || take("PM", if hour >= 12 { "PM" } else { "AM" }.into())
            || take("pm", if hour >= 12 { "pm" } else { "am" }.into())
            || take("-07:00:00", "+00:00:00".into())
            || take("-070000", "+000000".into())
            || take("-07:00", "+00:00".into())
            || take("-0700", "+0000".into())
            || take("-07", "+00".into())
            || take("Z07:00:00", "Z".into())
            || take("Z070000", "Z".into())
            || take("Z07:00", "Z".into())
            || take("Z0700", "Z".into())
            || take("Z07", "Z".into());
        if done {
            continue;
        }
        // `.000` or `,999` (a run of one digit, not followed by another digit): fractional
        // seconds, zeros kept or trailing zeros (and the point) trimmed.
        let mut chars = rest.chars();
        let first = chars.next().expect("not empty");
        if matches!(first, '.' | ',') {
            let after = &rest[1..];
            let digit = after.chars().next().filter(|c| matches!(c, '0' | '9'));
            if let Some(digit) = digit {
                let len = after.len() - after.trim_start_matches(digit).len();
                if !after[len..].starts_with(|c: char| c.is_ascii_digit()) {
                    let fraction = format!("{nanos:09}");
                    let shown = &fraction[..len.min(9)];
                    if digit == '0' {
                        out.push(first);
                        out.push_str(shown);
                        out.extend(std::iter::repeat_n('0', len.saturating_sub(9)));
                    } else {
                        let trimmed = shown.trim_end_matches('0');
                        if !trimmed.is_empty() {
                            out.push(first);
                            out.push_str(trimmed);
                        }
                    }
                    rest = &after[len..];
                    continue;
                }
            }
        }
        out.push(first);
        rest = &rest[first.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(template: &str, labels: &[(&str, &str)]) -> Result<String, String> {
        let t = Template::parse(template).unwrap_or_else(|e| panic!("{template}: {e}"));
        let field = |name: &str| labels.iter().find(|(k, _)| *k == name).map_or(String::new(), |(_, v)| v.to_string());
        // 2024-02-29T13:04:05.120Z, a Thursday.
        t.render(&Context { field: &field, line: "the line", time_ns: 1_709_211_845_120_000_000 })
    }

    #[test]
    fn fields_functions_and_pipelines_render_as_go_templates_do() {
        let labels = [("status", "503"), ("msg", " Timed Out "), ("path", "/api/users"), ("empty", "")];
        for (template, want) in [
            ("{{.status}} {{.msg}}", "503  Timed Out "),
            ("{{ .status }}|{{.missing}}|", "503||"),
            ("a  {{- .status -}}  b", "a503b"),
            ("{{ .msg | ToUpper }}/{{ lower .msg }}/{{ .msg | trim }}", " TIMED OUT / timed out /Timed Out"),
            ("{{ upper \"straße\" }} {{ lower \"ΣΑΣ\" }}", "STRAßE σασ"),
            ("{{ TrimPrefix .path \"/api\" }} {{ .path | trimPrefix \"/api\" }} {{ .path | trimSuffix \"users\" }}", "/users /users /api/"),
            ("{{ Trim .msg \" T\" }}|{{ TrimLeft .msg \" \" }}|{{ TrimRight .msg \" \" }}", "imed Out|Timed Out | Timed Out"),
            ("{{ .path | replace \"/\" \"_\" }} {{ Replace .path \"/\" \"_\" 1 }}", "_api_users _api/users"),
            ("{{ .empty | default \"none\" }} {{ .status | default \"none\" }} {{ default \"x\" }}", "none 503 x"),
            (r#"{{ printf "%s=%d %5s|%-4s|%05d %q %v" "a" 7 .status "b" -42 "q" true }}"#, "a=7   503|b   |-0042 \"q\" true"),
            (r#"{{ printf "%d %s" .status 5 }}{{ printf "%s" }}{{ printf "x" 1 "y" }}"#, "%!d(string=503) %!s(int=5)%!s(MISSING)x%!(EXTRA int=1, string=y)"),
            ("{{ __line__ | upper }}", "THE LINE"),
            ("{{ __timestamp__ }}", "2024-02-29 13:04:05.12 +0000 UTC"),
            (r#"{{ __timestamp__ | date "2006-01-02T15:04:05.000Z07:00 Mon Jan _2 3PM 002" }}"#, "2024-02-29T13:04:05.120Z Thu Feb 29 1PM 060"),
            ("{{ __timestamp__ | unixEpoch }} {{ unixEpochMillis __timestamp__ }}", "1709211845 1709211845120"),
            ("{{ if eq .status \"503\" }}down{{ else if .msg }}msg{{ else }}up{{ end }}", "down"),
            ("{{ if ne .status \"503\" }}up{{ else if contains \"Timed\" .msg }}slow{{ end }}", "slow"),
            ("{{- if and .empty .status }}both{{ else }}{{ or .empty .status }}{{ end -}}", "503"),
            ("{{ if not .empty }}empty{{ end }}{{ if lt .status \"6\" }} lt{{ end }}{{ if hasPrefix \"/api\" .path }} api{{ end }}", "empty lt api"),
            ("{{/* a comment */}}x{{- /* trimmed */ -}} y", "xy"),
            ("{{ (printf \"%s-%s\" .status .status) | upper }} {{ 1.5 }} {{ 1e21 }}", "503-503 1.5 1e+21"),
            ("{{ \"}}\" }}", "}}"),
        ] {
            assert_eq!(render(template, &labels).as_deref(), Ok(want), "{template}");
        }
    }

    #[test]
    fn go_run_time_errors_fail_the_template() {
        // Go refuses to compare a string with a number, and a string function given a time.
        for template in [
            "{{ if eq .status 500 }}x{{ end }}",
            "{{ __timestamp__ | upper }}",
            "{{ unixEpoch .status }}",
            "{{ lt true false }}",
        ] {
            assert!(render(template, &[("status", "500")]).is_err(), "{template}");
        }
    }

    #[test]
    fn what_is_not_supported_is_refused_when_read() {
        for (template, message) in [
            ("{{ .a | json }}", "`json` is not supported"),
            ("{{ range .a }}{{ end }}", "`{{range}}` is not supported"),
            ("{{ $x := .a }}", "variables"),
            ("{{ . }}", "`.` alone"),
            ("{{ .a.b }}", "no fields"),
            ("{{ .a", "unclosed action"),
            ("{{ if .a }}x", "without `{{end}}`"),
            ("{{ end }}", "without `{{if}}`"),
            ("{{ upper }}", "takes 1 argument, not 0"),
            ("{{ .a | replace \"x\" }}", "takes 3 arguments, not 2"),
            ("{{ printf \"%x\" .a }}", "`%x` is not supported"),
            ("{{ .a .b }}", "only a function takes arguments"),
            ("{{ .a | .b }}", "only a function can follow"),
            ("{{}}", "empty action"),
            ("{{-.a}}", "not a number"),
            ("{{ printf \"%s\" upper }}", "takes arguments"),
        ] {
            let e = Template::parse(template).err().unwrap_or_else(|| panic!("{template} was read"));
            assert!(e.contains(message), "{template}: {e}");
        }
        // Nesting that reading and running would recurse through is bounded.
        let ifs = "{{ if .a }}".repeat(65);
        let parens = format!("{{{{ {} .a {} }}}}", "(".repeat(65), ")".repeat(65));
        for template in [ifs, parens] {
            assert!(Template::parse(&template).is_err_and(|e| e.contains("nested more than 64 deep")));
        }
    }

    #[test]
    fn times_format_with_go_layouts_in_utc() {
        let t = 1_709_211_845_120_000_000; // 2024-02-29T13:04:05.12Z
        assert_eq!(format_time("2006-01-02 15:04:05.999999999 -0700 MST", t), "2024-02-29 13:04:05.12 +0000 UTC");
        assert_eq!(
            format_time("Monday, 02-Jan-06 03:04:05 pm .000000 ,9", t),
            "Thursday, 29-Feb-24 01:04:05 pm .120000 ,1"
        );
        assert_eq!(format_time("2006-01-02T15:04:05.999Z07:00", 0), "1970-01-01T00:00:00Z");
        assert_eq!(format_time("2006-01-02 002 __2", 86_400_000_000_000 * 365), "1971-01-01 001   1");
        assert_eq!(format_time("January 2, 2006", -1_000_000_000), "December 31, 1969");
    }
}
