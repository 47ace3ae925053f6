//! How a span row holds its span: the `span` column is one protobuf `Span` message, written by
//! [`proto::encode_span`]. Databases written before this held OTLP/JSON text in the same column
//! (then named `span_json`); opening one renames the column and leaves its rows as they are,
//! and [`decode`] reads either kind, told apart by the SQLite type of the value.
//!
//! A span row refers to its trace by the trace's number in `traces` (`trace_no`, given in
//! order of arrival), which is what `spans_by_trace_span` indexes, with the span id (ADR 0008). Databases written
//! before had no numbers: [`set_aside`] and [`migrate`] number their traces and spans once.

use edgescope_otlp::read::{self, Ids};
use edgescope_otlp::{proto, Span};
use rusqlite::types::ValueRef;
use rusqlite::Transaction;

use super::{corrupt, parse, Result, StoreError};

/// What [`migrate`] has left to do after [`set_aside`].
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Numbering {
    /// `traces` had no `trace_no` and was renamed `traces_unnumbered`.
    traces_set_aside: bool,
    /// `spans` got its `trace_no` column now, still to be filled in.
    spans_unnumbered: bool,
}

impl Numbering {
    /// Whether [`migrate`] rewrites every span row (and so fills the write-ahead log with about
    /// the size of the database).
    pub(super) fn rewrites_spans(&self) -> bool {
        self.spans_unnumbered
    }
}

fn has_column(tx: &Transaction<'_>, table: &str, column: &str) -> Result<bool> {
    Ok(tx.query_row("SELECT count(*) > 0 FROM pragma_table_info(?1) WHERE name = ?2", [table, column], |r| r.get(0))?)
}

fn has_table(tx: &Transaction<'_>, table: &str) -> Result<bool> {
    Ok(tx.query_row("SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1", [table], |r| {
        r.get(0)
    })?)
}

/// Runs before the schema on a database written by a version without trace numbers: renames its
/// `traces` table out of the way (the schema then creates the numbered one, and the rows are
/// copied by [`migrate`]) and adds `trace_no` to `spans`, so that the schema can index it.
pub(super) fn set_aside(tx: &Transaction<'_>) -> Result<Numbering> {
    let mut numbering = Numbering::default();
    if has_table(tx, "traces")? && !has_column(tx, "traces", "trace_no")? {
        // The index goes with the table; its name is needed for the new one.
        tx.execute_batch("ALTER TABLE traces RENAME TO traces_unnumbered; DROP INDEX IF EXISTS traces_by_start;")?;
        numbering.traces_set_aside = true;
    }
    if has_table(tx, "spans")? && !has_column(tx, "spans", "trace_no")? {
        tx.execute_batch("ALTER TABLE spans ADD COLUMN trace_no INTEGER NOT NULL DEFAULT 0")?;
        numbering.spans_unnumbered = true;
    }
    Ok(numbering)
}

/// Brings a database written by an older version to the current span layout, after the schema
/// was applied:
/// - renames `span_json` to `span` (a change of the schema only, no row is rewritten) and drops
///   the two service indexes that `spans_by_service_time` replaces;
/// - numbers traces: their rows are copied into the new `traces`, each keeping its rowid as its
///   number (so, in order of arrival), a trace that has spans but no row (which no version
///   wrote) gets one, and every span row gets its trace's number (every row is rewritten, once);
///   the index by trace id then goes.
pub(super) fn migrate(tx: &Transaction<'_>, numbering: Numbering) -> Result<()> {
    if has_column(tx, "spans", "span_json")? {
        tx.execute_batch("ALTER TABLE spans RENAME COLUMN span_json TO span")?;
    }
    tx.execute_batch(
        "DROP INDEX IF EXISTS spans_by_service; DROP INDEX IF EXISTS spans_by_service_start;
         DROP INDEX IF EXISTS spans_by_trace_no;",
    )?;
    if numbering.traces_set_aside {
        tx.execute_batch(
            "INSERT INTO traces (trace_no, trace_id, start_ns, end_ns, root_service, root_name, has_root,
                span_count, error_count)
             SELECT rowid, trace_id, start_ns, end_ns, root_service, root_name, has_root, span_count, error_count
             FROM traces_unnumbered ORDER BY rowid;
             DROP TABLE traces_unnumbered;",
        )?;
    }
    if numbering.spans_unnumbered {
        // The update looks every span's trace up by its random id: with a larger page cache
        // for it, fewer of those lookups read (1,000,000 spans: 19 s with SQLite's 2 MB, 11 s
        // with 64 MB, measured on a loaded machine).
        let cache: i64 = tx.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
        tx.pragma_update(None, "cache_size", -65_536)?;
        tx.execute_batch(
            "INSERT INTO traces (trace_id, start_ns, end_ns, root_service, root_name, has_root, span_count,
                error_count)
             SELECT trace_id, min(start_ns), max(start_ns + duration_ns), service, name,
                max(parent_span_id IS NULL), count(*), sum(status_code = 2)
             FROM spans WHERE trace_id NOT IN (SELECT trace_id FROM traces) GROUP BY trace_id;
             UPDATE spans SET trace_no = (SELECT t.trace_no FROM traces t WHERE t.trace_id = spans.trace_id);
             DROP INDEX IF EXISTS spans_by_trace;",
        )?;
        tx.pragma_update(None, "cache_size", cache)?;
    }
    Ok(())
}

