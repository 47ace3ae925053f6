//! The logs page (`/logs`): filters, the log-volume histogram, the virtualised list with
//! expandable rows, context, the live tail's controls, and OTLP log files.
//!
//! Page URL parameters: `trace_id` (only that trace's records, asked from the source by trace),
//! `service`, `level` (minimum), `q` (text), `regex=1`, `attr` (`key=value`), `lookback`
//! (`15m`, `1h`, `6h`, `24h`, `7d`, `all`, or `custom` with `start` and `end` in Unix
//! microseconds, as the search page writes them: the range dragged on the histogram), `live=1`
//! (start with the live tail) and `buffer` (records kept, 100,000 by default); `file` (the URL of
//! an OTLP/JSON log file shown instead of the source's records).
//!
//! The source is asked with the filters LogQL carries ([`loki::Ask`]); every filter also runs in
//! the page, over the records held, at once while the source is asked again.

use crate::num::{fixed, shortest};
use std::cell::RefCell;

use crate::router::use_query_map;
use leptos::prelude::*;

use super::loki;
use super::store::{
    buffer_capacity, parse_trace_id, trace_hex, trace_short, Filter, Level, LogStore, DEFAULT_CAPACITY,
};
use super::tail::{self, Live};
use crate::api;
use crate::model::format_time;

/// Height of one row in pixels; rows are placed by index, so it must match the CSS.
const ROW_H: f64 = 24.0;
/// Height of an expanded row's details (they scroll inside).
const DETAILS_H: f64 = 300.0;
/// Rows rendered beyond the visible ones, so that fast scrolling shows no gap.
const OVERSCAN: usize = 6;
/// Characters of a message shown in its row; the rest behind the row's expand control.
const ROW_CHARS: usize = 240;
/// Characters of a message shown in the details at first, and added by each "show more".
const DETAILS_CHARS: usize = 4_000;
const MORE_CHARS: usize = 100_000;
/// Columns of the log-volume histogram.
const BUCKETS: usize = 80;
/// Records shown on each side of a record by "show context".
const CONTEXT: usize = 20;

thread_local! {
    /// The page's records. One logs page exists at a time; it starts afresh on each visit.
    pub(crate) static STORE: RefCell<LogStore> = RefCell::new(LogStore::new(DEFAULT_CAPACITY));
}

/// The signals the tail updates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ui {
    /// Bumped whenever the store or its matches change.
    pub(crate) version: RwSignal<u64>,
    /// The same for the histogram, at most four times a second while lines stream in.
    pub(crate) volume: RwSignal<u64>,
    pub(crate) live: RwSignal<Live>,
    /// Records waiting while the tail is paused.
    pub(crate) waiting: RwSignal<usize>,
    /// Lines dropped (buffer full, or by the source).
    pub(crate) dropped: RwSignal<u64>,
    pub(crate) error: RwSignal<Option<String>>,
    /// How many live-tail messages were skipped (malformed) since the tail started, and the
    /// last one's problem.
    pub(crate) skipped: RwSignal<Option<String>>,
    pub(crate) scroll_top: RwSignal<f64>,
    pub(crate) list: NodeRef<leptos::html::Div>,
}

