//! The selected span's details: ids, kind, status, timing, attributes, events, links, resource
//! and scope. Long values are cut at [`LIMIT`] characters with a control to show all.

use edgescope_otlp::{KeyValue, SpanKind, StatusCode};
use leptos::prelude::*;

use crate::model::{dropped_text, flags_text, format_duration, format_offset, value_text, Trace};

/// Characters of a value shown before it is cut.
const LIMIT: usize = 256;

/// A value, cut at [`LIMIT`] characters with a button that shows the rest.
fn long_text(text: String) -> AnyView {
    let Some((cut, _)) = text.char_indices().nth(LIMIT) else {
        return view! { <span class="value">{text}</span> }.into_any();
    };
    let total = text.chars().count();
    let open = RwSignal::new(false);
    let short = format!("{}…", &text[..cut]);
    view! {
        <span class="value" data-testid="value">{move || if open.get() { text.clone() } else { short.clone() }}</span>
        " "
        <button class="link" data-testid="expand-value" on:click=move |_| open.update(|o| *o = !*o)>
            {move || if open.get() { "show less".to_owned() } else { format!("show all {total} characters") }}
        </button>
    }
    .into_any()
}

fn attributes_table(attrs: &[KeyValue], testid: &'static str) -> AnyView {
    if attrs.is_empty() {
        return view! { <p class="muted">"None."</p> }.into_any();
    }
    view! {
        <table class="kv" data-testid=testid>
            <tbody>
                {attrs.iter().map(|kv| view! {
                    <tr>
                        <th class="mono">{kv.key.clone()}</th>
                        <td class="mono">{long_text(kv.value.as_ref().map(value_text).unwrap_or_default())}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

fn kind_name(kind: SpanKind) -> &'static str {
    match kind {
        SpanKind::Internal => "internal",
        SpanKind::Server => "server",
        SpanKind::Client => "client",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
        _ => "unspecified",
    }
}

/// The details panel of row `k`.
pub(crate) fn span_details(trace: StoredValue<Trace>, k: usize) -> AnyView {
    trace.with_value(|t| {
        let row = &t.rows[k];
        let span = &row.span;
        let scope = &t.scopes[row.scope];
        let status = match span.status.code {
            StatusCode::Error => "error",
            StatusCode::Ok => "ok",
            _ => "unset",
        };
        let parent = span.parent_span_id.map(|p| p.to_hex()).unwrap_or_else(|| "—".into());
        let events = span
            .events
            .iter()
            .map(|e| {
                view! {
                    <li>
                        <span class="mono" data-testid="event-offset">{format_offset(e.time_unix_nano, span.start_time_unix_nano)}</span>" "
                        <strong>{e.name.clone()}</strong>
                        {(!e.attributes.is_empty()).then(|| attributes_table(&e.attributes, "event-attributes"))}
                    </li>
                }
            })
            .collect_view();
        let links = span
            .links
            .iter()
            .map(|l| {
                let (trace_id, span_id) = (l.trace_id.to_hex(), l.span_id.to_hex());
                // With the page's sources, so that the linked trace is looked up where this one was.
                let sources = crate::api::sources_query();
                let href = if sources.is_empty() {
                    format!("/trace/{trace_id}?span={span_id}")
                } else {
                    format!("/trace/{trace_id}?span={span_id}&{sources}")
                };
                view! {
                    <li>
                        <a href=href class="mono" data-testid="span-link">{format!("{trace_id} / {span_id}")}</a>
                        {(!l.attributes.is_empty()).then(|| attributes_table(&l.attributes, "link-attributes"))}
                    </li>
                }
            })
            .collect_view();
        view! {
            <aside class="span-details" data-testid="span-details">
                <h2><span class="service" style=format!("color:{}", super::service_colour(t.service(row)))>{t.service(row).to_owned()}</span>" "<span data-testid="details-name">{span.name.clone()}</span></h2>
                <dl class="facts">
                    <dt>"Kind"</dt><dd data-testid="details-kind">{kind_name(span.kind)}</dd>
                    <dt>"Status"</dt><dd data-testid="details-status" class:has-errors=row.error>{status}
                        {(!span.status.message.is_empty()).then(|| view! { ": "{long_text(span.status.message.clone())} })}</dd>
                    <dt>"Start"</dt><dd>"+"{format_duration(span.start_time_unix_nano.saturating_sub(t.start))}</dd>
                    <dt>"Duration"</dt><dd data-testid="details-duration">{format_duration(span.duration_nanos())}
                        {(span.end_time_unix_nano < span.start_time_unix_nano).then_some(" (its end time is before its start)")}</dd>
                    <dt>"Span id"</dt><dd class="mono" data-testid="details-span-id">{span.span_id.to_hex()}</dd>
                    <dt>"Parent id"</dt><dd class="mono">{parent}</dd>
                    <dt>"Trace id"</dt><dd class="mono">{span.trace_id.to_hex()}</dd>
                    <dt>"Flags"</dt><dd data-testid="details-flags">{flags_text(span.flags)}</dd>
                    {(!span.trace_state.is_empty()).then(|| view! {
                        <dt>"Trace state"</dt><dd class="mono" data-testid="details-tracestate">{long_text(span.trace_state.clone())}</dd>
                    })}
                    {dropped_text(span.dropped_attributes_count, span.dropped_events_count, span.dropped_links_count).map(|d| view! {
                        <dt>"Dropped"</dt><dd data-testid="details-dropped">{d}" (over the SDK's limits)"</dd>
                    })}
                    {row.skew.then(|| view! { <dt>"Clock skew"</dt><dd>"outside its parent's time range"</dd> })}
                    {row.critical.then(|| view! { <dt>"Critical path"</dt><dd>"yes"</dd> })}
                </dl>
                <h3>"Attributes"</h3>
                {attributes_table(&span.attributes, "details-attributes")}
                <h3>"Events"</h3>
                {if span.events.is_empty() { view! { <p class="muted">"None."</p> }.into_any() } else {
                    view! { <ul class="events" data-testid="details-events">{events}</ul> }.into_any()
                }}
                <h3>"Links"</h3>
                {if span.links.is_empty() { view! { <p class="muted">"None."</p> }.into_any() } else {
                    view! { <ul class="links" data-testid="details-links">{links}</ul> }.into_any()
                }}
                <h3>"Resource"</h3>
                {attributes_table(&scope.resource.attributes, "details-resource")}
                {dropped_text(scope.resource.dropped_attributes_count, 0, 0).map(|d| view! {
                    <p class="muted" data-testid="resource-dropped">{d}" dropped (over the SDK's limits)"</p>
                })}
                <h3>"Scope"</h3>
                <p class="mono" data-testid="details-scope">{scope.scope.name.clone()}" "{scope.scope.version.clone()}</p>
                {(!scope.scope.attributes.is_empty()).then(|| attributes_table(&scope.scope.attributes, "scope-attributes"))}
            </aside>
        }
        .into_any()
    })
}
