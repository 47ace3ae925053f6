//! Durable storage in SQLite (WAL mode, `synchronous = FULL`): a write returns only after its
//! transaction is on disk, so an acknowledged export survives a crash.
//!
//! Spans (as protobuf, see `store/spans.rs`) and log records (as OTLP/JSON) are kept whole
//! next to the columns that queries filter on; resources are stored once and referenced. A
//! `traces` table keeps one summary row per trace, updated as spans arrive, so that listing
//! recent traces never scans spans, and an `operations` table keeps each service's distinct
//! span names and kinds.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::path::Path;

use edgescope_otlp::read::{self, Ids};
use edgescope_otlp::{
    json, proto, InstrumentationScope, KeyValue, LogsData, Resource, ResourceLogs, ResourceSpans, ScopeLogs,
    ScopeSpans, Span, SpanKind, TraceId, TracesData,
};
use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::attribute_filter::AttributeFilter;

mod logs;
mod reader;
mod signals;
mod spans;

pub(crate) use logs::{LogRow, LogScan, ScanOrder};
pub(crate) use reader::abandoned;
pub use reader::Reader;

/// How a request of one signal is written in a transaction: how many items it held.
type Writer<T> = fn(&rusqlite::Transaction<'_>, &T) -> Result<usize>;

/// Storage failures; the cause is kept as text because a caller cannot act on it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused or failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored row no longer reads as OTLP (a bug or a damaged file).
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// The file is another application's SQLite database (its tables named).
    #[error("not an edgescope database (it holds the tables {0}): choose another --data-dir")]
    Foreign(String),
    /// The query's caller went away while it ran (see [`abandoned`]).
    #[error("the query was abandoned by its client")]
    Abandoned,
}

type Result<T> = std::result::Result<T, StoreError>;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS resources (
    id INTEGER PRIMARY KEY,
    json TEXT NOT NULL UNIQUE,
    service TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS spans (
    -- The trace's number in `traces`; spans are looked up by it rather than by the trace id.
    trace_no INTEGER NOT NULL,
    trace_id BLOB NOT NULL,
    span_id BLOB NOT NULL,
    parent_span_id BLOB,
    resource_id INTEGER NOT NULL REFERENCES resources(id),
    service TEXT NOT NULL,
    name TEXT NOT NULL,
    kind INTEGER NOT NULL,
    start_ns INTEGER NOT NULL,
    duration_ns INTEGER NOT NULL,
    status_code INTEGER NOT NULL,
    scope_json TEXT NOT NULL,
    -- A protobuf `Span` message; OTLP/JSON text in rows of older databases (see store/spans.rs).
    span BLOB NOT NULL
);
-- Trace numbers are given in order of arrival, so a request's spans go to the end of this
-- index, where an index by the (random) trace id would take a page per trace (ADR 0008). With
-- the span id, a span sent again is found by one seek, not by reading its whole trace.
CREATE INDEX IF NOT EXISTS spans_by_trace_span ON spans(trace_no, span_id);
-- Trace searches walk a service's spans by start time, newest first, and test the name in the
-- index. Start before name, so that a request's spans of one service land on one or two pages
-- at the index's end rather than on a page per operation. With the kind, retention's tidy-up
-- finds the operations still in use without reading the table.
CREATE INDEX IF NOT EXISTS spans_by_service_time ON spans(service, start_ns, name, kind);
CREATE TABLE IF NOT EXISTS operations (
    service TEXT NOT NULL,
    name TEXT NOT NULL,
    kind INTEGER NOT NULL,
    PRIMARY KEY (service, name, kind)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS traces (
    -- Given in order of arrival (one more than the largest); an alias of the rowid, so that it
    -- never changes, not even in a VACUUM.
    trace_no INTEGER PRIMARY KEY,
    trace_id BLOB NOT NULL UNIQUE,
    start_ns INTEGER NOT NULL,
    end_ns INTEGER NOT NULL,
    -- The root span's service and name; until the root arrives, those of the earliest span.
    root_service TEXT NOT NULL,
    root_name TEXT NOT NULL,
    has_root INTEGER NOT NULL,
    span_count INTEGER NOT NULL,
    error_count INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS traces_by_start ON traces(start_ns);
CREATE TABLE IF NOT EXISTS logs (
    id INTEGER PRIMARY KEY,
    time_ns INTEGER NOT NULL,
    severity INTEGER NOT NULL,
    service TEXT NOT NULL,
    trace_id BLOB,
    span_id BLOB,
    body TEXT,
    resource_id INTEGER NOT NULL REFERENCES resources(id),
    scope_json TEXT NOT NULL,
    record_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_by_time ON logs(time_ns);
CREATE INDEX IF NOT EXISTS logs_by_trace ON logs(trace_id);
";

/// The stored spans of a trace (by number) with a span id: what a span sent again is compared with.
const STORED_SPAN: &str = "SELECT resource_id, scope_json, span FROM spans WHERE trace_no = ?1 AND span_id = ?2";

/// A trace's summary over the spans of one request, written with one upsert.
struct TraceAggregate<'a> {
    start: i64,
    end: i64,
    root_service: &'a str,
    root_name: &'a str,
    /// Start of the span that names the trace (the root, else the earliest span).
    root_start: i64,
    has_root: bool,
    spans: i64,
    errors: i64,
}

/// One row of the recent-traces list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceSummary {
    /// Lowercase hex.
    pub trace_id: String,
    /// Service of the root span (of the earliest span while the root is missing).
    pub root_service: String,
    /// Name of the root span (of the earliest span while the root is missing).
    pub root_name: String,
    /// False while the trace has no span without a parent.
    pub has_root: bool,
    /// Earliest span start (Unix nanoseconds, as a string like OTLP/JSON int64s).
    pub start_time_unix_nano: String,
    /// Latest span end minus earliest start.
    pub duration_nanos: String,
    /// Spans stored for the trace.
    pub span_count: u64,
    /// Spans with an error status.
    pub error_count: u64,
}

/// One operation of a service: a span name and a span kind seen together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// The span name.
    pub name: String,
    /// The span kind, serialized as Jaeger's HTTP gateway writes it (`server`, `client`,
    /// `producer`, `consumer`, and `internal` also for an unspecified kind).
    #[serde(serialize_with = "span_kind_name")]
    pub span_kind: SpanKind,
}

fn span_kind_name<S: serde::Serializer>(kind: &SpanKind, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(crate::jaeger::span_kind_name(*kind))
}

/// Which traces to find: a trace matches when one of its spans satisfies every condition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceQuery {
    /// The span's service; empty for any service.
    pub service: String,
    /// The span's name, if given.
    pub operation: Option<String>,
    /// The span started at or after this time (Unix nanoseconds).
    pub start_min_ns: i64,
    /// The span started at or before this time (Unix nanoseconds).
    pub start_max_ns: i64,
    /// The span lasted at least this long, if given.
    pub duration_min_ns: Option<i64>,
    /// The span lasted at most this long, if given.
    pub duration_max_ns: Option<i64>,
    /// `key = value` conditions, all of which the span must satisfy: an attribute of the span,
    /// one of its events or links, its scope or its resource with that key whose value written
    /// as text is `value`; the key `error` matches the span status instead.
    pub attributes: Vec<(String, String)>,
    /// At most this many traces are returned.
    pub limit: usize,
}

/// With attribute conditions, a trace search reads at most this many span rows (the most
/// recently started that satisfy the other conditions and contain every attribute key in their
/// stored form); matches among older rows are not found.
pub const ATTRIBUTE_SCAN_LIMIT: usize = 10_000;

/// Which log records to return.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    /// Only records of this trace.
    pub trace_id: Option<TraceId>,
    /// Only records of this service (`service.name`).
    pub service: Option<String>,
    /// At most this many, newest first.
    pub limit: usize,
}

/// How long after a record without a time the same record is taken for a resend (an exporter's
/// retry, a page's outbox) rather than a new one: 15 minutes.
const RESENT_WITHIN_NS: i64 = 15 * 60 * 1_000_000_000;

/// A SQLite database file; one connection, used from blocking tasks.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    /// Where the size limit deletes up to, while a round of it is under way (see
    /// [`Store::prune_step`]).
    size_cutoff: Option<i64>,
    /// Whether log records may have been deleted since the full-text index was last merged:
    /// until it is, their entries stay in it (see [`Store::merge_log_index`]). True at first,
    /// for what earlier runs deleted.
    log_index_stale: bool,
    /// Log records deleted since the full-text index was last merged, in this process.
    log_deletions_unmerged: u64,
}

