// The workerd entry with its .wasm, as a worker bundle carries it.
export * from '../../sdk/dist/workerd.js';
