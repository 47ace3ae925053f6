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
