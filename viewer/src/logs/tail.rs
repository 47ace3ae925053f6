//! The live tail: Loki's `/loki/api/v1/tail` over a WebSocket (the collector answers it too),
//! else `query_range` polled every second. A message is only queued when it arrives; once per
//! animation frame the queued messages are read, for at most [`BUDGET_MS`], and their records
//! go into the store with one render, so that a frame's work stays bounded however fast lines
//! arrive (10,000 a second cost about a millisecond a frame). A paused tail keeps reading and
//! queueing (dropping the oldest beyond the store's capacity, counted) and shows everything when
//! resumed.

use std::cell::RefCell;
use std::collections::VecDeque;

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use super::loki;
use super::page::{Ui, STORE};
use super::store::{Pushed, Record};
use crate::sources::Source;

/// How the tail reaches its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Live {
    /// No tail.
    Off,
    /// The WebSocket is opening.
    Connecting,
    /// Messages arrive over the WebSocket.
    WebSocket,
    /// `query_range` every second (no WebSocket could be opened).
    Polling,
    /// The source stopped answering: tried again after a growing pause (this many attempts so
    /// far), WebSocket first, until it answers or the user stops the tail.
    Reconnecting(u32),
    /// Stopped by an error.
    Failed(String),
}

enum Connection {
    Socket {
        socket: web_sys::WebSocket,
        _callbacks: Vec<Closure<dyn FnMut(web_sys::Event)>>,
    },
    Poll(IntervalHandle),
    /// Waiting to reconnect.
    Wait(TimeoutHandle),
}

/// Milliseconds of each animation frame spent reading queued tail messages; what is left
/// waits for the next frame.
const BUDGET_MS: f64 = 4.0;
/// Characters of unread messages beyond which a frame reads past its budget: a source that
/// sends faster than the page can read for long costs smoothness rather than unbounded memory.
const MAX_UNREAD: usize = 64 << 20;
/// Milliseconds between two drawings of the list and the counts while lines stream in: ten a
/// second follow the stream closely enough to read, and each costs a layout and a paint.
const DRAW_EVERY_MS: f64 = 100.0;

#[derive(Default)]
struct Queue {
    /// Tail messages as they arrived, not read yet: JavaScript strings, copied into wasm memory
    /// only when read, so that a burst does not grow wasm memory (which never shrinks).
    unread: VecDeque<js_sys::JsString>,
    /// Their length in UTF-16 units.
    unread_len: usize,
    /// Records read and waiting for the store (while paused, or until the frame's end).
    records: VecDeque<Record>,
    /// Records dropped from the queue while paused (the store counts its own).
    dropped: u64,
    /// Entries Loki says it dropped (`dropped_entries`).
    dropped_by_source: u64,
    /// Malformed messages skipped since the tail started.
    skipped: u64,
    /// Poll answers in a row whose entries were malformed (the notice names them until one reads).
    malformed_polls: u32,
    scheduled: bool,
    paused: bool,
    /// Records stored (or waiting, while paused) since the list was last drawn.
    dirty: bool,
    /// Matching records stored since then, for keeping the scroll position.
    undrawn: usize,
    /// When the list was drawn last (`performance.now()`).
    drawn_at: f64,
    /// Where polls go on from.
    resume: loki::Resume,
}

thread_local! {
    static QUEUE: RefCell<Queue> = RefCell::new(Queue::default());
    static CONNECTION: RefCell<Option<Connection>> = const { RefCell::new(None) };
    static UI: RefCell<Option<Ui>> = const { RefCell::new(None) };
    /// Bumped by every start and stop, so that a late answer of an old poll is ignored.
    static GENERATION: RefCell<u64> = const { RefCell::new(0) };
    /// Reconnection attempts since the source last answered; 0 while it does.
    static ATTEMPTS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// Whether this tail's WebSocket opened once: after the source comes back from a restart
    /// (during which a WebSocket cannot open either), the tail goes back to it, not to polling.
    static SOCKET_OPENED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Drops queued-and-dropped counts and what an earlier page left queued (a new page starts
/// afresh).
pub(crate) fn reset_counts() {
    QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        q.dropped = 0;
        q.dropped_by_source = 0;
        q.unread.clear();
        q.unread_len = 0;
        q.records.clear();
    });
}

/// Lines dropped so far by the queue, the store and the source.
pub(crate) fn dropped() -> u64 {
    let store = STORE.with(|s| s.borrow().dropped());
    QUEUE.with(|q| {
        let q = q.borrow();
        store + q.dropped + q.dropped_by_source
    })
}

