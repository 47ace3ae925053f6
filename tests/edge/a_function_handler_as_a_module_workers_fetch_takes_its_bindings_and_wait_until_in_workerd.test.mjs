// `fetch: instrument(app.fetch)` in a module worker: workerd calls the function `(request, env,
// ctx)`. The SDK reads its OTEL_* settings from the bindings (`env`), hands its flush to
// `ctx.waitUntil`, and passes both on to the handler, so the request's span and log record reach
// the collector named in the bindings, under the service the bindings name.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { getJson, startCollector, traceSpans, waitFor } from '../support.mjs';
import { startWorkerd } from './workerd.mjs';

let collector, worker;

before(async () => {
  collector = await startCollector();
  worker = await startWorkerd(
    fileURLToPath(new URL('./function_fetch_worker.js', import.meta.url)),
    { OTEL_SERVICE_NAME: 'function-fetch', OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlp },
    ['nodejs_compat'],
  );
});

after(async () => {
  await worker?.stop();
  await collector?.stop();
});

test('a function handler given as a module worker\'s fetch exports under its bindings through waitUntil', async () => {
  const trace = '7a000000000000000000000000000001';
  const response = await fetch(`${worker.url}/items`, { headers: { traceparent: `00-${trace}-7a00000000000001-01` } });
  assert.equal(await response.text(), 'string function', 'the handler gets the bindings and a ctx with waitUntil');
  const spans = await waitFor('the server span in the collector', async () => {
    const s = await traceSpans(collector, trace).catch(() => []);
    return s.length > 0 && s;
  });
  assert.equal(spans[0].kind, 2);
  const { data } = await getJson(`${collector.ui}/jaeger/api/services`);
  assert.deepEqual(data, ['function-fetch']);
  const logs = await waitFor('the log record', async () => {
    const doc = await getJson(`${collector.ui}/api/logs?trace_id=${trace}`);
    const records = doc.result.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
    return records.length > 0 && records;
  });
  assert.equal(logs[0].body.stringValue, 'from the function handler');
});
