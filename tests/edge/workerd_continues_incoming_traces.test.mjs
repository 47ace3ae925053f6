// The SDK in real workerd: continue an incoming traceparent or start a new trace, and export
// before the runtime drops the request (ctx.waitUntil).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { getJson, startCollector, traceSpans, waitFor } from '../support.mjs';
import { startWorkerd } from './workerd.mjs';

let collector, worker;

before(async () => {
  collector = await startCollector();
  worker = await startWorkerd(fileURLToPath(new URL('./worker.js', import.meta.url)), {
    OTLP_ENDPOINT: collector.otlp,
  });
});

after(async () => {
  await worker?.stop();
  await collector?.stop();
});

test('an incoming traceparent is continued by a stored SERVER span', async () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const parentId = '00f067aa0ba902b7';
  const response = await fetch(`${worker.url}/orders`, {
    headers: { traceparent: `00-${traceId}-${parentId}-01` },
  });
  assert.equal(response.status, 200, worker.output());
  const context = await response.json();
  assert.equal(context.traceId, traceId, 'same trace id');
  assert.notEqual(context.spanId, parentId, 'a new span id');

  const spans = await waitFor('the server span in the collector', async () => {
    const s = await traceSpans(collector, traceId).catch(() => []);
    return s.length > 0 && s;
  });
  assert.equal(spans.length, 1);
  const [span] = spans;
  assert.equal(span.service, 'edge-test-worker');
  assert.equal(span.kind, 2, 'SERVER');
  assert.equal(span.name, 'GET /orders');
  assert.equal(span.spanId, context.spanId);
  assert.equal(span.parentSpanId, parentId, 'the sent span id is the parent');
  assert.equal(span.flags & 0xff, 1, 'the sampled flag is kept');
  assert.equal(span.flags & 0x300, 0x300, 'the parent is marked remote');

  const logs = await waitFor('the worker log record', async () => {
    const doc = await getJson(`${collector.ui}/api/logs?trace_id=${traceId}`);
    const records = doc.result.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
    return records.length > 0 && records;
  });
  assert.equal(logs[0].spanId, context.spanId);
});

test('a request without traceparent, or with an invalid one, starts a new root span', async () => {
  for (const headers of [{}, { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' }]) {
    const context = await (await fetch(`${worker.url}/new`, { headers })).json();
    assert.match(context.traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(context.traceId, '00000000000000000000000000000000');
    const spans = await waitFor('the root span in the collector', async () => {
      const s = await traceSpans(collector, context.traceId).catch(() => []);
      return s.length > 0 && s;
    });
    assert.equal(spans[0].parentSpanId, undefined, 'a root span has no parent');
    assert.equal(spans[0].flags & 0xff, 3, 'sampled and random (W3C Level 2)');
  }
});