fn ui() -> Option<Ui> {
    UI.with(|u| *u.borrow())
}

/// Starts tailing `logql` from `start` (Unix nanoseconds); stops any tail before. `resume`: the
/// newest time held and its records, which polls ask for again and skip.
pub(crate) fn start(ui: Ui, source: Source, logql: String, start: u64, resume: loki::Resume) {
    stop();
    UI.with(|u| *u.borrow_mut() = Some(ui));
    ui.skipped.set(None);
    QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        q.resume = resume;
        q.skipped = 0;
        q.malformed_polls = 0;
    });
    ATTEMPTS.with(|a| a.set(0));
    SOCKET_OPENED.with(|o| o.set(false));
    let generation = GENERATION.with(|g| *g.borrow());
    connect(ui, source, logql, start, generation);
}

/// Opens the WebSocket from `start`, or polls where none can be opened.
fn connect(ui: Ui, source: Source, logql: String, start: u64, generation: u64) {
    let origin = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
    let limit = STORE.with(|s| s.borrow().capacity()).min(loki::PAGE);
    match loki::tail_url(&source, &origin, &logql, start, limit) {
        Some(url) => open_socket(ui, source, logql, &url, generation),
        None => poll(ui, source, logql, generation),
    }
}

/// The source did not answer: tries again after [`loki::backoff`], from the newest record held (the
/// records at that time already received are skipped, as polls do).
fn reconnect(ui: Ui, source: Source, logql: String, generation: u64) {
    drop_connection();
    let attempt = ATTEMPTS.with(|a| {
        a.set(a.get() + 1);
        a.get()
    });
    ui.live.try_set(Live::Reconnecting(attempt));
    let retry = move || {
        if GENERATION.with(|g| *g.borrow()) == generation {
            CONNECTION.with(|c| c.borrow_mut().take());
            let from = QUEUE.with(|q| q.borrow().resume.from());
            connect(ui, source, logql, from, generation);
        }
    };
    if let Ok(handle) = set_timeout_with_handle(retry, loki::backoff(attempt)) {
        CONNECTION.with(|c| *c.borrow_mut() = Some(Connection::Wait(handle)));
    }
}

fn open_socket(ui: Ui, source: Source, logql: String, url: &str, generation: u64) {
    let Ok(socket) = web_sys::WebSocket::new(url) else {
        return poll(ui, source, logql, generation);
    };
    if ATTEMPTS.with(|a| a.get()) == 0 {
        ui.live.set(Live::Connecting);
    }
    let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        ATTEMPTS.with(|a| a.set(0));
        SOCKET_OPENED.with(|o| o.set(true));
        ui.live.try_set(Live::WebSocket);
    });
    let on_message = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
        let Some(text) =
            ev.dyn_ref::<web_sys::MessageEvent>().and_then(|m| m.data().dyn_into::<js_sys::JsString>().ok())
        else {
            return;
        };
        QUEUE.with(|q| {
            let mut q = q.borrow_mut();
            q.unread_len += text.length() as usize;
            q.unread.push_back(text);
        });
        schedule();
    });
    let opened = move || ATTEMPTS.with(|a| a.get()) == 0 && ui.live.try_get_untracked() == Some(Live::WebSocket);
    // An error before opening: no WebSocket here (a proxy in between, a server without the
    // route); poll instead. A close after opening: poll on from the newest record.
    let (s2, q2) = (source.clone(), logql.clone());
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        if GENERATION.with(|g| *g.borrow()) == generation && !opened() {
            drop_connection();
            poll(ui, s2.clone(), q2.clone(), generation);
        }
    });
    let on_close = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        if GENERATION.with(|g| *g.borrow()) == generation {
            drop_connection();
            poll(ui, source.clone(), logql.clone(), generation);
        }
    });
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    CONNECTION.with(|c| {
        *c.borrow_mut() = Some(Connection::Socket { socket, _callbacks: vec![on_open, on_message, on_error, on_close] })
    });
}

/// Malformed poll answers in a row after which the tail stops.
const MAX_MALFORMED_POLLS: u32 = 5;

