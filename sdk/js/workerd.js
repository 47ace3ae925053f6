// The workerd (Cloudflare Workers) entry point: the lean `.wasm` (OTLP protobuf only) is
// imported as a compiled module, as workerd and wrangler load it, and instantiated
// synchronously. No timers: export with `ctx.waitUntil(flush())` at the end of each request.
import wasmModule from './wasm/edgescope_bg.wasm';
import { initSync } from './core.js';
import * as api from './api.js';

// A module the runtime cannot instantiate turns the SDK off rather than failing the import.
api.start(() => initSync({ module: wasmModule }));
// Each request's flush owns its exports: promises and I/O belong to the request that made them.
api.useRequestScopedExports();

export * from './public.js';
export { instrument } from './edge.js';

/**
 * Configures the SDK. Workers get no export timer: call `ctx.waitUntil(flush())`.
 * @param {import('./index').Config} config
 */
export function init(config) {
  api.init(config);
}
