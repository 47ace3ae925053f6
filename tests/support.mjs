// Shared helpers of the cross-component suites: start the real collector, the test site
// (tests/e2e/fixture) and Chromium, each on 127.0.0.1, each stopped by the test that started it.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { register } from 'node:module';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Makes the SDK load as in a runtime without AsyncLocalStorage (a browser): `node:async_hooks`
 * becomes a module without it for what is imported from now on. Call before importing the SDK.
 */
export function withoutAsyncLocalStorage() {
  const hooks = `export async function resolve(specifier, context, next) {
  if (specifier === 'node:async_hooks') return { url: 'data:text/javascript,export default {}', shortCircuit: true };
  return next(specifier, context);
}`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
  globalThis.AsyncLocalStorage = undefined;
}

/**
 * Polls `fn` until it returns a truthy value; fails after `timeout` ms with `what`, or at once
 * when `fn` throws an error marked `fatal`.
 */
export async function waitFor(what, fn, timeout = 15000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (e) {
      if (e && e.fatal) throw e;
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function collectorBinary() {
  if (process.env.EDGESCOPE_BIN) return process.env.EDGESCOPE_BIN;
  for (const profile of ['debug', 'release']) {
    const bin = join(root, 'target', profile, 'edgescope');
    if (existsSync(bin)) return bin;
  }
  throw new Error('no collector binary: run `bash scripts/build.sh` first or set EDGESCOPE_BIN');
}

/**
 * Starts the collector on ephemeral ports with a fresh (or the given) data directory.
 * Resolves to `{ otlp, ui, dataDir, stop() }`; `stop` sends SIGTERM and waits for the exit.
 */
export async function startCollector({ dataDir, keepData = false, args = [] } = {}) {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'edgescope-test-'));
  const child = spawn(
    collectorBinary(),
    ['serve', '--otlp-addr', '127.0.0.1:0', '--ui-addr', '127.0.0.1:0', '--data-dir', dir,
      '--ui-dir', join(root, 'viewer', 'dist'), ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EDGESCOPE_LOG: 'warn' } },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const urls = await waitFor('the collector to print its addresses', () => {
    if (child.exitCode !== null) throw Object.assign(new Error(`collector exited: ${err}`), { fatal: true });
    const otlp = out.match(/OTLP receiver on (http:\/\/\S+)/);
    const ui = out.match(/query API on (http:\/\/\S+)/);
    return otlp && ui && { otlp: otlp[1], ui: ui[1] };
  }, 20000);
  return {
    ...urls,
    dataDir: dir,
    logs: () => err,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      if (!dataDir && !keepData) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Launches Debian's Chromium through playwright-core (no browser download). */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: 30000 });
}

export async function getJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

/** Every span of a trace from the collector's Jaeger-shaped API, with its service name. */
export async function traceSpans(collector, traceId) {
  const doc = await getJson(`${collector.ui}/api/v3/traces/${traceId}`);
  const spans = [];
  for (const rs of doc.result.resourceSpans) {
    const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
    for (const ss of rs.scopeSpans) for (const span of ss.spans) spans.push({ ...span, service });
  }
  return spans;
}

/**
 * A `fetch` for the SDK's exports (`http/json`, `compression: 'none'`) that keeps the spans and log
 * records it is sent in `spans` and `logs` instead of a collector; `clear()` empties both.
 */
export function exportSink() {
  const spans = [];
  const logs = [];
  const fetch = async (url, request) => {
    const doc = JSON.parse(Buffer.from(request.body).toString());
    if (url.endsWith('/v1/traces')) for (const rs of doc.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
    if (url.endsWith('/v1/logs')) for (const rl of doc.resourceLogs) for (const sl of rl.scopeLogs) logs.push(...sl.logRecords);
    return new Response(null, { status: 200 });
  };
  const clear = () => {
    spans.length = 0;
    logs.length = 0;
  };
  return { spans, logs, fetch, clear };
}

/** Every span `collector` holds in the traces whose root service is `service`. */
export async function serviceSpans(collector, service) {
  const { traces } = await getJson(`${collector.ui}/api/traces?limit=500`);
  const spans = [];
  for (const t of traces.filter((t) => t.rootService === service)) spans.push(...(await traceSpans(collector, t.traceId)));
  return spans;
}

export function attr(item, key) {
  const v = item.attributes?.find((a) => a.key === key)?.value;
  return v && (v.stringValue ?? v.intValue ?? v.boolValue ?? v.doubleValue);
}

/** Serves `dir` statically on 127.0.0.1 (symlinks followed); resolves to `{ url, close() }`. */
export async function serveDir(dir) {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
  const server = createServer(async (req, res) => {
    const path = normalize(join(dir, decodeURIComponent(new URL(req.url, 'http://x').pathname)));
    if (!path.startsWith(dir)) return res.writeHead(403).end();
    try {
      const body = await readFile(path.endsWith('/') ? join(path, 'index.html') : path);
      res.writeHead(200, { 'content-type': types[extname(path)] ?? (path.endsWith('/') ? 'text/html' : 'application/octet-stream') }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

/**
 * The browser suites' stack: a collector, the test site exporting to it, and Chromium.
 * Call in `before`; `stop()` in `after` closes all three.
 */
export async function startBrowserStack() {
  const { startTestSite } = await import('./e2e/fixture/server.mjs');
  const collector = await startCollector();
  const site = await startTestSite({ otlp: collector.otlp });
  const browser = await launchChromium();
  return {
    collector,
    site,
    browser,
    async stop() {
      await browser.close();
      site.server.close();
      await collector.stop();
    },
  };
}

/** Waits until the test page's SDK is initialised (its wasm instantiates after `load`). */
/**
 * The bodies the page posts to the OTLP endpoint `otlp`, gunzipped when sent gzipped, in a list
 * that fills as they are sent.
 */
export function exportsOf(page, otlp) {
  const bodies = [];
  page.on('request', (r) => {
    if (r.url().startsWith(otlp) && r.method() === 'POST') {
      const body = r.postDataBuffer();
      bodies.push(r.headers()['content-encoding'] === 'gzip' ? gunzipSync(body) : body);
    }
  });
  return bodies;
}

export function sdkReady(page) {
  return page.waitForFunction(() => XMLHttpRequest.prototype.open.__edgescope === true);
}
