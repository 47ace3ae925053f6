// Packaging: `npm pack` the SDK, install the tarball into small projects of each kind, and
// prove a span reaches a real collector from each: Node ESM, a Node app bundled with esbuild
// (CommonJS and ESM), an esbuild browser bundle, a module
// Web Worker bundled with the `worker` condition, a plain ESM page without a bundler, a workerd worker bundled with esbuild, a TypeScript worker with
// wrangler's default tsconfig (type-checked with tsc), and a Vercel Edge function.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getJson, launchChromium, root, serveDir, startCollector, traceSpans, waitFor } from '../support.mjs';
import { startWorkerdModules } from '../edge/workerd.mjs';

const fixtures = join(root, 'tests', 'packaging', 'fixtures');
let work, tarball, collector, browser;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'edgescope-packaging-'));
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: join(root, 'sdk'), encoding: 'utf8' });
  tarball = join(work, out.trim().split('\n').pop());
  collector = await startCollector();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await collector?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** A fresh project from a fixture folder with the packed tarball installed. */
function project(name) {
  const dir = join(work, name);
  cpSync(join(fixtures, name), dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `fixture-${name}`, private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: dir });
  return dir;
}

async function spanNamed(name) {
  return waitFor(`span "${name}" in the collector`, async () => {
    const { traces } = await getJson(`${collector.ui}/api/traces?limit=100`);
    return traces.find((t) => t.rootName === name);
  });
}

/** Opens `dir`'s index.html in Chromium and waits until the page says it exported. */
async function exportFromPage(dir) {
  const site = await serveDir(dir);
  try {
    const page = await browser.newPage();
    await page.goto(`${site.url}/index.html?otlp=${encodeURIComponent(collector.otlp)}`);
    await page.waitForFunction(() => document.title === 'exported', null, { timeout: 15000 });
    await page.close();
  } finally {
    site.close();
  }
}

test('the tarball ships the entries, the declarations, the wasm, a README and the license, and nothing else', () => {
  const list = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort();
  for (const f of ['package/dist/browser.js', 'package/dist/workerd.js', 'package/dist/node.js', 'package/dist/edge-light.js', 'package/dist/index.d.ts',
    'package/dist/core.js', 'package/dist/wasm/edgescope_bg.wasm', 'package/package.json', 'package/README.md', 'package/LICENSE']) {
    assert.ok(list.includes(f), `${f} is packed`);
  }
  assert.ok(!list.some((f) => f.includes('/src/') || f.endsWith('.rs') || f.includes('Cargo')), 'no Rust sources');
});

test('a Node ESM project exports a span', async () => {
  const dir = project('node-esm');
  execFileSync('node', ['index.mjs'], { cwd: dir, env: { ...process.env, OTLP_ENDPOINT: collector.otlp } });
  const trace = await spanNamed('node-esm span');
  assert.equal(trace.rootService, 'pkg-node-esm');
});

test('a Node app bundled with esbuild, as CommonJS or ESM, reads the .wasm copied beside its bundle and exports a span', async () => {
  const dir = project('node-bundle');
  const esbuild = await import(join(root, 'node_modules', 'esbuild', 'lib', 'main.js'));
  for (const format of ['cjs', 'esm']) {
    const out = join(dir, `out-${format}`);
    await esbuild.build({
      entryPoints: [join(dir, 'entry.js')], bundle: true, platform: 'node', format,
      outfile: join(out, format === 'cjs' ? 'app.cjs' : 'app.mjs'), absWorkingDir: dir, logLevel: 'error',
    });
    mkdirSync(join(out, 'wasm'), { recursive: true });
    cpSync(join(dir, 'node_modules', 'edgescope', 'dist', 'wasm', 'edgescope_node_bg.wasm'), join(out, 'wasm', 'edgescope_node_bg.wasm'));
    const run = spawnSync('node', [join(out, format === 'cjs' ? 'app.cjs' : 'app.mjs')], {
      cwd: dir, encoding: 'utf8', env: { ...process.env, OTLP_ENDPOINT: collector.otlp, FORMAT: format },
    });
    assert.equal(run.status, 0, run.stderr);
    assert.doesNotMatch(run.stdout + run.stderr, /edgescope is off/, format);
    assert.equal((await spanNamed(`node bundle span ${format}`)).rootService, 'pkg-node-bundle');
  }
});

