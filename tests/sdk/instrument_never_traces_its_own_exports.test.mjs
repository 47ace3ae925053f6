// `instrument` in Node with a `config.fetch` that calls the global fetch (to add a token): the
// exports go through the SDK's own fetch patch unless the exporter keeps them out of it, and each
// traced export would be exported in turn, without end (QA s14 edge 4).
import { test } from 'node:test';
import assert from 'node:assert/strict';

// The network: the collector's answers, and what each export carried.
const exports = [];
globalThis.fetch = async (input, init) => {
  const request = new Request(input, init);
  if (request.url.endsWith('/v1/traces')) {
    const doc = JSON.parse(await request.text());
    const names = doc.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.name)));
    exports.push({ token: request.headers.get('x-token'), names });
    // A traced export: the SDK is turned off, which ends the loop, so that the test fails rather than hangs.
    if (names.includes('POST')) sdk.shutdown();
  }
  return new Response(null, { status: 200 });
};

const sdk = await import('../../sdk/dist/node.js');
const { flush, instrument } = sdk;

test("a config.fetch that calls the global fetch exports the request's span once, and nothing about itself", async () => {
  const handler = instrument(async () => new Response('ok'), {
    serviceName: 'own-exports',
    endpoint: 'http://collector.test',
    protocol: 'http/json',
    compression: 'none',
    fetch: (url, init) => fetch(url, { ...init, headers: { ...init.headers, 'x-token': 't' } }),
  });
  assert.equal(await (await handler(new Request('http://127.0.0.1/one'))).text(), 'ok');
  // A traced export would leave a CLIENT span for each flush to export.
  for (let i = 0; i < 3; i++) await flush();
  assert.deepEqual(exports, [{ token: 't', names: ['GET'] }]);
});
