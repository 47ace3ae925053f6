// The first requests of a cold isolate arrive together while `instrument` sets the SDK up
// (configuration, AsyncLocalStorage): each still gets its own server span as the parent of its
// outgoing call and of its log after the `await`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { getJson, startCollector, traceSpans, waitFor } from '../support.mjs';
import { startWorkerd } from './workerd.mjs';

let collector, worker, downstream;

before(async () => {
  collector = await startCollector();
  downstream = createServer((req, res) => {
    const delay = Number(new URL(req.url, 'http://x').searchParams.get('delay')) || 0;
    setTimeout(() => res.end('done'), delay);
  });
  await new Promise((r) => downstream.listen(0, '127.0.0.1', r));
  worker = await startWorkerd(
    fileURLToPath(new URL('./cold_worker.js', import.meta.url)),
    {
      OTEL_SERVICE_NAME: 'cold-worker',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlp,
      DOWNSTREAM: `http://127.0.0.1:${downstream.address().port}`,
    },
    ['nodejs_compat'],
  );
});

after(async () => {
  await worker?.stop();
  downstream?.close();
  await collector?.stop();
});

test('requests that arrive while the SDK sets up keep their own spans and logs', async () => {
  const requests = Array.from({ length: 6 }, (_, i) => ({
    trace: String(i + 1).repeat(32),
    parent: String(i + 1).repeat(16),
    // The earliest request answers last, so logs run while other requests' spans are active.
    delay: 400 - i * 60,
  }));
  const answers = await Promise.all(
    requests.map((r, i) =>
      fetch(`${worker.url}/orders?delay=${r.delay}&tag=${i}`, { headers: { traceparent: `00-${r.trace}-${r.parent}-01` } }),
    ),
  );
  for (const a of answers) assert.equal(await a.text(), 'done', worker.output());
  for (const { trace, parent } of requests) {
    const spans = await waitFor(`both spans of ${trace}`, async () => {
      const s = await traceSpans(collector, trace).catch(() => []);
      return s.length === 2 && s;
    });
    const server = spans.find((s) => s.kind === 2);
    const client = spans.find((s) => s.kind === 3);
    assert.equal(server?.parentSpanId, parent, `${trace}: the server span continues the incoming trace`);
    assert.equal(client?.parentSpanId, server.spanId, `${trace}: the outgoing call is a child of its own request`);
    const logs = await waitFor(`the log of ${trace}`, async () => {
      const doc = await getJson(`${collector.ui}/api/logs?trace_id=${trace}`);
      const records = doc.result.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
      return records.length > 0 && records;
    });
    assert.equal(logs.length, 1);
    assert.equal(logs[0].spanId, server.spanId, `${trace}: the log after the await belongs to its own request`);
  }
});