test("edgescope/workerd imported under Node (a worker's unit tests) is the Node entry, not the workerd module's .wasm import", () => {
  const dir = project('node-esm');
  const out = execFileSync('node', ['--input-type=module', '-e', `
    const sub = await import('edgescope/workerd');
    const main = await import('edgescope');
    console.log(typeof sub.instrument, sub.instrument === main.instrument);
  `], { cwd: dir, encoding: 'utf8' });
  assert.equal(out.trim(), 'function true');
});

test('an esbuild browser bundle exports a span', async () => {
  const dir = project('esbuild-browser');
  const esbuild = await import(join(root, 'node_modules', 'esbuild', 'lib', 'main.js'));
  await esbuild.build({
    entryPoints: [join(dir, 'entry.js')], bundle: true, format: 'esm', platform: 'browser',
    outdir: join(dir, 'out'), absWorkingDir: dir, logLevel: 'error',
  });
  // esbuild leaves `new URL('./wasm/…', import.meta.url)` alone: the app ships the .wasm beside
  // its bundle (the README says so; Vite does it by itself).
  mkdirSync(join(dir, 'out', 'wasm'), { recursive: true });
  cpSync(join(dir, 'node_modules', 'edgescope', 'dist', 'wasm', 'edgescope_bg.wasm'), join(dir, 'out', 'wasm', 'edgescope_bg.wasm'));
  await exportFromPage(dir);
  assert.equal((await spanNamed('esbuild span')).rootService, 'pkg-esbuild');
});

test("a module Web Worker bundled with the worker and browser conditions (webpack's webworker target) gets the browser entry and exports a span", async () => {
  const dir = project('web-worker');
  const esbuild = await import(join(root, 'node_modules', 'esbuild', 'lib', 'main.js'));
  const { metafile } = await esbuild.build({
    entryPoints: [join(dir, 'worker.js')], bundle: true, format: 'esm', platform: 'browser', conditions: ['worker'],
    outdir: join(dir, 'out'), absWorkingDir: dir, logLevel: 'error', metafile: true,
  });
  const inputs = Object.keys(metafile.inputs);
  assert.ok(inputs.some((f) => f.endsWith('edgescope/dist/browser.js')), inputs.join(' '));
  assert.ok(!inputs.some((f) => f.endsWith('edgescope/dist/workerd.js')), inputs.join(' '));
  mkdirSync(join(dir, 'out', 'wasm'), { recursive: true });
  cpSync(join(dir, 'node_modules', 'edgescope', 'dist', 'wasm', 'edgescope_bg.wasm'), join(dir, 'out', 'wasm', 'edgescope_bg.wasm'));
  await exportFromPage(dir);
  assert.equal((await spanNamed('web worker span')).rootService, 'pkg-web-worker');
});

test('a plain ESM page without a bundler exports a span', async () => {
  const dir = project('plain-page');
  await exportFromPage(dir);
  assert.equal((await spanNamed('plain page span')).rootService, 'pkg-plain-page');
});

/** `entry` of the project in `dir` bundled as wrangler bundles a worker, running in workerd. */
async function bundledWorker(dir, entry) {
  const esbuild = await import(join(root, 'node_modules', 'esbuild', 'lib', 'main.js'));
  await esbuild.build({
    entryPoints: [entry], bundle: true, format: 'esm', platform: 'neutral',
    conditions: ['workerd', 'worker'], external: ['*.wasm'], outfile: join(dir, 'out', 'worker.js'),
    absWorkingDir: dir, logLevel: 'error',
  });
  return startWorkerdModules(
    {
      'worker.js': join(dir, 'out', 'worker.js'),
      'wasm/edgescope_bg.wasm': join(dir, 'node_modules', 'edgescope', 'dist', 'wasm', 'edgescope_bg.wasm'),
    },
    { OTLP_ENDPOINT: collector.otlp },
  );
}

