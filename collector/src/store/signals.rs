//! The span rows that golden signals and the service map are computed from.

use edgescope_otlp::signals::SpanFacts;

use super::{Result, Store};

fn fixed<const N: usize>(bytes: Option<Vec<u8>>) -> Option<[u8; N]> {
    bytes.and_then(|b| b.try_into().ok())
}

impl Store {
    /// Every span of the traces that overlap `[start, end)`, optionally of one service's traces
    /// only. Whole traces, so that a span's parent is there even when it started earlier.
    pub(crate) fn span_facts(&self, start: i64, end: i64) -> Result<Vec<SpanFacts>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.trace_id, s.span_id, s.parent_span_id, s.service, s.name, s.kind, s.start_ns, s.duration_ns,
                    s.status_code
             FROM traces t JOIN spans s ON s.trace_no = t.trace_no
             WHERE t.start_ns < ?2 AND t.end_ns >= ?1",
        )?;
        let rows = stmt.query_map([start, end], |r| {
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
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}
