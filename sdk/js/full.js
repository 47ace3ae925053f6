// The browser entry with every instrumentation: the default entry's (fetch, XHR, errors,
// sessions) plus page load, single-page navigation, user interactions, long tasks and web
// vitals, each switchable in `init` (`documentLoad`, `navigation`, `interactions`, `longTasks`,
// `webVitals`, `offline`), and opt-in console capture (`captureConsole`).
import { loadWasm } from './load.js';
import * as api from './api.js';
import { guard } from './api.js';
import * as browser from './page.js';
import { instrumentPage } from './auto.js';
import { captureConsole } from './console.js';
import { startOutbox } from './outbox.js';
import { reportWebVitals } from './vitals.js';

// The full module: the lean one's core plus OTLP/JSON (`protocol: 'http/json'`).
await loadWasm(new URL('./wasm/edgescope_full_bg.wasm', import.meta.url), true);

export * from './page.js';

let installed = false;
/** Whether the last `init` left web vitals on. */
let vitalsOn = false;

/**
 * Configures the SDK and instruments the page.
 * @param {import('./index').FullBrowserConfig} config
 */
export function init(config) {
  browser.init(config);
  if (api.broken) return;
  guard(() => {
    const c = api.settings;
    // Each `init` says which console methods are recorded (none without `captureConsole`).
    captureConsole(c.captureConsole);
    // The page's own parts need a document: a Web Worker has none. Each `init` turns them on or
    // off (see `instrumentPage`); a part is installed by the first `init` that turns it on.
    if (globalThis.document) {
      instrumentPage(c, browser.documentContext());
      vitalsOn = c.webVitals !== false;
      if (vitalsOn && !installed) {
        installed = true;
        reportWebVitals(() => vitalsOn);
      }
    }
    startOutbox(c.offline !== false);
  });
}