thread_local! {
    /// Bumped by every load, so that the answer of one superseded by another is dropped.
    static LOADS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// Bumped by every change of the query, so that a wait for typing to settle that another
    /// change superseded asks nothing.
    static CHANGES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Bumps `counter` and returns its new value.
fn bump(counter: &'static std::thread::LocalKey<std::cell::Cell<u64>>) -> u64 {
    counter.with(|c| {
        c.set(c.get() + 1);
        c.get()
    })
}

thread_local! {
    /// When the histogram was last redrawn, and whether a redraw is due.
    static VOLUME: std::cell::Cell<(f64, bool)> = const { std::cell::Cell::new((f64::NEG_INFINITY, false)) };
}

/// Milliseconds between two histogram redraws while lines stream in.
const VOLUME_EVERY: f64 = 250.0;
/// Milliseconds at least between drawing the list and the histogram while lines stream in.
const VOLUME_AFTER: f64 = 20.0;

impl Ui {
    /// The records or the matches changed: the list is drawn again at once, the histogram too
    /// unless lines are `streaming` in, when it waits for the next quarter second, and is drawn
    /// in a task of its own (never in the frame that draws the list).
    pub(crate) fn changed(&self, streaming: bool) {
        self.version.try_update(|v| *v += 1);
        let (last, due) = VOLUME.with(std::cell::Cell::get);
        if !streaming {
            self.draw_volume();
        } else if !due {
            VOLUME.with(|v| v.set((last, true)));
            let ui = *self;
            set_timeout(
                move || {
                    if VOLUME.with(std::cell::Cell::get).1 {
                        ui.draw_volume();
                    }
                },
                std::time::Duration::from_millis((VOLUME_EVERY - (now_ms() - last)).max(VOLUME_AFTER) as u64),
            );
        }
    }

    fn draw_volume(&self) {
        VOLUME.with(|v| v.set((now_ms(), false)));
        self.volume.try_update(|v| *v += 1);
    }

    /// Keeps the rows in view where they are when `added` rows arrive above them (the newest
    /// row is at the top); at the very top the list follows the newest rows.
    ///
    /// The position comes from the last scroll event, not from the element: reading
    /// `scrollTop` after the DOM changed would force a layout in the middle of the frame.
    pub(crate) fn keep_scroll(&self, added: usize) {
        let top = self.scroll_top.get_untracked();
        if top > 0.0 && added > 0 {
            let Some(el) = self.list.get_untracked() else { return };
            let next = top + added as f64 * ROW_H;
            el.set_scroll_top(next as i32);
            self.scroll_top.try_set(next);
        }
    }
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or_else(js_sys::Date::now, |p| p.now())
}

fn now_ns() -> u64 {
    js_sys::Date::now() as u64 * 1_000_000
}

/// The time range to ask for: a lookback ending now, the `custom` range (its end included), or
/// around a trace (`trace`): an hour on either side of the trace the trace page fetched last,
/// else everything the collector holds or Loki's last 7 days (Loki refuses ranges longer than its
/// `max_query_length`, 30 days by default).
fn window(
    lookback: &str,
    custom: Option<(u64, u64)>,
    trace_id: Option<u128>,
    source: &crate::sources::Source,
) -> (u64, u64) {
    const HOUR: u64 = 3_600 * 1_000_000_000;
    let now = now_ns();
    match (lookback, trace_id) {
        ("custom", _) if custom.is_some() => custom.map_or((1, now), |(start, end)| (start, end.saturating_add(1))),
        ("trace", Some(t)) => match api::last_trace_window(&trace_hex(t)) {
            Some((start, end)) => (start.saturating_sub(HOUR), end.saturating_add(HOUR)),
            None if source.kind == crate::sources::Kind::Loki => (crate::sources::lookback_start("7d", now), now),
            None => (1, now),
        },
        _ => (crate::sources::lookback_start(lookback, now), now),
    }
}

/// The time range to ask for, as [`window`], and for a trace that is not the one fetched last,
/// around the trace's own time when the trace source knows it (a `/logs?trace_id=` link opened
/// in a new tab finds what the trace page finds).
async fn window_of(
    lookback: &str,
    custom: Option<(u64, u64)>,
    trace_id: Option<u128>,
    source: &crate::sources::Source,
) -> (u64, u64) {
    if let ("trace", Some(t), crate::sources::Kind::Loki) = (lookback, trace_id, source.kind) {
        if let Some((start, end)) = api::trace_window(&trace_hex(t)).await {
            const HOUR: u64 = 3_600 * 1_000_000_000;
            return (start.saturating_sub(HOUR), end.saturating_add(HOUR));
        }
    }
    window(lookback, custom, trace_id, source)
}

/// A time range as the page URL holds it: Unix microseconds, the start rounded down and the end
/// up, so that the range read back holds every record of the one chosen.
fn micros(range: (u64, u64)) -> (u64, u64) {
    (range.0 / 1_000, range.1.div_ceil(1_000))
}

/// Sets (or, when empty, removes) query parameters of the page URL without a navigation.
fn replace_url_params(pairs: &[(&str, String)]) {
    let Some(window) = web_sys::window() else { return };
    let location = window.location();
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&location.search().unwrap_or_default()) else { return };
    for (k, v) in pairs {
        if v.is_empty() {
            params.delete(k);
        } else {
            params.set(k, v);
        }
    }
    let query = String::from(params.to_string());
    let url = format!("{}{}{query}", location.pathname().unwrap_or_default(), if query.is_empty() { "" } else { "?" });
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

/// The first `chars` characters of `text` (whole characters).
fn prefix(text: &str, chars: usize) -> &str {
    match text.char_indices().nth(chars) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

#[component]
pub(crate) fn LogsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.with_untracked(|q| q.get(k)).unwrap_or_default();
    let (capacity, capacity_notice) = buffer_capacity(&param("buffer"));
    STORE.with(|s| *s.borrow_mut() = LogStore::new(capacity));
    tail::reset_counts();
    let ui = Ui {
        version: RwSignal::new(0),
        volume: RwSignal::new(0),
        live: RwSignal::new(Live::Off),
        waiting: RwSignal::new(0),
        dropped: RwSignal::new(0),
        error: RwSignal::new(None),
        skipped: RwSignal::new(None),
        scroll_top: RwSignal::new(0.0),
        list: NodeRef::new(),
    };
    on_cleanup(|| {
        // No answer, typing pause or frame still to come touches the page gone.
        bump(&LOADS);
        bump(&CHANGES);
        tail::detach();
        // The records go with the page.
        STORE.with(|s| *s.borrow_mut() = LogStore::new(DEFAULT_CAPACITY));
    });

    let service = RwSignal::new(param("service"));
    let min_level = RwSignal::new(Level::from_text(&param("level")));
    let text = RwSignal::new(param("q"));
    let regex = RwSignal::new(param("regex") == "1");
    let attribute = RwSignal::new(param("attr"));
    let trace_id = RwSignal::new(parse_trace_id(&param("trace_id")));
    // A range dragged on the histogram is in the URL as the search page writes a custom range
    // (`lookback=custom&start=…&end=…`, a start alone meaning the same); the source is asked for it.
    let custom = param("lookback") == "custom" || (param("lookback").is_empty() && !param("start").is_empty());
    let (custom, range_error) = match custom.then(|| crate::sources::custom_range(&param("start"), &param("end"), now_ns())) {
        Some(Ok(range)) => (Some(range), None),
        Some(Err(e)) => (None, Some(format!("The address's time range (start and end in Unix microseconds) does not read: {e}. Showing the default range instead."))),
        None => (None, None),
    };
    let range = RwSignal::new(custom);
    // A trace's records are looked for around the trace (`trace`), else in the last hour; the
    // lookback a reset of the dragged range goes back to.
    let base_lookback = StoredValue::new(
        Some(param("lookback"))
            .filter(|l| !l.is_empty() && l != "custom")
            .unwrap_or_else(|| if trace_id.get_untracked().is_some() { "trace" } else { "1h" }.into()),
    );
    let lookback = RwSignal::new(if custom.is_some() { "custom".to_owned() } else { base_lookback.get_value() });
    let filter_ms = RwSignal::new(None::<f64>);
    let filter_error = RwSignal::new(None::<String>);
    // Records named by their seq, which outlives the drops of older records.
    let expanded = RwSignal::new(None::<u64>);
    let context = RwSignal::new(None::<u64>);
    let paused = RwSignal::new(false);
    let loading = RwSignal::new(false);
    let more = RwSignal::new(false);
    // The range read by the last load, when its windows were cut to Loki's longest range.
    let clamped = RwSignal::new(None::<(u64, u64)>);
    // The last window asked for, where "Load older" goes on from.
    let asked = RwSignal::new(None::<loki::Asked>);
    // When every window of the last load came back empty: how far back it looked.
    let nothing_older = RwSignal::new(None::<String>);
    // What of the file shown could not be read and was left out (shown while the file is).
    let file_skipped = RwSignal::new(None::<String>);
    // The load (`LOADS`) of a chosen file being read: while it is the latest, the typing pause
    // asks nothing over it.
    let file_reading = StoredValue::new(0u64);
    let reading_a_file = move || file_reading.try_get_value() == Some(LOADS.with(|c| c.get()));
    // Whether the records held come from the log source (not from a file).
    let from_source = RwSignal::new(true);
    let label_names = RwSignal::new(Vec::<String>::new());
    // The URL of the log file shown (empty while the records come from the source), and the
    // one being typed.
    let file = RwSignal::new(param("file"));
    // Whether a file is shown, or being read to be: the source is then not asked for a changed query.
    let showing_a_file = move || {
        file.try_with_untracked(|f| !f.is_empty()) != Some(false)
            || from_source.try_get_untracked() != Some(true)
            || reading_a_file()
    };
    let typed_url = RwSignal::new(param("file"));
    let service_values = RwSignal::new(Vec::<String>::new());

    // The filters go into the page URL (replacing the entry), so that a link shows the same view.
    Effect::new(move |_| {
        let pairs = [
            ("service", service.get()),
            (
                "level",
                if min_level.get() == Level::Unknown { String::new() } else { min_level.get().name().to_owned() },
            ),
            ("q", text.get()),
            ("regex", if regex.get() { "1".to_owned() } else { String::new() }),
            ("attr", attribute.get()),
            (
                "lookback",
                match (range.get(), lookback.get()) {
                    (Some(_), _) => "custom".to_owned(),
                    (None, l) if matches!(l.as_str(), "1h" | "trace" | "custom") => String::new(),
                    (None, l) => l,
                },
            ),
            ("start", range.get().map(|r| micros(r).0.to_string()).unwrap_or_default()),
            ("end", range.get().map(|r| micros(r).1.to_string()).unwrap_or_default()),
            ("trace_id", trace_id.get().map(trace_hex).unwrap_or_default()),
            ("file", file.get()),
        ];
        replace_url_params(&pairs);
    });

    // What the source is asked for: the filters LogQL carries (an unreadable regular expression,
    // named under the filters, is left out of it).
    let readable = move || !regex.get() || text.with(|t| regex_lite::Regex::new(t).is_ok());
    let ask = move || loki::Ask {
        service: service.get(),
        min_level: min_level.get(),
        text: if readable() { text.get() } else { String::new() },
        regex: regex.get(),
        trace_id: trace_id.get(),
    };
    let kind = api::sources().logs.kind;
    let logql = move || untrack(|| loki::logql(kind, &ask()));
    // The query the records held were asked with.
    let held_query = RwSignal::new(String::new());
    let start_live = move || {
        // What a tail before received is stored first, so that this one resumes after it.
        tail::stop();
        // A load still out would clear what the tail appends.
        bump(&LOADS);
        loading.set(false);
        // A file's records are no part of the source's stream.
        if !from_source.get_untracked() {
            STORE.with(|s| s.borrow_mut().clear());
            ui.changed(false);
        }
        file.set(String::new());
        let source = api::sources().logs;
        let held = STORE.with(|s| {
            let s = s.borrow();
            s.newest().map(|n| (n + 1, loki::Resume::new(n, s.keys_at(n))))
        });
        let (from, resume) = held.unwrap_or_else(|| {
            let (start, end) =
                window(&lookback.get_untracked(), range.get_untracked(), trace_id.get_untracked(), &source);
            let start = loki::clamp_range(source.kind, start, end).0;
            (start, loki::Resume::new(start, []))
        });
        from_source.set(true);
        paused.set(false);
        tail::set_paused(false);
        held_query.set(logql());
        tail::start(ui, source, logql(), from, resume);
    };
    // Asks the source for the window's records (`older`: the window before those held), then
    // starts the live tail again when it was running (`live`).
    let load = move |older: bool, live: bool| {
        tail::stop();
        file.set(String::new());
        let source = api::sources().logs;
        let q = logql();
        held_query.set(q.clone());
        let (look, custom, trace) = (lookback.get_untracked(), range.get_untracked(), trace_id.get_untracked());
        loading.set(true);
        ui.error.set(None);
        let this = bump(&LOADS);
        let stale = move || LOADS.with(|c| c.get()) != this;
        leptos::task::spawn_local(async move {
            let (first, end) = window_of(&look, custom, trace, &source).await;
            // A new load asks up to the window's end; only "Load older" goes on before what is held.
            let newest = if older {
                loki::older_end(asked.get_untracked(), STORE.with(|s| s.borrow().oldest()), end)
            } else {
                end
            };
            // Windows cut to Loki's longest range are asked for one after the other while they
            // come back empty (a year's at most), so that a gap of more than 30 days ends no paging.
            let mut answer = Ok(Vec::new());
            let mut empty_since = None;
            for (start, end, cut) in loki::windows(source.kind, first, newest) {
                let request = loki::range_request(&source, &q, start, end, loki::PAGE, false);
                answer = api::send(&request).await.map_err(|e| e.to_string()).and_then(|(status, body)| {
                    loki::parse_range(status, &body).map_err(|e| format!("{}: {e}", request.url))
                });
                if stale() {
                    return;
                }
                // A window that failed is not taken as read: the next click asks for it again.
                let Ok(records) = &answer else { break };
                let full = records.len() >= loki::PAGE;
                asked.try_set(Some(loki::Asked { start, full }));
                clamped.try_set(cut.then_some((start, newest)));
                // A window cut to Loki's limit may have older records beyond it.
                more.try_set(full || cut);
                empty_since = (records.is_empty() && (cut || empty_since.is_some())).then_some((start, cut));
                if !cut || !records.is_empty() {
                    break;
                }
            }
            // Every window asked for was empty: say how far back, and whether the button goes on.
            nothing_older.try_set(
                empty_since.filter(|_| answer.is_ok()).map(|(start, cut)| loki::empty_notice(newest, start, cut)),
            );
            loading.try_set(false);
            match answer {
                Ok(records) => {
                    STORE.with(|s| {
                        let mut s = s.borrow_mut();
                        if !older {
                            s.clear();
                        }
                        s.push(records);
                    });
                    from_source.try_set(true);
                    ui.dropped.try_set(tail::dropped());
                    ui.changed(false);
                    if live {
                        start_live();
                    }
                }
                Err(e) => {
                    // Nothing held answers this query: no notice may say otherwise.
                    asked.try_set(None);
                    ui.error.try_set(Some(e));
                }
            }
        });
    };
    let live_now = move || !matches!(ui.live.get_untracked(), Live::Off | Live::Failed(_));
    // The filter runs on every change of its fields, over every record held. A changed query
    // then asks the source again: at once for a choice, a moment after the last keystroke for
    // typed text, so that typing sends one query; meanwhile the count says it is waiting
    // (`data-loading`). A range dragged on the histogram is asked for too (the page may hold only
    // part of its records); its reset goes back to the lookback before it.
    let waiting = RwSignal::new(false);
    Effect::new(move |before: Option<(String, Option<(u64, u64)>)>| {
        let f = Filter {
            service: service.get(),
            min_level: min_level.get(),
            text: text.get(),
            regex: regex.get(),
            attribute: attribute.get(),
            range: range.get(),
            trace_id: trace_id.get(),
        };
        let t0 = now_ms();
        let result = STORE.with(|s| s.borrow_mut().set_filter(&f));
        filter_ms.set(Some(now_ms() - t0));
        filter_error.set(result.err());
        ui.changed(false);

        let query = loki::logql(kind, &ask());
        let Some((typed_before, chosen_before)) = before else { return (f.text, f.range) };
        let this = bump(&CHANGES);
        let reading_file = showing_a_file();
        let moved =
            f.range != chosen_before && !reading_file && (f.range.is_some() || lookback.get_untracked() == "custom");
        if moved {
            lookback.set(if f.range.is_some() { "custom".into() } else { base_lookback.get_value() });
        }
        let changed = readable() && !reading_file && (moved || held_query.get_untracked() != query);
        waiting.set(changed);
        if changed {
            let go = move || {
                if CHANGES.with(|c| c.get()) == this {
                    waiting.try_set(false);
                    // A file opened in the same moment as the typing (after this change was
                    // seen) is shown by now: the query is not asked over it.
                    if !showing_a_file() {
                        load(false, live_now());
                    }
                }
            };
            set_timeout(go, std::time::Duration::from_millis(if typed_before != f.text { 400 } else { 0 }));
        }
        (f.text, f.range)
    });
    // Names for the filters' suggestions: label names and the services the source knows.
    let suggest = move || {
        let source = api::sources().logs;
        let (start, now) = window(&lookback.get_untracked(), range.get_untracked(), trace_id.get_untracked(), &source);
        let start = loki::clamp_range(source.kind, start, now).0;
        leptos::task::spawn_local(async move {
            for (request, slot) in [
                (loki::labels_request(&source, start, now), label_names),
                (loki::label_values_request(&source, "service_name", start, now), service_values),
            ] {
                if let Ok((status, body)) = api::send(&request).await {
                    if let Ok(names) = loki::parse_names(status, &body) {
                        slot.try_set(names);
                    }
                }
            }
        });
    };
    // The records of a file (chosen, or fetched by URL) replace those held.
    let show_file = move |name: &str, read: Result<(Vec<super::store::Record>, Option<String>), String>| match read {
        Ok((records, skipped)) => {
            file_skipped.try_set(skipped.map(|s| format!("{name}: {s}")));
            STORE.with(|s| {
                let mut s = s.borrow_mut();
                s.clear();
                s.push(records);
            });
            more.try_set(false);
            from_source.try_set(false);
            clamped.try_set(None);
            asked.try_set(None);
            nothing_older.try_set(None);
            ui.error.try_set(None);
            ui.changed(false);
        }
        Err(e) => {
            ui.error.try_set(Some(e));
        }
    };
    // A file replaces a load still out (its answer would replace the file's records), and a load
    // started meanwhile replaces the file.
    let open_url = move |url: String| {
        tail::stop();
        // Nor does a query typed just before (its load waits for typing to pause).
        bump(&CHANGES);
        waiting.set(false);
        file.set(url.clone());
        typed_url.set(url.clone());
        loading.set(true);
        ui.error.set(None);
        let this = bump(&LOADS);
        leptos::task::spawn_local(async move {
            let name = crate::file_url::file_name(&url).to_owned();
            let records = api::fetch_file(&url).await.and_then(|bytes| {
                let text = String::from_utf8(bytes).map_err(|e| format!("{name}: not UTF-8 text ({e})"))?;
                loki::parse_file(&text).map_err(|e| format!("{name}: {e}"))
            });
            // Unless the source (Reload, the live tail) or another file replaced it meanwhile.
            if LOADS.with(|c| c.get()) == this && file.try_with_untracked(|f| *f == url) == Some(true) {
                loading.try_set(false);
                show_file(&name, records);
            }
        });
    };
    if !param("file").is_empty() {
        open_url(param("file"));
    } else if param("live") == "1" {
        start_live();
    } else {
        load(false, false);
    }
    suggest();

    let on_file = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(local) = input.files().and_then(|f| f.get(0)) else { return };
        tail::stop();
        bump(&CHANGES);
        waiting.set(false);
        file.set(String::new());
        loading.set(true);
        ui.error.set(None);
        let this = bump(&LOADS);
        file_reading.set_value(this);
        leptos::task::spawn_local(async move {
            let name = local.name();
            let text = wasm_bindgen_futures::JsFuture::from(local.text()).await.ok().and_then(|t| t.as_string());
            if LOADS.with(|c| c.get()) != this {
                return;
            }
            file_reading.try_set_value(0);
            loading.try_set(false);
            show_file(
                &name,
                text.ok_or_else(|| format!("{name} could not be read as text"))
                    .and_then(|t| loki::parse_file(&t))
                    .map_err(|e| format!("{name}: {e}")),
            );
        });
    };

    let services = Memo::new(move |_| {
        ui.version.track();
        let mut names = STORE.with(|s| s.borrow().services());
        names.extend(service_values.get());
        names.sort_unstable();
        names.dedup();
        names
    });
    let counts = move || {
        ui.version.track();
        STORE.with(|s| {
            let s = s.borrow();
            (s.match_count(), s.len())
        })
    };
    let live_on = move || !matches!(ui.live.get(), Live::Off | Live::Failed(_));
    let source_label = {
        let s = api::sources().logs;
        if s.url.is_empty() {
            format!("the {} serving this page", s.kind.label())
        } else {
            format!("{} at {}", s.kind.label(), s.url)
        }
    };

    view! {
        <h1>"Logs"</h1>
        <p class="muted source-line" data-testid="log-source">"From "{source_label}</p>
        <div class="search-form log-filters">
            <label>"Service"
                <select data-testid="log-service" prop:value=move || service.get()
                    on:change=move |ev| service.set(event_target_value(&ev))>
                    <option value="">"all"</option>
                    {move || services.get().into_iter().map(|name| {
                        let selected = service.get_untracked() == name;
                        view! { <option value=name.clone() selected=selected>{name.clone()}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label>"Minimum level"
                <select data-testid="log-level" on:change=move |ev| min_level.set(Level::from_text(&event_target_value(&ev)))>
                    {Level::ALL.into_iter().map(|l| {
                        let label = if l == Level::Unknown { "all" } else { l.name() };
                        let value = if l == Level::Unknown { "" } else { l.name() };
                        view! { <option value=value selected=move || min_level.get() == l>{label}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label class="wide">"Text"
                <input type="search" data-testid="log-text" placeholder="contains… (case-sensitive)"
                    prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev)) />
            </label>
            <label class="check"><input type="checkbox" data-testid="log-regex" prop:checked=move || regex.get()
                on:change=move |ev| regex.set(event_target_checked(&ev)) />"regular expression"</label>
            <label>"Attribute"
                <input data-testid="log-attribute" placeholder="key=value" list="log-label-names"
                    prop:value=move || attribute.get() on:change=move |ev| attribute.set(event_target_value(&ev)) />
                <datalist id="log-label-names">
                    {move || label_names.get().into_iter().map(|n| view! { <option value=format!("{n}=") /> }).collect_view()}
                </datalist>
            </label>
            <label>"Time"
                <select data-testid="log-lookback" on:change=move |ev| {
                    let chosen = event_target_value(&ev);
                    base_lookback.set_value(chosen.clone());
                    lookback.set(chosen);
                    range.set(None);
                    load(false, false);
                }>
                    {[("trace", "around the trace"), ("15m", "last 15 minutes"), ("1h", "last hour"), ("6h", "last 6 hours"), ("24h", "last 24 hours"), ("7d", "last 7 days"), ("all", "all"), ("custom", "the range chosen")]
                        .into_iter().filter(move |(v, _)| *v != "trace" || trace_id.get_untracked().is_some())
                        // A range dragged on the histogram (or a link's `start` and `end`): shown when chosen, never offered.
                        .map(|(v, l)| view! { <option value=v selected=move || lookback.get() == v hidden=v == "custom">{l}</option> }).collect_view()}
                </select>
            </label>
            <button data-testid="log-reload" on:click=move |_| load(false, false) disabled=move || loading.get()>"Reload"</button>
            <label>"Open an OTLP/JSON log file"
                <input type="file" accept=".json,.jsonl,application/json" data-testid="log-file" on:change=on_file />
            </label>
            {crate::app::url_form(typed_url, "log-url", "log-open-url", Box::new(open_url))}
        </div>
        {move || trace_id.get().map(|t| view! {
            <p class="chip trace-filter" data-testid="trace-filter">"trace "{trace_hex(t)}
                <button class="link" on:click=move |_| trace_id.set(None)>"×"</button></p>
        })}
        <div class="log-live">
            <button data-testid="live-toggle" on:click=move |_| if live_on() { tail::stop() } else { start_live() }>
                {move || if live_on() { "Stop live tail" } else { "Live tail" }}
            </button>
            <Show when=live_on>
                <button data-testid="live-pause" on:click=move |_| {
                    let p = !paused.get();
                    paused.set(p);
                    tail::set_paused(p);
                }>{move || if paused.get() { "Resume" } else { "Pause" }}</button>
            </Show>
            <span class="muted" data-testid="live-status">{move || match ui.live.get() {
                Live::Off => String::new(),
                Live::Connecting => "connecting…".into(),
                Live::WebSocket => if paused.get() { "paused".into() } else { "live (WebSocket)".into() },
                Live::Polling => if paused.get() { "paused".into() } else { "live (polling every second)".into() },
                Live::Reconnecting(n) => format!("reconnecting… (the source stopped answering; attempt {n})"),
                Live::Failed(e) => format!("live tail stopped: {e}"),
            }}</span>
            <Show when=move || paused.get() && live_on()>
                <span class="chip" data-testid="waiting-count">{move || { let n = ui.waiting.get(); format!("{n} new line{} waiting", if n == 1 { "" } else { "s" }) }}</span>
            </Show>
            <span class="chip dropped" class:hidden=move || ui.dropped.get() == 0 data-testid="dropped-count"
                data-dropped=move || ui.dropped.get().to_string()>
                {move || format!("{} oldest lines dropped (buffer of {capacity})", ui.dropped.get())}
            </span>
        </div>
        {capacity_notice.map(|n| view! { <p class="notice" role="status" data-testid="buffer-notice">{n}</p> })}
        {move || clamped.get().map(|(start, end)| view! {
            <p class="notice" role="status" data-testid="range-notice">
                {format!("Loki is asked for 30 days at a time (its max_query_length): records from {} to {}; \"Load older\" asks for the windows before.", format_time(start), format_time(end))}
            </p>
        })}
        {move || nothing_older.get().map(|n| view! { <p class="notice" role="status" data-testid="older-notice">{n}</p> })}
        {move || ui.skipped.get().map(|n| view! { <p class="notice" role="status" data-testid="tail-skipped">{n}</p> })}
        {move || file_skipped.get().filter(|_| !from_source.get()).map(|n| view! {
            <p class="notice" role="status" data-testid="file-skipped">{n}</p>
        })}
        {range_error.map(|e| view! { <p class="error" role="alert" data-testid="range-error">{e}</p> })}
        // The last answer was a full page: the source may have more for the window than the page
        // holds, and the filters the query does not carry search only what is held.
        {move || (asked.get().is_some_and(|a| a.full) && file.get().is_empty()).then(|| {
            ui.version.track();
            let (held, oldest) = STORE.with(|s| (s.borrow().len(), s.borrow().oldest().map(format_time).unwrap_or_default()));
            let in_page = loki::filtered_in_page(kind, &ask(), !attribute.get().trim().is_empty());
            let mut text = format!("The page holds {held} records, the newest the log source has for {} in this time range; it may have more before {oldest}", held_query.get());
            text.push_str(if live_on() { "." } else { ": \"Load older\" asks for them." });
            if let Some((first, rest)) = in_page.split_first() {
                text.push_str(" The ");
                text.push_str(first);
                for name in rest {
                    text.push_str(" and ");
                    text.push_str(name);
                }
                text.push_str(if rest.is_empty() { " filter searches" } else { " filters search" });
                text.push_str(" only the records held.");
            }
            view! { <p class="notice" role="status" data-testid="partial-notice">{text}</p> }
        })}
        {move || ui.error.get().map(crate::app::error_panel)}
        {move || filter_error.get().map(|e| view! { <p class="error" role="alert" data-testid="filter-error">{e}</p> })}
        <VolumeHistogram version=ui.volume range=range />
        <div class="results-bar">
            <span data-testid="match-count" data-loading=move || (loading.get() || waiting.get()).to_string() data-filter-ms=move || filter_ms.get().map(|m| fixed(m, 1)).unwrap_or_default()>
                {move || { let (m, n) = counts(); format!("{m} of {n} line{}", if n == 1 { "" } else { "s" }) }}
            </span>
            <span>
                {move || loading.get().then(|| view! { <span class="muted">"Loading… "</span> })}
                <Show when=move || more.get() && !live_on()>
                    <button class="small" data-testid="load-older" on:click=move |_| load(true, false)>
                        {move || if nothing_older.get().is_some() { "Search further back" } else { "Load older" }}
                    </button>
                </Show>
            </span>
        </div>
        <LogList ui=ui expanded=expanded context=context />
        {move || context.get().map(|i| context_panel(i, context, from_source.get_untracked()))}
    }
}

/// What one row of the list shows: the record named `seq` at its place.
#[derive(Debug, Clone, PartialEq, Default)]
struct RowData {
    seq: u64,
    top: f64,
    time: String,
    level: &'static str,
    /// The level as shown: its name, or a severity text of no known level as written (`verbose`).
    label: String,
    service: String,
    /// The first [`ROW_CHARS`] characters.
    message: String,
    /// Characters beyond those.
    hidden: usize,
    trace_id: u128,
    expanded: bool,
}

/// The rows in view, and the list's height.
#[derive(Debug, Clone, PartialEq, Default)]
struct Layout {
    rows: Vec<RowData>,
    total: f64,
}

/// Where a matching record's row is: its rank (newest first) times the row height, below the
/// expanded row's details if it comes after them.
fn row_top(s: &LogStore, seq: u64, expanded: Option<u64>) -> Option<f64> {
    let rank = s.rank_of(s.index_of(seq)?)?;
    let exp_rank = expanded.and_then(|e| s.rank_of(s.index_of(e)?));
    Some(rank as f64 * ROW_H + if exp_rank.is_some_and(|e| rank > e) { DETAILS_H } else { 0.0 })
}

/// The virtualised list. Its rows are a pool of slots, one per row in view, made once and
/// filled again when the records, the matches or the scroll position change: a frame of the
/// live tail rewrites a few dozen text nodes and attributes instead of building rows.
#[component]
fn LogList(ui: Ui, expanded: RwSignal<Option<u64>>, context: RwSignal<Option<u64>>) -> impl IntoView {
    let viewport = RwSignal::new(600.0f64);
    Effect::new(move |_| {
        if let Some(el) = ui.list.get() {
            let h = el.client_height() as f64;
            if h > 0.0 {
                viewport.set(h);
            }
        }
    });
    let layout = Memo::new(move |_| {
        ui.version.track();
        let (top, height, exp) = (ui.scroll_top.get(), viewport.get(), expanded.get());
        STORE.with(|s| {
            let s = s.borrow();
            let count = s.match_count();
            let exp_rank = exp.and_then(|e| s.rank_of(s.index_of(e)?));
            let rank_at = |y: f64| match exp_rank {
                Some(e) if y > (e as f64 + 1.0) * ROW_H + DETAILS_H => ((y - DETAILS_H) / ROW_H) as usize,
                Some(e) if y > (e as f64 + 1.0) * ROW_H => e,
                _ => (y / ROW_H) as usize,
            };
            // A fixed number of slots (all in use once there are enough matches), and a record
            // keeps its slot while it stays in view: rank `r` is in slot `r % slots`, so that
            // scrolling re-fills only the slots whose records left the view.
            let slots = (((height / ROW_H).ceil() as usize) + 2 * OVERSCAN + 1).min(count);
            let first = rank_at(top).saturating_sub(OVERSCAN).min(count - slots);
            let rows = (0..slots)
                .filter_map(|slot| {
                    let rank = first + (slot + slots - first % slots.max(1)) % slots;
                    let i = s.match_at(rank)?;
                    let r = s.row(i);
                    let below = exp_rank.is_some_and(|e| rank > e);
                    Some(RowData {
                        seq: s.seq(i),
                        top: rank as f64 * ROW_H + if below { DETAILS_H } else { 0.0 },
                        time: format_time(r.time),
                        level: r.level.name(),
                        label: match r.level {
                            // (Loki's `level="unknown"` names no level either.)
                            Level::Unknown => Some(s.get(i).severity_text)
                                .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("unknown"))
                                .map_or_else(|| "UNKNOWN".to_owned(), str::to_owned),
                            level => level.name().to_ascii_uppercase(),
                        },
                        service: r.service.to_owned(),
                        message: prefix(r.message, ROW_CHARS).to_owned(),
                        hidden: if r.message.len() > ROW_CHARS {
                            r.message.chars().count().saturating_sub(ROW_CHARS)
                        } else {
                            0
                        },
                        trace_id: r.trace_id,
                        expanded: exp_rank == Some(rank),
                    })
                })
                .collect();
            let total = count as f64 * ROW_H + if exp_rank.is_some() { DETAILS_H } else { 0.0 };
            Layout { rows, total }
        })
    });
    let slots = Memo::new(move |_| layout.with(|l| l.rows.len()));
    let on_scroll = move |ev: leptos::ev::Event| {
        let el: web_sys::Element = event_target(&ev);
        ui.scroll_top.set(el.scroll_top() as f64);
    };
    let details = move || {
        let seq = expanded.get()?;
        let top = move || {
            ui.version.track();
            STORE.with(|s| row_top(&s.borrow(), seq, Some(seq))).map_or(-1000.0, |t| t + ROW_H)
        };
        STORE.with(|s| {
            let s = s.borrow();
            let r = s.get(s.index_of(seq)?);
            Some(details_view(&r, seq, top, context))
        })
    };
    view! {
        <div class="log-list" data-testid="log-list" node_ref=ui.list on:scroll=on_scroll>
            <div class="log-spacer" style=move || format!("height:{}px", shortest(layout.with(|l| l.total)))>
                // Keyed by slot: a slot's element stays and shows whichever record is at its
                // place now.
                <For each=move || 0..slots.get() key=|slot| *slot children=move |slot| pool_row(slot, layout, expanded) />
                {details}
            </div>
        </div>
    }
}

/// The trace page of a trace id, with the page's sources.
fn trace_href(trace_id: &str) -> String {
    let sources = api::sources_query();
    if sources.is_empty() {
        format!("/trace/{trace_id}")
    } else {
        format!("/trace/{trace_id}?{sources}")
    }
}

/// One slot of the row pool: every part reads the slot's [`RowData`] and is updated in place.
fn pool_row(slot: usize, layout: Memo<Layout>, expanded: RwSignal<Option<u64>>) -> impl IntoView {
    let row = Memo::new(move |_| layout.with(|l| l.rows.get(slot).cloned().unwrap_or_default()));
    let toggle = move |_| {
        let seq = row.with_untracked(|r| r.seq);
        expanded.update(|e| *e = if *e == Some(seq) { None } else { Some(seq) });
    };
    // The link's text: the id's significant digits (a 64-bit id's are in its low half).
    let trace =
        Memo::new(move |_| row.with(|r| (r.trace_id != 0).then(|| (trace_hex(r.trace_id), trace_short(r.trace_id)))));
    view! {
        <div class=move || row.with(|r| format!("log-row row-{}", r.level)) class:open=move || row.with(|r| r.expanded)
            style=move || row.with(|r| format!("top:{}px", shortest(r.top)))
            data-testid="log-row" data-seq=move || row.with(|r| r.seq.to_string()) on:click=toggle>
            <span class="log-time mono">{move || row.with(|r| r.time.clone())}</span>
            <span class=move || row.with(|r| format!("level level-{}", r.level)) data-testid="log-level">
                {move || row.with(|r| r.label.clone())}
            </span>
            <span class="log-service service" data-testid="log-service-name"
                style=move || row.with(|r| format!("color:{}", crate::trace_view::service_colour(&r.service)))>{move || row.with(|r| r.service.clone())}</span>
            <span class="log-message" data-testid="log-message">{move || row.with(|r| r.message.clone())}</span>
            <span class="log-more">{move || {
                let hidden = row.with(|r| r.hidden);
                (hidden > 0).then(|| view! {
                    <button class="link" data-testid="message-more" title="show the whole message">
                        {format!("… +{hidden} characters")}
                    </button>
                })
            }}</span>
            <span class="log-trace mono">{move || trace.get().map(|(t, short)| view! {
                <a href=trace_href(&t) data-testid="log-trace-link" title=format!("open trace {t}")>{short}</a>
            })}</span>
        </div>
    }
}

fn details_view(
    r: &super::store::RecordRef<'_>,
    seq: u64,
    top: impl Fn() -> f64 + Send + Sync + 'static,
    context: RwSignal<Option<u64>>,
) -> impl IntoView {
    let message = StoredValue::new(r.message.to_owned());
    let shown = RwSignal::new(DETAILS_CHARS);
    let total = r.message.chars().count();
    let trace = (r.trace_id != 0).then(|| trace_hex(r.trace_id));
    let span = (r.span_id != 0).then(|| format!("{:016x}", r.span_id));
    let kv = |pairs: Vec<(String, String)>| {
        pairs.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td class="value">{v}</td></tr> }).collect_view()
    };
    let attributes: Vec<(String, String)> =
        r.attributes.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    // The service once: a Loki stream's `service_name` label stands for it.
    let resource: Vec<(String, String)> = std::iter::once(("service.name".to_owned(), r.service.to_owned()))
        .chain(r.resource.iter().filter(|(k, v)| !(k == "service_name" && v == r.service)).cloned())
        .collect();
    let severity = r.severity_text.to_owned();
    view! {
        <div class="log-details" data-testid="log-details" style=move || format!("top:{}px;height:{}px", shortest(top()), shortest(DETAILS_H))
            on:click=|ev| ev.stop_propagation()>
            <div class="log-actions">
                {trace.clone().map(|t| {
                    let href = trace_href(&t);
                    view! { <a href=href data-testid="detail-trace-link">"Open trace "{t}</a> }
                })}
                <button class="small" data-testid="show-context" on:click=move |_| context.set(Some(seq))>"Show context"</button>
            </div>
            <pre class="log-full" data-testid="log-full-message">
                {move || message.with_value(|m| prefix(m, shown.get()).to_owned())}
            </pre>
            {move || (shown.get() < total).then(|| view! {
                <button class="small" data-testid="message-expand" on:click=move |_| shown.update(|n| *n += MORE_CHARS)>
                    {format!("Show more ({} characters left)", total - shown.get())}
                </button>
            })}
            // Only the fields the record has: no empty rows.
            {(trace.is_some() || span.is_some() || !severity.is_empty()).then(|| view! {
                <table class="kv">
                    {trace.map(|t| view! { <tr><th>"trace id"</th><td class="mono" data-testid="detail-trace-id">{t}</td></tr> })}
                    {span.map(|s| view! { <tr><th>"span id"</th><td class="mono" data-testid="detail-span-id">{s}</td></tr> })}
                    {(!severity.is_empty()).then(|| view! { <tr><th>"severity text"</th><td>{severity}</td></tr> })}
                </table>
            })}
            <h3>"Attributes"</h3>
            <table class="kv" data-testid="detail-attributes">{kv(attributes)}</table>
            <h3>"Resource"</h3>
            <table class="kv" data-testid="detail-resource">{kv(resource)}</table>
        </div>
    }
}

/// The lines of the same service around a record, the record marked.
/// One line of the context panel: time, level, message, and whether it is the chosen one.
type ContextLine = (u64, &'static str, String, bool);

fn context_panel(seq: u64, context: RwSignal<Option<u64>>, from_source: bool) -> AnyView {
    STORE.with(|s| {
        let s = s.borrow();
        let Some(index) = s.index_of(seq) else {
            return ().into_any();
        };
        let chosen = s.get(index);
        let (service, time) = (chosen.service.to_owned(), chosen.time);
        let identity = loki::identity(&chosen);
        let held: Vec<ContextLine> = s
            .context(index, CONTEXT, CONTEXT)
            .into_iter()
            .map(|i| {
                let r = s.get(i);
                (r.time, r.level.name(), prefix(r.message, ROW_CHARS).to_owned(), i == index)
            })
            .collect();
        // The records held may not hold the lines around this one (those of one trace, a time
        // range): the source is asked for them, the service's lines before and after it.
        let before = held.iter().position(|l| l.3).unwrap_or(0);
        let fetched = RwSignal::new(None::<Vec<ContextLine>>);
        if from_source && (before < CONTEXT || held.len() - before - 1 < CONTEXT) {
            let service = service.clone();
            leptos::task::spawn_local(async move {
                if let Some(lines) = context_from_source(&service, time, identity).await {
                    fetched.try_set(Some(lines));
                }
            });
        }
        let rows = move || {
            fetched
                .get()
                .unwrap_or_else(|| held.clone())
                .into_iter()
                .map(|(time, level, message, current)| {
                    view! {
                        <div class=format!("context-row row-{level}") class:current=current data-testid="context-row">
                            <span class="log-time mono">{format_time(time)}</span>
                            <span class=format!("level level-{level}")>{level.to_ascii_uppercase()}</span>
                            <span class="log-message">{message}</span>
                        </div>
                    }
                })
                .collect_view()
        };
        view! {
            <section class="log-context" data-testid="context-panel">
                <h2>"Context: "{service}" around the chosen line"
                    <button class="small" data-testid="context-close" on:click=move |_| context.set(None)>"Close"</button></h2>
                {rows}
            </section>
        }
        .into_any()
    })
}

/// The lines of `service` around its record at `time` named by `identity` ([`loki::identity`]),
/// from the log source: up to [`CONTEXT`] before it and after it, within a day; `None` when the
/// source fails.
async fn context_from_source(service: &str, time: u64, identity: u64) -> Option<Vec<ContextLine>> {
    const DAY: u64 = 24 * 3_600 * 1_000_000_000;
    let source = api::sources().logs;
    let q = loki::logql(source.kind, &loki::Ask::service(service));
    // Records of the same time may be many: some slack beyond the lines wanted.
    let limit = 2 * CONTEXT + 1;
    let mut lines = Vec::new();
    for (start, end, forward) in [(time.saturating_sub(DAY), time + 1, false), (time, time + DAY, true)] {
        let request = loki::range_request(&source, &q, start, end, limit, forward);
        let (status, body) = api::send(&request).await.ok()?;
        lines.extend(loki::parse_range(status, &body).ok()?.into_iter().filter(|r| r.service == service));
    }
    let (lines, at) = loki::context_lines(lines, identity, CONTEXT)?;
    Some(
        lines
            .iter()
            .enumerate()
            .map(|(k, r)| (r.time, r.level.name(), prefix(&r.message, ROW_CHARS).to_owned(), k == at))
            .collect(),
    )
}

/// The log-volume histogram of the matching records, stacked by level; dragging across it
/// selects a time range.
#[component]
fn VolumeHistogram(version: RwSignal<u64>, range: RwSignal<Option<(u64, u64)>>) -> impl IntoView {
    let histogram = Memo::new(move |_| {
        version.track();
        STORE.with(|s| s.borrow().histogram(BUCKETS))
    });
    let drag = RwSignal::new(None::<(f64, f64)>);
    let fraction = |ev: &leptos::ev::MouseEvent| -> f64 {
        let Some(el) = ev.current_target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
        else {
            return 0.0;
        };
        let rect = el.get_bounding_client_rect();
        ((ev.client_x() as f64 - rect.left()) / rect.width().max(1.0)).clamp(0.0, 1.0)
    };
    let finish = move |ev: leptos::ev::MouseEvent| {
        if let Some((a, _)) = drag.get_untracked() {
            let b = fraction(&ev);
            drag.set(None);
            if (a - b).abs() > 0.003 {
                let h = histogram.get_untracked();
                // Whole microseconds, as the page URL keeps it: a reload shows the same records.
                let (start, end) = micros((h.time_at(a.min(b)), h.time_at(a.max(b))));
                range.set(Some((start * 1_000, end * 1_000)));
            }
        }
    };
    // The bars as SVG markup set in one go, one path per level holding that level's part of
    // every bar: redrawn up to four times a second while lines stream in, seven elements cost
    // little where a few hundred rectangles cost a frame. The markup holds only numbers and
    // level names.
    let bars = move || {
        histogram.with(|h| {
            use std::fmt::Write;
            let max = h.max_total().max(1) as f64;
            let w = 1000.0 / h.counts.len() as f64;
            let mut paths: [String; 7] = Default::default();
            let mut totals = [0u64; 7];
            for (b, counts) in h.counts.iter().enumerate() {
                let mut y = 80.0;
                // Fatal at the bottom, unknown at the top.
                for level in Level::ALL.into_iter().rev() {
                    let n = counts[level as usize];
                    if n == 0 {
                        continue;
                    }
                    let height = n as f64 / max * 78.0;
                    y -= height;
                    totals[level as usize] += u64::from(n);
                    let _ = write!(
                        paths[level as usize],
                        "M{} {}h{}v{}h-{}z",
                        fixed(b as f64 * w, 1),
                        fixed(y, 2),
                        fixed((w - 1.0).max(0.5), 1),
                        fixed(height, 2),
                        fixed((w - 1.0).max(0.5), 1)
                    );
                }
            }
            let mut out = String::new();
            for level in Level::ALL {
                let (d, n, name) = (&paths[level as usize], totals[level as usize], level.name());
                if n > 0 {
                    let _ = write!(
                        out,
                        r#"<path class="bar level-{name}" data-testid="histogram-level" data-level="{name}" d="{d}"><title>{n} {name}</title></path>"#
                    );
                }
            }
            out
        })
    };
    view! {
        <div class="log-histogram">
            <svg viewBox="0 0 1000 80" preserveAspectRatio="none" data-testid="log-histogram"
                on:mousedown=move |ev| { ev.prevent_default(); let f = fraction(&ev); drag.set(Some((f, f))); }
                on:mousemove=move |ev| { if let Some((a, _)) = drag.get_untracked() { drag.set(Some((a, fraction(&ev)))); } }
                on:mouseup=finish on:mouseleave=finish>
                <g inner_html=bars></g>
                {move || drag.get().map(|(a, b)| view! {
                    <rect class="selection" x=fixed(a.min(b) * 1000.0, 2) y="0"
                        width=fixed((a - b).abs() * 1000.0, 2) height="80" />
                })}
            </svg>
            <div class="scatter-time">
                <span>{move || histogram.with(|h| (h.end > 0).then(|| format_time(h.start)))}</span>
                {move || range.get().map(|_| view! {
                    <button class="link" data-testid="range-reset" on:click=move |_| range.set(None)>"Show the whole time range"</button>
                })}
                <span>{move || histogram.with(|h| (h.end > 0).then(|| format_time(h.end)))}</span>
            </div>
        </div>
    }
}
