// examples/cloudflare-worker in real workerd, bundled as wrangler would: /hello continues the
// incoming trace, and POST /test (the W3C trace-context test-service protocol) forwards each
// case with the propagated context; a path it does not route gets a span without http.route.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { attr, startCollector, traceSpans, waitFor } from '../support.mjs';
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
  assert.equal(attr(span, 'http.route'), '/hello');
  assert.equal(span.parentSpanId, '7777777777777777');
});

// HTTP semantic conventions: `http.route` is the matched route template (low cardinality) and the
// SERVER span is named `{method} {http.route}`, or `{method}` alone when no route matched; the raw
// path of a 404 (ids and all) must not become the route or the span name.
test('a path the worker does not route is a 404 whose span is named GET, without http.route', async () => {
  for (const [i, path] of ['/users/4711/orders/42', '/test'].entries()) {
    const trace = `${i}abababababababababababababababa`;
    const response = await fetch(`${worker.url}${path}`, { headers: { traceparent: `00-${trace}-abababababababab-01` } });
    assert.equal(response.status, 404, worker.output());
    await response.text();
    const [span] = await waitFor(`the span of GET ${path}`, async () => {
      const s = await traceSpans(collector, trace).catch(() => []);
      return s.length > 0 && s;
    });
    assert.equal(span.name, 'GET', `GET ${path}: the method alone, not the path`);
    assert.equal(attr(span, 'http.route'), undefined, `GET ${path}: no http.route when no route matched`);
    assert.equal(attr(span, 'url.path'), path, 'the path stays in url.path');
    assert.equal(attr(span, 'http.response.status_code'), '404');
  }
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

// What the W3C trace-context test suite checks at SPEC_LEVEL=2 (Trace Context Level 2): "If the
// [random-trace-id] flag is set in the incoming traceparent header, it MUST also be set in all
// outgoing traceparent headers which use the same trace-id", and unset when it was unset; keys are
// `( lcalpha / DIGIT ) 0*255 ( keychar )` with `@` among the keychars, and one invalid list member
// makes the whole tracestate invalid.
test('POST /test keeps the random flag as received and passes on tracestate keys with at signs', async () => {
  const harnessUrl = `http://127.0.0.1:${harness.address().port}/level2`;
  const forward = async (traceparent, tracestate) => {
    const from = received.length;
    const headers = { traceparent, 'content-type': 'application/json' };
    if (tracestate !== undefined) headers.tracestate = tracestate;
    const response = await fetch(`${worker.url}/test`, {
      method: 'POST',
      headers,
      body: JSON.stringify([{ url: harnessUrl, arguments: [] }]),
    });
    assert.equal(response.status, 200, worker.output());
    assert.equal(received.length, from + 1);
    const { traceparent: tp, tracestate: ts } = received[from];
    const [version, trace, parent, flags] = tp.split('-');
    return { version, trace, parent, flags, tracestate: ts };
  };
  const trace = '99999999999999999999999999999999';

  const random = await forward(`00-${trace}-9999999999999999-02`, 'foo@=1,foo@@bar=2,foo@bar@baz=3');
  assert.deepEqual([random.version, random.trace, random.flags], ['00', trace, '02'], 'random kept, not sampled');
  assert.notEqual(random.parent, '9999999999999999');
  assert.equal(random.tracestate, 'foo@=1,foo@@bar=2,foo@bar@baz=3');

  const plain = await forward(`00-${trace}-9999999999999999-01`, `${'t'.repeat(242)}@v=1,t@${'v'.repeat(15)}=2`);
  assert.equal(plain.flags, '01', 'the random flag stays unset');
  assert.equal(plain.tracestate, `${'t'.repeat(242)}@v=1,t@${'v'.repeat(15)}=2`);

  const tooLong = await forward(`00-${trace}-9999999999999999-01`, `foo=1,${'z'.repeat(257)}=1`);
  assert.equal(tooLong.trace, trace, 'an invalid tracestate does not affect traceparent');
  assert.equal(tooLong.tracestate, undefined, 'a 257-character key drops the whole tracestate');
});
