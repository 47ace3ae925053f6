//! Log record scans for the Loki-shaped API: a full-text index on the body, and keyset-paged
//! reads in time order (query_range) or in arrival order (live tail).

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Transaction};

use super::{Result, Store};

/// Created with the main schema. The full-text index uses the trigram tokenizer so that a
/// `MATCH` on a quoted phrase finds any substring of three characters or more, case-sensitively,
/// which is exactly what LogQL's `|=` asks; shorter needles scan.
const LOG_SCHEMA: &str = "
CREATE INDEX IF NOT EXISTS logs_by_service_time ON logs(service, time_ns);
CREATE VIRTUAL TABLE IF NOT EXISTS logs_fts USING fts5(
    body, content = 'logs', content_rowid = 'id', tokenize = 'trigram case_sensitive 1'
);
CREATE TRIGGER IF NOT EXISTS logs_fts_insert AFTER INSERT ON logs WHEN new.body IS NOT NULL BEGIN
    INSERT INTO logs_fts (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER IF NOT EXISTS logs_fts_delete AFTER DELETE ON logs WHEN old.body IS NOT NULL BEGIN
    INSERT INTO logs_fts (logs_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
";

/// The database's `user_version` once its log bodies are lines (see [`rewrite_bodies`]).
const BODIES_ARE_LINES: i64 = 1;

/// Adds the log indexes; a database written before they existed gets its full-text index
/// built from the stored records once. A database whose `user_version` is below
/// [`BODIES_ARE_LINES`] has its non-string bodies rewritten once (see [`rewrite_bodies`]).
pub(super) fn migrate(tx: &Transaction<'_>) -> Result<()> {
    let had_fts: bool =
        tx.query_row("SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'logs_fts'", [], |r| {
            r.get(0)
        })?;
    tx.execute_batch(LOG_SCHEMA)?;
    if !had_fts {
        tx.execute("INSERT INTO logs_fts (logs_fts) VALUES ('rebuild')", [])?;
    }
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version < BODIES_ARE_LINES {
        rewrite_bodies(tx)?;
        tx.pragma_update(None, "user_version", BODIES_ARE_LINES)?;
    }
    Ok(())
}

/// Until commit 97cf581 (2026-11-27) the `body` column of a record whose body is not a string (a
/// map, an array, a number, bytes) held the OTLP/JSON of a record with only that body
/// (`{"timeUnixNano":"0","observedTimeUnixNano":"0","body":{"kvlistValue":…}}`), so that Loki's
/// `| json` read no key of a map body and `|=` matched the OTLP/JSON's text. Since then it holds
/// the line Loki's OTLP ingestion makes (`Body().AsString()`, see
/// [`crate::attribute_filter::value_text`]). This rewrites, once, every row whose body is not
/// a string and differs from that line, and its full-text index entry. It reads each such row
/// once (a string body is skipped by the `WHERE`); run again it changes nothing.
fn rewrite_bodies(tx: &Transaction<'_>) -> Result<()> {
    // In batches by id, so that what is held at once stays small whatever the table's size.
    let mut rows = tx.prepare(
        "SELECT id, body, record_json FROM logs
         WHERE id > ?1 AND body IS NOT NULL AND json_extract(record_json, '$.body.stringValue') IS NULL
         ORDER BY id LIMIT 1000",
    )?;
    let mut forget = tx.prepare("INSERT INTO logs_fts (logs_fts, rowid, body) VALUES ('delete', ?1, ?2)")?;
    let mut update = tx.prepare("UPDATE logs SET body = ?2 WHERE id = ?1")?;
    let mut index = tx.prepare("INSERT INTO logs_fts (rowid, body) VALUES (?1, ?2)")?;
    let mut after = i64::MIN;
    loop {
        let batch = rows
            .query_map([after], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let Some(last) = batch.last() else { return Ok(()) };
        after = last.0;
        for (id, old, record) in batch {
            let record: serde_json::Value = serde_json::from_str(&record)
                .map_err(|e| super::StoreError::Corrupt(format!("stored log record: {e}")))?;
            let record = edgescope_otlp::read::log_record(&record, edgescope_otlp::read::Ids::Strict)
                .map_err(|e| super::StoreError::Corrupt(e.to_string()))?;
            let Some(body) = record.body.as_ref() else { continue };
            let line = crate::attribute_filter::value_text(Some(body));
            if line != old {
                forget.execute(rusqlite::params![id, old])?;
                update.execute(rusqlite::params![id, line])?;
                index.execute(rusqlite::params![id, line])?;
            }
        }
    }
}

/// Which rows a scan reads, in which order, from where.
#[derive(Debug, Clone, Default)]
pub(crate) struct LogScan {
    /// Only this service.
    pub(crate) service: Option<String>,
    /// Only services that all of these matchers accept (a selector's `service_name=~"web.*"`,
    /// `!=` or `!~`): the stored services are listed (one index seek each) and matched, so that
    /// the scan reads only their records.
    pub(crate) service_matchers: Vec<crate::logql::Matcher>,
    /// Only severity numbers in this range, or 0 (unspecified, told apart by the caller).
    pub(crate) severity: Option<(i32, i32)>,
    /// Only records of this trace.
    pub(crate) trace_id: Option<[u8; 16]>,
    /// Substrings that every body contains; those of three characters or more use the index.
    pub(crate) contains: Vec<String>,
    /// `time_ns >= start`.
    pub(crate) start: i64,
    /// `time_ns < end`.
    pub(crate) end: i64,
    pub(crate) order: ScanOrder,
    /// Rows to read at most.
    pub(crate) limit: usize,
}

/// The order of a scan and where it resumes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ScanOrder {
    /// Oldest first, after the given `(time_ns, id)`.
    Forward(Option<(i64, i64)>),
    /// Newest first, before the given `(time_ns, id)`.
    Backward(Option<(i64, i64)>),
    /// In arrival order, after the given id (the time range still applies).
    Arrival(i64),
}

impl Default for ScanOrder {
    fn default() -> Self {
        ScanOrder::Backward(None)
    }
}

/// A stored log record as a scan returns it; the OTLP record stays JSON until needed.
#[derive(Debug, Clone)]
pub(crate) struct LogRow {
    pub(crate) id: i64,
    pub(crate) time_ns: i64,
    pub(crate) severity: i32,
    /// The record's severity text, read only when its number is 0.
    pub(crate) severity_text: Option<String>,
    pub(crate) resource_id: i64,
    pub(crate) trace_id: Option<Vec<u8>>,
    pub(crate) span_id: Option<Vec<u8>>,
    /// The body as text: the line Loki's OTLP ingestion makes of it (a map as JSON, bytes in
    /// base64; see [`rewrite_bodies`] for older databases).
    pub(crate) body: Option<String>,
    pub(crate) scope_json: String,
    pub(crate) record_json: String,
}

/// Records of one resource, severity and time bucket, as [`Store::log_totals`] counts them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LogTotal {
    pub(crate) resource_id: i64,
    pub(crate) severity: i32,
    /// The records' severity text, only when their number is not 1 to 24.
    pub(crate) severity_text: Option<String>,
    pub(crate) bucket: i64,
    pub(crate) records: u64,
    /// Bytes of their lines.
    pub(crate) bytes: u64,
}

/// The phrase query for FTS5: each needle quoted, quotes doubled, all required.
fn fts_query(needles: &[String]) -> Option<String> {
    let phrases: Vec<String> =
        needles.iter().filter(|n| n.chars().count() >= 3).map(|n| format!("\"{}\"", n.replace('"', "\"\""))).collect();
    (!phrases.is_empty()).then(|| phrases.join(" AND "))
}

impl Store {
    /// The `WHERE` clause of `scan`'s conditions (its order and limit aside) and its arguments,
    /// with `time_ns` in `[start, end)`; `None` when no stored service satisfies its service
    /// matchers.
    fn scan_conditions(&self, scan: &LogScan, start: i64, end: i64) -> Result<Option<(String, Vec<Value>)>> {
        let mut sql = String::from(" WHERE time_ns >= ? AND time_ns < ?");
        let mut args: Vec<Value> = vec![start.into(), end.into()];
        if let Some(service) = &scan.service {
            sql.push_str(" AND service = ?");
            args.push(service.clone().into());
        } else if !scan.service_matchers.is_empty() {
            let all = self.log_services()?;
            let chosen: Vec<String> =
                all.iter().filter(|s| scan.service_matchers.iter().all(|m| m.matches(s))).cloned().collect();
            if chosen.is_empty() {
                return Ok(None);
            }
            // Every service, or too many to list: the matchers are applied to each record.
            if chosen.len() < all.len() && chosen.len() <= 256 {
                sql.push_str(" AND service IN (");
                sql.push_str(&vec!["?"; chosen.len()].join(","));
                sql.push(')');
                args.extend(chosen.into_iter().map(Value::from));
            }
        }
        if let Some((lo, hi)) = scan.severity {
            // A number outside OpenTelemetry's 1 to 24 (0, unspecified, or 99 of a sender of its
            // own) gives no level: the text does, as for `level` of such a record.
            sql.push_str(" AND (severity BETWEEN ? AND ? OR severity NOT BETWEEN 1 AND 24)");
            args.extend([Value::from(lo), Value::from(hi)]);
        }
        if let Some(trace) = scan.trace_id {
            sql.push_str(" AND trace_id = ?");
            args.push(trace.to_vec().into());
        }
        if let Some(fts) = fts_query(&scan.contains) {
            sql.push_str(" AND id IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?)");
            args.push(fts.into());
        }
        Ok(Some((sql, args)))
    }

    /// Reads up to `scan.limit` rows that satisfy the scan's conditions, in its order.
    pub(crate) fn scan_logs(&self, scan: &LogScan) -> Result<Vec<LogRow>> {
        // Between batches: a query whose client went away stops here.
        if super::reader::abandoned() {
            return Err(super::StoreError::Abandoned);
        }
        let Some((sql, args)) = self.scan_sql(scan)? else {
            return Ok(Vec::new());
        };
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map(params_from_iter(args), |r| {
                Ok(LogRow {
                    id: r.get(0)?,
                    time_ns: r.get(1)?,
                    severity: r.get(2)?,
                    severity_text: r.get(3)?,
                    resource_id: r.get(4)?,
                    trace_id: r.get(5)?,
                    span_id: r.get(6)?,
                    body: r.get(7)?,
                    scope_json: r.get(8)?,
                    record_json: r.get(9)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The query [`Store::scan_logs`] runs, and its arguments.
    fn scan_sql(&self, scan: &LogScan) -> Result<Option<(String, Vec<Value>)>> {
        // A page after the first starts its range at its cursor's time, so that SQLite seeks
        // there in the time index: with the cursor only in `(time_ns, id) > (?, ?)` it read the
        // index from the range's start, each page costing as much as the pages before it.
        let (start, end) = match scan.order {
            ScanOrder::Forward(Some((t, _))) => (scan.start.max(t), scan.end),
            ScanOrder::Backward(Some((t, _))) => (scan.start, scan.end.min(t.saturating_add(1))),
            _ => (scan.start, scan.end),
        };
        let Some((conditions, mut args)) = self.scan_conditions(scan, start, end)? else {
            return Ok(None);
        };
        let mut sql = String::from(
            "SELECT id, time_ns, severity, CASE WHEN severity NOT BETWEEN 1 AND 24 THEN json_extract(record_json, '$.severityText') END,
                    resource_id, trace_id, span_id, body, scope_json, record_json
             FROM logs",
        );
        sql.push_str(&conditions);
        let order = match scan.order {
            ScanOrder::Forward(None) => "time_ns, id",
            ScanOrder::Forward(Some((t, id))) => {
                sql.push_str(" AND (time_ns, id) > (?, ?)");
                args.extend([Value::from(t), Value::from(id)]);
                "time_ns, id"
            }
            ScanOrder::Backward(None) => "time_ns DESC, id DESC",
            ScanOrder::Backward(Some((t, id))) => {
                sql.push_str(" AND (time_ns, id) < (?, ?)");
                args.extend([Value::from(t), Value::from(id)]);
                "time_ns DESC, id DESC"
            }
            ScanOrder::Arrival(after) => {
                sql.push_str(" AND id > ?");
                args.push(after.into());
                "id"
            }
        };
        sql.push_str(&format!(" ORDER BY {order} LIMIT ?"));
        args.push((scan.limit as i64).into());
        Ok(Some((sql, args)))
    }

    /// The newest log record's id (0 when there is none): live tails resume after it.
    /// The services of the stored log records, by skipping through the `(service, time_ns)`
    /// index: a seek per service, however many records each has.
    pub(crate) fn log_services(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "WITH RECURSIVE s(service) AS (
                 SELECT min(service) FROM logs
                 UNION ALL
                 SELECT (SELECT min(service) FROM logs WHERE service > s.service) FROM s WHERE s.service IS NOT NULL
             )
             SELECT service FROM s WHERE service IS NOT NULL",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
    }

    pub(crate) fn last_log_id(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT coalesce(max(id), 0) FROM logs", [], |r| r.get(0))?)
    }

    /// A stored resource's OTLP/JSON.
    pub(crate) fn resource_json(&self, id: i64) -> Result<String> {
        Ok(self.conn.query_row("SELECT json FROM resources WHERE id = ?1", [id], |r| r.get(0))?)
    }

    /// How many records `scan` selects (its order and limit aside) and how many bytes their
    /// lines have, per resource, severity (with the text of an unspecified one, which gives its
    /// level) and bucket: `(time_ns - origin) / width` with `buckets`, else 0. Counted inside
    /// the database, so that no record leaves it; the caller keeps `time_ns - origin` from
    /// overflowing (see [`LogTotal`]).
    pub(crate) fn log_totals(&self, scan: &LogScan, buckets: Option<(i64, i64)>) -> Result<Vec<LogTotal>> {
        let Some((conditions, mut args)) = self.scan_conditions(scan, scan.start, scan.end)? else {
            return Ok(Vec::new());
        };
        let bucket = match buckets {
            Some((origin, width)) => {
                debug_assert!(width > 0 && scan.start >= origin && scan.end.checked_sub(origin).is_some());
                args.insert(0, Value::from(width));
                args.insert(0, Value::from(origin));
                "(time_ns - ?) / ?"
            }
            None => "0",
        };
        let sql = format!(
            "SELECT resource_id, severity,
                    CASE WHEN severity NOT BETWEEN 1 AND 24 THEN json_extract(record_json, '$.severityText') END,
                    {bucket}, count(*), coalesce(sum(length(CAST(body AS BLOB))), 0)
             FROM logs{conditions} GROUP BY 1, 2, 3, 4"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(args), |r| {
            Ok(LogTotal {
                resource_id: r.get(0)?,
                severity: r.get(1)?,
                severity_text: r.get(2)?,
                bucket: r.get(3)?,
                records: r.get(4)?,
                bytes: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The distinct resources and severities (with the texts of unspecified ones) of log
    /// records in `[start, end)`: what label names and values are made of.
    pub(crate) fn log_streams(&self, start: i64, end: i64) -> Result<Vec<(i64, i32, Option<String>)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT resource_id, severity,
                    CASE WHEN severity NOT BETWEEN 1 AND 24 THEN json_extract(record_json, '$.severityText') END
             FROM logs WHERE time_ns >= ?1 AND time_ns < ?2",
        )?;
        let rows = stmt.query_map([start, end], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgescope_otlp::{AnyValue, KeyValue, LogRecord, LogsData, Resource, ResourceLogs, ScopeLogs};

    fn logs(service: &str, records: &[(i64, i32, &str)]) -> LogsData {
        LogsData {
            resource_logs: vec![ResourceLogs {
                resource: Resource { attributes: vec![KeyValue::new("service.name", service)], ..Default::default() },
                scope_logs: vec![ScopeLogs {
                    log_records: records
                        .iter()
                        .map(|&(t, severity, body)| LogRecord {
                            time_unix_nano: t as u64,
                            severity_number: severity,
                            body: Some(AnyValue::String(body.into())),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    fn bodies(rows: &[LogRow]) -> Vec<&str> {
        rows.iter().map(|r| r.body.as_deref().unwrap_or("")).collect()
    }

    #[test]
    fn scans_page_in_both_directions_and_the_full_text_index_finds_substrings() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("db")).unwrap();
        store.insert_logs(&logs("a", &[(1, 9, "alpha timeout"), (2, 17, "beta"), (3, 9, "gamma TIMEOUT")])).unwrap();
        store.insert_logs(&logs("b", &[(2, 13, "delta timeout")])).unwrap();
        let all = LogScan { start: 0, end: 10, limit: 10, ..Default::default() };
        assert_eq!(
            bodies(&store.scan_logs(&all).unwrap()),
            ["gamma TIMEOUT", "delta timeout", "beta", "alpha timeout"]
        );
        let first_two = store.scan_logs(&LogScan { order: ScanOrder::Forward(None), limit: 2, ..all.clone() }).unwrap();
        assert_eq!(bodies(&first_two), ["alpha timeout", "beta"]);
        let after = (first_two[1].time_ns, first_two[1].id);
        let rest = store.scan_logs(&LogScan { order: ScanOrder::Forward(Some(after)), ..all.clone() }).unwrap();
        assert_eq!(bodies(&rest), ["delta timeout", "gamma TIMEOUT"]);
        let timeouts = LogScan { contains: vec!["timeout".into()], ..all.clone() };
        assert_eq!(bodies(&store.scan_logs(&timeouts).unwrap()), ["delta timeout", "alpha timeout"], "case-sensitive");
        let service = LogScan { service: Some("a".into()), severity: Some((9, 12)), ..all.clone() };
        assert_eq!(bodies(&store.scan_logs(&service).unwrap()), ["gamma TIMEOUT", "alpha timeout"]);
        let time = LogScan { start: 2, end: 3, ..all.clone() };
        assert_eq!(bodies(&store.scan_logs(&time).unwrap()), ["delta timeout", "beta"], "end is exclusive");
        let last = store.last_log_id().unwrap();
        store.insert_logs(&logs("a", &[(0, 9, "late arrival")])).unwrap();
        let tail = LogScan { order: ScanOrder::Arrival(last), start: i64::MIN, end: i64::MAX, ..all };
        assert_eq!(bodies(&store.scan_logs(&tail).unwrap()), ["late arrival"]);
    }

    #[test]
    fn each_page_of_a_scan_costs_the_same_however_many_pages_came_before() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("db")).unwrap();
        let records: Vec<(i64, i32, &str)> = (0..20_000).map(|i| (1_000 + i / 2, 9, "line")).collect();
        store.insert_logs(&logs("a", &records)).unwrap();
        for (service, first) in [(None, ScanOrder::Forward(None)), (Some("a".to_owned()), ScanOrder::Backward(None))] {
            let mut scan = LogScan { service, start: 0, end: i64::MAX, order: first, limit: 100, ..Default::default() };
            // SQLite's virtual machine steps per page: a count, not a time.
            let mut steps = Vec::new();
            let mut read = 0;
            loop {
                let (sql, args) = store.scan_sql(&scan).unwrap().unwrap();
                let mut stmt = store.conn.prepare(&sql).unwrap();
                let rows: Vec<(i64, i64)> = stmt
                    .query_map(params_from_iter(args), |r| Ok((r.get(1)?, r.get(0)?)))
                    .unwrap()
                    .collect::<rusqlite::Result<_>>()
                    .unwrap();
                steps.push(stmt.get_status(rusqlite::StatementStatus::VmStep));
                read += rows.len();
                let Some(&last) = rows.last() else { break };
                scan.order = match scan.order {
                    ScanOrder::Forward(_) => ScanOrder::Forward(Some(last)),
                    _ => ScanOrder::Backward(Some(last)),
                };
            }
            assert_eq!(read, 20_000, "{:?}", scan.order);
            let (first, last) = (steps[0], steps[steps.len() - 2]);
            assert!(last < 2 * first, "{:?}: page 1 took {first} steps, page 200 {last}", scan.order);
        }
    }

    #[test]
    fn deleted_records_leave_the_full_text_index_and_an_older_database_gets_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let mut store = Store::open(&path).unwrap();
        store.insert_logs(&logs("a", &[(1, 9, "needle one"), (5, 9, "needle two")])).unwrap();
        store.prune(Some(3), None).unwrap();
        let scan = LogScan { contains: vec!["needle".into()], start: 0, end: 10, limit: 10, ..Default::default() };
        assert_eq!(bodies(&store.scan_logs(&scan).unwrap()), ["needle two"]);
        // As a database written before the index existed.
        store
            .conn
            .execute_batch("DROP TRIGGER logs_fts_insert; DROP TRIGGER logs_fts_delete; DROP TABLE logs_fts;")
            .unwrap();
        store.insert_logs(&logs("a", &[(6, 9, "needle three")])).unwrap();
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(bodies(&store.scan_logs(&scan).unwrap()), ["needle three", "needle two"]);
    }
}
