//! How a span row holds its span: the `span` column is one protobuf `Span` message, written by
//! [`proto::encode_span`]. Databases written before this held OTLP/JSON text in the same column
//! (then named `span_json`); opening one renames the column and leaves its rows as they are,
//! and [`decode`] reads either kind, told apart by the SQLite type of the value.

use edgescope_otlp::read::{self, Ids};
use edgescope_otlp::{proto, Span};
use rusqlite::types::ValueRef;
use rusqlite::Transaction;

use super::{corrupt, parse, Result, StoreError};

/// Brings a database written by an older version to the current span layout: renames
/// `span_json` to `span` (a change of the schema only, no row is rewritten) and replaces the two
/// service indexes by `spans_by_service_time` (created with the schema).
pub(super) fn migrate(tx: &Transaction<'_>) -> Result<()> {
    let has_json_column: bool =
        tx.query_row("SELECT count(*) > 0 FROM pragma_table_info('spans') WHERE name = 'span_json'", [], |r| r.get(0))?;
    if has_json_column {
        tx.execute_batch("ALTER TABLE spans RENAME COLUMN span_json TO span")?;
    }
    tx.execute_batch("DROP INDEX IF EXISTS spans_by_service; DROP INDEX IF EXISTS spans_by_service_start;")?;
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
    use crate::store::{Store, TraceQuery};

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

        let indexes: Vec<String> = store
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'spans' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(indexes, ["spans_by_service_time", "spans_by_trace"]);

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
}