/// The span of a row: protobuf when the value is a BLOB, OTLP/JSON when it is TEXT.
pub(super) fn decode(value: ValueRef<'_>) -> Result<Span> {
    match value {
        ValueRef::Blob(bytes) => proto::decode_span(bytes).map_err(corrupt),
        ValueRef::Text(text) => {
            let text = std::str::from_utf8(text).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            read::span(&parse(text)?, Ids::Strict).map_err(corrupt)
        }
        other => Err(StoreError::Corrupt(format!("a span stored as {:?}", other.data_type()))),
    }
}

#[cfg(test)]
mod tests {
    use edgescope_otlp::{
        json, AnyValue, Event, KeyValue, Link, Resource, ResourceSpans, ScopeSpans, SpanId, SpanKind, Status,
        StatusCode, TraceId, TracesData,
    };
    use rusqlite::{params, Connection};

    use super::*;
    use crate::store::{Pruned, Store, TraceQuery};

    fn traces(service: &str, spans: Vec<Span>) -> TracesData {
        TracesData {
            resource_spans: vec![ResourceSpans {
                resource: Resource { attributes: vec![KeyValue::new("service.name", service)], ..Default::default() },
                scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
                ..Default::default()
            }],
        }
    }

    fn span(trace: u8, id: u8, name: &str, start: u64, attributes: Vec<KeyValue>) -> Span {
        Span {
            trace_id: TraceId([trace; 16]),
            span_id: SpanId([id; 8]),
            parent_span_id: (id > 1).then_some(SpanId([1; 8])),
            name: name.into(),
            kind: SpanKind::Server,
            start_time_unix_nano: start,
            end_time_unix_nano: start + 1_000,
            attributes,
            events: vec![Event { time_unix_nano: start + 5, name: "ev".into(), ..Default::default() }],
            links: vec![Link {
                trace_id: TraceId([9; 16]),
                span_id: SpanId([9; 8]),
                attributes: vec![KeyValue::new("link.kind", "follows")],
                ..Default::default()
            }],
            status: Status { code: StatusCode::Error, message: "boom".into() },
            ..Default::default()
        }
    }

    /// Turns a database back into what the version before protobuf spans wrote: its `spans`
    /// table (as it created it), each span as OTLP/JSON text, and its two service indexes.
    fn rewind_to_json_spans(conn: &Connection) {
        conn.execute_batch(
            "DROP INDEX spans_by_service_time;
             ALTER TABLE spans RENAME TO spans_protobuf;
             CREATE TABLE spans (
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
                 span_json TEXT NOT NULL
             );",
        )
        .unwrap();
        let rows: Vec<(i64, Vec<u8>)> = conn
            .prepare("SELECT rowid, span FROM spans_protobuf ORDER BY rowid")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        for (rowid, protobuf) in rows {
            let text = json::write_span(&proto::decode_span(&protobuf).unwrap());
            conn.execute(
                "INSERT INTO spans SELECT trace_id, span_id, parent_span_id, resource_id, service, name, kind,
                    start_ns, duration_ns, status_code, scope_json, ?2 FROM spans_protobuf WHERE rowid = ?1",
                params![rowid, text],
            )
            .unwrap();
        }
        conn.execute_batch(
            "DROP TABLE spans_protobuf;
             CREATE INDEX spans_by_trace ON spans(trace_id);
             CREATE INDEX spans_by_service ON spans(service, name, start_ns);
             CREATE INDEX spans_by_service_start ON spans(service, start_ns);",
        )
        .unwrap();
    }

