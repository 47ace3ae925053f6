//! The viewer's in-memory model: a trace laid out as waterfall rows, and log lines. Plain Rust,
//! tested natively; the views only read it.

use crate::num::fixed;
use std::collections::HashMap;
use std::sync::Arc;

use edgescope_otlp::{AnyValue, InstrumentationScope, LogsData, Resource, ResourceSpans, ScopeSpans, Span, TracesData};

/// One waterfall row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The span.
    pub span: Span,
    /// Index into [`Trace::services`]: its resource's `service.name`.
    pub service: usize,
    /// Index into [`Trace::scopes`]: the resource and scope it was reported under.
    pub scope: usize,
    /// Nesting depth: 0 for roots.
    pub depth: usize,
    /// The parent's row, when the parent is in the trace.
    pub parent: Option<usize>,
    /// One past its last descendant's row: rows are in depth-first order, so a subtree is the
    /// range `index..end`.
    pub end: usize,
    /// Start relative to the trace start, as a fraction of the trace duration (0–1).
    pub offset: f64,
    /// Duration as a fraction of the trace duration (0–1).
    pub width: f64,
    /// Whether the span's status is an error.
    pub error: bool,
    /// Clock skew: the span starts before its parent, or ends after it on another resource's
    /// clock.
    pub skew: bool,
    /// On the critical path: the chain of spans that determined when the trace ended.
    pub critical: bool,
}

impl Row {
    /// Whether it has children.
    pub fn has_children(&self, index: usize) -> bool {
        self.end > index + 1
    }
}

/// The resource and scope spans were reported under, kept for span details and export.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scope {
    /// The resource (its attributes, `service.name` among them).
    pub resource: Resource,
    /// The resource's schema URL.
    pub resource_schema_url: String,
    /// The instrumentation scope.
    pub scope: InstrumentationScope,
    /// The scope's schema URL.
    pub schema_url: String,
}

/// A trace ready to draw.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trace {
    /// Lowercase hex.
    pub trace_id: String,
    /// Rows in depth-first order, siblings by start time; shared, so that handing a trace
    /// of 100,000 spans to a signal or a view does not copy it.
    pub rows: Arc<Vec<Row>>,
    /// Earliest start, Unix nanoseconds.
    pub start: u64,
    /// Latest end minus earliest start.
    pub duration: u64,
    /// Distinct services, in order of first appearance.
    pub services: Vec<String>,
    /// Every resource and scope, indexed by [`Row::scope`].
    pub scopes: Vec<Scope>,
    /// Deepest nesting + 1.
    pub depth: usize,
    /// Spans with an error status.
    pub errors: usize,
    /// Spans whose parent is not in the trace (not received yet, or lost), shown as roots.
    pub missing_parents: usize,
    /// The text [`Trace::search`] looks through, made by the first search.
    search_text: SearchText,
}

/// Every row's searchable text (name, attribute keys and string values), ASCII-lowercased, in
/// one buffer, with the end of each row's part; built once per trace (in steps, see
/// [`Trace::prepare_search`]), so that a keystroke is one substring scan of one buffer instead
/// of a comparison per attribute.
#[derive(Debug, Clone, Default)]
struct SearchText(Arc<std::sync::Mutex<Searchable>>);

#[derive(Debug, Default)]
struct Searchable {
    /// The rows' parts so far, NUL after each field.
    text: Vec<u8>,
    /// Per row done: the end of its part in `text`.
    ends: Vec<u32>,
}

impl PartialEq for SearchText {
    /// A cache: it never makes two traces differ.
    fn eq(&self, _: &SearchText) -> bool {
        true
    }
}

impl Trace {
    /// Lays out the first trace of a document that may hold several (a Jaeger search answer, a
    /// file of many traces): the spans that share the first span's trace id.
    pub fn build_first(data: &TracesData) -> Trace {
        Trace::first_of(data.clone())
    }

    /// Like [`Trace::build_first`], taking the document so that no span is copied.
    pub fn first_of(mut data: TracesData) -> Trace {
        let Some(first) = data.spans().next().map(|(_, _, s)| s.trace_id) else { return Trace::default() };
        if !data.spans().all(|(_, _, s)| s.trace_id == first) {
            for rs in &mut data.resource_spans {
                for ss in &mut rs.scope_spans {
                    ss.spans.retain(|s| s.trace_id == first);
                }
            }
        }
        Trace::from_data(data)
    }

    /// Lays out the spans of one trace. Spans whose parent is missing become roots, so a
    /// partial trace still shows every span.
    pub fn build(data: &TracesData) -> Trace {
        Trace::from_data(data.clone())
    }

