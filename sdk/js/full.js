// The browser entry with every instrumentation: the default entry's (fetch, XHR, errors,
// sessions) plus page load, single-page navigation, user interactions and long tasks, each
// switchable in `init` (`documentLoad`, `navigation`, `interactions`, `longTasks`).
import * as browser from './browser.js';
import { instrumentPage } from './auto.js';

export * from './browser.js';

let installed = false;

/**
 * Configures the SDK and instruments the page.
 * @param {import('./index').FullBrowserConfig} config
 */
export function init(config) {
  browser.init(config);
  if (!installed) {
    installed = true;
    instrumentPage(config, browser.documentContext());
  }
}