    /// Turns a database back into what the versions before trace numbers wrote: `traces` keyed
    /// by the trace id (its rowid implicit), `spans` without `trace_no`, indexed by trace id.
    fn rewind_to_unnumbered_traces(conn: &Connection) {
        conn.execute_batch(
            "ALTER TABLE traces RENAME TO traces_numbered;
             DROP INDEX traces_by_start;
             CREATE TABLE traces (
                 trace_id BLOB PRIMARY KEY,
                 start_ns INTEGER NOT NULL,
                 end_ns INTEGER NOT NULL,
                 root_service TEXT NOT NULL,
                 root_name TEXT NOT NULL,
                 has_root INTEGER NOT NULL,
                 span_count INTEGER NOT NULL,
                 error_count INTEGER NOT NULL
             );
             INSERT INTO traces (rowid, trace_id, start_ns, end_ns, root_service, root_name, has_root, span_count,
                 error_count)
             SELECT trace_no, trace_id, start_ns, end_ns, root_service, root_name, has_root, span_count, error_count
             FROM traces_numbered;
             DROP TABLE traces_numbered;
             CREATE INDEX traces_by_start ON traces(start_ns);
             DROP INDEX spans_by_trace_span;
             ALTER TABLE spans DROP COLUMN trace_no;
             CREATE INDEX spans_by_trace ON spans(trace_id);",
        )
        .unwrap();
    }

    fn value_types(conn: &Connection, column: &str) -> Vec<String> {
        let mut stmt = conn.prepare(&format!("SELECT typeof({column}) FROM spans ORDER BY rowid")).unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().collect::<rusqlite::Result<_>>().unwrap()
    }

    #[test]
    fn a_database_written_with_json_spans_opens_and_returns_them_beside_protobuf_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let attributes = vec![
            KeyValue::new("http.route", "/items/{id}"),
            KeyValue::new("retries", 3i64),
            KeyValue::new("ratio", 0.1),
            KeyValue::new("list", AnyValue::Array(vec![AnyValue::from("a"), AnyValue::Bool(false)])),
        ];
        let old =
            traces("web", vec![span(1, 1, "GET /items", 100, attributes.clone()), span(1, 2, "query", 110, vec![])]);
        let mut store = Store::open(&path).unwrap();
        store.insert_traces(&old).unwrap();
        rewind_to_unnumbered_traces(&store.conn);
        rewind_to_json_spans(&store.conn);
        assert_eq!(value_types(&store.conn, "span_json"), ["text", "text"]);
        drop(store);

        // Opened twice, as the collector does (writer and reader).
        let mut store = Store::open(&path).unwrap();
        drop(Store::open(&path).unwrap());
        assert_eq!(store.trace(TraceId([1; 16])).unwrap().unwrap(), old, "JSON rows come back unchanged");

        let new = traces("web", vec![span(1, 3, "GET /items", 120, vec![KeyValue::new("http.route", "/new")])]);
        store.insert_traces(&new).unwrap();
        assert_eq!(value_types(&store.conn, "span"), ["text", "text", "blob"]);
        let mut both = old.clone();
        both.resource_spans[0].scope_spans[0].spans.extend(new.resource_spans[0].scope_spans[0].spans.clone());
        assert_eq!(store.trace(TraceId([1; 16])).unwrap().unwrap(), both);

        assert_eq!(super::super::tests::span_indexes(&store.conn), ["spans_by_service_time", "spans_by_trace_span"]);

