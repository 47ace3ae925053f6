// `instrument` in real workerd (with nodejs_compat, so AsyncLocalStorage keeps each request's
// context): server spans continue incoming traces, outgoing fetches get client spans and
// headers, logs after an `await` stay with their request even when requests interleave,
// thrown errors are recorded and re-thrown, and config comes from OTEL_* bindings; requests that
// reach a cold isolate while the SDK sets itself up keep their own context too.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { attr, getJson, startCollector, traceSpans, waitFor } from '../support.mjs';
import { startWorkerd } from './workerd.mjs';

let collector, worker, downstream;
const seen = [];

before(async () => {
  collector = await startCollector();
  downstream = createServer((req, res) => {
    const delay = Number(new URL(req.url, 'http://x').searchParams.get('delay')) || 0;
    seen.push(req.headers.traceparent ?? null);
    setTimeout(() => res.end('done'), delay);
  });
  await new Promise((r) => downstream.listen(0, '127.0.0.1', r));
  worker = await startWorkerd(
    fileURLToPath(new URL('./instrumented_worker.js', import.meta.url)),
    {
      OTEL_SERVICE_NAME: 'instrumented-worker',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlp,
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test,team=edge%20platform',
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

async function logsOf(traceId) {
  const doc = await getJson(`${collector.ui}/api/logs?trace_id=${traceId}`);
  return doc.result.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
}

test('interleaved requests keep their own server span, client span, headers and logs', async () => {
  const a = { trace: '11111111111111111111111111111111', parent: '1111111111111111' };
  const b = { trace: '22222222222222222222222222222222', parent: '2222222222222222' };
  // A starts first and B second, and A's downstream answers while B's still waits: A logs
  // while B's span is the most recently activated one in the isolate.
  const pa = fetch(`${worker.url}/orders?delay=250&tag=a`, { headers: { traceparent: `00-${a.trace}-${a.parent}-01` } });
  await new Promise((r) => setTimeout(r, 60));
  const pb = fetch(`${worker.url}/orders?delay=600&tag=b`, { headers: { traceparent: `00-${b.trace}-${b.parent}-01` } });
  const [ra, rb] = await Promise.all([pa, pb]);
  assert.equal(await ra.text(), 'done', worker.output());
  assert.equal(await rb.text(), 'done');
  for (const { trace, parent } of [a, b]) {
    const spans = await waitFor(`both spans of ${trace}`, async () => {
      const s = await traceSpans(collector, trace).catch(() => []);
      return s.length === 2 && s;
    });
    const server = spans.find((s) => s.kind === 2);
    const client = spans.find((s) => s.kind === 3);
    assert.equal(server.parentSpanId, parent);
    assert.equal(server.name, 'GET /orders');
    assert.equal(attr(server, 'http.route'), '/orders');
    assert.equal(attr(server, 'http.response.status_code'), '200');
    assert.equal(server.service, 'instrumented-worker');
    assert.equal(client.parentSpanId, server.spanId, 'the outgoing call is a child of its own request');
    assert.ok(seen.includes(`00-${trace}-${client.spanId}-01`), 'downstream got the client span as parent');
    const logs = await waitFor('the log', async () => (await logsOf(trace)).length > 0 && logsOf(trace));
    assert.equal(logs.length, 1);
    assert.equal(logs[0].spanId, server.spanId, 'the log after the await belongs to its own request');
  }
  const resource = (await getJson(`${collector.ui}/api/v3/traces/${a.trace}`)).result.resourceSpans[0].resource;
  assert.equal(attr(resource, 'deployment.environment.name'), 'test');
  assert.equal(attr(resource, 'team'), 'edge platform');
});

test('a thrown error marks the server span and is re-thrown to the runtime', async () => {
  const trace = '33333333333333333333333333333333';
  const response = await fetch(`${worker.url}/boom`, { headers: { traceparent: `00-${trace}-3333333333333333-01` } });
  assert.equal(response.status, 500, 'workerd saw the exception');
  const [span] = await waitFor('the failed span', async () => {
    const s = await traceSpans(collector, trace).catch(() => []);
    return s.length === 1 && s;
  });
  assert.equal(span.status.code, 2);
  assert.equal(span.status.message, 'boom');
  assert.equal(attr(span, 'error.type'), 'TypeError');
  const exception = span.events.find((e) => e.name === 'exception');
  assert.equal(attr(exception, 'exception.type'), 'TypeError');
});

test('requests that reach a cold isolate while the SDK sets up keep their own spans and logs', async () => {
  // /ready answers without the SDK there, so the first instrumented requests are these, all at once.
  const cold = await startWorkerd(
    fileURLToPath(new URL('./cold_worker.js', import.meta.url)),
    {
      OTEL_SERVICE_NAME: 'cold-worker',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlp,
      DOWNSTREAM: `http://127.0.0.1:${downstream.address().port}`,
    },
    ['nodejs_compat'],
  );
  try {
    const requests = Array.from({ length: 6 }, (_, i) => ({
      trace: (i + 1).toString(16).padStart(32, 'c'),
      parent: (i + 1).toString(16).padStart(16, 'c'),
      // The earliest request answers last, so logs run while other requests' spans are active.
      delay: 400 - i * 60,
    }));
    const answers = await Promise.all(
      requests.map((r, i) =>
        fetch(`${cold.url}/orders?delay=${r.delay}&tag=${i}`, { headers: { traceparent: `00-${r.trace}-${r.parent}-01` } }),
      ),
    );
    for (const a of answers) assert.equal(await a.text(), 'done', cold.output());
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
        const records = await logsOf(trace);
        return records.length > 0 && records;
      });
      assert.equal(logs.length, 1);
      assert.equal(logs[0].spanId, server.spanId, `${trace}: the log after the await belongs to its own request`);
    }
  } finally {
    await cold.stop();
  }
});
