// Browser auto-instrumentation beyond requests and errors, each part switchable in `init`:
// - page load: a `documentLoad` span (continuing `<meta name="traceparent">`) with a
//   `documentFetch` child and one child per resource from Resource Timing, events at
//   domInteractive, domContentLoaded, domComplete and load;
// - single-page navigation: `history.pushState`/`replaceState`/`popstate` make a `navigation`
//   span with the old and new URLs (redacted by the core like every URL attribute);
// - user interactions: a `click`/`submit` span active while the page's handlers run (and only
//   then), so that requests they start synchronously (and errors they throw) belong to it;
// - long tasks: a `longtask` span per task the browser reports, and a `longAnimationFrame` span
//   per long animation frame (Chromium 123+), with its blocking time and the script that ran longest.
import * as core from './core.js';
import { activate, deactivate, guard, hooked, mimic, startSpan, timelineMs, touchActivity } from './api.js';
import { exporter } from './fetch.js';

/** Unix milliseconds of a performance timeline time, by the core's clock rule (see `timelineMs`). */
const at = timelineMs;

/**
 * Which parts the last `init` left on. Each part is installed once, at the first `init` that
 * turns it on, and records only while it is on: a part turned off stays installed (the page may
 * have wrapped what it wrapped since) and passes everything through.
 */
const on = {};
const installed = {};

function timedSpan(name, kind, parent, traceparent, startMs, attributes, tracestate) {
  // Activity, as for every span: a span made after the session expired is in the next one.
  touchActivity();
  // The name and string values through the app's `redact` rule, as every span's of the API.
  for (const key of Object.keys(attributes || {})) {
    const v = attributes[key];
    if (v !== undefined) core.attr(key, typeof v === 'string' ? hooked(key, v) : v);
  }
  return core.spanStart(hooked('span.name', name), kind, parent, false, traceparent, tracestate, startMs);
}

function documentLoad(parentContext) {
  const nav = performance.getEntriesByType('navigation')[0];
  if (!nav) return;
  const root = timedSpan(
    'documentLoad',
    1,
    0,
    parentContext && parentContext.traceparent,
    at(nav.startTime),
    { 'url.full': location.href, 'user_agent.original': navigator.userAgent },
    parentContext && parentContext.tracestate,
  );
  const fetchSpan = timedSpan('documentFetch', 3, root, undefined, at(nav.fetchStart), {
    // Only where the browser gives it (Navigation Timing's responseStatus is recent).
    'http.response.status_code': nav.responseStatus || undefined,
    'http.response.body.size': nav.encodedBodySize,
  });
  core.spanEnd(fetchSpan, 0, at(nav.responseEnd));
  for (const [event, t] of [
    ['domInteractive', nav.domInteractive],
    ['domContentLoadedEventEnd', nav.domContentLoadedEventEnd],
    ['domComplete', nav.domComplete],
    ['loadEventEnd', nav.loadEventEnd],
  ]) {
    if (t > 0) core.spanEvent(root, hooked('event.name', event), at(t));
  }
  for (const r of performance.getEntriesByType('resource')) {
    // Not the exporter's own requests, wherever `init` sends (a same-origin path too).
    if (exporter.to.includes(r.name)) continue;
    const span = timedSpan('resourceFetch', 3, root, undefined, at(r.startTime), {
      'url.full': r.name,
      'resource.initiator_type': r.initiatorType,
      // 0 for another origin's resource without Timing-Allow-Origin, where the size is unknown.
      'http.response.body.size': r.encodedBodySize || undefined,
    });
    core.spanEnd(span, 0, at(r.responseEnd || r.startTime));
  }
  core.spanEnd(root, 0, at(nav.loadEventEnd || nav.domComplete || nav.responseEnd));
}

function instrumentNavigation() {
  let last = location.href;
  const navigated = (how) =>
    guard(() => {
      const to = location.href;
      if (to === last) return;
      if (on.navigation) startSpan('navigation', { attributes: { 'url.full': to, 'url.previous': last, 'navigation.type': how } }).end();
      last = to;
    });
  for (const method of ['pushState', 'replaceState']) {
    // Wrapped where the method is defined (History.prototype, unless the page put its own on
    // `history`), with that property's attributes: an own property of `history` would shadow the
    // prototype, and a library that wraps `History.prototype.pushState` after `init` would never
    // see the page's calls, nor we the calls its wrapper passes on. Each on its own, so that one
    // the page locked (not configurable nor writable) leaves the other wrapped.
    guard(() => {
      let owner = history;
      while (owner && !Object.prototype.hasOwnProperty.call(owner, method)) owner = Object.getPrototypeOf(owner);
      const property = owner && Object.getOwnPropertyDescriptor(owner, method);
      if (!property || typeof property.value !== 'function') return;
      const original = property.value;
      // A method, as the host's is: `new history.pushState()` throws "is not a constructor" and
      // it has no `prototype`, so feature checks see no difference.
      const wrapped = {
        [method]() {
          const result = original.apply(this, arguments);
          navigated(method);
          return result;
        },
      }[method];
      Object.defineProperty(owner, method, { ...property, value: mimic(wrapped, original) });
    });
  }
  addEventListener('popstate', () => navigated('popstate'));
  // The Navigation API's own navigations too (`navigation.navigate()` intercepted by a router),
  // which call neither; named as the history's (push, replace, traverse), a reload is none.
  const types = { push: 'pushState', replace: 'replaceState', traverse: 'popstate' };
  if (typeof navigation === 'object' && navigation) {
    navigation.addEventListener('currententrychange', (event) => types[event.navigationType] && navigated(types[event.navigationType]));
  }
}

