//! The trace search page: filters, a duration-over-time scatter plot and the result list.
//! Every filter lives in the page URL, so a link reproduces the search.

use crate::num::fixed;
use crate::router::{use_navigate, use_navigations, use_query_map, ParamsMap};
use leptos::prelude::*;

use crate::api;
use crate::model::{datetime_input, format_duration, format_time, parse_datetime_input};
use crate::sources::{self, Kind, SearchQuery, SortBy, TraceSummary};

/// Time windows offered, as (id, label, nanoseconds).
pub(crate) const WINDOWS: [(&str, &str, u64); 6] = [
    ("15m", "Last 15 minutes", 900_000_000_000),
    ("1h", "Last hour", 3_600_000_000_000),
    ("6h", "Last 6 hours", 21_600_000_000_000),
    ("24h", "Last 24 hours", 86_400_000_000_000),
    ("7d", "Last 7 days", 604_800_000_000_000),
    ("all", "All time", u64::MAX),
];

fn now_ns() -> u64 {
    js_sys::Date::now() as u64 * 1_000_000
}

/// The form's fields as they stand in the URL.
#[derive(Debug, Clone, PartialEq, Default)]
struct Form {
    service: String,
    operation: String,
    tags: String,
    min: String,
    max: String,
    window: String,
    /// A custom range's start and end (`window` is `custom`), Unix microseconds as Jaeger UI's
    /// links write them; an empty end is now.
    from: String,
    to: String,
    limit: String,
    sort: String,
}

impl Form {
    fn from_query(q: &ParamsMap) -> Form {
        let get = |k: &str| q.get(k).unwrap_or_default();
        Form {
            service: get("service"),
            operation: get("operation"),
            tags: get("tags"),
            min: get("minDuration"),
            max: get("maxDuration"),
            // Jaeger UI's links say `lookback=custom&start=…&end=…`; a start alone means the same.
            window: q.get("lookback").or_else(|| q.get("start").map(|_| CUSTOM.into())).unwrap_or_else(|| "1h".into()),
            from: get("start"),
            to: get("end"),
            limit: q.get("limit").unwrap_or_else(|| "20".into()),
            sort: q.get("sort").unwrap_or_else(|| "newest".into()),
        }
    }

    fn to_query(&self) -> String {
        let none = String::new();
        let pairs = [
            ("service", &self.service),
            ("operation", &self.operation),
            ("tags", &self.tags),
            ("minDuration", &self.min),
            ("maxDuration", &self.max),
            ("lookback", &self.window),
            ("start", if self.window == CUSTOM { &self.from } else { &none }),
            ("end", if self.window == CUSTOM { &self.to } else { &none }),
            ("limit", &self.limit),
            ("sort", &self.sort),
        ];
        let mut parts: Vec<String> =
            pairs.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", sources::encode(v))).collect();
        let src = api::sources_query();
        if !src.is_empty() {
            parts.push(src);
        }
        parts.join("&")
    }

    /// The search it asks for, or what is wrong with it.
    fn query(&self) -> Result<(SearchQuery, SortBy), String> {
        let now = now_ns();
        // A range the Time field does not offer (a link's `lookback=2h`) is searched as written,
        // and one that is not a range is named rather than replaced.
        let (start, end) = match WINDOWS.iter().find(|(id, _, _)| *id == self.window) {
            Some(w) => (now.saturating_sub(w.2), now),
            None if self.window == CUSTOM => sources::custom_range(&self.from, &self.to, now)?,
            None => (
                now.saturating_sub(sources::parse_lookback(&self.window).ok_or_else(|| {
                    format!(
                        "Time `{}`: write a range such as 15m, 2h or 3d, or choose one in the Time field",
                        self.window
                    )
                })?),
                now,
            ),
        };
        let duration = |label: &str, text: &str| -> Result<Option<u64>, String> {
            if text.trim().is_empty() {
                return Ok(None);
            }
            sources::parse_duration(text)
                .map(Some)
                .ok_or_else(|| format!("{label} `{text}`: write a duration such as 250ms, 1.5s or 2m"))
        };
        let (min_duration, max_duration) =
            (duration("minimum duration", &self.min)?, duration("maximum duration", &self.max)?);
        sources::check_duration_bounds(min_duration, max_duration)?;
        let query = SearchQuery {
            service: self.service.clone(),
            operation: self.operation.clone(),
            attributes: sources::parse_attributes(&self.tags)?,
            min_duration,
            max_duration,
            start,
            end,
            limit: self
                .limit
                .parse()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or("limit: a number from 1 to 1000")?,
        };
        Ok((query, SortBy::from_id(&self.sort)))
    }
}

