// The browser entry with every instrumentation, plus its .wasm.
export * from '../../sdk/dist/full.js';
export { default as wasm } from '../../sdk/dist/wasm/edgescope_bg.wasm';