function describeTarget(target) {
  const el = target instanceof Element ? target : null;
  if (!el) return {};
  // Through Element's own accessors: a form's controls named `id`, `tagName` or `getAttribute`
  // shadow the form's properties of those names ([LegacyOverrideBuiltIns]).
  const element = Element.prototype;
  const get = (name) => element.getAttribute.call(el, name);
  const attrs = { 'html.tag': String(Object.getOwnPropertyDescriptor(element, 'localName').get.call(el)).toLowerCase() };
  const id = get('id');
  if (id) attrs['html.id'] = id;
  const label = get('data-testid') || get('aria-label') || get('name');
  if (label) attrs['html.label'] = label;
  return attrs;
}

function instrumentInteractions() {
  for (const type of ['click', 'submit']) {
    // Capture phase: the span is active before any of the page's own listeners run, until the
    // event is back at the window (bubble phase) after them, or, when a listener stopped it, until
    // the next task. Not until a timer: tasks that run before it (a timer set on mouseup, a
    // response) would become its children.
    addEventListener(
      type,
      (event) =>
        guard(() => {
          if (!on.interactions) return;
          const span = startSpan(type, { attributes: { 'event.type': type, ...describeTarget(event.target) } });
          activate(span);
          let open = true;
          // This event's own return, not a click the handlers dispatched meanwhile: at the
          // window, or, for one that does not bubble (a script's `new MouseEvent('click')`), at
          // its target after the target's own listeners.
          const back = (e) => e === event && end();
          const at = event.bubbles ? globalThis : event.target;
          const end = () => {
            if (open) {
              open = false;
              guard(() => at.removeEventListener(type, back));
              deactivate(span);
              span.end();
            }
          };
          guard(() => at.addEventListener(type, back));
          setTimeout(end, 0);
        }),
      { capture: true },
    );
  }
}

function instrumentLongTasks() {
  if (typeof PerformanceObserver !== 'function') return;
  try {
    new PerformanceObserver((list) =>
      guard(() => {
        if (!on.longTasks) return;
        for (const task of list.getEntries()) {
          const h = timedSpan('longtask', 1, 0, undefined, at(task.startTime), { 'longtask.duration_ms': task.duration });
          core.spanEnd(h, 0, at(task.startTime + task.duration));
        }
      }),
    ).observe({ type: 'longtask', buffered: true });
  } catch {
    // Not supported here.
  }
  if (!PerformanceObserver.supportedEntryTypes?.includes('long-animation-frame')) return;
  try {
    new PerformanceObserver((list) =>
      guard(() => {
        if (!on.longTasks) return;
        for (const frame of list.getEntries()) {
          const attributes = {
            'loaf.duration_ms': frame.duration,
            'loaf.blocking_duration_ms': frame.blockingDuration ?? 0,
            'loaf.render_start_ms': frame.renderStart ? frame.renderStart - frame.startTime : 0,
          };
          const longest = [...(frame.scripts ?? [])].sort((a, b) => b.duration - a.duration)[0];
          if (longest) {
            attributes['loaf.script.invoker'] = String(longest.invoker ?? '');
            // The script's URL without its query or fragment, which may carry secrets.
            attributes['loaf.script.source_url'] = String(longest.sourceURL ?? '').split(/[?#]/)[0];
            attributes['loaf.script.duration_ms'] = longest.duration;
          }
          const h = timedSpan('longAnimationFrame', 1, 0, undefined, at(frame.startTime), attributes);
          core.spanEnd(h, 0, at(frame.startTime + frame.duration));
        }
      }),
    ).observe({ type: 'long-animation-frame', buffered: true });
  } catch {
    // Not supported here.
  }
}

/**
 * Turns the parts on and off as `config` says (all on by default), installing those turned on
 * for the first time; `documentParent` is the `<meta>` context. Page load is recorded once, by
 * the first `init` that leaves it on (later than the load, from Navigation Timing, too).
 */
export function instrumentPage(config, documentParent) {
  const c = config && typeof config === 'object' ? config : {};
  for (const part of ['documentLoad', 'navigation', 'interactions', 'longTasks']) on[part] = c[part] !== false;
  if (on.documentLoad && !installed.documentLoad) {
    installed.documentLoad = true;
    // Recorded only if still on when it runs: an `init` meanwhile may have turned it off.
    const run = () => guard(() => on.documentLoad ? documentLoad(documentParent) : (installed.documentLoad = false));
    if (document.readyState === 'complete') setTimeout(run, 0);
    else addEventListener('load', () => setTimeout(run, 0), { once: true });
  }
  for (const [part, install] of [['navigation', instrumentNavigation], ['interactions', instrumentInteractions], ['longTasks', instrumentLongTasks]]) {
    if (on[part] && !installed[part]) {
      installed[part] = true;
      guard(install);
    }
  }
}
