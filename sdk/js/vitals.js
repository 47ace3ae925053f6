// Web vitals (LCP, INP, CLS, FCP, TTFB), measured with the browser's performance observers and
// reported once per page view, when the page is first hidden (or `pagehide`), as log records with
// the event name (the LogRecord's `event_name`, OTLP 1.5) `browser.web_vital` and the
// OpenTelemetry browser event attributes `name`, `value` (always a double), `rating` and
// `navigation_type`. They are events, not logger output: `logLevel` does not
// hold them back.
import { beforeHide, double, flush, guard, logEvent } from './api.js';

const THRESHOLDS = { LCP: [2500, 4000], INP: [200, 500], CLS: [0.1, 0.25], FCP: [1800, 3000], TTFB: [800, 1800] };

function rating(name, value) {
  const [good, poor] = THRESHOLDS[name];
  return value <= good ? 'good' : value <= poor ? 'needs-improvement' : 'poor';
}

/** Observes `type` entries: the observer, or undefined when this browser does not report them. */
function observe(type, callback, options) {
  if (!PerformanceObserver.supportedEntryTypes?.includes(type)) return;
  try {
    const observer = new PerformanceObserver((list) => guard(() => callback(list.getEntries())));
    observer.observe({ type, buffered: true, ...options });
    return observer;
  } catch {
    // Not observable here.
  }
}

/**
 * Starts measuring; the values are reported when the page is hidden for the first time, and
 * again for each view of it restored from the back/forward cache.
 */
export function reportWebVitals(enabled = () => true) {
  if (typeof PerformanceObserver !== 'function') return;
  const values = {};
  const nav = performance.getEntriesByType('navigation')[0];
  // As web-vitals measures them: a prerendered page's times count from its activation, and the
  // navigation types are `navigate`, `reload`, `back-forward` and `prerender`.
  const activation = (nav && nav.activationStart) || 0;
  const since = (t) => Math.max(0, t - activation);
  let navigationType = activation > 0 || document.prerendering ? 'prerender' : nav ? nav.type.replace(/_/g, '-') : 'navigate';
  if (nav) values.TTFB = since(nav.responseStart);
  // Paints after the page was first hidden (a tab opened in the background is painted when first
  // shown) say nothing of its loading: web-vitals leaves them out, and so does this.
  let hidden = document.visibilityState === 'hidden' && !document.prerendering ? 0 : Infinity;
  for (const e of performance.getEntriesByType('visibility-state')) if (e.name === 'hidden') hidden = Math.min(hidden, e.startTime);
  observe('paint', (entries) => {
    for (const e of entries) if (e.name === 'first-contentful-paint' && e.startTime < hidden) values.FCP = since(e.startTime);
  });
  observe('largest-contentful-paint', (entries) => {
    const last = entries[entries.length - 1];
    if (last && last.startTime < hidden) values.LCP = since(last.startTime);
  });
  // CLS: the largest session window of shifts without recent input (1 s gap, 5 s at most).
  let windowValue = 0;
  let windowStart = 0;
  let previous = 0;
  const shifts = observe('layout-shift', (entries) => {
    for (const e of entries) {
      if (e.hadRecentInput) continue;
      if (windowValue && (e.startTime - previous > 1000 || e.startTime - windowStart > 5000)) windowValue = 0;
      if (!windowValue) windowStart = e.startTime;
      windowValue += e.value;
      previous = e.startTime;
      values.CLS = Math.max(values.CLS ?? 0, windowValue);
    }
  });
  // A page that never shifted has a CLS of 0, which is reported.
  if (shifts) values.CLS ??= 0;
  // INP: the slowest interaction, or the 98th percentile once there are 50 or more, counting every
  // interaction of the page view (performance.interactionCount), not only the slow ones reported.
  // The count is read when the value is reported: the quick interactions after the last slow one
  // are never reported as entries, yet they move the percentile.
  const interactions = new Map();
  let counted = 0;
  const note = (entries) => {
    for (const e of entries) {
      if (!e.interactionId) continue;
      interactions.set(e.interactionId, Math.max(interactions.get(e.interactionId) ?? 0, e.duration));
    }
  };
  const events = observe('event', note, { durationThreshold: 16 });
  const inp = () => {
    // Entries the browser has queued but not yet delivered count too.
    if (events) note(events.takeRecords());
    if (!interactions.size) return;
    const durations = [...interactions.values()].sort((a, b) => b - a);
    const count = (performance.interactionCount ?? durations.length + counted) - counted;
    values.INP = durations[Math.min(durations.length - 1, Math.floor(count / 50))];
  };
  let reported = false;
  // On the first of `visibilitychange` to hidden and `pagehide` (which browsers that skip the
  // former on navigation still fire), as web-vitals reports.
  const report = (event) =>
    guard(() => {
      if (reported || (event.type !== 'pagehide' && document.visibilityState !== 'hidden')) return;
      reported = true;
      inp();
      // Measured all along; reported only if the last `init` left web vitals on.
      if (!enabled()) return;
      for (const name of Object.keys(THRESHOLDS)) {
        const value = values[name];
        if (value === undefined) continue;
        logEvent('browser.web_vital', `${name} ${Math.round(value * 1000) / 1000}${name === 'CLS' ? '' : ' ms'}`, {
          name,
          value: double(value),
          rating: rating(name, value),
          navigation_type: navigationType,
        });
      }
      flush({ keepalive: true });
    });
  document.addEventListener('visibilitychange', report, { capture: true });
  addEventListener('pagehide', report, { capture: true });
  // The SDK's own page-hide flush may run before these listeners do, and spans could then take
  // the whole keepalive budget: it reports them first.
  beforeHide(() => report({ type: 'pagehide' }));
  // Restored from the back/forward cache: a new page view, measured as web-vitals measures it
  // (TTFB 0, FCP and LCP at the second frame after pageshow, CLS and INP from there on).
  addEventListener('pageshow', (event) =>
    guard(() => {
      if (!event.persisted) return;
      for (const name of Object.keys(values)) delete values[name];
      navigationType = 'back-forward-cache';
      values.TTFB = 0;
      if (shifts) values.CLS = 0;
      windowValue = 0;
      interactions.clear();
      counted = performance.interactionCount ?? 0;
      reported = false;
      requestAnimationFrame(() => requestAnimationFrame(() => (values.FCP = values.LCP = performance.now() - event.timeStamp)));
    }),
  );
}