    /// Like [`Trace::build`], taking the document so that no span is copied.
    pub fn from_data(data: TracesData) -> Trace {
        let mut services: Vec<String> = Vec::new();
        let mut scopes = Vec::new();
        // (service, scope, span) in document order.
        let mut spans: Vec<(usize, usize, Span)> = Vec::new();
        for rs in data.resource_spans {
            let name = rs.resource.service_name();
            let service = match services.iter().position(|s| s == name) {
                Some(i) => i,
                None => {
                    services.push(name.to_owned());
                    services.len() - 1
                }
            };
            for ss in rs.scope_spans {
                let scope = scopes.len();
                scopes.push(Scope {
                    resource: rs.resource.clone(),
                    resource_schema_url: rs.schema_url.clone(),
                    scope: ss.scope,
                    schema_url: ss.schema_url,
                });
                spans.extend(ss.spans.into_iter().map(|s| (service, scope, s)));
            }
        }
        let Some(trace_id) = spans.first().map(|(_, _, s)| s.trace_id.to_hex()) else {
            return Trace::default();
        };
        let start = spans.iter().map(|(_, _, s)| s.start_time_unix_nano).min().unwrap_or(0);
        let end = spans.iter().map(|(_, _, s)| s.end_time_unix_nano.max(s.start_time_unix_nano)).max().unwrap_or(start);
        let duration = end - start;

        let index: HashMap<_, _> = spans.iter().enumerate().map(|(i, (_, _, s))| (s.span_id, i)).collect();
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); spans.len()];
        let mut roots = Vec::new();
        // Spans taken in (start, index) order leave the roots and every child list sorted so.
        // Sorts in this file go through `(u64, usize)` pairs: one copy of the sort in the wasm.
        let mut by_start: Vec<(u64, usize)> =
            spans.iter().enumerate().map(|(i, (_, _, s))| (s.start_time_unix_nano, i)).collect();
        by_start.sort_unstable();
        let mut missing_parents = 0;
        for (_, i) in by_start {
            let parent = spans[i].2.parent_span_id;
            match parent.and_then(|p| index.get(&p)).filter(|&&p| p != i) {
                Some(&p) => children[p].push(i),
                None => {
                    missing_parents += usize::from(parent.is_some_and(|p| !index.contains_key(&p)));
                    roots.push(i)
                }
            }
        }
        drop(index);

        // Depth-first order; `order[k]` is the span of row k.
        let mut order: Vec<(usize, usize, Option<usize>)> = Vec::with_capacity(spans.len());
        let mut seen = vec![false; spans.len()];
        let mut row_of = vec![usize::MAX; spans.len()];
        let mut stack: Vec<(usize, usize)> = roots.iter().rev().map(|&i| (i, 0)).collect();
        while let Some((i, depth)) = stack.pop() {
            // A cycle of parent ids must not loop forever.
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            row_of[i] = order.len();
            order.push((i, depth, None));
            stack.extend(children[i].iter().rev().map(|&c| (c, depth + 1)));
        }
        // Spans caught in a parent cycle are unreachable from any root: show them at the end.
        for (i, done) in seen.iter().enumerate() {
            if !done {
                row_of[i] = order.len();
                order.push((i, 0, None));
            }
        }
        // Parents by row, from the child lists (a cycle's spans have none).
        for (p, kids) in children.iter().enumerate() {
            for &c in kids {
                let (row, parent_row) = (row_of[c], row_of[p]);
                if order[row].1 > 0 {
                    order[row].2 = Some(parent_row);
                }
            }
        }
        drop(children);

        let total = duration.max(1) as f64;
        let mut slots: Vec<Option<(usize, usize, Span)>> = spans.into_iter().map(Some).collect();
        let mut rows: Vec<Row> = order
            .iter()
            .enumerate()
            .map(|(k, &(i, depth, parent))| {
                let (service, scope, span) = slots[i].take().expect("each span has one row");
                Row {
                    service,
                    scope,
                    depth,
                    parent,
                    end: k + 1,
                    offset: (span.start_time_unix_nano - start) as f64 / total,
                    width: span.duration_nanos() as f64 / total,
                    error: span.is_error(),
                    skew: false,
                    critical: false,
                    span,
                }
            })
            .collect();
        // Subtree ends and clock skew, children before parents.
        for k in (0..rows.len()).rev() {
            if let Some(p) = rows[k].parent {
                rows[p].end = rows[p].end.max(rows[k].end);
                let (c, ps) = (&rows[k].span, &rows[p].span);
                let starts_before = c.start_time_unix_nano < ps.start_time_unix_nano;
                let ends_after = c.end_time_unix_nano.max(c.start_time_unix_nano) > ps.end_time_unix_nano;
                // A child that outlives its parent on the parent's clock (the same resource: one
                // process) is asynchronous work, such as a page's late resources under its
                // `documentLoad`; on another clock, ending outside the parent is what skew looks like.
                let (a, b) = (rows[k].scope, rows[p].scope);
                rows[k].skew = starts_before || ends_after && a != b && scopes[a].resource != scopes[b].resource;
            }
        }
        mark_critical_path(&mut rows);
        // Services in the order their first row appears.
        let mut first_row = vec![usize::MAX; services.len()];
        for (k, r) in rows.iter().enumerate() {
            first_row[r.service] = first_row[r.service].min(k);
        }
        let mut by_row: Vec<(u64, usize)> =
            (0..services.len()).filter(|&s| first_row[s] != usize::MAX).map(|s| (first_row[s] as u64, s)).collect();
        by_row.sort_unstable();
        let mut renumber = vec![0; services.len()];
        for (new, &(_, old)) in by_row.iter().enumerate() {
            renumber[old] = new;
        }
        let services = by_row.iter().map(|&(_, s)| std::mem::take(&mut services[s])).collect();
        for r in &mut rows {
            r.service = renumber[r.service];
        }
        Trace {
            trace_id,
            depth: rows.iter().map(|r| r.depth + 1).max().unwrap_or(0),
            errors: rows.iter().filter(|r| r.error).count(),
            missing_parents,
            rows: Arc::new(rows),
            start,
            duration,
            services,
            scopes,
            search_text: SearchText::default(),
        }
    }

    /// The service name of a row.
    pub fn service(&self, row: &Row) -> &str {
        &self.services[row.service]
    }

    /// The row of the span with this id, written as the in-trace search takes it: hex in either
    /// case, its leading zeros optional (`a2` is `00000000000000a2`, as Zipkin and short-id files
    /// write it). `None` for no such span, or text that is not a span id.
    pub fn row_of_span(&self, id: &str) -> Option<usize> {
        let id = span_id_of(id)?;
        self.rows.iter().position(|r| u64::from_be_bytes(r.span.span_id.0) == id)
    }

    /// The rows to show, in order: every row except those inside a collapsed subtree, and with
    /// `only` given, only the rows it marks and the collapsed rows hiding one it marks.
    pub fn visible_rows(&self, collapsed: &[bool], only: Option<&[bool]>) -> Vec<usize> {
        let mut out = Vec::new();
        let mut k = 0;
        while k < self.rows.len() {
            let folded = collapsed.get(k).copied().unwrap_or(false);
            let end = if folded { self.rows[k].end } else { k + 1 };
            // A collapsed span that hides matches stands for them (else "matches only" with
            // Collapse all would show nothing while the toolbar counts matches).
            if only.is_none_or(|m| m[k..end].contains(&true)) {
                out.push(k);
            }
            k = end;
        }
        out
    }

    /// The rows that match `query` as Jaeger UI's span filter (`filter-spans.tsx`) matches:
    /// its words are ORed, and a word `-key` leaves out the attributes whose key contains `key`
    /// (a span is not left out: its other fields may still match). A word matches a row whose
    /// name, service, attribute keys or values (of any type, as text), events (names, attribute
    /// keys and values), resource attributes or the tags Jaeger derives from it (its status
    /// message, `error` on an error span, its kind: `server`, `client`…) contain it, ignoring
    /// ASCII case, and the span whose id it is (leading zeros aside). With `within` (the matches of a shorter one-word
    /// query that this one extends), only those rows can match by their text.
    pub fn search(&self, query: &str, within: Option<&[bool]>) -> Vec<bool> {
        let mut include = Vec::new();
        let mut exclude = Vec::new();
        for word in query.split_ascii_whitespace() {
            match word.strip_prefix('-') {
                Some("") => {}
                Some(key) => exclude.push(key.to_ascii_lowercase()),
                None => include.push(word.to_ascii_lowercase()),
            }
        }
        match (include.as_slice(), exclude.is_empty()) {
            ([], true) => self.search_word("", within),
            ([word], true) => self.search_word(word, within),
            (_, true) => {
                let mut hits = vec![false; self.rows.len()];
                for word in &include {
                    hits.iter_mut().zip(self.search_word(word, None)).for_each(|(h, w)| *h |= w);
                }
                hits
            }
            (_, false) => self.search_excluding(&include, &exclude),
        }
    }

    /// Jaeger UI's filter with excluded keys: each row's fields are looked at one by one.
    fn search_excluding(&self, include: &[String], exclude: &[String]) -> Vec<bool> {
        let any = |text: &str| include.iter().any(|w| contains_ci(text, w.as_bytes()));
        let kept = |key: &str| !exclude.iter().any(|w| contains_ci(key, w.as_bytes()));
        let pairs = |attributes: &[edgescope_otlp::KeyValue]| {
            attributes
                .iter()
                .any(|a| kept(&a.key) && (any(&a.key) || a.value.as_ref().is_some_and(|v| any(&value_text(v)))))
        };
        let ids: Vec<u64> = include.iter().filter_map(|w| span_id_of(w)).collect();
        let resource_hit: Vec<bool> = self
            .scopes
            .iter()
            .map(|s| {
                s.resource
                    .attributes
                    .iter()
                    .filter(|a| a.key != "service.name")
                    .any(|a| kept(&a.key) && (any(&a.key) || a.value.as_ref().is_some_and(|v| any(&value_text(v)))))
            })
            .collect();
        self.rows
            .iter()
            .map(|r| {
                any(&r.span.name)
                    || any(self.service(r))
                    || pairs(&r.span.attributes)
                    // An event's name is Jaeger's `event` log field.
                    || r.span.events.iter().any(|e| (kept("event") && any(&e.name)) || pairs(&e.attributes))
                    || resource_hit[r.scope]
                    || DERIVED.iter().zip(derived(r)).any(|(key, text)| kept(key) && any(text))
                    || ids.contains(&u64::from_be_bytes(r.span.span_id.0))
            })
            .collect()
    }

    /// The rows one word matches (see [`Trace::search`]).
    fn search_word(&self, query: &str, within: Option<&[bool]>) -> Vec<bool> {
        let needle = query.trim().to_ascii_lowercase();
        let service_hit: Vec<bool> = self.services.iter().map(|s| contains_ci(s, needle.as_bytes())).collect();
        let resource_hit: Vec<bool> = self
            .scopes
            .iter()
            .map(|s| {
                // `service.name` is the service, matched above by its value alone (Jaeger's
                // process tags do not hold it).
                s.resource.attributes.iter().filter(|a| a.key != "service.name").any(|a| {
                    contains_ci(&a.key, needle.as_bytes())
                        || a.value.as_ref().is_some_and(|v| contains_ci(&value_text(v), needle.as_bytes()))
                })
            })
            .collect();
        let mut hits: Vec<bool> = self.rows.iter().map(|r| service_hit[r.service] || resource_hit[r.scope]).collect();
        if needle.is_empty() {
            hits.iter_mut().for_each(|h| *h = true);
        } else {
            let mut searchable = self.search_text.0.lock().unwrap_or_else(|e| e.into_inner());
            self.extend_searchable(&mut searchable, usize::MAX);
            let (text, ends) = (&searchable.text, &searchable.ends);
            let mut at = 0;
            while let Some(found) = find(&text[at..], needle.as_bytes()) {
                // The row whose part holds the match; then on from the next row's part.
                let row = ends.partition_point(|&end| end as usize <= at + found);
                hits[row] = true;
                at = ends[row] as usize;
            }
        }
        if let Some(within) = within {
            hits.iter_mut().zip(within).for_each(|(h, w)| *h &= *w);
        }
        // A span id given whole is not in any text, so not in `within` either.
        if let Some(id) = span_id_of(&needle) {
            for (h, r) in hits.iter_mut().zip(self.rows.iter()) {
                *h |= u64::from_be_bytes(r.span.span_id.0) == id;
            }
        }
        hits
    }

    /// Makes the next `rows` rows' part of the text [`Trace::search`] looks through, so that it
    /// can be made in small steps before the first search (which makes what is left); returns
    /// whether it is complete.
    pub fn prepare_search(&self, rows: usize) -> bool {
        let mut searchable = self.search_text.0.lock().unwrap_or_else(|e| e.into_inner());
        self.extend_searchable(&mut searchable, rows);
        searchable.ends.len() == self.rows.len()
    }

    /// Adds the parts of up to `count` more rows: each row's name, attribute keys and values,
    /// its events' names, attribute keys and values, and its derived tags, lowercased, NUL after each (which a
    /// typed query cannot hold, so no match runs from one field into the next). Values other
    /// than strings are written as the details panel shows them.
    fn extend_searchable(&self, searchable: &mut Searchable, count: usize) {
        /// Keys and values: `Err` for a value that is not a string.
        fn pairs(attributes: &[edgescope_otlp::KeyValue]) -> impl Iterator<Item = Result<&str, &AnyValue>> {
            attributes
                .iter()
                .flat_map(|a| std::iter::once(Ok(a.key.as_str())).chain(a.value.as_ref().map(|v| v.as_str().ok_or(v))))
        }
        fn fields(r: &Row) -> impl Iterator<Item = Result<&str, &AnyValue>> {
            let events =
                r.span.events.iter().flat_map(|e| std::iter::once(Ok(e.name.as_str())).chain(pairs(&e.attributes)));
            std::iter::once(Ok(r.span.name.as_str())).chain(pairs(&r.span.attributes)).chain(events)
        }
        let Searchable { text, ends } = searchable;
        let done = ends.len();
        let rows = &self.rows[done..self.rows.len().min(done.saturating_add(count))];
        if rows.is_empty() {
            return;
        }
        if done == 0 {
            // Sized once: the text of a large trace is tens of megabytes (other values are
            // counted at a typical length; the text grows if they are longer).
            let size = |f: Result<&str, &AnyValue>| f.map_or(8, str::len) + 1;
            // The derived tags: at most 9 bytes and the message.
            let derived = |r: &Row| 12 + r.span.status.message.len();
            text.reserve_exact(self.rows.iter().map(|r| fields(r).map(size).sum::<usize>() + derived(r)).sum());
            ends.reserve_exact(self.rows.len());
        }
        let from = text.len();
        for r in rows {
            for field in fields(r) {
                match field {
                    Ok(s) => text.extend_from_slice(s.as_bytes()),
                    Err(v) => text.extend_from_slice(value_text(v).as_bytes()),
                }
                text.push(0);
            }
            for s in derived(r) {
                text.extend_from_slice(s.as_bytes());
                text.push(0);
            }
            ends.push(text.len() as u32);
        }
        text[from..].make_ascii_lowercase();
    }

    /// The trace as OTLP/JSON text (the export).
    pub fn to_otlp_json(&self) -> String {
        edgescope_otlp::json::write_traces_with(&self.to_otlp(), crate::num::json_f64)
    }

    /// The trace as an OTLP/JSON document: one `resourceSpans` entry per resource and scope.
    pub fn to_otlp(&self) -> TracesData {
        let mut by_scope: Vec<Vec<Span>> = vec![Vec::new(); self.scopes.len()];
        for r in self.rows.iter() {
            by_scope[r.scope].push(r.span.clone());
        }
        TracesData {
            resource_spans: self
                .scopes
                .iter()
                .zip(by_scope)
                .filter(|(_, spans)| !spans.is_empty())
                .map(|(s, spans)| ResourceSpans {
                    resource: s.resource.clone(),
                    schema_url: s.resource_schema_url.clone(),
                    scope_spans: vec![ScopeSpans { scope: s.scope.clone(), spans, schema_url: s.schema_url.clone() }],
                })
                .collect(),
        }
    }
}

