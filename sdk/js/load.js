// Instantiates the wasm core for the browser entries: a streaming compile, or a compile of the
// bytes when the server does not send `application/wasm`, then core.js's synchronous init.
import { initSync } from './core.js';

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
