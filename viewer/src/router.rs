//! The viewer's client-side routing: the page shown follows the location (path and query);
//! clicks on links within the app change it through the History API without a reload, and
//! back and forward follow `popstate`. It stands in for `leptos_router`, whose generic route
//! matching cost the viewer's download about 90 KB of wasm for six fixed routes.
//!
//! A route is chosen by its path; a page stays mounted while only the query (or the trace id
//! of `/trace/{id}`) changes, and reads them through [`use_query_map`] and
//! [`use_params_map`], as it did with `leptos_router`.

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// Parameters by name, from a query string or a path.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ParamsMap(Vec<(String, String)>);

impl ParamsMap {
    /// The first value of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<String> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    /// A query string's parameters (`?a=1&b=x%20y`; `+` is a space, as in forms).
    fn from_query(query: &str) -> ParamsMap {
        let decode = |s: &str| {
            let s = s.replace('+', " ");
            js_sys::decode_uri_component(&s).ok().and_then(|v| v.as_string()).unwrap_or(s)
        };
        ParamsMap(
            query
                .trim_start_matches('?')
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (decode(k), decode(v)),
                    None => (decode(p), String::new()),
                })
                .collect(),
        )
    }
}

/// The app's routes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Search,
    Settings,
    Services,
    Trace,
    Logs,
    Open,
    NotFound,
}

/// Where the app is: the route and the parameters pages read.
#[derive(Clone, Debug, PartialEq)]
struct Location {
    path: String,
    query: String,
}

impl Location {
    fn current() -> Location {
        let l = window().location();
        Location { path: l.pathname().unwrap_or_default(), query: l.search().unwrap_or_default() }
    }

    fn route(&self) -> (Route, ParamsMap) {
        let path = self.path.trim_end_matches('/');
        let route = match path {
            "" => Route::Search,
            "/settings" => Route::Settings,
            "/services" => Route::Services,
            "/logs" => Route::Logs,
            "/open" => Route::Open,
            _ => match path.strip_prefix("/trace/") {
                Some(id) if !id.is_empty() && !id.contains('/') => {
                    let id = js_sys::decode_uri_component(id).ok().and_then(|v| v.as_string()).unwrap_or(id.into());
                    return (Route::Trace, ParamsMap(vec![("id".into(), id)]));
                }
                _ => Route::NotFound,
            },
        };
        (route, ParamsMap::default())
    }
}

/// The router's state, provided as context by [`provide_router`].
#[derive(Clone, Copy, Debug)]
struct Router {
    location: RwSignal<Location>,
    /// Counts link clicks, navigations and back and forward, not replacements: a page that
    /// reads its query once is made again when it changes by a navigation.
    navigations: RwSignal<u64>,
}

impl Router {
    /// Goes to `href` (a path within the app, with its query): a new history entry, or the
    /// current one replaced.
    fn go(self, href: &str, replace: bool) {
        let Ok(history) = window().history() else { return };
        let moved = if replace {
            history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(href))
        } else {
            history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(href))
        };
        if moved.is_err() {
            // Not a URL of this origin: let the browser go there. A replacement that fails is
            // left out: Firefox and Safari refuse history calls made too often (a held arrow
            // key moving the selection), and loading the page again would lose the view.
            if !replace {
                let _ = window().location().set_href(href);
            }
            return;
        }
        let next = Location::current();
        let new_page = self.location.with_untracked(|l| l.path != next.path);
        self.location.set(next);
        if !replace {
            self.navigations.update(|n| *n += 1);
        }
        if new_page {
            window().scroll_to_with_x_and_y(0.0, 0.0);
        }
    }
}

/// Options of a navigation.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct NavigateOptions {
    /// Replace the current history entry instead of adding one.
    pub(crate) replace: bool,
}

