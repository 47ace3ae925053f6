//! The span rows that golden signals and the service map are computed from.

use edgescope_otlp::signals::SpanFacts;

use super::{Result, Store};

/// A row of trace id, span id, parent span id, service, name, kind, start, duration, status code.
fn facts(r: &rusqlite::Row<'_>) -> rusqlite::Result<SpanFacts> {
    Ok(SpanFacts {
        trace_id: fixed(r.get(0)?).unwrap_or_default(),
        span_id: fixed(r.get(1)?).unwrap_or_default(),
        parent_span_id: fixed(r.get(2)?),
        service: r.get(3)?,
        name: r.get(4)?,
        kind: r.get(5)?,
        start_ns: r.get(6)?,
        duration_ns: r.get(7)?,
        error: r.get::<_, i64>(8)? == 2,
    })
}

fn fixed<const N: usize>(bytes: Option<Vec<u8>>) -> Option<[u8; N]> {
    bytes.and_then(|b| b.try_into().ok())
}

impl Store {
    /// [`Store::span_facts`] a trace at a time: `each` gets every span of one trace, for every
    /// trace that overlaps `[start, end)`, so that no more than one trace's spans are held.
    pub(crate) fn span_facts_by_trace(&self, start: i64, end: i64, mut each: impl FnMut(&[SpanFacts])) -> Result<()> {
        let numbers: Vec<i64> = self
            .conn
            .prepare_cached("SELECT trace_no FROM traces WHERE start_ns < ?2 AND end_ns >= ?1")?
            .query_map([start, end], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT trace_id, span_id, parent_span_id, service, name, kind, start_ns, duration_ns, status_code
             FROM spans WHERE trace_no = ?1",
        )?;
        let mut spans = Vec::new();
        for (i, number) in numbers.into_iter().enumerate() {
            // Every 64 traces: a query whose client went away stops here.
            if i % 64 == 0 && super::reader::abandoned() {
                return Err(super::StoreError::Abandoned);
            }
            spans.clear();
            let rows = stmt.query_map([number], facts)?;
            for row in rows {
                spans.push(row?);
            }
            each(&spans);
        }
        Ok(())
    }

    /// Every span of the traces that overlap `[start, end)`, optionally of one service's traces
    /// only. Whole traces, so that a span's parent is there even when it started earlier. (Tests
    /// only: the handlers read [`Store::span_facts_by_trace`].)
    #[cfg(test)]
    pub(crate) fn span_facts(&self, start: i64, end: i64) -> Result<Vec<SpanFacts>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.trace_id, s.span_id, s.parent_span_id, s.service, s.name, s.kind, s.start_ns, s.duration_ns,
                    s.status_code
             FROM traces t JOIN spans s ON s.trace_no = t.trace_no
             WHERE t.start_ns < ?2 AND t.end_ns >= ?1",
        )?;
        let rows = stmt.query_map([start, end], facts)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}
