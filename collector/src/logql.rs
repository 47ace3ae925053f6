//! The LogQL subset that the Loki-shaped query API understands: a stream selector with label
//! matchers, then any number of line filters and label filters.
//!
//! ```text
//! {service_name="checkout", level=~"warn|error"} |= "timeout" != "retry" |~ `id=\d+` | trace_id="4bf9…"
//! ```
//!
//! Matchers and label filters use `=`, `!=`, `=~` and `!~`; regular expressions in them match
//! the whole value, `.` a newline too, as in Loki. Every regular expression is read as Go's
//! `regexp` reads it (`\w` and `\d` ASCII, `\Q…\E`; see `re2`). Line filters are `|=`
//! (contains), `!=` (does not contain), `|~` (a regular expression matches somewhere in the
//! line), `!~`, and Loki 3's `|>` (a pattern such as `"<_> error <_>"` matches the whole line,
//! `<_>` standing for some text) and `!>`, each
//! taking values joined by `or` (any of them for `|=`, `|~` and `|>`, none for the negations).
//! Strings are double-quoted with Go escapes or back-quoted raw; `#` starts a comment to the end
//! of the line. A label that a record does not have has the empty value.
//! `| drop name, …` removes labels, and `| keep name, …` all others, from what later stages see
//! and the query returns (`name="value"` and the other operators: only when the value
//! satisfies them).
//!
//! Metric queries count what a log query matches over a sliding range, and may aggregate the
//! series (what Grafana's log volume histograms ask for):
//!
//! ```text
//! sum by (level) (count_over_time({service_name="checkout"} |= "timeout" [1m]))
//! ```
//!
//! Ranges are Prometheus durations (`[1h30m]`, `[1d]`), optionally with an `offset`. The range
//! functions are `count_over_time`, `rate`, `bytes_over_time`, `bytes_rate` and
//! `absent_over_time` (1 where the range has no line, labelled by the selector's `=` matchers);
//! the aggregations `sum`, `count`, `min`, `max`, `avg`, `stddev` and `stdvar`, with `by (…)` or
//! `without (…)` before or after their argument.
//!
//! The parsers `| json`, `| logfmt` (with Loki's `--strict` and `--keep-empty`), `| regexp`
//! (named groups), `| pattern` (Loki's `<name>` captures) and `| unpack` (Promtail's packed JSON:
//! `_entry` becomes the line, the other strings labels) add labels taken from the line: a name
//! that a stream label has gets `_extracted` appended, one that metadata has replaces it, as in
//! Loki; a line that JSON or logfmt does not parse gets `__error__` and flows on (comparisons pass
//! it and only string filters such as `| __error__=""` leave it out, as in Loki). `| json` and
//! `| logfmt` may name what they take (`| json status="response.status", first="items[0]", msg`,
//! `| logfmt took, code="status"`), a missing path or key giving the empty value. Label filters
//! may then compare numbers, durations and sizes (`| status >= 500`, `| took > 250ms`,
//! `| size < 1MB`, joined by `,` or `and`), and metric queries may `| unwrap` a label into the
//! values of `sum_over_time`, `avg_over_time`, `min_over_time`, `max_over_time`,
//! `first_over_time`, `last_over_time`, `stddev_over_time`, `stdvar_over_time`,
//! `quantile_over_time(φ, …)` and `rate`, grouped with `by`/`without`:
//!
//! ```text
//! quantile_over_time(0.99, {service_name="api"} | json | unwrap duration(took) [5m]) by (route)
//! ```
//!
//! Label filters may also be joined by `or`, in parentheses or not, with Loki's precedence
//! (`| status >= 500 or level="error", took > 1s`).
//!
//! `| decolorize` takes ANSI color codes out of the line, and
//! `| line_format "{{.status}} {{.msg | ToUpper}}"` makes the line anew for the stages after it
//! and the answer; `| label_format new=old, name="{{.a}}-{{.b}}"` renames labels and fills
//! templates; both run the part of Go's templates that `template` reads.
//!
//! Metric queries combine with binary operators, as Grafana's error-ratio panels ask:
//!
//! ```text
//! sum(rate({app="x"} |= "error" [5m])) / sum(rate({app="x"} [5m])) * 100
//! ```
//!
//! Arithmetic (`+ - * / % ^`), comparisons (`== != > < >= <=`, which filter, or give 0 and 1
//! with `bool`) and the set operators `and`, `or` and `unless` take Loki's precedence; series
//! match one to one on their labels, or `on (…)` / `ignoring (…)` some, many to one with
//! `group_left (…)` / `group_right (…)`; a division or modulo by zero gives NaN, as in Loki. Numbers stand
//! beside metric queries and two of them are reduced to one (`1 + 1` answers a scalar), and
//! `vector(n)` is a series without labels. `topk(k, …)` and `bottomk(k, …)` (with `by` or
//! `without`) keep the k largest or smallest series of each group at each step; `sort(…)` and
//! `sort_desc(…)` order an instant query's vector by value, and `label_replace(…)` sets a label
//! from another by a regular expression. Other functions are refused with an
//! error that says so, rather than being half understood.

use std::fmt;

mod extract;
mod ip;
mod re2;
mod template;

use ip::IpPattern;
use regex::Regex;
use std::borrow::Cow;
use template::Template;

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
    /// `| drop name, name="value", …`: the labels (those whose value satisfies the condition)
    /// are gone for later stages and from what the query returns.
    Drop(Vec<LabelItem>),
    /// `| keep name, name="value", …`: every other label (but `__error__` and its details) is
    /// gone for later stages and from what the query returns.
    Keep(Vec<LabelItem>),
    /// `| json`: labels from the line's JSON object; `| json name="a.b[0]", other`: only the
    /// values at those paths (a bare name is its own path).
    Json(Vec<(String, Vec<extract::PathStep>)>),
    /// `| logfmt [--strict] [--keep-empty]`: labels from the line's `key=value` pairs; with
    /// `name="key", other`, only those keys, as those names.
    Logfmt { strict: bool, keep_empty: bool, only: Vec<(String, String)> },
    /// `| unpack`: Promtail's packed JSON; `_entry` becomes the line, the other strings labels.
    Unpack,
    /// `| decolorize`: the line without ANSI color codes.
    Decolorize,
    /// `| regexp "(?P<name>…)"`: labels from the named groups of the expression's match.
    Regexp(Regex),
    /// `| pattern "<ip> - <_> <status>"`: labels from the pattern's captures.
    Pattern(extract::Pattern),
    /// `| label_format new=old, name="{{.a}}-{{.b}}"`: labels renamed or filled from others.
    LabelFormat(Vec<LabelFormat>),
    /// `| line_format "{{.status}} {{.msg}}"`: the line, made anew from the labels, the line
    /// and its time; later stages see the new line.
    LineFormat(Template),
    /// `| name > 10ms`: a label compared as a number, duration or size.
    Compare(Comparison),
    /// Label filters joined with `or` (and `and` or `,` beside it, in parentheses or not).
    Filter(LabelExpr),
}

/// Label filters combined as Loki's `BinaryLabelFilter`s combine them.
#[derive(Debug, Clone)]
pub(crate) enum LabelExpr {
    /// A `Stage::Label` or `Stage::Compare`.
    Test(Box<Stage>),
    /// All of them, each run in order.
    And(Vec<LabelExpr>),
    /// Any of them, run in order up to the first that holds.
    Or(Vec<LabelExpr>),
}

impl LabelExpr {
    /// The filters at the leaves.
    fn tests(&self) -> Vec<&Stage> {
        match self {
            LabelExpr::Test(stage) => vec![stage.as_ref()],
            LabelExpr::And(items) | LabelExpr::Or(items) => items.iter().flat_map(LabelExpr::tests).collect(),
        }
    }

    /// Whether the record passes: as in Loki, `or` runs its right side only when the left one
    /// fails.
    fn holds<'a>(&self, out: &mut Outcome<'_>, label: &impl Fn(&str) -> Option<&'a str>) -> bool {
        match self {
            LabelExpr::Test(stage) => passes(stage, out, label),
            // Loki runs the right side of a failed `and` too; only a line that is left out sees
            // the difference.
            LabelExpr::And(items) => items.iter().all(|item| item.holds(out, label)),
            LabelExpr::Or(items) => items.iter().any(|item| item.holds(out, label)),
        }
    }

    /// `items` joined by `and` (`or` when `or`), nested joins of the same kind flattened.
    fn join(items: Vec<LabelExpr>, or: bool) -> LabelExpr {
        let mut flat = Vec::new();
        for item in items {
            match item {
                LabelExpr::And(inner) if !or => flat.extend(inner),
                LabelExpr::Or(inner) if or => flat.extend(inner),
                other => flat.push(other),
            }
        }
        match flat.len() {
            1 => flat.pop().expect("one"),
            _ if or => LabelExpr::Or(flat),
            _ => LabelExpr::And(flat),
        }
    }
}

impl Stage {
    /// Whether the stage adds labels taken from the line.
    fn is_parser(&self) -> bool {
        matches!(self, Stage::Json(_) | Stage::Logfmt { .. } | Stage::Regexp(_) | Stage::Pattern(_) | Stage::Unpack)
    }

    /// Whether the stage deletes, renames or sets labels.
    fn changes_labels(&self) -> bool {
        matches!(self, Stage::Drop(_) | Stage::Keep(_) | Stage::LabelFormat(_))
    }
}

/// One label of `| label_format`.
#[derive(Debug, Clone)]
pub(crate) struct LabelFormat {
    name: String,
    how: Format,
}

/// How `| label_format` makes a label.
#[derive(Debug, Clone)]
enum Format {
    /// `name=other`: the value of `other`, which is deleted.
    Rename(String),
    /// `name="…{{.other}}…"`: a template, as `| line_format` takes (empty when missing).
    Template(Template),
}

impl Format {
    /// The labels the format reads.
    fn reads(&self) -> impl Iterator<Item = &str> {
        let (rename, template) = match self {
            Format::Rename(from) => (Some(from.as_str()), None),
            Format::Template(t) => (None, Some(t)),
        };
        rename.into_iter().chain(template.into_iter().flat_map(Template::fields))
    }
}

/// A label named in `| drop` or `| keep`, with an optional condition on its value.
#[derive(Debug, Clone)]
pub(crate) struct LabelItem {
    pub(crate) name: String,
    /// `name="value"` (or `!=`, `=~`, `!~`): the item covers the label only when it holds.
    condition: Option<Matcher>,
}

impl LabelItem {
    /// Whether the item covers the label `name` of value `value`.
    fn covers(&self, name: &str, value: &str) -> bool {
        self.name == name && self.condition.as_ref().is_none_or(|m| m.matches(value))
    }
}

/// What a pipeline left of a record that passed it, as Loki's labels builder holds it.
#[derive(Debug)]
pub(crate) struct Outcome<'q> {
    /// Labels the parsers added (and `__error__`/`__error_details__` when a stage failed), in
    /// order.
    pub(crate) parsed: Parsed,
    /// Names `| drop` or `| keep` deleted (Loki's `Del`): the record's own labels of these names
    /// are gone, though a later parser may add a label of the name again.
    deleted: Vec<String>,
    /// The `| keep` lists the pipeline went through: a record's own label is there only if
    /// each of them covers it.
    keeps: Vec<&'q [LabelItem]>,
    /// The line `| line_format` made, when it made one.
    pub(crate) line: Option<String>,
}

impl Outcome<'_> {
    /// Whether the record's own label (a stream label or metadata) `name` of value `value` is
    /// still there.
    pub(crate) fn shows(&self, name: &str, value: &str) -> bool {
        !self.deleted.iter().any(|d| d == name) && self.keeps.iter().all(|k| k.iter().any(|i| i.covers(name, value)))
    }

    /// The value of `name`: a parsed label (the last of its name) first, then the record's own
    /// (`own`) if it is still there.
    fn get<'s>(&'s self, name: &str, own: Option<&'s str>) -> Option<&'s str> {
        match self.parsed.iter().rev().find(|(k, _)| k == name) {
            Some((_, v)) => Some(v),
            None => own.filter(|v| self.shows(name, v)),
        }
    }
}

/// `name op literal` with a number, a duration or a size.
#[derive(Debug, Clone)]
pub(crate) struct Comparison {
    pub(crate) name: String,
    op: CmpOp,
    /// The literal as a number, in seconds for durations and bytes for sizes.
    value: f64,
    kind: Conversion,
    /// `| addr = ip("10.0.0.0/8")` (or `!=`): whether the label holds an address the pattern
    /// holds, instead of the number.
    ip: Option<IpPattern>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// How label text becomes a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Conversion {
    /// A plain number.
    Number,
    /// A Go duration, in seconds (`duration(…)`, `duration_seconds(…)`).
    Duration,
    /// A size, in bytes (`bytes(…)`).
    Bytes,
}

impl Conversion {
    /// What the conversion reads, for messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Conversion::Number => "number",
            Conversion::Duration => "duration",
            Conversion::Bytes => "size",
        }
    }

    /// The number `text` stands for, if it reads.
    pub(crate) fn convert(self, text: &str) -> Option<f64> {
        match self {
            Conversion::Number => extract::number(text),
            Conversion::Duration => extract::duration_seconds(text.trim()),
            Conversion::Bytes => extract::bytes(text),
        }
    }
}

/// `| unwrap name` (or `duration(name)`, `bytes(name)`): the label whose values a range function
/// computes with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unwrap {
    pub(crate) label: String,
    pub(crate) conversion: Conversion,
    /// How many stages of the pipeline come before it: the label filters after it are Loki's
    /// post-filters, the only stages that see the `SampleExtractionErr` of a value that does not
    /// convert.
    pub(crate) stages_before: usize,
}

/// Labels a pipeline added to a line: parsed ones and `__error__`.
pub(crate) type Parsed = Vec<(String, String)>;

/// The `__error__` values, as Loki names them.
pub(crate) const JSON_ERROR: &str = "JSONParserErr";
pub(crate) const LOGFMT_ERROR: &str = "LogfmtParserErr";
pub(crate) const LABEL_FILTER_ERROR: &str = "LabelFilterErr";
pub(crate) const SAMPLE_ERROR: &str = "SampleExtractionErr";
pub(crate) const TEMPLATE_ERROR: &str = "TemplateFormatErr";

/// A query: log lines, or numbers computed from them.
#[derive(Debug, Clone)]
pub(crate) enum Query {
    Log(LogQl),
    Metric(Metric),
}

/// A metric query.
#[derive(Debug, Clone)]
pub(crate) enum Metric {
    /// `fn(log query [range])`: one series per set of stream labels, structured metadata and
    /// parsed labels (or per `grouping` of an unwrapped one),
    /// with `param` the φ of `quantile_over_time`.
    Range {
        func: RangeFn,
        query: LogQl,
        range_ns: i64,
        /// `offset 1h`: each step looks at the range that far back (forward when negative).
        offset_ns: i64,
        unwrap: Option<Unwrap>,
        grouping: Option<Grouping>,
        param: Option<f64>,
    },
    /// `op by|without (labels) (metric)`.
    Vector { op: VectorOp, grouping: Grouping, inner: Box<Metric> },
    /// `topk(k, metric)` (`bottomk` when `bottom`): at each step, the `k` series of each group
    /// with the largest (smallest) values, their labels kept.
    Top { bottom: bool, k: usize, grouping: Grouping, inner: Box<Metric> },
    /// `sort(metric)` or `sort_desc(metric)`: an instant query's vector in the order of its
    /// values (a matrix is in the order of its labels anyway).
    Sort { desc: bool, inner: Box<Metric> },
    /// `label_replace(metric, "dst", "replacement", "src", "regex")`: each series whose label
    /// `src` (empty when it has none) matches the whole of `regex` gets `dst` set to the
    /// replacement with `$1`, `${name}` … expanded (removed when that is empty); the others stay
    /// as they are.
    LabelReplace { inner: Box<Metric>, dst: String, replacement: String, src: String, regex: Regex },
    /// `lhs op rhs`: arithmetic, comparisons (filtering, or 0 and 1 with `bool`) and the set
    /// operators, series matched one to one on their labels (or `on` / `ignoring` some).
    Binary { op: BinOp, lhs: Box<Metric>, rhs: Box<Metric>, return_bool: bool, matching: Matching },
    /// A number (two numbers with an operator between them are reduced to one, as Loki does).
    Literal(f64),
    /// `vector(n)`: one series without labels, `n` at every step.
    Constant(f64),
}

/// An operator between two metric queries, or a metric query and a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    And,
    Or,
    Unless,
}

impl BinOp {
    /// How tightly the operator binds, as in Loki's grammar (`%left OR`, `%left AND UNLESS`,
    /// `%left CMP_EQ NEQ LT LTE GT GTE`, `%left ADD SUB`, `%left MUL DIV MOD`, `%right POW`)
    /// and Prometheus.
    fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And | BinOp::Unless => 2,
            BinOp::Eq | BinOp::Ne | BinOp::Gt | BinOp::Ge | BinOp::Lt | BinOp::Le => 3,
            BinOp::Add | BinOp::Sub => 4,
            BinOp::Mul | BinOp::Div | BinOp::Mod => 5,
            BinOp::Pow => 6,
        }
    }

    pub(crate) fn is_comparison(self) -> bool {
        self.precedence() == 3
    }

    pub(crate) fn is_set(self) -> bool {
        self.precedence() <= 2
    }

    fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Pow => "^",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Unless => "unless",
        }
    }

    /// `l op r`; a comparison gives 1 when it holds, else 0. As in Loki's `MergeBinOp`, a
    /// division or modulo by zero gives NaN (where Prometheus gives ±Inf).
    pub(crate) fn apply(self, l: f64, r: f64) -> f64 {
        let truth = |holds: bool| if holds { 1.0 } else { 0.0 };
        match self {
            BinOp::Add => l + r,
            BinOp::Sub => l - r,
            BinOp::Mul => l * r,
            BinOp::Div | BinOp::Mod if r == 0.0 => f64::NAN,
            BinOp::Div => l / r,
            // Go's math.Mod: the sign of the dividend, as Rust's `%` on floats.
            BinOp::Mod => l % r,
            BinOp::Pow => l.powf(r),
            BinOp::Eq => truth(l == r),
            BinOp::Ne => truth(l != r),
            BinOp::Gt => truth(l > r),
            BinOp::Ge => truth(l >= r),
            BinOp::Lt => truth(l < r),
            BinOp::Le => truth(l <= r),
            BinOp::And | BinOp::Or | BinOp::Unless => l,
        }
    }
}

