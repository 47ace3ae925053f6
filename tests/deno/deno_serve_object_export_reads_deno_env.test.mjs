// `deno serve` with `export default instrument({ fetch })`, in real Deno: the second argument of
// `fetch` is ServeHandlerInfo, so the OTEL_* variables come from Deno.env (only the names granted:
// `--allow-env` with the names alone is enough), and client.address from info.remoteAddr.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { attr, root, serviceSpans, startCollector, waitFor } from '../support.mjs';

let collector, deno, output = '';

before(async () => {
  collector = await startCollector();
  const allow = '--allow-env=OTEL_SERVICE_NAME,OTEL_EXPORTER_OTLP_ENDPOINT,OTEL_EXPORTER_OTLP_PROTOCOL';
  deno = spawn(join(root, 'node_modules', '.bin', 'deno'), ['serve', '--no-prompt', '--allow-net', '--allow-read', allow, '--host', '127.0.0.1', '--port', '0', join(root, 'tests', 'deno', 'serve_object.mjs')], {
    env: { ...process.env, OTEL_SERVICE_NAME: 'deno-serve-object', OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlp, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  deno.stdout.on('data', (d) => (output += d));
  deno.stderr.on('data', (d) => (output += d));
});

after(async () => {
  if (deno && deno.exitCode === null) {
    const exited = new Promise((r) => deno.on('exit', r));
    deno.kill('SIGTERM');
    await exited;
  }
  await collector?.stop();
});

test('the span goes to OTEL_EXPORTER_OTLP_ENDPOINT as OTEL_SERVICE_NAME, with client.address', async () => {
  const port = await waitFor('deno serve to listen', () => {
    if (deno.exitCode !== null) throw Object.assign(new Error(`deno exited: ${output}`), { fatal: true });
    return output.match(/Listening on https?:\/\/[^\s]*:(\d+)/)?.[1];
  }, 30000);
  const response = await fetch(`http://127.0.0.1:${port}/served`);
  assert.equal(await response.text(), 'remote 127.0.0.1', output);
  const spans = await waitFor('the span under OTEL_SERVICE_NAME', async () => {
    const s = await serviceSpans(collector, 'deno-serve-object').catch(() => []);
    return s.length > 0 && s;
  });
  assert.equal(spans.length, 1);
  assert.equal(attr(spans[0], 'url.path'), '/served');
  assert.equal(attr(spans[0], 'client.address'), '127.0.0.1');
});
