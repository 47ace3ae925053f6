// The browser entry point: instantiates the lean wasm core (OTLP protobuf only; top-level
// await), then offers the public API of `page.js`; `init` also installs fetch instrumentation
// and flushes when the page is hidden.
import initWasm from './wasm/edgescope.js';

await initWasm({ module_or_path: new URL('./wasm/edgescope_bg.wasm', import.meta.url) });

export * from './page.js';