/// Which labels match series of the two sides of a binary operator: only `labels` (`on`), or
/// all but them (`ignoring`, and no modifier at all, which ignores none); and how many series of
/// each side one match may join.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Matching {
    pub(crate) on: bool,
    pub(crate) labels: Vec<String>,
    pub(crate) card: Card,
}

/// How many series of each side of a binary operator one match joins, as in Prometheus.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Card {
    /// One series of each side; the result keeps the matched labels.
    #[default]
    OneToOne,
    /// `group_left (labels)`: many series of the left side to one of the right; the result keeps
    /// the left series' labels, with `labels` taken from the right series (or removed where it
    /// has none).
    ManyToOne(Vec<String>),
    /// `group_right (labels)`: the same, sides swapped.
    OneToMany(Vec<String>),
}

impl Matching {
    /// Whether two series are matched on the label `key`.
    pub(crate) fn keeps(&self, key: &str) -> bool {
        self.labels.iter().any(|l| l == key) == self.on
    }
}

/// A function of the log lines in a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeFn {
    /// Lines in the range.
    CountOverTime,
    /// Lines per second.
    Rate,
    /// Bytes of the lines in the range.
    BytesOverTime,
    /// Bytes per second.
    BytesRate,
    /// The sum of the unwrapped values.
    SumOverTime,
    /// Their mean.
    AvgOverTime,
    /// Their minimum.
    MinOverTime,
    /// Their maximum.
    MaxOverTime,
    /// The oldest in the range.
    FirstOverTime,
    /// The newest in the range.
    LastOverTime,
    /// Their population standard deviation.
    StddevOverTime,
    /// Their population variance.
    StdvarOverTime,
    /// Their φ-quantile, interpolated as Prometheus does.
    QuantileOverTime,
    /// 1, labelled by the selector's `=` matchers, at the steps whose range has no line.
    AbsentOverTime,
}

impl RangeFn {
    fn named(name: &str) -> Option<RangeFn> {
        Some(match name {
            "count_over_time" => RangeFn::CountOverTime,
            "rate" => RangeFn::Rate,
            "bytes_over_time" => RangeFn::BytesOverTime,
            "bytes_rate" => RangeFn::BytesRate,
            "sum_over_time" => RangeFn::SumOverTime,
            "avg_over_time" => RangeFn::AvgOverTime,
            "min_over_time" => RangeFn::MinOverTime,
            "max_over_time" => RangeFn::MaxOverTime,
            "first_over_time" => RangeFn::FirstOverTime,
            "last_over_time" => RangeFn::LastOverTime,
            "stddev_over_time" => RangeFn::StddevOverTime,
            "stdvar_over_time" => RangeFn::StdvarOverTime,
            "quantile_over_time" => RangeFn::QuantileOverTime,
            "absent_over_time" => RangeFn::AbsentOverTime,
            _ => return None,
        })
    }

    /// Whether the function computes with unwrapped values (`rate` may or may not).
    fn needs_values(self) -> bool {
        !matches!(
            self,
            RangeFn::CountOverTime
                | RangeFn::Rate
                | RangeFn::BytesOverTime
                | RangeFn::BytesRate
                | RangeFn::AbsentOverTime
        )
    }
}

/// How series are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VectorOp {
    Sum,
    Count,
    Min,
    Max,
    Avg,
    /// The population standard deviation.
    Stddev,
    /// The population variance.
    Stdvar,
}

/// Which labels an aggregation keeps: only `labels` (`by`, and no grouping at all, which keeps
/// none), or all but them (`without`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Grouping {
    pub(crate) without: bool,
    pub(crate) labels: Vec<String>,
}

impl Grouping {
    /// Whether the groups keep the label `key`.
    pub(crate) fn keeps(&self, key: &str) -> bool {
        self.labels.iter().any(|l| l == key) != self.without
    }
}

impl Metric {
    /// The metric queries this one is made of.
    fn children(&self) -> Vec<&Metric> {
        match self {
            Metric::Range { .. } | Metric::Literal(_) | Metric::Constant(_) => Vec::new(),
            Metric::Vector { inner, .. }
            | Metric::Top { inner, .. }
            | Metric::Sort { inner, .. }
            | Metric::LabelReplace { inner, .. } => vec![inner],
            Metric::Binary { lhs, rhs, .. } => vec![lhs, rhs],
        }
    }

    /// How deeply the query nests.
    fn depth(&self) -> u32 {
        1 + self.children().into_iter().map(Metric::depth).max().unwrap_or(0)
    }

    /// Whether the query sorts its answer by value (`sort`, `sort_desc`), which an instant
    /// query then keeps, as Loki's `Sortable` does.
    pub(crate) fn sorts(&self) -> bool {
        matches!(self, Metric::Sort { .. }) || self.children().into_iter().any(Metric::sorts)
    }
}

/// `|= "text"`, `!= "text"`, `|~ "re"` or `!~ "re"`, with alternatives joined by `or`.
#[derive(Debug, Clone)]
pub(crate) struct LineFilter {
    pub(crate) op: LineOp,
    pub(crate) needle: String,
    regex: Option<Regex>,
    /// For `|>` and `!>`: the pattern.
    pattern: Option<extract::Pattern>,
    /// `|= ip("10.0.0.0/8")` and `!= ip(…)`: an address the pattern holds, instead of `needle`.
    ip: Option<IpPattern>,
    /// `|= "a" or "b"`: the values after the first, with the same operator. As in Loki 3, the
    /// line passes `|=` and `|~` when any value matches, `!=` and `!~` when none does.
    or: Vec<LineFilter>,
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
    /// `|>`: a pattern (`<_>` for any text) matches the whole line (Loki 3).
    Pattern,
    /// `!>`
    NotPattern,
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
            MatchOp::Re | MatchOp::NotRe => Some(
                re2::compile_whole(&value)
                    .map_err(|e| ParseError { col, message: format!("invalid regular expression `{value}`: {e}") })?,
            ),
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
        let found = |f: &LineFilter| match f.op {
            LineOp::Contains | LineOp::NotContains => match &f.ip {
                Some(ip) => ip.found_in(line),
                None => line.contains(&f.needle),
            },
            LineOp::Matches | LineOp::NotMatches => f.regex.as_ref().is_some_and(|r| r.is_match(line)),
            LineOp::Pattern | LineOp::NotPattern => f.pattern.as_ref().is_some_and(|p| p.test(line)),
        };
        let any = found(self) || self.or.iter().any(found);
        match self.op {
            LineOp::Contains | LineOp::Matches | LineOp::Pattern => any,
            LineOp::NotContains | LineOp::NotMatches | LineOp::NotPattern => !any,
        }
    }
}

impl Comparison {
    /// Whether `value` satisfies the comparison; `None` when it is not a number of the kind.
    fn holds(&self, value: &str) -> Option<bool> {
        if let Some(ip) = &self.ip {
            return Some(ip.found_in(value) == (self.op == CmpOp::Eq));
        }
        let v = self.kind.convert(value)?;
        Some(match self.op {
            CmpOp::Eq => v == self.value,
            CmpOp::Ne => v != self.value,
            CmpOp::Gt => v > self.value,
            CmpOp::Ge => v >= self.value,
            CmpOp::Lt => v < self.value,
            CmpOp::Le => v <= self.value,
        })
    }
}

impl LogQl {
    /// Runs the pipeline over a record of time `time_ns`: `None` when the record does not pass,
    /// else what the stages left of its labels and added to them (and of its line). `label`
    /// looks a name up among the record's own labels and structured metadata, the metadata
    /// named as Loki adds it (`name_extracted` when a stream label has its name); `is_stream`
    /// tells stream labels, whose names a parsed label may not take (it gets `_extracted`), from
    /// metadata, which a parsed label of the same name replaces.
    pub(crate) fn process<'a>(
        &self,
        time_ns: i64,
        line: &str,
        label: impl Fn(&str) -> Option<&'a str>,
        is_stream: impl Fn(&str) -> bool,
    ) -> Option<Outcome<'_>> {
        if !self.selector.iter().all(|m| m.matches(label(&m.name).unwrap_or(""))) {
            return None;
        }
        let mut out = Outcome { parsed: Parsed::new(), deleted: Vec::new(), keeps: Vec::new(), line: None };
        // The line as the stages see it: `| line_format` replaces it.
        let mut line = Cow::Borrowed(line);
        for stage in &self.stages {
            match stage {
                Stage::Line(filter) => {
                    if !filter.matches(&line) {
                        return None;
                    }
                }
                Stage::Label(_) | Stage::Compare(_) => {
                    if !passes(stage, &mut out, &label) {
                        return None;
                    }
                }
                Stage::Filter(expr) => {
                    if !expr.holds(&mut out, &label) {
                        return None;
                    }
                }
                Stage::LineFormat(format) => {
                    let field = |name: &str| out.get(name, label(name)).unwrap_or("").to_owned();
                    let made = format.render(&template::Context { field: &field, line: &line, time_ns });
                    match made {
                        Ok(made) => line = Cow::Owned(made),
                        // Loki keeps the line as it was and says why.
                        Err(details) => set_error(&mut out.parsed, TEMPLATE_ERROR, details),
                    }
                }
                Stage::Drop(items) => {
                    for item in items {
                        let value = out.get(&item.name, label(&item.name)).unwrap_or("");
                        if !item.covers(&item.name, value) {
                            continue;
                        }
                        // Dropping the error takes its details too.
                        let error = item.name == "__error__";
                        out.parsed.retain(|(k, _)| !(*k == item.name || error && k == "__error_details__"));
                        if !error {
                            out.deleted.push(item.name.clone());
                        }
                    }
                }
                Stage::LabelFormat(formats) => {
                    // Loki renders every template of the stage from the labels as they were at
                    // its first template.
                    let mut values: Option<Vec<(&str, String)>> = None;
                    for format in formats {
                        let value = match &format.how {
                            Format::Rename(from) => {
                                let Some(value) = out.get(from, label(from)).map(str::to_owned) else {
                                    continue;
                                };
                                out.parsed.retain(|(k, _)| k != from);
                                out.deleted.push(from.clone());
                                value
                            }
                            Format::Template(format) => {
                                let values = values.get_or_insert_with(|| {
                                    let fields = formats.iter().flat_map(|f| match &f.how {
                                        Format::Template(_) => Some(f.how.reads()),
                                        Format::Rename(_) => None,
                                    });
                                    fields
                                        .flatten()
                                        .map(|name| (name, out.get(name, label(name)).unwrap_or("").to_owned()))
                                        .collect()
                                });
                                let field = |name: &str| {
                                    values.iter().find(|(k, _)| *k == name).map_or(String::new(), |(_, v)| v.clone())
                                };
                                match format.render(&template::Context { field: &field, line: &line, time_ns }) {
                                    Ok(text) => text,
                                    // Loki leaves the label as it was and says why.
                                    Err(details) => {
                                        set_error(&mut out.parsed, TEMPLATE_ERROR, details);
                                        continue;
                                    }
                                }
                            }
                        };
                        // The label is set as it is named, even a stream label's name (Loki's
                        // `Set`), and so replaces it.
                        match out.parsed.iter_mut().find(|(k, _)| *k == format.name) {
                            Some(slot) => slot.1 = value,
                            None => out.parsed.push((format.name.clone(), value)),
                        }
                    }
                }
                Stage::Keep(items) => {
                    let special = |k: &str| k == "__error__" || k == "__error_details__";
                    let gone: Vec<String> = out
                        .parsed
                        .iter()
                        .filter(|(k, v)| !special(k) && !items.iter().any(|i| i.covers(k, v)))
                        .map(|(k, _)| k.clone())
                        .collect();
                    out.parsed.retain(|(k, _)| !gone.contains(k));
                    out.deleted.extend(gone);
                    out.keeps.push(items);
                }
                Stage::Decolorize => {
                    if let Some(clean) = extract::decolorize(&line) {
                        line = Cow::Owned(clean);
                    }
                }
                Stage::Json(_) | Stage::Logfmt { .. } | Stage::Regexp(_) | Stage::Pattern(_) | Stage::Unpack => {
                    let mut found = Parsed::new();
                    // Whether a name already has a value, which a path a line lacks leaves.
                    let has = |out: &Outcome<'_>, name: &str| out.get(name, label(name)).is_some();
                    let result = match stage {
                        Stage::Logfmt { strict, keep_empty, only } if only.is_empty() => {
                            extract::logfmt(&line, *strict, *keep_empty, &mut found).map_err(|d| (LOGFMT_ERROR, d))
                        }
                        // Loki's LogfmtExpressionParser: each name is set, empty unless a stream
                        // label has it, then to the value of the last pair of its key.
                        Stage::Logfmt { strict, only, .. } => {
                            let mut pairs = Parsed::new();
                            let result = extract::logfmt(&line, *strict, true, &mut pairs);
                            for (name, key) in only {
                                match pairs.iter().rev().find(|(k, _)| k == key) {
                                    Some((_, value)) => found.push((name.clone(), value.clone())),
                                    None if !is_stream(name) => found.push((name.clone(), String::new())),
                                    None => {}
                                }
                            }
                            result.map_err(|d| (LOGFMT_ERROR, d))
                        }
                        // Loki's JSONExpressionParser: a path the line lacks gives the empty value
                        // to a name that has none yet.
                        Stage::Json(paths) if !paths.is_empty() => {
                            let mut values = Vec::new();
                            let result = extract::json_values(&line, paths, &mut values);
                            for (name, value) in values {
                                match value {
                                    Some(value) => found.push((name, value)),
                                    None if !has(&out, &name) => found.push((name, String::new())),
                                    None => {}
                                }
                            }
                            result.map_err(|d| (JSON_ERROR, d))
                        }
                        Stage::Unpack => match extract::unpack(&line) {
                            Ok(Some((entry, labels))) => {
                                line = Cow::Owned(entry);
                                found = labels;
                                Ok(())
                            }
                            Ok(None) => Ok(()),
                            Err(details) => Err((JSON_ERROR, details)),
                        },
                        // Neither fails a line: one that does not match adds nothing.
                        Stage::Regexp(regex) => {
                            extract::regexp(regex, &line, &mut found);
                            Ok(())
                        }
                        Stage::Pattern(pattern) => {
                            pattern.extract(&line, &mut found);
                            Ok(())
                        }
                        _ => extract::json(&line, &mut found).map_err(|d| (JSON_ERROR, d)),
                    };
                    // What was read before an error is kept, as in Loki.
                    if let Err((error, details)) = result {
                        set_error(&mut out.parsed, error, details);
                    }
                    for (mut name, value) in found {
                        // A stream label's name stays the stream label's and the parsed one is
                        // renamed, as Loki's parsers do (`BaseHas`); metadata of the name is
                        // replaced (the lookup finds the parsed label first).
                        if is_stream(&name) {
                            name.push_str("_extracted");
                        }
                        match out.parsed.iter_mut().find(|(k, _)| *k == name) {
                            Some(slot) => slot.1 = value,
                            None => out.parsed.push((name, value)),
                        }
                    }
                }
            }
        }
        if let Cow::Owned(made) = line {
            out.line = Some(made);
        }
        Some(out)
    }

    /// The labels of `absent_over_time`'s series, as Loki's `absentLabels` makes them: those of
    /// the selector's `=` matchers, less any name that another matcher also names.
    pub(crate) fn absent_labels(&self) -> Vec<(String, String)> {
        let once = |name: &str| self.selector.iter().filter(|m| m.name == name).count() == 1;
        self.selector
            .iter()
            .filter(|m| m.op == MatchOp::Eq && once(&m.name))
            .map(|m| (m.name.clone(), m.value.clone()))
            .collect()
    }

    /// Whether the pipeline's `__error__` filters from its stage `from` on (if any) keep a line
    /// whose error is `error`: from `| unwrap`'s `stages_before` for the error of a value that
    /// does not convert, which Loki sets after the stages before `| unwrap` have run.
    pub(crate) fn keeps_error(&self, error: &str, from: usize) -> bool {
        self.stages.iter().skip(from).all(|s| match s {
            Stage::Label(m) if m.name == "__error__" => m.matches(error),
            _ => true,
        })
    }

    /// Whether the pipeline has a parser stage (whose labels only exist once it has run).
    pub(crate) fn has_parser(&self) -> bool {
        self.stages.iter().any(Stage::is_parser)
    }

    /// Values that the record's label `name` must equal, from `=` matchers in the selector and
    /// label filters before any parser (after one, a filter may see a parsed label instead) or
    /// `| drop`, `| keep` or `| label_format` (after which it may see no label, or another).
    pub(crate) fn required<'q>(&'q self, name: &'q str) -> impl Iterator<Item = &'q str> + 'q {
        let stages = self.stages.iter().take_while(|s| !(s.is_parser() || s.changes_labels()));
        let stages = stages.filter_map(|s| match s {
            Stage::Label(m) => Some(m),
            _ => None,
        });
        self.selector
            .iter()
            .chain(stages)
            .filter(move |m| m.name == name && m.op == MatchOp::Eq)
            .map(|m| m.value.as_str())
    }

    /// Texts that every matching record's line contains (line filters after `| line_format`,
    /// `| unpack` or `| decolorize` look at another line).
    pub(crate) fn contained(&self) -> impl Iterator<Item = &str> {
        let stages =
            self.stages.iter().take_while(|s| !matches!(s, Stage::LineFormat(_) | Stage::Unpack | Stage::Decolorize));
        stages.filter_map(|s| match s {
            Stage::Line(LineFilter { op: LineOp::Contains, needle, or, ip: None, .. }) if or.is_empty() => {
                Some(needle.as_str())
            }
            _ => None,
        })
    }

    /// Whether any part of the query looks at a label other than those in `names`.
    pub(crate) fn uses_labels_outside(&self, names: &[&str]) -> bool {
        self.labels_read().any(|name| !names.contains(&name))
    }

    /// Whether some part of the query looks at the label `name`.
    pub(crate) fn uses_label(&self, name: &str) -> bool {
        self.labels_read().any(|n| n == name)
    }

    /// The names of the labels whose values some part of the query looks at.
    fn labels_read(&self) -> impl Iterator<Item = &str> {
        fn tested(stage: &Stage) -> Option<&str> {
            match stage {
                Stage::Label(m) => Some(m.name.as_str()),
                Stage::Compare(c) => Some(c.name.as_str()),
                _ => None,
            }
        }
        let stages = self.stages.iter().flat_map(move |s| -> Vec<&str> {
            match s {
                Stage::Label(_) | Stage::Compare(_) => tested(s).into_iter().collect(),
                Stage::Filter(expr) => expr.tests().into_iter().filter_map(tested).collect(),
                Stage::LineFormat(template) => template.fields().collect(),
                // A condition of `| drop` or `| keep` reads the label's value.
                Stage::Drop(items) | Stage::Keep(items) => {
                    items.iter().filter(|i| i.condition.is_some()).map(|i| i.name.as_str()).collect()
                }
                Stage::LabelFormat(formats) => formats.iter().flat_map(|f| f.how.reads()).collect(),
                _ => Vec::new(),
            }
        });
        self.selector.iter().map(|m| m.name.as_str()).chain(stages)
    }
}

