//! The log page's records in a compact columnar store: times, levels, services and ids in
//! columns, messages and attributes in one string arena each (in chunks that never grow, so
//! that no buffer is copied into one twice its size), so that a million records take tens of
//! megabytes and a filter over all of them is a tight loop. The store keeps the current
//! filter's matches up to date as records arrive, drops the oldest records beyond its capacity
//! (and counts them), and draws the log-volume histogram. Plain Rust, tested natively.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// A resource's attributes, shared by its records (one allocation per stream, not per record).
pub type Resource = Arc<[(String, String)]>;

/// A record's severity, coarse as Loki's `level` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Level {
    /// No severity, or one that reads as none of the others.
    #[default]
    Unknown = 0,
    /// TRACE (severity numbers 1–4).
    Trace = 1,
    /// DEBUG (5–8).
    Debug = 2,
    /// INFO (9–12).
    Info = 3,
    /// WARN (13–16).
    Warn = 4,
    /// ERROR (17–20).
    Error = 5,
    /// FATAL or critical (21–24).
    Fatal = 6,
}

impl Level {
    /// Every level, from unknown to fatal (the order of the histogram's stack).
    pub const ALL: [Level; 7] =
        [Level::Unknown, Level::Trace, Level::Debug, Level::Info, Level::Warn, Level::Error, Level::Fatal];

    /// From an OTLP severity number, else from a severity text or a Loki `level`.
    pub fn from_otlp(number: i32, text: &str) -> Level {
        match number {
            1..=4 => Level::Trace,
            5..=8 => Level::Debug,
            9..=12 => Level::Info,
            13..=16 => Level::Warn,
            17..=20 => Level::Error,
            21..=24 => Level::Fatal,
            _ => Level::from_text(text),
        }
    }

    /// From a level as people and libraries write it (`warn`, `WARNING`, `crit`, `E`…).
    pub fn from_text(text: &str) -> Level {
        match text.trim().to_ascii_lowercase().as_str() {
            "trace" | "trc" | "t" => Level::Trace,
            "debug" | "dbg" | "d" => Level::Debug,
            "info" | "information" | "informational" | "notice" | "inf" | "i" => Level::Info,
            "warn" | "warning" | "wrn" | "w" => Level::Warn,
            "error" | "err" | "eror" | "e" => Level::Error,
            "fatal" | "critical" | "crit" | "emerg" | "emergency" | "alert" | "panic" | "ftl" | "f" => Level::Fatal,
            _ => Level::Unknown,
        }
    }

    fn from_u8(n: u8) -> Level {
        Level::ALL.get(n as usize).copied().unwrap_or(Level::Unknown)
    }

    /// The name shown in the list and used in CSS classes and page URLs.
    pub fn name(self) -> &'static str {
        match self {
            Level::Unknown => "unknown",
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }
}

/// One record as it arrives, before it goes into the columns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Record {
    /// Unix nanoseconds.
    pub time: u64,
    /// Severity.
    pub level: Level,
    /// The severity as the record wrote it (`WARNING`, `E`), when it did.
    pub severity_text: String,
    /// `service.name` (Loki's `service_name`).
    pub service: String,
    /// The body as text.
    pub message: String,
    /// The trace id as 16 bytes read as a big-endian number; 0 when none.
    pub trace_id: u128,
    /// The span id; 0 when none.
    pub span_id: u64,
    /// The record's own attributes (Loki's structured metadata).
    pub attributes: Vec<(String, String)>,
    /// Its resource's attributes (Loki's stream labels).
    pub resource: Resource,
}

/// The key both of [`LogStore::push`]'s sorts use: one function, so one copy of the sort in the wasm.
fn record_time(r: &Record) -> u64 {
    r.time
}

/// A trace id as 32 lowercase hex digits.
pub fn trace_hex(id: u128) -> String {
    format!("{id:032x}")
}

/// The first 8 of a trace id's significant hex digits, as a row shows it: of the low half for a
/// 64-bit id (its high half zero, as Zipkin and B3 write ids of 16 digits), else of all 32.
pub fn trace_short(id: u128) -> String {
    let hex = if id >> 64 == 0 { format!("{:016x}", id as u64) } else { trace_hex(id) };
    hex[..8].to_owned()
}

/// Reads a trace id of up to 32 hex digits (left-padded, as Tempo and Loki may shorten them).
pub fn parse_trace_id(text: &str) -> Option<u128> {
    let t = text.trim();
    (!t.is_empty() && t.len() <= 32 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| u128::from_str_radix(t, 16).ok())
        .flatten()
        .filter(|&n| n != 0)
}

/// Records a page keeps unless its URL says otherwise (`buffer=`).
pub const DEFAULT_CAPACITY: usize = 100_000;
/// The range a page's `buffer=` may ask for.
pub const CAPACITY_RANGE: (usize, usize) = (1_000, 2_000_000);

/// The capacity a page's `buffer=` parameter asks for, and a notice when it was not used as
/// given (not a number, or outside [`CAPACITY_RANGE`]); empty means the default.
pub fn buffer_capacity(param: &str) -> (usize, Option<String>) {
    let (min, max) = CAPACITY_RANGE;
    let text = param.trim();
    if text.is_empty() {
        return (DEFAULT_CAPACITY, None);
    }
    let Ok(asked) = text.replace(['_', ','], "").parse::<u64>() else {
        return (
            DEFAULT_CAPACITY,
            Some(format!("buffer={text} is not a number of records; keeping {DEFAULT_CAPACITY}")),
        );
    };
    let kept = asked.clamp(min as u64, max as u64) as usize;
    let notice = (kept as u64 != asked).then(|| {
        let bound = if kept == min { "at least" } else { "at most" };
        format!("buffer={asked} is outside {min}–{max} records; keeping {bound} {kept}")
    });
    (kept, notice)
}

/// What to show: every condition must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    /// Only this service (exact name); empty for any.
    pub service: String,
    /// At least this level; `Unknown` shows everything, records of unknown level included.
    pub min_level: Level,
    /// Text the message contains (case-sensitive, as LogQL's `|=`), or a regular expression.
    pub text: String,
    /// Whether `text` is a regular expression (`(?i)` for case-insensitive).
    pub regex: bool,
    /// `key=value`: an attribute or resource attribute (a Loki stream label) with exactly this
    /// value; empty for any. `trace_id=…` and `span_id=…` are the record's ids, `level=…` (or
    /// `detected_level=…`) its level and `service_name=…` (or `service.name=…`) its service, as
    /// Loki has them as labels.
    pub attribute: String,
    /// Only records in `[start, end]` (Unix nanoseconds).
    pub range: Option<(u64, u64)>,
    /// Only records of this trace.
    pub trace_id: Option<u128>,
}

