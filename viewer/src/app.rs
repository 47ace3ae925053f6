//! The views: the trace list, a trace's waterfall, and the log list.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::hooks::use_params_map;
use leptos_router::path;

use crate::api;
use crate::model::{format_duration, format_time, log_lines, Trace};

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
                </nav>
            </header>
            <main>
                <Routes fallback=|| view! { <p class="error">"No such page."</p> }>
                    <Route path=path!("/") view=TraceList />
                    <Route path=path!("/trace/:id") view=TracePage />
                    <Route path=path!("/logs") view=LogsPage />
                </Routes>
            </main>
        </Router>
    }
}

fn error_panel(message: String) -> AnyView {
    view! { <div class="error" role="alert" data-testid="error">{message}</div> }.into_any()
}

fn loading() -> AnyView {
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

#[component]
fn TracePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = LocalResource::new(move || {
        let id = id();
        async move { api::trace(&id).await.map(|d| Trace::build(&d)) }
    });
    view! {
        {move || match data.get() {
            None => loading(),
            Some(Err(e)) => error_panel(e.to_string()),
            Some(Ok(trace)) => waterfall(trace),
        }}
    }
}

fn waterfall(trace: Trace) -> AnyView {
    let span_count = trace.rows.len();
    let rows = trace
        .rows
        .into_iter()
        .map(|row| {
            let title = row.span.name.clone();
            let duration = format_duration(row.span.duration_nanos());
            let label_pad = format!("padding-left:{}px", 8 + row.depth * 14);
            let bar = format!("left:{:.4}%;width:max({:.4}%,1px)", row.offset * 100.0, row.width * 100.0);
            view! {
                <div class="span-row" class:error=row.error data-testid="span-row" data-depth=row.depth>
                    <div class="span-label" style=label_pad title=title>
                        <span class="service">{row.service}</span>" "
                        <span class="span-name" data-testid="span-name">{row.span.name}</span>
                    </div>
                    <div class="span-track">
                        <div class="span-bar" style=bar></div>
                    </div>
                    <span class="span-duration">{duration}</span>
                </div>
            }
        })
        .collect_view();
    view! {
        <section class="trace-header" data-testid="trace-header">
            <h1 class="mono">"Trace "{trace.trace_id.clone()}</h1>
            <dl>
                <dt>"Start"</dt><dd>{format_time(trace.start)}</dd>
                <dt>"Duration"</dt><dd>{format_duration(trace.duration)}</dd>
                <dt>"Services"</dt><dd>{trace.services.join(", ")}</dd>
                <dt>"Spans"</dt><dd data-testid="span-count">{span_count}</dd>
                <dt>"Depth"</dt><dd>{trace.depth}</dd>
                <dt>"Errors"</dt><dd>{trace.errors}</dd>
            </dl>
        </section>
        <div class="waterfall" data-testid="waterfall">{rows}</div>
    }
    .into_any()
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
                }.into_any()
            }
        }}
    }
}
