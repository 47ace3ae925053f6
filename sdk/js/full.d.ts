// `edgescope/full`: the browser API with every instrumentation, configured by `FullBrowserConfig`.
export * from './browser.js';
import type { FullBrowserConfig } from './index.js';

/** Configures the SDK and instruments the page, with the full entry's switches. */
export declare function init(config?: FullBrowserConfig): void;
