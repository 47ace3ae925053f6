//! The settings page: which backend serves traces and which serves logs. Saved in the browser;
//! the page URL carries the choice (without credentials) so that links reproduce the view.

use crate::router::use_navigate;
use leptos::prelude::*;

use crate::api;
use crate::sources::{Kind, Source, Sources};

#[component]
fn SourceFields(title: &'static str, testid: &'static str, source: RwSignal<Source>, logs: bool) -> impl IntoView {
    let kinds: Vec<Kind> = Kind::ALL.into_iter().filter(|k| if logs { k.has_logs() } else { k.has_traces() }).collect();
    view! {
        <fieldset class="source" data-testid=testid>
            <legend>{title}</legend>
            <label>"Kind"
                // The choice follows the source: a chip's "as …" and Reset change it too.
                <select data-testid=format!("{testid}-kind") prop:value=move || source.with(|s| s.kind.id()) on:change=move |ev| {
                    let id = event_target_value(&ev);
                    source.update(|s| s.kind = Kind::ALL.into_iter().find(|k| k.id() == id).unwrap_or(Kind::Collector));
                }>
                    {kinds.into_iter().map(|k| {
                        let selected = move || source.with(|s| s.kind == k);
                        view! { <option value=k.id() prop:selected=selected>{k.label()}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label class="wide">"URL"
                <input type="text" data-testid=format!("{testid}-url") placeholder="empty: this collector · /upstream/NAME · https://backend (must allow CORS)"
                    prop:value=move || source.with(|s| s.url.clone())
                    on:input=move |ev| source.update(|s| s.url = event_target_value(&ev).trim().trim_end_matches('/').to_owned()) />
            </label>
            <label class="wide">"Authorization header"
                <input type="password" autocomplete="off" data-testid=format!("{testid}-auth") placeholder="optional, e.g. Bearer …; kept in this browser only"
                    prop:value=move || source.with(|s| s.auth.clone().unwrap_or_default())
                    on:input=move |ev| source.update(|s| { let v = event_target_value(&ev); s.auth = (!v.is_empty()).then_some(v); }) />
            </label>
        </fieldset>
    }
}

/// The settings page at `/settings`.
#[component]
pub(crate) fn SettingsPage() -> impl IntoView {
    let current = api::sources();
    let traces = RwSignal::new(current.traces);
    let logs = RwSignal::new(current.logs);
    let error = RwSignal::new(None::<String>);
    let upstreams = api::load(api::upstreams);
    let navigate = use_navigate();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let sources = Sources { traces: traces.get_untracked(), logs: logs.get_untracked() };
        for (what, s) in [("trace", &sources.traces), ("log", &sources.logs)] {
            if Source::from_key(&s.key()).is_none() {
                error.set(Some(format!(
                    "The {what} source URL must be empty, a path such as /upstream/tempo, or an http(s) URL."
                )));
                return;
            }
        }
        // The query of the sources saved, not of this page's address (which may name others).
        let query = api::query_of(&sources);
        api::set_sources(sources);
        navigate(&if query.is_empty() { "/".to_owned() } else { format!("/?{query}") }, Default::default());
    };
    let pick = move |name: String, kind: Kind| {
        let url = format!("/upstream/{name}");
        if kind.has_traces() {
            traces.set(Source { kind, url, auth: None });
        } else {
            logs.set(Source { kind, url, auth: None });
        }
    };
    view! {
        <h1>"Sources"</h1>
        <p class="muted">
            "Traces and logs may come from different backends; a trace's logs are looked up in the log source by trace id. "
            "Backends that send no CORS headers (Jaeger, Tempo, Loki and Zipkin by default) are reached through the collector: "
            "start it with "<code>"--upstream NAME=URL"</code>" and use "<code>"/upstream/NAME"</code>" here."
        </p>
        {move || {
            let names = upstreams.get().unwrap_or_default();
            (!names.is_empty()).then(|| view! {
                <div class="upstreams" data-testid="upstreams">
                    <span>"Upstreams of this collector: "</span>
                    {names.into_iter().map(|name| view! {
                        <span class="chip">{name.clone()}" "
                            {[Kind::Jaeger, Kind::Tempo, Kind::Zipkin, Kind::Loki].into_iter().map(|k| {
                                let n = name.clone();
                                view! { <button type="button" class="link" on:click=move |_| pick(n.clone(), k)>{format!("as {}", k.id())}</button> }
                            }).collect_view()}
                        </span>
                    }).collect_view()}
                </div>
            })
        }}
        <form class="settings" data-testid="settings-form" on:submit=save>
            <SourceFields title="Trace source" testid="traces" source=traces logs=false />
            <SourceFields title="Log source" testid="logs" source=logs logs=true />
            {move || error.get().map(|e| view! { <div class="error" role="alert">{e}</div> })}
            <button type="submit" data-testid="save-sources">"Save"</button>
            " "
            <button type="button" class="link" data-testid="reset-sources" on:click=move |_| {
                traces.set(Source::collector());
                logs.set(Source::collector());
            }>"Reset to this collector"</button>
        </form>
    }
}