/// An attribute filter on one of the record's own fields.
#[derive(Debug, Clone, Copy)]
enum Field {
    TraceId(u128),
    SpanId(u64),
    /// Exactly this level.
    Level(u8),
    /// This service (`None`: a service the store has never seen).
    Service(Option<u32>),
}

const PAIR: char = '\u{1e}';
const KEY_END: char = '\u{1f}';

enum TextMatch {
    Any,
    Plain(Finder),
    /// A regular expression, and a literal every match contains (checked first: the regular
    /// expression engine is far slower than a substring search).
    Regex(regex_lite::Regex, Option<Finder>),
}

/// A filter made ready to run: names resolved to ids, the regular expression compiled.
struct Compiled {
    /// `None`: any service; `Some(None)`: a service the store has never seen (nothing matches yet).
    service: Option<Option<u32>>,
    min_level: u8,
    text: TextMatch,
    /// The attribute as it is written in the arena, and which resources have it.
    attribute: Option<(String, Vec<bool>)>,
    /// The attribute filter read as a record field (a label Loki gives every record).
    field: Option<Field>,
    range: (u64, u64),
    trace_id: Option<u128>,
    source: Filter,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled").field("filter", &self.source).finish()
    }
}

/// A record's fields, borrowed from the store.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordRef<'a> {
    /// Its position in the store (stable until older records are dropped).
    pub index: usize,
    /// Unix nanoseconds.
    pub time: u64,
    /// Severity.
    pub level: Level,
    /// The severity text as written, or empty.
    pub severity_text: &'a str,
    /// Service name.
    pub service: &'a str,
    /// The whole message.
    pub message: &'a str,
    /// 0 when none.
    pub trace_id: u128,
    /// 0 when none.
    pub span_id: u64,
    /// The record's attributes.
    pub attributes: Vec<(&'a str, &'a str)>,
    /// Its resource's attributes.
    pub resource: &'a [(String, String)],
}

/// What a list row shows of a record, borrowed from the store.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowRef<'a> {
    /// Unix nanoseconds.
    pub time: u64,
    /// Severity.
    pub level: Level,
    /// Service name.
    pub service: &'a str,
    /// The whole message.
    pub message: &'a str,
    /// 0 when none.
    pub trace_id: u128,
}

/// What one [`LogStore::push`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pushed {
    /// Records added.
    pub added: usize,
    /// Of those, how many match the filter.
    pub matched: usize,
    /// Old records dropped to stay within the capacity.
    pub dropped: usize,
}

/// Records in columns, with the current filter's matches. Physical positions below `head` are
/// dropped records waiting for the next compaction.
#[derive(Debug)]
pub struct LogStore {
    capacity: usize,
    head: usize,
    times: Vec<u64>,
    levels: Vec<u8>,
    services: Vec<u32>,
    resources: Vec<u32>,
    trace_ids: Vec<u128>,
    span_ids: Vec<u64>,
    messages: Arena,
    /// Each record's severity text, then its attributes as `␞key␟value` pairs.
    extras: Arena,
    service_names: Vec<String>,
    service_ids: HashMap<String, u32>,
    resource_sets: Vec<Resource>,
    resource_ids: HashMap<Resource, u32>,
    /// The resource interned last: records of one stream share it, so most lookups end here.
    last_resource: Option<(Resource, u32)>,
    /// Whether times never decrease (then a time range is a binary search).
    sorted: bool,
    filter: Compiled,
    /// Physical positions of the matching records, oldest first.
    matches: Vec<u32>,
    dropped: u64,
    /// Records moved out by compactions (and positions retired by rebuilds): a record's
    /// [`LogStore::seq`] is `base` plus its position, and never names another record.
    base: u64,
}

impl LogStore {
    /// An empty store that keeps at most `capacity` records.
    pub fn new(capacity: usize) -> LogStore {
        let mut store = LogStore {
            capacity: capacity.max(1),
            head: 0,
            times: Vec::new(),
            levels: Vec::new(),
            services: Vec::new(),
            resources: Vec::new(),
            trace_ids: Vec::new(),
            span_ids: Vec::new(),
            messages: Arena::default(),
            extras: Arena::default(),
            service_names: Vec::new(),
            service_ids: HashMap::new(),
            resource_sets: Vec::new(),
            resource_ids: HashMap::new(),
            last_resource: None,
            sorted: true,
            filter: Compiled {
                service: None,
                min_level: 0,
                text: TextMatch::Any,
                attribute: None,
                field: None,
                range: (0, u64::MAX),
                trace_id: None,
                source: Filter::default(),
            },
            matches: Vec::new(),
            dropped: 0,
            base: 0,
        };
        store.filter = store.compile(&Filter::default()).unwrap_or_else(|_| unreachable!());
        store
    }

    /// How many records it keeps at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Records held.
    pub fn len(&self) -> usize {
        self.times.len() - self.head
    }

    /// Whether it holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records dropped so far to stay within the capacity.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Service names seen, sorted.
    pub fn services(&self) -> Vec<String> {
        let mut names = self.service_names.clone();
        names.sort_unstable();
        names
    }

    /// The newest time held, if any.
    pub fn newest(&self) -> Option<u64> {
        (self.head..self.times.len()).map(|i| self.times[i]).max()
    }

    /// The [`super::loki::record_key`]s of the records held at `time`.
    pub fn keys_at(&self, time: u64) -> Vec<u64> {
        (self.head..self.times.len())
            .filter(|&i| self.times[i] == time)
            .map(|i| {
                let r = self.row(i);
                super::loki::record_key(r.service, r.message, r.trace_id)
            })
            .collect()
    }

    /// The oldest time held, if any.
    pub fn oldest(&self) -> Option<u64> {
        if self.sorted {
            self.times.get(self.head).copied()
        } else {
            (self.head..self.times.len()).map(|i| self.times[i]).min()
        }
    }

    /// Empties the store (the filter stays).
    pub fn clear(&mut self) {
        let filter = self.filter.source.clone();
        // Seqs go on from where they were: a view may still hold the old ones.
        let base = self.base + self.times.len() as u64;
        *self = LogStore::new(self.capacity);
        self.base = base;
        let _ = self.set_filter(&filter);
    }

    fn intern_service(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.service_ids.get(name) {
            return id;
        }
        let id = self.service_names.len() as u32;
        self.service_names.push(name.to_owned());
        self.service_ids.insert(name.to_owned(), id);
        if let Some(None) = self.filter.service {
            if self.filter.source.service == name {
                self.filter.service = Some(Some(id));
            }
        }
        id
    }