/// The Time field's value for a range given by its start and end.
const CUSTOM: &str = "custom";

/// What a range field shows for the URL's microseconds (empty when they do not read).
fn range_input(micros: &str) -> String {
    micros.parse::<u64>().ok().and_then(|us| us.checked_mul(1_000)).map(datetime_input).unwrap_or_default()
}

/// The search page at `/`.
#[component]
pub(crate) fn SearchPage() -> impl IntoView {
    let query_map = use_query_map();
    let form = Memo::new(move |_| Form::from_query(&query_map.get()));
    let draft = RwSignal::new(form.get_untracked());
    Effect::new(move || draft.set(form.get()));
    let services = api::load(api::services);
    let attribute_keys = api::load(api::attribute_keys);
    let operations = api::load(move || api::operations(draft.with(|d| d.service.clone())));
    // Asked again on every navigation to the page too, not only when a filter changes: Search
    // with the same filters (the address unchanged) shows what arrived since.
    let navigations = use_navigations();
    // Each answer carries the navigation and the form it is for: while another search is out,
    // the page says "Searching…", never the results before under the new filters.
    let results = api::load(move || {
        let asked = (navigations.get(), form.get());
        let form = asked.1.clone();
        let answer = async move {
            // A form that does not read is the form's error, not the source's: no hint about sources.
            let (query, sort) = match form.query() {
                Ok(q) => q,
                Err(e) => return Ok(Err(e)),
            };
            let (start, end) = (query.start, query.end);
            let cut = sources::searched_range(&api::sources().traces, &query);
            let (mut list, skipped) = api::search(query).await?;
            sort.sort(&mut list);
            Ok::<_, api::ApiError>(Ok((list, start, end, cut, skipped)))
        };
        async move { (asked, answer.await) }
    });
    let results = move || {
        let now = (navigations.get(), form.get());
        results.with(|r| r.as_ref().filter(|(asked, _)| *asked == now).map(|(_, answer)| answer.clone()))
    };
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        navigate(&format!("/?{}", draft.get_untracked().to_query()), Default::default());
    };
    let field = move |get: fn(&Form) -> String, set: fn(&mut Form, String)| {
        (move || draft.with(get), move |ev: leptos::ev::Event| draft.update(|d| set(d, event_target_value(&ev))))
    };
    let (tags, on_tags) = field(|f| f.tags.clone(), |f, v| f.tags = v);
    let (min, on_min) = field(|f| f.min.clone(), |f, v| f.min = v);
    let (max, on_max) = field(|f| f.max.clone(), |f, v| f.max = v);
    let (limit, on_limit) = field(|f| f.limit.clone(), |f, v| f.limit = v);
    let source = api::sources().traces;
    // The selects show the draft as it changes (Back, a link's value they do not list).
    let field_of = move |get: fn(&Form) -> &String| Memo::new(move |_| draft.with(|d| get(d).clone()));
    let (service, operation, window) = (field_of(|d| &d.service), field_of(|d| &d.operation), field_of(|d| &d.window));
    view! {
        <h1>"Search traces"</h1>
        <p class="muted source-line" data-testid="trace-source">
            "Source: "{source.kind.label()}{(!source.url.is_empty()).then(|| format!(" at {}", source.url))}" · "
            <a href="/settings">"change"</a>
        </p>
        <form class="search-form" data-testid="search-form" on:submit=submit>
            <label>"Service"
                <select data-testid="service" on:change=move |ev| draft.update(|d| { d.service = event_target_value(&ev); d.operation.clear(); })
                    prop:value=service>
                    {move || name_options(&service.get(), if source.kind == Kind::Collector { "Any service" } else { "Choose a service" },
                        services.get().and_then(Result::ok).unwrap_or_default())}
                </select>
            </label>
            <label>"Operation"
                <select data-testid="operation" on:change=move |ev| draft.update(|d| d.operation = event_target_value(&ev))
                    prop:value=operation>
                    {move || name_options(&operation.get(), "Any operation", operations.get().and_then(Result::ok).unwrap_or_default())}
                </select>
            </label>
            <label class="wide">"Attributes"
                <input type="text" data-testid="tags" placeholder="http.status_code=500 http.route=\"/cart\"" list="attribute-keys"
                    prop:value=tags on:input=on_tags />
                <datalist id="attribute-keys" data-testid="attribute-keys">
                    {move || attribute_keys.get().unwrap_or_default().into_iter().map(|k| view! { <option value=format!("{k}=") /> }).collect_view()}
                </datalist>
            </label>
            <label>"Min duration"<input type="text" data-testid="min-duration" placeholder="100ms" prop:value=min on:input=on_min /></label>
            <label>"Max duration"<input type="text" data-testid="max-duration" placeholder="2s" prop:value=max on:input=on_max /></label>
            <label>"Time"
                <select data-testid="lookback" prop:value=window on:change=move |ev| draft.update(|d| {
                    d.window = event_target_value(&ev);
                    // A custom range starts as the last hour, to be narrowed or moved.
                    if d.window == CUSTOM && d.from.is_empty() {
                        let now = now_ns() / 1_000;
                        (d.from, d.to) = ((now - 3_600_000_000).to_string(), now.to_string());
                    }
                })>
                    {move || window_options(&window.get(), WINDOWS.len())}
                </select>
            </label>
            {move || draft.with(|d| d.window == CUSTOM).then(|| {
                let input = move |label: &'static str, id: &'static str, get: fn(&Form) -> &String, set: fn(&mut Form, String)| view! {
                    <label>{label}
                        <input type="datetime-local" step="1" data-testid=id
                            prop:value=move || draft.with(|d| range_input(get(d)))
                            on:change=move |ev| {
                                // Cleared: no start (an error) or no end (now); a time that does not
                                // read is kept as typed, for the search to name it.
                                let text = event_target_value(&ev);
                                let value = match parse_datetime_input(&text) {
                                    Some(t) => (t / 1_000).to_string(),
                                    None => text.trim().to_owned(),
                                };
                                draft.update(|d| set(d, value));
                            } />
                    </label>
                };
                view! {
                    {input("From (UTC)", "range-from", |f| &f.from, |f, v| f.from = v)}
                    {input("To (UTC)", "range-to", |f| &f.to, |f, v| f.to = v)}
                }
            })}
            <label>"Limit"<input type="number" min="1" max="1000" data-testid="limit" prop:value=limit on:input=on_limit /></label>
            <button type="submit" data-testid="search">"Search"</button>
        </form>
        {move || match results() {
            None => view! { <p class="muted" data-testid="searching">"Searching…"</p> }.into_any(),
            // When the source could not even list its services (it is down), that is the news, not
            // that a Jaeger search needs a service the empty list cannot offer.
            Some(Err(e)) => crate::app::source_error_panel(match services.get() {
                Some(Err(listing)) => listing.to_string(),
                _ => e.to_string(),
            }),
            Some(Ok(Err(e))) => crate::app::error_panel(e),
            Some(Ok(Ok((list, _, _, cut, skipped)))) if list.is_empty() => view! {
                {range_notice(cut)}
                {skipped_notice(skipped)}
                <p class="muted" data-testid="empty">"No traces match. Widen the time range or remove a filter."</p>
            }.into_any(),
            Some(Ok(Ok((list, start, end, cut, skipped)))) => view! {
                {skipped_notice(skipped)}
                {results_view(list, start, end, cut, form.get_untracked())}
            }.into_any(),
        }}
    }
}