test('a workerd worker bundled with esbuild exports a span before the request ends', async () => {
  const dir = project('workerd');
  const worker = await bundledWorker(dir, join(dir, 'worker.js'));
  try {
    const response = await fetch(`${worker.url}/`);
    assert.equal(await response.text(), 'ok', worker.output());
    assert.equal((await spanNamed('workerd span')).rootService, 'pkg-workerd');
  } finally {
    await worker.stop();
  }
});

test("a TypeScript worker with wrangler's default tsconfig type-checks against edgescope/workerd, and bundled as wrangler bundles it, exports its spans", async () => {
  const dir = project('workerd-ts');
  // `moduleResolution: "Bundler"` without `customConditions`: `edgescope` alone would give the
  // browser's types; the `./workerd` subpath gives the server's whatever the conditions.
  try {
    execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(dir, 'tsconfig.json')], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    assert.fail(`tsc reported:\n${e.stdout}${e.stderr}`);
  }
  const worker = await bundledWorker(dir, join(dir, 'src', 'index.ts'));
  try {
    const response = await fetch(`${worker.url}/typed`);
    assert.equal(await response.text(), '{"ok":true}', worker.output());
    const trace = await waitFor('the typed worker\'s trace', async () => {
      const { traces } = await getJson(`${collector.ui}/api/traces?limit=100`);
      return traces.find((t) => t.rootService === 'pkg-workerd-ts');
    });
    const spans = await traceSpans(collector, trace.traceId);
    assert.ok(spans.some((s) => s.kind === 2) && spans.some((s) => s.name === 'workerd-ts span'), JSON.stringify(spans.map((s) => s.name)));
  } finally {
    await worker.stop();
  }
});

test('a Vercel Edge function bundled with the edge-light condition exports a span', async () => {
  const dir = project('edge-light');
  const esbuild = await import(join(root, 'node_modules', 'esbuild', 'lib', 'main.js'));
  // Vercel's bundler turns `.wasm?module` into a compiled module; here the import stays and
  // workerd provides the module under that name.
  await esbuild.build({
    entryPoints: [join(dir, 'worker.js')], bundle: true, format: 'esm', platform: 'neutral',
    conditions: ['edge-light', 'worker', 'browser'], external: ['*.wasm?module'], outfile: join(dir, 'out', 'worker.js'),
    absWorkingDir: dir, logLevel: 'error',
  });
  const worker = await startWorkerdModules(
    {
      'worker.js': join(dir, 'out', 'worker.js'),
      'wasm/edgescope_bg.wasm?module': join(dir, 'node_modules', 'edgescope', 'dist', 'wasm', 'edgescope_bg.wasm'),
    },
    { OTLP_ENDPOINT: collector.otlp },
  );
  try {
    const response = await fetch(`${worker.url}/`);
    assert.equal(await response.text(), 'ok', worker.output());
    // `instrument` made the SERVER span (configured from OTEL_* variables); the handler's span is its child.
    const trace = await waitFor('the edge function\'s trace', async () => {
      const { traces } = await getJson(`${collector.ui}/api/traces?limit=100`);
      return traces.find((t) => t.rootService === 'pkg-edge-light');
    });
    const spans = await traceSpans(collector, trace.traceId);
    const server = spans.find((s) => s.kind === 2);
    const child = spans.find((s) => s.name === 'edge-light span');
    assert.ok(server && child, JSON.stringify(spans.map((s) => s.name)));
    assert.equal(child.parentSpanId, server.spanId);
  } finally {
    await worker.stop();
  }
});