/// Whether `hay` contains `needle` (already lowercase ASCII), ignoring ASCII case.
/// Where `needle` (not empty) first occurs in `hay`: candidates by its first byte (`memchr`,
/// which serde_json links in anyway), then a comparison of the rest.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut at = 0;
    while let Some(i) = memchr::memchr(first, &hay[at..]) {
        let pos = at + i;
        if hay[pos + 1..].starts_with(rest) {
            return Some(pos);
        }
        at = pos + 1;
    }
    None
}

/// The keys of Jaeger's tags that [`derived`] gives the text of.
const DERIVED: [&str; 3] = ["span.kind", "otel.status_description", "error"];

/// What Jaeger's model derives from a span's fields and Jaeger UI's search finds: its kind
/// (`server`, `client`, …), its status message, and `error` on an error span (`error=true`);
/// empty where the span has none.
fn derived(r: &Row) -> [&str; 3] {
    let kind = if r.span.kind == edgescope_otlp::SpanKind::Unspecified { "" } else { r.span.kind.name() };
    [kind, &r.span.status.message, if r.error { "error" } else { "" }]
}

fn contains_ci(hay: &str, needle: &[u8]) -> bool {
    let hay = hay.as_bytes();
    let Some((&first, rest)) = needle.split_first() else { return true };
    if hay.len() < needle.len() {
        return false;
    }
    let upper = first.to_ascii_uppercase();
    (0..=hay.len() - needle.len())
        .any(|i| (hay[i] == first || hay[i] == upper) && hay[i + 1..i + needle.len()].eq_ignore_ascii_case(rest))
}

/// Marks the critical path of each root: from the root, the child that ended last, then
/// within that child the same again; then, back in the parent, the child that ended last
/// before that one started, and so on. Children are contiguous ranges of rows. As Jaeger UI's
/// `sanitizeOverFlowingChildren` does, a child wholly outside its parent (clock skew: it starts
/// after the parent ended or ends before it started) cannot have held the parent up and is left
/// out, and a child partly outside counts only for the part within its parent.
fn mark_critical_path(rows: &mut [Row]) {
    // Children of each row, from the depth-first layout.
    let mut kids: Vec<Vec<usize>> = vec![Vec::new(); rows.len()];
    for (k, row) in rows.iter().enumerate() {
        if let Some(p) = row.parent {
            kids[p].push(k);
        }
    }
    let end_of = |r: &Row| r.span.end_time_unix_nano.max(r.span.start_time_unix_nano);
    let roots: Vec<usize> = (0..rows.len()).filter(|&k| rows[k].parent.is_none()).collect();
    // Only the root that ends last decides when the trace ends.
    let Some(&root) = roots.iter().max_by_key(|&&k| (end_of(&rows[k]), std::cmp::Reverse(k))) else { return };
    // (row, its start and end clipped to its parent's, the time up to which it is on the path)
    let mut stack = vec![(root, rows[root].span.start_time_unix_nano, end_of(&rows[root]), end_of(&rows[root]))];
    while let Some((k, start, end, until)) = stack.pop() {
        rows[k].critical = true;
        // Latest end first: (u64::MAX - end, row) pairs sorted ascending, of the children
        // that overlap the parent, each clipped to it.
        let mut by_end: Vec<(u64, usize)> = kids[k]
            .iter()
            .filter(|&&c| rows[c].span.start_time_unix_nano < end && end_of(&rows[c]) > start)
            .map(|&c| (u64::MAX - end_of(&rows[c]).min(end), c))
            .collect();
        by_end.sort_unstable();
        let mut cursor = until;
        for (e, c) in by_end.into_iter().map(|(e, c)| (u64::MAX - e, c)) {
            if cursor <= start {
                break;
            }
            if e <= cursor {
                let child_start = rows[c].span.start_time_unix_nano.max(start);
                stack.push((c, child_start, e, e));
                cursor = child_start;
            }
        }
    }
}

/// Sorts `items` by `key`, stably, through the one `(u64, usize)` pair sort the layout uses:
/// each `sort_by` with its own closure or element type would be another copy of the standard
/// library's stable sort (4–5 KB) in the viewer's wasm. For short lists (results, a trace's logs).
pub fn sort_by_u64<T>(items: &mut Vec<T>, key: impl Fn(&T) -> u64) {
    let mut order: Vec<(u64, usize)> = items.iter().enumerate().map(|(i, t)| (key(t), i)).collect();
    order.sort_unstable();
    let mut old: Vec<Option<T>> = std::mem::take(items).into_iter().map(Some).collect();
    items.extend(order.into_iter().filter_map(|(_, i)| old[i].take()));
}