fn poll(ui: Ui, source: Source, logql: String, generation: u64) {
    if ATTEMPTS.with(|a| a.get()) == 0 {
        ui.live.try_set(Live::Polling);
    }
    let busy = std::rc::Rc::new(std::cell::Cell::new(false));
    let tick = move || {
        if busy.get() || GENERATION.with(|g| *g.borrow()) != generation {
            return;
        }
        busy.set(true);
        let (busy, source, logql) = (busy.clone(), source.clone(), logql.clone());
        leptos::task::spawn_local(async move {
            let from = QUEUE.with(|q| q.borrow().resume.from());
            let now = js_sys::Date::now() as u64 * 1_000_000;
            let request = loki::range_request(&source, &logql, from, now.max(from), loki::PAGE, true);
            let answer = crate::api::send(&request).await;
            busy.set(false);
            if GENERATION.with(|g| *g.borrow()) != generation {
                return;
            }
            // No answer, or one from a gateway or server that is down or restarting: try
            // again later. Any other refusal (a malformed query, no access) stops the tail.
            let unreachable = match &answer {
                Err(_) => true,
                Ok((status, _)) => matches!(status, 0 | 502..=504),
            };
            if unreachable {
                return reconnect(ui, source, logql, generation);
            }
            // The source answers again.
            let answered = matches!(answer, Ok((200..=299, _)));
            let back = answered && ATTEMPTS.with(|a| a.replace(0)) > 0;
            if back {
                ui.live.try_set(Live::Polling);
            }
            let malformed = QUEUE.with(|q| q.borrow().malformed_polls);
            match answer.map_err(|e| e.to_string()).and_then(|(status, body)| loki::parse_range(status, &body)) {
                Ok(records) => {
                    if malformed > 0 {
                        QUEUE.with(|q| q.borrow_mut().malformed_polls = 0);
                        ui.skipped.try_set(None);
                    }
                    deliver(QUEUE.with(|q| q.borrow().resume.fresh(records)), 0);
                    // Back after a restart, to the WebSocket this tail had, from what it holds.
                    if back && SOCKET_OPENED.with(std::cell::Cell::get) {
                        drop_connection();
                        let from = QUEUE.with(|q| q.borrow().resume.from());
                        connect(ui, source, logql, from, generation);
                    }
                }
                // An answer of Loki's shape with entries of another is named beside the status,
                // as a malformed tail message is, and the next poll asks for the same range
                // again, so nothing is lost; up to MAX_MALFORMED_POLLS in a row. An answer that
                // is not Loki's at all (a login page) stops the tail, as a refusal does.
                Err(e) if answered && e.starts_with(loki::MALFORMED) && malformed + 1 < MAX_MALFORMED_POLLS => {
                    let n = malformed + 1;
                    QUEUE.with(|q| q.borrow_mut().malformed_polls = n);
                    let s = if n == 1 { " was" } else { "s in a row were" };
                    ui.skipped.try_set(Some(format!("{n} poll answer{s} not read, asking again: {e}")));
                }
                Err(e) if answered && e.starts_with(loki::MALFORMED) => {
                    ui.live.try_set(Live::Failed(format!(
                        "{MAX_MALFORMED_POLLS} poll answers in a row were not read: {e}"
                    )));
                    stop();
                }
                Err(e) => {
                    ui.live.try_set(Live::Failed(e));
                    stop();
                }
            }
        });
    };
    match set_interval_with_handle(tick, std::time::Duration::from_secs(1)) {
        Ok(handle) => CONNECTION.with(|c| *c.borrow_mut() = Some(Connection::Poll(handle))),
        Err(_) => {
            ui.live.try_set(Live::Failed("could not start polling".into()));
        }
    }
}

fn drop_connection() {
    let old = CONNECTION.with(|c| c.borrow_mut().take());
    match old {
        Some(Connection::Socket { socket, _callbacks }) => {
            socket.set_onopen(None);
            socket.set_onmessage(None);
            socket.set_onerror(None);
            socket.set_onclose(None);
            let _ = socket.close();
        }
        Some(Connection::Poll(handle)) => handle.clear(),
        Some(Connection::Wait(handle)) => handle.clear(),
        None => {}
    }
}

/// Stops the tail. The records received stay: those still queued (waiting while paused, or for
/// the next frame) go into the store now, so that a tail started after resumes after them rather
/// than receiving them a second time.
pub(crate) fn stop() {
    GENERATION.with(|g| *g.borrow_mut() += 1);
    drop_connection();
    let Some(ui) = ui() else { return };
    // Every message still unread, past the frame's budget.
    while read_unread(ui) {}
    let records: Vec<Record> = QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        q.paused = false;
        q.records.drain(..).collect()
    });
    if !records.is_empty() {
        let pushed = STORE.with(|s| s.borrow_mut().push(records));
        ui.keep_scroll(pushed.matched);
        ui.changed(true);
    }
    ui.waiting.try_set(0);
    ui.dropped.try_set(dropped());
    if !matches!(ui.live.try_get_untracked(), Some(Live::Failed(_))) {
        ui.live.try_set(Live::Off);
    }
}