/// Whether the record passes a label filter (`Stage::Label` or `Stage::Compare`; any other
/// stage passes).
fn passes<'a>(stage: &Stage, out: &mut Outcome<'_>, label: &impl Fn(&str) -> Option<&'a str>) -> bool {
    match stage {
        Stage::Label(m) => m.matches(out.get(&m.name, label(&m.name)).unwrap_or("")),
        // A line that an earlier stage failed on passes, as in Loki: only string filters (such
        // as `| __error__=""`) leave it out, so that the user sees why it was not compared.
        Stage::Compare(_) if out.parsed.iter().any(|(k, _)| k == "__error__") => true,
        Stage::Compare(c) => match out.get(&c.name, label(&c.name)) {
            None => false,
            Some(value) => match c.holds(value) {
                Some(holds) => holds,
                // Loki keeps the line and says why the filter could not decide.
                None => {
                    let details = format!("`{}`: `{value}` is not a number", c.name);
                    set_error(&mut out.parsed, LABEL_FILTER_ERROR, details);
                    true
                }
            },
        },
        _ => true,
    }
}

/// Sets `__error__` (and its details), as the first failing stage left them.
fn set_error(parsed: &mut Parsed, error: &str, details: String) {
    if parsed.iter().any(|(k, _)| k == "__error__") {
        return;
    }
    parsed.push(("__error__".into(), error.into()));
    parsed.push(("__error_details__".into(), details));
}

/// Reads a LogQL log query.
pub(crate) fn parse(query: &str) -> Result<LogQl, ParseError> {
    let mut p = Parser { text: query, pos: 0, depth: 0 };
    p.skip_space();
    if p.peek() != Some('{') {
        let message = if p.ident_here().is_some() {
            "a log query starts with a stream selector, such as {service_name=\"checkout\"}; metric queries \
             are answered by query_range and query only"
        } else {
            "a log query starts with a stream selector, such as {service_name=\"checkout\"}"
        };
        return Err(p.error(message));
    }
    let (q, _, _) = p.log_query(false)?;
    Ok(q)
}

/// Reads a LogQL query, a log query or a metric query.
pub(crate) fn parse_query(query: &str) -> Result<Query, ParseError> {
    let mut p = Parser { text: query, pos: 0, depth: 0 };
    p.skip_space();
    if p.peek() == Some('{') {
        return parse(query).map(Query::Log);
    }
    if p.ident_here().is_none() && !matches!(p.peek(), Some('(' | '0'..='9' | '.' | '-' | '+')) {
        return Err(
            p.error("a query starts with a stream selector, such as {service_name=\"checkout\"}, or a function")
        );
    }
    let metric = p.expr(0)?;
    p.skip_space();
    if p.peek().is_some() {
        return Err(p.error("unexpected text after the query"));
    }
    Ok(Query::Metric(metric))
}

/// A field of a line, as [`line_fields`] finds it: its name, its value, and for a JSON line
/// the keys of the path to it (Loki's `jsonPath`).
pub(crate) type LineField = (String, String, Option<Vec<String>>);

/// The fields Loki's `detected_fields` finds in a line, and the parser that found them: `json`
/// for a line that reads as a JSON object (nested keys joined by `_`, as `| json` names them,
/// each with its path of keys), else `logfmt` for one with `key=value` pairs; `None` for a line
/// with neither.
pub(crate) fn line_fields(line: &str) -> Option<(&'static str, Vec<LineField>)> {
    let mut fields = Vec::new();
    let mut paths = Vec::new();
    if line.trim_start().starts_with('{') && extract::json_with_paths(line, &mut fields, &mut paths).is_ok() {
        let found = fields.into_iter().zip(paths).map(|((name, value), path)| (name, value, Some(path))).collect();
        return Some(("json", found));
    }
    fields.clear();
    let _ = extract::logfmt(line, false, false, &mut fields);
    (!fields.is_empty()).then(|| ("logfmt", fields.into_iter().map(|(name, value)| (name, value, None)).collect()))
}

/// The type Loki gives a detected field's value (`determineType`): `int`, `float`, `boolean`,
/// `duration`, `bytes`, else `string`.
pub(crate) fn field_type(value: &str) -> &'static str {
    if value.parse::<i64>().is_ok() {
        "int"
    } else if value.parse::<f64>().is_ok() {
        "float"
    } else if matches!(
        value,
        "1" | "t" | "T" | "TRUE" | "true" | "True" | "0" | "f" | "F" | "FALSE" | "false" | "False"
    ) {
        "boolean"
    } else if crate::jaeger::parse_go_duration(value).is_ok() {
        "duration"
    } else if value.chars().next().is_some_and(|c| c.is_ascii_digit()) && extract::bytes(value).is_some() {
        "bytes"
    } else {
        "string"
    }
}

/// Parses a duration as Prometheus' `model.ParseDuration` does, which Loki reads ranges and
/// steps with, into nanoseconds: whole numbers with the units `y` (365 days), `w`, `d`, `h`,
/// `m`, `s` and `ms`, from the largest down and each at most once (`1h30m`, `1d`, `250ms`),
/// or `0`.
pub(crate) fn parse_duration(text: &str) -> Option<i64> {
    if text == "0" {
        return Some(0);
    }
    let mut rest = text;
    let mut total: i64 = 0;
    // Where the last unit stands in `UNITS`: the next must come after it.
    let mut last = None;
    const UNITS: [(&str, i64); 7] = [
        ("y", 31_536_000_000_000_000),
        ("w", 604_800_000_000_000),
        ("d", 86_400_000_000_000),
        ("h", 3_600_000_000_000),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
    ];
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let n: i64 = rest.get(..digits)?.parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let at = UNITS.iter().position(|(u, _)| *u == &rest[..unit_len])?;
        if last.is_some_and(|last| at <= last) {
            return None;
        }
        last = Some(at);
        rest = &rest[unit_len..];
        total = total.checked_add(n.checked_mul(UNITS[at].1)?)?;
    }
    Some(total)
}

/// Parses an offset as Loki's lexer reads a duration: as Prometheus does ([`parse_duration`]),
/// else as Go's `time.ParseDuration` (`1.5h`, `-5m`, `100us`), into nanoseconds.
fn parse_offset(text: &str) -> Option<i64> {
    parse_duration(text).or_else(|| crate::jaeger::parse_go_duration(text).ok())
}

/// A range and its offset, in nanoseconds.
type Range = (i64, i64);

/// How deep aggregations may nest: the parser and the evaluation recurse once per level, on a
/// worker thread's stack.
const MAX_DEPTH: u32 = 64;

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    /// Metric queries being read around this point.
    depth: u32,
}