/// One log line.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// Unix nanoseconds.
    pub time: u64,
    /// `INFO`, `ERROR`, … from the severity number, else the record's own text.
    pub level: String,
    /// `service.name` of its resource.
    pub service: String,
    /// The body as text.
    pub message: String,
    /// Lowercase hex, when the record belongs to a trace.
    pub trace_id: Option<String>,
}

/// A trace's log lines, oldest first, and lines of one time in the order they were written: the
/// answer lists them oldest first (Loki's `direction=forward`) or, with `newest_first`, newest
/// first, lines of one time last written first (the collector's `ORDER BY time DESC, id DESC`).
pub fn trace_log_lines(data: &LogsData, newest_first: bool) -> Vec<LogLine> {
    let mut lines: Vec<LogLine> = data
        .records()
        .map(|(resource, _, r)| LogLine {
            time: r.time(),
            level: match edgescope_otlp::severity_name(r.severity_number) {
                // ASCII only: `to_uppercase` would bring about 18 KB gzip of Unicode case tables.
                "UNSPECIFIED" if !r.severity_text.is_empty() => r.severity_text.to_ascii_uppercase(),
                name => name.to_owned(),
            },
            service: resource.service_name().to_owned(),
            message: match &r.body {
                Some(edgescope_otlp::AnyValue::String(s)) => s.clone(),
                Some(other) => value_text(other),
                None => String::new(),
            },
            trace_id: r.trace_id.map(|t| t.to_hex()),
        })
        .collect();
    if newest_first {
        lines.reverse();
    }
    sort_by_u64(&mut lines, |l| l.time);
    lines
}

