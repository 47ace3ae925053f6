// `instrument` in Node: OTEL_RESOURCE_ATTRIBUTES is merged key by key under the code's
// `resourceAttributes` (the resource spec's "secondary resource"), never dropped whole; and a
// request without a traceparent is a new trace, not a child of whatever span was active when the
// server was set up (AsyncLocalStorage carries that span into every request's callbacks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';

Object.assign(process.env, {
  OTEL_SERVICE_NAME: 'merged',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.test',
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod,team=env-team',
});

const sent = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const request = new Request(input, init);
  if (!request.url.startsWith('http://collector.test')) return realFetch(input, init);
  sent.push(JSON.parse(await request.text()));
  return new Response(null, { status: 200 });
};

const { flush, instrument, startActiveSpan } = await import('../../sdk/dist/node.js');

const spans = () => sent.flatMap((d) => (d.resourceSpans ?? []).flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ ...s, resource: rs.resource })))));

test("the code's resourceAttributes win key by key; OTEL_RESOURCE_ATTRIBUTES fills the rest", async () => {
  const handler = instrument(async () => new Response('ok'), { compression: 'none', resourceAttributes: { team: 'code-team' } });
  await (await handler(new Request('http://127.0.0.1/x'))).text();
  await flush();
  const [span] = spans();
  const resource = Object.fromEntries(span.resource.attributes.map((a) => [a.key, a.value.stringValue]));
  assert.equal(resource.team, 'code-team');
  assert.equal(resource['deployment.environment.name'], 'prod');
  assert.equal(resource['service.name'], 'merged');
});

test('a request without a traceparent is a new trace, whatever span was active when the server started', async () => {
  sent.length = 0;
  const handler = instrument(async () => new Response('ok'));
  // The server is made and listens inside a startup span, as an app's bootstrap may be traced.
  const { server, startup } = await startActiveSpan('startup', async (span) => {
    const server = createServer(async (req, res) => {
      const answer = await handler(new Request(`http://127.0.0.1${req.url}`, { headers: req.headers }));
      res.end(await answer.text());
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    span.end();
    return { server, startup: span.spanContext() };
  });
  try {
    const { port } = server.address();
    for (const path of ['/one', '/two']) await (await realFetch(`http://127.0.0.1:${port}${path}`)).text();
    await (await realFetch(`http://127.0.0.1:${port}/three`, { headers: { traceparent: `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01` } })).text();
  } finally {
    server.close();
  }
  await flush();
  const servers = spans().filter((s) => s.kind === 2);
  assert.equal(servers.length, 3);
  const [one, two, three] = ['/one', '/two', '/three'].map((p) => servers.find((s) => s.attributes.some((a) => a.key === 'url.path' && a.value.stringValue === p)));
  for (const s of [one, two]) {
    assert.equal(s.parentSpanId ?? '', '', 'a root');
    assert.notEqual(s.traceId, startup.traceId, 'not in the startup trace');
  }
  assert.notEqual(one.traceId, two.traceId, 'a trace each');
  assert.equal(three.traceId, 'ab'.repeat(16), 'a traceparent is still continued');
  assert.equal(three.parentSpanId, 'cd'.repeat(8));
});

test("nor does a request take the remote baggage of the context the server started in", async () => {
  const { extract, inject } = await import('../../sdk/dist/node.js');
  const seen = [];
  const handler = instrument(async () => {
    const headers = {};
    inject(headers);
    seen.push(headers.baggage);
    return new Response('ok');
  });
  const bootstrap = extract({ traceparent: `00-${'12'.repeat(16)}-${'34'.repeat(8)}-01`, baggage: 'deploy=v1' });
  const server = await startActiveSpan('startup', { parent: bootstrap }, async (span) => {
    const server = createServer(async (req, res) => {
      const answer = await handler(new Request(`http://127.0.0.1${req.url}`, { headers: req.headers }));
      res.end(await answer.text());
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    span.end();
    return server;
  });
  try {
    const { port } = server.address();
    await (await realFetch(`http://127.0.0.1:${port}/plain`)).text();
    const traceparent = `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`;
    await (await realFetch(`http://127.0.0.1:${port}/with`, { headers: { traceparent, baggage: 'user=alice' } })).text();
  } finally {
    server.close();
  }
  assert.equal(seen.length, 2);
  assert.equal(seen[0], undefined, 'a request without a context of its own has no baggage');
  assert.ok(seen.every((b) => !b?.includes('deploy')), JSON.stringify(seen));
});

test("inject in a request sends the request's baggage, as its fetch calls do, after the code's own entries", async () => {
  const { inject } = await import('../../sdk/dist/node.js');
  const seen = [];
  const handler = instrument(async () => {
    const plain = {};
    inject(plain);
    const own = { baggage: 'user=bob' };
    inject(own);
    seen.push(plain.baggage, own.baggage);
    return new Response('ok');
  });
  await (await handler(new Request('http://127.0.0.1/queue', { headers: { baggage: 'user=alice,tenant=acme' } }))).text();
  await (await handler(new Request('http://127.0.0.1/none'))).text();
  assert.deepEqual(seen, ['user=alice,tenant=acme', 'user=bob,tenant=acme', undefined, 'user=bob']);
});
