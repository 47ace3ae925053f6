// Instantiates the wasm core for the browser entries: a streaming compile, or a compile of the
// bytes when the server does not send `application/wasm`, then core.js's synchronous init.
// It never rejects: a module that cannot be fetched or compiled (a Content-Security-Policy
// without 'wasm-unsafe-eval', a content blocker, a 404 after a deploy) turns the SDK off (see
// `disable`), and the page's own modules that import the entry still run.
import { initSync } from './core.js';
import { disable } from './api.js';

/**
 * The full entry's load, once it has begun: a page that imports both entries (a library the
 * default one, the app `edgescope/full`) gets the full module, whichever arrives first, and so
 * the `http/json` and the rest the app asked for.
 */
let fullLoad;
/** Every load begun, for a failed one to see whether another made the core. */
const loads = [];

/**
 * Fetches, compiles and instantiates the module at `url` (a URL), the full entry's when `full`;
 * on failure the SDK is off, unless the page's other entry loads its module.
 */
export function loadWasm(url, full) {
  const loading = load(url, full);
  if (full) fullLoad = loading;
  loads.push(loading);
  return loading.catch(async (e) => {
    const others = await Promise.allSettled(loads.filter((other) => other !== loading));
    if (others.some((other) => other.status === 'fulfilled')) {
      console.warn(`edgescope: ${(e && e.message) || e}; the module of the page's other edgescope entry is in use`);
    } else disable(e);
  });
}

async function load(url, full) {
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
  // The lean module waits for the full one, if the page loads it too; it is the core only when
  // that one fails. (The first module instantiated stays: see `initSync`.)
  if (!full && fullLoad) await fullLoad.catch(() => {});
  initSync({ module });
}
