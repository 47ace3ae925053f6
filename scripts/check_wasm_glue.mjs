// `node scripts/check_wasm_glue.mjs CORE.js FULL.wasm LEAN.wasm NODE.wasm`: the three modules (the
// full one with the `json` feature, the lean one without, the Node/Deno one with `json` and
// `records`) must run under sdk/js/core.js: each instantiates with the imports core.js provides,
// has every export core.js calls, says whether it writes OTLP/JSON as it was built, and only the
// Node/Deno one carries the record encoder (`spanRecords`). Run by scripts/build.sh.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [glue, full, lean, node] = process.argv.slice(2).map((p) => resolve(p));
const source = readFileSync(glue, 'utf8');
const called = new Set([...source.matchAll(/wasm\.(\w+)/g)].map((m) => m[1]));
for (const [file, json, records] of [
  [full, true, false],
  [lean, false, false],
  [node, true, true],
]) {
  const bytes = readFileSync(file);
  const exports = new Set(WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name));
  const missing = [...called].filter((n) => !exports.has(n));
  if (missing.length) throw new Error(`${file} lacks exports core.js calls: ${missing.join(', ')}`);
  // A fresh instance of core.js per module (a module instantiates once).
  const core = await import(`${pathToFileURL(glue).href}?${file}`);
  core.initSync({ module: bytes }); // a LinkError if core.js does not provide an import
  const unset = Object.keys(core).filter((k) => core[k] === undefined);
  if (unset.length) throw new Error(`${file} lacks exports core.js offers as they are: ${unset.join(', ')}`);
  if (!core.encodesJson() !== !json) throw new Error(`${file} was built ${json ? 'without' : 'with'} the json feature`);
  if (core.has('spanRecords') !== records) throw new Error(`${file} was built ${records ? 'without' : 'with'} the records feature`);
}
