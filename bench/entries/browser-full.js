// The browser entry with every instrumentation, plus its .wasm (the full module, with OTLP/JSON).
export * from '../../sdk/dist/full.js';
export { default as wasm } from '../../sdk/dist/wasm/edgescope_full_bg.wasm';
