//! The service health page (`/services`): the four golden signals of each service's entry spans (request
//! rate, error rate, and p50/p95/p99 latency — saturation is the fourth, which spans cannot
//! tell) as SVG time series, per service and operation; a point lists example traces from its
//! bucket; and a service map of calls between services. The collector computes them from every
//! stored span; with Jaeger, Zipkin or Tempo as the trace source the page computes them itself,
//! with the same code (`edgescope_otlp::signals`), from what the source's search returns for
//! the window, and says so (Jaeger's service map comes from its dependencies API).

use crate::num::{fixed, rate_text, shortest};
use std::sync::Arc;

use crate::router::{use_navigate, use_query_map};
use edgescope_otlp::signals::{self, SpanFacts};
use leptos::prelude::*;
use serde_json::Value;

use crate::api;
use crate::model::{format_duration, format_time};
use crate::sources::{self, Kind};

/// One bucket of a series as the collector sends it.
#[derive(Debug, Clone, PartialEq)]
struct Point {
    start: i64,
    count: u64,
    errors: u64,
    p50: Option<i64>,
    p95: Option<i64>,
    p99: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
struct Series {
    name: String,
    total: Point,
    buckets: Vec<Point>,
}

#[derive(Debug, Clone, PartialEq)]
struct ServiceHealth {
    all: Series,
    operations: Vec<Series>,
}

#[derive(Debug, Clone, PartialEq)]
struct Edge {
    parent: String,
    child: String,
    calls: u64,
    errors: u64,
}

#[derive(Debug, Clone, PartialEq)]
struct Health {
    start: i64,
    end: i64,
    step: i64,
    services: Vec<ServiceHealth>,
    edges: Vec<Edge>,
    /// Set when the signals were computed here from a sample of the source's search results:
    /// what the sample was. Those spans then also give the examples of a bucket.
    sample: Option<(String, Arc<Vec<SpanFacts>>)>,
}

/// Traces a search returns at most, per service (Jaeger, Zipkin) or in all (Tempo), when the
/// health page computes signals from search results.
const SAMPLE_LIMIT: usize = 1000;
/// Services searched at most.
const SAMPLE_SERVICES: usize = 20;

fn point(v: &Value, start: i64) -> Point {
    Point {
        start: v["start"].as_i64().unwrap_or(start),
        count: v["count"].as_u64().unwrap_or(0),
        errors: v["errors"].as_u64().unwrap_or(0),
        p50: v["p50"].as_i64(),
        p95: v["p95"].as_i64(),
        p99: v["p99"].as_i64(),
    }
}

fn series(v: &Value, name: &str) -> Series {
    Series {
        name: name.to_owned(),
        total: point(&v["total"], 0),
        buckets: v["buckets"].as_array().map(|b| b.iter().map(|p| point(p, 0)).collect()).unwrap_or_default(),
    }
}

fn edges(list: &Value) -> Vec<Edge> {
    list.as_array()
        .map(|a| {
            a.iter()
                .map(|e| Edge {
                    parent: e["parent"].as_str().unwrap_or_default().to_owned(),
                    child: e["child"].as_str().unwrap_or_default().to_owned(),
                    calls: e["callCount"].as_u64().unwrap_or(0),
                    errors: e["errorCount"].as_u64().unwrap_or(0),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn parse(v: &Value) -> Health {
    Health {
        start: v["start"].as_i64().unwrap_or(0),
        end: v["end"].as_i64().unwrap_or(0),
        step: v["step"].as_i64().unwrap_or(1).max(1),
        services: v["services"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|s| {
                        let name = s["service"].as_str().unwrap_or_default();
                        ServiceHealth {
                            all: series(s, name),
                            operations: s["operations"]
                                .as_array()
                                .map(|ops| {
                                    ops.iter().map(|o| series(o, o["operation"].as_str().unwrap_or_default())).collect()
                                })
                                .unwrap_or_default(),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default(),
        edges: edges(&v["edges"]),
        sample: None,
    }
}

async fn load(window: Result<i64, String>) -> Result<Health, api::ApiError> {
    let window = window.map_err(api::ApiError)?;
    let end = js_sys::Date::now() as i64 * 1_000_000;
    let start = end - window;
    let source = api::sources().traces;
    match source.kind {
        Kind::Collector => {
            let url = format!("{}/api/signals?start={start}&end={end}", source.url);
            Ok(parse(&api::get_json_from(&source, &url).await?))
        }
        Kind::Loki => Err(api::ApiError("Loki holds logs, not traces: choose a trace source in the settings".into())),
        _ => sampled(source, start, end).await,
    }
}

/// Signals computed in the page from what the source's search returns for the window: whole
/// traces from Jaeger and Zipkin (every entry span, and the service map), root spans only from
/// Tempo's search summaries. A sample when a search hits its limit, and said so on the page.
async fn sampled(source: sources::Source, start: i64, end: i64) -> Result<Health, api::ApiError> {
    let query = |service: String| sources::SearchQuery {
        service,
        start: start as u64,
        end: end as u64,
        limit: SAMPLE_LIMIT,
        ..Default::default()
    };
    let mut capped = Vec::new();
    // Jaeger's own service map counts every call, not only the sampled ones; its services are
    // those searched first, when there are too many to search every one.
    let mut map = None;
    if source.kind == Kind::Jaeger {
        let url =
            format!("{}/api/dependencies?endTs={}&lookback={}", source.url, end / 1_000_000, (end - start) / 1_000_000);
        map = api::get_json_from(&source, &url).await.ok().map(|v| edges(&v["data"]));
    }
    let mut unsearched = 0;
    // What of the searches' answers could not be read (left out of the figures).
    let mut unread = Vec::new();
    let (facts, what) = if source.kind == Kind::Tempo {
        let (found, skipped) = api::search(query(String::new())).await?;
        unread.extend(skipped);
        if found.len() >= SAMPLE_LIMIT {
            capped.push("all services".to_owned());
        }
        (sources::root_facts(&found), "the root spans of the traces")
    } else {
        let mut data = edgescope_otlp::TracesData::default();
        let (mut services, rest): (Vec<_>, Vec<_>) = api::services()
            .await?
            .into_iter()
            .partition(|s| map.iter().flatten().any(|e| e.parent == *s || e.child == *s));
        services.extend(rest);
        unsearched = services.len().saturating_sub(SAMPLE_SERVICES);
        for service in services.into_iter().take(SAMPLE_SERVICES) {
            let (found, skipped) = api::search_spans(query(service.clone())).await?;
            // The same unreadable trace, found by several services' searches, is said once.
            if let Some(text) = skipped.filter(|s| !unread.contains(s)) {
                unread.push(text);
            }
            let traces: std::collections::HashSet<_> = found.spans().map(|(_, _, s)| s.trace_id).collect();
            if traces.len() >= SAMPLE_LIMIT {
                capped.push(service);
            }
            data.resource_spans.extend(found.resource_spans);
        }
        (signals::facts(&data), "the spans of the traces")
    };
    let computed = signals::compute(&facts, start, end, signals::default_step(start, end), None);
    let mut health = parse(&serde_json::to_value(&computed).unwrap_or_default());
    let ranked = if map.is_some() { ", those in its service map first" } else { "" };
    if let Some(map) = map {
        health.edges = map;
    }
    let mut note = format!(
        "Computed in this page from {what} that {}'s search returned ({} spans; at most {SAMPLE_LIMIT} traces per \
         search).",
        source.kind.label(),
        facts.len()
    );
    if !capped.is_empty() {
        note.push_str(&format!(
            " The limit was reached for {}: rates there count a sample, not every request.",
            capped.join(", ")
        ));
    }
    if unsearched > 0 {
        note.push_str(&format!(
            " {unsearched} of the services it lists were not searched (at most {SAMPLE_SERVICES}{ranked}): their spans count only where the traces of a searched service hold them."
        ));
    }
    for text in unread {
        note.push(' ');
        note.push_str(&text);
    }
    health.sample = Some((note, Arc::new(facts)));
    Ok(health)
}

/// A window's length: one of the Window field's, or a link's that reads as a range (`2h`, `3d`)
/// of at most 7 days; else what is wrong with it.
fn window_length(id: &str) -> Result<i64, String> {
    sources::parse_lookback(id)
        .filter(|&n| n <= 604_800_000_000_000)
        .map(|n| n as i64)
        .ok_or_else(|| format!("Window `{id}`: write a range of at most 7 days, such as 2h or 3d"))
}

/// The page at `/services` (`/health` is the collector's own health check).
#[component]
pub(crate) fn HealthPage() -> impl IntoView {
    let query = use_query_map();
    let window_id = Memo::new(move |_| query.with(|q| q.get("window")).unwrap_or_else(|| "1h".into()));
    // A link's window is used as written, or named when it is no range: never replaced by another.
    // Each answer names the window it is for: while another window loads, the old numbers are
    // not shown under the new window's name.
    let health = api::load(move || {
        let id = window_id.get();
        let answer = load(window_length(&id));
        async move { (id, answer.await) }
    });
    let navigate = use_navigate();
    // Links keep `traces=` of the page URL, so that they reproduce the view.
    let go = move |params: String| {
        let sources = api::sources_query();
        let sep = if sources.is_empty() { "" } else { "&" };
        navigate(&format!("/services?{params}{sep}{sources}"), Default::default())
    };
    let go_window = use_navigate();
    view! {
        <h1>"Service health"</h1>
        <div class="health-bar">
            <label>"Window "
                // Another window keeps the service and operation chosen (every other parameter too).
                <select data-testid="health-window" prop:value=window_id on:change=move |ev| {
                    if let Some(to) = crate::trace_view::address_with("window", Some(&event_target_value(&ev))) {
                        go_window(&to, Default::default())
                    }
                }>
                    {move || crate::search::window_options(&window_id.get(), 4)}
                </select>
            </label>
        </div>
        {move || match health.get() {
            None => view! { <p class="muted" data-testid="health-loading">"Loading…"</p> }.into_any(),
            Some((id, _)) if id != window_id.get() => {
                view! { <p class="muted" data-testid="health-loading">{format!("Loading the last {}…", window_id.get())}</p> }
                    .into_any()
            }
            // A window that does not read is the address's error, not the source's.
            Some((_, Err(e))) if window_length(&window_id.get()).is_err() => crate::app::error_panel(e.0),
            Some((_, Err(e))) => crate::app::source_error_panel(e.0),
            Some((_, Ok(h))) => {
                let service = query.with(|q| q.get("service"));
                let operation = query.with(|q| q.get("operation"));
                health_view(h, service, operation, window_id.get(), go.clone()).into_any()
            }
        }}
    }
}

fn health_view(
    h: Health,
    service: Option<String>,
    operation: Option<String>,
    window_id: String,
    go: impl Fn(String) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let map = service_map(&h.edges, &h.services.iter().map(|s| s.all.name.clone()).collect::<Vec<_>>());
    let (note, sample) = h.sample.clone().unzip();
    let note = note.map(|n| view! { <p class="muted" data-testid="health-sample">{n}</p> });
    if h.services.is_empty() {
        return view! {
            {note}
            {map}
            <p class="muted" data-testid="empty">"No entry spans in this window."</p>
        }
        .into_any();
    }
    // A service the address names that has no entry spans in the window keeps its place, with
    // empty charts saying so, rather than another service's under the page's chips.
    let found = service.as_ref().map(|s| h.services.iter().position(|x| &x.all.name == s));
    let chosen = match found {
        None => Some(0),
        Some(found) => found,
    };
    let svc = match chosen {
        Some(i) => h.services[i].clone(),
        None => {
            let empty = |start| Point { start, ..point(&Value::Null, 0) };
            let all = Series {
                name: service.clone().unwrap_or_default(),
                total: empty(h.start),
                buckets: h.services[0].all.buckets.iter().map(|p| empty(p.start)).collect(),
            };
            ServiceHealth { all, operations: Vec::new() }
        }
    };
    let absent = chosen.is_none().then(|| {
        view! {
            <p class="notice" data-testid="service-not-found">
                {format!("{} has no entry spans in this window.", svc.all.name)}
            </p>
        }
    });
    // An operation the service has no entry spans of in the window has empty charts, saying so,
    // rather than the service's under its name.
    let series = match &operation {
        None => Some(svc.all.clone()),
        Some(o) => svc.operations.iter().find(|x| &x.name == o).cloned(),
    };
    let missing = (series.is_none() && chosen.is_some()).then(|| {
        view! {
            <p class="notice" data-testid="operation-not-found">
                {format!("{} has no entry spans of operation {} in this window.", svc.all.name, operation.clone().unwrap_or_default())}
            </p>
        }
    });
    let series = series.unwrap_or_else(|| Series {
        buckets: svc.all.buckets.iter().map(|p| Point { start: p.start, ..point(&Value::Null, 0) }).collect(),
        ..svc.all.clone()
    });
    let selected = RwSignal::new(None::<i64>);
    let svc_name = svc.all.name.clone();
    let op_for_examples = operation.clone();
    let step = h.step;
    let go_service = go.clone();
    let win = window_id.clone();
    view! {
        {note}
        {map}
        <div class="health-services" data-testid="health-services">
            {h.services.iter().enumerate().map(|(i, s)| {
                let name = s.all.name.clone();
                let go = go_service.clone();
                let win = win.clone();
                let class = if Some(i) == chosen { "chip selected" } else { "chip" };
                view! {
                    <button type="button" class=class data-testid="health-service" on:click=move |_| go(format!("window={win}&service={}", sources::encode(&name)))>
                        {s.all.name.clone()}" · "{rate(&s.all.total, h.end - h.start)}
                    </button>
                }
            }).collect_view()}
        </div>
        <h2 data-testid="health-title">{svc.all.name.clone()}{operation.clone().map(|o| format!(" · {o}"))}</h2>
        {absent}
        {missing}
        <div class="charts">
            {chart("Request rate", "rate", &series.buckets, step, selected, |p, step| Some(p.count as f64 / (step as f64 / 1e9)), rate_text)}
            {chart("Error rate", "errors", &series.buckets, step, selected, |p, _| (p.count > 0).then(|| 100.0 * p.errors as f64 / p.count as f64), |v| format!("{}%", fixed(v, 1)))}
            {latency_chart(&series.buckets, step, selected)}
        </div>
        {move || selected.get().map(|bucket| {
            let service = svc_name.clone();
            let operation = op_for_examples.clone();
            examples_view(service, operation, bucket, bucket + step, sample.clone())
        })}
        <table class="list" data-testid="operations">
            <thead><tr><th>"Operation"</th><th>"Requests"</th><th>"Rate"</th><th>"Errors"</th><th>"p50"</th><th>"p95"</th><th>"p99"</th></tr></thead>
            <tbody>
                {std::iter::once(svc.all.clone()).chain(svc.operations.clone()).enumerate().map(|(i, s)| {
                    let go = go.clone();
                    let (win, service) = (window_id.clone(), svc.all.name.clone());
                    let link = if i == 0 { format!("window={win}&service={}", sources::encode(&service)) } else {
                        format!("window={win}&service={}&operation={}", sources::encode(&service), sources::encode(&s.name))
                    };
                    let label = if i == 0 { "All entry spans".to_owned() } else { s.name.clone() };
                    let error_class = if s.total.errors == 0 { "" } else { "has-errors" };
                    view! {
                        <tr data-testid="operation-row">
                            <td><a href="#" on:click=move |ev| { ev.prevent_default(); go(link.clone()) }>{label}</a></td>
                            <td data-testid="op-count">{s.total.count}</td>
                            <td>{rate(&s.total, h.end - h.start)}</td>
                            <td class=error_class>{error_rate(&s.total)}</td>
                            <td>{s.total.p50.map(|d| format_duration(d as u64))}</td>
                            <td>{s.total.p95.map(|d| format_duration(d as u64))}</td>
                            <td>{s.total.p99.map(|d| format_duration(d as u64))}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

fn rate(p: &Point, window: i64) -> String {
    rate_text(p.count as f64 / (window.max(1) as f64 / 1e9))
}

fn error_rate(p: &Point) -> String {
    if p.count == 0 {
        "–".into()
    } else {
        format!("{}%", fixed(100.0 * p.errors as f64 / p.count as f64, 1))
    }
}

const W: f64 = 600.0;
const H: f64 = 140.0;
const PAD: f64 = 8.0;

/// A line chart of one value per bucket; a point opens the bucket's examples.
fn chart(
    title: &'static str,
    id: &'static str,
    buckets: &[Point],
    step: i64,
    selected: RwSignal<Option<i64>>,
    value: fn(&Point, i64) -> Option<f64>,
    label: fn(f64) -> String,
) -> impl IntoView {
    let values: Vec<(i64, Option<f64>)> = buckets.iter().map(|p| (p.start, value(p, step))).collect();
    let max = values.iter().filter_map(|v| v.1).fold(0.0f64, f64::max).max(f64::MIN_POSITIVE);
    let n = values.len().max(2) as f64 - 1.0;
    let xy = |i: usize, v: f64| (PAD + i as f64 / n * (W - 2.0 * PAD), H - PAD - v / max * (H - 2.0 * PAD));
    let line: Vec<String> = values
        .iter()
        .enumerate()
        .filter_map(|(i, (_, v))| v.map(|v| xy(i, v)))
        .map(|(x, y)| format!("{},{}", fixed(x, 1), fixed(y, 1)))
        .collect();
    view! {
        <figure class="chart" data-testid=format!("chart-{id}")>
            <figcaption>{title}" · max "{label(if max == f64::MIN_POSITIVE { 0.0 } else { max })}</figcaption>
            <svg viewBox=format!("0 0 {} {}", shortest(W), shortest(H)) preserveAspectRatio="none">
                <polyline class="line" points=line.join(" ") />
                {values.into_iter().enumerate().filter_map(|(i, (start, v))| v.map(|v| (i, start, v))).map(|(i, start, v)| {
                    let (x, y) = xy(i, v);
                    view! {
                        <circle class="dot" data-testid=format!("point-{id}") data-bucket=start.to_string() data-value=shortest(v)
                            cx=fixed(x, 1) cy=fixed(y, 1) r="3.5" on:click=move |_| selected.set(Some(start))>
                            <title>{format!("{} — {}", format_time(start as u64), label(v))}</title>
                        </circle>
                    }
                }).collect_view()}
            </svg>
        </figure>
    }
}

fn latency_chart(buckets: &[Point], step: i64, selected: RwSignal<Option<i64>>) -> impl IntoView {
    let _ = step;
    // The slowest p99 of the window; none when no bucket has a span (the caption says so rather
    // than a maximum of 1 ns).
    let slowest = buckets.iter().filter_map(|p| p.p99).max();
    let max = slowest.unwrap_or(1).max(1) as f64;
    let n = buckets.len().max(2) as f64 - 1.0;
    let xy = |i: usize, v: i64| (PAD + i as f64 / n * (W - 2.0 * PAD), H - PAD - v as f64 / max * (H - 2.0 * PAD));
    let lines = [("p50", 0usize), ("p95", 1), ("p99", 2)].map(|(name, k)| {
        let pts: Vec<String> = buckets
            .iter()
            .enumerate()
            .filter_map(|(i, p)| [p.p50, p.p95, p.p99][k].map(|v| xy(i, v)))
            .map(|(x, y)| format!("{},{}", fixed(x, 1), fixed(y, 1)))
            .collect();
        view! { <polyline class=format!("line {name}") points=pts.join(" ") /> }
    });
    view! {
        <figure class="chart" data-testid="chart-latency">
            <figcaption>"Latency p50 / p95 / p99 · "{match slowest {
                Some(slowest) => format!("max {}", format_duration(slowest.max(0) as u64)),
                None => "no spans".to_owned(),
            }}</figcaption>
            <svg viewBox=format!("0 0 {} {}", shortest(W), shortest(H)) preserveAspectRatio="none">
                {lines.into_iter().collect_view()}
                {buckets.iter().enumerate().filter_map(|(i, p)| p.p99.map(|v| (i, p.clone(), v))).map(|(i, p, v)| {
                    let (x, y) = xy(i, v);
                    let start = p.start;
                    view! {
                        <circle class="dot" data-testid="point-latency" data-bucket=start.to_string()
                            data-p50=p.p50.unwrap_or(0).to_string() data-p95=p.p95.unwrap_or(0).to_string() data-p99=v.to_string()
                            cx=fixed(x, 1) cy=fixed(y, 1) r="3.5" on:click=move |_| selected.set(Some(start))>
                            <title>{format!("{} — p50 {} · p95 {} · p99 {}", format_time(start as u64),
                                format_duration(p.p50.unwrap_or(0) as u64), format_duration(p.p95.unwrap_or(0) as u64), format_duration(v as u64))}</title>
                        </circle>
                    }
                }).collect_view()}
            </svg>
        </figure>
    }
}

fn examples_view(
    service: String,
    operation: Option<String>,
    start: i64,
    end: i64,
    sample: Option<Arc<Vec<SpanFacts>>>,
) -> impl IntoView {
    let examples = api::load(move || {
        let (service, operation, sample) = (service.clone(), operation.clone(), sample.clone());
        async move {
            if let Some(facts) = sample {
                let found = signals::examples(&facts, &service, operation.as_deref(), start, end, 10);
                return Ok(serde_json::json!({ "examples": found }));
            }
            let source = api::sources().traces;
            let mut url = format!(
                "{}/api/signals/examples?service={}&start={start}&end={end}&limit=10",
                source.url,
                sources::encode(&service)
            );
            if let Some(op) = operation {
                url.push_str(&format!("&operation={}", sources::encode(&op)));
            }
            api::get_json_from(&source, &url).await
        }
    });
    view! {
        <section class="examples" data-testid="examples">
            <h3>"Example traces, "{format_time(start as u64)}" – "{format_time(end as u64)}" (errors first, then slowest)"</h3>
            {move || match examples.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <div class="error" role="alert">{e.to_string()}</div> }.into_any(),
                Some(Ok(v)) => view! {
                    <ul>
                        {v["examples"].as_array().cloned().unwrap_or_default().into_iter().map(|e| {
                            let trace = e["traceId"].as_str().unwrap_or_default().to_owned();
                            let span = e["spanId"].as_str().unwrap_or_default().to_owned();
                            // Tempo's search names no span: then the trace opens without one selected.
                            let href = if span.bytes().all(|b| b == b'0') {
                                format!("/trace/{trace}")
                            } else {
                                format!("/trace/{trace}?span={span}")
                            };
                            view! {
                                <li data-testid="example">
                                    <a href=href>{e["name"].as_str().unwrap_or_default().to_owned()}</a>" "
                                    <span class="muted">{format_duration(e["duration"].as_u64().unwrap_or(0))}</span>
                                    {(e["error"] == true).then(|| view! { " "<span class="has-errors">"error"</span> })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </section>
    }
}

/// Services in columns by their depth in the call graph, edges labelled with calls and errors
/// (laid out by [`crate::service_map`], so that no edge or label runs over a box).
fn service_map(edges: &[Edge], extra: &[String]) -> impl IntoView {
    use crate::service_map::{layout, BOX_H, BOX_W, LABEL_LINE};
    let labels: Vec<Vec<String>> = edges.iter().map(|e| crate::model::edge_label(e.calls, e.errors)).collect();
    let pairs: Vec<(&str, &str)> = edges.iter().map(|e| (e.parent.as_str(), e.child.as_str())).collect();
    let map = layout(&pairs, extra, |i| labels[i].len());
    view! {
        <figure class="service-map" data-testid="service-map">
            <figcaption>"Service map"</figcaption>
            <svg viewBox=format!("0 0 {} {}", shortest(map.width), shortest(map.height)) style=format!("max-width:{}px", shortest(map.width))>
                {edges.iter().zip(&map.edges).zip(labels).map(|((e, drawn), lines)| {
                    let class = match (e.errors > 0, drawn.routed) {
                        (true, true) => "edge error routed",
                        (true, false) => "edge error",
                        (false, true) => "edge routed",
                        (false, false) => "edge",
                    };
                    let (x, y) = drawn.label;
                    view! {
                        <g data-testid="map-edge" data-parent=e.parent.clone() data-child=e.child.clone() data-calls=e.calls.to_string() data-errors=e.errors.to_string()>
                            <path class=class d=drawn.path() />
                            <text class="edge-label" x=fixed(x, 0) y=fixed(y, 0)>
                                {lines.into_iter().enumerate().map(|(i, line)| view! {
                                    <tspan x=fixed(x, 0) dy=if i == 0 { "0".to_owned() } else { shortest(LABEL_LINE) }>{line}</tspan>
                                }).collect_view()}
                            </text>
                        </g>
                    }
                }).collect_view()}
                {map.nodes.iter().map(|(n, (x, y))| {
                    view! {
                        <g class="node" data-testid="map-node">
                            <rect x=fixed(x - BOX_W / 2.0, 0) y=fixed(y - BOX_H / 2.0, 0) width=shortest(BOX_W) height=shortest(BOX_H) rx="6" />
                            <text x=fixed(*x, 0) y=fixed(y + 4.0, 0)>{n.clone()}</text>
                        </g>
                    }
                }).collect_view()}
            </svg>
        </figure>
    }
}