/// A select's options, each `(value, label)`, and `current` when they lack it (a link's, used as
/// written), labelled by `unlisted`; the current one selected. Made again when `current` changes
/// (Back), and the select's `prop:value` follows it too, so that the field shows the address's
/// value: an option chosen once no longer follows its `selected` attribute.
fn options(current: &str, list: Vec<(String, String)>, unlisted: fn(&str) -> String) -> impl IntoView {
    let mut list = list;
    if !list.iter().any(|(v, _)| v == current) {
        list.push((current.to_owned(), unlisted(current)));
    }
    list.into_iter()
        .map(|(value, label)| {
            let selected = value == current;
            view! { <option value=value selected=selected>{label}</option> }
        })
        .collect_view()
}

/// The options of a Time or Window field: the first `n` windows (with all of them, *Custom
/// range* too), and a link's range that is none of them as itself.
pub(crate) fn window_options(current: &str, n: usize) -> impl IntoView {
    let mut list: Vec<_> = WINDOWS[..n].iter().map(|(id, label, _)| ((*id).to_owned(), (*label).to_owned())).collect();
    if n == WINDOWS.len() {
        list.push((CUSTOM.to_owned(), "Custom range".to_owned()));
    }
    options(current, list, |w| format!("Last {w}"))
}

/// A select of names (services, operations): `none` for the empty value, then the names.
fn name_options(current: &str, none: &str, names: Vec<String>) -> impl IntoView {
    let mut list = vec![(String::new(), none.to_owned())];
    list.extend(names.into_iter().map(|n| (n.clone(), n)));
    options(current, list, str::to_owned)
}

