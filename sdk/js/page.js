// The browser platform layer shared by the browser entries (`browser.js`, `full.js`, which
// each instantiate their wasm module first): the public API, and an `init` that also installs
// fetch instrumentation and flushes when the page is hidden.
import * as api from './api.js';
import { captureErrors } from './errors.js';
import { enabled, exporter, instrumentFetch, resolve } from './fetch.js';
import { restoreCommon, startSessions } from './session.js';
import { instrumentXHR } from './xhr.js';

export * from './public.js';
export { sessionId, setUser } from './session.js';

let installed = false;
let documentParent;
/** The latest `init`'s `propagateTraceHeaderCorsUrls`, which the instrumentation reads per request. */
const propagateTo = [];

/**
 * The server's trace for this page, from `<meta name="traceparent">` (and `tracestate`, and
 * `baggage`, as Sentry's server SDKs and Next.js's `clientTraceMetadata` write it), read by
 * `init`: pass it as `startSpan(name, { parent: documentContext() })` for page-load spans, whose
 * requests then send the baggage on.
 */
export function documentContext() {
  return documentParent;
}

function readMeta(name) {
  return globalThis.document?.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? undefined;
}

/**
 * Configures the SDK and instruments the page.
 * @param {import('./index').BrowserConfig} config
 */
export function init(config) {
  api.init(config);
  // Without its wasm the SDK instruments nothing (see `api.broken`).
  if (api.broken) return;
  const c = api.settings;
  // Each `init` starts from the defaults: its switches turn each part on or off, whatever an
  // earlier `init` said (a part turned off stays installed and passes everything through).
  api.guard(() => {
    enabled.fetch = c.instrumentFetch !== false;
    enabled.xhr = c.instrumentXHR !== false;
    enabled.errors = c.captureErrors !== false;
    startSessions(c.sessions !== false, c.sessionId);
  });
  // A second `init` starts a fresh core, without the session and user of the page.
  restoreCommon();
  documentParent = api.guard(() => api.extract({ traceparent: readMeta('traceparent'), tracestate: readMeta('tracestate'), baggage: readMeta('baggage') }));
  // The exporter's own requests are never traced (see `exporter`), wherever this `init` sends.
  api.guard(() => {
    exporter.to = ['traces', 'logs'].map((signal) => resolve(`${api.exportEndpoint()}/v1/${signal}`).href);
  });
  api.guard(() => {
    propagateTo.splice(0, propagateTo.length, ...(c.propagateTraceHeaderCorsUrls || []));
    if (enabled.fetch) instrumentFetch(propagateTo);
    if (enabled.xhr) instrumentXHR(propagateTo);
    if (enabled.errors) captureErrors();
    if (installed) return;
    installed = true;
    // `visibilitychange` to hidden is the last event a page can rely on; `pagehide` covers
    // browsers that skip it. Never `unload`: it disables the back/forward cache.
    // (Request spans still waiting for their Resource Timing entry end first, and go with it.)
    const hide = () => api.pageHidden();
    // Exports the page's Content-Security-Policy refuses (connect-src) are not retried (see `cspRefused`).
    // Only enforced connect-src ones: a report-only policy or an image refused at the collector's
    // origin blocks no export.
    globalThis.addEventListener?.('securitypolicyviolation', (e) => {
      if (e.disposition === 'enforce' && e.effectiveDirective === 'connect-src') api.cspRefused(e.blockedURI);
    });
    api.cspRefused();
    globalThis.document?.addEventListener('visibilitychange', () => {
      if (globalThis.document.visibilityState === 'hidden') hide();
    });
    globalThis.addEventListener?.('pagehide', hide);
  });
}