impl Parser<'_> {
    /// A log query from here: a selector and its pipeline, up to the end of the text, or (in a
    /// metric query, `inside`) up to `)`. A range (`[5m]`, with its `offset`) after the selector
    /// or the pipeline, and an `| unwrap`, are returned beside it.
    fn log_query(&mut self, inside: bool) -> Result<(LogQl, Option<Range>, Option<Unwrap>), ParseError> {
        self.skip_space();
        if self.peek() != Some('{') {
            return Err(self.error("expected a stream selector, such as {service_name=\"checkout\"}"));
        }
        let selector = self.selector()?;
        let mut stages = Vec::new();
        let mut range = None;
        let mut unwrap = None;
        loop {
            self.skip_space();
            let op = if self.eat("|=") {
                LineOp::Contains
            } else if self.eat("!=") {
                LineOp::NotContains
            } else if self.eat("|~") {
                LineOp::Matches
            } else if self.eat("!~") {
                LineOp::NotMatches
            } else if self.eat("|>") {
                LineOp::Pattern
            } else if self.eat("!>") {
                LineOp::NotPattern
            } else if self.eat("|") {
                self.pipe_stage(inside, &mut stages, &mut unwrap)?;
                continue;
            } else if inside && range.is_none() && self.peek() == Some('[') {
                let range_ns = self.range()?;
                range = Some((range_ns, self.offset()?));
                continue;
            } else if self.peek().is_none() || (inside && self.peek() == Some(')')) {
                break;
            } else {
                return Err(
                    self.error("expected a line filter (|=, !=, |~, !~, |>, !>) or a label filter (| name=\"value\")")
                );
            };
            if unwrap.is_some() {
                self.pos -= 2; // at the operator
                return Err(
                    self.error("only label filters can follow `| unwrap` (as in Loki): move line filters before it")
                );
            }
            let mut filter = self.line_filter_value(op)?;
            loop {
                let at = self.pos;
                self.skip_space();
                if self.ident_here() != Some("or") {
                    self.pos = at;
                    break;
                }
                self.pos += 2;
                let alternative = self.line_filter_value(op)?;
                filter.or.push(alternative);
            }
            stages.push(Stage::Line(filter));
        }
        if !selector.iter().any(|m| matches!(m.op, MatchOp::Eq | MatchOp::Re) && !m.matches("")) {
            return Err(ParseError {
                col: 1,
                message: "queries need at least one matcher with `=` or `=~` that an empty value does not satisfy: \
                          {service_name=~\".*\"} does not, {service_name=~\".+\"} does"
                    .into(),
            });
        }
        Ok((LogQl { selector, stages }, range, unwrap))
    }

    /// The string of a line filter with operator `op`.
    fn line_filter_value(&mut self, op: LineOp) -> Result<LineFilter, ParseError> {
        self.skip_space();
        let scol = self.pos;
        if self.ident_here() == Some("ip") {
            if !matches!(op, LineOp::Contains | LineOp::NotContains) {
                return Err(self.error("ip(…) filters lines with |= and != only"));
            }
            let ip = Some(self.ip_pattern()?);
            return Ok(LineFilter { op, needle: String::new(), regex: None, pattern: None, ip, or: Vec::new() });
        }
        let needle = self.string()?;
        let regex = match op {
            LineOp::Matches | LineOp::NotMatches => Some(re2::compile(&needle).map_err(|e| ParseError {
                col: self.text[..scol].chars().count() + 1,
                message: format!("invalid regular expression `{needle}`: {e}"),
            })?),
            _ => None,
        };
        let pattern = match op {
            LineOp::Pattern | LineOp::NotPattern => {
                Some(extract::Pattern::line_filter(&needle).map_err(|e| ParseError {
                    col: self.text[..scol].chars().count() + 1,
                    message: format!("invalid pattern `{needle}`: {e}"),
                })?)
            }
            _ => None,
        };
        Ok(LineFilter { op, needle, regex, pattern, ip: None, or: Vec::new() })
    }

    /// `[5m]`: Loki's lexer reads all up to `]` as the duration, so `[ 5m ]` is refused as
    /// there.
    fn range(&mut self) -> Result<i64, ParseError> {
        self.eat("[");
        let start = self.pos;
        let end = self.text[start..].find(']').ok_or_else(|| self.error("expected `]` after the range"))?;
        let text = &self.text[start..start + end];
        match parse_duration(text) {
            Some(ns) if ns > 0 => {
                self.pos = start + end + 1;
                Ok(ns)
            }
            _ if text.trim() != text => {
                Err(self.error(format!("invalid range `{text}`: no white space inside the brackets, such as [5m]")))
            }
            _ => Err(self.error(format!("invalid range `{text}`: expected a duration such as 5m, 30s or 1h"))),
        }
    }

    /// `offset 1h` after a range, when here; else 0.
    fn offset(&mut self) -> Result<i64, ParseError> {
        let at = self.pos;
        self.skip_space();
        if self.ident_here() != Some("offset") {
            self.pos = at;
            return Ok(0);
        }
        self.pos += "offset".len();
        self.skip_space();
        let start = self.pos;
        let len = self.text[start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '|' | ')' | '#'))
            .unwrap_or(self.text.len() - start);
        let text = &self.text[start..start + len];
        let offset = parse_offset(text)
            .ok_or_else(|| self.error(format!("invalid offset `{text}`: expected a duration such as 1h, 30m or 1d")))?;
        self.pos = start + len;
        Ok(offset)
    }

    /// Metric queries and numbers joined by binary operators that bind at least as tightly as
    /// `min` (precedence climbing).
    fn expr(&mut self, min: u8) -> Result<Metric, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!("metric queries nested more than {MAX_DEPTH} deep are not supported")));
        }
        let mut lhs = self.operand()?;
        loop {
            let at = self.pos;
            self.skip_space();
            let Some((op, len)) = self.bin_op_here().filter(|(op, _)| op.precedence() >= min) else {
                self.pos = at;
                break;
            };
            let col = self.pos;
            self.pos += len;
            let return_bool = self.keyword("bool");
            if return_bool && !op.is_comparison() {
                return Err(self.error("bool modifier can only be used on comparison operators"));
            }
            let at = self.pos;
            self.skip_space();
            let (explicit, mut matching) = match self.ident_here() {
                Some(word @ ("on" | "ignoring")) => {
                    let on = word == "on";
                    self.pos += word.len();
                    (true, Matching { on, labels: self.label_list()?, card: Card::OneToOne })
                }
                _ => {
                    self.pos = at;
                    (false, Matching::default())
                }
            };
            let at = self.pos;
            self.skip_space();
            if let Some(word @ ("group_left" | "group_right")) = self.ident_here() {
                let left = word == "group_left";
                let word = word.to_owned();
                if !explicit {
                    return Err(self.error(format!("`{word}` needs `on (…)` or `ignoring (…)` before it")));
                }
                if op.is_set() {
                    return Err(self.error(format!("no grouping allowed for `{}` operation", op.symbol())));
                }
                self.pos += word.len();
                let at = self.pos;
                self.skip_space();
                let include = if self.peek() == Some('(') {
                    self.label_list()?
                } else {
                    self.pos = at;
                    Vec::new()
                };
                if matching.on {
                    if let Some(both) = include.iter().find(|l| matching.labels.contains(l)) {
                        return Err(self.error(format!("label `{both}` must not occur in ON and GROUP clause at once")));
                    }
                }
                matching.card = if left { Card::ManyToOne(include) } else { Card::OneToMany(include) };
            } else {
                self.pos = at;
            }
            // `^` is right-associative: its right side may hold another `^`.
            let next = if op == BinOp::Pow { op.precedence() } else { op.precedence() + 1 };
            let rhs = self.expr(next)?;
            lhs = self.binary(op, lhs, rhs, return_bool, matching, col)?;
        }
        self.depth -= 1;
        Ok(lhs)
    }

    /// `lhs op rhs`, two numbers reduced to one as Loki's `reduceBinOp` does (a comparison gives
    /// 1 or 0 there, with `bool` or without).
    fn binary(
        &self,
        op: BinOp,
        lhs: Metric,
        rhs: Metric,
        return_bool: bool,
        matching: Matching,
        col: usize,
    ) -> Result<Metric, ParseError> {
        let fail = |message: String| ParseError { col: self.text[..col].chars().count() + 1, message };
        if op.is_set() {
            for (side, leg) in [("left", &lhs), ("right", &rhs)] {
                if let Metric::Literal(v) = leg {
                    return Err(fail(format!(
                        "unexpected literal for {side} leg of logical/set binary operation ({}): {v}",
                        op.symbol()
                    )));
                }
            }
        }
        if let (Metric::Literal(l), Metric::Literal(r)) = (&lhs, &rhs) {
            return Ok(Metric::Literal(op.apply(*l, *r)));
        }
        let metric = Metric::Binary { op, lhs: Box::new(lhs), rhs: Box::new(rhs), return_bool, matching };
        if metric.depth() > MAX_DEPTH {
            return Err(fail(format!("metric queries nested more than {MAX_DEPTH} deep are not supported")));
        }
        Ok(metric)
    }

    /// The binary operator starting here, and its length.
    fn bin_op_here(&self) -> Option<(BinOp, usize)> {
        const OPS: [(&str, BinOp); 12] = [
            ("==", BinOp::Eq),
            ("!=", BinOp::Ne),
            (">=", BinOp::Ge),
            ("<=", BinOp::Le),
            (">", BinOp::Gt),
            ("<", BinOp::Lt),
            ("+", BinOp::Add),
            ("-", BinOp::Sub),
            ("*", BinOp::Mul),
            ("/", BinOp::Div),
            ("%", BinOp::Mod),
            ("^", BinOp::Pow),
        ];
        let rest = &self.text[self.pos..];
        if let Some((token, op)) = OPS.iter().find(|(token, _)| rest.starts_with(token)) {
            return Some((*op, token.len()));
        }
        match self.ident_here()? {
            "and" => Some((BinOp::And, 3)),
            "or" => Some((BinOp::Or, 2)),
            "unless" => Some((BinOp::Unless, 6)),
            _ => None,
        }
    }

    /// A metric query in parentheses, a number (with its sign) or a function.
    fn operand(&mut self) -> Result<Metric, ParseError> {
        self.skip_space();
        if self.eat("(") {
            let inner = self.expr(0)?;
            self.skip_space();
            if !self.eat(")") {
                return Err(self.error("expected `)`"));
            }
            return Ok(inner);
        }
        let rest = &self.text[self.pos..];
        let unsigned = rest.strip_prefix(['-', '+']).unwrap_or(rest);
        if unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
            return Ok(Metric::Literal(self.number()?));
        }
        if self.ident_here().is_none() {
            return Err(self.error(
                "expected a metric query, such as count_over_time({service_name=\"checkout\"}[5m]), or a number",
            ));
        }
        self.call()
    }

    /// A number, as Loki's lexer reads one (`12`, `0.5`, `-3`, `1e3`).
    fn number(&mut self) -> Result<f64, ParseError> {
        let start = self.pos;
        let rest = &self.text[start..];
        let mut len = usize::from(rest.starts_with(['-', '+']));
        len += rest[len..].find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len() - len);
        if rest[len..].starts_with(['e', 'E']) {
            let sign = usize::from(rest[len + 1..].starts_with(['-', '+']));
            let digits = rest[len + 1 + sign..].bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 {
                len += 1 + sign + digits;
            }
        }
        match rest[..len].parse::<f64>() {
            Ok(v) => {
                self.pos += len;
                Ok(v)
            }
            Err(_) => Err(self.error(format!("invalid number `{}`", &rest[..len]))),
        }
    }

    /// A range function, an aggregation of metric queries, `topk`/`bottomk`, `sort`/`sort_desc`
    /// or `vector(n)`.
    fn call(&mut self) -> Result<Metric, ParseError> {
        self.skip_space();
        let col = self.pos;
        let name = self.ident_here().unwrap_or("").to_owned();
        let func = RangeFn::named(&name);
        let op = match name.as_str() {
            "sum" => Some(VectorOp::Sum),
            "count" => Some(VectorOp::Count),
            "min" => Some(VectorOp::Min),
            "max" => Some(VectorOp::Max),
            "avg" => Some(VectorOp::Avg),
            "stddev" => Some(VectorOp::Stddev),
            "stdvar" => Some(VectorOp::Stdvar),
            _ => None,
        };
        let other = matches!(name.as_str(), "topk" | "bottomk" | "sort" | "sort_desc" | "vector" | "label_replace");
        if func.is_none() && op.is_none() && !other {
            return Err(self.error(format!(
                "`{name}` is not supported: metric queries use count_over_time, rate, bytes_over_time, bytes_rate, \
                 absent_over_time or, \
                 over unwrapped values, sum_, avg_, min_, max_, first_, last_, stddev_, stdvar_ or quantile_over_time, \
                 aggregated by sum, count, min, max, avg, stddev, stdvar, topk, bottomk, sort or sort_desc, \
                 label_replace, vector(n), numbers, \
                 and binary operators between them"
            )));
        }
        self.pos += name.len();
        if other {
            return self.other_call(&name, col);
        }
        if let Some(func) = func {
            self.skip_space();
            if !self.eat("(") {
                return Err(self.error(format!("expected `(` after {name}")));
            }
            let mut param = None;
            if func == RangeFn::QuantileOverTime {
                self.skip_space();
                let start = self.pos;
                let end = self.text[start..].find(',').map_or(self.text.len(), |i| start + i);
                let Some(phi) = extract::number(&self.text[start..end]) else {
                    return Err(self.error("quantile_over_time takes φ first, such as quantile_over_time(0.99, …)"));
                };
                self.pos = end;
                self.eat(",");
                param = Some(phi);
            }
            let (query, range, unwrap) = self.log_query(true)?;
            self.skip_space();
            if !self.eat(")") {
                return Err(self.error(format!("expected `)` to close {name}")));
            }
            let Some((range_ns, offset_ns)) = range else {
                return Err(ParseError { col: col + 1, message: format!("{name} needs a range, such as [5m]") });
            };
            if func.needs_values() && unwrap.is_none() {
                return Err(ParseError {
                    col: col + 1,
                    message: format!("{name} computes with values: add `| unwrap label` before the range"),
                });
            }
            if unwrap.is_some() && !func.needs_values() && func != RangeFn::Rate {
                return Err(ParseError {
                    col: col + 1,
                    message: format!("{name} counts lines or bytes and takes no `| unwrap`"),
                });
            }
            // Only range functions over values take a grouping, as in Loki.
            let at = self.pos;
            self.skip_space();
            let grouping = if unwrap.is_some() { self.grouping()? } else { None };
            if grouping.is_none() {
                self.pos = at;
            }
            return Ok(Metric::Range { func, query, range_ns, offset_ns, unwrap, grouping, param });
        }
        let op = op.unwrap_or(VectorOp::Sum);
        let (grouping, _, inner) = self.aggregation(&name, false)?;
        Ok(Metric::Vector { op, grouping: grouping.unwrap_or_default(), inner: Box::new(inner) })
    }

    /// `topk`, `bottomk`, `sort`, `sort_desc`, `label_replace` or `vector`, after its name.
    fn other_call(&mut self, name: &str, col: usize) -> Result<Metric, ParseError> {
        if name == "label_replace" {
            return self.label_replace();
        }
        if name == "vector" {
            self.skip_space();
            if !self.eat("(") {
                return Err(self.error("expected `(` after vector"));
            }
            self.skip_space();
            let value = self.number()?;
            self.skip_space();
            if !self.eat(")") {
                return Err(self.error("expected `)` to close vector"));
            }
            return Ok(Metric::Constant(value));
        }
        let top = matches!(name, "topk" | "bottomk");
        let (grouping, k, inner) = self.aggregation(name, top)?;
        if top {
            let k = k.unwrap_or(0.0);
            if k.fract() != 0.0 || k < 1.0 || k > usize::MAX as f64 {
                return Err(ParseError {
                    col: col + 1,
                    message: format!("{name} takes a whole number above 0 first, such as {name}(5, …)"),
                });
            }
            let grouping = grouping.unwrap_or_default();
            return Ok(Metric::Top { bottom: name == "bottomk", k: k as usize, grouping, inner: Box::new(inner) });
        }
        if grouping.is_some() {
            return Err(ParseError { col: col + 1, message: format!("{name} takes no grouping") });
        }
        Ok(Metric::Sort { desc: name == "sort_desc", inner: Box::new(inner) })
    }

    /// The metric query that `name` takes as its argument (a number is refused).
    fn metric_argument(&mut self, name: &str) -> Result<Metric, ParseError> {
        self.skip_space();
        let at = self.pos;
        let inner = self.expr(0)?;
        if let Metric::Literal(_) = inner {
            self.pos = at;
            return Err(self.error(format!("{name} takes a metric query, such as rate({{…}}[5m]), not a number")));
        }
        Ok(inner)
    }

    /// The rest of `label_replace(metric, "dst", "replacement", "src", "regex")` after its name,
    /// checked as Loki checks it: `dst` a valid label name, `regex` a valid expression, which
    /// must match a whole value.
    fn label_replace(&mut self) -> Result<Metric, ParseError> {
        const USAGE: &str = r#"label_replace(metric query, "dst", "replacement", "src", "regex")"#;
        self.skip_space();
        if !self.eat("(") {
            return Err(self.error(format!("expected `(` after label_replace: {USAGE}")));
        }
        let inner = self.metric_argument("label_replace")?;
        let mut args = Vec::with_capacity(4);
        let mut cols = Vec::with_capacity(4);
        for _ in 0..4 {
            self.skip_space();
            if !self.eat(",") {
                return Err(self.error(format!("expected `,` and a string: {USAGE}")));
            }
            self.skip_space();
            cols.push(self.pos);
            args.push(self.string()?);
        }
        self.skip_space();
        if !self.eat(")") {
            return Err(self.error(format!("expected `)` to close label_replace: {USAGE}")));
        }
        let [dst, replacement, src, regex] = <[String; 4]>::try_from(args).expect("four arguments read");
        let at = |i: usize| self.text[..cols[i]].chars().count() + 1;
        let valid = |name: &str| {
            name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        if !valid(&dst) {
            return Err(ParseError {
                col: at(0),
                message: format!("invalid destination label name in label_replace(): {dst}"),
            });
        }
        let regex = re2::compile_whole(&regex).map_err(|e| ParseError {
            col: at(3),
            message: format!("invalid regular expression in label_replace(): {regex}: {e}"),
        })?;
        Ok(Metric::LabelReplace { inner: Box::new(inner), dst, replacement, src, regex })
    }

    /// The rest of an aggregation after its name: a grouping before or after `(`, a number and
    /// `,` first when `param`, and the metric query it aggregates.
    fn aggregation(&mut self, name: &str, param: bool) -> Result<(Option<Grouping>, Option<f64>, Metric), ParseError> {
        self.skip_space();
        let mut grouping = self.grouping()?;
        self.skip_space();
        if !self.eat("(") {
            return Err(self.error(format!("expected `(` after {name}")));
        }
        let mut k = None;
        if param {
            self.skip_space();
            k = Some(
                self.number().map_err(|_| self.error(format!("{name} takes a number first, such as {name}(5, …)")))?,
            );
            self.skip_space();
            if !self.eat(",") {
                return Err(self.error(format!("expected `,` after the number of {name}")));
            }
        }
        let inner = self.metric_argument(name)?;
        self.skip_space();
        if !self.eat(")") {
            return Err(self.error(format!("expected `)` to close {name}")));
        }
        self.skip_space();
        let at = self.pos;
        if let Some(after) = self.grouping()? {
            if grouping.is_some() {
                self.pos = at;
                return Err(self.error("a grouping comes before or after the argument, not both"));
            }
            grouping = Some(after);
        }
        Ok((grouping, k, inner))
    }

    /// `by (a, b)` or `without (a)`, when here.
    fn grouping(&mut self) -> Result<Option<Grouping>, ParseError> {
        let without = match self.ident_here() {
            Some("by") => false,
            Some("without") => true,
            _ => return Ok(None),
        };
        self.pos += if without { 7 } else { 2 };
        Ok(Some(Grouping { without, labels: self.label_list()? }))
    }

    /// `(a, b)` after `by`, `without`, `on` or `ignoring`.
    fn label_list(&mut self) -> Result<Vec<String>, ParseError> {
        self.skip_space();
        if !self.eat("(") {
            return Err(self.error("expected `(` and label names after by, without, on or ignoring"));
        }
        let mut labels = Vec::new();
        loop {
            self.skip_space();
            if self.eat(")") {
                return Ok(labels);
            }
            if !labels.is_empty() && !self.eat(",") {
                return Err(self.error("expected `,` or `)` in the label list"));
            }
            self.skip_space();
            labels.push(self.ident()?);
        }
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError { col: self.text[..self.pos].chars().count() + 1, message: message.into() }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    /// Skips white space and comments (`#` to the end of the line, as Loki's lexer reads them).
    fn skip_space(&mut self) {
        loop {
            match self.peek() {
                Some(c) if c.is_whitespace() => self.pos += c.len_utf8(),
                Some('#') => self.pos = self.text[self.pos..].find('\n').map_or(self.text.len(), |i| self.pos + i),
                _ => return,
            }
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

    /// `ip("…")`, starting here.
    fn ip_pattern(&mut self) -> Result<IpPattern, ParseError> {
        self.pos += "ip".len();
        self.skip_space();
        if !self.eat("(") {
            return Err(self.error("expected `(` after ip"));
        }
        self.skip_space();
        let at = self.pos;
        let text = self.string()?;
        let pattern = IpPattern::parse(&text).map_err(|message| {
            self.pos = at;
            self.error(message)
        })?;
        self.skip_space();
        if !self.eat(")") {
            return Err(self.error("expected `)` after the ip pattern"));
        }
        Ok(pattern)
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

    /// What follows `|`: a parser, `unwrap` (in a metric query), `drop name, …`, `keep name, …`,
    /// or label filters joined by `,` or `and` (each becomes a stage).
    fn pipe_stage(
        &mut self,
        inside: bool,
        stages: &mut Vec<Stage>,
        unwrap: &mut Option<Unwrap>,
    ) -> Result<(), ParseError> {
        self.skip_space();
        let word = self.ident_here().map(str::to_owned);
        let after = word.as_ref().map(|w| self.text[self.pos + w.len()..].trim_start());
        let is_stage_word = after.is_some_and(|rest| !rest.starts_with(['=', '!', '>', '<']));
        if unwrap.is_some() && is_stage_word {
            return Err(self.error(format!(
                "only label filters can follow `| unwrap` (as in Loki): move `| {}` before it",
                word.as_deref().unwrap_or_default()
            )));
        }
        match word.as_deref() {
            Some(parser @ ("json" | "logfmt")) if is_stage_word => {
                self.pos += parser.len();
                // Loki's flags of `logfmt`.
                let (mut strict, mut keep_empty) = (false, false);
                if parser == "logfmt" {
                    loop {
                        self.skip_space();
                        let flag = self.text[self.pos..].split(|c: char| c.is_whitespace() || c == '|').next();
                        match flag {
                            Some("--strict") => strict = true,
                            Some("--keep-empty") => keep_empty = true,
                            _ => break,
                        }
                        self.pos += flag.map_or(0, str::len);
                    }
                }
                let rest = self.text[self.pos..].trim_start();
                let ends = rest.is_empty()
                    || rest.starts_with(['|', '[', ')', '#'])
                    || rest.starts_with("!=")
                    || rest.starts_with("!~")
                    || rest.starts_with("!>");
                // Loki's labelExtractionExpressionList: `name="expression"` or `name`, joined by `,`.
                let mut extractions = Vec::new();
                let mut more = !ends;
                while more {
                    self.skip_space();
                    if self.ident_here().is_none() {
                        return Err(self.error(format!(
                            "expected a label name, or name=\"expression\", after `{parser}`{}",
                            if parser == "logfmt" { " (its flags are --strict and --keep-empty)" } else { "" }
                        )));
                    }
                    let name = self.ident()?;
                    let at = self.pos;
                    self.skip_space();
                    let (col, expression) = if self.eat("=") {
                        self.skip_space();
                        (self.pos, self.string()?)
                    } else {
                        self.pos = at;
                        (at, name.clone())
                    };
                    if extractions.iter().any(|(n, _, _)| *n == name) {
                        self.pos = col;
                        return Err(self.error(format!("duplicate extracted label name '{name}'")));
                    }
                    extractions.push((name, col, expression));
                    let at = self.pos;
                    self.skip_space();
                    if !self.eat(",") {
                        self.pos = at;
                        more = false;
                    }
                }
                if parser == "logfmt" {
                    let only = extractions.into_iter().map(|(name, _, key)| (name, key)).collect();
                    stages.push(Stage::Logfmt { strict, keep_empty, only });
                    return Ok(());
                }
                let mut paths = Vec::new();
                for (name, col, expression) in extractions {
                    let path = extract::json_path(&expression)
                        .map_err(|message| ParseError { col: self.text[..col].chars().count() + 1, message })?;
                    paths.push((name, path));
                }
                stages.push(Stage::Json(paths));
                return Ok(());
            }
            Some(word @ ("unpack" | "decolorize")) if is_stage_word => {
                self.pos += word.len();
                stages.push(if word == "unpack" { Stage::Unpack } else { Stage::Decolorize });
                return Ok(());
            }
            Some(parser @ ("regexp" | "pattern")) if is_stage_word => {
                self.pos += parser.len();
                self.skip_space();
                let at = self.pos;
                let text = self.string()?;
                let fail = |message: String| ParseError { col: self.text[..at].chars().count() + 1, message };
                let stage = if parser == "regexp" {
                    let regex =
                        re2::compile(&text).map_err(|e| fail(format!("invalid regular expression `{text}`: {e}")))?;
                    if regex.capture_names().flatten().next().is_none() {
                        return Err(fail("`regexp` needs at least one named capture, such as (?P<name>…)".into()));
                    }
                    Stage::Regexp(regex)
                } else {
                    Stage::Pattern(extract::Pattern::new(&text).map_err(fail)?)
                };
                stages.push(stage);
                return Ok(());
            }
            Some("label_format") if is_stage_word => {
                self.pos += "label_format".len();
                let mut formats: Vec<LabelFormat> = Vec::new();
                loop {
                    self.skip_space();
                    let at = self.pos;
                    let name = self.ident()?;
                    if name == "__error__" {
                        self.pos = at;
                        return Err(self.error("__error__ cannot be formatted"));
                    }
                    if formats.iter().any(|f| f.name == name) {
                        self.pos = at;
                        return Err(self
                            .error(format!("multiple label name '{name}' not allowed in a single format operation")));
                    }
                    self.skip_space();
                    if !self.eat("=") {
                        return Err(self.error("expected `=` and a label name or a template after the label name"));
                    }
                    self.skip_space();
                    let how = if matches!(self.peek(), Some('"' | '`')) {
                        let at = self.pos;
                        let text = self.string()?;
                        Format::Template(Template::parse(&text).map_err(|e| ParseError {
                            col: self.text[..at].chars().count() + 1,
                            message: format!("invalid template for label '{name}': {e}"),
                        })?)
                    } else {
                        Format::Rename(self.ident()?)
                    };
                    formats.push(LabelFormat { name, how });
                    let at = self.pos;
                    self.skip_space();
                    if !self.eat(",") {
                        self.pos = at;
                        break;
                    }
                }
                stages.push(Stage::LabelFormat(formats));
                return Ok(());
            }
            Some("line_format") if is_stage_word => {
                self.pos += "line_format".len();
                self.skip_space();
                let at = self.pos;
                let text = self.string()?;
                let template = Template::parse(&text).map_err(|e| ParseError {
                    col: self.text[..at].chars().count() + 1,
                    message: format!("invalid line template: {e}"),
                })?;
                stages.push(Stage::LineFormat(template));
                return Ok(());
            }
            Some("unwrap") if is_stage_word => {
                if !inside {
                    return Err(
                        self.error("`unwrap` belongs in a metric query, such as sum_over_time(… | unwrap x [1m])")
                    );
                }
                self.pos += "unwrap".len();
                self.skip_space();
                let name = self.ident()?;
                let conversion = match name.as_str() {
                    "duration" | "duration_seconds" => Some(Conversion::Duration),
                    "bytes" => Some(Conversion::Bytes),
                    _ => None,
                };
                self.skip_space();
                let found = match conversion {
                    Some(conversion) if self.eat("(") => {
                        self.skip_space();
                        let label = self.ident()?;
                        self.skip_space();
                        if !self.eat(")") {
                            return Err(self.error(format!("expected `)` after {name}({label}")));
                        }
                        Unwrap { label, conversion, stages_before: stages.len() }
                    }
                    _ => Unwrap { label: name, conversion: Conversion::Number, stages_before: stages.len() },
                };
                *unwrap = Some(found);
                return Ok(());
            }
            _ => {}
        }
        if matches!(word.as_deref(), Some("drop" | "keep")) {
            stages.push(self.label_stage()?);
            return Ok(());
        }
        // Filters joined by `and` or `,` only are stages of their own, each after the other.
        match self.label_or()? {
            LabelExpr::Test(stage) => stages.push(*stage),
            LabelExpr::And(items) => stages.extend(items.into_iter().map(|item| match item {
                LabelExpr::Test(stage) => *stage,
                other => Stage::Filter(other),
            })),
            or @ LabelExpr::Or(_) => stages.push(Stage::Filter(or)),
        }
        Ok(())
    }

    /// Label filters joined by `or`, `and` and `,`, with Loki's precedence: its grammar has
    /// `or` below `and` (`a or b and c` is `a or (b and c)`) and gives `,` none, so yacc shifts
    /// and a `,` takes everything after it (`a or b, c or d` is `a or (b and (c or d))`).
    fn label_or(&mut self) -> Result<LabelExpr, ParseError> {
        // What a `,` left open: the `or` terms and the `and` terms before it, which take all
        // that follows as their last `and` term.
        let mut open: Vec<(Vec<LabelExpr>, Vec<LabelExpr>)> = Vec::new();
        let (mut ors, mut ands) = (Vec::new(), Vec::new());
        // The `,`s after an `or`, whose right side nests.
        let mut nested = 0;
        loop {
            ands.push(self.label_primary()?);
            let at = self.pos;
            self.skip_space();
            if self.eat(",") {
                if !ors.is_empty() {
                    nested += 1;
                    if nested > MAX_DEPTH {
                        return Err(self.error(format!(
                            "label filters nested more than {MAX_DEPTH} deep are not supported: use parentheses"
                        )));
                    }
                }
                open.push((std::mem::take(&mut ors), std::mem::take(&mut ands)));
            } else if self.keyword("or") {
                ors.push(LabelExpr::join(std::mem::take(&mut ands), false));
            } else if !self.keyword("and") {
                self.pos = at;
                break;
            }
        }
        ors.push(LabelExpr::join(ands, false));
        // The `and` terms of the expression so far, last first, so that a long chain of `,`
        // is joined in one pass.
        let mut tail = match LabelExpr::join(ors, true) {
            LabelExpr::And(items) => items,
            other => vec![other],
        };
        tail.reverse();
        while let Some((ors, ands)) = open.pop() {
            tail.extend(ands.into_iter().rev());
            if !ors.is_empty() {
                tail.reverse();
                let mut ors = ors;
                ors.push(LabelExpr::join(tail, false));
                tail = vec![LabelExpr::join(ors, true)];
            }
        }
        tail.reverse();
        Ok(LabelExpr::join(tail, false))
    }

    /// A label filter, or label filters in parentheses.
    fn label_primary(&mut self) -> Result<LabelExpr, ParseError> {
        self.skip_space();
        if !self.eat("(") {
            return Ok(LabelExpr::Test(Box::new(self.label_predicate()?)));
        }
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!("label filters nested more than {MAX_DEPTH} deep are not supported")));
        }
        let inner = self.label_or()?;
        self.skip_space();
        if !self.eat(")") {
            return Err(self.error("expected `)` to close the label filters"));
        }
        self.depth -= 1;
        Ok(inner)
    }

    /// Consumes the word `word` (after white space) when it comes next.
    fn keyword(&mut self, word: &str) -> bool {
        let at = self.pos;
        self.skip_space();
        if self.ident_here() == Some(word) {
            self.pos += word.len();
            return true;
        }
        self.pos = at;
        false
    }

    /// One label filter: a string matcher, or a comparison with a number, duration or size.
    fn label_predicate(&mut self) -> Result<Stage, ParseError> {
        self.skip_space();
        if let Some(word) = self.ident_here() {
            let rest = self.text[self.pos + word.len()..].trim_start();
            if !rest.starts_with(['=', '!', '>', '<']) {
                return Err(self.error(format!(
                    "the `{word}` stage is not supported: after the selector, use line filters (|=, !=, |~, !~, |>, !>), \
                     the parsers | json, | logfmt, | regexp, | pattern and | unpack, | decolorize, | line_format, \
                     | label_format, | drop, | keep and label filters (| name=\"value\", | name > 10)"
                )));
            }
        }
        let start = self.pos;
        let name = self.ident()?;
        self.skip_space();
        let op = [
            (">=", Some(CmpOp::Ge)),
            ("<=", Some(CmpOp::Le)),
            ("==", Some(CmpOp::Eq)),
            ("=~", None),
            ("!~", None),
            ("!=", Some(CmpOp::Ne)),
            (">", Some(CmpOp::Gt)),
            ("<", Some(CmpOp::Lt)),
            ("=", Some(CmpOp::Eq)),
        ]
        .into_iter()
        .find(|(token, _)| self.text[self.pos..].starts_with(token));
        let Some((token, cmp)) = op else {
            return Err(self.error("expected one of =, !=, =~, !~, >, >=, <, <=, =="));
        };
        let after_op = self.pos + token.len();
        if let Some(rest) = self.text[after_op..].trim_start().strip_prefix("ip") {
            if rest.trim_start().starts_with('(') {
                let op = match token {
                    "=" => CmpOp::Eq,
                    "!=" => CmpOp::Ne,
                    _ => return Err(self.error(format!("ip(…) filters labels with = and != only, not `{token}`"))),
                };
                self.pos = after_op;
                self.skip_space();
                let ip = Some(self.ip_pattern()?);
                return Ok(Stage::Compare(Comparison { name, op, value: 0.0, kind: Conversion::Number, ip }));
            }
        }
        let quoted = self.text[after_op..].trim_start().starts_with(['"', '`']);
        if quoted && matches!(token, "=" | "!=" | "=~" | "!~") {
            self.pos = start;
            return self.matcher().map(Stage::Label);
        }
        self.pos = after_op;
        self.skip_space();
        let Some(op) = cmp.filter(|_| !quoted) else {
            return Err(self.error(format!("`{token}` compares with a number, a duration (10ms) or a size (5KB)")));
        };
        let lit_start = self.pos;
        let len = self.text[lit_start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '|' | ',' | ')' | '[' | '#'))
            .unwrap_or(self.text.len() - lit_start);
        let literal = &self.text[lit_start..lit_start + len];
        let (value, kind) = if let Some(v) = extract::number(literal) {
            (v, Conversion::Number)
        } else if let Some(v) = extract::duration_seconds(literal) {
            (v, Conversion::Duration)
        } else if let Some(v) = extract::bytes(literal).filter(|_| !literal.is_empty()) {
            (v, Conversion::Bytes)
        } else {
            return Err(self.error(format!(
                "expected a number, a duration (10ms) or a size (5KB) after `{token}`, found `{literal}`"
            )));
        };
        self.pos = lit_start + len;
        Ok(Stage::Compare(Comparison { name, op, value, kind, ip: None }))
    }

    /// `drop name, name="value", …`, `keep …` likewise, or a label filter.
    fn label_stage(&mut self) -> Result<Stage, ParseError> {
        self.skip_space();
        let word = self.ident_here().map(str::to_owned);
        if let Some(word @ ("drop" | "keep")) = word.as_deref() {
            let rest = self.text[self.pos + word.len()..].trim_start();
            if !rest.starts_with(['=', '!']) {
                self.pos += word.len();
                let mut items = Vec::new();
                loop {
                    self.skip_space();
                    let start = self.pos;
                    let name = self.ident()?;
                    self.skip_space();
                    let condition = if self.text[self.pos..].starts_with(['=', '!']) {
                        self.pos = start;
                        Some(self.matcher()?)
                    } else {
                        None
                    };
                    items.push(LabelItem { name, condition });
                    self.skip_space();
                    if !self.eat(",") {
                        return Ok(if word == "keep" { Stage::Keep(items) } else { Stage::Drop(items) });
                    }
                }
            }
        }
        self.label_filter().map(Stage::Label)
    }

    fn label_filter(&mut self) -> Result<Matcher, ParseError> {
        self.skip_space();
        if let Some(word) = self.ident_here() {
            let rest = self.text[self.pos + word.len()..].trim_start();
            if !rest.starts_with(['=', '!']) {
                return Err(self.error(format!(
                    "the `{word}` stage is not supported: after the selector, use line filters (|=, !=, |~, !~, |>, !>) \
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
                // Unquoted as Loki's lexer does (Go's `strconv.UnquoteChar`, through Prometheus's
                // `strutil.Unquote`): `\xHH` and octal `\NNN` are bytes, `\u`/`\U` characters.
                self.pos += 1;
                let mut out = Vec::new();
                let mut chars = self.text[self.pos..].char_indices().peekable();
                let fail = |this: &mut Self, message: String| {
                    this.pos = start;
                    Err(this.error(message))
                };
                while let Some((i, c)) = chars.next() {
                    match c {
                        '"' => {
                            self.pos += i + 1;
                            return match String::from_utf8(out) {
                                Ok(text) => Ok(text),
                                Err(_) => fail(self, "the escapes of a string make no UTF-8 text".into()),
                            };
                        }
                        '\\' => {
                            let simple = |c| match c {
                                'a' => Some(7u8),
                                'b' => Some(8),
                                'f' => Some(12),
                                'n' => Some(b'\n'),
                                'r' => Some(b'\r'),
                                't' => Some(b'\t'),
                                'v' => Some(11),
                                '\\' => Some(b'\\'),
                                // `\'` is Go's escape in a rune literal only: Loki refuses it here.
                                '"' => Some(b'"'),
                                _ => None,
                            };
                            let Some((_, e)) = chars.next() else { break };
                            if let Some(b) = simple(e) {
                                out.push(b);
                                continue;
                            }
                            let (digits, radix) = match e {
                                'x' => (2, 16),
                                'u' => (4, 16),
                                'U' => (8, 16),
                                '0'..='7' => (2, 8),
                                _ => return fail(self, format!("invalid escape \\{e} in string")),
                            };
                            let mut text: String = if radix == 8 { e.into() } else { String::new() };
                            for _ in 0..digits {
                                match chars.peek() {
                                    Some(&(_, d)) if d.is_digit(radix) => {
                                        text.push(d);
                                        chars.next();
                                    }
                                    _ => break,
                                }
                            }
                            let shown = if radix == 8 { format!("\\{text}") } else { format!("\\{e}{text}") };
                            let value = u32::from_str_radix(&text, radix)
                                .ok()
                                .filter(|_| text.len() == digits + usize::from(radix == 8));
                            match (e, value) {
                                ('x' | '0'..='7', Some(v)) if v <= 255 => out.push(v as u8),
                                ('u' | 'U', Some(v)) => match char::from_u32(v) {
                                    Some(c) => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                                    None => return fail(self, format!("invalid escape {shown} in string")),
                                },
                                _ => return fail(self, format!("invalid escape {shown} in string")),
                            }
                        }
                        c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                    }
                }
                fail(self, "unterminated string".into())
            }
            _ => Err(self.error("expected a string in double quotes or back quotes")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // What the tests ask of a parsed query, kept out of the production impls.
    impl Metric {
        /// The range functions of the query, left to right.
        pub(crate) fn ranges(&self) -> Vec<&Metric> {
            match self {
                Metric::Range { .. } => vec![self],
                _ => self.children().into_iter().flat_map(Metric::ranges).collect(),
            }
        }

        /// The `offset` of the first range function.
        pub(crate) fn offset(&self) -> i64 {
            match self.ranges().first() {
                Some(Metric::Range { offset_ns, .. }) => *offset_ns,
                _ => 0,
            }
        }

        /// The function, log query, range and unwrapped label of the first range function.
        pub(crate) fn range(&self) -> (RangeFn, &LogQl, i64, Option<&Unwrap>) {
            match self.ranges().first() {
                Some(Metric::Range { func, query, range_ns, unwrap, .. }) => (*func, query, *range_ns, unwrap.as_ref()),
                _ => panic!("no range function"),
            }
        }
    }

    impl LogQl {
        /// Whether a record passes the selector and every stage. `label` looks a name up among the
        /// record's labels, all of them stream labels here (`None` when it has none of that name).
        pub(crate) fn matches<'a>(&self, line: &str, label: impl Fn(&str) -> Option<&'a str>) -> bool {
            self.process(0, line, &label, |name| label(name).is_some()).is_some()
        }
    }

    fn labels<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }

    /// `ip("…")` as a line filter and as a label filter, as Loki reads and applies them.
    #[test]
    fn ip_filters_look_for_addresses_in_lines_and_labels() {
        let web = [("service_name", "web"), ("addr", "10.1.2.3")];
        let q = parse(r#"{service_name="web"} |= ip("10.0.0.0/8")"#).unwrap();
        assert!(q.matches("GET / from 10.4.5.6", labels(&web)));
        assert!(!q.matches("GET / from 192.168.0.1", labels(&web)));
        // Not a text search: the needle is no text every matching line contains.
        assert_eq!(q.contained().count(), 0);
        let not = parse(r#"{service_name="web"} != ip("192.168.0.1-192.168.0.9") or ip("::1")"#).unwrap();
        assert!(not.matches("from 192.168.0.10", labels(&web)));
        assert!(!not.matches("from 192.168.0.5", labels(&web)));
        assert!(!not.matches("from ::1 port 80", labels(&web)));

        let label = parse(r#"{service_name="web"} | addr = ip("10.1.0.0/16")"#).unwrap();
        assert!(label.matches("x", labels(&web)));
        assert!(!label.matches("x", labels(&[("service_name", "web"), ("addr", "10.2.0.1")])));
        let label_not = parse(r#"{service_name="web"} | addr != ip("10.1.0.0/16") or level="error""#).unwrap();
        assert!(!label_not.matches("x", labels(&web)));
        assert!(label_not.matches("x", labels(&[("service_name", "web"), ("addr", "10.2.0.1")])));
        // As in Loki, a record without the label does not pass either filter.
        assert!(!parse(r#"{service_name="web"} | other != ip("10.0.0.1")"#).unwrap().matches("x", labels(&web)));

        for (query, message) in [
            (r#"{a="b"} |~ ip("10.0.0.1")"#, "|= and != only"),
            (r#"{a="b"} | addr > ip("10.0.0.1")"#, "= and != only"),
            (r#"{a="b"} |= ip("10.0.0.300")"#, "invalid ip pattern `10.0.0.300`"),
            (r#"{a="b"} | addr = ip("10.0.0.1""#, "expected `)`"),
            (r#"{a="b"} |= ip "10.0.0.1""#, "expected `(` after ip"),
        ] {
            let e = parse(query).unwrap_err().to_string();
            assert!(e.contains(message), "{query}: {e}");
        }
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

    /// Matchers and label filters anchor as Prometheus's (Loki's) do, `^(?s:…)$`: `.` matches a
    /// newline too, and the expressions are Go's (`\w` ASCII); a line filter's `.` does not.
    #[test]
    fn label_matchers_match_the_whole_value_with_dot_matching_newlines() {
        let q = parse(r#"{a=~"x.y"} | b=~`\w+.\w+` | c!~"p.*""#).unwrap();
        assert!(q.matches("", labels(&[("a", "x\ny"), ("b", "one\ntwo"), ("c", "q\np")])));
        assert!(!q.matches("", labels(&[("a", "x\ny"), ("b", "one\ntwo"), ("c", "p\nq")])));
        assert!(!q.matches("", labels(&[("a", "x\ny"), ("b", "oné\ntwo"), ("c", "q")])));
        assert!(!q.matches("", labels(&[("a", "xy"), ("b", "one two"), ("c", "q")])));
        let q = parse(r#"{a="b"} |~ "x.y""#).unwrap();
        assert!(!q.matches("x\ny", labels(&[("a", "b")])) && q.matches("xzy", labels(&[("a", "b")])));
    }

    #[test]
    fn equality_requirements_and_contained_texts_are_listed_for_the_store() {
        let q = parse(r#"{service_name="a"} |= "x" |~ "y" | level="error" | level!="warn""#).unwrap();
        assert_eq!(q.required("service_name").collect::<Vec<_>>(), ["a"]);
        assert_eq!(q.required("level").collect::<Vec<_>>(), ["error"]);
        // After a parser, a filter may see a parsed label: the record's own is not required.
        let parsed = parse(r#"{service_name="a"} | trace_id="x" | json | span_id="y""#).unwrap();
        assert_eq!(parsed.required("trace_id").collect::<Vec<_>>(), ["x"]);
        assert_eq!(parsed.required("span_id").count(), 0);
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
            (r#"{service_name="a"} | json status=x"#, 34, "expected a string"),
            (r#"{service_name="a"} | logfmt --strict --lax"#, 38, "flags are --strict and --keep-empty"),
            (r#"{service_name="a"} | status > fast"#, 31, "expected a number, a duration (10ms) or a size (5KB)"),
            (r#"{service_name="a"} | status > "5""#, 31, "compares with a number"),
            (r#"{service_name="a"} | (a="1" or b="2""#, 37, "expected `)` to close the label filters"),
            (r#"{service_name="a"} | a="1" or"#, 30, "expected a label name"),
            (r#"{service_name="a"} | unwrap x"#, 22, "`unwrap` belongs in a metric query"),
            (
                r#"{service_name="a"} | line_format "{{.x | json}}""#,
                34,
                "invalid line template: the template function `json` is not supported",
            ),
            (r#"{service_name="a"} | line_format {{.x}}"#, 34, "expected a string"),
            (r#"{service_name="a"} | label_replace"#, 22, "`label_replace` stage is not supported"),
            (r#"{service_name="a"} "x""#, 20, "expected a line filter"),
            (r#"count_over_time({service_name="a"}[5m])"#, 1, "metric queries are answered by query_range"),
            (r#"service_name="a""#, 1, "starts with a stream selector"),
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
    fn metric_queries_read_range_functions_aggregations_groupings_and_drop() {
        let q = parse_query(
            r#"sum by (level, detected_level) (count_over_time({service_name="a"} |= "x" | drop __error__, host [1m]))"#,
        )
        .unwrap();
        let Query::Metric(Metric::Vector { op: VectorOp::Sum, grouping, inner }) = q else { panic!("{q:?}") };
        assert_eq!(grouping, Grouping { without: false, labels: vec!["level".into(), "detected_level".into()] });
        let Metric::Range { func: RangeFn::CountOverTime, query, range_ns, .. } = *inner else { panic!() };
        assert_eq!(range_ns, 60_000_000_000);
        assert_eq!(query.contained().collect::<Vec<_>>(), ["x"]);
        let Some(Stage::Drop(items)) = query.stages.get(1) else { panic!("{query:?}") };
        assert_eq!(items.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(), ["__error__", "host"]);
        // The range may also follow the selector, and the grouping the argument.
        let q = parse_query(r#"max(rate({service_name="a"}[30s] != "debug")) without (host)"#).unwrap();
        let Query::Metric(Metric::Vector { op: VectorOp::Max, grouping, inner }) = q else { panic!("{q:?}") };
        assert!(grouping.without && grouping.labels == ["host"]);
        assert!(matches!(*inner, Metric::Range { func: RangeFn::Rate, range_ns: 30_000_000_000, .. }));
        for (text, func) in [("bytes_over_time", RangeFn::BytesOverTime), ("bytes_rate", RangeFn::BytesRate)] {
            let q = parse_query(&format!(r#"{text}({{a="b"}}[1h30m])"#)).unwrap();
            assert!(
                matches!(q, Query::Metric(Metric::Range { func: f, range_ns: 5_400_000_000_000, .. }) if f == func)
            );
        }
        assert!(matches!(parse_query(r#"{a="b"} |= "x""#).unwrap(), Query::Log(_)));
        assert_eq!(parse_duration("250ms"), Some(250_000_000));
        assert_eq!(parse_duration("1d"), Some(86_400_000_000_000));
        assert_eq!(parse_duration("5"), None, "a unit is required");
    }

    #[test]
    fn ranges_read_prometheus_durations_and_offsets_read_go_durations_too() {
        // Loki reads a range with Prometheus' model.ParseDuration: units from the largest down,
        // each once; an offset with it, else with Go's time.ParseDuration.
        let d = |text: &str| parse_duration(text);
        let (h, m, s) = (3_600_000_000_000i64, 60_000_000_000i64, 1_000_000_000i64);
        assert_eq!(
            d("1y2w3d4h5m6s7ms"),
            Some(365 * 24 * h + 14 * 24 * h + 3 * 24 * h + 4 * h + 5 * m + 6 * s + 7_000_000)
        );
        assert_eq!(d("1h30m"), Some(90 * m));
        assert_eq!(d("0"), Some(0));
        for refused in ["30m1h", "1h1h", "1.5h", "5", "1x", "-5m", "", "1h "] {
            assert_eq!(d(refused), None, "{refused}");
        }
        let offset = |text: &str| match parse_query(text) {
            Ok(Query::Metric(m)) => m.offset(),
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(offset(r#"count_over_time({a="b"}[5m] offset 1h)"#), h);
        assert_eq!(offset(r#"sum(rate({a="b"} |= "x" [1d] offset 1.5h))"#), 90 * m);
        assert_eq!(offset(r#"count_over_time({a="b"}[5m] offset -90s | json)"#), -90 * s);
        assert_eq!(offset(r#"sum_over_time({a="b"} | unwrap x [5m] offset 1d) by (y)"#), 24 * h);
        assert_eq!(offset(r#"count_over_time({a="b"}[5m])"#), 0);
        let e = parse_query(r#"count_over_time({a="b"}[5m] offset soon)"#).unwrap_err();
        assert!(e.col == 36 && e.message.contains("invalid offset `soon`"), "{e}");
    }

    #[test]
    fn comments_run_to_the_end_of_the_line() {
        let q = parse("# the shop's errors\n{service_name=\"a\"} # the stream\n |= \"x\" # and x\n|= `#y`").unwrap();
        assert_eq!(q.contained().collect::<Vec<_>>(), ["x", "#y"]);
        let q =
            parse_query("sum by (level) ( # per level\n count_over_time({a=\"b\"} | json # parsed\n [1m]))").unwrap();
        assert!(matches!(q, Query::Metric(Metric::Vector { .. })), "{q:?}");
        let q = parse("{a=\"b\"} | status > 5# five\n").unwrap();
        assert_eq!(q.stages.len(), 1);
    }

    #[test]
    fn or_between_line_filter_values_matches_any_and_its_negation_none() {
        // Loki 3: `|= "a" or "b"` holds when either does; `!= "a" or "b"` when neither does.
        let record = [("a", "b")];
        let q = parse(r#"{a="b"} |= "a" or "b" or `c`"#).unwrap();
        assert!(
            q.matches("xa", labels(&record)) && q.matches("xb", labels(&record)) && q.matches("c", labels(&record))
        );
        assert!(!q.matches("xd", labels(&record)));
        assert_eq!(q.contained().count(), 0, "no single text is required");
        let q = parse(r#"{a="b"} != "a" or "b" |= "x""#).unwrap();
        assert!(q.matches("x", labels(&record)));
        assert!(!q.matches("xa", labels(&record)) && !q.matches("xb", labels(&record)));
        assert_eq!(q.contained().collect::<Vec<_>>(), ["x"]);
        let q = parse(r#"{a="b"} |~ `^a\d` or `^b\d`"#).unwrap();
        assert!(
            q.matches("a1", labels(&record)) && q.matches("b2", labels(&record)) && !q.matches("c3", labels(&record))
        );
        let q = parse(r#"{a="b"} !~ `a\d` or `b\d`"#).unwrap();
        assert!(q.matches("a", labels(&record)) && !q.matches("b2", labels(&record)));
        let e = parse(r#"{a="b"} |~ "a" or "(""#).unwrap_err();
        assert!(e.col == 19 && e.message.contains("invalid regular expression"), "{e}");
    }

    #[test]
    fn pattern_line_filters_match_the_whole_line_as_loki_3_does() {
        // Loki's `pattern.Matcher.Test` (pkg/logql/log/pattern/pattern.go): the line ends where
        // the pattern does, a `<_>` takes at least one character, and its comment's examples:
        // "foo bar baz" does not match "<_> bar" but matches "<_> baz" and "foo <_>"; " bar "
        // does not match "<_> bar <_>" but matches "<_>bar<_>".
        let record = [("a", "b")];
        let holds = |query: &str, line: &str| parse(query).unwrap().matches(line, labels(&record));
        assert!(!holds(r#"{a="b"} |> "<_> bar""#, "foo bar baz"));
        assert!(holds(r#"{a="b"} |> "<_> baz""#, "foo bar baz"));
        assert!(holds(r#"{a="b"} |> "foo <_>""#, "foo bar baz"));
        assert!(!holds(r#"{a="b"} |> "<_> bar <_>""#, " bar "));
        assert!(holds(r#"{a="b"} |> "<_>bar<_>""#, " bar "));
        assert!(holds(r#"{a="b"} |> "<_> error <_>""#, "GET /cart error timeout"));
        assert!(!holds(r#"{a="b"} |> "<_> error <_>""#, "error at the start"));
        // No capture: the line must be the text; an empty line only matches an empty pattern.
        assert!(holds(r#"{a="b"} |> "ok""#, "ok") && !holds(r#"{a="b"} |> "ok""#, "ok!"));
        assert!(holds(r#"{a="b"} |> """#, "") && !holds(r#"{a="b"} |> "<_>""#, ""));
        // `!>` keeps what `|>` leaves out; `or` joins values as for the other line filters.
        assert!(holds(r#"{a="b"} !> "<_> error <_>""#, "all fine"));
        assert!(!holds(r#"{a="b"} !> "<_> error <_>" or "<_> warn <_>""#, "a warn b"));
        assert!(holds(r#"{a="b"} |> "<_> error <_>" or "<_> warn <_>""#, "a warn b"));
        assert!(!holds(r#"{a="b"} |> "<_> error <_>" or "<_> warn <_>""#, "a info b"));
        // Loki's ParseLineFilter refuses named and consecutive captures.
        let e = parse(r#"{a="b"} |> "<ip> x""#).unwrap_err();
        assert!(e.col == 12 && e.message.contains("only <_>"), "{e}");
        let e = parse(r#"{a="b"} !> "<_><_> x""#).unwrap_err();
        assert!(e.message.contains("consecutive captures"), "{e}");
        // A pattern filter requires no single text of the store.
        assert_eq!(parse(r#"{a="b"} |> "<_> error <_>""#).unwrap().contained().count(), 0);
    }

    /// The tree of a metric query, as `(lhs op rhs)`, `sum(…)`, `count_over_time`, numbers.
    fn shape(metric: &Metric) -> String {
        match metric {
            Metric::Range { .. } => "r".into(),
            Metric::Literal(v) => v.to_string(),
            Metric::Constant(v) => format!("vector({v})"),
            Metric::Vector { inner, .. } => format!("sum({})", shape(inner)),
            Metric::Top { inner, k, .. } => format!("topk({k}, {})", shape(inner)),
            Metric::Sort { inner, .. } => format!("sort({})", shape(inner)),
            Metric::LabelReplace { inner, .. } => format!("label_replace({})", shape(inner)),
            Metric::Binary { op, lhs, rhs, return_bool, matching } => {
                let modifier = match (return_bool, matching.labels.is_empty() && !matching.on) {
                    (true, _) => " bool",
                    (false, false) if matching.on => " on",
                    (false, false) => " ignoring",
                    _ => "",
                };
                format!("({} {}{modifier} {})", shape(lhs), op.symbol(), shape(rhs))
            }
        }
    }

    #[test]
    fn binary_operators_read_with_lokis_precedence_and_numbers_are_reduced() {
        // Loki's expr.y: %left OR; %left AND UNLESS; %left CMP_EQ NEQ LT LTE GT GTE;
        // %left ADD SUB; %left MUL DIV MOD; %right POW. Two numbers are reduced to one
        // (reduceBinOp), a comparison of them to 1 or 0 with bool or without.
        let r = r#"rate({a="b"}[5m])"#;
        let cases = [
            (format!("{r} + {r} * {r}"), "(r + (r * r))"),
            (format!("{r} / {r} * 100"), "((r / r) * 100)"),
            (format!("({r} + {r}) * 2"), "((r + r) * 2)"),
            (format!("{r} ^ 2 ^ 3"), "(r ^ 8)"),
            (format!("{r} ^ {r} ^ {r}"), "(r ^ (r ^ r))"),
            (format!("{r} > bool {r} + 1"), "(r > bool (r + 1))"),
            (format!("{r} or {r} and {r} unless {r}"), "(r or ((r and r) unless r))"),
            (format!("{r} == {r} or {r}"), "((r == r) or r)"),
            (format!("sum({r}) / on (a) sum by (a) ({r})"), "(sum(r) / on sum(r))"),
            (format!("{r} - ignoring (a, b) {r}"), "(r - ignoring r)"),
            (format!("topk(3, {r} * -1)"), "topk(3, (r * -1))"),
            (format!("sort_desc(sum({r}) % 7)"), "sort((sum(r) % 7))"),
            (format!("vector(1) + {r} # a comment\n - 2"), "((vector(1) + r) - 2)"),
            (
                // README's example.
                r#"sort_desc(topk(5, sum by (service_name) (rate({service_name=~".+"} |> "<_> error <_>" [5m]))
                     / sum by (service_name) (rate({service_name=~".+"}[5m])) * 100))"#
                    .to_owned(),
                "sort(topk(5, ((sum(r) / sum(r)) * 100)))",
            ),
            ("1 + 2 * 3 - 4 / 2".to_owned(), "5"),
            ("2 ^ 3 ^ 2".to_owned(), "512"),
            ("(1 + 1) * -1.5e1".to_owned(), "-30"),
            ("3 > 2".to_owned(), "1"),
            ("3 < bool 2".to_owned(), "0"),
            ("-7 % 3".to_owned(), "-1"),
        ];
        for (text, expected) in cases {
            match parse_query(&text) {
                Ok(Query::Metric(m)) => assert_eq!(shape(&m), expected, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        let Ok(Query::Metric(Metric::Literal(nan))) = parse_query("1 / 0") else { panic!("a number") };
        assert!(nan.is_nan(), "Loki's MergeBinOp gives NaN for a division by zero");
        let Ok(Query::Metric(Metric::Literal(nan))) = parse_query("5 % 0") else { panic!("a number") };
        assert!(nan.is_nan());
        // A chain of operators nests no deeper than the parser allows, and is refused beyond.
        let long = vec![r; 100].join(" + ");
        let e = parse_query(&long).unwrap_err();
        assert!(e.message.contains("nested more than 64 deep"), "{e}");
        assert!(parse_query(&vec![r; 60].join(" + ")).is_ok());
    }

    #[test]
    fn unsupported_metric_queries_are_refused_with_the_column() {
        let cases = [
            (r#"count_over_time({a="b"})"#, 1, "needs a range"),
            (r#"count_over_time({a="b"}[5x])"#, 25, "invalid range `5x`"),
            (r#"count_over_time({a="b"}[ 5m ])"#, 25, "no white space inside the brackets"),
            (r#"absent_over_time({a="b"} | json | unwrap x [5m])"#, 1, "takes no `| unwrap`"),
            (r#"avg_over_time({a="b"}[5m])"#, 1, "add `| unwrap label`"),
            (r#"quantile_over_time({a="b"} | unwrap x [5m])"#, 20, "takes φ first"),
            (r#"sum(count_over_time({a="b"}[5m]) by (a))"#, 34, "expected `)` to close sum"),
            (
                r#"label_replace(count_over_time({a="b"}[5m]), "1x", "$1", "a", "(.*)")"#,
                45,
                "invalid destination label name in label_replace(): 1x",
            ),
            (r#"label_replace(count_over_time({a="b"}[5m]), "x", "$1", "a", "(")"#, 61, "invalid regular expression"),
            (r#"label_replace(2, "x", "$1", "a", "(.*)")"#, 15, "not a number"),
            (r#"topk(0, count_over_time({a="b"}[5m]))"#, 1, "a whole number above 0"),
            (r#"topk(1.5, count_over_time({a="b"}[5m]))"#, 1, "a whole number above 0"),
            (r#"sort by (a) (count_over_time({a="b"}[5m]))"#, 1, "sort takes no grouping"),
            (r#"sum(2)"#, 5, "not a number"),
            (
                r#"rate({a="b"}[5m]) / group_left rate({a="b"}[5m])"#,
                21,
                "`group_left` needs `on (…)` or `ignoring (…)`",
            ),
            (r#"rate({a="b"}[5m]) or on (a) group_right rate({a="b"}[5m])"#, 29, "no grouping allowed for `or`"),
            (r#"rate({a="b"}[5m]) + bool 1"#, 25, "bool modifier can only be used on comparison operators"),
            (
                r#"rate({a="b"}[5m]) and 1"#,
                19,
                "unexpected literal for right leg of logical/set binary operation (and)",
            ),
            (r#"1 or rate({a="b"}[5m])"#, 3, "unexpected literal for left leg"),
            (r#"rate({a="b"}[5m]) / "#, 21, "expected a metric query"),
            (r#"(rate({a="b"}[5m])"#, 19, "expected `)`"),
            (r#"sum by (a) (count_over_time({a="b"}[5m])) by (b)"#, 43, "before or after the argument, not both"),
            (r#"sum(count_over_time({a="b"}[5m])) 2"#, 35, "unexpected text after the query"),
            (r#"count_over_time({a="b"} | json | unwrap x [5m])"#, 1, "takes no `| unwrap`"),
            (r#"sum by a (count_over_time({a="b"}[5m]))"#, 8, "expected `(` and label names"),
            (r#"sum_over_time({a="b"} | unwrap x | json [5m])"#, 36, "move `| json` before it"),
            (r#"sum_over_time({a="b"} | unwrap x | unwrap y [5m])"#, 36, "move `| unwrap` before it"),
            (r#"sum_over_time({a="b"} | unwrap x |= "y" [5m])"#, 34, "move line filters before it"),
        ];
        for (query, col, message) in cases {
            let e = parse_query(query).expect_err(query);
            assert_eq!(e.col, col, "{query}: {e}");
            assert!(e.message.contains(message), "{query}: {e}");
        }
    }

    fn parsed(q: &LogQl, line: &str, record: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        q.process(0, line, labels(record), |name| record.iter().any(|(k, _)| *k == name)).map(|o| o.parsed)
    }

    fn get<'a>(parsed: &'a [(String, String)], name: &str) -> Option<&'a str> {
        parsed.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn parsers_add_labels_that_later_filters_compare_as_numbers_durations_and_sizes() {
        let q =
            parse(r#"{service_name="a"} | json | status >= 500, took > 250ms and size < 1MB | route="/cart""#).unwrap();
        assert_eq!(q.stages.len(), 5, "`,` and `and` each start a stage");
        let record = [("service_name", "a"), ("level", "info")];
        let line = r#"{"status":503,"took":"300ms","size":"2KB","route":"/cart","level":"x"}"#;
        let got = parsed(&q, line, &record).expect("passes");
        assert_eq!(get(&got, "status"), Some("503"));
        // The record has a `level`; the parsed one is renamed.
        assert_eq!(get(&got, "level_extracted"), Some("x"));
        assert_eq!(get(&got, "level"), None);
        for failing in [
            r#"{"status":200,"took":"300ms","size":"2KB","route":"/cart"}"#,
            r#"{"status":503,"took":"100ms","size":"2KB","route":"/cart"}"#,
            r#"{"status":503,"took":"300ms","size":"2MB","route":"/cart"}"#,
            r#"{"status":503,"took":"300ms","size":"2KB","route":"/home"}"#,
            r#"{"took":"300ms","size":"2KB","route":"/cart"}"#,
        ] {
            assert_eq!(parsed(&q, failing, &record), None, "{failing}");
        }

        // A line that does not parse is kept with `__error__`, unless a filter leaves it out.
        let q = parse(r#"{service_name="a"} | json"#).unwrap();
        let got = parsed(&q, "plain text", &record).unwrap();
        assert_eq!(get(&got, "__error__"), Some(JSON_ERROR));
        assert!(get(&got, "__error_details__").is_some());
        let q = parse(r#"{service_name="a"} | json | __error__="""#).unwrap();
        assert_eq!(parsed(&q, "plain text", &record), None);
        assert!(parsed(&q, "{}", &record).is_some());
        let q = parse(r#"{service_name="a"} | json | drop __error__"#).unwrap();
        assert_eq!(parsed(&q, "plain text", &record), Some(vec![]), "drop takes the details too");

        // A comparison that cannot read the value keeps the line and says so, as Loki does.
        let q = parse(r#"{service_name="a"} | logfmt | status > 5"#).unwrap();
        let got = parsed(&q, "status=oops", &record).unwrap();
        assert_eq!(get(&got, "__error__"), Some(LABEL_FILTER_ERROR));
        let got = parsed(&q, r#"level=warn status=7 msg="a b""#, &record).unwrap();
        assert_eq!(get(&got, "level_extracted"), Some("warn"));
        assert_eq!(get(&got, "msg"), Some("a b"));
        assert_eq!(parsed(&q, "status=5", &record), None);
        assert_eq!(parsed(&q, r#"msg="open"#, &record), None, "no status: the comparison fails");
        // Loki's `| logfmt` skips what does not read; with `--strict` the line gets `__error__`.
        let q = parse(r#"{service_name="a"} | logfmt"#).unwrap();
        assert_eq!(parsed(&q, r#"a=1 msg="open flag"#, &record), Some(vec![("a".into(), "1".into())]));
        let q = parse(r#"{service_name="a"} | logfmt --strict"#).unwrap();
        let got = parsed(&q, r#"a=1 msg="open"#, &record).unwrap();
        assert_eq!(get(&got, "__error__"), Some(LOGFMT_ERROR));
        assert_eq!(get(&got, "a"), Some("1"), "what was read before the error stays");
        let q = parse(r#"{service_name="a"} | logfmt --keep-empty --strict | flag="""#).unwrap();
        assert_eq!(parsed(&q, "flag b=2", &record).unwrap(), [("flag".into(), "".into()), ("b".into(), "2".into())]);
    }

    #[test]
    fn a_line_with_an_error_passes_comparisons_and_only_string_filters_on_errors_leave_it_out() {
        // Loki's numeric, duration and size label filters pass a line that a stage before them
        // failed on (`if lbs.HasErr() { return line, true }`: "only the string matchers can
        // filter it out"), so that a line `| json` could not read still shows, with `__error__`.
        let record = [("service_name", "a")];
        let q = parse(r#"{service_name="a"} | json | status >= 500"#).unwrap();
        let got = parsed(&q, "upstream timed out", &record).expect("kept with its error");
        assert_eq!(get(&got, "__error__"), Some(JSON_ERROR));
        assert_eq!(parsed(&q, r#"{"status":200}"#, &record), None, "a line that parses is compared");
        assert!(parsed(&q, r#"{"status":503}"#, &record).is_some());
        let q = parse(r#"{service_name="a"} | json | took > 1s or size > 1KB"#).unwrap();
        assert!(parsed(&q, "not json", &record).is_some(), "within `or` too");
        // A comparison that failed to read its value is such an error for the ones after it.
        let q = parse(r#"{service_name="a"} | logfmt | status > 5 | took > 1s"#).unwrap();
        let got = parsed(&q, "status=oops", &record).expect("kept");
        assert_eq!(get(&got, "__error__"), Some(LABEL_FILTER_ERROR));
        // A string filter still applies, and `| __error__=""` leaves such lines out.
        let q = parse(r#"{service_name="a"} | json | status >= 500 | route="/cart""#).unwrap();
        assert_eq!(parsed(&q, "not json", &record), None);
        let q = parse(r#"{service_name="a"} | json | status >= 500 | __error__="""#).unwrap();
        assert_eq!(parsed(&q, "not json", &record), None);
        assert!(parsed(&q, r#"{"status":503}"#, &record).is_some());
    }

    #[test]
    fn a_parsed_label_is_renamed_only_when_a_stream_label_has_its_name_and_replaces_metadata() {
        // Loki's parsers append `_extracted` when the stream labels (`BaseHas`) have the name;
        // a parsed label named like structured metadata replaces it (`Set(ParsedLabel, …)`).
        let own = [("service_name", "a"), ("level", "info"), ("user", "ann")];
        let stream = |name: &str| matches!(name, "service_name" | "level");
        let q = parse(r#"{service_name="a"} | user="ann" | json | user="bob" | level_extracted="warn""#).unwrap();
        let got = q.process(0, r#"{"user":"bob","level":"warn"}"#, labels(&own), stream).expect("passes").parsed;
        assert_eq!(got, [("user".to_owned(), "bob".to_owned()), ("level_extracted".to_owned(), "warn".to_owned())]);
        assert!(q.process(0, r#"{"user":"cy","level":"warn"}"#, labels(&own), stream).is_none());
    }

    #[test]
    fn dropped_labels_are_gone_for_later_stages_and_keep_leaves_only_the_labels_it_names() {
        // Loki's `| drop` and `| keep` delete labels from the builder (`Del`): later filters see
        // the empty value, until a later parser adds the name again.
        let own = [("service_name", "a"), ("level", "info"), ("user", "ann")];
        let stream = |name: &str| matches!(name, "service_name" | "level");
        let run =
            |query: &str, line: &str| parse(query).unwrap().process(0, line, labels(&own), stream).map(|o| o.parsed);
        assert_eq!(run(r#"{service_name="a"} | drop user | user="ann""#, ""), None);
        assert_eq!(run(r#"{service_name="a"} | drop user | user="""#, ""), Some(vec![]));
        assert_eq!(run(r#"{service_name="a"} | logfmt | drop user | user="""#, "user=bob"), Some(vec![]));
        let bob = Some(vec![("user".to_owned(), "bob".to_owned())]);
        assert_eq!(run(r#"{service_name="a"} | drop user | logfmt | user="bob""#, "user=bob"), bob);
        // A condition drops the label only when its value satisfies it.
        assert!(run(r#"{service_name="a"} | drop user="bob" | user="ann""#, "").is_some());
        assert!(run(r#"{service_name="a"} | drop user=~"a.*", level!="x" | user="" | level="""#, "").is_some());

        let q = parse(r#"{service_name="a"} | logfmt | keep service_name, route | user="" | level="" | route="/a""#)
            .unwrap();
        let outcome = q.process(0, "route=/a x=1", labels(&own), stream).expect("passes");
        assert_eq!(outcome.parsed, [("route".to_owned(), "/a".to_owned())]);
        assert!(outcome.shows("service_name", "a"));
        assert!(!outcome.shows("level", "info") && !outcome.shows("user", "ann"));
        // A condition keeps the label only when its value satisfies it; errors always stay.
        assert!(run(r#"{service_name="a"} | keep user="bob" | user="""#, "").is_some());
        assert!(run(r#"{service_name="a"} | keep user="ann" | user="ann""#, "").is_some());
        let got = run(r#"{service_name="a"} | json | keep route"#, "oops").unwrap();
        assert_eq!(get(&got, "__error__"), Some(JSON_ERROR));
    }

    #[test]
    fn regexp_and_pattern_add_their_captures_as_loki_parsers_do() {
        let record = [("service_name", "a"), ("level", "info")];
        let run = |query: &str, line: &str| parsed(&parse(query).unwrap(), line, &record);
        let pairs = |list: &[(&str, &str)]| -> Option<Vec<(String, String)>> {
            Some(list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
        };
        // Named groups become labels (a stream label's name gets `_extracted`); a group that
        // takes no part gives the empty value; a line that does not match keeps its place.
        let q = r#"{service_name="a"} | regexp `(?P<method>\w+) (?P<path>/\S*)(?: (?P<level>\w+))?` | path=~"/a.*""#;
        assert_eq!(
            run(q, "GET /about warn"),
            pairs(&[("method", "GET"), ("path", "/about"), ("level_extracted", "warn")])
        );
        assert_eq!(run(q, "GET /a"), pairs(&[("method", "GET"), ("path", "/a"), ("level_extracted", "")]));
        assert_eq!(run(q, "nothing here"), None, "no path: the filter leaves it out");
        assert_eq!(run(r#"{service_name="a"} | regexp "(?P<n>\\d+)""#, "none"), pairs(&[]));

        // Loki's pattern: literals anchor the captures; `<_>` captures nothing; the last capture
        // takes the rest of the line, as does one whose next literal is missing.
        let q = r#"{service_name="a"} | pattern `<ip> - <_> [<ts>] "<method> <path> <_>" <status> <size>`"#;
        let line = r#"10.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326"#;
        assert_eq!(
            run(q, line),
            pairs(&[
                ("ip", "10.0.0.1"),
                ("ts", "10/Oct/2000:13:55:36 -0700"),
                ("method", "GET"),
                ("path", "/a.gif"),
                ("status", "200"),
                ("size", "2326")
            ])
        );
        assert_eq!(run(q, "10.0.0.1 - frank [unterminated"), pairs(&[("ip", "10.0.0.1"), ("ts", "unterminated")]));
        assert_eq!(
            run(r#"{service_name="a"} | pattern "GET <path>""#, "POST /x"),
            pairs(&[]),
            "the first literal starts the line"
        );
        assert_eq!(
            run(r#"{service_name="a"} | pattern "<level> <_>""#, "warn x"),
            pairs(&[("level_extracted", "warn")])
        );

        for (query, col, message) in [
            (r#"{a="b"} | regexp "abc""#, 18, "at least one named capture"),
            (r#"{a="b"} | regexp "(?P<x>""#, 18, "invalid regular expression"),
            (r#"{a="b"} | pattern "<_> x""#, 19, "at least one capture"),
            (r#"{a="b"} | pattern "<a><b>""#, 19, "consecutive captures"),
            (r#"{a="b"} | pattern "<a> <a>""#, 19, "the capture `a` twice"),
            (r#"{a="b"} | regexp"#, 17, "expected a string"),
        ] {
            let e = parse(query).expect_err(query);
            assert!(e.col == col && e.message.contains(message), "{query}: {e}");
        }
    }

    #[test]
    fn label_format_renames_labels_and_fills_templates_as_loki_does() {
        let own = [("service_name", "a"), ("level", "info"), ("user", "ann")];
        let stream = |name: &str| matches!(name, "service_name" | "level");
        let run =
            |query: &str, line: &str| parse(query).unwrap().process(0, line, labels(&own), stream).map(|o| o.parsed);
        let pairs = |list: &[(&str, &str)]| -> Option<Vec<(String, String)>> {
            Some(list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
        };
        // A rename moves the value and deletes the source; a missing source renames nothing.
        assert_eq!(
            run(r#"{service_name="a"} | label_format who=user | user="" | who="ann""#, ""),
            pairs(&[("who", "ann")])
        );
        assert_eq!(run(r#"{service_name="a"} | label_format who=nobody | who="""#, ""), pairs(&[]));
        // Templates read the labels as they were before the stage's first template, a missing
        // one as empty; the result may take a stream label's name, and then replaces it.
        let q = r#"{service_name="a"} | logfmt | label_format level="{{.level}}-{{ .x }}", x="<{{- .level -}}>", y="{{.none}}""#;
        assert_eq!(run(q, "x=1"), pairs(&[("x", "<info>"), ("level", "info-1"), ("y", "")]));
        let q = r#"{service_name="a"} | label_format level="{{.user}}" | level="ann""#;
        assert!(run(q, "").is_some());
        let q = parse(q).unwrap();
        let outcome = q.process(0, "", labels(&own), stream).unwrap();
        assert!(outcome.shows("level", "info"), "the stream label is there, replaced by the parsed one");

        for (query, col, message) in [
            (
                r#"{a="b"} | label_format x="{{.y | nope}}""#,
                26,
                "invalid template for label 'x': the template function `nope`",
            ),
            (r#"{a="b"} | label_format x="{{.y""#, 26, "unclosed"),
            (r#"{a="b"} | label_format x=y, x=z"#, 29, "multiple label name 'x'"),
            (r#"{a="b"} | label_format __error__=x"#, 24, "__error__ cannot be formatted"),
            (r#"{a="b"} | label_format x"#, 25, "expected `=`"),
        ] {
            let e = parse(query).expect_err(query);
            assert!(e.col == col && e.message.contains(message), "{query}: {e}");
        }
    }

    #[test]
    fn json_and_logfmt_with_parameters_extract_only_the_named_values_as_loki_does() {
        // Loki's JSONExpressionParser (pkg/logql/log/parser.go): each name gets the value at its
        // path, a string unescaped, null empty, an object as written; a path the line lacks
        // gives the empty value; a name alone is its own path.
        let own = [("service_name", "a"), ("level", "info")];
        let stream = |name: &str| matches!(name, "service_name" | "level");
        let q = parse(
            r#"{service_name="a"} | json status="response.status", first="items[0]", deep=`items[1].k`, odd="[\"a b\"]", obj="response", gone="x.y", none="n", msg, level"#,
        )
        .unwrap();
        let line = r#"{"response":{"status":503,"ok":false},"items":["x\ty",{"k":true}],"a b":"sp","n":null,"msg":"hi","level":"warn","other":1}"#;
        let out = q.process(0, line, labels(&own), stream).expect("passes");
        let mut got: Vec<(&str, &str)> = out.parsed.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        got.sort();
        assert_eq!(
            got,
            [
                ("deep", "true"),
                ("first", "x\ty"),
                ("gone", ""),
                ("level_extracted", "warn"),
                ("msg", "hi"),
                ("none", ""),
                ("obj", r#"{"status":503,"ok":false}"#),
                ("odd", "sp"),
                ("status", "503"),
            ],
            "`other` is not extracted; a stream label's name gets _extracted"
        );
        // A line that does not start as JSON does gets JSONParserErr; an empty one nothing.
        let q = parse(r#"{service_name="a"} | json status="s""#).unwrap();
        let out = q.process(0, "status=1", labels(&own), stream).unwrap();
        assert_eq!(get(&out.parsed, "__error__"), Some(JSON_ERROR));
        assert!(q.process(0, "", labels(&own), stream).unwrap().parsed.is_empty());
        // Paths are read as Loki's jsonexpr reads them, and refused with the column otherwise.
        for bad in [r#"| json a="""#, r#"| json a="x..y""#, r#"| json a="x[y]""#, r#"| json a=".x""#] {
            let e = parse(&format!(r#"{{service_name="a"}} {bad}"#)).unwrap_err();
            assert!(e.col == 29 && e.message.contains("cannot parse expression"), "{bad}: {e}");
        }
        let e = parse(r#"{service_name="a"} | json a, a="b""#).unwrap_err();
        assert!(e.message.contains("duplicate extracted label name 'a'"), "{e}");

        // Loki's LogfmtExpressionParser: only the named keys, as their names, the last pair of a
        // key winning; a name the line lacks is empty (unless a stream label has it).
        let q =
            parse(r#"{service_name="a"} | logfmt --strict took, code="status", level, missing | code >= 500"#).unwrap();
        let out = q.process(0, "took=1s status=200 status=503 level=warn msg=x", labels(&own), stream).unwrap();
        let mut got: Vec<(&str, &str)> = out.parsed.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        got.sort();
        assert_eq!(got, [("code", "503"), ("level_extracted", "warn"), ("missing", ""), ("took", "1s")]);
        assert!(q.process(0, "status=200", labels(&own), stream).is_none(), "the filter reads the named label");
        let out = q.process(0, r#"took=1s bad"x"#, labels(&own), stream).unwrap();
        assert_eq!(get(&out.parsed, "__error__"), Some(LOGFMT_ERROR), "--strict still fails a line that does not read");
    }

    #[test]
    fn unpack_makes_the_packed_entry_the_line_and_decolorize_takes_ansi_codes_out() {
        // Loki's UnpackParser: `_entry` is the line, the other string values labels (only when
        // there is an `_entry`), other values skipped; a line that is not an object fails.
        let own = [("service_name", "a"), ("level", "info")];
        let stream = |name: &str| matches!(name, "service_name" | "level");
        let q = parse(r#"{service_name="a"} | unpack |= "GET" | logfmt"#).unwrap();
        let packed = r#"{"app":"web","level":"warn","n":1,"_entry":"GET /a status=\"ok\"","o":{"x":"y"}}"#;
        let out = q.process(0, packed, labels(&own), stream).expect("passes");
        assert_eq!(out.line.as_deref(), Some(r#"GET /a status="ok""#));
        let mut got: Vec<(&str, &str)> = out.parsed.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        got.sort();
        assert_eq!(got, [("app", "web"), ("level_extracted", "warn"), ("status", "ok")], "`n` and `o` are not strings");
        assert!(q.contained().next().is_none(), "filters after unpack read the unpacked line");
        let q = parse(r#"{service_name="a"} | unpack"#).unwrap();
        let out = q.process(0, r#"{"app":"web"}"#, labels(&own), stream).unwrap();
        assert!(out.line.is_none() && out.parsed.is_empty(), "without _entry nothing changes");
        let out = q.process(0, "plain", labels(&own), stream).unwrap();
        assert_eq!(get(&out.parsed, "__error__"), Some(JSON_ERROR));
        assert!(out.line.is_none());

        // Loki's Decolorizer removes what acarl005/stripansi's expression matches.
        let q = parse(r#"{service_name="a"} | decolorize |= "error done""#).unwrap();
        let out = q.process(0, "\u{1b}[31merror\u{1b}[0m done\u{1b}]0;title\u{7}", labels(&own), stream).unwrap();
        assert_eq!(out.line.as_deref(), Some("error done"));
        assert!(q.process(0, "plain error done", labels(&own), stream).unwrap().line.is_none());
        assert!(q.contained().next().is_none());
    }

    #[test]
    fn line_format_makes_the_line_that_later_stages_and_the_answer_see() {
        let own = [("service_name", "a"), ("level", "info")];
        let stream = |name: &str| matches!(name, "service_name" | "level");
        let q = parse(
            r#"{service_name="a"} | logfmt | line_format "{{.status}} {{.msg | ToUpper}}" |= "500" | regexp "(?P<code>\\d+) ""#,
        )
        .unwrap();
        let out = q.process(0, r#"status=500 msg="timed out""#, labels(&own), stream).expect("passes");
        assert_eq!(out.line.as_deref(), Some("500 TIMED OUT"));
        assert_eq!(get(&out.parsed, "code"), Some("500"), "the parser reads the new line");
        assert!(q.process(0, "status=200 msg=ok", labels(&own), stream).is_none(), "the line filter reads it too");
        // The store may narrow a scan only by the texts filters look for before the line changes.
        let q = parse(r#"{service_name="a"} |= "x" | line_format "{{.level}}" |= "info""#).unwrap();
        assert_eq!(q.contained().collect::<Vec<_>>(), ["x"]);
        assert!(q.uses_labels_outside(&["service_name"]) && !q.uses_labels_outside(&["service_name", "level"]));
        // The line and its time; a record whose template fails keeps its line and gets
        // Loki's TemplateFormatErr.
        let q = parse(r#"{service_name="a"} | line_format `{{ __timestamp__ | unixEpochMillis }} {{ __line__ }}`"#)
            .unwrap();
        assert_eq!(q.process(1_500_000_000, "l", labels(&own), stream).unwrap().line.as_deref(), Some("1500 l"));
        let q = parse(r#"{service_name="a"} | line_format "{{ if eq .level 1 }}x{{ end }}""#).unwrap();
        let out = q.process(0, "as it was", labels(&own), stream).expect("kept");
        assert_eq!(out.line, None);
        assert_eq!(get(&out.parsed, "__error__"), Some(TEMPLATE_ERROR));
        // `| label_format` takes the same functions, and the line.
        let q = parse(
            r#"{service_name="a"} | label_format lvl="{{ .level | upper }}", first=`{{ __line__ | trimSuffix " tail" }}`"#,
        )
        .unwrap();
        let out = q.process(0, "head tail", labels(&own), stream).unwrap();
        assert_eq!(out.parsed, [("lvl".to_owned(), "INFO".to_owned()), ("first".to_owned(), "head".to_owned())]);
    }

    #[test]
    fn or_between_label_filters_reads_with_lokis_precedence() {
        let record = [("service_name", "a"), ("level", "error"), ("status", "200")];
        let holds = |query: &str| parse(query).unwrap().matches("", labels(&record));
        assert!(holds(r#"{service_name="a"} | status >= 500 or level="error""#));
        assert!(!holds(r#"{service_name="a"} | status >= 500 or level="warn""#));
        // `and` binds tighter than `or`; parentheses group.
        assert!(holds(r#"{service_name="a"} | level="error" or status >= 500 and level="warn""#));
        assert!(!holds(r#"{service_name="a"} | (level="error" or status >= 500) and level="warn""#));
        assert!(holds(r#"{service_name="a"} | ((status="1" or (level="error"))), status="200""#));
        // A `,` takes everything after it: `a, b or c` is `a and (b or c)`, not `(a, b) or c`.
        assert!(!holds(r#"{service_name="a"} | level="warn", status="200" or level="error""#));
        assert!(holds(r#"{service_name="a"} | level="error", status="1" or service_name="a""#));
        assert!(holds(r#"{service_name="a"} | status="1" or level="error", status="2" or status="200""#));
        assert!(!holds(r#"{service_name="a"} | status="1" or level="error", status="2" or status="3""#));
        // Filters joined by `,` or `and` alone stay stages of their own; an `or` gives the
        // store no value to look for.
        let q = parse(r#"{service_name="a"} | level="error", status="1" or level="warn""#).unwrap();
        assert_eq!(q.stages.len(), 2);
        assert_eq!(q.required("level").collect::<Vec<_>>(), ["error"]);
        let q = parse(r#"{service_name="a"} | level="error" or level="warn""#).unwrap();
        assert_eq!(q.required("level").count(), 0);
        assert!(q.uses_labels_outside(&["service_name"]) && !q.uses_labels_outside(&["service_name", "level"]));
        // A comparison that cannot read its value keeps the line, as on its own.
        let q = parse(r#"{service_name="a"} | level="x" or status > 5"#).unwrap();
        let got = parsed(&q, "", &[("service_name", "a"), ("status", "oops")]).expect("kept");
        assert_eq!(get(&got, "__error__"), Some(LABEL_FILTER_ERROR));
        // A long chain of `,` does not nest.
        let chain = vec![r#"level="error""#; 20_000].join(", ");
        assert!(holds(&format!(r#"{{service_name="a"}} | {chain} or status="1""#)));
    }

    #[test]
    fn a_json_null_adds_no_label_so_a_comparison_on_it_leaves_the_line_out() {
        // Loki's JSON parser skips `null` values: the label is missing, not empty, and a
        // numeric filter drops a line without the label instead of flagging LabelFilterErr.
        let record = [("service_name", "a")];
        let q = parse(r#"{service_name="a"} | json | latency > 100"#).unwrap();
        assert_eq!(parsed(&q, r#"{"latency":null}"#, &record), None);
        let q = parse(r#"{service_name="a"} | json"#).unwrap();
        let got = parsed(&q, r#"{"latency":null,"req":{"id":null,"path":"/a"}}"#, &record).unwrap();
        assert_eq!(got, [("req_path".to_owned(), "/a".to_owned())]);
    }

    #[test]
    fn range_functions_over_unwrapped_values_read_with_their_conversion_and_grouping() {
        let q = parse_query(
            r#"quantile_over_time(0.99, {a="b"} | json | unwrap duration(took) | __error__="" [5m]) by (route)"#,
        )
        .unwrap();
        let Query::Metric(Metric::Range { func, unwrap, grouping, param, query, .. }) = q else { panic!("{q:?}") };
        assert_eq!(func, RangeFn::QuantileOverTime);
        assert_eq!(param, Some(0.99));
        assert_eq!(unwrap, Some(Unwrap { label: "took".into(), conversion: Conversion::Duration, stages_before: 1 }));
        assert_eq!(grouping, Some(Grouping { without: false, labels: vec!["route".into()] }));
        assert!(query.has_parser());
        assert!(!query.keeps_error(SAMPLE_ERROR, 1));
        // Only filters after `| unwrap` see its conversion error, as Loki's post-filters: one
        // before it ran before the error was set.
        for (text, leaves_out) in [
            (r#"| json | __error__="" | unwrap took"#, false),
            (r#"| json | unwrap took | __error__="""#, true),
            (r#"| json | unwrap took | __error__!="SampleExtractionErr""#, true),
            (r#"| json | unwrap took | __error__!="JSONParserErr""#, false),
            (r#"| json | __error__="" | unwrap took | status="200""#, false),
        ] {
            let q = parse_query(&format!(r#"sum_over_time({{a="b"}} {text} [1m])"#)).unwrap();
            let Query::Metric(Metric::Range { unwrap: Some(unwrap), query, .. }) = q else { panic!("{q:?}") };
            assert_eq!(!query.keeps_error(SAMPLE_ERROR, unwrap.stages_before), leaves_out, "{text}");
        }
        for (text, func, conversion) in [
            ("sum_over_time", RangeFn::SumOverTime, "bytes(size)"),
            ("avg_over_time", RangeFn::AvgOverTime, "latency"),
            ("rate", RangeFn::Rate, "latency"),
            ("stddev_over_time", RangeFn::StddevOverTime, "duration_seconds(took)"),
        ] {
            let q =
                parse_query(&format!(r#"sum without (host) ({text}({{a="b"}} | logfmt | unwrap {conversion} [1m]))"#))
                    .unwrap();
            let Query::Metric(metric) = q else { panic!() };
            assert_eq!(metric.range().0, func, "{text}");
            assert!(metric.range().3.is_some());
        }
    }

    #[test]
    fn strings_take_go_escapes_and_raw_strings_take_backslashes_literally() {
        let q = parse(r#"{a="x\n\t\u00e9\\"} |= `\d`"#).unwrap();
        assert_eq!(q.selector[0].value, "x\n\té\\");
        assert_eq!(q.contained().collect::<Vec<_>>(), [r"\d"]);
        // Every escape of Go's strconv.UnquoteChar, as Loki's lexer reads them: bytes by \x and
        // octal (two of them make é in UTF-8), characters by \u and \U.
        let q = parse(r#"{a="\a\b\f\v"} |= "\x1b[" |= "\U000065e5\160lain\303\251" |= "caf\xc3\xa9""#).unwrap();
        assert_eq!(q.selector[0].value, "\u{7}\u{8}\u{c}\u{b}");
        assert_eq!(q.contained().collect::<Vec<_>>(), ["\u{1b}[", "日plainé", "café"]);
        for (text, message) in [
            (r#"{a="\x4"}"#, r"invalid escape \x4"),
            (r#"{a="\400"}"#, r"invalid escape \400"),
            (r#"{a="\12"}"#, r"invalid escape \12"),
            (r#"{a="\U00110000"}"#, r"invalid escape \U00110000"),
            (r#"{a="\ud800"}"#, r"invalid escape \ud800"),
            (r#"{a="\xff"}"#, "no UTF-8 text"),
            (r#"{a="it\'s"}"#, r"invalid escape \'"),
        ] {
            let error = parse(text).unwrap_err().to_string();
            assert!(error.contains(message), "{text}: {error}");
        }
    }

    #[test]
    fn a_trailing_comma_in_the_selector_is_accepted() {
        assert_eq!(parse(r#"{a="x",}"#).unwrap().selector.len(), 1);
    }

    #[test]
    fn deeply_nested_aggregations_are_refused_without_exhausting_the_stack() {
        // A worker thread's stack (tokio's default is 2 MiB) must survive any query text.
        let depth = 20_000;
        let text = format!("{}count_over_time({{a=\"b\"}}[1m]){}", "sum(".repeat(depth), ")".repeat(depth));
        let outcome = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || parse_query(&text).map(|_| ()))
            .unwrap()
            .join()
            .expect("the parser returns");
        let e = outcome.expect_err("too deep");
        assert!(e.message.contains("nested"), "{e}");
    }

    /// Queries stitched from LogQL's own tokens and stages, 8,000 of them: every
    /// one reads or is refused with a column inside the text, and none panics; those that read
    /// run over a few lines without panicking either.
    #[test]
    fn stitched_queries_read_or_are_refused_and_never_panic() {
        const TOKENS: &[&str] = &[
            "{",
            "}",
            "(",
            ")",
            "[",
            "]",
            ",",
            "|",
            "|=",
            "!=",
            "|~",
            "!~",
            "=",
            "=~",
            ">",
            ">=",
            "<",
            "<=",
            "==",
            " ",
            "a",
            "service_name",
            "level",
            "\"x\"",
            "`y`",
            "\"(\"",
            "\"é\"",
            "json",
            "logfmt",
            "unwrap",
            "duration",
            "bytes",
            "drop",
            "keep",
            "label_format",
            "line_format",
            "{{.x}}",
            "\"{{ .x | upper }}\"",
            "regexp",
            "pattern",
            "offset",
            "#",
            "and",
            "or",
            "by",
            "without",
            "sum",
            "avg",
            "count_over_time",
            "rate",
            "quantile_over_time",
            "avg_over_time",
            "+",
            "/",
            "^",
            "-1",
            "bool",
            "on",
            "ignoring",
            "unless",
            "topk",
            "sort",
            "vector",
            "|>",
            "\"<_> x\"",
            "0.5",
            "500",
            "10ms",
            "1KB",
            "5m",
            "__error__",
            "é",
            "\\",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        const STAGES: &[&str] = &[
            " | json",
            " | logfmt",
            " | logfmt --strict",
            " |= \"1\"",
            " != \"x\"",
            " |~ `\\d`",
            " |> \"<_> <_>\"",
            " !> \"{<_>}\" or \"plain\"",
            " | status >= 500",
            " | took > 1ms",
            " | took < 2KB",
            " | level_extracted=\"warn\"",
            " | __error__=\"\"",
            " | drop __error__, took",
            " | status == 503, took >= 0.5s",
            " | status!=\"1\" and level=~\"i.*\"",
            " | regexp `(?P<status>\\d+)`",
            " | pattern `<_> <took> <_>`",
            " | keep status, took",
            " | label_format took=status, x=\"{{.took}}/{{ .level }}\"",
            " | line_format \"{{.status}} {{ .took | upper }}\"",
            " | line_format `{{ if eq .level \"warn\" }}{{ __line__ }}{{ else }}{{ printf \"%5s\" .took }}{{ end }}`",
            " | status >= 500 or level=\"warn\"",
            " | (took > 1ms or status == 503), level!=\"x\" and status < 600",
        ];
        let lines = ["{\"status\":503,\"took\":\"1s\"}", "level=warn took=2ms", "plain", ""];
        let record = [("service_name", "a"), ("level", "info")];
        let mut read = 0;
        for _ in 0..8_000 {
            let n = 1 + next() % 14;
            let mut text = String::new();
            if next() % 2 == 0 {
                // Well-formed stages in any order, sometimes inside a metric query.
                text.push_str("{service_name=\"a\"}");
                for _ in 0..n {
                    text.push_str(STAGES[(next() % STAGES.len() as u64) as usize]);
                }
                if next() % 3 == 0 {
                    let unwrap = if next() % 2 == 0 { " | unwrap took" } else { " | unwrap duration(took)" };
                    text = format!("sum by (level) (avg_over_time({text}{unwrap} [1m]))");
                }
            } else {
                for _ in 0..n {
                    text.push_str(TOKENS[(next() % TOKENS.len() as u64) as usize]);
                }
            }
            match parse_query(&text) {
                Ok(Query::Log(q)) => {
                    read += 1;
                    for line in lines {
                        let _ = q.process(0, line, labels(&record), |name| name == "service_name");
                    }
                }
                Ok(Query::Metric(_)) => read += 1,
                Err(e) => assert!(e.col >= 1 && e.col <= text.chars().count() + 1, "{text}: {e}"),
            }
        }
        assert!(read > 3_000, "most well-formed queries read: {read}");
    }
}
