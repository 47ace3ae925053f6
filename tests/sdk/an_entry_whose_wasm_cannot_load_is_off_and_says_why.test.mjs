// The Node (and Deno) entry whose .wasm cannot be read or instantiated (a bundler that left it
// behind, a truncated deploy) still imports: the SDK is then off, as after `shutdown()`, and says
// why once (console.warn and `diagnostics().disabled`); nothing it does throws into the app.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../../sdk/dist', import.meta.url));

test('the Node entry with a broken .wasm imports, stays off and says why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgescope-broken-'));
  try {
    cpSync(dist, dir, { recursive: true });
    writeFileSync(join(dir, 'wasm', 'edgescope_node_bg.wasm'), 'not wasm');
    const lines = [];
    const write = process.stderr.write;
    process.stderr.write = (chunk) => lines.push(String(chunk)) > 0;
    let sdk;
    try {
      sdk = await import(join(dir, 'node.js'));
    } finally {
      process.stderr.write = write;
    }
    assert.equal(lines.filter((l) => l.includes('edgescope is off')).length, 1, JSON.stringify(lines));
    sdk.init({ serviceName: 'broken', fetch: () => assert.fail('nothing is exported') });
    const span = sdk.startSpan('s');
    assert.equal(span.isRecording(), false);
    span.setAttribute('a', 1).end();
    sdk.logger.info('hello');
    const headers = {};
    sdk.inject(headers);
    assert.deepEqual(headers, {});
    await sdk.flush();
    await sdk.shutdown();
    const d = sdk.diagnostics();
    assert.match(d.disabled, /WebAssembly|wasm/i);
    assert.equal(d.apiErrors, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
