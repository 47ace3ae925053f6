//! The app's frame and routes, the file opener and the table of a trace's log lines; the search
//! page is in `search`, the settings in `settings`, the trace page in `trace_view`, the services in
//! `health`, the log stream in `logs`.

use leptos::prelude::*;

use crate::api;
use crate::file_url::Opened;
use crate::health::HealthPage;
use crate::logs::LogsPage;
use crate::model::format_time;
use crate::router::{provide_router, use_navigate, use_navigations, use_query_map, use_replace, use_route, Route, A};
use crate::search::SearchPage;
use crate::settings::SettingsPage;
use crate::trace_view::{open_file, open_url, waterfall, TracePage};

/// The whole app: a header with navigation and the routed page.
#[component]
pub(crate) fn App() -> impl IntoView {
    provide_router();
    let route = use_route();
    let navigations = use_navigations();
    let page = move || match route.get() {
        Route::Search => view! { <SearchPage /> }.into_any(),
        Route::Settings => view! { <SettingsPage /> }.into_any(),
        Route::Services => view! { <HealthPage /> }.into_any(),
        Route::Trace => view! { <TracePage /> }.into_any(),
        // The log page reads its filters from the query once and keeps them there itself: a
        // navigation that changes only the query (the header's Logs link from /logs?trace_id=…,
        // back and forward) makes the page again from the new query.
        Route::Logs => {
            navigations.track();
            view! { <LogsPage /> }.into_any()
        }
        Route::Open => view! { <OpenFile /> }.into_any(),
        Route::NotFound => view! { <p class="error">"No such page."</p> }.into_any(),
    };
    view! {
        <header class="top">
            <span class="brand">"edgescope"</span>
            <nav>
                // With the sources in use, so that the address after a click names what the page
                // shows (a reload, or the address copied, shows the same data).
                <A href="/" query=api::sources_query>"Search"</A>
                <A href="/logs" query=api::sources_query>"Logs"</A>
                <A href="/services" query=api::sources_query>"Services"</A>
                <A href="/open">"Open file"</A>
                <A href="/settings">"Settings"</A>
            </nav>
        </header>
        {move || api::SOURCE_NOTICE.with(|n| n.get()).map(|text| view! {
            <div class="notice" role="status" data-testid="source-notice">{text}</div>
        })}
        {move || api::NOTICE.with(|n| n.get()).map(|text| view! {
            <div class="notice" role="status" data-testid="notice">{text}</div>
        })}
        <main>{page}</main>
    }
}

pub(crate) fn error_panel(message: String) -> AnyView {
    // A file of the other signal: a link to the page that opens it.
    let other = if message.ends_with(edgescope_otlp::read::LOGS_PAGE) {
        Some(("/logs", "Open the Logs page"))
    } else if message.ends_with(edgescope_otlp::read::TRACES_PAGE) {
        Some(("/open", "Open the trace file page"))
    } else {
        None
    };
    let link = other.map(|(href, text)| view! { " " <a href=href data-testid="other-page">{text}</a> });
    view! { <div class="error" role="alert" data-testid="error">{message}{link}</div> }.into_any()
}

/// The error of a request to the trace source; when that is the collector serving this page,
/// with a hint to choose the sources in Settings (the viewer may be on a static host, with no
/// collector behind it).
pub(crate) fn source_error_panel(message: String) -> AnyView {
    let hint = api::sources().traces.url.is_empty().then(|| {
        view! {
            <p class="muted" data-testid="sources-hint">
                "The trace source is the edgescope collector serving this page. If this page is served otherwise (a static host), choose the trace and log sources in "
                <a href="/settings">"Settings"</a>"."
            </p>
        }
    });
    view! { {error_panel(message)} {hint} }.into_any()
}

pub(crate) fn loading() -> AnyView {
    view! { <p class="muted">"Loading…"</p> }.into_any()
}