    fn intern_resource(&mut self, attributes: &Resource) -> u32 {
        if let Some((last, id)) = &self.last_resource {
            if Arc::ptr_eq(last, attributes) {
                return *id;
            }
        }
        if let Some(&id) = self.resource_ids.get(attributes) {
            self.last_resource = Some((attributes.clone(), id));
            return id;
        }
        let id = self.resource_sets.len() as u32;
        self.resource_sets.push(attributes.clone());
        self.resource_ids.insert(attributes.clone(), id);
        self.last_resource = Some((attributes.clone(), id));
        if let Some((_, has)) = &mut self.filter.attribute {
            let (k, v) = split_attribute(&self.filter.source.attribute);
            has.push(attributes.iter().any(|(a, b)| a == k && b == v));
        }
        id
    }

    /// Adds records: a batch newer than everything held is appended (the live tail's case);
    /// otherwise the store is rebuilt in time order. Matches are extended incrementally, and the
    /// oldest records beyond the capacity are dropped and counted.
    pub fn push(&mut self, mut records: Vec<Record>) -> Pushed {
        if records.is_empty() {
            return Pushed::default();
        }
        records.sort_by_key(record_time);
        let in_order = self.sorted && self.times.last().is_none_or(|&n| records[0].time >= n);
        if !in_order {
            let added = records.len();
            let mut all = self.take_all();
            all.extend(records);
            all.sort_by_key(record_time);
            let pushed = self.append(all);
            return Pushed { added, matched: self.matches.len(), dropped: pushed.dropped };
        }
        self.append(records)
    }

    fn take_all(&mut self) -> Vec<Record> {
        let records: Vec<Record> = (self.head..self.times.len()).map(|i| self.owned(i)).collect();
        let (capacity, dropped) = (self.capacity, self.dropped);
        let base = self.base + self.times.len() as u64;
        let filter = self.filter.source.clone();
        *self = LogStore::new(capacity);
        self.dropped = dropped;
        self.base = base;
        let _ = self.set_filter(&filter);
        records
    }

    fn owned(&self, i: usize) -> Record {
        let r = self.get(i);
        Record {
            time: r.time,
            level: r.level,
            severity_text: r.severity_text.to_owned(),
            service: r.service.to_owned(),
            message: r.message.to_owned(),
            trace_id: r.trace_id,
            span_id: r.span_id,
            attributes: r.attributes.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            resource: self.resource_sets[self.resources[i] as usize].clone(),
        }
    }

    fn append(&mut self, records: Vec<Record>) -> Pushed {
        let mut pushed = Pushed { added: records.len(), ..Pushed::default() };
        // Records that would be dropped at once are never stored.
        let skip = records.len().saturating_sub(self.capacity);
        if skip > 0 {
            self.dropped += skip as u64;
            pushed.dropped += skip;
        }
        for r in records.into_iter().skip(skip) {
            let service = self.intern_service(&r.service);
            let resource = self.intern_resource(&r.resource);
            if self.times.last().is_some_and(|&t| r.time < t) {
                self.sorted = false;
            }
            self.times.push(r.time);
            self.levels.push(r.level as u8);
            self.services.push(service);
            self.resources.push(resource);
            self.trace_ids.push(r.trace_id);
            self.span_ids.push(r.span_id);
            self.messages.push(&r.message);
            let len = r.severity_text.len() + r.attributes.iter().map(|(k, v)| 2 + k.len() + v.len()).sum::<usize>();
            let extra = self.extras.start(len);
            extra.push_str(&r.severity_text);
            for (k, v) in &r.attributes {
                extra.push(PAIR);
                extra.push_str(k);
                extra.push(KEY_END);
                extra.push_str(v);
            }
            let i = self.times.len() - 1;
            if self.is_match(i) {
                self.matches.push(i as u32);
                pushed.matched += 1;
            }
        }
        let over = self.len().saturating_sub(self.capacity);
        if over > 0 {
            self.head += over;
            self.dropped += over as u64;
            pushed.dropped += over;
            let head = self.head as u32;
            let gone = self.matches.partition_point(|&m| m < head);
            if gone > 0 {
                self.matches.drain(..gone);
            }
            if self.head >= (self.capacity / 4).max(1024) {
                self.compact();
            }
        }
        pushed
    }

    /// Moves the live records to the front of every column.
    fn compact(&mut self) {
        let h = self.head;
        if h == 0 {
            return;
        }
        self.times.drain(..h);
        self.levels.drain(..h);
        self.services.drain(..h);
        self.resources.drain(..h);
        self.trace_ids.drain(..h);
        self.span_ids.drain(..h);
        self.messages.drain(h);
        self.extras.drain(h);
        self.matches.iter_mut().for_each(|m| *m -= h as u32);
        self.head = 0;
        self.base += h as u64;
    }

    fn message(&self, i: usize) -> &str {
        self.messages.get(i)
    }

    fn extra(&self, i: usize) -> &str {
        self.extras.get(i)
    }