/// Starts following the location: `popstate` (back and forward) and clicks on links to the
/// app's own pages (left button, no modifier key, no `target`, `download` or `rel="external"`,
/// same origin, a path the app routes). Other links, such as the collector's `/metrics`, load
/// as usual.
pub(crate) fn provide_router() {
    let router = Router { location: RwSignal::new(Location::current()), navigations: RwSignal::new(0) };
    provide_context(router);
    let on_pop = Closure::<dyn FnMut()>::new(move || {
        router.location.set(Location::current());
        router.navigations.update(|n| *n += 1);
    });
    let on_click = Closure::<dyn FnMut(web_sys::MouseEvent)>::new(move |ev: web_sys::MouseEvent| {
        if ev.default_prevented()
            || ev.button() != 0
            || ev.meta_key()
            || ev.ctrl_key()
            || ev.shift_key()
            || ev.alt_key()
        {
            return;
        }
        let Some(link) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("a[href]").ok().flatten())
        else {
            return;
        };
        let external = link.get_attribute("rel").is_some_and(|r| r.split_ascii_whitespace().any(|r| r == "external"));
        if external
            || link.has_attribute("download")
            || link.get_attribute("target").is_some_and(|t| !t.is_empty() && t != "_self")
        {
            return;
        }
        let Ok(url) = web_sys::Url::new_with_base(
            &link.get_attribute("href").unwrap_or_default(),
            &window().location().href().unwrap_or_default(),
        ) else {
            return;
        };
        let page = Location { path: url.pathname(), query: String::new() }.route().0;
        if url.origin() != window().location().origin().unwrap_or_default() || page == Route::NotFound {
            return;
        }
        ev.prevent_default();
        router.go(&format!("{}{}{}", url.pathname(), url.search(), url.hash()), false);
    });
    let target = window();
    let _ = target.add_event_listener_with_callback("popstate", on_pop.as_ref().unchecked_ref());
    let _ = document().add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
    // The app lives as long as the page.
    on_pop.forget();
    on_click.forget();
}

fn router() -> Router {
    expect_context::<Router>()
}

/// The route of the current location (changes only when the path does).
pub(crate) fn use_route() -> Memo<Route> {
    let location = router().location;
    Memo::new(move |_| location.with(|l| l.route().0))
}

/// Navigations so far (links, [`use_navigate`], back and forward; not [`Replace`]).
pub(crate) fn use_navigations() -> ReadSignal<u64> {
    router().navigations.read_only()
}

/// The current query's parameters.
pub(crate) fn use_query_map() -> Memo<ParamsMap> {
    let location = router().location;
    Memo::new(move |_| location.with(|l| ParamsMap::from_query(&l.query)))
}

/// The current path's parameters (`id` on `/trace/{id}`).
pub(crate) fn use_params_map() -> Memo<ParamsMap> {
    let location = router().location;
    Memo::new(move |_| location.with(|l| l.route().1))
}

/// A function that goes to a path within the app.
pub(crate) fn use_navigate() -> impl Fn(&str, NavigateOptions) + Clone + 'static {
    let router = router();
    move |href: &str, options: NavigateOptions| router.go(href, options.replace)
}

/// Replaces the current history entry with a path within the app (a selection kept in the
/// address without an entry of its own); the pages' query and parameters follow it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Replace(Router);

impl Replace {
    pub(crate) fn to(self, href: &str) {
        self.0.go(href, true);
    }
}

/// See [`Replace`].
pub(crate) fn use_replace() -> Replace {
    Replace(router())
}

/// A link within the app to `href` (a path), with the query that `query` gives, asked again at
/// every change of the location (the header's links keep the sources the address names, and
/// follow them); `aria-current="page"` while its path is the current one.
#[component]
pub(crate) fn A(
    href: &'static str,
    #[prop(optional)] query: Option<fn() -> String>,
    children: Children,
) -> impl IntoView {
    let location = router().location;
    let current = move || location.with(|l| (l.path == href).then_some("page"));
    let target = move || {
        location.track();
        match query.map(|q| q()).filter(|q| !q.is_empty()) {
            Some(q) => format!("{href}?{q}"),
            None => href.to_owned(),
        }
    };
    view! { <a href=target aria-current=current>{children()}</a> }
}
