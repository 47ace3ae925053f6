// `node scripts/check_wasm_glue.mjs GLUE.js FULL.wasm LEAN.wasm`: the lean module (built without the
// `json` feature) must run under the full build's wasm-bindgen glue: it instantiates with the glue's
// imports and has every export the glue wraps except the OTLP/JSON ones. Run by scripts/build.sh.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [glue, fullPath, lean] = process.argv.slice(2).map((p) => resolve(p));
const bytes = readFileSync(lean);
const full = readFileSync(fullPath);
const names = (b) => new Set(WebAssembly.Module.exports(new WebAssembly.Module(b)).map((e) => e.name));
const jsonOnly = new Set(['takeTraces', 'takeLogs']);
const missing = [...names(full)].filter((n) => !jsonOnly.has(n) && !names(bytes).has(n));
if (missing.length) throw new Error(`${lean} lacks exports the glue wraps: ${missing.join(', ')}`);
const core = await import(pathToFileURL(glue).href);
core.initSync({ module: bytes }); // a LinkError if the glue does not provide an import
if (core.encodesJson()) throw new Error(`${lean} was built with the json feature`);
