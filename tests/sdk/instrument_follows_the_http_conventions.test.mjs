// `instrument` for generic `(request) => Response` handlers (Vercel Edge, Node), run in Node:
// the server and client spans follow the HTTP conventions for methods they do not know and for
// server errors, and `propagateTraceHeaderUrls` prefixes end at a host or path boundary, as the
// browser's `propagateTraceHeaderCorsUrls` do, so that a listed API's look-alike host gets no
// trace headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instrument } from '../../sdk/dist/node.js';

const sent = [];
const capture = async (url, request) => {
  if (url.endsWith('/v1/traces')) {
    for (const rs of JSON.parse(Buffer.from(request.body).toString()).resourceSpans) for (const ss of rs.scopeSpans) sent.push(...ss.spans);
  }
  return new Response(null, { status: 200 });
};

// The network the handler's outgoing fetches reach: it answers at once and keeps their headers.
const outgoing = [];
globalThis.fetch = async (input, init) => {
  const request = new Request(input, init);
  outgoing.push({ url: request.url, traceparent: request.headers.get('traceparent') });
  return new Response('ok');
};

const handler = instrument(
  async (request) => {
    const { searchParams } = new URL(request.url);
    for (const to of searchParams.getAll('call')) await (await fetch(to, { method: searchParams.get('method') ?? 'GET' })).text();
    return new Response('done', { status: Number(searchParams.get('status')) || 200 });
  },
  {
    serviceName: 'conventions',
    fetch: capture,
    protocol: 'http/json',
    compression: 'none',
    propagateTraceHeaderUrls: ['https://api.example.com', 'https://cdn.example.com/v1/', 'https://static.example.com/app', /^https:\/\/re\.example\.com\//],
  },
);

const attr = (span, key) => {
  const a = span.attributes.find((x) => x.key === key);
  return a && Object.values(a.value)[0];
};

/** The spans of one handled request: calls `handler` and waits for its export. */
async function handled(url, init) {
  sent.length = 0;
  outgoing.length = 0;
  const response = await handler(new Request(url, init));
  assert.equal(await response.text(), 'done');
  for (let i = 0; i < 200 && !sent.some((s) => s.kind === 2); i++) await new Promise((r) => setTimeout(r, 10));
  return { server: sent.find((s) => s.kind === 2), clients: sent.filter((s) => s.kind === 3) };
}

test('a prefix in propagateTraceHeaderUrls ends where a host or a path segment does', async () => {
  const calls = [
    ['https://api.example.com/orders', true],
    ['https://api.example.com.evil.test/orders', false],
    ['https://api.example.community/', false],
    ['https://cdn.example.com/v1/app.js', true],
    ['https://cdn.example.com/v10/app.js', false],
    // A prefix without a closing slash matches the URL it names, and what follows it from a `/`, `?` or `#`.
    ['https://static.example.com/app', true],
    ['https://static.example.com/app?v=2', true],
    ['https://static.example.com/app/main.js', true],
    ['https://static.example.com/apps', false],
    ['https://re.example.com/x', true],
    ['https://elsewhere.test/', false],
  ];
  const query = calls.map(([to]) => `call=${encodeURIComponent(to)}`).join('&');
  const { clients } = await handled(`http://localhost/fan-out?${query}`);
  assert.equal(clients.length, calls.length, 'a client span for every call');
  for (const [to, expected] of calls) {
    const call = outgoing.find((o) => o.url === to);
    assert.equal(call.traceparent !== null, expected, `${to} ${expected ? 'gets' : 'does not get'} trace headers`);
  }
});

test('a method the conventions do not know is _OTHER, in spans named HTTP', async () => {
  const { server, clients } = await handled(`http://localhost/purge?call=${encodeURIComponent('https://api.example.com/cache')}&method=PURGE`, {
    method: 'PURGE',
  });
  assert.equal(server.name, 'HTTP');
  assert.equal(attr(server, 'http.request.method'), '_OTHER');
  assert.equal(attr(server, 'http.request.method_original'), 'PURGE');
  assert.equal(clients[0].name, 'HTTP');
  assert.equal(attr(clients[0], 'http.request.method'), '_OTHER');
  assert.equal(attr(clients[0], 'http.request.method_original'), 'PURGE');
  const { server: get } = await handled('http://localhost/plain');
  assert.equal(get.name, 'GET');
  assert.equal(attr(get, 'http.request.method'), 'GET');
  assert.equal(attr(get, 'http.request.method_original'), undefined);
});

test('a 5xx answer marks the server span as an error with error.type; a 4xx does not', async () => {
  const { server } = await handled('http://localhost/fail?status=503');
  assert.equal(server.status.code, 2);
  assert.equal(attr(server, 'error.type'), '503');
  assert.equal(attr(server, 'http.response.status_code'), '503');
  const { server: missing } = await handled('http://localhost/missing?status=404');
  assert.equal(missing.status?.code ?? 0, 0);
  assert.equal(attr(missing, 'error.type'), undefined);
});
