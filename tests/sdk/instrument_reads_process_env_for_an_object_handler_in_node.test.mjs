// In Node an object handler (`instrument({ fetch })`, as Hono's `app` is served by
// @hono/node-server) is called with an adapter's `env` (`{ incoming, outgoing }`), not the
// variables: the OTEL_* variables it lacks are read from `process.env`, as for a function handler.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';

const received = [];
const receiver = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    received.push({ path: req.url, body: Buffer.concat(chunks).toString() });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
after(() => receiver.close());

process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${receiver.address().port}`;
process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
process.env.OTEL_SERVICE_NAME = 'hono-in-node';
process.env.OTEL_RESOURCE_ATTRIBUTES = 'deployment.environment.name=test';
const { flush, instrument } = await import('../../sdk/dist/node.js');

test("an object handler in Node is set up from process.env where the adapter's env has no OTEL_* names", async () => {
  const app = instrument({ fetch: async () => new Response('ok') }, { compression: 'none' });
  // As @hono/node-server calls it.
  const response = await app.fetch(new Request('http://localhost/items'), { incoming: {}, outgoing: {} });
  assert.equal(await response.text(), 'ok');
  await flush();
  const traces = received.filter((r) => r.path === '/v1/traces');
  assert.equal(traces.length >= 1, true, `exports reached OTEL_EXPORTER_OTLP_ENDPOINT: ${JSON.stringify(received.map((r) => r.path))}`);
  const rs = JSON.parse(traces[0].body).resourceSpans[0];
  const attr = (key) => rs.resource.attributes.find((a) => a.key === key)?.value.stringValue;
  assert.equal(attr('service.name'), 'hono-in-node');
  assert.equal(attr('deployment.environment.name'), 'test');
  assert.equal(rs.scopeSpans[0].spans[0].name, 'GET');
});
