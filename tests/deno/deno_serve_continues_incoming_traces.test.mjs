// The SDK in real Deno (npm `deno`): a Deno.serve handler continues an incoming traceparent
// and its span and log reach the collector; without a header it starts a new trace.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { getJson, root, startCollector, traceSpans, waitFor } from '../support.mjs';
import { startDeno } from './deno.mjs';

let collector, deno, url;

before(async () => {
  collector = await startCollector();
  deno = await startDeno(join(root, 'tests', 'deno', 'app.mjs'), { OTLP_ENDPOINT: collector.otlp });
  url = deno.url;
});

after(async () => {
  await deno?.stop();
  await collector?.stop();
});

test('an incoming traceparent is continued and the span and log are exported before the answer', async () => {
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const context = await (await fetch(`${url}/hello`, { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } })).json();
  assert.equal(context.traceId, traceId, deno.output());
  const spans = await traceSpans(collector, traceId);
  assert.equal(spans.length, 1, 'exported before the answer: no waiting needed');
  assert.equal(spans[0].parentSpanId, 'b7ad6b7169203331');
  assert.equal(spans[0].kind, 2);
  assert.equal(spans[0].service, 'deno-test');
  const logs = await getJson(`${collector.ui}/api/logs?trace_id=${traceId}`);
  assert.equal(logs.result.resourceLogs[0].scopeLogs[0].logRecords[0].spanId, context.spanId);
});

test('a request without traceparent starts a new trace', async () => {
  const context = await (await fetch(`${url}/new`)).json();
  assert.match(context.traceId, /^[0-9a-f]{32}$/);
  const spans = await waitFor('the root span', async () => {
    const s = await traceSpans(collector, context.traceId).catch(() => []);
    return s.length > 0 && s;
  });
  assert.equal(spans[0].parentSpanId, undefined);
});
