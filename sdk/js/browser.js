// The browser entry point: instantiates the lean wasm core (OTLP protobuf only; top-level
// await), then offers the public API of `page.js`; `init` also installs fetch instrumentation
// and flushes when the page is hidden.
import { loadWasm } from './load.js';

await loadWasm(new URL('./wasm/edgescope_bg.wasm', import.meta.url));

export * from './page.js';