fn trace_href(id: &str) -> String {
    let src = api::sources_query();
    if src.is_empty() {
        format!("/trace/{id}")
    } else {
        format!("/trace/{id}?{src}")
    }
}

/// What a source that searches less than was asked (Tempo: 168 h at most) searched.
fn range_notice(cut: Option<(u64, u64)>) -> Option<impl IntoView> {
    cut.map(|(from, to)| {
        view! {
            <p class="notice" role="status" data-testid="search-range-notice">
                {format!("Tempo searches at most 168 hours at a time (its max_duration): traces from {} to {} were searched, not the whole range asked.", format_time(from), format_time(to))}
            </p>
        }
    })
}

/// What of the source's answer could not be read and was left out of the results.
fn skipped_notice(skipped: Option<String>) -> Option<impl IntoView> {
    skipped.map(|text| view! { <p class="notice" role="status" data-testid="search-skipped">{text}</p> })
}

fn results_view(list: Vec<TraceSummary>, start: u64, end: u64, cut: Option<(u64, u64)>, form: Form) -> impl IntoView {
    // "All time" has no fixed start (it asks from 1 ns): the plot spans the results.
    let start = if start <= 1 || end.saturating_sub(start) > 100 * 365 * 86_400_000_000_000 {
        list.iter().map(|r| r.start).min().unwrap_or(start)
    } else {
        start
    };
    let points = sources::scatter_points(&list, start, end);
    let outside = points.iter().filter(|p| p.is_none()).count();
    let navigate = use_navigate();
    let sort_navigate = navigate.clone();
    let max_spans = list.iter().map(|r| r.span_count).max().unwrap_or(1).max(1) as f64;
    let longest = list.iter().map(|r| r.duration).max().unwrap_or(0);
    let shortest = list.iter().min_by_key(|r| r.duration).map(TraceSummary::duration_text).unwrap_or_default();
    // Places in percent of the plot (inside a margin), radii in pixels: the plot stretches with
    // the page and its points stay round (a viewBox stretched to the width drew ellipses).
    let (pad_x, pad_y) = (1.2, 6.7);
    let current_sort = SortBy::from_id(&form.sort);
    view! {
        {range_notice(cut)}
        <section class="scatter" data-testid="scatter">
            <div class="scatter-axis"><span>{format_duration(longest)}</span><span>{shortest}</span></div>
            <svg role="img" aria-label="Trace durations over time">
                {list.iter().zip(points).filter_map(|(r, p)| p.map(|p| (r, p))).map(|(r, (x, y))| {
                    let id = r.trace_id.clone();
                    let go = navigate.clone();
                    let radius = 3.0 + 5.0 * (r.span_count as f64 / max_spans).sqrt();
                    let class = if r.error_count > 0 { "point error" } else { "point" };
                    view! {
                        <circle class=class data-testid="scatter-point"
                            cx=format!("{}%", fixed(pad_x + x * (100.0 - 2.0 * pad_x), 2))
                            cy=format!("{}%", fixed(100.0 - pad_y - y * (100.0 - 2.0 * pad_y), 2))
                            r=fixed(radius, 1) on:click=move |_| go(&trace_href(&id), Default::default())>
                            <title>{format!("{} {} — {}", r.root_service, r.root_name, r.duration_text())}</title>
                        </circle>
                    }
                }).collect_view()}
            </svg>
            <div class="scatter-time"><span>{format_time(start)}</span><span>{format_time(end)}</span></div>
            {(outside > 0).then(|| view! {
                <p class="muted" data-testid="scatter-outside">{format!("{outside} trace{} started outside the time window: listed, not plotted", if outside == 1 { "" } else { "s" })}</p>
            })}
        </section>
        <div class="results-bar">
            <span data-testid="result-count">{format!("{} trace{}", list.len(), if list.len() == 1 { "" } else { "s" })}</span>
            <label>"Sort "
                <select data-testid="sort" on:change=move |ev| {
                    let mut f = form.clone();
                    f.sort = event_target_value(&ev);
                    sort_navigate(&format!("/?{}", f.to_query()), Default::default());
                }>
                    {SortBy::ALL.iter().map(|(_, id, label)| {
                        let selected = SortBy::from_id(id) == current_sort;
                        view! { <option value=*id selected=selected>{*label}</option> }
                    }).collect_view()}
                </select>
            </label>
        </div>
        {trace_table(list, None)}
    }
}

