// The Node and Deno entry (`edgescope` under the `node` and `deno` conditions): the server entries'
// API, with an `init` that also sets the runtime up.
export * from './server.js';
import type { ServerConfig } from './index.js';

/**
 * Configures the SDK and the runtime: the active span follows `await` (AsyncLocalStorage), global
 * `fetch` is traced unless `instrumentFetch` is false (trace headers to `propagateTraceHeaderUrls`,
 * default all), and `captureConsole` records console calls. A handler `instrument`ed afterwards
 * without a config keeps this set-up.
 */
export declare function init(config?: ServerConfig): void;
