// The Node entry's `fetch` wrapper over a `fetch` put in place before `init` (a test's stub, a
// mocking library): the caller gets exactly what the stub returns, also when that is no promise
// (`undefined`, a thenable), and the wrapper looks like the host's method (not constructible,
// no `prototype`, the stub's name and length).
import { test } from 'node:test';
import assert from 'node:assert/strict';

const thenable = { then: (resolve) => resolve({ status: 299 }) };
globalThis.fetch = function fetch(input, init) {
  const url = input instanceof Request ? input.url : String(input);
  if (url.includes('/sync')) return undefined;
  if (url.includes('/thenable')) return thenable;
  return Promise.resolve(new Response('ok', { status: 200 }));
};
const stubLength = globalThis.fetch.length;
const { flush, init } = await import('../../sdk/dist/node.js');

let spans = [];
const capture = async (url, request) => {
  const body = JSON.parse(Buffer.from(request.body).toString());
  for (const rs of body.resourceSpans ?? []) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
  return new Response(null, { status: 200 });
};
init({ serviceName: 'stubbed-fetch', fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 0 });

test('a stub that answers with no promise gets its answer passed on untouched, and its span still ends', async () => {
  spans = [];
  assert.equal(fetch('http://127.0.0.1:9/sync'), undefined);
  assert.equal(fetch('http://127.0.0.1:9/thenable'), thenable);
  const response = await fetch('http://127.0.0.1:9/real');
  assert.equal(await response.text(), 'ok');
  await flush();
  const clients = spans.filter((s) => s.kind === 3);
  assert.equal(clients.length, 3, `three CLIENT spans: ${JSON.stringify(spans.map((s) => s.name))}`);
  const real = clients.find((s) => s.attributes.some((a) => a.key === 'url.full' && a.value.stringValue.endsWith('/real')));
  assert.equal(real.attributes.find((a) => a.key === 'http.response.status_code').value.intValue, '200');
});

test("the wrapper looks like the host's method: not constructible, no prototype, the stub's name and length", () => {
  assert.equal(fetch.name, 'fetch');
  assert.equal(fetch.length, stubLength);
  assert.equal('prototype' in fetch, false);
  assert.throws(() => new fetch('http://127.0.0.1:9/real'), (e) => e instanceof TypeError && /not a constructor/.test(e.message));
});