    /// A record by its position (as [`LogStore::match_at`] and [`RecordRef::index`] give it).
    pub fn get(&self, i: usize) -> RecordRef<'_> {
        let extra = self.extra(i);
        let (severity_text, pairs) = extra.split_once(PAIR).map_or((extra, ""), |(s, rest)| (s, rest));
        let attributes = if extra.contains(PAIR) {
            pairs.split(PAIR).map(|p| p.split_once(KEY_END).unwrap_or((p, ""))).collect()
        } else {
            Vec::new()
        };
        RecordRef {
            index: i,
            time: self.times[i],
            level: Level::from_u8(self.levels[i]),
            severity_text,
            service: &self.service_names[self.services[i] as usize],
            message: self.message(i),
            trace_id: self.trace_ids[i],
            span_id: self.span_ids[i],
            attributes,
            resource: &self.resource_sets[self.resources[i] as usize],
        }
    }

    /// The fields a list row shows, without the attributes (cheaper than [`LogStore::get`]).
    pub fn row(&self, i: usize) -> RowRef<'_> {
        RowRef {
            time: self.times[i],
            level: Level::from_u8(self.levels[i]),
            service: &self.service_names[self.services[i] as usize],
            message: self.message(i),
            trace_id: self.trace_ids[i],
        }
    }

    /// A record's lasting name: positions change when old records are dropped, this does not.
    pub fn seq(&self, i: usize) -> u64 {
        self.base + i as u64
    }

    /// The position of the record named `seq`, while it is held.
    pub fn index_of(&self, seq: u64) -> Option<usize> {
        let i = usize::try_from(seq.checked_sub(self.base)?).ok()?;
        self.contains(i).then_some(i)
    }

    /// Whether position `i` still holds a record (it may have been dropped since).
    pub fn contains(&self, i: usize) -> bool {
        (self.head..self.times.len()).contains(&i)
    }

    fn compile(&self, f: &Filter) -> Result<Compiled, String> {
        let text = match (f.text.is_empty(), f.regex) {
            (true, _) => TextMatch::Any,
            (false, false) => TextMatch::Plain(Finder::new(&f.text, false)),
            (false, true) => TextMatch::Regex(
                regex_lite::Regex::new(&f.text).map_err(|e| format!("not a regular expression: {e}"))?,
                required_literal(&f.text).map(|(literal, fold)| Finder::new(&literal, fold)),
            ),
        };
        let (attribute, field) = if f.attribute.trim().is_empty() {
            (None, None)
        } else {
            let (k, v) = split_attribute(&f.attribute);
            if k.is_empty() || !f.attribute.contains('=') {
                return Err(format!("`{}`: write an attribute filter as key=value", f.attribute.trim()));
            }
            let field = match k {
                "trace_id" | "traceid" | "traceID" => Some(Field::TraceId(
                    parse_trace_id(v).ok_or_else(|| format!("`{v}` is not a trace id (up to 32 hex digits)"))?,
                )),
                "span_id" | "spanid" | "spanID" => Some(Field::SpanId(
                    u64::from_str_radix(v, 16)
                        .ok()
                        .filter(|_| v.len() <= 16)
                        .ok_or_else(|| format!("`{v}` is not a span id (up to 16 hex digits)"))?,
                )),
                "level" | "detected_level" => match Level::from_text(v) {
                    Level::Unknown if !v.eq_ignore_ascii_case("unknown") => {
                        return Err(format!("`{v}` is not a level (trace, debug, info, warn, error, fatal)"))
                    }
                    level => Some(Field::Level(level as u8)),
                },
                "service_name" | "service.name" => Some(Field::Service(self.service_ids.get(v).copied())),
                _ => None,
            };
            let has = self.resource_sets.iter().map(|set| set.iter().any(|(a, b)| a == k && b == v)).collect();
            (Some((format!("{PAIR}{k}{KEY_END}{v}"), has)), field)
        };
        Ok(Compiled {
            service: (!f.service.is_empty()).then(|| self.service_ids.get(&f.service).copied()),
            min_level: f.min_level as u8,
            text,
            attribute,
            field,
            range: f.range.unwrap_or((0, u64::MAX)),
            trace_id: f.trace_id,
            source: f.clone(),
        })
    }

    /// The filter in force.
    pub fn filter(&self) -> &Filter {
        &self.filter.source
    }

    /// Applies a filter to every record held; an unreadable regular expression or attribute
    /// filter is an error and leaves the previous filter in force.
    pub fn set_filter(&mut self, f: &Filter) -> Result<(), String> {
        self.filter = self.compile(f)?;
        let (mut from, mut to) = (self.head, self.times.len());
        if self.sorted && f.range.is_some() {
            let (start, end) = self.filter.range;
            from = self.head + self.times[self.head..].partition_point(|&t| t < start);
            to = self.head + self.times[self.head..].partition_point(|&t| t <= end);
        }
        let mut matches = std::mem::take(&mut self.matches);
        matches.clear();
        if let TextMatch::Plain(finder) = &self.filter.text {
            // Search the message arena in one pass and check the other conditions only where
            // the text is: far fewer steps than one search per message.
            for (first, end, starts, bytes) in self.messages.segments(from, to) {
                let end_of = |i: usize| starts.get(i + 1 - first).map_or(bytes.len(), |&e| e as usize);
                let mut pos = starts[0] as usize;
                let limit = end_of(end - 1);
                let mut r = first;
                while let Some(p) = finder.find(&bytes[..limit], pos) {
                    // The message holding `p`: gallop from the last one (hits come in order).
                    let mut step = 1;
                    while r + step < end && starts[r + step - first] as usize <= p {
                        step *= 2;
                    }
                    let lo = r + step / 2;
                    let hi = (r + step).min(end);
                    r = lo + starts[lo - first..hi - first].partition_point(|&s| s as usize <= p).saturating_sub(1);
                    let stop = end_of(r);
                    if p + finder.needle.len() <= stop && self.passes_columns(r) {
                        matches.push(r as u32);
                    }
                    pos = stop.max(p + 1);
                    r += 1;
                    if r >= end {
                        break;
                    }
                }
            }
        } else {
            for i in from..to.max(from) {
                if self.is_match(i) {
                    matches.push(i as u32);
                }
            }
        }
        self.matches = matches;
        Ok(())
    }

    fn is_match(&self, i: usize) -> bool {
        if !self.passes_columns(i) {
            return false;
        }
        match &self.filter.text {
            TextMatch::Any => true,
            TextMatch::Plain(finder) => finder.is_in(self.message(i).as_bytes()),
            TextMatch::Regex(re, literal) => {
                let message = self.message(i);
                literal.as_ref().is_none_or(|l| l.is_in(message.as_bytes())) && re.is_match(message)
            }
        }
    }

    /// Every condition but the text.
    fn passes_columns(&self, i: usize) -> bool {
        let f = &self.filter;
        let level = self.levels[i];
        if level < f.min_level {
            return false;
        }
        match f.service {
            Some(Some(s)) if self.services[i] != s => return false,
            Some(None) => return false,
            _ => {}
        }
        let t = self.times[i];
        if t < f.range.0 || t > f.range.1 {
            return false;
        }
        if f.trace_id.is_some_and(|id| self.trace_ids[i] != id) {
            return false;
        }
        if let Some((needle, resources)) = &f.attribute {
            let in_field = match f.field {
                None => false,
                Some(Field::TraceId(id)) => self.trace_ids[i] == id,
                Some(Field::SpanId(id)) => self.span_ids[i] == id,
                Some(Field::Level(level)) => self.levels[i] == level,
                Some(Field::Service(s)) => s == Some(self.services[i]),
            };
            let in_resource = || resources.get(self.resources[i] as usize).copied().unwrap_or(false);
            if !in_field && !in_resource() && !has_pair(self.extra(i), needle) {
                return false;
            }
        }
        true
    }

    /// Records matching the filter.
    pub fn match_count(&self) -> usize {
        self.matches.len()
    }

    /// The position of the `n`-th match, newest first.
    pub fn match_at(&self, n: usize) -> Option<usize> {
        let len = self.matches.len();
        (n < len).then(|| self.matches[len - 1 - n] as usize)
    }

    /// Where a record is among the matches, newest first.
    pub fn rank_of(&self, index: usize) -> Option<usize> {
        let i = index as u32;
        let p = self.matches.binary_search(&i).ok()?;
        Some(self.matches.len() - 1 - p)
    }

    /// The records of the same service around a record, ignoring the filter: up to `before`
    /// older and `after` newer ones, oldest first, the record itself included.
    pub fn context(&self, index: usize, before: usize, after: usize) -> Vec<usize> {
        if !self.contains(index) {
            return Vec::new();
        }
        let service = self.services[index];
        let mut older: Vec<usize> =
            (self.head..index).rev().filter(|&i| self.services[i] == service).take(before).collect();
        older.reverse();
        older.push(index);
        older.extend((index + 1..self.times.len()).filter(|&i| self.services[i] == service).take(after));
        older
    }

    /// The time span the histogram covers: the filter's range, else the matches' extent.
    pub fn extent(&self) -> Option<(u64, u64)> {
        if let Some(r) = self.filter.source.range {
            return Some(r);
        }
        let (first, last) = (*self.matches.first()?, *self.matches.last()?);
        if self.sorted {
            return Some((self.times[first as usize], self.times[last as usize]));
        }
        let mut lo = u64::MAX;
        let mut hi = 0;
        for &m in &self.matches {
            let t = self.times[m as usize];
            lo = lo.min(t);
            hi = hi.max(t);
        }
        Some((lo, hi))
    }

    /// Matching records per time bucket and level over [`LogStore::extent`]: `buckets` columns
    /// of counts indexed by [`Level`] (the stacked log-volume histogram).
    pub fn histogram(&self, buckets: usize) -> Histogram {
        let buckets = buckets.max(1);
        let Some((start, end)) = self.extent() else {
            return Histogram { start: 0, end: 0, counts: vec![[0; 7]; buckets] };
        };
        let span = (end - start).max(1);
        let mut counts = vec![[0u32; 7]; buckets];
        for &m in &self.matches {
            let i = m as usize;
            let t = self.times[i].clamp(start, end) - start;
            // In u64 unless the product overflows (a span of years): u128 division is slow in wasm.
            let b = match t.checked_mul(buckets as u64) {
                Some(x) => (x / span) as usize,
                None => ((t as u128 * buckets as u128) / span as u128) as usize,
            };
            counts[b.min(buckets - 1)][self.levels[i] as usize] += 1;
        }
        Histogram { start, end, counts }
    }
}

