// Where the bytes of the shipped SDK modules are: twiggy's top contributors of each
// `sdk/dist/wasm/*.wasm`, named through the symbol map that `scripts/build.sh` has wasm-opt
// write (target/sdk-wasm/NAME.symbols; the shipped module carries no names), and the same
// bytes grouped by source module. `node bench/wasm_top.mjs [N]` prints it; bench/run.mjs
// prints it and writes it into BENCHMARKS.md's notes. Needs `twiggy` (scripts/setup.sh).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The modules the entries load: the lean one (default browser, workerd) and the full one. */
export const MODULES = [
  { file: 'edgescope_bg.wasm', entries: 'browser default, workerd' },
  { file: 'edgescope_full_bg.wasm', entries: 'edgescope/full' },
  { file: 'edgescope_node_bg.wasm', entries: 'Node, Deno' },
];

/** Escapes in legacy-mangled Rust symbols. */
const ESCAPES = { $LT$: '<', $GT$: '>', $RF$: '&', $BP$: '*', $C$: ',', $u20$: ' ', $u27$: "'", $u5b$: '[', $u5d$: ']', $u7b$: '{', $u7d$: '}', $u7e$: '~' };

/** `_ZN…E` (Rust's legacy mangling, as rustc leaves the names without wasm-bindgen) as a path. */
function demangle(name) {
  if (!name.startsWith('_ZN') || !name.endsWith('E')) return name;
  const parts = [];
  for (let at = 3; at < name.length - 1; ) {
    const digits = name.slice(at).match(/^\d+/);
    if (!digits) return name;
    at += digits[0].length;
    parts.push(name.slice(at, at + Number(digits[0])));
    at += Number(digits[0]);
  }
  if (/^h[0-9a-f]{16}$/.test(parts.at(-1))) parts.pop();
  return parts
    .map((p) => p.replace(/^_\$/, '$').replace(/\$\w+\$/g, (e) => ESCAPES[e] ?? e).replaceAll('..', '::'))
    .join('::');
}

/** A Rust symbol without its hash and crate disambiguators. */
function short(name) {
  return demangle(name)
    .replace(/::h[0-9a-f]{16}$/, '')
    .replace(/\[[0-9a-f]{16}\]/g, '')
    .replace(/::__wbg_\w+$/, '');
}

/** The source module a symbol belongs to, for grouping (`edgescope::sdk`, `alloc::vec`, …). */
function group(name) {
  if (!name.includes('::')) return name.startsWith('data') ? 'data (strings, tables, panic locations)' : 'exports (with what wasm-opt inlined into them)';
  const crate = name.match(/(edgescope_otlp|edgescope|wasm_bindgen|js_sys|lol_alloc)::(\w+)/);
  if (crate) return crate[1].startsWith('edgescope') ? `${crate[1]}::${crate[2]}` : crate[1];
  const std = name.match(/^<?(core|alloc)::(\w+)/);
  return std ? `${std[1]}::${std[2]}` : 'other';
}

/** `{ file, raw, rows: [{ name, bytes }], groups: [{ name, bytes }] }` for one module. */
export function topContributors(file) {
  const wasm = join(root, 'sdk', 'dist', 'wasm', file);
  const symbols = join(root, 'target', 'sdk-wasm', file.replace(/\.wasm$/, '.symbols'));
  const bytes = readFileSync(wasm);
  // twiggy numbers functions within the code section; the symbol map counts imports first.
  const imported = WebAssembly.Module.imports(new WebAssembly.Module(bytes)).filter((i) => i.kind === 'function').length;
  const names = new Map();
  if (existsSync(symbols)) {
    for (const line of readFileSync(symbols, 'utf8').split('\n')) {
      const i = line.indexOf(':');
      if (i > 0) names.set(Number(line.slice(0, i)) - imported, line.slice(i + 1));
    }
  }
  const top = JSON.parse(execFileSync('twiggy', ['top', '-n', '100000', '-f', 'json', wasm], { encoding: 'utf8' }));
  const rows = top.map((r) => {
    const m = r.name.match(/^code\[(\d+)\]$/);
    return { name: m && names.has(Number(m[1])) ? short(names.get(Number(m[1]))) : r.name, bytes: r.shallow_size };
  });
  const sums = new Map();
  for (const r of rows) sums.set(group(r.name), (sums.get(group(r.name)) ?? 0) + r.bytes);
  const groups = [...sums].map(([name, b]) => ({ name, bytes: b })).sort((a, b) => b.bytes - a.bytes);
  return { file, raw: bytes.length, rows, groups };
}

/** A Markdown report of the top `n` functions and the groups of each module. */
export function report(n = 12) {
  const out = [];
  for (const { file, entries } of MODULES) {
    const t = topContributors(file);
    const pct = (b) => `${((100 * b) / t.raw).toFixed(1)} %`;
    out.push(`- \`${file}\` (${entries}), ${t.raw.toLocaleString('en')} B raw. By source module: ` +
      t.groups.slice(0, 10).map((g) => `${g.name} ${g.bytes.toLocaleString('en')} B`).join(', ') + '.');
    out.push(`  Largest items: ` + t.rows.slice(0, n).map((r) => `\`${r.name}\` ${r.bytes.toLocaleString('en')} B (${pct(r.bytes)})`).join(', ') + '.');
  }
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(report(Number(process.argv[2]) || 12));
}