/// An attribute value or log body as text: strings bare, everything else as JSON would write it
/// (lists in brackets, key-value lists in braces).
pub fn value_text(v: &AnyValue) -> String {
    match v {
        AnyValue::String(s) => s.clone(),
        AnyValue::Bool(b) => b.to_string(),
        AnyValue::Int(i) => i.to_string(),
        AnyValue::Double(d) => crate::num::shortest(*d),
        AnyValue::Bytes(b) => b.iter().map(|x| format!("{x:02x}")).collect(),
        AnyValue::Empty => "null".into(),
        AnyValue::Array(items) => format!("[{}]", items.iter().map(value_text).collect::<Vec<_>>().join(", ")),
        AnyValue::KvList(kvs) => {
            format!(
                "{{{}}}",
                kvs.iter()
                    .map(|kv| format!("{}: {}", kv.key, kv.value.as_ref().map(value_text).unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }
}

/// A span's OTLP `flags` for people: the W3C trace flags in hex with their meaning, and whether
/// its parent was remote when the SDK said (bits 8 and 9): `01 (sampled, remote parent)`.
pub fn flags_text(flags: u32) -> String {
    let mut words = Vec::new();
    if flags & 1 != 0 {
        words.push("sampled");
    }
    if flags & 2 != 0 {
        words.push("random trace id");
    }
    if flags & 0x100 != 0 {
        words.push(if flags & 0x200 != 0 { "remote parent" } else { "local parent" });
    }
    let hex = format!("{:02x}", flags & 0xff);
    if words.is_empty() {
        hex
    } else {
        format!("{hex} ({})", words.join(", "))
    }
}

/// What an SDK dropped from a span to keep within its limits (`3 attributes, 1 event`); `None`
/// when nothing was.
pub fn dropped_text(attributes: u32, events: u32, links: u32) -> Option<String> {
    let parts: Vec<String> = [(attributes, "attribute"), (events, "event"), (links, "link")]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}{}", if n == 1 { "" } else { "s" }))
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// A span id as a user writes it (a search word, a link's `?span=`): 1 to 16 hex digits in any
/// case, leading zeros optional; `None` for anything else and for the all-zero id no span has.
fn span_id_of(text: &str) -> Option<u64> {
    let text = text.trim();
    let hex = !text.is_empty() && text.len() <= 16 && text.bytes().all(|b| b.is_ascii_hexdigit());
    hex.then(|| u64::from_str_radix(text, 16).ok()).flatten().filter(|&id| id != 0)
}

/// A duration for people: `850 µs`, `12.3 ms`, `4.56 s`. A value that rounds up to 1000 of its
/// unit is written in the next one (999,999 ns is `1.0 ms`, not `1000 µs`), as Jaeger UI does.
pub fn format_duration(nanos: u64) -> String {
    let n = nanos as f64;
    if nanos < 1_000 {
        return format!("{nanos} ns");
    }
    if nanos < 1_000_000 {
        let us = fixed(n / 1e3, 0);
        if us != "1000" {
            return format!("{us} µs");
        }
    }
    if nanos < 1_000_000_000 {
        let ms = fixed(n / 1e6, 1);
        if ms != "1000.0" {
            return format!("{ms} ms");
        }
    }
    format!("{} s", fixed(n / 1e9, 2))
}

/// Levels indented by a full step (14 px); deeper ones by 2 px more each, up to
/// [`MAX_INDENT`], and they show their depth as a number, so that the service and the name of a
/// span 40 levels deep stay in the label column.
pub const FULL_INDENT_LEVELS: usize = 8;
/// The largest indent of a row's label, in pixels.
pub const MAX_INDENT: usize = 160;

/// The left padding of a row's label at this depth, in pixels.
pub fn label_indent(depth: usize) -> usize {
    let full = depth.min(FULL_INDENT_LEVELS) * 14;
    (4 + full + depth.saturating_sub(FULL_INDENT_LEVELS) * 2).min(MAX_INDENT)
}

/// The lines of an edge's label: "1 call", "8 calls", then "1 error" or "2 errors" if any.
pub fn edge_label(calls: u64, errors: u64) -> Vec<String> {
    let count = |n: u64, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    let mut lines = vec![count(calls, "call")];
    if errors > 0 {
        lines.push(count(errors, "error"));
    }
    lines
}

/// The time `at` relative to `start`, signed: "+1.5 ms" after it, "−5.00 s" before it (an
/// event or log record timed before its span's start).
pub fn format_offset(at: u64, start: u64) -> String {
    if at >= start {
        format!("+{}", format_duration(at - start))
    } else {
        format!("\u{2212}{}", format_duration(start - at))
    }
}

/// Where a mark at time `at` sits on the bar of a span from `start` lasting `duration` ns, as a
/// fraction of the bar (0 to 1), and whether `at` falls outside the span (the mark is then
/// clamped to the bar's nearer end and drawn as such).
pub fn mark_position(at: u64, start: u64, duration: u64) -> (f64, bool) {
    let end = start.saturating_add(duration);
    if at < start {
        (0.0, true)
    } else if at > end {
        (1.0, true)
    } else {
        ((at - start) as f64 / duration.max(1) as f64, false)
    }
}

/// A Unix-nanosecond time as its UTC civil fields: year, month, day, hour, minute, second and
/// the nanoseconds within the second (Howard Hinnant's days-to-civil algorithm).
pub fn civil_time(nanos: u64) -> (i64, i64, i64, u64, u64, u64, u64) {
    let secs = nanos / 1_000_000_000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = edgescope_otlp::civil::civil_from_days(days as i64);
    (year, month.into(), day.into(), rem / 3600, rem % 3600 / 60, rem % 60, nanos % 1_000_000_000)
}

/// A Unix-nanosecond time as `YYYY-MM-DD HH:MM:SS.mmm UTC`. Every wall-clock time the viewer
/// shows goes through here: UTC whatever the browser's zone, so that a time reads the same for
/// everyone a link is sent to, and labelled so that nobody takes it for local time.
pub fn format_time(nanos: u64) -> String {
    let (year, month, day, h, m, s, frac) = civil_time(nanos);
    format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02}:{s:02}.{:03} UTC", frac / 1_000_000)
}

/// A Unix-nanosecond time as the value of a `datetime-local` input (`YYYY-MM-DDTHH:MM:SS`), read
/// as UTC like every time the viewer shows.
pub fn datetime_input(nanos: u64) -> String {
    let (year, month, day, h, m, s, _) = civil_time(nanos);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}")
}

/// Reads what a `datetime-local` input holds (`YYYY-MM-DDTHH:MM`, with `:SS` and a fraction
/// when given) as a UTC time, in Unix nanoseconds; `None` for anything else or a time before 1970
/// or after 2554 (past u64 nanoseconds).
pub fn parse_datetime_input(text: &str) -> Option<u64> {
    let b = text.trim().as_bytes();
    let digits = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter().all(u8::is_ascii_digit).then(|| part.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(at(4, b'-') && at(7, b'-') && (at(10, b'T') || at(10, b' ')) && at(13, b':')) {
        return None;
    }
    let (year, month, day, h, m) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?, digits(11, 2)?, digits(14, 2)?);
    let (s, frac_ns) = match b.len() {
        16 => (0, 0),
        19 if at(16, b':') => (digits(17, 2)?, 0),
        n if n > 20 && n <= 29 && at(16, b':') && at(19, b'.') => {
            let frac = digits(20, n - 20)?;
            (digits(17, 2)?, frac * 10i64.pow(29 - n as u32))
        }
        _ => return None,
    };
    let month_days = [
        31,
        if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month) || day < 1 || day > month_days[month as usize - 1] || h > 23 || m > 59 || s > 59 {
        return None;
    }
    let days = edgescope_otlp::civil::days_from_civil(year, month, day);
    let secs = days * 86_400 + h * 3_600 + m * 60 + s;
    // Past 2554-07-21 the nanoseconds leave u64: no time, rather than a wrapped one.
    u64::try_from(secs).ok()?.checked_mul(1_000_000_000)?.checked_add(frac_ns as u64)
}

#[cfg(test)]
mod offset_tests {
    use super::{
        datetime_input, edge_label, format_offset, label_indent, mark_position, parse_datetime_input, MAX_INDENT,
    };

    #[test]
    fn datetime_inputs_read_and_write_utc_times() {
        let t = 1_764_201_600_000_000_000; // 2025-11-27 00:00:00 UTC
        assert_eq!(datetime_input(t + 3_723_000_000_000), "2025-11-27T01:02:03");
        assert_eq!(parse_datetime_input("2025-11-27T01:02:03"), Some(t + 3_723_000_000_000));
        assert_eq!(parse_datetime_input("2025-11-27T01:02"), Some(t + 3_720_000_000_000));
        assert_eq!(parse_datetime_input("2025-11-27 01:02:03.5"), Some(t + 3_723_500_000_000));
        assert_eq!(parse_datetime_input("1970-01-01T00:00"), Some(0));
        assert_eq!(parse_datetime_input("2024-02-29T12:00"), Some(1_709_208_000_000_000_000), "a leap day");
        assert_eq!(parse_datetime_input("2554-07-21T23:34:33"), Some(18_446_744_073_000_000_000), "the last second");
        for bad in [
            "2554-07-21T23:34:34",
            "2600-01-01T00:00",
            "9999-12-31T23:59:59",
            "",
            "2025-11-27",
            "2025-13-01T00:00",
            "2023-02-29T00:00",
            "2025-11-27T24:00",
            "2025-11-27T01:02:3",
            "1969-12-31T23:59",
            "2025-11-27T01:02:03Z",
            "२०२५-11-27T01:02",
        ] {
            assert_eq!(parse_datetime_input(bad), None, "{bad}");
        }
        // Every second of a few years round-trips through both.
        for day in (0..20_000u64).step_by(97) {
            let t = day * 86_400_000_000_000 + day % 86_400 * 1_000_000_000;
            assert_eq!(parse_datetime_input(&datetime_input(t)), Some(t));
        }
    }

    #[test]
    fn deep_rows_are_indented_less_and_never_past_the_cap() {
        assert_eq!([0, 1, 8].map(label_indent), [4, 18, 116], "a full step for the first levels");
        assert_eq!(label_indent(9), 118, "then a small one");
        assert!((9..200).all(|d| label_indent(d) >= label_indent(d - 1) && label_indent(d) <= MAX_INDENT));
        assert_eq!(label_indent(40), MAX_INDENT);
    }

    #[test]
    fn edge_labels_count_calls_and_errors_in_good_english_one_per_line() {
        assert_eq!(edge_label(8, 1), ["8 calls", "1 error"]);
        assert_eq!(edge_label(1, 0), ["1 call"]);
        assert_eq!(edge_label(2, 2), ["2 calls", "2 errors"]);
    }

    #[test]
    fn marks_before_or_after_their_span_say_so_and_sit_at_the_nearer_end() {
        let s = 10_000_000_000;
        assert_eq!(format_offset(s - 5_000_000_000, s), "\u{2212}5.00 s");
        assert_eq!(format_offset(s + 1_500_000, s), "+1.5 ms");
        assert_eq!(format_offset(s, s), "+0 ns");
        assert_eq!(mark_position(s - 5_000_000_000, s, 100), (0.0, true));
        assert_eq!(mark_position(s + 200, s, 100), (1.0, true));
        assert_eq!(mark_position(s + 25, s, 100), (0.25, false));
        assert_eq!(mark_position(s, s, 0), (0.0, false));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgescope_otlp::read::{traces_from_str, Ids};

    #[test]
    fn spans_whose_parent_is_missing_are_counted_and_shown_as_roots() {
        let span = |id: &str, parent: &str| {
            format!(
                r#"{{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"{id}","parentSpanId":"{parent}","name":"s{id}"}}"#
            )
        };
        let doc = format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{},{},{},{}]}}]}}]}}"#,
            span("0000000000000001", ""),
            span("0000000000000002", "0000000000000001"),
            span("0000000000000003", "00000000000000ff"),
            span("0000000000000004", "00000000000000fe"),
        );
        let t = Trace::from_data(traces_from_str(&doc, Ids::Strict).unwrap());
        assert_eq!(t.missing_parents, 2);
        assert_eq!(t.rows.iter().filter(|r| r.depth == 0).count(), 3);
        let whole = doc.replace(r#""parentSpanId":"00000000000000ff""#, r#""parentSpanId":"0000000000000001""#);
        let whole = whole.replace(r#""parentSpanId":"00000000000000fe""#, r#""parentSpanId":"0000000000000002""#);
        assert_eq!(Trace::from_data(traces_from_str(&whole, Ids::Strict).unwrap()).missing_parents, 0);
    }

    #[test]
    fn flags_and_drops_read_as_words() {
        assert_eq!(flags_text(0), "00");
        assert_eq!(flags_text(1), "01 (sampled)");
        assert_eq!(flags_text(0x303), "03 (sampled, random trace id, remote parent)");
        assert_eq!(flags_text(0x100), "00 (local parent)");
        assert_eq!(dropped_text(0, 0, 0), None);
        assert_eq!(dropped_text(3, 1, 0).as_deref(), Some("3 attributes, 1 event"));
        assert_eq!(dropped_text(0, 0, 2).as_deref(), Some("2 links"));
    }

    #[test]
    fn sort_by_u64_is_the_stable_sort_by_key() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for len in [0, 1, 2, 7, 100, 1000] {
            let items: Vec<(u64, usize)> = (0..len)
                .map(|i| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x % 10, i)
                })
                .collect();
            let (mut ours, mut std) = (items.clone(), items);
            sort_by_u64(&mut ours, |&(k, _)| u64::MAX - k);
            std.sort_by_key(|&(k, _)| std::cmp::Reverse(k));
            assert_eq!(ours, std, "{len} items");
        }
    }

    #[test]
    fn a_traces_log_lines_are_oldest_first_with_lines_of_one_time_in_the_order_written() {
        use edgescope_otlp::{LogRecord, ResourceLogs, ScopeLogs};
        let doc = |lines: &[(u64, &str)]| LogsData {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: lines
                        .iter()
                        .map(|&(t, m)| LogRecord {
                            time_unix_nano: t,
                            body: Some(AnyValue::String(m.into())),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let messages = |lines: Vec<LogLine>| lines.into_iter().map(|l| l.message).collect::<Vec<_>>();
        // Loki answers oldest first (`direction=forward`), lines of one time as written.
        let loki = doc(&[(3, "a"), (5, "b1"), (5, "b2"), (7, "c")]);
        assert_eq!(messages(trace_log_lines(&loki, false)), ["a", "b1", "b2", "c"]);
        // The collector answers newest first, lines of one time last written first.
        let collector = doc(&[(7, "c"), (5, "b2"), (5, "b1"), (3, "a")]);
        assert_eq!(messages(trace_log_lines(&collector, true)), ["a", "b1", "b2", "c"]);
        // Out of order in the answer: by time all the same.
        let mixed = doc(&[(5, "b1"), (3, "a"), (7, "c"), (5, "b2")]);
        assert_eq!(messages(trace_log_lines(&mixed, false)), ["a", "b1", "b2", "c"]);
    }

    #[test]
    fn log_lines_spell_levels_in_ascii_capitals_and_bodies_as_values() {
        use edgescope_otlp::{LogRecord, ResourceLogs, ScopeLogs};
        let record = |severity_text: &str, body: AnyValue| LogRecord {
            time_unix_nano: 1,
            severity_text: severity_text.into(),
            body: Some(body),
            ..Default::default()
        };
        let data = LogsData {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![
                        record("notice", AnyValue::Int(5)),
                        // Only ASCII letters are raised: the Unicode case tables stay out of the module.
                        record("ärger", AnyValue::Double(0.1)),
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let lines = trace_log_lines(&data, false);
        let got: Vec<(&str, &str)> = lines.iter().map(|l| (l.level.as_str(), l.message.as_str())).collect();
        assert_eq!(got, [("NOTICE", "5"), ("äRGER", "0.1")]);
    }

    fn fixture(name: &str) -> String {
        // ../shared/fixtures: real telemetry from other projects; MANIFEST.tsv names each source.
        let path = format!("{}/../../shared/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn rows_follow_the_parent_tree_with_siblings_by_start_time() {
        let data = traces_from_str(&fixture("jaeger-ui-otlp2jaeger-multi-in-combined.json"), Ids::Tolerant).unwrap();
        let trace = Trace::build(&data);
        assert_eq!(trace.rows.len(), data.spans().count());
        assert_eq!(trace.rows[0].depth, 0);
        for (i, row) in trace.rows.iter().enumerate() {
            if let Some(parent) = row.span.parent_span_id {
                if let Some(p) = trace.rows.iter().position(|r| r.span.span_id == parent) {
                    assert!(p < i, "a parent comes before its child");
                    assert_eq!(row.depth, trace.rows[p].depth + 1);
                }
            }
            assert!((0.0..=1.0).contains(&row.offset) && row.offset + row.width <= 1.0 + 1e-9);
        }
    }

    #[test]
    fn spans_whose_parent_is_missing_become_roots_and_cycles_do_not_hang() {
        let doc = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[
            {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0000000000000001","parentSpanId":"0000000000000002","name":"a","startTimeUnixNano":"10","endTimeUnixNano":"20"},
            {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0000000000000002","parentSpanId":"0000000000000001","name":"b","startTimeUnixNano":"12","endTimeUnixNano":"15"},
            {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0000000000000003","parentSpanId":"00000000000000ff","name":"orphan","startTimeUnixNano":"0","endTimeUnixNano":"40","status":{"code":2}}
        ]}]}]}"#;
        let trace = Trace::build(&traces_from_str(doc, Ids::Strict).unwrap());
        let names: Vec<_> = trace.rows.iter().map(|r| r.span.name.as_str()).collect();
        assert_eq!(names, ["orphan", "a", "b"]);
        assert_eq!((trace.start, trace.duration, trace.errors), (0, 40, 1));
        assert_eq!(trace.rows[0].width, 1.0);
    }

    /// GET /checkout → authenticate → SELECT users, and → payment (error) → charge card, which
    /// starts before its parent. Times in milliseconds.
    fn checkout() -> Trace {
        let span = |id: u8, parent: Option<u8>, service: &str, name: &str, start: u64, end: u64| {
            format!(
                r#"{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{service}"}}}}]}},
                "scopeSpans":[{{"scope":{{"name":"lib"}},"spans":[{{"traceId":"0102030405060708090a0b0c0d0e0f10",
                "spanId":"00000000000000{id:02x}",{}"name":"{name}","startTimeUnixNano":"{}","endTimeUnixNano":"{}",
                "attributes":[{{"key":"user.id","value":{{"stringValue":"u-{id}"}}}}]{}}}]}}]}}"#,
                parent.map(|p| format!(r#""parentSpanId":"00000000000000{p:02x}","#)).unwrap_or_default(),
                start * 1_000_000,
                end * 1_000_000,
                if name == "payment" { r#","status":{"code":2}"# } else { "" },
            )
        };
        let doc = format!(
            r#"{{"resourceSpans":[{}]}}"#,
            [
                span(4, Some(1), "payments", "payment", 25, 95),
                span(1, None, "web", "GET /checkout", 0, 100),
                span(3, Some(2), "auth", "SELECT users", 8, 18),
                span(5, Some(4), "payments", "charge card", 20, 40),
                span(2, Some(1), "auth", "authenticate", 5, 30),
            ]
            .join(",")
        );
        Trace::from_data(traces_from_str(&doc, Ids::Strict).unwrap())
    }

    fn names(trace: &Trace, rows: impl IntoIterator<Item = usize>) -> Vec<&str> {
        rows.into_iter().map(|k| trace.rows[k].span.name.as_str()).collect()
    }

    #[test]
    fn the_layout_has_depths_parents_subtree_ends_and_services_in_row_order() {
        let t = checkout();
        assert_eq!(names(&t, 0..5), ["GET /checkout", "authenticate", "SELECT users", "payment", "charge card"]);
        let depths: Vec<_> = t.rows.iter().map(|r| r.depth).collect();
        assert_eq!(depths, [0, 1, 2, 1, 2]);
        let parents: Vec<_> = t.rows.iter().map(|r| r.parent).collect();
        assert_eq!(parents, [None, Some(0), Some(1), Some(0), Some(3)]);
        let ends: Vec<_> = t.rows.iter().map(|r| r.end).collect();
        assert_eq!(ends, [5, 3, 3, 5, 5]);
        assert_eq!(t.services, ["web", "auth", "payments"]);
        assert_eq!(t.service(&t.rows[4]), "payments");
        assert_eq!((t.depth, t.errors, t.duration), (3, 1, 100_000_000));
    }

    #[test]
    fn an_error_is_a_status_error_or_an_error_attribute_true_as_jaeger_ui_shows_it() {
        let span = |id: u8, extra: &str| {
            format!(
                r#"{{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"00000000000000{id:02x}","name":"s{id}","startTimeUnixNano":"1","endTimeUnixNano":"2"{extra}}}"#
            )
        };
        let spans = [
            span(1, r#","status":{"code":2}"#),
            span(2, r#","attributes":[{"key":"error","value":{"boolValue":true}}]"#),
            span(3, r#","attributes":[{"key":"error","value":{"stringValue":"true"}}]"#),
            span(4, r#","attributes":[{"key":"error","value":{"boolValue":false}}]"#),
            span(5, r#","attributes":[{"key":"error.type","value":{"stringValue":"true"}}],"status":{"code":1}"#),
        ];
        let doc = format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{}]}}]}}]}}"#, spans.join(","));
        let t = Trace::from_data(traces_from_str(&doc, Ids::Strict).unwrap());
        let errors: Vec<bool> = t.rows.iter().map(|r| r.error).collect();
        assert_eq!(errors, [true, true, true, false, false]);
        assert_eq!(t.errors, 3);
    }

    #[test]
    fn a_child_outside_its_parent_is_marked_as_clock_skew() {
        let t = checkout();
        let skewed: Vec<_> = t.rows.iter().map(|r| r.skew).collect();
        assert_eq!(skewed, [false, false, false, false, true]);
    }

    #[test]
    fn a_child_that_outlives_its_parent_in_the_same_process_is_no_clock_skew() {
        // A page's documentLoad (0–100) and a resource it started that ended later (50–120):
        // asynchronous, on one clock. The same child reported by another service is outside its
        // parent on another clock: skew.
        let doc = |child_service: &str| {
            let span = |service: &str, id: u8, parent: &str, start: u64, end: u64| {
                format!(
                    r#"{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{service}"}}}}]}},
                    "scopeSpans":[{{"spans":[{{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"00000000000000{id:02x}",
                    {parent}"name":"s{id}","startTimeUnixNano":"{start}","endTimeUnixNano":"{end}"}}]}}]}}"#
                )
            };
            let parent = r#""parentSpanId":"0000000000000001","#;
            format!(
                r#"{{"resourceSpans":[{},{}]}}"#,
                span("web", 1, "", 0, 100),
                span(child_service, 2, parent, 50, 120)
            )
        };
        let skew = |service: &str| Trace::from_data(traces_from_str(&doc(service), Ids::Strict).unwrap()).rows[1].skew;
        assert!(!skew("web"), "same resource (two batches of one process)");
        assert!(skew("api"), "another resource");
    }

    #[test]
    fn the_critical_path_follows_the_last_child_to_end_then_what_ended_before_it_started() {
        let t = checkout();
        let critical: Vec<usize> = (0..5).filter(|&k| t.rows[k].critical).collect();
        // authenticate ends at 30, after payment started at 25: it did not hold the trace up.
        assert_eq!(names(&t, critical), ["GET /checkout", "payment", "charge card"]);
    }

    #[test]
    fn a_child_wholly_outside_its_parent_is_not_on_the_critical_path_and_one_partly_outside_is_clipped() {
        // root 0–300 → parent 100–200 (→ inside 110–190, → after its end 210–220) and
        // parent 2 0–50 (→ before its start, at -40 ms to -20 ms: 20–40 on this clock with
        // the root from 60) and a child partly outside its parent, overlapping 150–260.
        let span = |id: u8, parent: Option<u8>, name: &str, start: u64, end: u64| {
            format!(
                r#"{{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"00000000000000{id:02x}",{}"name":"{name}","startTimeUnixNano":"{}","endTimeUnixNano":"{}"}}"#,
                parent.map(|p| format!(r#""parentSpanId":"00000000000000{p:02x}","#)).unwrap_or_default(),
                start * 1_000_000,
                end * 1_000_000,
            )
        };
        let trace = |spans: &[String]| {
            let doc = format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{}]}}]}}]}}"#, spans.join(","));
            Trace::from_data(traces_from_str(&doc, Ids::Strict).unwrap())
        };
        fn critical(t: &Trace) -> Vec<&str> {
            names(t, (0..t.rows.len()).filter(|&k| t.rows[k].critical).collect::<Vec<_>>())
        }
        let t = trace(&[
            span(1, None, "root", 60, 360),
            span(2, Some(1), "parent", 160, 260),
            span(3, Some(2), "inside child", 170, 250),
            span(4, Some(2), "child after parent end", 270, 280),
            span(5, Some(1), "parent 2", 60, 110),
            span(6, Some(5), "child before parent 2 start", 20, 40),
        ]);
        assert_eq!(critical(&t), ["root", "parent 2", "parent", "inside child"]);
        // A child partly outside: on the path up to its parent's end, and what ended before the
        // clipped child started is not (a sibling ending at 140, before it started at 150, is).
        let t = trace(&[
            span(1, None, "root", 100, 200),
            span(2, Some(1), "overlapping child", 150, 260),
            span(3, Some(1), "earlier child", 100, 140),
            span(4, Some(2), "grandchild past the root", 205, 250),
        ]);
        assert_eq!(critical(&t), ["root", "earlier child", "overlapping child"]);
        // Sequential awaits: a child that ends just as the next on the path starts is what that
        // one waited for, and is on the path (Jaeger UI's strict `<` would skip it for a shorter
        // child that ended earlier, here the concurrent 2–5).
        let t = trace(&[
            span(1, None, "P", 100, 120),
            span(2, Some(1), "A", 100, 110),
            span(3, Some(1), "C", 102, 105),
            span(4, Some(1), "B", 110, 120),
        ]);
        assert_eq!(critical(&t), ["P", "A", "B"]);
    }

    #[test]
    fn a_span_id_is_found_in_either_case_with_or_without_its_leading_zeros() {
        let t = checkout();
        let payment = t.rows.iter().position(|r| r.span.name == "payment");
        for id in ["0000000000000004", "4", "04", " 00000000000004 ", "0000000000000004".to_uppercase().as_str()] {
            assert_eq!(t.row_of_span(id), payment, "{id:?}");
        }
        for id in ["", "ff", "00000000000000004", "xyz", "0x4", "0", "+4"] {
            assert_eq!(t.row_of_span(id), None, "{id:?}");
        }
    }

    #[test]
    fn collapsed_subtrees_and_the_match_filter_hide_rows() {
        let t = checkout();
        let mut collapsed = vec![false; 5];
        assert_eq!(t.visible_rows(&collapsed, None), [0, 1, 2, 3, 4]);
        collapsed[1] = true;
        assert_eq!(t.visible_rows(&collapsed, None), [0, 1, 3, 4]);
        collapsed[0] = true;
        assert_eq!(t.visible_rows(&collapsed, None), [0]);
        let only = [false, true, true, false, true];
        assert_eq!(t.visible_rows(&[false; 5], Some(&only)), [1, 2, 4]);
        // A collapsed span that hides matches stands for them, match or not: Collapse all with
        // "matches only" leaves the root, not an empty waterfall.
        assert_eq!(t.visible_rows(&collapsed, Some(&only)), [0]);
        let payment_collapsed = [false, false, false, true, false];
        assert_eq!(t.visible_rows(&payment_collapsed, Some(&only)), [1, 2, 3]);
        let none = [false; 5];
        assert_eq!(t.visible_rows(&collapsed, Some(&none)), [] as [usize; 0]);
    }

    #[test]
    fn search_finds_names_services_attribute_keys_and_values_ignoring_case() {
        let t = checkout();
        let hits = |q: &str| -> Vec<usize> { (0..5).filter(|&k| t.search(q, None)[k]).collect() };
        assert_eq!(hits("PAYMENTS"), [3, 4]);
        assert_eq!(hits("select"), [2]);
        assert_eq!(hits("u-2"), [1]);
        assert_eq!(hits("user.ID"), [0, 1, 2, 3, 4]);
        assert_eq!(hits("nothing like it"), Vec::<usize>::new());
        // A longer query searches only the matches of the shorter one.
        let c = t.search("c", None);
        assert_eq!(t.search("ch", Some(&c)), t.search("ch", None));
        let some = [true, false, false, false, true];
        assert_eq!(t.search("user.id", Some(&some)), some);
        // The searched text is one buffer, but a match never runs from one field into the next.
        assert_eq!(t.rows[0].span.name, "GET /checkout");
        assert_eq!(hits("checkout"), [0]);
        assert_eq!(hits(&format!("checkout{}", t.rows[0].span.attributes[0].key)), Vec::<usize>::new());
        assert_eq!(hits(""), [0, 1, 2, 3, 4]);
        // Made in steps, the text gives the same answers.
        let stepwise = checkout();
        assert!(!stepwise.prepare_search(2));
        assert_eq!(stepwise.search("payments", None), t.search("payments", None), "the first search makes the rest");
        assert!(stepwise.prepare_search(1));
    }

    #[test]
    fn search_ors_its_words_and_leaves_out_the_attributes_of_excluded_keys_as_jaeger_ui_does() {
        let t = checkout();
        let hits = |q: &str| -> Vec<&str> { names(&t, (0..5).filter(|&k| t.search(q, None)[k])) };
        // Jaeger UI's filter-spans: any word may match.
        assert_eq!(hits("pay select"), ["SELECT users", "payment", "charge card"]);
        assert_eq!(hits("  select   authenticate "), ["authenticate", "SELECT users"]);
        // `-user` leaves out the attributes whose key holds "user" (every span's `user.id`)...
        assert_eq!(hits("u-1"), ["GET /checkout"]);
        assert_eq!(hits("u-1 -user"), Vec::<&str>::new());
        assert_eq!(hits("u-1 -other"), ["GET /checkout"]);
        // ...but not the names and services: "SELECT users" still matches by its name.
        assert_eq!(hits("users -user"), ["SELECT users"]);
        assert_eq!(hits("-user"), Vec::<&str>::new());
        // A previous one-word query's matches narrow nothing that ORs.
        let pay = t.search("pay", None);
        assert_eq!(t.search("pay select", Some(&pay)), t.search("pay select", None));
    }

    #[test]
    fn search_finds_what_jaeger_ui_finds_numbers_span_ids_events_and_resource_attributes() {
        // Jaeger UI's filterSpans matches a tag's value as text whatever its type, log (event)
        // fields, process (resource) tags, and a span id.
        let doc = r#"{"resourceSpans":[
          {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"web"}},{"key":"host.name","value":{"stringValue":"eu-node-7"}}]},
           "scopeSpans":[{"spans":[
            {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"00000000000000a1","name":"GET /","startTimeUnixNano":"1","endTimeUnixNano":"9",
             "attributes":[{"key":"http.status_code","value":{"intValue":"503"}},{"key":"retry","value":{"boolValue":true}}]}]}]},
          {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"db"}}]},
           "scopeSpans":[{"spans":[
            {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0000000000bc00d2","parentSpanId":"00000000000000a1","name":"query","startTimeUnixNano":"2","endTimeUnixNano":"8",
             "attributes":[{"key":"db.rows","value":{"doubleValue":12.5}}],
             "events":[{"timeUnixNano":"3","name":"cache miss","attributes":[{"key":"cache.key","value":{"stringValue":"User:42"}}]}]}]}]}]}"#;
        let t = Trace::from_data(traces_from_str(doc, Ids::Strict).unwrap());
        let hits = |q: &str| -> Vec<&str> { names(&t, (0..t.rows.len()).filter(|&k| t.search(q, None)[k])) };
        assert_eq!(hits("503"), ["GET /"]);
        assert_eq!(hits("true"), ["GET /"]);
        assert_eq!(hits("12.5"), ["query"]);
        assert_eq!(hits("Cache Miss"), ["query"]);
        assert_eq!(hits("user:42"), ["query"]);
        assert_eq!(hits("eu-node"), ["GET /"]);
        assert_eq!(hits("host.NAME"), ["GET /"]);
        // Every resource has `service.name`: its key matches no span, its value is the service.
        assert_eq!(hits("service"), Vec::<&str>::new());
        assert_eq!(hits("DB"), ["query"]);
        assert_eq!(hits("0000000000BC00D2"), ["query"]);
        assert_eq!(hits("bc00d2"), ["query"]);
        assert_eq!(hits("a1"), ["GET /"]);
        // Only an id given whole matches: "bc00" is not in any text.
        assert_eq!(hits("bc00"), Vec::<&str>::new());
    }

    #[test]
    fn search_finds_the_status_message_error_spans_and_the_kind_as_jaeger_ui_does() {
        // Jaeger's model gives a span the tags `otel.status_description`, `error=true` and
        // `span.kind`, which Jaeger UI's filter matches.
        let span = |id: u8, kind: u8, status: &str| {
            format!(
                r#"{{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"00000000000000{id:02x}","name":"s{id}","kind":{kind},
                "startTimeUnixNano":"1","endTimeUnixNano":"9","status":{status}}}"#
            )
        };
        let doc = format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{},{},{}]}}]}}]}}"#,
            span(1, 2, r#"{"code":2,"message":"Card Declined"}"#),
            span(2, 3, r#"{"code":1}"#),
            span(3, 0, "{}")
        );
        let t = Trace::from_data(traces_from_str(&doc, Ids::Strict).unwrap());
        let hits = |q: &str| -> Vec<&str> { names(&t, (0..t.rows.len()).filter(|&k| t.search(q, None)[k])) };
        assert_eq!(hits("declined"), ["s1"]);
        assert_eq!(hits("error"), ["s1"]);
        assert_eq!(hits("server"), ["s1"]);
        assert_eq!(hits("CLIENT"), ["s2"]);
        assert_eq!(hits("unspecified"), Vec::<&str>::new());
        // `-key` leaves them out by their Jaeger tag's key, as it does attributes.
        assert_eq!(hits("error -error"), Vec::<&str>::new());
        assert_eq!(hits("client -span.kind"), Vec::<&str>::new());
        assert_eq!(hits("declined -otel.status"), Vec::<&str>::new());
        assert_eq!(hits("declined -other"), ["s1"]);
    }

    #[test]
    fn the_export_reads_back_as_the_same_spans_resources_and_scopes() {
        let t = checkout();
        let json = t.to_otlp_json();
        let back = Trace::from_data(traces_from_str(&json, Ids::Strict).unwrap());
        assert_eq!(back.rows, t.rows);
        assert_eq!(back.services, t.services);
    }

    #[test]
    fn the_export_keeps_ids_int64s_every_attribute_type_events_links_and_status() {
        let doc = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}},
            {"key":"host.cores","value":{"intValue":"8"}}],"droppedAttributesCount":1},"schemaUrl":"https://opentelemetry.io/schemas/1.24.0",
          "scopeSpans":[{"scope":{"name":"lib","version":"1.2","attributes":[{"key":"s","value":{"boolValue":false}}],"droppedAttributesCount":2},
            "schemaUrl":"https://opentelemetry.io/schemas/1.21.0","spans":[
          {"traceId":"00000000000000000000000000000001","spanId":"ffffffffffffffff","parentSpanId":"0000000000000001",
           "traceState":"k=v","flags":769,"name":"all \"types\" \u00e9\u2603","kind":3,
           "startTimeUnixNano":"1700000000000000001","endTimeUnixNano":"18446744073709551615",
           "attributes":[
             {"key":"str","value":{"stringValue":"line\nbreak </script>"}},
             {"key":"int.max","value":{"intValue":"9223372036854775807"}},
             {"key":"int.min","value":{"intValue":"-9223372036854775808"}},
             {"key":"bool","value":{"boolValue":true}},
             {"key":"double","value":{"doubleValue":0.1}},
             {"key":"double.int","value":{"doubleValue":3.0}},
             {"key":"double.big","value":{"doubleValue":1e300}},
             {"key":"double.nan","value":{"doubleValue":"NaN"}},
             {"key":"double.inf","value":{"doubleValue":"-Infinity"}},
             {"key":"bytes","value":{"bytesValue":"AAEC/w=="}},
             {"key":"array","value":{"arrayValue":{"values":[{"intValue":"1"},{"stringValue":"x"},{"arrayValue":{}}]}}},
             {"key":"kvlist","value":{"kvlistValue":{"values":[{"key":"a","value":{"doubleValue":-0.5}},{"key":"b","value":{"kvlistValue":{}}}]}}},
             {"key":"empty"}],
           "droppedAttributesCount":3,
           "events":[{"timeUnixNano":"1700000000000000002","name":"exception","attributes":[{"key":"exception.type","value":{"stringValue":"E"}}],"droppedAttributesCount":4},
                     {"timeUnixNano":"1700000000000000003","name":"bare"}],
           "droppedEventsCount":5,
           "links":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","traceState":"a=b","flags":1,
                     "attributes":[{"key":"link.n","value":{"intValue":"-1"}}],"droppedAttributesCount":6}],
           "droppedLinksCount":7,
           "status":{"code":2,"message":"boom"}}]}]}]}"#;
        let original = traces_from_str(doc, Ids::Strict).unwrap();
        let t = Trace::from_data(original.clone());
        let json = t.to_otlp_json();
        assert!(json.contains(r#""intValue":"9223372036854775807""#), "int64 as a string: {json}");
        assert!(json.contains(r#""endTimeUnixNano":"18446744073709551615""#), "{json}");
        let back = traces_from_str(&json, Ids::Strict).unwrap();
        // NaN is not equal to itself: the documents are compared as their debug text.
        assert_eq!(format!("{back:?}"), format!("{original:?}"));
        // Exported again, the text is the same.
        assert_eq!(Trace::from_data(back).to_otlp_json(), json);
    }

    #[test]
    fn a_large_zipkin_file_reads_and_lays_out_every_span() {
        let text = fixture("zipkin-lens-smartthings-mobile-web-install.json");
        let t = Trace::first_of(edgescope_otlp::read::any_traces(&text).unwrap());
        assert_eq!(t.rows.len(), 1041);
        let mut seen = vec![false; t.rows.len()];
        for (k, r) in t.rows.iter().enumerate() {
            assert!(!std::mem::replace(&mut seen[k], true));
            assert!(r.end > k && r.end <= t.rows.len());
            if let Some(p) = r.parent {
                assert!(p < k && k < t.rows[p].end && t.rows[p].depth + 1 == r.depth);
            }
        }
        assert!(t.rows.iter().any(|r| r.critical));
    }

    #[test]
    fn a_duration_that_rounds_up_to_a_thousand_of_its_unit_is_shown_in_the_next_unit() {
        // As Jaeger UI's formatDuration: 999,999 ns is about 1 ms, never "1000 µs".
        assert_eq!(format_duration(999), "999 ns");
        assert_eq!(format_duration(1_000), "1 µs");
        assert_eq!(format_duration(999_499), "999 µs");
        assert_eq!(format_duration(999_500), "1.0 ms");
        assert_eq!(format_duration(999_999), "1.0 ms");
        assert_eq!(format_duration(999_949_999), "999.9 ms");
        assert_eq!(format_duration(999_950_001), "1.00 s");
        assert_eq!(format_duration(999_999_999), "1.00 s");
        assert_eq!(format_duration(0), "0 ns");
        assert_eq!(format_duration(u64::MAX), "18446744073.71 s");
        // Every duration, across each unit edge, names its unit with a value below 1000.
        for edge in [1_000u64, 1_000_000, 1_000_000_000] {
            for d in edge.saturating_sub(edge / 500)..edge + edge / 500 {
                let text = format_duration(d);
                let (value, unit) = text.split_once(' ').unwrap();
                assert!(unit == "s" || value.parse::<f64>().unwrap() < 1000.0, "{d} ns as {text}");
            }
        }
    }

    #[test]
    fn durations_and_times_read_well() {
        assert_eq!(format_duration(850), "850 ns");
        assert_eq!(format_duration(12_345_678), "12.3 ms");
        assert_eq!(format_duration(4_560_000_000), "4.56 s");
        assert_eq!(format_time(1_544_712_660_300_000_000), "2018-12-13 14:51:00.300 UTC");
        assert_eq!(format_time(0), "1970-01-01 00:00:00.000 UTC");
    }
}