/// Bytes of the first chunk of an [`Arena`]; each next one is twice the last, up to
/// [`CHUNK_MAX`].
const CHUNK_MIN: usize = 64 << 10;
const CHUNK_MAX: usize = 1 << 20;

/// One string per record, one after another in chunks that are never reallocated: a chunk is
/// filled up to its capacity, then the next one starts (a string longer than a chunk gets one
/// of its own). A single growing `String` would hold up to twice its bytes, and three times
/// while it moves into a bigger buffer; wasm memory never shrinks after such a peak. Dropping
/// the oldest records frees whole chunks and moves no bytes.
#[derive(Debug, Default)]
struct Arena {
    /// Where each record's string starts in its chunk.
    starts: Vec<u32>,
    chunks: VecDeque<Chunk>,
}

#[derive(Debug)]
struct Chunk {
    /// The first record whose string is in this chunk (records before it are in earlier ones).
    first: usize,
    text: String,
}

impl Arena {
    /// Starts the next record's string, of `len` bytes, and returns the buffer to write it to.
    fn start(&mut self, len: usize) -> &mut String {
        let record = self.starts.len();
        let room = self.chunks.back().is_some_and(|c| c.text.capacity() - c.text.len() >= len);
        if !room {
            let last = self.chunks.back().map_or(0, |c| c.text.capacity());
            let capacity = (last * 2).clamp(CHUNK_MIN, CHUNK_MAX).max(len);
            self.chunks.push_back(Chunk { first: record, text: String::with_capacity(capacity) });
        }
        let chunk = self.chunks.back_mut().unwrap_or_else(|| unreachable!());
        self.starts.push(chunk.text.len() as u32);
        &mut chunk.text
    }

    fn push(&mut self, text: &str) {
        self.start(text.len()).push_str(text);
    }

    /// The chunk holding record `i`'s string.
    fn chunk_of(&self, i: usize) -> usize {
        self.chunks.partition_point(|c| c.first <= i).saturating_sub(1)
    }

    /// Where record `i`'s string ends in chunk `c`.
    fn end(&self, c: usize, i: usize) -> usize {
        match self.chunks.get(c + 1) {
            Some(next) if next.first == i + 1 => self.chunks[c].text.len(),
            _ => self.starts.get(i + 1).map_or(self.chunks[c].text.len(), |&e| e as usize),
        }
    }

    fn get(&self, i: usize) -> &str {
        let c = self.chunk_of(i);
        &self.chunks[c].text[self.starts[i] as usize..self.end(c, i)]
    }

    /// The records `[from, to)` chunk by chunk: `(first, end, starts, bytes)` where records
    /// `first..end` start at `starts` (from `first` on) in `bytes`.
    fn segments(&self, from: usize, to: usize) -> impl Iterator<Item = (usize, usize, &[u32], &[u8])> + '_ {
        let first_chunk = if from < to { self.chunk_of(from) } else { self.chunks.len() };
        (first_chunk..self.chunks.len()).map_while(move |c| {
            let chunk = &self.chunks[c];
            let start = chunk.first.max(from);
            let end = self.chunks.get(c + 1).map_or(self.starts.len(), |n| n.first).min(to);
            (start < end).then(|| {
                // The chunk's bytes up to its last record's end, so that `starts` past `end`
                // are never read.
                (start, end, &self.starts[start..end], &chunk.text.as_bytes()[..self.end(c, end - 1)])
            })
        })
    }

    /// Forgets the strings of the first `n` records: whole chunks are freed, and positions
    /// move down by `n`.
    fn drain(&mut self, n: usize) {
        self.starts.drain(..n);
        while self.chunks.get(1).is_some_and(|c| c.first <= n) {
            self.chunks.pop_front();
        }
        for c in &mut self.chunks {
            c.first = c.first.saturating_sub(n);
        }
    }
}

/// The log-volume histogram: counts per bucket and level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Histogram {
    /// Unix nanoseconds at the left edge.
    pub start: u64,
    /// Unix nanoseconds at the right edge.
    pub end: u64,
    /// Per bucket, counts indexed by `Level as usize`.
    pub counts: Vec<[u32; 7]>,
}

impl Histogram {
    /// The tallest bucket's total.
    pub fn max_total(&self) -> u32 {
        self.counts.iter().map(|c| c.iter().sum::<u32>()).max().unwrap_or(0)
    }

