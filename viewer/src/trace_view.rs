//! The trace page: a header, a minimap, a toolbar (search, collapse and expand, zoom, export),
//! the waterfall with only the visible rows in the DOM, and the selected span's details.
//!
//! Everything from telemetry is rendered as text nodes or attribute values, never as markup.

#[cfg(test)]
mod browser_tests;
mod details;
mod minimap;

use crate::num::{fixed, shortest};
use crate::router::{use_params_map, use_query_map, use_replace, Replace};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::api;
use crate::app::{error_panel, loading, log_table};
use crate::model::{format_duration, format_time, trace_log_lines, Trace};

/// The log records of the trace shown, by span id: (time, severity number, message). Rows put
/// a mark on their bar for each.
#[derive(Clone, Copy)]
struct LogMarks(RwSignal<MarksBySpan>);

/// Per span id: (time, severity number, message) of each of its log records.
type MarksBySpan = std::collections::HashMap<[u8; 8], Vec<(u64, i32, String)>>;

/// Zipkin shares one span id between an RPC's client and server halves, and the reader gives the
/// server half an id of its own: a record of the server's service with the shared id is marked on
/// the server half (`trace`: the trace shown).
fn log_marks_of(data: &edgescope_otlp::LogsData, trace: Option<&Trace>) -> MarksBySpan {
    // (Halves of one service cannot be told apart by it: their records stay on the client half.)
    let halves: std::collections::HashMap<[u8; 8], ([u8; 8], &str)> = trace
        .map(|t| {
            let services: std::collections::HashMap<[u8; 8], usize> =
                t.rows.iter().map(|r| (r.span.span_id.0, r.service)).collect();
            let service_of = |id: [u8; 8]| services.get(&id).copied();
            t.rows
                .iter()
                .filter_map(|r| {
                    let shared = r.span.parent_span_id?;
                    let server_half = r.span.span_id == edgescope_otlp::read::zipkin_server_half(shared);
                    (server_half && service_of(shared.0) != Some(r.service))
                        .then(|| (shared.0, (r.span.span_id.0, t.services[r.service].as_str())))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut marks = MarksBySpan::default();
    for rl in &data.resource_logs {
        let service = rl.resource.service_name();
        for sl in &rl.scope_logs {
            for r in &sl.log_records {
                if let Some(span) = r.span_id {
                    let span = match halves.get(&span.0) {
                        Some((own, server)) if *server == service => *own,
                        _ => span.0,
                    };
                    let message = match &r.body {
                        Some(edgescope_otlp::AnyValue::String(s)) => s.chars().take(200).collect(),
                        Some(other) => crate::model::value_text(other).chars().take(200).collect(),
                        None => String::new(),
                    };
                    marks.entry(span).or_default().push((r.time(), r.severity_number, message));
                }
            }
        }
    }
    marks
}

fn level_class(severity: i32) -> &'static str {
    match severity {
        1..=4 => "trace",
        5..=8 => "debug",
        9..=12 => "info",
        13..=16 => "warn",
        17..=20 => "error",
        21..=24 => "fatal",
        _ => "unknown",
    }
}

#[component]
pub(crate) fn TracePage() -> impl IntoView {
    // Handed to the trace view rather than provided as context: a context would outlive this
    // page, and a view opened from a file later would read its disposed signal.
    let marks = LogMarks(RwSignal::new(Default::default()));
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").unwrap_or_default();
    // Each answer carries the id it is for: while another trace loads, its page shows "Loading…",
    // never the trace before under the new address.
    let data = api::load(move || {
        let id = id();
        async move {
            let (trace, warning) = match api::fetch_trace(&id).await {
                Ok(fetched) => (Ok(Trace::from_data(fetched.data)), fetched.warning),
                Err(e) => (Err(e), None),
            };
            (id, trace, warning)
        }
    });
    // The trace's log records, correlated by trace id, under the waterfall. Asked once the trace
    // is fetched, so that the log source is asked around the trace's own time.
    let logs = api::load(move || {
        let id = id();
        let fetched = data.with(|d| d.as_ref().is_some_and(|(i, ..)| *i == id));
        // No log records are asked for an id that is none: the trace's panel said what is wrong.
        let is_id = crate::sources::is_trace_id(&id);
        async move {
            if !fetched || !is_id {
                return None;
            }
            let logs = api::trace_logs(&id).await;
            Some((id, logs))
        }
    });
    // A notice about the trace shown (Tempo's partial answer), there while it is: an answer for
    // a trace no longer asked for carries none in.
    Effect::new(move |_| {
        let warning = data.with(|d| match d {
            Some((i, _, warning)) if *i == id() => warning.clone(),
            _ => None,
        });
        api::NOTICE.with(|n| n.set(warning));
    });
    on_cleanup(|| api::NOTICE.with(|n| n.set(None)));
    view! {
        {move || match data.get() {
            Some((i, answer, _)) if i == id() => match answer {
                Err(e) => error_panel(e.to_string()),
                Ok(trace) if trace.rows.is_empty() => error_panel(format!("Trace {} has no spans.", id())),
                Ok(trace) => {
                    let focus = query.read_untracked().get("span");
                    view! { <TraceView trace focus link=true marks=Some(marks) /> }.into_any()
                }
            },
            _ => loading(),
        }}
        <section class="trace-logs" data-testid="trace-logs" hidden=move || !crate::sources::is_trace_id(&id())>
            <h2>"Logs of this trace " <a class="small" href=move || logs_href(&id()) data-testid="logs-link">"open in the log stream"</a></h2>
            {move || match logs.get().flatten() {
                Some((i, answer)) if i == id() => match answer {
                    Err(e) => error_panel(e.to_string()),
                    Ok(records) => {
                        marks.0.set(data.with_untracked(|d| match d {
                            Some((i, Ok(trace), _)) if *i == id() => log_marks_of(&records, Some(trace)),
                            _ => log_marks_of(&records, None),
                        }));
                        // Both sources answer newest first; the lines are shown oldest first.
                        let mut lines = trace_log_lines(&records, true);
                        let shown = crate::sources::TRACE_LOGS_SHOWN;
                        let more = lines.len() > shown;
                        if more {
                            lines.drain(..lines.len() - shown);
                        }
                        if lines.is_empty() {
                            view! { <p class="muted">"No log records carry this trace id."</p> }.into_any()
                        } else {
                            view! {
                                <p class="muted" data-testid="trace-logs-more" hidden=!more>
                                    "The newest 1,000 log records of this trace; the log stream has them all."
                                </p>
                                {log_table(lines)}
                            }
                            .into_any()
                        }
                    }
                },
                _ => loading(),
            }}
        </section>
    }
}

/// The log stream of a trace, with the page's sources (as the log page links to a trace).
fn logs_href(trace_id: &str) -> String {
    let trace_id = crate::sources::canonical_trace_id(trace_id);
    let sources = api::sources_query();
    if sources.is_empty() {
        format!("/logs?trace_id={trace_id}")
    } else {
        format!("/logs?trace_id={trace_id}&{sources}")
    }
}

/// Reads a trace file chosen or dropped by the user. Its bytes are copied straight into wasm
/// memory (no JS string in between, which costs as much as reading a large file), read by the
/// tolerant reader, and laid out without copying a span.
pub(crate) async fn open_file(file: web_sys::File) -> Result<(crate::file_url::Opened, Option<String>), String> {
    let name = file.name();
    let buffer = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| format!("{name} could not be read"))?;
    crate::file_url::read_file(&name, js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Fetches a trace file by URL and reads it as [`open_file`] does.
pub(crate) async fn open_url(url: String) -> Result<(crate::file_url::Opened, Option<String>), String> {
    let bytes = api::fetch_file(&url).await?;
    crate::file_url::read_file(crate::file_url::file_name(&url), bytes)
}

/// A trace opened from a file: the same view, without deep links in the address bar.
pub(crate) fn waterfall(trace: Trace) -> AnyView {
    view! { <TraceView trace focus=None link=false marks=None /> }.into_any()
}

/// Height of one waterfall row in pixels; rows are placed by index, so it must match the CSS.
const ROW_HEIGHT: f64 = 26.0;
/// Rows rendered above and below the visible ones, so that fast scrolling shows no gap.
const OVERSCAN: usize = 12;
/// Service colours, given to services in the order the page first shows them.
const PALETTE: [&str; 10] =
    ["#3b6fe0", "#e0833b", "#2e9e6b", "#9b59b6", "#c0392b", "#16a2b8", "#b8860b", "#d6336c", "#5c7cfa", "#6c8a1f"];

thread_local! {
    /// The services coloured, in the order they were first shown: read from `localStorage` on
    /// first use, so that a service keeps its colour after a reload and in another tab.
    static COLOURED: std::cell::RefCell<Option<Vec<String>>> = const { std::cell::RefCell::new(None) };
}

/// Where the order of coloured services is kept (one name per line).
const COLOURS_KEY: &str = "edgescope.service-colours";
/// Services kept in that order at most; later ones are coloured for the page only.
const COLOURS_KEPT: usize = 1_000;

fn stored_colours() -> Vec<String> {
    let stored = api::storage().and_then(|s| s.get_item(COLOURS_KEY).ok()?);
    stored.map(|text| text.split('\n').map(str::to_owned).collect()).unwrap_or_default()
}

/// The colour of a service: the same in every trace and page the viewer shows, across reloads
/// and tabs of its origin (as in Jaeger UI within a page), the first ten services it meets each in
/// a colour of their own.
pub(crate) fn service_colour(service: &str) -> &'static str {
    let index = COLOURED.with_borrow_mut(|seen| {
        let seen = seen.get_or_insert_with(stored_colours);
        if let Some(i) = seen.iter().position(|s| s == service) {
            return i;
        }
        // Another tab may have coloured it since: its order, when it extends this page's.
        let stored = stored_colours();
        if stored.len() > seen.len() && stored.starts_with(seen) {
            *seen = stored;
            if let Some(i) = seen.iter().position(|s| s == service) {
                return i;
            }
        }
        seen.push(service.to_owned());
        // One name per line: a name with a line break is coloured for the page only, and so is
        // every later one (their places would shift).
        if seen.len() <= COLOURS_KEPT && !seen.iter().any(|s| s.contains('\n')) {
            if let Some(storage) = api::storage() {
                let _ = storage.set_item(COLOURS_KEY, &seen.join("\n"));
            }
        }
        seen.len() - 1
    });
    PALETTE[index % PALETTE.len()]
}

/// What the trace view shares between its parts. Signals are `Copy`, so this is too.
#[derive(Clone, Copy)]
struct State {
    trace: StoredValue<Trace>,
    /// Per row: whether its subtree is folded away.
    collapsed: RwSignal<Vec<bool>>,
    /// Per row: whether it matches the search; `None` without a search.
    matches: RwSignal<Option<Vec<bool>>>,
    matches_only: RwSignal<bool>,
    /// The rows shown, in order (row indices, ascending).
    visible: Memo<Vec<usize>>,
    selected: RwSignal<Option<usize>>,
    /// The time range shown, as fractions of the trace duration.
    zoom: RwSignal<(f64, f64)>,
    scroll_top: RwSignal<f64>,
    viewport: RwSignal<f64>,
    container: NodeRef<leptos::html::Div>,
    /// Keeps the selected span in the address bar, through the router.
    address: Replace,
    /// The log records of the trace, marked on their spans' bars (none for a file).
    marks: Option<LogMarks>,
}

impl State {
    /// The position of a row among the visible ones.
    fn position(&self, row: usize) -> Option<usize> {
        self.visible.with_untracked(|v| v.binary_search(&row).ok())
    }

    /// The position of a row, or when a collapse hides it, of its nearest visible ancestor
    /// (with `false`).
    fn position_or_ancestor(&self, row: usize) -> Option<(usize, bool)> {
        if let Some(pos) = self.position(row) {
            return Some((pos, true));
        }
        let mut p = self.trace.with_value(|t| t.rows[row].parent);
        while let Some(row) = p {
            if let Some(pos) = self.position(row) {
                return Some((pos, false));
            }
            p = self.trace.with_value(|t| t.rows[row].parent);
        }
        None
    }

    /// Unfolds the ancestors of a row, so that it shows.
    fn reveal(&self, row: usize) {
        let mut p = self.trace.with_value(|t| t.rows[row].parent);
        while let Some(row) = p {
            self.set_collapsed(row, false);
            p = self.trace.with_value(|t| t.rows[row].parent);
        }
    }

    /// Scrolls the waterfall so that the row at `pos` is in view (centred when `centre`): in the
    /// part of the waterfall that is in the window, as it starts under the header and the toolbar
    /// and may reach below the window. When too little of it is in the window, the page is
    /// scrolled to the waterfall's top first; when the waterfall cannot scroll far enough (its
    /// last rows), the page scrolls the rest of the way.
    fn scroll_to(&self, pos: usize, centre: bool) {
        let Some(el) = self.container.get_untracked() else { return };
        let Some(window) = web_sys::window() else { return };
        let window_height = window.inner_height().ok().and_then(|h| h.as_f64()).unwrap_or(f64::MAX);
        let (top, height) = (pos as f64 * ROW_HEIGHT, el.client_height() as f64);
        // The part in the window, from the top of the waterfall's rows (inside its border).
        let rows_top = || el.get_bounding_client_rect().top() + el.client_top() as f64;
        let shown = |rows_top: f64| ((-rows_top).max(0.0), height.min(window_height - rows_top));
        let (mut from, mut to) = shown(rows_top());
        if to - from < 3.0 * ROW_HEIGHT {
            window.scroll_by_with_x_and_y(0.0, rows_top().floor());
            (from, to) = shown(rows_top());
        }
        let current = el.scroll_top() as f64;
        let target = if centre {
            top - (from + to) / 2.0
        } else if top < current + from {
            (top - from).floor()
        } else if top + ROW_HEIGHT > current + to {
            (top + ROW_HEIGHT - to).ceil()
        } else {
            return;
        };
        el.set_scroll_top(target.max(0.0) as i32);
        self.scroll_top.set(el.scroll_top() as f64);
        // Where the row is in the window now.
        let row_top = rows_top() + top - el.scroll_top() as f64;
        let below = row_top + ROW_HEIGHT - window_height;
        if below > 0.0 || row_top < 0.0 {
            window.scroll_by_with_x_and_y(0.0, if below > 0.0 { below.ceil() } else { row_top.floor() });
        }
    }

    fn select(&self, row: usize, link: bool) {
        self.selected.set(Some(row));
        if let Some(pos) = self.position(row) {
            self.scroll_to(pos, false);
        }
        if link {
            let span = self.trace.with_value(|t| t.rows[row].span.span_id.to_hex());
            replace_query(self.address, "span", Some(&span));
        }
    }

    /// Closes the details: no span is selected, and with `link` none is named in the address, so
    /// that a reload does not select it again.
    fn deselect(&self, link: bool) {
        self.selected.set(None);
        if link {
            replace_query(self.address, "span", None);
        }
    }

    fn set_collapsed(&self, row: usize, value: bool) {
        let has_children = self.trace.with_value(|t| t.rows[row].has_children(row));
        if has_children && self.collapsed.with_untracked(|c| c[row]) != value {
            self.collapsed.update(|c| c[row] = value);
        }
    }

    /// Collapses (`fold`) the deepest expanded level, or expands the shallowest collapsed one.
    fn one_level(&self, fold: bool) {
        let level = self.trace.with_value(|t| {
            let visible = self.visible.get_untracked();
            let depths = visible.iter().filter(|&&k| t.rows[k].has_children(k)).filter(|&&k| {
                let collapsed = self.collapsed.with_untracked(|c| c[k]);
                collapsed != fold
            });
            let depths = depths.map(|&k| t.rows[k].depth);
            if fold {
                depths.max()
            } else {
                depths.min()
            }
        });
        let Some(level) = level else { return };
        self.trace.with_value(|t| {
            let visible = self.visible.get_untracked();
            self.collapsed.update(|c| {
                for &k in &visible {
                    if t.rows[k].depth == level && t.rows[k].has_children(k) {
                        c[k] = fold;
                    }
                }
            })
        });
    }
}

/// Sets (or with `None` removes) one query parameter in the address bar without a new history entry, through the router
/// so that the page's query follows it; the others (the sources, `traces=` and `logs=`) stay,
/// so that the address still shows the same data when shared.
fn replace_query(address: Replace, key: &str, value: Option<&str>) {
    if let Some(to) = address_with(key, value) {
        address.to(&to);
    }
}

/// The page's address with one query parameter set (or with `None` removed), the others kept;
/// the path alone when none is left.
pub(crate) fn address_with(key: &str, value: Option<&str>) -> Option<String> {
    let location = web_sys::window()?.location();
    let path = location.pathname().ok()?;
    let params = web_sys::UrlSearchParams::new_with_str(&location.search().unwrap_or_default()).ok()?;
    match value {
        Some(value) => params.set(key, value),
        None => params.delete(key),
    }
    let query = String::from(params.to_string());
    // Without parameters, no dangling `?`.
    Some(if query.is_empty() { path } else { format!("{path}?{query}") })
}

/// Makes the trace's search text a few thousand rows at a time, between frames, so that no
/// step is a long task.
fn prepare_search_in_steps(trace: StoredValue<Trace>) {
    set_timeout(
        move || {
            // About 8 ms a step on this machine: done within ~200 ms of the first paint of
            // 100,000 spans, without a long task.
            if trace.try_with_value(|t| t.prepare_search(8_000)) == Some(false) {
                prepare_search_in_steps(trace);
            }
        },
        std::time::Duration::ZERO,
    );
}

/// The whole trace view. `focus` is a span id (hex) to select and scroll to; with `link`, the
/// selected span is kept in the address bar as `?span=`.
#[component]
fn TraceView(trace: Trace, focus: Option<String>, link: bool, marks: Option<LogMarks>) -> impl IntoView {
    let n = trace.rows.len();
    let header = header(&trace);
    let trace = StoredValue::new(trace);
    let collapsed = RwSignal::new(vec![false; n]);
    let matches = RwSignal::new(None::<Vec<bool>>);
    let matches_only = RwSignal::new(false);
    // The search's matches count only with "matches only": typing does not lay rows out again.
    let visible = Memo::new(move |_| {
        trace.with_value(|t| {
            collapsed.with(|c| {
                if matches_only.get() {
                    matches.with(|m| t.visible_rows(c, m.as_deref()))
                } else {
                    t.visible_rows(c, None)
                }
            })
        })
    });
    let state = State {
        trace,
        collapsed,
        matches,
        matches_only,
        visible,
        selected: RwSignal::new(None),
        zoom: RwSignal::new((0.0, 1.0)),
        scroll_top: RwSignal::new(0.0),
        viewport: RwSignal::new(800.0),
        container: NodeRef::new(),
        address: use_replace(),
        marks,
    };
    let search_input = NodeRef::<leptos::html::Input>::new();

    // A deep link selects its span once the waterfall is in the document.
    let focus_row = focus.as_deref().and_then(|id| trace.with_value(|t| t.row_of_span(id)));
    // A link to a span the trace does not have says so, rather than selecting nothing silently.
    let missing = focus.filter(|_| focus_row.is_none()).map(|id| {
        view! { <p class="notice" data-testid="span-not-found">{format!("This trace has no span {id} (the link's span=).")}</p> }
    });
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        let Some(el) = state.container.get() else { return false };
        // Once the waterfall shows, the search text is made in the background, so the first
        // keystroke does not wait for it.
        prepare_search_in_steps(trace);
        let h = el.client_height() as f64;
        if h > 0.0 {
            state.viewport.set(h);
        }
        if let Some(row) = focus_row {
            state.selected.set(Some(row));
            if let Some(pos) = state.position(row) {
                state.scroll_to(pos, true);
            }
        }
        true
    });

    // A link to another span of this trace (or back and forward between two) changes only the
    // query: that span is selected, unfolded and scrolled to, as Jaeger UI focuses a reference
    // within the trace.
    if link {
        let query = use_query_map();
        Effect::new(move |_| {
            let Some(id) = query.with(|q| q.get("span")) else { return };
            let Some(row) = trace.with_value(|t| t.row_of_span(&id)) else { return };
            if state.selected.get_untracked() != Some(row) {
                state.reveal(row);
                state.selected.set(Some(row));
                if let Some(pos) = state.position(row) {
                    state.scroll_to(pos, true);
                }
            }
        });
    }

    let keys = window_event_listener(leptos::ev::keydown, move |ev| on_key(state, search_input, link, ev));
    // A taller window shows more rows: they are drawn at once, not at the next scroll.
    let resize = window_event_listener(leptos::ev::resize, move |_| {
        if let Some(h) = state.container.get_untracked().map(|el| el.client_height() as f64).filter(|&h| h > 0.0) {
            state.viewport.set(h);
        }
    });
    on_cleanup(move || {
        keys.remove();
        resize.remove();
    });

    view! {
        {header}
        {missing}
        <minimap::Minimap state />
        {toolbar(state, search_input, link)}
        <Waterfall state link />
        {move || state.selected.get().map(|k| details::span_details(state.trace, k))}
    }
}

fn header(trace: &Trace) -> AnyView {
    let services = trace
        .services
        .iter()
        .map(|s| {
            view! { <span class="chip service-chip" style=format!("border-color:{}", service_colour(s))>{s.clone()}</span> }
        })
        .collect_view();
    view! {
        <section class="trace-header" data-testid="trace-header">
            <h1 class="mono">"Trace "<span data-testid="trace-id">{trace.trace_id.clone()}</span></h1>
            <dl>
                <dt>"Start"</dt><dd data-testid="trace-start">{format_time(trace.start)}</dd>
                <dt>"Duration"</dt><dd data-testid="trace-duration">{format_duration(trace.duration)}</dd>
                <dt>"Spans"</dt><dd data-testid="span-count">{trace.rows.len()}</dd>
                <dt>"Depth"</dt><dd data-testid="trace-depth">{trace.depth}</dd>
                <dt>"Errors"</dt><dd data-testid="trace-errors" class:has-errors=trace.errors != 0>{trace.errors}</dd>
                <dt>"Services"</dt><dd data-testid="trace-services">{services}</dd>
            </dl>
            {(trace.missing_parents > 0).then(|| {
                let n = trace.missing_parents;
                let text = if n == 1 {
                    "1 span names a parent span that is not in this trace, so it is shown at the top level".to_owned()
                } else {
                    format!("{n} spans name parent spans that are not in this trace, so they are shown at the top level")
                };
                view! {
                    <p class="notice" role="status" data-testid="missing-parents">
                        {format!("{text}: spans still on their way (a browser sends its spans in batches) appear when the page is reloaded.")}
                    </p>
                }
            })}
        </section>
    }
    .into_any()
}

fn toolbar(state: State, search_input: NodeRef<leptos::html::Input>, link: bool) -> impl IntoView {
    // The last query and its matches: a query that extends it only searches those.
    let last = StoredValue::new(String::new());
    let on_search = move |ev: leptos::ev::Event| {
        let q = event_target_value(&ev);
        if q.trim().is_empty() {
            last.set_value(String::new());
            state.matches.set(None);
            return;
        }
        let q_lower = q.trim().to_ascii_lowercase();
        // Only a plain word's matches hold every match of a word that contains it: those of
        // several words, or of a `-key` that leaves attributes out, do not.
        let plain = |q: &str| !q.is_empty() && !q.starts_with('-') && !q.contains(|c: char| c.is_ascii_whitespace());
        let narrows = last.with_value(|l| plain(l) && plain(&q_lower) && q_lower.contains(l.as_str()));
        let found = state.trace.with_value(|t| {
            state.matches.with_untracked(|m| t.search(&q_lower, if narrows { m.as_deref() } else { None }))
        });
        last.set_value(q_lower);
        state.matches.set(Some(found));
    };
    let count = move || state.matches.with(|m| m.as_ref().map(|m| m.iter().filter(|&&b| b).count()));
    let next_match = move || {
        let from = state.selected.get_untracked().map_or(0, |k| k + 1);
        let hit = state.matches.with_untracked(|m| {
            let m = m.as_ref()?;
            (from..m.len()).chain(0..from).find(|&k| m[k])
        });
        if let Some(k) = hit {
            state.reveal(k);
            state.select(k, link);
        }
    };
    view! {
        <div class="trace-toolbar" data-testid="trace-toolbar">
            <input type="search" placeholder="Search spans (/): name, service, attribute" data-testid="trace-search"
                node_ref=search_input on:input=on_search
                on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" { ev.prevent_default(); next_match() } />
            <span class="muted" data-testid="match-count">{move || count().map(|c| format!("{c} matching"))}</span>
            <label><input type="checkbox" data-testid="matches-only"
                on:change=move |ev| state.matches_only.set(event_target_checked(&ev)) />" matches only"</label>
            <span class="spacer"></span>
            <button class="small" data-testid="expand-all" on:click=move |_| state.collapsed.update(|c| c.fill(false))>"Expand all"</button>
            <button class="small" data-testid="collapse-all" on:click=move |_| {
                state.trace.with_value(|t| state.collapsed.update(|c| {
                    for (k, r) in t.rows.iter().enumerate() {
                        c[k] = r.has_children(k);
                    }
                }))
            }>"Collapse all"</button>
            <button class="small" data-testid="expand-level" on:click=move |_| state.one_level(false)>"+1 level"</button>
            <button class="small" data-testid="collapse-level" on:click=move |_| state.one_level(true)>"−1 level"</button>
            <button class="small" data-testid="reset-zoom" disabled=move || state.zoom.get() == (0.0, 1.0)
                on:click=move |_| state.zoom.set((0.0, 1.0))>"Reset zoom"</button>
            <button class="small" data-testid="export" on:click=move |_| export(state.trace)>"Export OTLP/JSON"</button>
        </div>
    }
}

/// Downloads the trace as an OTLP/JSON file.
fn export(trace: StoredValue<Trace>) {
    let (name, body) = trace.with_value(|t| (format!("trace-{}.json", t.trace_id), t.to_otlp_json()));
    let _ = download(&name, &body);
}

fn download(name: &str, body: &str) -> Result<(), wasm_bindgen::JsValue> {
    use wasm_bindgen::JsValue;
    let blob = web_sys::Blob::new_with_str_sequence(&js_sys::Array::of1(&JsValue::from_str(body)))?;
    let url_class = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("URL"))?;
    let create: js_sys::Function =
        js_sys::Reflect::get(&url_class, &JsValue::from_str("createObjectURL"))?.dyn_into()?;
    let revoke: js_sys::Function =
        js_sys::Reflect::get(&url_class, &JsValue::from_str("revokeObjectURL"))?.dyn_into()?;
    let url = create.call1(&url_class, &blob)?;
    let document = web_sys::window().and_then(|w| w.document()).ok_or_else(|| JsValue::from_str("no document"))?;
    let a: web_sys::HtmlElement = document.create_element("a")?.dyn_into()?;
    a.set_attribute("href", &url.as_string().unwrap_or_default())?;
    a.set_attribute("download", name)?;
    a.click();
    // The download has its own copy once started; a timer lets it start first.
    let cb = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = revoke.call1(&url_class, &url);
    });
    if let Some(w) = web_sys::window() {
        w.set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), 10_000)?;
    }
    Ok(())
}

