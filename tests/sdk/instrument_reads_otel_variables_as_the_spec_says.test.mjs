// The OTEL_* variables `instrument` reads in Node (process.env), as the OpenTelemetry SDK
// environment and resource specs say: enum values case-insensitively, and an
// OTEL_RESOURCE_ATTRIBUTES value with a malformed entry discarded whole and reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';

Object.assign(process.env, {
  OTEL_SERVICE_NAME: 'env-values',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.test',
  OTEL_EXPORTER_OTLP_PROTOCOL: 'HTTP/JSON',
  OTEL_TRACES_SAMPLER: 'Always_Off',
  OTEL_RESOURCE_ATTRIBUTES: 'good=1,broken,bad=%zz,late=4',
});

const sent = [];
globalThis.fetch = async (input, init) => {
  const request = new Request(input, init);
  sent.push({ path: new URL(request.url).pathname, type: request.headers.get('content-type'), body: await request.text() });
  return new Response(null, { status: 200 });
};

const { diagnostics, flush, instrument, logger } = await import('../../sdk/dist/node.js');

test('enum values are case-insensitive; a resource value with a bad entry is dropped whole and counted', async () => {
  const handler = instrument(async () => {
    logger.info('handled');
    return new Response('ok');
  }, { compression: 'none' });
  await (await handler(new Request('http://127.0.0.1/x'))).text();
  await flush();
  assert.deepEqual(sent.map((s) => s.path), ['/v1/logs'], 'ALWAYS_OFF samples nothing: the log record alone is sent');
  assert.equal(sent[0].type, 'application/json', 'HTTP/JSON is http/json');
  const attributes = JSON.parse(sent[0].body).resourceLogs[0].resource.attributes;
  const resource = attributes.map((a) => a.key);
  assert.ok(resource.includes('service.name'));
  assert.equal(attributes.find((a) => a.key === 'telemetry.sdk.language').value.stringValue, 'nodejs', "Node's value in the semantic conventions");
  for (const key of ['good', 'late', 'bad', 'broken']) assert.ok(!resource.includes(key), `${key} is not a resource attribute`);
  assert.equal(diagnostics().apiErrors, 1, 'the discarded value is reported');
});