impl Store {
    /// Opens (or creates) the database at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        let mut conn = Connection::open(path)?;
        // Another application's database (a mistaken --data-dir) is refused before anything in
        // it changes, its journal mode included. Every edgescope database has `resources` and a
        // `spans` table with span ids.
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if !tables.is_empty() {
            let has_span_ids: bool = conn.query_row(
                "SELECT count(*) > 0 FROM pragma_table_info('spans') WHERE name = 'span_id'",
                [],
                |r| r.get(0),
            )?;
            if !has_span_ids || !tables.iter().any(|t| t == "resources") {
                return Err(StoreError::Foreign(tables.join(", ")));
            }
        }
        // Lets retention hand freed pages back to the file system with `incremental_vacuum`
        // instead of a VACUUM that rewrites the file. It takes effect only on a new, empty
        // database; an older one keeps its size and reuses its free pages.
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a commit returns after the log holding it is synced, so an acknowledged export
        // survives a crash of the process or of the machine.
        conn.pragma_update(None, "synchronous", "FULL")?;
        // A checkpoint (copying committed pages from the log into the database file, which
        // the committing connection does once the log holds this many pages) after about 40 MB
        // rather than SQLite's 4 MB. Durability does not depend on it: what is committed is
        // already synced in the log. A longer log lets a checkpoint write each page once for
        // many requests: with random trace ids, every request rewrites index pages scattered
        // over the file (ingest 54-70k -> 86-93k spans/s at 1,000,000 spans). The cost: a log
        // file of up to ~40 MB, replayed on the next open after a crash, and a longer commit
        // for the request that runs the checkpoint.
        conn.pragma_update(None, "wal_autocheckpoint", 10_000)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let tx = conn.transaction()?;
        let had_operations: bool = tx.query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'operations'",
            [],
            |r| r.get(0),
        )?;
        let numbering = spans::set_aside(&tx)?;
        tx.execute_batch(SCHEMA)?;
        logs::migrate(&tx)?;
        spans::migrate(&tx, numbering)?;
        if !had_operations {
            // A database written before the table existed: fill it in once.
            tx.execute("INSERT OR IGNORE INTO operations SELECT DISTINCT service, name, kind FROM spans", [])?;
        }
        tx.commit()?;
        if numbering.rewrites_spans() {
            // The log holds a copy of every span page now: give that space back at once.
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        Ok(Store { conn, size_cutoff: None, log_index_stale: true, log_deletions_unmerged: 0 })
    }

    fn resource_id(tx: &rusqlite::Transaction<'_>, resource: &Resource) -> Result<i64> {
        let text = json::write_resource(resource);
        tx.execute(
            "INSERT INTO resources (json, service) VALUES (?1, ?2) ON CONFLICT(json) DO NOTHING",
            params![text, resource.service_name()],
        )?;
        Ok(tx.query_row("SELECT id FROM resources WHERE json = ?1", [&text], |r| r.get(0))?)
    }

    /// Stores every span in one transaction; returns how many were stored.
    pub fn insert_traces(&mut self, data: &TracesData) -> Result<usize> {
        self.insert_one(data, Self::write_traces)
    }

    /// Writes one request with `write` in a transaction of its own.
    fn insert_one<T>(&mut self, data: &T, write: Writer<T>) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let n = write(&tx, data)?;
        tx.commit()?;
        Ok(n)
    }

    /// Writes the requests of a group with `write` in one transaction (one commit, one sync of
    /// the log for all of them) and returns, for each, what `write` returned. When the
    /// transaction fails, it is rolled back and each request is written in a transaction of its
    /// own, so that one request's failure fails no other.
    fn insert_group<T>(&mut self, group: &[&T], write: Writer<T>) -> Vec<Result<usize>> {
        if group.len() > 1 {
            let together = (|| {
                let tx = self.conn.transaction()?;
                let counts = group.iter().map(|data| write(&tx, data)).collect::<Result<Vec<_>>>()?;
                tx.commit()?;
                Ok::<_, StoreError>(counts)
            })();
            if let Ok(counts) = together {
                return counts.into_iter().map(Ok).collect();
            }
        }
        group.iter().map(|data| self.insert_one(*data, write)).collect()
    }

    /// Stores the spans of several requests in one transaction (one commit, one sync of the log
    /// for all of them) and returns, for each, how many of its spans were stored or why none
    /// were. When the transaction fails, it is rolled back and each request is stored in a
    /// transaction of its own, so that one request's failure fails no other.
    pub fn insert_trace_group(&mut self, group: &[&TracesData]) -> Vec<Result<usize>> {
        self.insert_group(group, Self::write_traces)
    }

    /// Writes a request's spans in `tx`: first one upsert per trace, which gives each trace its
    /// number, then the span rows with those numbers. A span that is already stored byte for
    /// byte (same resource, scope and protobuf `Span`), as an export sent again by an SDK's
    /// retry brings it, or that comes twice in the request, is left out, so that it counts
    /// once everywhere (Jaeger's `SpanHashDeduper` does it when reading). Two spans that share
    /// an id but differ are both kept. Returns how many spans the request held, duplicates
    /// included: they are accepted.
    fn write_traces(tx: &rusqlite::Transaction<'_>, data: &TracesData) -> Result<usize> {
        // Every span's protobuf in one buffer, with its resource's row and its scope's key.
        struct Row<'a> {
            span: &'a Span,
            service: &'a str,
            resource_id: i64,
            scope: usize,
            bytes: std::ops::Range<usize>,
        }
        let mut buffer = Vec::with_capacity(1024);
        let mut scopes: Vec<String> = Vec::new();
        let mut rows: Vec<Row<'_>> = Vec::new();
        for rs in &data.resource_spans {
            let resource_id = Self::resource_id(tx, &rs.resource)?;
            let service = rs.resource.service_name();
            for ss in &rs.scope_spans {
                scopes.push(scope_key(&ss.scope, &ss.schema_url, &rs.schema_url));
                for span in &ss.spans {
                    let from = buffer.len();
                    proto::encode_span(span, &mut buffer);
                    rows.push(Row { span, service, resource_id, scope: scopes.len() - 1, bytes: from..buffer.len() });
                }
            }
        }
        let total = rows.len();
        // Duplicates within the request.
        let mut seen: HashSet<(i64, &str, &[u8])> = HashSet::with_capacity(rows.len());
        rows.retain(|r| seen.insert((r.resource_id, &scopes[r.scope], &buffer[r.bytes.clone()])));
        drop(seen);
        // Duplicates of stored spans: only a trace that is stored already can hold them, and
        // only its spans with an id of the request, each found by a seek in `spans_by_trace_span`.
        let mut stored_traces: HashMap<i64, HashMap<[u8; 8], Vec<usize>>> = HashMap::new();
        {
            let mut number = tx.prepare_cached("SELECT trace_no FROM traces WHERE trace_id = ?1")?;
            let mut known: HashMap<TraceId, Option<i64>> = HashMap::new();
            for (i, r) in rows.iter().enumerate() {
                let trace_no = match known.get(&r.span.trace_id) {
                    Some(n) => *n,
                    None => {
                        let n = number.query_row([&r.span.trace_id.0[..]], |row| row.get(0)).optional()?;
                        known.insert(r.span.trace_id, n);
                        n
                    }
                };
                if let Some(trace_no) = trace_no {
                    stored_traces.entry(trace_no).or_default().entry(r.span.span_id.0).or_default().push(i);
                }
            }
        }
        if !stored_traces.is_empty() {
            let mut duplicate = vec![false; rows.len()];
            let mut stored = tx.prepare_cached(STORED_SPAN)?;
            for (trace_no, wanted) in &stored_traces {
                for (span_id, candidates) in wanted {
                    let mut found = stored.query(params![trace_no, &span_id[..]])?;
                    while let Some(row) = found.next()? {
                        let (resource_id, scope): (i64, String) = (row.get(0)?, row.get(1)?);
                        // A span stored as OTLP/JSON by an older version is compared as protobuf.
                        let encoded;
                        let bytes = match row.get_ref(2)? {
                            ValueRef::Blob(bytes) => bytes,
                            other => {
                                let mut old = Vec::new();
                                proto::encode_span(&spans::decode(other)?, &mut old);
                                encoded = old;
                                &encoded[..]
                            }
                        };
                        for &i in candidates {
                            let r = &rows[i];
                            if r.resource_id == resource_id
                                && scopes[r.scope] == scope
                                && buffer[r.bytes.clone()] == *bytes
                            {
                                duplicate[i] = true;
                            }
                        }
                    }
                }
            }
            let mut duplicate = duplicate.into_iter();
            rows.retain(|_| !duplicate.next().unwrap_or(false));
        }

        // In order of each trace's first span, so that new traces are numbered in that order.
        let mut summaries: Vec<(TraceId, TraceAggregate<'_>)> = Vec::new();
        let mut index: HashMap<TraceId, usize> = HashMap::new();
        for &Row { span, service, .. } in &rows {
            let start = nanos(span.start_time_unix_nano);
            let end = nanos(span.end_time_unix_nano.max(span.start_time_unix_nano));
            let is_root = span.parent_span_id.is_none();
            let error = span.is_error() as i64;
            let i = *index.entry(span.trace_id).or_insert_with(|| {
                summaries.push((
                    span.trace_id,
                    TraceAggregate {
                        start,
                        end,
                        root_service: service,
                        root_name: &span.name,
                        root_start: start,
                        has_root: is_root,
                        spans: 0,
                        errors: 0,
                    },
                ));
                summaries.len() - 1
            });
            let t = &mut summaries[i].1;
            t.start = t.start.min(start);
            t.end = t.end.max(end);
            t.spans += 1;
            t.errors += error;
            // The root span names the trace; until it arrives, the earliest span does.
            if (is_root && !t.has_root) || (is_root == t.has_root && start < t.root_start) {
                t.root_service = service;
                t.root_name = &span.name;
                t.root_start = start;
                t.has_root = is_root;
            }
        }
        let mut summary = tx.prepare_cached(
            "INSERT INTO traces (trace_id, start_ns, end_ns, root_service, root_name, has_root, span_count, error_count)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT(trace_id) DO UPDATE SET
                start_ns = min(start_ns, excluded.start_ns),
                end_ns = max(end_ns, excluded.end_ns),
                root_service = CASE WHEN excluded.has_root > has_root
                    OR (excluded.has_root = has_root AND excluded.start_ns < start_ns)
                    THEN excluded.root_service ELSE root_service END,
                root_name = CASE WHEN excluded.has_root > has_root
                    OR (excluded.has_root = has_root AND excluded.start_ns < start_ns)
                    THEN excluded.root_name ELSE root_name END,
                has_root = max(has_root, excluded.has_root),
                span_count = span_count + excluded.span_count,
                error_count = error_count + excluded.error_count
             RETURNING trace_no",
        )?;
        // One statement per trace, not per span: a batch of 512 spans usually holds a few dozen.
        let mut numbers: HashMap<TraceId, i64> = HashMap::with_capacity(summaries.len());
        for (trace_id, t) in &summaries {
            let number: i64 = summary.query_row(
                params![
                    &trace_id.0[..],
                    t.start,
                    t.end,
                    t.root_service,
                    t.root_name,
                    t.has_root as i64,
                    t.spans,
                    t.errors,
                ],
                |r| r.get(0),
            )?;
            numbers.insert(*trace_id, number);
        }
        drop(summary);

        let mut operations: HashSet<(&str, &str, i32)> = HashSet::new();
        let mut insert = tx.prepare_cached(
            "INSERT INTO spans (trace_no, trace_id, span_id, parent_span_id, resource_id, service, name,
                kind, start_ns, duration_ns, status_code, scope_json, span)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        let mut operation =
            tx.prepare_cached("INSERT OR IGNORE INTO operations (service, name, kind) VALUES (?1, ?2, ?3)")?;
        for r in &rows {
            let (span, service) = (r.span, r.service);
            // One statement per distinct operation, not per span.
            if operations.insert((service, &span.name, span.kind as i32)) {
                operation.execute(params![service, span.name, span.kind as i32])?;
            }
            insert.execute(params![
                numbers[&span.trace_id],
                &span.trace_id.0[..],
                &span.span_id.0[..],
                span.parent_span_id.as_ref().map(|p| &p.0[..]),
                r.resource_id,
                service,
                span.name,
                span.kind as i32,
                nanos(span.start_time_unix_nano),
                nanos(span.duration_nanos()),
                span.status.code as i32,
                scopes[r.scope],
                &buffer[r.bytes.clone()],
            ])?;
        }
        Ok(total)
    }

    /// Stores every log record in one transaction; returns how many the request held. A record
    /// stored already byte for byte (same resource, scope and OTLP record, so the same stream,
    /// time and line), as an export sent again brings it, is left out: Loki ignores a line
    /// pushed again to a stream with the same time and content.
    pub fn insert_logs(&mut self, data: &LogsData) -> Result<usize> {
        self.insert_one(data, Self::write_logs)
    }

    /// Stores the log records of several requests in one transaction (one commit, one sync of
    /// the log for all of them), each request as [`Store::insert_logs`] would after the ones
    /// before it, and returns, for each, how many records it held or why none were stored.
    /// When the transaction fails, it is rolled back and each request is stored in a
    /// transaction of its own, so that one request's failure fails no other.
    pub fn insert_log_group(&mut self, group: &[&LogsData]) -> Vec<Result<usize>> {
        self.insert_group(group, Self::write_logs)
    }

    /// Writes a request's log records in `tx` (see [`Store::insert_logs`]); returns how many the
    /// request held.
    fn write_logs(tx: &rusqlite::Transaction<'_>, data: &LogsData) -> Result<usize> {
        let mut n = 0;
        // Each record (with its resource and scope): how many times this request has had it so
        // far, and how many were stored before the request.
        let mut seen: HashMap<(i64, String, u64, String), (usize, usize)> = HashMap::new();
        // A record with neither a time nor an observed time is stored at the time it arrived, as
        // Loki's OTLP ingestion takes the current time (at 0 it would sort before every window and
        // be the first thing retention removes); its record stays as it came, so that the same
        // record sent again within `RESENT_WITHIN_NS` is recognised.
        let now = i64::try_from(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos(),
        )
        .unwrap_or(i64::MAX);
        for rl in &data.resource_logs {
            let resource_id = Self::resource_id(tx, &rl.resource)?;
            let service = rl.resource.service_name();
            for sl in &rl.scope_logs {
                let scope_json = scope_key(&sl.scope, &sl.schema_url, &rl.schema_url);
                let mut insert = tx.prepare_cached(
                    "INSERT INTO logs (time_ns, severity, service, trace_id, span_id, body, resource_id, scope_json, record_json)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )?;
                let mut stored = tx.prepare_cached(
                    "SELECT COUNT(*) FROM logs WHERE time_ns = ?1 AND resource_id = ?2 AND scope_json = ?3 AND record_json = ?4",
                )?;
                let mut stored_timeless = tx.prepare_cached(
                    "SELECT COUNT(*) FROM logs WHERE time_ns >= ?1 AND resource_id = ?2 AND scope_json = ?3 AND record_json = ?4",
                )?;
                for r in &sl.log_records {
                    n += 1;
                    // A request sent again (an exporter's retry, a page's outbox) is left out, as
                    // Loki ignores a repeated line. But equal records within one request are
                    // separate calls of a logger on a coarse clock (a browser's, a worker's): each
                    // is kept, beyond as many as were stored before the request.
                    let record_json = json::write_log_record(r);
                    let key = (resource_id, scope_json.clone(), r.time(), record_json.clone());
                    let (count, before) = match seen.entry(key) {
                        Entry::Occupied(entry) => entry.into_mut(),
                        Entry::Vacant(entry) => {
                            let before: i64 = match r.time() {
                                0 => stored_timeless.query_row(
                                    params![now.saturating_sub(RESENT_WITHIN_NS), resource_id, scope_json, record_json],
                                    |row| row.get(0),
                                )?,
                                t => stored
                                    .query_row(params![nanos(t), resource_id, scope_json, record_json], |row| {
                                        row.get(0)
                                    })?,
                            };
                            entry.insert((0, before as usize))
                        }
                    };
                    *count += 1;
                    if *count <= *before {
                        continue;
                    }
                    // The line Loki's OTLP ingestion makes of the body (`Body().AsString()`).
                    let body = r.body.as_ref().map(|b| crate::attribute_filter::value_text(Some(b)));
                    insert.execute(params![
                        match r.time() {
                            0 => now,
                            t => nanos(t),
                        },
                        r.severity_number,
                        service,
                        // All zeros is no id (W3C Trace Context): no trace to find the record by.
                        // Without its own, the record's `trace_id` attribute when it is one (its
                        // Loki metadata then, as a filelog receiver's parsed logs have it).
                        r.trace_id.filter(TraceId::is_valid).map(|t| t.0.to_vec()).or_else(|| attribute_id(
                            &r.attributes,
                            "trace_id",
                            32
                        )),
                        r.span_id
                            .filter(edgescope_otlp::SpanId::is_valid)
                            .map(|s| s.0.to_vec())
                            .or_else(|| attribute_id(&r.attributes, "span_id", 16)),
                        body,
                        resource_id,
                        scope_json,
                        record_json,
                    ])?;
                }
            }
        }
        Ok(n)
    }

    /// The most recently started traces, newest first.
    pub fn recent_traces(&self, limit: usize, service: Option<&str>) -> Result<Vec<TraceSummary>> {
        let sql = match service {
            None => {
                "SELECT trace_id, root_service, root_name, start_ns, end_ns, span_count, error_count, has_root
                     FROM traces ORDER BY start_ns DESC LIMIT ?1"
            }
            Some(_) => {
                "SELECT trace_id, root_service, root_name, start_ns, end_ns, span_count, error_count, has_root
                     FROM traces WHERE trace_no IN (SELECT trace_no FROM spans WHERE service = ?2)
                     ORDER BY start_ns DESC LIMIT ?1"
            }
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let map = |r: &rusqlite::Row<'_>| {
            let id: Vec<u8> = r.get(0)?;
            let start: i64 = r.get(3)?;
            let end: i64 = r.get(4)?;
            Ok(TraceSummary {
                trace_id: edgescope_otlp::hex(&id),
                root_service: r.get(1)?,
                root_name: r.get(2)?,
                start_time_unix_nano: start.to_string(),
                duration_nanos: end.saturating_sub(start).to_string(),
                span_count: r.get::<_, i64>(5)? as u64,
                error_count: r.get::<_, i64>(6)? as u64,
                has_root: r.get::<_, i64>(7)? != 0,
            })
        };
        let rows = match service {
            None => stmt.query_map(params![limit as i64], map)?.collect::<rusqlite::Result<Vec<_>>>()?,
            Some(s) => stmt.query_map(params![limit as i64, s], map)?.collect::<rusqlite::Result<Vec<_>>>()?,
        };
        Ok(rows)
    }

    /// Every stored span of a trace, grouped by resource and scope; `None` when there are none.
    pub fn trace(&self, trace_id: TraceId) -> Result<Option<TracesData>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.id, r.json, s.scope_json, s.span
             FROM traces t JOIN spans s ON s.trace_no = t.trace_no JOIN resources r ON r.id = s.resource_id
             WHERE t.trace_id = ?1 ORDER BY r.id, s.scope_json, s.start_ns",
        )?;
        let mut rows = stmt.query(params![&trace_id.0[..]])?;
        let mut data = TracesData::default();
        let mut current: Option<(i64, String)> = None;
        while let Some(row) = rows.next()? {
            let resource_id: i64 = row.get(0)?;
            let scope_json: String = row.get(2)?;
            let span = spans::decode(row.get_ref(3)?)?;
            if current.as_ref().map(|(r, _)| *r) != Some(resource_id) {
                let resource = read::resource(&parse(&row.get::<_, String>(1)?)?).map_err(corrupt)?;
                data.resource_spans.push(ResourceSpans { resource, ..Default::default() });
                current = None;
            }
            if current.as_ref().map(|(_, s)| s) != Some(&scope_json) {
                let (scope, schema_url, resource_schema_url) = read_scope_key(&scope_json)?;
                let rs = data.resource_spans.last_mut().expect("pushed above");
                if !rs.scope_spans.is_empty() && rs.schema_url != resource_schema_url {
                    // The same resource under another schema URL is a block of its own.
                    let resource = rs.resource.clone();
                    data.resource_spans.push(ResourceSpans { resource, ..Default::default() });
                }
                let rs = data.resource_spans.last_mut().expect("pushed above");
                rs.schema_url = resource_schema_url;
                rs.scope_spans.push(ScopeSpans { scope, schema_url, ..Default::default() });
                current = Some((resource_id, scope_json));
            }
            let rs = data.resource_spans.last_mut().expect("pushed above");
            rs.scope_spans.last_mut().expect("pushed above").spans.push(span);
        }
        Ok((!data.resource_spans.is_empty()).then_some(data))
    }

    /// The ids of the traces a search finds, in the order [`Store::find_traces`] returns them.
    pub fn find_trace_ids(&self, query: &TraceQuery) -> Result<Vec<TraceId>> {
        if query.attributes.is_empty() {
            self.matching_trace_ids(query)
        } else {
            self.scan(query)
        }
    }

    /// Calls `each` with every span of a trace and its service, one decoded span at a time, in
    /// the order [`Store::trace`] gives them; `false` when no such trace is stored.
    pub fn each_span_of(&self, trace_id: TraceId, mut each: impl FnMut(&str, Span)) -> Result<bool> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.service, s.span
             FROM traces t JOIN spans s ON s.trace_no = t.trace_no
             WHERE t.trace_id = ?1 ORDER BY s.resource_id, s.scope_json, s.start_ns",
        )?;
        let mut rows = stmt.query(params![&trace_id.0[..]])?;
        let mut any = false;
        while let Some(row) = rows.next()? {
            let service: String = row.get(0)?;
            each(&service, spans::decode(row.get_ref(1)?)?);
            any = true;
        }
        Ok(any)
    }

    /// The distinct span names and kinds of a service, sorted by name then kind. An
    /// unspecified kind counts as `internal`, so that the two never show as separate entries.
    pub fn operations(&self, service: &str) -> Result<Vec<Operation>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT name, CASE kind WHEN 0 THEN 1 ELSE kind END AS k FROM operations
             WHERE service = ?1 ORDER BY name, k",
        )?;
        let rows = stmt
            .query_map([service], |r| {
                Ok(Operation { name: r.get(0)?, span_kind: SpanKind::from_i32(r.get::<_, i64>(1)?) })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Every stored span of the traces that `query` matches, most recent match first, each
    /// trace's spans grouped by resource and scope as [`Store::trace`] returns them.
    ///
    /// Service, operation, start time and duration are conditions in SQL over the
    /// `spans_by_service_time` index. Attribute conditions are checked on the parsed spans, of
    /// at most [`ATTRIBUTE_SCAN_LIMIT`] rows.
    pub fn find_traces(&self, query: &TraceQuery) -> Result<TracesData> {
        let ids = self.find_trace_ids(query)?;
        let mut data = TracesData::default();
        for id in ids {
            // Between traces: a search whose client went away stops here.
            if abandoned() {
                return Err(StoreError::Abandoned);
            }
            if let Some(trace) = self.trace(id)? {
                data.resource_spans.extend(trace.resource_spans);
            }
        }
        Ok(data)
    }

    /// The `WHERE` clause of a trace search (without attribute conditions) and its values.
    fn span_conditions(query: &TraceQuery) -> (String, Vec<rusqlite::types::Value>) {
        use rusqlite::types::Value;
        let mut sql = String::from("s.start_ns >= ? AND s.start_ns <= ?");
        let mut values = vec![Value::Integer(query.start_min_ns), Value::Integer(query.start_max_ns)];
        if query.service.is_empty() {
            // Any service: each service's spans in the range through the index, one service after
            // another (a few dozen at most), rather than every span of the table.
            sql.push_str(" AND s.service IN (SELECT DISTINCT service FROM operations)");
        } else {
            sql.push_str(" AND s.service = ?");
            values.push(Value::Text(query.service.clone()));
        }
        if let Some(op) = &query.operation {
            sql.push_str(" AND s.name = ?");
            values.push(Value::Text(op.clone()));
        }
        if let Some(min) = query.duration_min_ns {
            sql.push_str(" AND s.duration_ns >= ?");
            values.push(Value::Integer(min));
        }
        if let Some(max) = query.duration_max_ns {
            sql.push_str(" AND s.duration_ns <= ?");
            values.push(Value::Integer(max));
        }
        (sql, values)
    }

    fn matching_trace_ids(&self, query: &TraceQuery) -> Result<Vec<TraceId>> {
        let (conditions, mut values) = Self::span_conditions(query);
        values.push(rusqlite::types::Value::Integer(query.limit as i64));
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT s.trace_id FROM spans s WHERE {conditions}
             GROUP BY s.trace_id ORDER BY max(s.start_ns) DESC, s.trace_id DESC LIMIT ?"
        ))?;
        let rows = stmt.query_map(rusqlite::params_from_iter(values), |r| r.get::<_, Vec<u8>>(0))?;
        rows.map(|id| trace_id(&id?)).collect()
    }

    /// Reads candidate spans newest first and keeps the traces of those that satisfy every
    /// attribute condition.
    fn scan(&self, query: &TraceQuery) -> Result<Vec<TraceId>> {
        let filters: Vec<AttributeFilter> =
            query.attributes.iter().map(|(k, v)| AttributeFilter::new(k.as_str(), v.as_str())).collect();
        let (mut conditions, mut values) = Self::span_conditions(query);
        for filter in &filters {
            use rusqlite::types::Value;
            let (Some(json), Some(protobuf)) = (filter.needle(), filter.protobuf_needle()) else { continue };
            // A span is protobuf (a BLOB, searched byte for byte) or, in older rows, OTLP/JSON.
            conditions.push_str(
                " AND (instr(s.span, CASE typeof(s.span) WHEN 'blob' THEN ? ELSE ? END) > 0
                    OR instr(s.scope_json, ?) > 0 OR instr(r.json, ?) > 0)",
            );
            values.extend([
                Value::Blob(protobuf),
                Value::Text(json.clone()),
                Value::Text(json.clone()),
                Value::Text(json),
            ]);
        }
        values.push(rusqlite::types::Value::Integer(ATTRIBUTE_SCAN_LIMIT as i64));
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT s.trace_id, s.resource_id, r.json, s.scope_json, s.span
             FROM spans s JOIN resources r ON r.id = s.resource_id WHERE {conditions}
             ORDER BY s.start_ns DESC, s.trace_id DESC LIMIT ?"
        ))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(values))?;
        let mut found = Vec::new();
        let mut seen = HashSet::new();
        let mut resources: HashMap<i64, Resource> = HashMap::new();
        let mut scopes: HashMap<String, InstrumentationScope> = HashMap::new();
        let mut read = 0usize;
        while let Some(row) = rows.next()? {
            read += 1;
            if read % 1024 == 0 && abandoned() {
                return Err(StoreError::Abandoned);
            }
            let id = trace_id(&row.get::<_, Vec<u8>>(0)?)?;
            if seen.contains(&id) {
                continue;
            }
            let resource_id: i64 = row.get(1)?;
            if let Entry::Vacant(slot) = resources.entry(resource_id) {
                slot.insert(read::resource(&parse(&row.get::<_, String>(2)?)?).map_err(corrupt)?);
            }
            let scope_json: String = row.get(3)?;
            if let Entry::Vacant(slot) = scopes.entry(scope_json.clone()) {
                slot.insert(read::scope(&parse(&scope_json)?).map_err(corrupt)?);
            }
            let span = spans::decode(row.get_ref(4)?)?;
            let (resource, scope) = (&resources[&resource_id], &scopes[&scope_json]);
            if filters.iter().all(|f| f.matches(resource, scope, &span)) {
                seen.insert(id);
                found.push(id);
                if found.len() == query.limit {
                    break;
                }
            }
        }
        Ok(found)
    }

    /// Recent log records, newest first, one resource block per record's resource.
    pub fn logs(&self, query: &LogQuery) -> Result<LogsData> {
        // With a service, the (service, time) index reads that service's newest records first.
        let mut stmt = self.conn.prepare_cached(if query.service.is_some() {
            "SELECT r.id, r.json, l.scope_json, l.record_json, l.time_ns FROM logs l JOIN resources r ON r.id = l.resource_id
             WHERE (?1 IS NULL OR l.trace_id = ?1) AND l.service = ?3 ORDER BY l.time_ns DESC, l.id DESC LIMIT ?2"
        } else {
            "SELECT r.id, r.json, l.scope_json, l.record_json, l.time_ns FROM logs l JOIN resources r ON r.id = l.resource_id
             WHERE (?1 IS NULL OR l.trace_id = ?1) ORDER BY l.time_ns DESC, l.id DESC LIMIT ?2"
        })?;
        let trace = query.trace_id.map(|t| t.0.to_vec());
        let limit = query.limit as i64;
        let mut rows = match &query.service {
            Some(service) => stmt.query(params![trace, limit, service])?,
            None => stmt.query(params![trace, limit])?,
        };
        let mut data = LogsData::default();
        // Consecutive records of the same resource and scope share a block; order is kept.
        let mut last_block: Option<(i64, String)> = None;
        while let Some(row) = rows.next()? {
            let resource_id: i64 = row.get(0)?;
            let scope_json: String = row.get(2)?;
            let mut record = read::log_record(&parse(&row.get::<_, String>(3)?)?, Ids::Strict).map_err(corrupt)?;
            // A record that came without a time says when it arrived (see `insert_logs`).
            if record.time() == 0 {
                record.observed_time_unix_nano = row.get::<_, i64>(4)?.max(0) as u64;
            }
            if last_block.as_ref() != Some(&(resource_id, scope_json.clone())) {
                let resource = read::resource(&parse(&row.get::<_, String>(1)?)?).map_err(corrupt)?;
                let (scope, schema_url, resource_schema_url) = read_scope_key(&scope_json)?;
                data.resource_logs.push(ResourceLogs {
                    resource,
                    scope_logs: vec![ScopeLogs { scope, schema_url, ..Default::default() }],
                    schema_url: resource_schema_url,
                });
                last_block = Some((resource_id, scope_json));
            }
            data.resource_logs.last_mut().expect("pushed above").scope_logs[0].log_records.push(record);
        }
        Ok(data)
    }

    /// Names of services that sent spans, sorted.
    pub fn services(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached("SELECT DISTINCT service FROM spans ORDER BY service")?;
        let rows = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(rows)
    }

    /// Bytes of the database file that hold data: its pages minus the free ones. Retention
    /// compares this with the size limit, so that a file with free pages (which SQLite reuses)
    /// does not count them.
    pub fn used_bytes(&self) -> Result<u64> {
        let pages: i64 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let free: i64 = self.conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
        let size: i64 = self.conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        Ok((pages - free).max(0) as u64 * size as u64)
    }

    /// Deletes what retention no longer keeps: every trace whose spans all ended before
    /// `older_than_ns` (Unix nanoseconds) and every log record before it; then, while the data
    /// takes more than `max_bytes` (see [`Store::used_bytes`]), the oldest traces (by start)
    /// and log records. Then [`Store::tidy`]. This is [`Store::prune_step`] until it finds
    /// nothing more to delete; a caller that shares the connection calls the steps itself.
    pub fn prune(&mut self, older_than_ns: Option<i64>, max_bytes: Option<u64>) -> Result<Pruned> {
        let mut pruned = Pruned::default();
        loop {
            let step = self.prune_step(older_than_ns, max_bytes, PRUNE_BATCH)?;
            if step == Pruned::default() {
                break;
            }
            pruned.add(step);
        }
        if pruned != Pruned::default() {
            self.tidy()?;
        }
        Ok(pruned)
    }

    /// One transaction of retention, deleting at most `batch` traces and `batch` log records:
    /// first those older than `older_than_ns`, else, while the data takes more than
    /// `max_bytes`, the oldest ones. Returns what it deleted; nothing means retention is done.
    ///
    /// The size limit works in rounds. A round measures the data (after merging the full-text
    /// index of log bodies, which keeps the entries of deleted records until then), and, if it
    /// is over the limit, picks the time before which nine tenths of the fraction `f` over nine
    /// tenths of the limit of the spans and log records lie, oldest first; its steps delete up to
    /// that time (so steady ingest at the limit deletes once per tenth of the limit ingested). The next
    /// round measures again. So it deletes about what the limit needs and converges from below,
    /// instead of trusting a size that deletions do not shrink. The traces and records of the
    /// newest time are never deleted: a fresh export stays even if it alone is over the limit.
    pub fn prune_step(&mut self, older_than_ns: Option<i64>, max_bytes: Option<u64>, batch: usize) -> Result<Pruned> {
        if let Some(cutoff) = older_than_ns {
            let pruned = self.delete_before(TraceTime::End, cutoff, batch)?;
            if pruned != Pruned::default() {
                return Ok(pruned);
            }
            self.merge_log_index_after_deletions()?;
        }
        let Some(max) = max_bytes else { return Ok(Pruned::default()) };
        if let Some(cutoff) = self.size_cutoff {
            let pruned = self.delete_before(TraceTime::Start, cutoff, batch)?;
            if pruned != Pruned::default() {
                return Ok(pruned);
            }
            self.size_cutoff = None;
        }
        if self.used_bytes()? <= max {
            return Ok(Pruned::default());
        }
        self.merge_log_index()?;
        let used = self.used_bytes()?;
        if used <= max {
            return Ok(Pruned::default());
        }
        // Down to nine tenths of the limit, so that steady ingest at the limit does not merge the
        // index and delete again on every run, but once per tenth of the limit ingested.
        let target = max - max / 10;
        let Some(cutoff) = self.size_cutoff_for((used - target) as f64 / used as f64)? else {
            return Ok(Pruned::default());
        };
        self.size_cutoff = Some(cutoff);
        let pruned = self.delete_before(TraceTime::Start, cutoff, batch)?;
        if pruned == Pruned::default() {
            self.size_cutoff = None;
        }
        Ok(pruned)
    }

    /// The time before which `0.9 * excess` of the stored spans (counted by the start of their
    /// trace) and log records lie, at least one, capped at the newest time (which stays).
    fn size_cutoff_for(&self, excess: f64) -> Result<Option<i64>> {
        let (items, newest): (i64, Option<i64>) = self.conn.query_row(
            "SELECT (SELECT coalesce(sum(span_count), 0) FROM traces) + (SELECT count(*) FROM logs),
                    max((SELECT max(start_ns) FROM traces), (SELECT max(time_ns) FROM logs))",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let newest = match newest {
            Some(newest) => newest,
            // max() of a NULL and a value is NULL: one of the two tables is empty.
            None => match self.conn.query_row(
                "SELECT coalesce((SELECT max(start_ns) FROM traces), (SELECT max(time_ns) FROM logs))",
                [],
                |r| r.get::<_, Option<i64>>(0),
            )? {
                Some(newest) => newest,
                None => return Ok(None),
            },
        };
        let wanted = ((items as f64 * excess * 0.9).ceil() as i64).clamp(1, items.max(1));
        let last: Option<i64> = self.conn.query_row(
            "SELECT min(t) FROM (
                SELECT t, sum(n) OVER (ORDER BY t ROWS UNBOUNDED PRECEDING) AS acc
                FROM (SELECT start_ns AS t, span_count AS n FROM traces UNION ALL SELECT time_ns, 1 FROM logs))
             WHERE acc >= ?1",
            [wanted],
            |r| r.get(0),
        )?;
        Ok(last.map(|last| last.saturating_add(1).min(newest)))
    }

    /// Merges the full-text index of log bodies into one segment, dropping the entries of
    /// deleted records: until then a deletion adds to the index instead of shrinking it (80,000
    /// records, 91% of them deleted, left 22 MiB of index). It rewrites the index, so it runs
    /// only when the size limit is exceeded and records were deleted since the last merge.
    fn merge_log_index(&mut self) -> Result<()> {
        if self.log_index_stale {
            self.conn.execute("INSERT INTO logs_fts (logs_fts) VALUES ('optimize')", [])?;
            self.log_index_stale = false;
            self.log_deletions_unmerged = 0;
        }
        Ok(())
    }

    /// After the age limit's deletions: merges the full-text index as the size limit does (see
    /// [`Store::merge_log_index`]), once the records deleted since the last merge are a tenth of
    /// those left or more. Age-only retention then keeps the deleted records' entries to about a
    /// tenth of the index, and a merge, which rewrites the index, comes once per tenth deleted.
    fn merge_log_index_after_deletions(&mut self) -> Result<()> {
        if self.log_deletions_unmerged == 0 {
            return Ok(());
        }
        let left: i64 = self.conn.query_row("SELECT count(*) FROM logs", [], |r| r.get(0))?;
        if self.log_deletions_unmerged.saturating_mul(10) >= left.max(0) as u64 {
            self.merge_log_index()?;
        }
        Ok(())
    }

    /// After deletions: drops operations and resources that nothing refers to any more (one
    /// scan of spans and logs), returns free pages to the file system where the database was
    /// created with `auto_vacuum = INCREMENTAL`, and checkpoints the write-ahead log.
    pub fn tidy(&mut self) -> Result<()> {
        // Only unreferenced resources are deleted, so the foreign key check is redundant, and
        // without an index on `resource_id` it would scan every span per deleted resource.
        // The pragma cannot change inside a transaction, hence around it.
        self.conn.pragma_update(None, "foreign_keys", "OFF")?;
        let tidied = self.tidy_references();
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        tidied?;
        // It frees one page per step, so every step is taken.
        let mut vacuum = self.conn.prepare("PRAGMA incremental_vacuum")?;
        let mut steps = vacuum.query([])?;
        while steps.next()?.is_some() {}
        drop(steps);
        drop(vacuum);
        self.checkpoint()
    }

    /// Moves what the write-ahead log holds into the database file and empties the log, so that
    /// the file alone (a copy, a backup) has everything written so far. Best effort, as in
    /// [`Store::tidy`]: a reader in the middle of a query keeps its part of the log.
    pub fn checkpoint(&mut self) -> Result<()> {
        self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    fn tidy_references(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        // A lookup per operation in `spans_by_service_time`, which holds the kind: it walks the
        // service's spans from the oldest until one matches, so it stops early for an operation
        // in use and reads the service's whole range (9 ms for 110,000 spans) for one without
        // spans left; a single pass over all spans took 330 ms for 900,000.
        tx.execute(
            "DELETE FROM operations WHERE NOT EXISTS (SELECT 1 FROM spans s
                WHERE s.service = operations.service AND s.name = operations.name AND s.kind = operations.kind)",
            [],
        )?;
        tx.execute(
            "DELETE FROM resources WHERE id NOT IN (SELECT resource_id FROM spans UNION SELECT resource_id FROM logs)",
            [],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Deletes, oldest first, at most `batch` traces whose `time` is before `cutoff` (with
    /// their spans) and at most `batch` log records before it, in one transaction.
    fn delete_before(&mut self, time: TraceTime, cutoff: i64, batch: usize) -> Result<Pruned> {
        let tx = self.conn.transaction()?;
        let column = match time {
            TraceTime::Start => "start_ns",
            TraceTime::End => "end_ns",
        };
        let numbers: Vec<i64> = tx
            .prepare_cached(&format!(
                "SELECT trace_no FROM traces WHERE {column} < ?1 ORDER BY {column}, trace_id LIMIT ?2"
            ))?
            .query_map(params![cutoff, batch as i64], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut pruned = Pruned { traces: numbers.len() as u64, ..Pruned::default() };
        {
            let mut spans = tx.prepare_cached("DELETE FROM spans WHERE trace_no = ?1")?;
            let mut traces = tx.prepare_cached("DELETE FROM traces WHERE trace_no = ?1")?;
            for number in &numbers {
                pruned.spans += spans.execute([number])? as u64;
                traces.execute([number])?;
            }
        }
        pruned.log_records = tx.execute(
            "DELETE FROM logs WHERE id IN (SELECT id FROM logs WHERE time_ns < ?1 ORDER BY time_ns, id LIMIT ?2)",
            params![cutoff, batch as i64],
        )? as u64;
        tx.commit()?;
        self.log_index_stale |= pruned.log_records > 0;
        self.log_deletions_unmerged += pruned.log_records;
        Ok(pruned)
    }

    /// Looks a span count up, for tests and health output.
    pub fn span_count(&self) -> Result<u64> {
        Ok(self.conn.query_row("SELECT count(*) FROM spans", [], |r| r.get::<_, i64>(0)).optional()?.unwrap_or(0)
            as u64)
    }
}

/// What retention deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Whole traces deleted.
    pub traces: u64,
    /// Their spans.
    pub spans: u64,
    /// Log records deleted.
    pub log_records: u64,
}

impl Pruned {
    pub(crate) fn add(&mut self, other: Pruned) {
        self.traces += other.traces;
        self.spans += other.spans;
        self.log_records += other.log_records;
    }
}

/// Which time of a trace retention compares: its end for age (a trace with a recent span
/// stays whole), its start for size (the oldest go first).
#[derive(Debug, Clone, Copy)]
enum TraceTime {
    Start,
    End,
}

/// Traces and log records one retention transaction deletes at most, so that exports wait for
/// at most one such transaction.
pub const PRUNE_BATCH: usize = 1000;

/// A time or duration in nanoseconds as SQLite's integers hold it: OTLP's are unsigned 64-bit,
/// and those past 2262 (above `i64::MAX`) are kept at its end, not wrapped round to before 1970
/// (where retention would delete them at once and no time range would find them). The stored
/// span or record keeps its exact time.
fn nanos(t: u64) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}

/// A block's scope as stored: its OTLP/JSON, plus the schema URLs of the scope block and of the
/// resource block around it (`schemaUrl`, `resourceSchemaUrl`) when they are set. Rows of one
/// block share it, so it also groups them when a trace or log query reads them back.
fn scope_key(scope: &InstrumentationScope, schema_url: &str, resource_schema_url: &str) -> String {
    let text = json::write_scope(scope);
    if schema_url.is_empty() && resource_schema_url.is_empty() {
        return text;
    }
    let mut extra = String::new();
    for (key, url) in [("schemaUrl", schema_url), ("resourceSchemaUrl", resource_schema_url)] {
        if !url.is_empty() {
            extra.push_str(&format!(",{}:{}", serde_json::Value::from(key), serde_json::Value::from(url)));
        }
    }
    match text.strip_suffix('}') {
        Some("{") => format!("{{{}}}", &extra[1..]),
        Some(head) => format!("{head}{extra}}}"),
        None => text,
    }
}

/// The scope and the two schema URLs of a stored [`scope_key`].
fn read_scope_key(text: &str) -> Result<(InstrumentationScope, String, String)> {
    let v = parse(text)?;
    let url = |key: &str| v.get(key).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
    Ok((read::scope(&v).map_err(corrupt)?, url("schemaUrl"), url("resourceSchemaUrl")))
}

fn parse(text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn corrupt(e: read::ReadError) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn trace_id(bytes: &[u8]) -> Result<TraceId> {
    bytes.try_into().map(TraceId).map_err(|_| StoreError::Corrupt(format!("a trace id of {} bytes", bytes.len())))
}

/// The id in the last attribute `key` of a record, when it is written as OTLP/JSON writes ids
/// (`digits` lowercase hex digits, not all zeros), so that the id column, which the Loki API
/// shows as the record's metadata and looks a trace up by, holds the same text. A trace id of
/// 16 digits (64 bits, as Zipkin and B3 write theirs) is the 128-bit id with a zero high half,
/// as the trace readers take it, so that `/api/logs?trace_id=` finds the record by its trace.
fn attribute_id(attributes: &[KeyValue], key: &str, digits: usize) -> Option<Vec<u8>> {
    let text = attributes.iter().rev().find(|kv| kv.key == key)?.value.as_ref()?.as_str()?;
    let short_trace = digits == 32 && text.len() == 16;
    let hex =
        (text.len() == digits || short_trace) && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !hex {
        return None;
    }
    let bytes = match digits {
        32 if short_trace => TraceId::from_hex(&format!("{:0>32}", text))?.0.to_vec(),
        32 => TraceId::from_hex(text)?.0.to_vec(),
        _ => edgescope_otlp::SpanId::from_hex(text)?.0.to_vec(),
    };
    bytes.iter().any(|&b| b != 0).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgescope_otlp::{AnyValue, KeyValue, LogRecord, SpanId};

    fn spans(service: &str, names_and_kinds: &[(&str, SpanKind)]) -> TracesData {
        let spans = names_and_kinds
            .iter()
            .enumerate()
            .map(|(i, (name, kind))| Span {
                trace_id: TraceId([1; 16]),
                span_id: SpanId([i as u8 + 1; 8]),
                name: (*name).into(),
                kind: *kind,
                ..Default::default()
            })
            .collect();
        TracesData {
            resource_spans: vec![ResourceSpans {
                resource: Resource {
                    attributes: vec![KeyValue::new("service.name", AnyValue::from(service))],
                    ..Default::default()
                },
                scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn a_search_of_any_service_reads_spans_through_the_service_and_time_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        for service in ["", "web"] {
            let query = TraceQuery { service: service.into(), ..Default::default() };
            let (conditions, values) = Store::span_conditions(&query);
            let mut plan = store
                .conn
                .prepare(&format!("EXPLAIN QUERY PLAN SELECT s.trace_id FROM spans s WHERE {conditions}"))
                .unwrap();
            let steps: Vec<String> = plan
                .query_map(rusqlite::params_from_iter(values), |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<std::result::Result<_, _>>()
                .unwrap();
            assert!(
                steps
                    .iter()
                    .any(|s| s.contains("USING INDEX spans_by_service_time (service=? AND start_ns>? AND start_ns<?)")),
                "service {service:?}: {steps:?}"
            );
        }
    }

    #[test]
    fn searches_and_signals_stop_when_their_client_has_gone() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("db")).unwrap();
        // 1,100 traces of one span each, every span with `k = v`.
        let spans = (0..1100u32)
            .map(|i| {
                let mut id = [0u8; 16];
                id[..4].copy_from_slice(&(i + 1).to_be_bytes());
                Span {
                    trace_id: TraceId(id),
                    span_id: SpanId([1; 8]),
                    name: "op".into(),
                    start_time_unix_nano: 1_000 + u64::from(i),
                    end_time_unix_nano: 2_000 + u64::from(i),
                    attributes: vec![KeyValue::new("k", AnyValue::from("v"))],
                    ..Default::default()
                }
            })
            .collect();
        let mut data = self::spans("web", &[]);
        data.resource_spans[0].scope_spans[0].spans = spans;
        store.insert_traces(&data).unwrap();
        let by_service =
            TraceQuery { service: "web".into(), start_max_ns: i64::MAX, limit: 2000, ..Default::default() };
        let by_attribute = TraceQuery { attributes: vec![("k".into(), "v".into())], ..by_service.clone() };
        let traces = |data: TracesData| data.resource_spans.iter().flat_map(|rs| &rs.scope_spans).count();
        // Answered while the client waits...
        assert_eq!(store.find_traces(&by_service).map(traces).unwrap(), 1100);
        assert_eq!(store.find_traces(&by_attribute).map(traces).unwrap(), 1100);
        let mut read = 0;
        store.span_facts_by_trace(0, i64::MAX, |spans| read += spans.len()).unwrap();
        assert_eq!(read, 1100);
        // ...and given up once it has gone, by the trace search, the attribute scan and the signals.
        let gone = |r: Result<TracesData>| matches!(r, Err(StoreError::Abandoned));
        assert!(reader::as_abandoned(|| gone(store.find_traces(&by_service))));
        assert!(reader::as_abandoned(|| gone(store.scan(&by_attribute).map(|_| TracesData::default()))));
        let mut read = 0;
        let signals = reader::as_abandoned(|| store.span_facts_by_trace(0, i64::MAX, |spans| read += spans.len()));
        assert!(matches!(signals, Err(StoreError::Abandoned)), "{signals:?}");
        assert_eq!(read, 0);
    }

    /// The names of the `spans` table's indexes, in order.
    pub(super) fn span_indexes(conn: &Connection) -> Vec<String> {
        conn.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'spans' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn a_span_sent_again_is_looked_for_by_one_seek_and_older_databases_get_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let store = Store::open(&path).unwrap();
        // The previous version's index, by trace number alone.
        store
            .conn
            .execute_batch("DROP INDEX spans_by_trace_span; CREATE INDEX spans_by_trace_no ON spans(trace_no);")
            .unwrap();
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(span_indexes(&store.conn), ["spans_by_service_time", "spans_by_trace_span"]);
        let plan: String = store
            .conn
            .query_row(&format!("EXPLAIN QUERY PLAN {STORED_SPAN}"), params![1, &[0u8; 8][..]], |r| r.get(3))
            .unwrap();
        assert!(plan.contains("USING INDEX spans_by_trace_span (trace_no=? AND span_id=?)"), "{plan}");
    }

    #[test]
    fn operations_are_distinct_and_an_unspecified_kind_counts_as_internal() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("db")).unwrap();
        let data = spans(
            "web",
            &[
                ("b", SpanKind::Server),
                ("a", SpanKind::Unspecified),
                ("a", SpanKind::Internal),
                ("b", SpanKind::Server),
            ],
        );
        store.insert_traces(&data).unwrap();
        store.insert_traces(&spans("other", &[("c", SpanKind::Client)])).unwrap();
        let ops = store.operations("web").unwrap();
        let got: Vec<(&str, SpanKind)> = ops.iter().map(|o| (o.name.as_str(), o.span_kind)).collect();
        assert_eq!(got, [("a", SpanKind::Internal), ("b", SpanKind::Server)]);
        assert_eq!(serde_json::to_value(&ops[0]).unwrap(), serde_json::json!({"name": "a", "spanKind": "internal"}));
    }

    const HOUR: i64 = 3_600_000_000_000;
    const NOW: i64 = 1_800_000_000_000_000_000;

    /// One trace of `service` whose spans run over `[start, end]` (Unix nanoseconds), with a
    /// `pad`-byte attribute, and one log record at `start`.
    fn trace_and_log(id: u8, service: &str, spans: &[(i64, i64)], pad: usize) -> (TracesData, LogsData) {
        let mut data = super::tests::spans(service, &[]);
        let resource = data.resource_spans[0].resource.clone();
        data.resource_spans[0].scope_spans[0].spans = spans
            .iter()
            .enumerate()
            .map(|(i, &(start, end))| Span {
                trace_id: TraceId([id; 16]),
                span_id: SpanId([id, i as u8 + 1, 0, 0, 0, 0, 0, 1]),
                name: format!("op {i}"),
                start_time_unix_nano: start as u64,
                end_time_unix_nano: end as u64,
                attributes: vec![KeyValue::new("pad", "x".repeat(pad))],
                ..Default::default()
            })
            .collect();
        let logs = LogsData {
            resource_logs: vec![ResourceLogs {
                resource,
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord {
                        time_unix_nano: spans[0].0 as u64,
                        body: Some(AnyValue::from(format!("log of {id}"))),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        (data, logs)
    }

    fn store_with(dir: &Path, items: &[(TracesData, LogsData)]) -> Store {
        let mut store = Store::open(&dir.join("edgescope.db")).unwrap();
        for (traces, logs) in items {
            store.insert_traces(traces).unwrap();
            store.insert_logs(logs).unwrap();
        }
        store
    }

    fn log_bodies(store: &Store) -> Vec<String> {
        let logs = store.logs(&LogQuery { trace_id: None, service: None, limit: 1000 }).unwrap();
        logs.records().map(|(_, _, r)| r.body.as_ref().and_then(AnyValue::as_str).unwrap().to_owned()).collect()
    }

    #[test]
    fn retention_deletes_traces_that_ended_before_the_cutoff_and_older_log_records() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store_with(
            dir.path(),
            &[
                trace_and_log(1, "old", &[(NOW - 48 * HOUR, NOW - 48 * HOUR + 5)], 0),
                // Started long ago but still running: kept whole, with its old span.
                trace_and_log(2, "long", &[(NOW - 48 * HOUR, NOW - 48 * HOUR + 5), (NOW - 1, NOW)], 0),
                trace_and_log(3, "new", &[(NOW - 1, NOW)], 0),
            ],
        );
        let pruned = store.prune(Some(NOW - 24 * HOUR), None).unwrap();
        assert_eq!(pruned, Pruned { traces: 1, spans: 1, log_records: 2 });
        assert!(store.trace(TraceId([1; 16])).unwrap().is_none());
        assert_eq!(store.trace(TraceId([2; 16])).unwrap().unwrap().spans().count(), 2);
        assert!(store.trace(TraceId([3; 16])).unwrap().is_some());
        assert_eq!(log_bodies(&store), ["log of 3"]);
        assert_eq!(store.services().unwrap(), ["long", "new"]);
        assert!(store.operations("old").unwrap().is_empty(), "operations of deleted spans go too");
        let resources: i64 = store.conn.query_row("SELECT count(*) FROM resources", [], |r| r.get(0)).unwrap();
        assert_eq!(resources, 2, "the resource nothing refers to any more is gone");
        assert_eq!(store.prune(Some(NOW - 24 * HOUR), None).unwrap(), Pruned::default(), "nothing left to delete");
    }

    #[test]
    fn another_applications_database_is_refused_and_left_as_it_was() {
        for schema in ["CREATE TABLE users (id INTEGER, name TEXT)", "CREATE TABLE spans (id INTEGER, label TEXT)"] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("edgescope.db");
            let other = Connection::open(&path).unwrap();
            other.execute_batch(schema).unwrap();
            other.execute_batch("INSERT INTO users VALUES (1, 'ada')").ok();
            drop(other);
            let before = std::fs::read(&path).unwrap();
            let Err(error) = Store::open(&path).map(drop) else { panic!("{schema}: refused") };
            let error = error.to_string();
            assert!(error.contains("not an edgescope database"), "{schema}: {error}");
            assert_eq!(std::fs::read(&path).unwrap(), before, "{schema}: the file is untouched");
            assert!(!dir.path().join("edgescope.db-wal").exists(), "{schema}: no write-ahead log begun");
        }
        // A new, empty file is a new database; one of ours opens again.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("edgescope.db");
        std::fs::write(&path, b"").unwrap();
        drop(Store::open(&path).unwrap());
        assert!(Store::open(&path).is_ok());
    }

    #[test]
    fn times_past_2262_are_kept_at_the_end_of_time_never_wrapped_to_before_1970() {
        // 2300-01-01: OTLP's times are unsigned; SQLite's integers are not.
        const Y2300: u64 = 10_413_792_000_000_000_000;
        let (mut traces, mut logs) = trace_and_log(4, "future", &[(0, 0)], 0);
        let span = &mut traces.resource_spans[0].scope_spans[0].spans[0];
        (span.start_time_unix_nano, span.end_time_unix_nano) = (Y2300, Y2300 + 5);
        logs.resource_logs[0].scope_logs[0].log_records[0].time_unix_nano = Y2300;
        let dir = tempfile::tempdir().unwrap();
        let mut store =
            store_with(dir.path(), &[trace_and_log(5, "now", &[(NOW - 1, NOW)], 0), (traces.clone(), logs.clone())]);
        assert_eq!(store.prune(Some(NOW - 24 * HOUR), None).unwrap(), Pruned::default(), "nothing ended long ago");
        let recent = store.recent_traces(10, None).unwrap();
        assert_eq!(recent[0].root_service, "future", "the newest");
        assert_eq!(recent[0].start_time_unix_nano, i64::MAX.to_string(), "its index time is the end of time");
        let stored = store.trace(TraceId([4; 16])).unwrap().unwrap();
        assert_eq!(stored.spans().next().unwrap().2.start_time_unix_nano, Y2300, "the span keeps its exact time");
        assert_eq!(log_bodies(&store), ["log of 4", "log of 5"], "newest first");
        // Sent again (a retry): stored once.
        store.insert_traces(&traces).unwrap();
        store.insert_logs(&logs).unwrap();
        assert_eq!(log_bodies(&store).len(), 2);
        assert_eq!(store.span_count().unwrap(), 2);
    }

    #[test]
    fn age_retention_merges_the_full_text_index_once_a_tenth_of_the_records_is_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let items: Vec<_> =
            (1..=200u8).map(|i| trace_and_log(i, "web", &[(NOW - 200 * HOUR + i64::from(i) * HOUR, NOW)], 0)).collect();
        let mut store = store_with(dir.path(), &items);
        // The index's own pages: its segments, and the entries of deleted records in them.
        let index_bytes = |store: &Store| -> i64 {
            store.conn.query_row("SELECT sum(length(block)) FROM logs_fts_data", [], |r| r.get(0)).unwrap()
        };
        let before = index_bytes(&store);
        // A few records (under a tenth of those left): no merge yet, their entries stay.
        let pruned = store.prune(Some(NOW - 195 * HOUR), None).unwrap();
        assert_eq!(pruned.log_records, 4);
        assert_eq!(store.log_deletions_unmerged, 4, "not merged for 4 of 196");
        assert!(index_bytes(&store) >= before, "deletions add to an unmerged index");
        // Three quarters of them: merged, and the index shrinks.
        let pruned = store.prune(Some(NOW - 50 * HOUR), None).unwrap();
        assert_eq!(pruned.log_records, 145);
        let after = index_bytes(&store);
        assert!(after < before / 2, "the index of 51 records left: {after} B, of 200: {before} B");
        assert_eq!(store.log_deletions_unmerged, 0, "merged");
        let scan = super::logs::LogScan {
            contains: vec!["log".into()],
            start: 0,
            end: i64::MAX,
            limit: 1000,
            ..Default::default()
        };
        assert_eq!(store.scan_logs(&scan).unwrap().len(), 51, "the index finds every record left");
    }

    #[test]
    fn a_retention_step_deletes_at_most_a_batch_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let items: Vec<_> = (1..=5u8)
            .map(|i| trace_and_log(i, "web", &[(NOW - 48 * HOUR + i64::from(i), NOW - 48 * HOUR + 9)], 0))
            .collect();
        let mut store = store_with(dir.path(), &items);
        let step = store.prune_step(Some(NOW), None, 2).unwrap();
        assert_eq!(step, Pruned { traces: 2, spans: 2, log_records: 2 });
        assert!(store.trace(TraceId([1; 16])).unwrap().is_none());
        assert!(store.trace(TraceId([3; 16])).unwrap().is_some());
        assert_eq!(log_bodies(&store), ["log of 5", "log of 4", "log of 3"]);
        assert_eq!(store.prune_step(Some(NOW), None, 2).unwrap().traces, 2);
        assert_eq!(store.prune_step(Some(NOW), None, 2).unwrap().traces, 1);
        assert_eq!(store.prune_step(Some(NOW), None, 2).unwrap(), Pruned::default(), "done");
    }

    #[test]
    fn over_the_size_limit_the_oldest_traces_and_logs_go_first_and_the_file_shrinks() {
        let dir = tempfile::tempdir().unwrap();
        let items: Vec<_> = (1..=100u8)
            .map(|i| trace_and_log(i, "web", &[(NOW + i64::from(i) * HOUR, NOW + i64::from(i) * HOUR + 1)], 4000))
            .collect();
        let mut store = store_with(dir.path(), &items);
        store.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
        let file = || std::fs::metadata(dir.path().join("edgescope.db")).unwrap().len();
        let (used_before, file_before) = (store.used_bytes().unwrap(), file());
        assert!(used_before > 400_000, "{used_before}");

        let limit = 100_000;
        let pruned = store.prune(None, Some(limit)).unwrap();
        assert!(store.used_bytes().unwrap() <= limit, "{} > {limit}", store.used_bytes().unwrap());
        assert!(pruned.traces >= 75 && pruned.traces < 100, "{pruned:?}");
        assert_eq!(pruned.log_records, pruned.traces, "each trace's log record is as old as it");
        let kept: Vec<u8> = (1..=100u8).filter(|&i| store.trace(TraceId([i; 16])).unwrap().is_some()).collect();
        let oldest_kept = 100 - kept.len() as u8 + 1;
        assert_eq!(kept, (oldest_kept..=100).collect::<Vec<_>>(), "the newest are kept, without gaps");
        assert!(file() < file_before / 2, "incremental_vacuum gives pages back: {} of {file_before}", file());
    }

    /// One trace numbered `id` whose spans have `names`.
    fn trace_named(id: u8, names: &[&str]) -> TracesData {
        let mut data = spans("web", &[]);
        data.resource_spans[0].scope_spans[0].spans = names
            .iter()
            .enumerate()
            .map(|(i, name)| Span {
                trace_id: TraceId([id; 16]),
                span_id: SpanId([id, i as u8 + 1, 0, 0, 0, 0, 0, 1]),
                parent_span_id: (i > 0).then_some(SpanId([id, 1, 0, 0, 0, 0, 0, 1])),
                name: (*name).into(),
                start_time_unix_nano: 100 + i as u64,
                end_time_unix_nano: 200,
                ..Default::default()
            })
            .collect();
        data
    }

    #[test]
    fn a_group_of_requests_is_stored_with_one_count_each() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("db")).unwrap();
        let (a, b) = (trace_named(1, &["a", "b", "c"]), trace_named(2, &["d"]));
        let late = trace_named(1, &["e"]);
        let counts: Vec<usize> = store.insert_trace_group(&[&a, &b, &late]).into_iter().map(Result::unwrap).collect();
        assert_eq!(counts, [3, 1, 1]);
        assert_eq!(store.trace(TraceId([1; 16])).unwrap().unwrap().spans().count(), 4, "a trace spread over requests");
        let summaries = store.recent_traces(10, None).unwrap();
        let summary = summaries.iter().find(|t| t.trace_id.starts_with("01")).unwrap();
        assert_eq!((summary.span_count, summary.root_name.as_str()), (4, "a"), "one summary row for the trace");
        assert_eq!(store.trace(TraceId([2; 16])).unwrap().unwrap(), b);
    }

    /// A log export of records with these times and bodies, all of service `web`.
    fn log_export(records: &[(u64, &str)]) -> LogsData {
        LogsData {
            resource_logs: vec![ResourceLogs {
                resource: Resource { attributes: vec![KeyValue::new("service.name", "web")], ..Default::default() },
                scope_logs: vec![ScopeLogs {
                    log_records: records
                        .iter()
                        .map(|(t, body)| LogRecord {
                            time_unix_nano: *t,
                            body: Some(AnyValue::from(*body)),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn a_group_of_log_exports_is_stored_as_its_requests_one_after_the_other_would_be() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("db")).unwrap();
        // Two equal records of one request (a coarse clock) are both kept; the same request
        // sent again in the same group (an exporter's retry) adds nothing.
        let a = log_export(&[(5, "tick"), (5, "tick"), (6, "a")]);
        let b = log_export(&[(7, "b")]);
        let counts: Vec<usize> = store.insert_log_group(&[&a, &b, &a]).into_iter().map(Result::unwrap).collect();
        assert_eq!(counts, [3, 1, 3], "each answered with the records it held");
        let mut bodies = log_bodies(&store);
        bodies.sort();
        assert_eq!(bodies, ["a", "b", "tick", "tick"]);
    }

    #[test]
    fn in_a_group_a_log_export_that_fails_fails_alone_and_the_others_are_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("db")).unwrap();
        // Stands in for a write that SQLite refuses for one request's data.
        store
            .conn
            .execute_batch(
                "CREATE TEMP TRIGGER refuse BEFORE INSERT ON logs WHEN NEW.body = 'refused'
                 BEGIN SELECT RAISE(ABORT, 'refused'); END",
            )
            .unwrap();
        let (a, bad, c) =
            (log_export(&[(1, "a1"), (2, "a2")]), log_export(&[(3, "x"), (4, "refused")]), { log_export(&[(5, "c")]) });
        let results = store.insert_log_group(&[&a, &bad, &c]);
        assert_eq!(results[0].as_ref().unwrap(), &2);
        assert!(matches!(&results[1], Err(StoreError::Sqlite(e)) if e.to_string().contains("refused")), "{results:?}");
        assert_eq!(results[2].as_ref().unwrap(), &1);
        // The group's transaction was rolled back before each request was stored on its own:
        // nothing twice, nothing of the failed request.
        let mut bodies = log_bodies(&store);
        bodies.sort();
        assert_eq!(bodies, ["a1", "a2", "c"]);
    }

    #[test]
    fn in_a_group_a_request_that_fails_fails_alone_and_the_others_are_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("db")).unwrap();
        // Stands in for a write that SQLite refuses for one request's data.
        store
            .conn
            .execute_batch(
                "CREATE TEMP TRIGGER refuse BEFORE INSERT ON spans WHEN NEW.name = 'refused'
                 BEGIN SELECT RAISE(ABORT, 'refused'); END",
            )
            .unwrap();
        let (a, bad, c) = (trace_named(1, &["a", "b"]), trace_named(2, &["x", "refused"]), trace_named(3, &["c"]));
        let results = store.insert_trace_group(&[&a, &bad, &c]);
        assert_eq!(results[0].as_ref().unwrap(), &2);
        assert!(matches!(&results[1], Err(StoreError::Sqlite(e)) if e.to_string().contains("refused")), "{results:?}");
        assert_eq!(results[2].as_ref().unwrap(), &1);
        // The group's transaction was rolled back before each request was stored on its own:
        // nothing twice, nothing of the failed request (not its first span, not its trace row).
        assert_eq!(store.span_count().unwrap(), 3);
        assert_eq!(store.trace(TraceId([1; 16])).unwrap().unwrap(), a);
        assert_eq!(store.trace(TraceId([3; 16])).unwrap().unwrap(), c);
        assert!(store.trace(TraceId([2; 16])).unwrap().is_none());
        let mut traces: Vec<(String, u64)> =
            store.recent_traces(10, None).unwrap().into_iter().map(|t| (t.root_name, t.span_count)).collect();
        traces.sort();
        assert_eq!(traces, [("a".to_owned(), 2), ("c".to_owned(), 1)], "one summary row per stored trace");
        assert!(store.operations("web").unwrap().iter().all(|o| o.name != "x"));
    }

    #[test]
    fn a_database_written_before_the_operations_table_gets_it_filled_in_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let mut store = Store::open(&path).unwrap();
        store.insert_traces(&spans("web", &[("GET /", SpanKind::Server), ("query", SpanKind::Client)])).unwrap();
        store.conn.execute_batch("DROP TABLE operations").unwrap();
        drop(store);
        let store = Store::open(&path).unwrap();
        let names: Vec<String> = store.operations("web").unwrap().into_iter().map(|o| o.name).collect();
        assert_eq!(names, ["GET /", "query"]);
    }
}
