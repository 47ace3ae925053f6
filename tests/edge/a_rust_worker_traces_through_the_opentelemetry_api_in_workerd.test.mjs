// examples/rust-worker: a request handler written in Rust (workers-rs style: a wasm-bindgen
// `fetch` export behind a module-worker shim) traces with the `opentelemetry` crate's API on
// edgescope, in real workerd: it continues the incoming traceparent, nests a span and a log
// record inside its SERVER span, and exports through ctx.waitUntil.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { getJson, root, startCollector, traceSpans, waitFor } from '../support.mjs';
import { startWorkerdModules } from './workerd.mjs';

const dist = join(root, 'examples', 'rust-worker', 'dist');
let collector, worker;

before(async () => {
  if (!existsSync(join(dist, 'rust_worker_bg.wasm'))) throw new Error('examples/rust-worker/dist is missing: run `bash scripts/build.sh` first');
  collector = await startCollector();
  worker = await startWorkerdModules(
    {
      'shim.mjs': join(dist, 'shim.mjs'),
      'rust_worker.js': join(dist, 'rust_worker.js'),
      'rust_worker_bg.wasm': join(dist, 'rust_worker_bg.wasm'),
    },
    { OTEL_SERVICE_NAME: 'rust-worker', OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlp },
  );
});

after(async () => {
  await worker?.stop();
  await collector?.stop();
});

test('the Rust handler continues the incoming trace with a SERVER span, a child span and a log record', async () => {
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const parentId = 'b7ad6b7169203331';
  const response = await fetch(`${worker.url}/greet?name=edge`, {
    headers: { traceparent: `00-${traceId}-${parentId}-01`, baggage: 'tenant=acme%20corp;ttl=60,bad member' },
  });
  assert.equal(response.status, 200, worker.output());
  assert.equal(await response.text(), 'hello edge from Rust');
  assert.equal(response.headers.get('x-trace-id'), traceId);

  const spans = await waitFor('the Rust worker spans in the collector', async () => {
    const s = await traceSpans(collector, traceId).catch(() => []);
    return s.length >= 2 && s;
  });
  const server = spans.find((s) => s.kind === 2);
  const child = spans.find((s) => s.name === 'compose greeting');
  assert.ok(server && child, JSON.stringify(spans.map((s) => [s.name, s.kind])));
  assert.equal(server.service, 'rust-worker');
  assert.equal(server.name, 'GET /greet');
  assert.equal(server.parentSpanId, parentId, 'the sent span id is the parent');
  assert.equal(server.status?.code, 1, 'OK');
  assert.deepEqual(server.attributes.find((a) => a.key === 'tenant')?.value, { stringValue: 'acme corp' }, 'the baggage was extracted');
  assert.equal(child.parentSpanId, server.spanId);
  assert.deepEqual(child.attributes.find((a) => a.key === 'greeting.name')?.value, { stringValue: 'edge' });

  const records = await waitFor('the Rust worker log record', async () => {
    const doc = await getJson(`${collector.ui}/api/logs?trace_id=${traceId}`);
    const r = doc.result.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
    return r.length > 0 && r;
  });
  assert.equal(records[0].body.stringValue, 'greeting edge');
  assert.equal(records[0].spanId, child.spanId, 'the log record carries the active span');
});

test('without a traceparent the Rust handler starts a new trace', async () => {
  const response = await fetch(`${worker.url}/`);
  assert.equal(response.status, 200, worker.output());
  const traceId = response.headers.get('x-trace-id');
  assert.match(traceId, /^[0-9a-f]{32}$/);
  const spans = await waitFor('the new trace', async () => {
    const s = await traceSpans(collector, traceId).catch(() => []);
    return s.length >= 2 && s;
  });
  assert.equal(spans.find((s) => s.kind === 2).parentSpanId ?? '', '');
});
