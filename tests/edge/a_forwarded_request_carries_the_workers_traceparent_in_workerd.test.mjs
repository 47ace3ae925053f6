// The reverse-proxy pattern in real workerd: `fetch(url, request)` and `fetch(new Request(url,
// request))` forward the incoming request, its `traceparent` too; the upstream must get the
// worker's CLIENT span as its parent (W3C Trace Context §3.4), not the caller's span. A
// traceparent the worker sets itself still goes out as it set it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { serviceSpans, startCollector, waitFor } from '../support.mjs';
import { startWorkers } from './workerd.mjs';

let collector, worker, upstream;
const calls = [];

before(async () => {
  collector = await startCollector();
  upstream = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    calls.push({ url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
    res.end('upstream ok');
  });
  await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
  worker = await startWorkers([
    {
      name: 'proxy',
      main: fileURLToPath(new URL('./handlers/proxy.js', import.meta.url)),
      bindings: { OTEL_SERVICE_NAME: 'proxy', OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlp, UPSTREAM: `http://127.0.0.1:${upstream.address().port}` },
    },
  ]);
});

after(async () => {
  await worker?.stop();
  upstream?.close();
  await collector?.stop();
});

const traceId = 'abababababababababababababababab';
const incoming = `00-${traceId}-1234123412341234-01`;

for (const path of ['/init-is-request', '/new-request']) {
  test(`${path}: the upstream's parent is the worker's CLIENT span`, async () => {
    const response = await fetch(`${worker.url}${path}`, { method: 'POST', body: 'payload', headers: { traceparent: incoming } });
    assert.equal(await response.text(), 'upstream ok', worker.output());
    const got = calls.find((c) => c.url === path);
    assert.equal(got.body, 'payload', 'the request is forwarded');
    const client = await waitFor('the CLIENT span', async () => {
      const spans = await serviceSpans(collector, 'proxy').catch(() => []);
      return spans.find((s) => s.kind === 3 && s.attributes.some((a) => a.value.stringValue?.endsWith(path)));
    });
    assert.equal(got.headers.traceparent, `00-${traceId}-${client.spanId}-01`);
  });
}

test('a traceparent the worker sets itself (not the incoming one) goes out as it set it', async () => {
  const own = '00-cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd-5678567856785678-01';
  await (await fetch(`${worker.url}/own`, { headers: { traceparent: incoming, 'x-own': own } })).text();
  assert.equal(calls.find((c) => c.url === '/own').headers.traceparent, own);
});
