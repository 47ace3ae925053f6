// examples/cloudflare-worker in real workerd, bundled as wrangler would: /hello continues the
// incoming trace, and POST /test (the W3C trace-context test-service protocol) forwards each
// case with the propagated context.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startCollector, traceSpans, waitFor } from '../support.mjs';
import { startWorkerdModules } from './workerd.mjs';
import { bundleExampleWorker } from '../../examples/cloudflare-worker/bundle.mjs';

let collector, worker, harness;
const received = [];

before(async () => {
  collector = await startCollector();
  // Plays the test suite's harness: records what the worker forwards.
  harness = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push({ traceparent: req.headers.traceparent, tracestate: req.headers.tracestate, body });
      res.end('ok');
    });
  });
  await new Promise((r) => harness.listen(0, '127.0.0.1', r));
  worker = await startWorkerdModules(
    await bundleExampleWorker(),
    { OTEL_SERVICE_NAME: 'example-worker', OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlp },
    ['nodejs_compat'],
  );
});

after(async () => {
  await worker?.stop();
  harness?.close();
  await collector?.stop();
});

test('GET /hello continues the incoming trace', async () => {
  const trace = '77777777777777777777777777777777';
  const response = await fetch(`${worker.url}/hello`, { headers: { traceparent: `00-${trace}-7777777777777777-01` } });
  assert.deepEqual(await response.json(), { hello: 'world', downstream: 'none' }, worker.output());
  const [span] = await waitFor('the span', async () => {
    const s = await traceSpans(collector, trace).catch(() => []);
    return s.length > 0 && s;
  });
  assert.equal(span.name, 'GET /hello');
  assert.equal(span.parentSpanId, '7777777777777777');
});

test('POST /test forwards each case with the propagated traceparent and tracestate', async () => {
  const trace = '88888888888888888888888888888888';
  const harnessUrl = `http://127.0.0.1:${harness.address().port}/collect`;
  const response = await fetch(`${worker.url}/test`, {
    method: 'POST',
    headers: { traceparent: `00-${trace}-8888888888888888-01`, tracestate: 'foo=1', 'content-type': 'application/json' },
    body: JSON.stringify([{ url: harnessUrl, arguments: [{ url: harnessUrl, arguments: [] }] }]),
  });
  assert.equal(response.status, 200);
  assert.equal(received.length, 1);
  const [, t, parent, flags] = received[0].traceparent.split('-');
  assert.equal(t, trace, 'same trace');
  assert.notEqual(parent, '8888888888888888', 'a new parent id');
  assert.equal(flags, '01');
  assert.equal(received[0].tracestate, 'foo=1', 'tracestate passed on');
  assert.deepEqual(JSON.parse(received[0].body), [{ url: harnessUrl, arguments: [] }]);
});