    /// The time at a fraction (0–1) of the width.
    pub fn time_at(&self, fraction: f64) -> u64 {
        let f = fraction.clamp(0.0, 1.0);
        self.start + ((self.end - self.start) as f64 * f) as u64
    }
}

fn split_attribute(text: &str) -> (&str, &str) {
    let (k, v) = text.split_once('=').unwrap_or((text, ""));
    (k.trim(), v.trim().trim_matches('"'))
}

/// Whether `extras` holds the pair `needle` (`␞key␟value`) whole.
fn has_pair(extras: &str, needle: &str) -> bool {
    let mut rest = extras;
    while let Some(p) = rest.find(needle) {
        let after = &rest[p + needle.len()..];
        if after.is_empty() || after.starts_with(PAIR) {
            return true;
        }
        rest = &rest[p + 1..];
    }
    false
}

/// A substring search (Boyer–Moore–Horspool): built once per filter, it skips up to the
/// needle's length at each step, so a long needle reads a fraction of each message.
struct Finder {
    needle: Vec<u8>,
    /// How far to move when the byte under the needle's end is this one.
    shift: [u8; 256],
    /// ASCII case-insensitive (for the literal of a `(?i)` regular expression).
    fold: bool,
}

impl Finder {
    fn new(needle: &str, fold: bool) -> Finder {
        let needle: Vec<u8> =
            if fold { needle.bytes().map(|b| b.to_ascii_lowercase()).collect() } else { needle.bytes().collect() };
        let n = needle.len();
        let mut shift = [n.clamp(1, 255) as u8; 256];
        for (i, &b) in needle.iter().enumerate().take(n.saturating_sub(1)) {
            let d = (n - 1 - i).min(255) as u8;
            shift[b as usize] = d;
            if fold {
                shift[b.to_ascii_uppercase() as usize] = d;
            }
        }
        Finder { needle, shift, fold }
    }

    fn is_in(&self, haystack: &[u8]) -> bool {
        self.find(haystack, 0).is_some()
    }

    /// Where the needle first starts in `haystack` at or after `from`.
    fn find(&self, haystack: &[u8], from: usize) -> Option<usize> {
        let n = self.needle.len();
        if n == 0 {
            return (from <= haystack.len()).then_some(from);
        }
        let last = n - 1;
        let end_byte = self.needle[last];
        let mut i = from + last;
        while i < haystack.len() {
            let b = haystack[i];
            // The needle's last byte first: most windows fail there, without a comparison call.
            if b == end_byte || (self.fold && b.to_ascii_lowercase() == end_byte) {
                let window = &haystack[i - last..=i];
                let hit = if self.fold {
                    window.eq_ignore_ascii_case(&self.needle)
                } else {
                    window == self.needle.as_slice()
                };
                if hit {
                    return Some(i - last);
                }
            }
            i += self.shift[b as usize] as usize;
        }
        None
    }
}

