// The module worker that workerd (or wrangler) loads: it instantiates the wasm-bindgen output
// synchronously from the .wasm module the runtime provides and hands every request to Rust.
import wasmModule from './rust_worker_bg.wasm';
import { fetch as handle, initSync } from './rust_worker.js';

initSync({ module: wasmModule });

export default {
  fetch(request, env, ctx) {
    return handle(request, env, ctx);
  },
};