        // Searches read both kinds of rows, attribute conditions included.
        let search = |operation: Option<&str>, attributes: &[(&str, &str)]| {
            let query = TraceQuery {
                service: "web".into(),
                operation: operation.map(Into::into),
                start_min_ns: 0,
                start_max_ns: i64::MAX,
                attributes: attributes.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
                limit: 10,
                ..Default::default()
            };
            store.find_traces(&query).unwrap().spans().count()
        };
        assert_eq!(search(Some("query"), &[]), 3);
        assert_eq!(search(None, &[("http.route", "/items/{id}")]), 3, "a JSON row matches");
        assert_eq!(search(None, &[("http.route", "/new")]), 3, "a protobuf row matches");
        assert_eq!(search(None, &[("link.kind", "follows"), ("retries", "3")]), 3);
        assert_eq!(search(None, &[("http.route", "/other")]), 0);
    }

    fn trace_numbers(conn: &Connection) -> Vec<(u8, i64)> {
        let mut stmt = conn.prepare("SELECT trace_id, trace_no FROM traces ORDER BY trace_no").unwrap();
        stmt.query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?[0], r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn a_database_written_before_trace_numbers_gets_them_on_open_and_answers_every_query() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let mut store = Store::open(&path).unwrap();
        // Traces 3, 1 and 2 arrive in that order; trace 1 gets a late span in another request.
        let requests = [
            traces("web", vec![span(3, 1, "GET /a", 300, vec![]), span(3, 2, "query", 310, vec![])]),
            traces("web", vec![span(1, 1, "GET /b", 100, vec![KeyValue::new("user", "ann")])]),
            traces("db", vec![span(2, 1, "SELECT", 200, vec![]), span(2, 2, "fetch", 210, vec![])]),
            traces("db", vec![span(1, 3, "SELECT", 120, vec![])]),
        ];
        for request in &requests {
            store.insert_traces(request).unwrap();
        }
        let before: Vec<TracesData> = (1..=3).map(|t| store.trace(TraceId([t; 16])).unwrap().unwrap()).collect();
        rewind_to_unnumbered_traces(&store.conn);
        // A trace with spans but without its row, which no version wrote: it gets one.
        store.conn.execute("DELETE FROM traces WHERE trace_id = ?1", [&[2u8; 16][..]]).unwrap();
        drop(store);

        let mut store = Store::open(&path).unwrap();
        drop(Store::open(&path).unwrap());
        assert_eq!(trace_numbers(&store.conn), [(3, 1), (1, 2), (2, 3)], "old rows keep their order");
        let misplaced: i64 = store
            .conn
            .query_row(
                "SELECT count(*) FROM spans s
                 WHERE NOT EXISTS (SELECT 1 FROM traces t WHERE t.trace_no = s.trace_no AND t.trace_id = s.trace_id)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(misplaced, 0, "every span refers to its own trace");
        let after: Vec<TracesData> = (1..=3).map(|t| store.trace(TraceId([t; 16])).unwrap().unwrap()).collect();
        assert_eq!(after, before, "trace by id returns the same spans");
        let recent = store.recent_traces(10, Some("db")).unwrap();
        let ids: Vec<&str> = recent.iter().map(|t| &t.trace_id[..2]).collect();
        assert_eq!(ids, ["02", "01"], "recent traces of a service");
        assert_eq!(recent[0].span_count, 2);

        let search = |store: &Store, service: &str, attributes: &[(&str, &str)]| {
            let query = TraceQuery {
                service: service.into(),
                start_min_ns: 0,
                start_max_ns: i64::MAX,
                attributes: attributes.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
                limit: 10,
                ..Default::default()
            };
            let mut ids: Vec<u8> =
                store.find_traces(&query).unwrap().spans().map(|(_, _, s)| s.trace_id.0[0]).collect();
            ids.dedup();
            ids
        };
        assert_eq!(search(&store, "db", &[]), [2, 1]);
        assert_eq!(search(&store, "web", &[("user", "ann")]), [1]);
        assert_eq!(search(&store, "db", &[("user", "ann")]), Vec::<u8>::new());
        assert_eq!(store.span_facts(0, i64::MAX).unwrap().len(), 6, "signals read spans by trace number");
        // A trace at a time: each call holds one trace's spans, all of them.
        let mut calls = Vec::new();
        store
            .span_facts_by_trace(0, i64::MAX, |trace| {
                calls.push((trace[0].trace_id, trace.len(), trace.iter().all(|s| s.trace_id == trace[0].trace_id)))
            })
            .unwrap();
        let mut whole: Vec<([u8; 16], usize, bool)> = Vec::new();
        for span in store.span_facts(0, i64::MAX).unwrap() {
            match whole.iter_mut().find(|(id, _, _)| *id == span.trace_id) {
                Some(t) => t.1 += 1,
                None => whole.push((span.trace_id, 1, true)),
            }
        }
        calls.sort();
        whole.sort();
        assert_eq!(calls, whole, "one call per trace, with every span of it");

        // New spans of an old trace join it; a new trace gets the next number.
        store.insert_traces(&traces("web", vec![span(1, 4, "GET /c", 130, vec![])])).unwrap();
        store.insert_traces(&traces("web", vec![span(4, 1, "GET /d", 400, vec![])])).unwrap();
        assert_eq!(store.trace(TraceId([1; 16])).unwrap().unwrap().spans().count(), 3);
        assert_eq!(trace_numbers(&store.conn), [(3, 1), (1, 2), (2, 3), (4, 4)]);

        // Retention deletes whole traces by number: 1 and 2 ended before 1,250.
        let pruned = store.prune(Some(1_250), None).unwrap();
        assert_eq!(pruned, Pruned { traces: 2, spans: 5, log_records: 0 });
        assert!(store.trace(TraceId([1; 16])).unwrap().is_none());
        assert_eq!(store.span_count().unwrap(), 3);
    }
}
