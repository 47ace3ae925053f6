// `instrument` around a Deno.serve handler in real Deno: interleaved requests keep their own
// spans and logs (AsyncLocalStorage), outgoing fetches carry the client span, errors are
// recorded, and OTEL_* environment variables configure the SDK.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { attr, getJson, root, startCollector, traceSpans, waitFor } from '../support.mjs';
import { startDeno } from './deno.mjs';

let collector, deno, downstream, url;
const seen = [];

before(async () => {
  collector = await startCollector();
  downstream = createServer((req, res) => {
    seen.push(req.headers.traceparent ?? null);
    setTimeout(() => res.end('done'), Number(new URL(req.url, 'http://x').searchParams.get('delay')) || 0);
  });
  await new Promise((r) => downstream.listen(0, '127.0.0.1', r));
  deno = await startDeno(join(root, 'tests', 'deno', 'instrumented.mjs'), {
    OTEL_SERVICE_NAME: 'deno-instrumented',
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlp,
    DOWNSTREAM: `http://127.0.0.1:${downstream.address().port}`,
  });
  url = deno.url;
});

after(async () => {
  await deno?.stop();
  downstream?.close();
  await collector?.stop();
});

test('interleaved requests keep their own spans and logs, and fetches carry the client span', async () => {
  const a = '44444444444444444444444444444444';
  const b = '55555555555555555555555555555555';
  const pa = fetch(`${url}/a?delay=250`, { headers: { traceparent: `00-${a}-4444444444444444-01` } });
  await new Promise((r) => setTimeout(r, 60));
  const pb = fetch(`${url}/b?delay=600`, { headers: { traceparent: `00-${b}-5555555555555555-01` } });
  assert.deepEqual(await Promise.all([pa, pb].map(async (p) => (await p).text())), ['done', 'done'], deno.output());
  for (const trace of [a, b]) {
    const spans = await waitFor(`the spans of ${trace}`, async () => {
      const s = await traceSpans(collector, trace).catch(() => []);
      return s.length === 2 && s;
    });
    const server = spans.find((s) => s.kind === 2);
    const client = spans.find((s) => s.kind === 3);
    assert.equal(server.service, 'deno-instrumented');
    assert.equal(client.parentSpanId, server.spanId);
    assert.ok(seen.includes(`00-${trace}-${client.spanId}-01`));
    // Spans and logs are two exports: the logs may be stored after the spans.
    const logs = await waitFor(`the log of ${trace}`, async () => {
      const doc = await getJson(`${collector.ui}/api/logs?trace_id=${trace}`);
      const records = doc.result.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
      return records.length > 0 && records;
    });
    assert.equal(logs.length, 1);
    assert.equal(logs[0].spanId, server.spanId);
  }
});

test('a thrown error is recorded on the server span', async () => {
  const trace = '66666666666666666666666666666666';
  const response = await fetch(`${url}/boom`, { headers: { traceparent: `00-${trace}-6666666666666666-01` } });
  assert.equal(response.status, 500);
  const [span] = await waitFor('the failed span', async () => {
    const s = await traceSpans(collector, trace).catch(() => []);
    return s.length === 1 && s;
  });
  assert.equal(span.status.code, 2);
  assert.equal(attr(span, 'error.type'), 'RangeError');
});

test('examples/deno serves /todos with a traced, logged request, with the permissions its README gives', async () => {
  const example = await startDeno(
    join(root, 'examples', 'deno', 'main.ts'),
    { PORT: '0', OTEL_SERVICE_NAME: 'deno-example', OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlp },
    /Listening on http:\/\/127\.0\.0\.1:(\d+)/,
    ['--allow-env=PORT,OTEL_SERVICE_NAME,OTEL_EXPORTER_OTLP_ENDPOINT', '--allow-net', '--allow-read'],
  );
  try {
    const trace = '99999999999999999999999999999999';
    const todos = await (await fetch(`${example.url}/todos`, { headers: { traceparent: `00-${trace}-9999999999999999-01` } })).json();
    assert.equal(todos[0].title, 'trace the edge');
    const [span] = await waitFor('the example span', async () => {
      const s = await traceSpans(collector, trace).catch(() => []);
      return s.length > 0 && s;
    });
    assert.equal(span.service, 'deno-example');
  } finally {
    await example.stop();
  }
});

/** Whether nothing listens on 127.0.0.1:`port`. */
async function portFree(port) {
  const server = createNetServer();
  const free = await new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (free) await new Promise((r) => server.close(r));
  return free;
}

// examples/deno/README.md: `--allow-env` may list just the OTEL_* names, and without any
// `--allow-env` the config in code is used alone. main.ts reads PORT too: where it may not, it
// listens on its default port, 8000, rather than failing (NotCapable) before it serves.
test('examples/deno runs with --allow-env listing only the OTEL_* names, and with no --allow-env', async (t) => {
  if (!(await portFree(8000))) return t.skip('127.0.0.1:8000, the example\'s default port, is in use');
  const env = { PORT: '0', OTEL_SERVICE_NAME: 'deno-example-otel-only', OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlp };
  const listening = /Listening on http:\/\/127\.0\.0\.1:(\d+)/;
  const otelOnly = await startDeno(join(root, 'examples', 'deno', 'main.ts'), env, listening, [
    '--allow-env=OTEL_SERVICE_NAME,OTEL_EXPORTER_OTLP_ENDPOINT',
    '--allow-net',
    '--allow-read',
  ]);
  try {
    assert.equal(otelOnly.url, 'http://127.0.0.1:8000', 'PORT may not be read: the default port');
    const trace = 'abababababababababababababababab';
    const todos = await (await fetch(`${otelOnly.url}/todos`, { headers: { traceparent: `00-${trace}-abababababababab-01` } })).json();
    assert.equal(todos[0].title, 'trace the edge');
    const [span] = await waitFor('the example span', async () => {
      const s = await traceSpans(collector, trace).catch(() => []);
      return s.length > 0 && s;
    });
    assert.equal(span.service, 'deno-example-otel-only', 'the OTEL_* names it may read are used');
  } finally {
    await otelOnly.stop();
  }
  // No env access at all: the SDK's defaults (its export to 127.0.0.1:4318 fails quietly, if no collector is there).
  const noEnv = await startDeno(join(root, 'examples', 'deno', 'main.ts'), env, listening, ['--allow-net', '--allow-read']);
  try {
    assert.equal(noEnv.url, 'http://127.0.0.1:8000');
    const response = await fetch(`${noEnv.url}/todos`);
    assert.equal(response.status, 200, noEnv.output());
    assert.equal((await response.json())[0].title, 'trace the edge');
    assert.doesNotMatch(noEnv.output(), /NotCapable|PermissionDenied|requires env access/);
  } finally {
    await noEnv.stop();
  }
});
