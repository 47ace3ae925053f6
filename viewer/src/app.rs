//! The views: the trace list, the file opener and the log list; the trace page is in `trace_view`.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

use crate::api;
use crate::model::{format_duration, format_time, log_lines, Trace};
use crate::trace_view::{waterfall, TracePage};

/// The whole app: a header with navigation and the routed page.
#[component]
pub(crate) fn App() -> impl IntoView {
    view! {
        <Router>
            <header class="top">
                <span class="brand">"edgescope"</span>
                <nav>
                    <A href="/">"Traces"</A>
                    <A href="/logs">"Logs"</A>
                    <A href="/open">"Open file"</A>
                </nav>
            </header>
            <main>
                <Routes fallback=|| view! { <p class="error">"No such page."</p> }>
                    <Route path=path!("/") view=TraceList />
                    <Route path=path!("/trace/:id") view=TracePage />
                    <Route path=path!("/logs") view=LogsPage />
                    <Route path=path!("/open") view=OpenFile />
                </Routes>
            </main>
        </Router>
    }
}

pub(crate) fn error_panel(message: String) -> AnyView {
    view! { <div class="error" role="alert" data-testid="error">{message}</div> }.into_any()
}

pub(crate) fn loading() -> AnyView {
    view! { <p class="muted">"Loading…"</p> }.into_any()
}

#[component]
fn TraceList() -> impl IntoView {
    let traces = LocalResource::new(api::recent_traces);
    view! {
        <h1>"Recent traces"</h1>
        {move || match traces.get() {
            None => loading(),
            Some(Err(e)) => error_panel(e.to_string()),
            Some(Ok(list)) if list.is_empty() => view! {
                <p class="muted" data-testid="empty">"No traces yet. Send OTLP to this collector's port 4318."</p>
            }.into_any(),
            Some(Ok(list)) => view! {
                <table class="list" data-testid="trace-list">
                    <thead><tr>
                        <th>"Root"</th><th>"Trace id"</th><th>"Start"</th><th>"Duration"</th><th>"Spans"</th><th>"Errors"</th>
                    </tr></thead>
                    <tbody>
                        {list.into_iter().map(|t| view! {
                            <tr data-testid="trace-row">
                                <td><span class="service">{t.root_service}</span>" "{t.root_name}</td>
                                <td class="mono"><a href=format!("/trace/{}", t.trace_id)>{t.trace_id.clone()}</a></td>
                                <td>{format_time(t.start)}</td>
                                <td>{format_duration(t.duration)}</td>
                                <td>{t.span_count}</td>
                                <td class:has-errors=move || t.error_count != 0>{t.error_count}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any(),
        }}
    }
}

/// Opens a trace file (OTLP/JSON or JSON lines, Jaeger JSON, Zipkin v2) chosen or dropped by
/// the user. The file never leaves the page.
#[component]
fn OpenFile() -> impl IntoView {
    let (state, set_state) = signal(None::<Result<Trace, String>>);
    let load = move |file: web_sys::File| {
        set_state.set(None);
        leptos::task::spawn_local(async move {
            let text = wasm_bindgen_futures::JsFuture::from(file.text()).await;
            let result = match text.ok().and_then(|t| t.as_string()) {
                None => Err(format!("{} could not be read as text", file.name())),
                Some(text) => edgescope_otlp::read::any_traces(&text)
                    .map_err(|e| format!("{} is not a trace file: {e}", file.name()))
                    .and_then(|data| {
                        let trace = Trace::build_first(&data);
                        if trace.rows.is_empty() {
                            Err(format!("{} holds no spans", file.name()))
                        } else {
                            Ok(trace)
                        }
                    }),
            };
            set_state.set(Some(result));
        });
    };
    let on_change = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|files| files.get(0)) {
            load(file);
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        if let Some(file) = ev.data_transfer().and_then(|d| d.files()).and_then(|files| files.get(0)) {
            load(file);
        }
    };
    view! {
        <div class="drop-zone" data-testid="drop-zone" on:dragover=|ev: leptos::ev::DragEvent| ev.prevent_default() on:drop=on_drop>
            <p>"Drop a trace file here, or choose one: OTLP/JSON (or JSON lines), Jaeger JSON or Zipkin v2."</p>
            <input type="file" accept=".json,.jsonl,application/json" data-testid="file-input" on:change=on_change />
        </div>
        {move || match state.get() {
            None => ().into_any(),
            Some(Err(e)) => error_panel(e),
            Some(Ok(trace)) => waterfall(trace),
        }}
    }
}

#[component]
fn LogsPage() -> impl IntoView {
    let logs = LocalResource::new(api::recent_logs);
    view! {
        <h1>"Recent logs"</h1>
        {move || match logs.get() {
            None => loading(),
            Some(Err(e)) => error_panel(e.to_string()),
            Some(Ok(data)) => {
                let lines = log_lines(&data);
                if lines.is_empty() {
                    return view! { <p class="muted" data-testid="empty">"No log records yet."</p> }.into_any();
                }
                log_table(lines)
            }
        }}
    }
}

/// Log lines as a table: time, level, service, message and a link to the trace.
pub(crate) fn log_table(lines: Vec<crate::model::LogLine>) -> AnyView {
    view! {
        <table class="list logs" data-testid="log-list">
            <thead><tr><th>"Time"</th><th>"Level"</th><th>"Service"</th><th>"Message"</th><th>"Trace"</th></tr></thead>
            <tbody>
                {lines.into_iter().map(|l| {
                    let level_class = format!("level level-{}", l.level.to_lowercase());
                    view! {
                        <tr data-testid="log-row">
                            <td class="mono">{format_time(l.time)}</td>
                            <td><span class=level_class>{l.level}</span></td>
                            <td class="service">{l.service}</td>
                            <td class="message" data-testid="log-message">{l.message}</td>
                            <td class="mono">{l.trace_id.map(|t| view! {
                                <a href=format!("/trace/{t}") data-testid="log-trace-link">{t.clone()}</a>
                            })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
