// Overlapping requests in one workerd isolate share the SDK's queue: one request's flush may
// send another's spans, and an export may still be under way when a request ends. Each
// request's `ctx.waitUntil` promise must still settle on its own (no continuation left for a
// request context that is gone), every span and log must arrive exactly once, also when the
// collector fails some exports (retried) and answers others slowly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { getJson, startCollector, traceSpans, waitFor } from '../support.mjs';
import { startWorkerd } from './workerd.mjs';

let collector, proxy, worker;
/** Export requests the proxy received, in order. */
let exports = 0;

before(async () => {
  collector = await startCollector();
  // Between the worker and the collector: every third export is answered 503 (retried by the
  // SDK), every other one only after a delay, so exports overlap the requests' ends.
  proxy = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const n = ++exports;
      if (n % 3 === 0) {
        res.writeHead(503, { 'retry-after': '0' });
        return res.end();
      }
      if (n % 2 === 0) await new Promise((resolve) => setTimeout(resolve, 300));
      const headers = { 'content-type': req.headers['content-type'] };
      if (req.headers['content-encoding']) headers['content-encoding'] = req.headers['content-encoding'];
      const answer = await fetch(collector.otlp + req.url, { method: 'POST', headers, body: Buffer.concat(chunks) });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/x-protobuf' });
      res.end(Buffer.from(await answer.arrayBuffer()));
    });
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  worker = await startWorkerd(
    fileURLToPath(new URL('./flush_worker.js', import.meta.url)),
    {
      OTEL_SERVICE_NAME: 'flush-worker',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${proxy.address().port}`,
    },
    ['nodejs_compat'],
  );
});

after(async () => {
  await worker?.stop();
  proxy?.close();
  await collector?.stop();
});

async function logsOf(traceId) {
  const doc = await getJson(`${collector.ui}/api/logs?trace_id=${traceId}`);
  return doc.result.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
}

test('overlapping requests each settle their flush and deliver every span and log once', async () => {
  const requests = Array.from({ length: 12 }, (_, i) => ({
    id: String(i),
    trace: (i + 1).toString(16).padStart(32, 'a'),
    // Some requests end at once, others while the first ones' exports are still under way.
    wait: [0, 40, 250][i % 3],
  }));
  const answers = await Promise.all(
    requests.map(({ id, trace, wait }) =>
      fetch(`${worker.url}/work?id=${id}&wait=${wait}`, { headers: { traceparent: `00-${trace}-00f067aa0ba902b7-01` } }),
    ),
  );
  for (const [i, answer] of answers.entries()) assert.equal(await answer.text(), requests[i].id, worker.output());

  // Each request's waitUntil promise settles by itself (a flush that waits on a continuation
  // workerd dropped never does).
  const notes = await waitFor('every request to settle its flush', async () => {
    const n = await getJson(`${worker.url}/settled`);
    return requests.every(({ id }) => n[id] === 'settled') && n;
  }).catch(async (e) => {
    throw new Error(`${e.message}; notes: ${JSON.stringify(await getJson(`${worker.url}/settled`))}\n${worker.output()}`);
  });
  assert.equal(Object.keys(notes).length, requests.length);

  // Everything was sent before the flushes settled: each trace has its two spans and two logs,
  // none twice.
  for (const { id, trace } of requests) {
    const spans = await traceSpans(collector, trace).catch(() => []);
    assert.deepEqual(spans.map((s) => s.name).sort(), ['GET /work', 'work'], `spans of request ${id}`);
    const logs = await logsOf(trace);
    assert.deepEqual(
      logs.map((l) => l.body.stringValue).sort(),
      [`request ${id} began`, `request ${id} worked`],
      `logs of request ${id}`,
    );
  }
  assert.ok(exports > requests.length / 3, `the proxy saw ${exports} exports`);
  assert.doesNotMatch(worker.output(), /cross-context|different request context/);
});