/// The table of traces: search results (rows link to the trace page) or the traces of a file
/// (`open` is given the id of the row clicked).
pub(crate) fn trace_table(list: Vec<TraceSummary>, open: Option<std::rc::Rc<dyn Fn(String)>>) -> impl IntoView {
    let link = move |id: String, content: AnyView| {
        match open.clone() {
        None => view! { <a href=trace_href(&id)>{content}</a> }.into_any(),
        Some(open) => view! {
            <button type="button" class="link" data-testid="open-trace" on:click=move |_| open(id.clone())>{content}</button>
        }
        .into_any(),
    }
    };
    view! {
        <table class="list" data-testid="trace-list">
            <thead><tr>
                <th>"Root"</th><th>"Services"</th><th>"Start"</th><th>"Duration"</th><th>"Spans"</th><th>"Errors"</th><th>"Trace id"</th>
            </tr></thead>
            <tbody>
                {list.into_iter().map(|t| (t.duration_text(), t)).map(|(duration, t)| view! {
                    <tr data-testid="trace-row">
                        <td>{link(t.trace_id.clone(), view! { <span class="service">{t.root_service}</span>" "{t.root_name} }.into_any())}</td>
                        <td class="services">{t.services.into_iter().map(|s| view! { <span class="chip">{s}</span> }).collect_view()}</td>
                        <td data-testid="trace-start">{format_time(t.start)}</td>
                        <td data-testid="trace-duration">{duration}</td>
                        <td>{t.span_count}</td>
                        <td class=if t.error_count != 0 { "has-errors" } else { "" }>{t.error_count}</td>
                        <td class="mono">{link(t.trace_id.clone(), t.trace_id.into_any())}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