/// The file opener at `/open`: a file chosen or dropped, or a URL, kept in the address
/// (`/open?url=…`) so that a link opens the same file.
#[component]
fn OpenFile() -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let replace = use_replace();
    let (state, set_state) = signal(None::<Result<Opened, String>>);
    // Bumped by every file asked for, so that one read more slowly than a later one is dropped.
    let asked = StoredValue::new(0u64);
    let ask = move || {
        asked.update_value(|n| *n += 1);
        set_state.set(None);
        api::NOTICE.with(|n| n.set(None));
        asked.get_value()
    };
    // A file read: shown, with what of it could not be read in the notice bar.
    let show = move |this: u64, answer: Result<(Opened, Option<String>), String>| {
        if asked.try_get_value() != Some(this) {
            return;
        }
        let (answer, skipped) = match answer {
            Ok((opened, skipped)) => (Ok(opened), skipped),
            Err(e) => (Err(e), None),
        };
        api::NOTICE.with(|n| n.set(skipped));
        set_state.set(Some(answer));
    };
    on_cleanup(|| api::NOTICE.with(|n| n.set(None)));
    // Of a file holding several traces: the one opened from its list.
    let chosen = RwSignal::new(None::<String>);
    let typed = RwSignal::new(query.with_untracked(|q| q.get("url")).unwrap_or_default());
    // The file of the address's URL, fetched again on every navigation (a link, back and
    // forward, or the same URL opened again: the file may have changed); an answer for a URL
    // the address no longer holds, or overtaken by a later navigation, is dropped.
    let navigations = use_navigations();
    Effect::new(move |_| {
        let run = navigations.get();
        let Some(url) = query.with(|q| q.get("url")) else { return };
        typed.set(url.clone());
        let this = ask();
        chosen.set(None);
        leptos::task::spawn_local(async move {
            let answer = open_url(url.clone()).await;
            if navigations.get_untracked() == run && query.with_untracked(|q| q.get("url")) == Some(url) {
                show(this, answer);
            }
        });
    });
    let load = move |file: web_sys::File| {
        let this = ask();
        chosen.set(None);
        // A chosen file is not in the address: it no longer shows the URL's file.
        if query.with_untracked(|q| q.get("url").is_some()) {
            replace.to("/open");
        }
        leptos::task::spawn_local(async move {
            show(this, open_file(file).await);
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
    let open = move |url: String| navigate(&format!("/open?url={}", crate::sources::encode(&url)), Default::default());
    let busy = move || query.with(|q| q.get("url").is_some()) && state.with(Option::is_none);
    view! {
        <div class="drop-zone" data-testid="drop-zone" on:dragover=|ev: leptos::ev::DragEvent| ev.prevent_default() on:drop=on_drop>
            <p>"Drop a trace file here, or choose one: OTLP/JSON (or JSON lines), Jaeger JSON or Zipkin v2."</p>
            <input type="file" accept=".json,.jsonl,application/json" data-testid="file-input" on:change=on_change />
            {url_form(typed, "url-input", "open-url", Box::new(open))}
        </div>
        {move || state.with(|state| match state {
            None if busy() => loading(),
            None => ().into_any(),
            Some(Err(e)) => error_panel(e.clone()),
            Some(Ok(Opened::One(trace))) => waterfall(trace.clone()),
            Some(Ok(Opened::Many(list, data))) => match chosen.get() {
                Some(id) => view! {
                    <p><button type="button" class="link" data-testid="back-to-file-list" on:click=move |_| chosen.set(None)>
                        {format!("← all {} traces of the file", list.len())}
                    </button></p>
                    {waterfall(crate::file_url::trace_of(data.as_ref(), &id))}
                }.into_any(),
                None => view! {
                    <p data-testid="file-trace-count">{format!("The file holds {} traces: open one.", list.len())}</p>
                    {crate::search::trace_table(list.clone(), Some(std::rc::Rc::new(move |id| chosen.set(Some(id)))))}
                }.into_any(),
            },
        })}
    }
}

/// A form to open a file by URL: the URL field (`typed`) and an Open button, which calls `open`
/// with the URL trimmed. Shared by the trace and log pages, so that the view is made once.
pub(crate) fn url_form(
    typed: RwSignal<String>,
    input_testid: &'static str,
    button_testid: &'static str,
    open: Box<dyn Fn(String)>,
) -> AnyView {
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        open(typed.get_untracked().trim().to_owned());
    };
    view! {
        <form class="open-url" on:submit=on_submit>
            <label>"or open one by URL "
                <input type="url" placeholder="https://example.com/file.json" data-testid=input_testid
                    prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev)) />
            </label>
            <button type="submit" data-testid=button_testid>"Open"</button>
        </form>
    }
    .into_any()
}

/// Log lines as a table: time, level, service, message and a link to the trace.
pub(crate) fn log_table(lines: Vec<crate::model::LogLine>) -> AnyView {
    view! {
        <table class="list logs" data-testid="log-list">
            <thead><tr><th>"Time"</th><th>"Level"</th><th>"Service"</th><th>"Message"</th><th>"Trace"</th></tr></thead>
            <tbody>
                {lines.into_iter().map(|l| {
                    let level_class = format!("level level-{}", l.level.to_ascii_lowercase());
                    let service_style = format!("color:{}", crate::trace_view::service_colour(&l.service));
                    view! {
                        <tr data-testid="log-row">
                            <td class="mono">{format_time(l.time)}</td>
                            <td><span class=level_class>{l.level}</span></td>
                            <td class="service" style=service_style>{l.service}</td>
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
