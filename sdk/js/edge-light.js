// The Vercel Edge entry (`edge-light` export condition): Vercel's bundler compiles an import of
// `.wasm?module` into a WebAssembly.Module at build time (edge runtimes refuse to compile
// WebAssembly from bytes at run time), and the lean module is instantiated synchronously. No
// timers: wrap the handler with `instrument`, which exports through `context.waitUntil`, or call
// `flush()` before the response is returned.
import wasmModule from './wasm/edgescope_bg.wasm?module';
import { initSync } from './core.js';
import * as api from './api.js';

// A module the runtime cannot instantiate turns the SDK off rather than failing the import.
api.start(() => initSync({ module: wasmModule }));
// Each request's flush owns its exports: promises and I/O belong to the request that made them.
api.useRequestScopedExports();

export * from './public.js';
export { instrument } from './edge.js';

/**
 * Configures the SDK. Edge functions get no export timer: export with `context.waitUntil(flush())`.
 * @param {import('./index').Config} config
 */
export function init(config) {
  api.init(config);
}