/// Keys: ↑/↓ between spans, ← collapses (or goes to the parent), → expands (or goes to the
/// first child), `/` to search, Escape leaves the search box.
fn on_key(state: State, search_input: NodeRef<leptos::html::Input>, link: bool, ev: leptos::ev::KeyboardEvent) {
    let in_input = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
    let key = ev.key();
    if in_input {
        if key == "Escape" {
            if let Some(input) = search_input.get_untracked() {
                let _ = input.blur();
            }
        }
        return;
    }
    if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
        return;
    }
    let selected = state.selected.get_untracked();
    let visible_len = state.visible.with_untracked(Vec::len);
    match key.as_str() {
        "/" => {
            if let Some(input) = search_input.get_untracked() {
                let _ = input.focus();
            }
        }
        "ArrowDown" | "ArrowUp" | "j" | "k" if visible_len > 0 => {
            let down = key == "ArrowDown" || key == "j";
            // From a span a collapse has hidden, its visible ancestor stands for it: down goes
            // to the row after that one, up to that one.
            let pos = match selected.and_then(|k| state.position_or_ancestor(k)) {
                None if down => 0,
                None => visible_len - 1,
                Some((p, _)) if down => (p + 1).min(visible_len - 1),
                Some((p, true)) => p.saturating_sub(1),
                Some((p, false)) => p,
            };
            let row = state.visible.with_untracked(|v| v[pos]);
            state.select(row, link);
        }
        "ArrowLeft" => {
            let Some(k) = selected else { return };
            let (has_children, parent) = state.trace.with_value(|t| (t.rows[k].has_children(k), t.rows[k].parent));
            if has_children && !state.collapsed.with_untracked(|c| c[k]) {
                state.set_collapsed(k, true);
            } else if let Some(p) = parent.filter(|&p| state.position(p).is_some()) {
                state.select(p, link);
            }
        }
        "ArrowRight" => {
            let Some(k) = selected else { return };
            let has_children = state.trace.with_value(|t| t.rows[k].has_children(k));
            if state.collapsed.with_untracked(|c| c[k]) {
                state.set_collapsed(k, false);
            } else if has_children && state.position(k + 1).is_some() {
                state.select(k + 1, link);
            }
        }
        "Escape" => state.deselect(link),
        _ => return,
    }
    ev.prevent_default();
}