/// A literal that every match of `pattern` contains, and whether it is matched ignoring ASCII
/// case: the longest run of plain characters outside groups and classes. `None` when no run of
/// three or more characters is sure to be required (an alternation, inline flags past the
/// start, a non-ASCII literal under `(?i)`).
fn required_literal(pattern: &str) -> Option<(String, bool)> {
    let mut rest = pattern;
    let mut fold = false;
    // Leading flags only: `(?i)`, `(?is)`…
    if let Some(after) = rest.strip_prefix("(?") {
        let end = after.find(')')?;
        let flags = &after[..end];
        if !flags.chars().all(|c| matches!(c, 'i' | 's' | 'm' | 'u' | 'U')) {
            return None;
        }
        fold = flags.contains('i');
        rest = &after[end + 1..];
    }
    if rest.contains('|') || rest.contains("(?") {
        return None;
    }
    let chars: Vec<char> = rest.chars().collect();
    let (mut best, mut run) = (String::new(), String::new());
    let mut depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let quantified = matches!(chars.get(i + 1), Some('*' | '?' | '{'));
        match c {
            // An escape (`\d`, `\.`) ends the run, and what it escapes is skipped.
            '\\' => {
                i += 1;
                run.clear();
            }
            '[' => {
                while i < chars.len() && chars[i] != ']' {
                    i += 1;
                }
                run.clear();
            }
            '(' => {
                depth += 1;
                run.clear();
            }
            ')' => {
                depth = depth.saturating_sub(1);
                run.clear();
            }
            '.' | '^' | '$' | '*' | '+' | '?' | '{' | '}' => run.clear(),
            _ if depth > 0 || quantified => run.clear(),
            _ => {
                run.push(c);
                if run.chars().count() > best.chars().count() {
                    best.clone_from(&run);
                }
            }
        }
        i += 1;
    }
    let usable = best.chars().count() >= 3 && (!fold || best.is_ascii());
    usable.then_some((best, fold))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(time: u64, level: Level, service: &str, message: &str) -> Record {
        Record { time, level, service: service.into(), message: message.into(), ..Record::default() }
    }

    fn shown(store: &LogStore) -> Vec<String> {
        (0..store.match_count()).map(|n| store.get(store.match_at(n).unwrap()).message.to_owned()).collect()
    }

    #[test]
    fn a_buffer_outside_its_range_or_not_a_number_is_named_not_silently_changed() {
        assert_eq!(buffer_capacity(""), (DEFAULT_CAPACITY, None));
        assert_eq!(buffer_capacity("5000"), (5_000, None));
        assert_eq!(buffer_capacity("250_000"), (250_000, None));
        let (kept, notice) = buffer_capacity("10");
        assert_eq!(kept, 1_000);
        assert_eq!(notice.as_deref(), Some("buffer=10 is outside 1000–2000000 records; keeping at least 1000"));
        let (kept, notice) = buffer_capacity("9000000");
        assert_eq!(kept, 2_000_000);
        assert!(notice.unwrap().ends_with("keeping at most 2000000"));
        let (kept, notice) = buffer_capacity("lots");
        assert_eq!(kept, DEFAULT_CAPACITY);
        assert_eq!(notice.as_deref(), Some("buffer=lots is not a number of records; keeping 100000"));
    }

    #[test]
    fn levels_read_from_severity_numbers_and_the_words_people_use() {
        assert_eq!(Level::from_otlp(17, ""), Level::Error);
        assert_eq!(Level::from_otlp(0, "WARNING"), Level::Warn);
        assert_eq!(Level::from_otlp(0, "critical"), Level::Fatal);
        assert_eq!(Level::from_otlp(0, "chatty"), Level::Unknown);
        assert_eq!(parse_trace_id("af7651916cd43dd8448eb211c80319c"), Some(0x0af7651916cd43dd8448eb211c80319c));
        assert_eq!(trace_hex(0xab), "000000000000000000000000000000ab");
        // A row shows the significant digits: a 64-bit (Zipkin) id's are in its low half.
        assert_eq!(trace_short(0xa03ee8fff1dcd9b9), "a03ee8ff");
        assert_eq!(trace_short(0xab), "00000000");
        assert_eq!(trace_short(0x0af7651916cd43dd8448eb211c80319c), "0af76519");
        assert_eq!(parse_trace_id("xyz"), None);
    }

    #[test]
    fn filters_combine_service_level_text_regex_attribute_range_and_trace() {
        let mut s = LogStore::new(100);
        let mut a = rec(1, Level::Info, "web", "GET /cart 200");
        a.attributes = vec![("http.route".into(), "/cart".into())];
        a.trace_id = 7;
        let mut b = rec(2, Level::Error, "api", "db timeout after 5s");
        b.resource = vec![("deployment.environment".into(), "prod".into())].into();
        b.severity_text = "ERR".into();
        let c = rec(3, Level::Unknown, "web", "GET /Cart 500");
        s.push(vec![c, a, b]);
        assert_eq!(shown(&s), ["GET /Cart 500", "db timeout after 5s", "GET /cart 200"], "newest first");
        let f = |g: fn(&mut Filter)| {
            let mut f = Filter::default();
            g(&mut f);
            f
        };
        s.set_filter(&f(|f| f.service = "web".into())).unwrap();
        assert_eq!(shown(&s), ["GET /Cart 500", "GET /cart 200"]);
        s.set_filter(&f(|f| f.min_level = Level::Info)).unwrap();
        assert_eq!(shown(&s), ["db timeout after 5s", "GET /cart 200"], "unknown levels go with any minimum");
        s.set_filter(&f(|f| f.text = "cart".into())).unwrap();
        assert_eq!(shown(&s), ["GET /cart 200"], "plain text is case-sensitive, as LogQL's |=");
        s.set_filter(&f(|f| {
            f.text = "(?i)/cart \\d+".into();
            f.regex = true;
        }))
        .unwrap();
        assert_eq!(shown(&s).len(), 2);
        s.set_filter(&f(|f| f.attribute = "http.route=/cart".into())).unwrap();
        assert_eq!(shown(&s), ["GET /cart 200"]);
        s.set_filter(&f(|f| f.attribute = "http.route=/car".into())).unwrap();
        assert!(shown(&s).is_empty(), "values match whole");
        s.set_filter(&f(|f| f.attribute = "deployment.environment=\"prod\"".into())).unwrap();
        assert_eq!(shown(&s), ["db timeout after 5s"], "resource attributes count too");
        // Loki's labels every record has, as the README says "an attribute or label key=value".
        s.set_filter(&f(|f| f.attribute = "level=error".into())).unwrap();
        assert_eq!(shown(&s), ["db timeout after 5s"], "the level label");
        s.set_filter(&f(|f| f.attribute = "trace_id=7".into())).unwrap();
        assert_eq!(shown(&s), ["GET /cart 200"], "the trace id");
        s.set_filter(&f(|f| f.attribute = "service_name=api".into())).unwrap();
        assert_eq!(shown(&s), ["db timeout after 5s"], "the service");
        for bad in ["garbage", "trace_id=xyz", "level=loud", "=x"] {
            let e = s.set_filter(&Filter { attribute: bad.into(), ..Filter::default() }).unwrap_err();
            assert!(e.contains(bad.split('=').next_back().unwrap()), "{bad}: {e}");
        }
        s.set_filter(&f(|f| f.range = Some((2, 3)))).unwrap();
        assert_eq!(shown(&s).len(), 2);
        s.set_filter(&f(|f| f.trace_id = Some(7))).unwrap();
        assert_eq!(shown(&s), ["GET /cart 200"]);
        assert!(s
            .set_filter(&f(|f| {
                f.text = "(".into();
                f.regex = true;
            }))
            .is_err());
        assert_eq!(shown(&s), ["GET /cart 200"], "a bad expression leaves the filter as it was");
        let r = s.get(s.match_at(0).unwrap());
        assert_eq!(r.attributes, [("http.route", "/cart")]);
        let err = s.get(1);
        assert_eq!(s.rank_of(0), Some(0));
        assert_eq!((err.severity_text, err.resource.len()), ("ERR", 1));
    }

    #[test]
    fn the_buffer_drops_the_oldest_records_and_counts_them_while_matches_follow() {
        let mut s = LogStore::new(2000);
        s.set_filter(&Filter { text: "even".into(), ..Filter::default() }).unwrap();
        for batch in 0..10u64 {
            let records = (0..500).map(|i| {
                let n = batch * 500 + i;
                rec(n, Level::Info, "svc", if n % 2 == 0 { "even line" } else { "odd line" })
            });
            s.push(records.collect());
        }
        assert_eq!((s.len(), s.dropped(), s.match_count()), (2000, 3000, 1000));
        assert_eq!(s.get(s.match_at(0).unwrap()).time, 4998);
        assert_eq!(s.get(s.match_at(999).unwrap()).time, 3000);
        let newest = s.seq(s.match_at(0).unwrap());
        s.push(vec![rec(5000, Level::Info, "svc", "even")]);
        assert_eq!(s.get(s.index_of(newest).unwrap()).time, 4998, "a record keeps its seq through compactions");
        assert_eq!((s.match_count(), s.get(s.match_at(999).unwrap()).time), (1000, 3002));
        let pushed = s.push((0..5000).map(|n| rec(10_000 + n, Level::Info, "svc", "even")).collect());
        assert_eq!((pushed.dropped, s.len(), s.oldest()), (5000, 2000, Some(13_000)));
        let before = s.seq(s.match_at(0).unwrap());
        s.clear();
        s.push(vec![rec(1, Level::Info, "svc", "even")]);
        assert!(s.seq(s.match_at(0).unwrap()) > before, "a cleared store names its records afresh");
        assert_eq!(s.index_of(before), None);
    }

    #[test]
    fn older_records_are_merged_in_time_order_and_the_filter_stays() {
        let mut s = LogStore::new(10);
        s.set_filter(&Filter { service: "late".into(), ..Filter::default() }).unwrap();
        assert_eq!(s.match_count(), 0);
        s.push(vec![rec(10, Level::Info, "late", "b"), rec(20, Level::Info, "x", "c")]);
        s.push(vec![rec(5, Level::Info, "late", "a")]);
        assert_eq!(shown(&s), ["b", "a"], "a service first seen after the filter was set");
        s.set_filter(&Filter::default()).unwrap();
        assert_eq!(shown(&s), ["c", "b", "a"]);
    }

    #[test]
    fn context_is_the_same_services_neighbours_and_the_histogram_stacks_levels() {
        let mut s = LogStore::new(100);
        s.push(
            (0..10)
                .map(|n| rec(n * 10, Level::ALL[(n % 7) as usize], if n % 2 == 0 { "a" } else { "b" }, "m"))
                .collect(),
        );
        let around = s.context(4, 2, 1);
        assert_eq!(around.iter().map(|&i| s.get(i).time).collect::<Vec<_>>(), [0, 20, 40, 60]);
        let h = s.histogram(3);
        assert_eq!((h.start, h.end), (0, 90));
        assert_eq!(h.counts.iter().map(|c| c.iter().sum::<u32>()).sum::<u32>(), 10);
        assert_eq!(h.counts[0][Level::Unknown as usize], 1);
        assert_eq!(h.max_total(), 4);
        assert_eq!(h.time_at(0.5), 45);
        s.set_filter(&Filter { range: Some((30, 60)), ..Filter::default() }).unwrap();
        assert_eq!((s.histogram(3).start, s.match_count()), (30, 4));
    }

    #[test]
    fn substring_search_and_the_literal_a_regular_expression_needs() {
        let f = Finder::new("timeout", false);
        assert!(
            f.is_in(b"db timeout after 5s") && f.is_in(b"timeout") && !f.is_in(b"Timeout") && !f.is_in(b"time out")
        );
        let f = Finder::new("TimeOut", true);
        assert!(f.is_in(b"db TIMEOUT") && f.is_in(b"timeout!") && !f.is_in(b"tim"));
        assert!(
            Finder::new("", false).is_in(b"")
                && Finder::new("a", false).is_in(b"xa")
                && !Finder::new("aa", false).is_in(b"a")
        );
        let mut s = LogStore::new(10);
        s.push(vec![
            rec(1, Level::Info, "a", "ab"),
            rec(2, Level::Info, "a", ""),
            rec(3, Level::Info, "a", "cd ab"),
            rec(4, Level::Info, "b", "abab"),
        ]);
        s.set_filter(&Filter { text: "bc".into(), ..Filter::default() }).unwrap();
        assert_eq!(s.match_count(), 0, "a needle across two messages is no match");
        s.set_filter(&Filter { text: "ab".into(), ..Filter::default() }).unwrap();
        assert_eq!(shown(&s), ["abab", "cd ab", "ab"]);
        s.set_filter(&Filter { text: "ab".into(), service: "a".into(), ..Filter::default() }).unwrap();
        assert_eq!(shown(&s), ["cd ab", "ab"]);
        assert_eq!(required_literal(r"(?i)TIMEOUT on shard \d+ "), Some(("TIMEOUT on shard ".into(), true)));
        assert_eq!(required_literal(r"GET /api/(cart|pay) 5\d\d"), None, "an alternation anywhere: no literal");
        assert_eq!(required_literal("served in [0-9]+ ms by worker"), Some((" ms by worker".into(), false)));
        assert_eq!(required_literal("colou?r"), Some(("colo".into(), false)), "a quantified character is optional");
        assert_eq!(required_literal("abcd?e"), Some(("abc".into(), false)));
        assert_eq!(required_literal("(?x)a b c"), None);
        assert_eq!(required_literal("x(abcdef)?y"), None);
    }

    #[test]
    fn strings_live_in_chunks_that_never_grow_and_a_filter_reads_across_them() {
        let mut s = LogStore::new(4000);
        let huge = format!("{}needle at the end", "x".repeat(3 << 20));
        let mut records: Vec<Record> = (0..6000u64)
            .map(|n| {
                let mut r = rec(n, Level::Info, "svc", &format!("line {n:05} {}", "y".repeat((n % 200) as usize)));
                r.attributes = vec![("n".into(), n.to_string())];
                r
            })
            .collect();
        records[5000].message.clone_from(&huge);
        s.push(records[..3000].to_vec());
        let chunks = s.messages.chunks.len();
        assert!(chunks >= 3, "{chunks} chunks");
        let buffers =
            |s: &LogStore| s.messages.chunks.iter().map(|c| (c.text.as_ptr(), c.text.capacity())).collect::<Vec<_>>();
        let before = buffers(&s);
        s.push(records[3000..3900].to_vec());
        assert_eq!(buffers(&s)[..chunks], before, "no chunk was moved or grown");
        s.push(records[3900..].to_vec());
        assert!(s.messages.chunks.iter().all(|c| c.text.capacity() <= CHUNK_MAX.max(huge.len())));
        // 2,000 dropped: the chunks holding only dropped strings are gone.
        assert_eq!((s.len(), s.dropped()), (4000, 2000));
        assert!(s.messages.chunks.iter().all(|c| c.first < s.len()));
        for i in (0..s.len()).step_by(97) {
            let r = s.get(s.head + i);
            let n = r.time as usize;
            assert_eq!(r.message, records[n].message);
            assert_eq!(r.attributes, [("n", n.to_string().as_str())]);
        }
        s.set_filter(&Filter { text: "needle at the end".into(), ..Filter::default() }).unwrap();
        assert_eq!(shown(&s), [huge]);
        s.set_filter(&Filter { text: "line 0".into(), ..Filter::default() }).unwrap();
        assert_eq!(s.match_count(), (2000..6000).filter(|&n| n != 5000).count());
        assert_eq!(s.get(s.match_at(0).unwrap()).time, 5999);
        assert_eq!(s.get(s.match_at(s.match_count() - 1).unwrap()).time, 2000);
        let every_one: Vec<u64> = (0..s.match_count()).map(|k| s.get(s.match_at(k).unwrap()).time).collect();
        assert!(every_one.windows(2).all(|w| w[0] == w[1] + 1 || (w[0] == 5001 && w[1] == 4999)));
    }

    #[test]
    fn a_text_filter_over_a_million_records_is_one_tight_loop() {
        let mut s = LogStore::new(1_000_000);
        let services = ["web", "api", "audit", "worker"];
        let records: Vec<Record> = (0..1_000_000u64)
            .map(|n| {
                rec(
                    n,
                    Level::ALL[(n % 7) as usize],
                    services[(n % 4) as usize],
                    &format!("request {n} served in {} ms from cache shard {}", n % 997, n % 13),
                )
            })
            .collect();
        s.push(records);
        let t = std::time::Instant::now();
        s.set_filter(&Filter { text: "shard 12".into(), ..Filter::default() }).unwrap();
        let took = t.elapsed();
        assert_eq!(s.match_count(), (0..1_000_000u64).filter(|n| n % 13 == 12).count());
        eprintln!("text filter over 1,000,000 records: {took:?}");
    }
}
