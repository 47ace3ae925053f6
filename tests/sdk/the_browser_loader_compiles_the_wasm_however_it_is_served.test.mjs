// The browser entries load the core with `load.js`: a streaming compile when the `.wasm` comes
// as `application/wasm`, a compile of its bytes (and a warning) when a server sends another
// type, and an error naming the URL when the fetch fails. Each case runs in its own Node process,
// as core.js instantiates the core once per process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const dist = new URL('../../sdk/dist/', import.meta.url);
const wasm = readFileSync(new URL('wasm/edgescope_bg.wasm', dist));

/** Loads the core from `url` in a fresh process; resolves to its exit code, stdout and stderr. */
function load(url) {
  const script = `
    const { loadWasm } = await import(${JSON.stringify(new URL('load.js', dist).href)});
    const core = await import(${JSON.stringify(new URL('core.js', dist).href)});
    await loadWasm(new URL(${JSON.stringify(url)}));
    console.log('traceparent', core.parseTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01') !== undefined);`;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], (error, stdout, stderr) =>
      resolve({ code: error ? error.code : 0, stdout, stderr }),
    );
  });
}

test('the core loads as application/wasm, as another type with a warning, and fails with the URL on a 404', async (t) => {
  const server = createServer((req, res) => {
    if (req.url === '/wasm') res.writeHead(200, { 'content-type': 'application/wasm' }).end(wasm);
    else if (req.url === '/octets') res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(wasm);
    else res.writeHead(404).end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${server.address().port}`;

  const streamed = await load(`${base}/wasm`);
  assert.equal(streamed.code, 0, streamed.stderr);
  assert.match(streamed.stdout, /traceparent true/);
  assert.doesNotMatch(streamed.stderr, /application\/wasm/, 'no warning when the type is right');

  const bytes = await load(`${base}/octets`);
  assert.equal(bytes.code, 0, bytes.stderr);
  assert.match(bytes.stdout, /traceparent true/, 'the core works after the fallback');
  assert.match(bytes.stderr, /serve \.wasm as application\/wasm/);

  const missing = await load(`${base}/missing.wasm`);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /edgescope: fetching http:\/\/127\.0\.0\.1:\d+\/missing\.wasm failed: 404/);
});

test('a page that loads both entries gets the full module, whichever arrives first; the lean one alone stays lean', async (t) => {
  const full = readFileSync(new URL('wasm/edgescope_full_bg.wasm', dist));
  const server = createServer((req, res) => {
    // The full module arrives 300 ms after the lean one.
    if (req.url === '/lean') res.writeHead(200, { 'content-type': 'application/wasm' }).end(wasm);
    else if (req.url === '/full') setTimeout(() => res.writeHead(200, { 'content-type': 'application/wasm' }).end(full), 300);
    else res.writeHead(404).end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${server.address().port}`;
  const run = (body) =>
    new Promise((resolve) => {
      const script = `
        const { loadWasm } = await import(${JSON.stringify(new URL('load.js', dist).href)});
        const core = await import(${JSON.stringify(new URL('core.js', dist).href)});
        const api = await import(${JSON.stringify(new URL('api.js', dist).href)});
        ${body}
        console.log('json', typeof core.encodesJson === 'function' ? core.encodesJson() !== 0 : 'no core');
        api.init({ serviceName: 'both', endpoint: 'http://127.0.0.1:9' });
        console.log('recording', api.startSpan('s').isRecording());`;
      execFile(process.execPath, ['--input-type=module', '-e', script], (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }));
    });
  const both = await run(`await Promise.all([loadWasm(new URL('${base}/lean')), loadWasm(new URL('${base}/full'), true)]);`);
  assert.equal(both.code, 0, both.stderr);
  assert.match(both.stdout, /json true/, 'the full module, though the lean one came first');
  const lean = await run(`await loadWasm(new URL('${base}/lean'));`);
  assert.match(lean.stdout, /json false/);
  const fullFails = await run(`await Promise.all([loadWasm(new URL('${base}/lean')), loadWasm(new URL('${base}/missing'), true)]);`);
  assert.match(fullFails.stdout, /json false/, 'the lean module when the full one cannot load');
  assert.match(fullFails.stdout, /recording true/, 'and the SDK is on');
  assert.match(fullFails.stderr, /missing failed: 404; the module of the page's other edgescope entry is in use/);
  const leanFails = await run(`await Promise.all([loadWasm(new URL('${base}/missing')), loadWasm(new URL('${base}/full'), true)]);`);
  assert.match(leanFails.stdout, /json true/);
  assert.match(leanFails.stdout, /recording true/, 'the full module when the lean one cannot load');
  assert.match(both.stdout, /recording true/);
  const none = await run(`await Promise.all([loadWasm(new URL('${base}/missing')), loadWasm(new URL('${base}/missing'), true)]);`);
  assert.match(none.stdout, /recording false/, 'off when neither loads');
});

test('http/json asked of the lean module exports protobuf, and says so under debug and in apiErrors', async () => {
  const script = `
    const core = await import(${JSON.stringify(new URL('core.js', dist).href)});
    core.initSync({ module: (await import('node:fs')).readFileSync(${JSON.stringify(new URL('wasm/edgescope_bg.wasm', dist).pathname)}) });
    // (Before api.js, which keeps the console's own warn.)
    const warned = [];
    console.warn = (...args) => warned.push(args.map(String).join(' '));
    const api = await import(${JSON.stringify(new URL('api.js', dist).href)});
    const types = [];
    api.init({ serviceName: 'lean', protocol: 'http/json', debug: true, scheduleDelayMillis: 0,
      fetch: async (url, request) => { types.push(request.headers['content-type'] ?? new Headers(request.headers).get('content-type')); return new Response(null, { status: 200 }); } });
    api.startSpan('work').end();
    await api.flush();
    console.log(JSON.stringify({ warned, types, apiErrors: api.diagnostics().apiErrors }));`;
  const out = await new Promise((resolve) => execFile(process.execPath, ['--input-type=module', '-e', script], (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr })));
  assert.equal(out.code, 0, out.stderr);
  const { warned, types, apiErrors } = JSON.parse(out.stdout.trim().split('\n').pop());
  assert.deepEqual(types, ['application/x-protobuf']);
  assert.equal(apiErrors, 1);
  assert.ok(warned.some((w) => /http\/json needs edgescope\/full/.test(w)), JSON.stringify(warned));
});
