// Instantiates the wasm core for the browser entries: a streaming compile, or a compile of the
// bytes when the server does not send `application/wasm`, then wasm-bindgen's synchronous init.
// wasm-bindgen's own async init does the same with more glue (0.3 KB gzip), as it also takes
// inputs these entries never pass.
import { initSync } from './wasm/edgescope.js';

/** Fetches, compiles and instantiates the module at `url` (a URL). */
export async function loadWasm(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`edgescope: fetching ${response.url} failed: ${response.status}`);
  let module;
  try {
    module = await WebAssembly.compileStreaming(response);
  } catch (e) {
    if (response.headers.get('Content-Type') === 'application/wasm') throw e;
    console.warn('edgescope: serve .wasm as application/wasm to compile it while it downloads', e);
    module = await WebAssembly.compile(await response.arrayBuffer());
  }
  initSync({ module });
}