/// The waterfall: a time ruler, then only the rows in view (and a few around them), placed
/// absolutely inside a spacer as tall as every visible row, so that 100,000 spans scroll like
/// ten.
#[component]
fn Waterfall(state: State, link: bool) -> impl IntoView {
    let window = move || {
        let total = state.visible.with(Vec::len);
        let first = ((state.scroll_top.get() / ROW_HEIGHT) as usize).saturating_sub(OVERSCAN);
        let count = (state.viewport.get() / ROW_HEIGHT).ceil() as usize + 2 * OVERSCAN;
        let range = first.min(total)..(first + count).min(total);
        state.visible.with(|v| range.map(|pos| (pos, v[pos])).collect::<Vec<_>>())
    };
    let on_scroll = move |ev: leptos::ev::Event| {
        let el: web_sys::Element = event_target(&ev);
        state.scroll_top.set(el.scroll_top() as f64);
        let h = el.client_height() as f64;
        if h > 0.0 && h != state.viewport.get_untracked() {
            state.viewport.set(h);
        }
    };
    let ruler = move || {
        let (z0, z1) = state.zoom.get();
        let duration = state.trace.with_value(|t| t.duration) as f64;
        (0..5)
            .map(|i| {
                let f = i as f64 / 4.0;
                let label = format_duration(((z0 + f * (z1 - z0)) * duration) as u64);
                let style = format!("left:{}%", shortest(f * 100.0));
                view! { <span class="tick" style=style>{label}</span> }
            })
            .collect_view()
    };
    view! {
        <div class="ruler" data-testid="ruler"><div></div><div class="ruler-track">{ruler}</div><div></div></div>
        <div class="waterfall" data-testid="waterfall" tabindex="0" node_ref=state.container on:scroll=on_scroll>
            <div class="waterfall-spacer" style=move || format!("height:{}px", shortest(state.visible.with(Vec::len) as f64 * ROW_HEIGHT))>
                <For each=window key=|&(pos, k)| (pos, k) children=move |(pos, k)| row_view(state, pos, k, link) />
            </div>
        </div>
    }
}

