// The Node.js entry point (and Deno, which reads `node:fs` too): the Node/Deno `.wasm` (with
// OTLP/JSON and the encoder of spans recorded in JavaScript) is read from disk and instantiated
// synchronously. Export timers are on, as in a browser; call `flush()` before
// a short-lived process exits.
import { readFileSync } from 'node:fs';
import { initSync } from './core.js';
import { installRecords } from './records.js';
import { initServer, runsLong, withLanguage } from './edge.js';
// A namespace import: a runtime whose `node:async_hooks` lacks AsyncLocalStorage still loads the SDK.
import * as asyncHooks from 'node:async_hooks';
import * as api from './api.js';
import { format } from 'node:util';
import { formatNumbersWith } from './console.js';

// Console capture records `%d`, `%i` and `%f` as Node's console prints them (Deno, which loads
// this entry too, prints them as browsers do).
if (typeof Deno === 'undefined') formatNumbersWith((c, v) => format(`%${c}`, v));

// A module that cannot be read or instantiated turns the SDK off rather than failing the import.
// Spans recorded in JavaScript, encoded per batch (ADR 0011): a span costs less, for a module
// that is read from disk.
// Bundled into CommonJS (esbuild's `--platform=node` default, tsup), `import.meta` is empty: the
// `.wasm` is then looked for in `wasm/` beside the bundle, where the app copies it.
const wasmFile = () =>
  import.meta.url ? new URL('./wasm/edgescope_node_bg.wasm', import.meta.url) : `${__dirname}/wasm/edgescope_node_bg.wasm`;
if (api.start(() => initSync({ module: readFileSync(wasmFile()) }))) installRecords();

export * from './public.js';
export { instrument } from './edge.js';

/**
 * Configures the SDK (as `init` everywhere), the resource's `telemetry.sdk.language` `nodejs` in
 * Node; the active span follows `await` (AsyncLocalStorage), global `fetch` is traced unless
 * `instrumentFetch` is false, and `captureConsole` records console calls.
 * @param {import('./index').Config} config
 */
export function init(config) {
  initServer(config, asyncHooks.AsyncLocalStorage);
}
runsLong();
// Deno (and Bun) load this entry too; their language is not Node's.
if (!globalThis.Deno && !globalThis.Bun) withLanguage(undefined, 'nodejs');
api.setDefaultService(`unknown_service:${globalThis.Deno ? 'deno' : globalThis.Bun ? 'bun' : 'node'}`);

