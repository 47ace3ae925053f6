// `instrument(handler, (env) => config)` whose function throws: the SDK still sets up, from the
// OTEL_* variables alone, and counts the error (it was swallowed, and nothing was exported).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';

Object.assign(process.env, {
  OTEL_SERVICE_NAME: 'from-the-environment',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.test',
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
});

const sent = [];
globalThis.fetch = async (input, init) => {
  const request = new Request(input, init);
  const body = Buffer.from(await request.arrayBuffer());
  sent.push(JSON.parse(request.headers.get('content-encoding') === 'gzip' ? gunzipSync(body) : body));
  return new Response(null, { status: 200 });
};

const { diagnostics, flush, instrument } = await import('../../sdk/dist/node.js');

test('a config function that throws leaves the set-up to the environment, counted', async () => {
  const handler = instrument(async () => new Response('ok'), () => {
    throw new Error('no config today');
  });
  const response = await handler(new Request('http://127.0.0.1/x'));
  assert.equal(await response.text(), 'ok', 'the handler runs');
  await flush();
  const spans = sent.flatMap((d) => d.resourceSpans ?? []);
  assert.equal(spans.length, 1, 'the request is traced');
  const service = spans[0].resource.attributes.find((a) => a.key === 'service.name').value.stringValue;
  assert.equal(service, 'from-the-environment');
  assert.equal(diagnostics().apiErrors, 1, 'the error is counted');
});
