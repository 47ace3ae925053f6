// Instantiates the wasm core for the browser entries: a streaming compile, or a compile of the
// bytes when the server does not send `application/wasm`, then core.js's synchronous init.
// It never rejects: a module that cannot be fetched or compiled (a Content-Security-Policy
// without 'wasm-unsafe-eval', a content blocker, a 404 after a deploy) turns the SDK off (see
// `disable`), and the page's own modules that import the entry still run.
import { initSync } from './core.js';
import { disable } from './api.js';

/** Fetches, compiles and instantiates the module at `url` (a URL); on failure the SDK is off. */
export function loadWasm(url) {
  return load(url).catch(disable);
}

async function load(url) {
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
