// What each browser instrumentation costs: the gzip -9 size of the minified JavaScript of the
// SDK's JS API alone, then of the API plus one instrumentation module, bundled with the
// yardstick's esbuild settings (the .wasm is the same in both and left out). The difference
// is that module's cost in a bundle; gzip is not additive, so the figures are approximate.
// Prints JSON. Needs a built SDK (sdk/dist).
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../sdk/dist/', import.meta.url));
const modules = [
  ['fetch', 'fetch.js', 'instrumentFetch', 'fetch: client spans, trace headers, Resource Timing (default entry)'],
  ['xhr', 'xhr.js', 'instrumentXHR', 'XMLHttpRequest: client spans, trace headers, Resource Timing (default entry)'],
  ['errors', 'errors.js', 'captureErrors', 'window errors and unhandled rejections (default entry)'],
  ['sessions', 'session.js', 'startSessions', 'session.id and user.id (default entry)'],
  ['page', 'auto.js', 'instrumentPage', 'page load, SPA navigation, interactions, long tasks (full entry)'],
  ['vitals', 'vitals.js', 'reportWebVitals', 'LCP, INP, CLS, FCP, TTFB (full entry)'],
  ['console', 'console.js', 'captureConsole', 'console capture (full entry, opt-in)'],
  ['offline', 'outbox.js', 'startOutbox', 'IndexedDB outbox for offline export (full entry)'],
];

async function gzipOf(source) {
  const dir = mkdtempSync(join(tmpdir(), 'edgescope-isize-'));
  try {
    const entry = join(dir, 'entry.js');
    writeFileSync(entry, source);
    await build({
      entryPoints: [entry], bundle: true, minify: true, format: 'esm', platform: 'browser', outdir: join(dir, 'out'),
      external: ['*.wasm'], logLevel: 'error',
    });
    let total = 0;
    for (const f of readdirSync(join(dir, 'out'))) if (f.endsWith('.js')) total += gzipSync(readFileSync(join(dir, 'out', f)), { level: 9 }).length;
    return total;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const base = `import * as api from ${JSON.stringify(join(dist, 'api.js'))}; globalThis.__api = api;`;
const baseGzip = await gzipOf(base);
const out = [];
for (const [name, file, fn, what] of modules) {
  const withModule = `${base}\nimport { ${fn} } from ${JSON.stringify(join(dist, file))}; globalThis.__m = ${fn};`;
  out.push({ name, what, gzip: (await gzipOf(withModule)) - baseGzip });
}
console.log(JSON.stringify({ baseGzip, modules: out }));
