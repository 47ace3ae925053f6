// A Node module loader (for `node --import`) that loads `*.wasm` and `*.wasm?module` imports as
// a compiled WebAssembly.Module, as workerd and Vercel's bundler do, so that the workerd and
// edge-light entries run in Node.
import { register } from 'node:module';

if (!process.env.EDGESCOPE_LOADER_HOOKS) {
  process.env.EDGESCOPE_LOADER_HOOKS = '1';
  register(import.meta.url);
}

export async function resolve(specifier, context, next) {
  if (/\.wasm(\?module)?$/.test(specifier)) {
    return { url: 'wasm-module:' + new URL(specifier.replace(/\?module$/, ''), context.parentURL).href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.startsWith('wasm-module:')) return next(url, context);
  const file = JSON.stringify(url.slice('wasm-module:'.length));
  const source = `import { readFileSync } from 'node:fs'; export default new WebAssembly.Module(readFileSync(new URL(${file})));`;
  return { format: 'module', shortCircuit: true, source };
}
