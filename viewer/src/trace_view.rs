//! The trace page: a trace's header and its waterfall, with only the visible rows in the DOM.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api;
use crate::app::{error_panel, loading, log_table};
use crate::model::{format_duration, format_time, log_lines, Row, Trace};

#[component]
pub(crate) fn TracePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = LocalResource::new(move || {
        let id = id();
        async move { api::trace(&id).await.map(|d| Trace::build(&d)) }
    });
    // The trace's log records, correlated by trace id, under the waterfall.
    let logs = LocalResource::new(move || {
        let id = id();
        async move { api::trace_logs(&id).await }
    });
    view! {
        {move || match data.get() {
            None => loading(),
            Some(Err(e)) => error_panel(e.to_string()),
            Some(Ok(trace)) => waterfall(trace),
        }}
        <section class="trace-logs" data-testid="trace-logs">
            <h2>"Logs of this trace"</h2>
            {move || match logs.get() {
                None => loading(),
                Some(Err(e)) => error_panel(e.to_string()),
                Some(Ok(data)) => {
                    let mut lines = log_lines(&data);
                    lines.reverse();
                    if lines.is_empty() {
                        view! { <p class="muted">"No log records carry this trace id."</p> }.into_any()
                    } else {
                        log_table(lines)
                    }
                }
            }}
        </section>
    }
}

/// Height of one waterfall row in pixels; rows are placed by index, so it must match the CSS.
const ROW_HEIGHT: f64 = 26.0;
/// Rows rendered above and below the visible ones, so that fast scrolling shows no gap.
const OVERSCAN: usize = 12;

pub(crate) fn waterfall(trace: Trace) -> AnyView {
    let span_count = trace.rows.len();
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
        <Waterfall rows=trace.rows />
    }
    .into_any()
}

/// The waterfall: only the rows in view (and a few around them) exist in the DOM, placed
/// absolutely inside a spacer as tall as every row, so a trace of 100,000 spans scrolls like
/// one of ten.
#[component]
fn Waterfall(rows: Vec<Row>) -> impl IntoView {
    let total = rows.len();
    let rows = StoredValue::new(rows);
    let scroll_top = RwSignal::new(0.0f64);
    let viewport = RwSignal::new(800.0f64);
    let container = NodeRef::<leptos::html::Div>::new();
    Effect::new(move || {
        if let Some(el) = container.get() {
            let h = el.client_height() as f64;
            if h > 0.0 {
                viewport.set(h);
            }
        }
    });
    let visible = move || {
        let first = ((scroll_top.get() / ROW_HEIGHT) as usize).saturating_sub(OVERSCAN);
        let count = (viewport.get() / ROW_HEIGHT).ceil() as usize + 2 * OVERSCAN;
        first..(first + count).min(total)
    };
    let on_scroll = move |ev: leptos::ev::Event| {
        let el: web_sys::Element = event_target(&ev);
        scroll_top.set(el.scroll_top() as f64);
    };
    view! {
        <div class="waterfall" data-testid="waterfall" node_ref=container on:scroll=on_scroll>
            <div class="waterfall-spacer" style=format!("height:{}px", total as f64 * ROW_HEIGHT)>
                <For each=visible key=|i| *i children=move |i| rows.with_value(|rows| row_view(i, &rows[i])) />
            </div>
        </div>
    }
}

fn row_view(index: usize, row: &Row) -> impl IntoView {
    let label_pad = format!("padding-left:{}px", 8 + row.depth * 14);
    let bar = format!("left:{:.4}%;width:max({:.4}%,1px)", row.offset * 100.0, row.width * 100.0);
    let top = format!("top:{}px", index as f64 * ROW_HEIGHT);
    view! {
        <div class="span-row" class:error=row.error style=top data-testid="span-row" data-depth=row.depth data-index=index>
            <div class="span-label" style=label_pad title=row.span.name.clone()>
                <span class="service">{row.service.clone()}</span>" "
                <span class="span-name" data-testid="span-name">{row.span.name.clone()}</span>
            </div>
            <div class="span-track">
                <div class="span-bar" style=bar></div>
            </div>
            <span class="span-duration">{format_duration(row.span.duration_nanos())}</span>
        </div>
    }
}
