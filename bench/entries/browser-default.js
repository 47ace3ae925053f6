// The default browser entry as an app imports it, plus its .wasm (esbuild's file loader emits it,
// so the yardstick counts JavaScript and WebAssembly together).
export * from '../../sdk/dist/browser.js';
export { default as wasm } from '../../sdk/dist/wasm/edgescope_bg.wasm';