/// Stops the tail for good when its page goes: what is queued is dropped, and no frame or
/// answer still to come touches the page.
pub(crate) fn detach() {
    GENERATION.with(|g| *g.borrow_mut() += 1);
    drop_connection();
    UI.with(|u| *u.borrow_mut() = None);
    reset_counts();
    QUEUE.with(|q| q.borrow_mut().paused = false);
}

/// Pauses or resumes showing new records (they keep arriving and wait).
pub(crate) fn set_paused(paused: bool) {
    QUEUE.with(|q| q.borrow_mut().paused = paused);
    if !paused {
        schedule();
    }
}

/// Records waiting while paused.
pub(crate) fn waiting() -> usize {
    QUEUE.with(|q| q.borrow().records.len())
}

/// Queues records for the next frame.
pub(crate) fn deliver(records: Vec<Record>, dropped_by_source: usize) {
    enqueue(records, dropped_by_source);
    schedule();
}

fn enqueue(records: Vec<Record>, dropped_by_source: usize) {
    let capacity = STORE.with(|s| s.borrow().capacity());
    QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        q.dropped_by_source += dropped_by_source as u64;
        for r in records {
            q.resume.note(&r);
            q.records.push_back(r);
        }
        let over = q.records.len().saturating_sub(capacity);
        if over > 0 {
            q.records.drain(..over);
            q.dropped += over as u64;
        }
    });
}

/// Reads queued tail messages into records until the frame's budget is spent (at least one,
/// and past the budget while the unread characters exceed [`MAX_UNREAD`]). Whether some are
/// left.
fn read_unread(ui: Ui) -> bool {
    let deadline = now_ms() + BUDGET_MS;
    loop {
        let next = QUEUE.with(|q| {
            let mut q = q.borrow_mut();
            let text = q.unread.pop_front()?;
            q.unread_len -= text.length() as usize;
            Some(text)
        });
        let Some(text) = next else { return false };
        match loki::parse_tail(&String::from(text)) {
            // After a reconnection the tail starts at the newest record held: its copy is skipped.
            Ok((records, dropped)) => enqueue(QUEUE.with(|q| q.borrow().resume.fresh(records)), dropped),
            // A malformed message is skipped and named beside the status; the tail goes on.
            Err(e) => {
                let n = QUEUE.with(|q| {
                    let mut q = q.borrow_mut();
                    q.skipped += 1;
                    q.skipped
                });
                let s = if n == 1 { "" } else { "s" };
                ui.skipped.try_set(Some(format!("{n} live tail message{s} not shown: {e}")));
            }
        }
        let (left, over) = QUEUE.with(|q| {
            let q = q.borrow();
            (!q.unread.is_empty(), q.unread_len > MAX_UNREAD)
        });
        if !left {
            return false;
        }
        if now_ms() >= deadline && !over {
            return true;
        }
    }
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or_else(js_sys::Date::now, |p| p.now())
}

fn schedule() {
    let go = QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        let go = !q.scheduled;
        q.scheduled = true;
        go
    });
    if go {
        request_animation_frame(flush);
    }
}

/// Reads queued messages within the frame's budget, moves the records into the store (unless
/// paused), and draws what changed at most every [`DRAW_EVERY_MS`]; asks for another frame
/// while messages are left or a drawing is due.
fn flush() {
    QUEUE.with(|q| q.borrow_mut().scheduled = false);
    let Some(ui) = ui() else { return };
    let mut again = read_unread(ui);
    let (records, paused) = QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        if q.paused {
            (Vec::new(), true)
        } else {
            (q.records.drain(..).collect::<Vec<_>>(), false)
        }
    });
    let pushed = if records.is_empty() { Pushed::default() } else { STORE.with(|s| s.borrow_mut().push(records)) };
    let now = now_ms();
    let draw = QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        q.undrawn += pushed.matched;
        q.dirty |= pushed.added > 0 || paused;
        let draw = q.dirty && now - q.drawn_at >= DRAW_EVERY_MS;
        if draw {
            q.dirty = false;
            q.drawn_at = now;
        }
        again |= q.dirty;
        draw.then(|| std::mem::take(&mut q.undrawn))
    });
    if let Some(undrawn) = draw {
        ui.waiting.try_set(waiting());
        ui.dropped.try_set(dropped());
        if !paused {
            ui.keep_scroll(undrawn);
            ui.changed(true);
        }
    }
    if again {
        schedule();
    }
}