/// A bar's `left` and `width` in percent of the track, for the zoomed range.
fn bar_box(offset: f64, width: f64, (z0, z1): (f64, f64)) -> (f64, f64) {
    let scale = 100.0 / (z1 - z0).max(1e-9);
    ((offset - z0) * scale, width * scale)
}

fn row_view(state: State, pos: usize, k: usize, link: bool) -> impl IntoView {
    state.trace.with_value(|t| {
        let row = &t.rows[k];
        let colour = service_colour(&t.services[row.service]);
        let has_children = row.has_children(k);
        let span_duration = row.span.duration_nanos();
        let ticks = row
            .span
            .events
            .iter()
            .take(64)
            .map(|e| {
                let (start, duration) = (row.span.start_time_unix_nano, row.span.duration_nanos());
                let (at, outside) = crate::model::mark_position(e.time_unix_nano, start, duration);
                let style = format!("left:{}%", fixed(at * 100.0, 2));
                // Outside the span: held at the bar's end and marked, its offset in the title.
                let title = if outside {
                    format!("{} ({}, outside the span)", e.name, crate::model::format_offset(e.time_unix_nano, start))
                } else {
                    e.name.clone()
                };
                view! { <span class="event-tick" class:outside=outside style=style title=title data-testid="event-tick"></span> }
            })
            .collect_view();
        let span_id = row.span.span_id.0;
        let span_start = row.span.start_time_unix_nano;
        let log_marks = state.marks.map(|LogMarks(m)| {
            move || {
                m.with(|m| {
                    m.get(&span_id).map(|list| {
                        list.iter()
                            .take(64)
                            .map(|(time, severity, message)| {
                                let (at, _) = crate::model::mark_position(*time, span_start, span_duration);
                                let style = format!("left:{}%", fixed(at * 100.0, 2));
                                let class = format!("log-mark level-{}", level_class(*severity));
                                view! { <span class=class style=style title=message.clone() data-testid="log-mark"></span> }
                            })
                            .collect_view()
                    })
                })
            }
        });
        let (offset, width) = (row.offset, row.width);
        let bar = move || {
            let (left, w) = bar_box(offset, width, state.zoom.get());
            format!("left:{}%;width:max({}%,1px);background:{colour}", fixed(left, 4), fixed(w, 4))
        };
        let toggle = move |ev: leptos::ev::MouseEvent| {
            ev.stop_propagation();
            let now = state.collapsed.with_untracked(|c| c[k]);
            state.set_collapsed(k, !now);
        };
        let collapsed = move || state.collapsed.with(|c| c[k]);
        view! {
            <div class="span-row" class:error=row.error class:critical=row.critical
                class:selected=move || state.selected.get() == Some(k)
                class:match=move || state.matches.with(|m| m.as_ref().is_some_and(|m| m[k]))
                style=format!("top:{}px", shortest(pos as f64 * ROW_HEIGHT))
                data-testid="span-row" data-depth=row.depth data-index=pos data-row=k
                data-span-id=row.span.span_id.to_hex()
                on:click=move |_| state.select(k, link)>
                <div class="span-label" style=format!("padding-left:{}px;border-left-color:{colour}", crate::model::label_indent(row.depth)) title=row.span.name.clone()>
                    {(row.depth > crate::model::FULL_INDENT_LEVELS).then(|| view! {
                        <span class="depth-mark" data-testid="depth-mark" title=format!("Depth {}", row.depth)>{row.depth}</span>
                    })}
                    {has_children.then(|| view! {
                        <button class="toggle" data-testid="toggle" aria-expanded=move || (!collapsed()).to_string()
                            on:click=toggle>{move || if collapsed() { "▸" } else { "▾" }}</button>
                    })}
                    <span class="service" style=format!("color:{colour}")>{t.service(row).to_owned()}</span>" "
                    <span class="span-name" data-testid="span-name">{row.span.name.clone()}</span>
                    {row.error.then(|| view! { <span class="error-mark" data-testid="error-mark" title="Error status">"!"</span> })}
                    {row.skew.then(|| view! {
                        <span class="skew-mark" data-testid="skew-mark" title="Clock skew: outside its parent's time range">"⇹"</span>
                    })}
                </div>
                <div class="span-track">
                    <div class="span-bar" style=bar>{ticks}{log_marks}</div>
                </div>
                <span class="span-duration">{format_duration(row.span.duration_nanos())}</span>
            </div>
        }
    })
}
