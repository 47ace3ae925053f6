// `instrument` in Node (the generic handler path, with AsyncLocalStorage): `captureConsole`
// makes console calls log records of the request that made them, interleaved requests
// included, while the console prints what it printed and the SDK's own diagnostics stay out;
// a request's incoming baggage goes out with its own calls to allowed URLs, combined with the
// isolate's `setBaggage` entries, which win for a key both have.
import { test } from 'node:test';
import assert from 'node:assert/strict';

// The console as the host had it: what it printed, kept here. Set before the SDK wraps it.
const printed = [];
for (const method of ['log', 'info', 'warn', 'error', 'debug']) {
  console[method] = (...args) => printed.push(`${method}: ${args.map(String).join(' ')}`);
}
const { instrument, removeBaggage, setBaggage } = await import('../../sdk/dist/node.js');

const spans = [];
const records = [];
const capture = async (url, request) => {
  const doc = JSON.parse(Buffer.from(request.body).toString());
  if (url.endsWith('/v1/traces')) for (const rs of doc.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
  if (url.endsWith('/v1/logs')) for (const rl of doc.resourceLogs) for (const sl of rl.scopeLogs) records.push(...sl.logRecords);
  return new Response(null, { status: 200 });
};

// The network the handler's outgoing fetches reach: it answers after `?delay=` and keeps their headers.
const outgoing = [];
globalThis.fetch = async (input, init) => {
  const request = new Request(input, init);
  const url = new URL(request.url);
  outgoing.push({ tag: url.searchParams.get('tag'), traceparent: request.headers.get('traceparent'), baggage: request.headers.get('baggage') });
  await new Promise((r) => setTimeout(r, Number(url.searchParams.get('delay')) || 0));
  return new Response('ok');
};

const handler = instrument(
  async (request) => {
    const tag = new URL(request.url).searchParams.get('tag');
    const delay = new URL(request.url).searchParams.get('delay') ?? 0;
    await (await fetch(`https://downstream.example.com/first?tag=${tag}&delay=${delay}`)).text();
    console.info('answered', tag, { n: 1 });
    await (await fetch(`https://downstream.example.com/second?tag=${tag}`)).text();
    await (await fetch(`https://elsewhere.example.net/third?tag=${tag}`)).text();
    return new Response('done');
  },
  {
    serviceName: 'console-and-baggage',
    fetch: capture,
    protocol: 'http/json',
    compression: 'none',
    captureConsole: true,
    propagateTraceHeaderUrls: ['https://downstream.example.com'],
    debug: true,
    route(request) {
      if (new URL(request.url).pathname === '/bad-route') throw new Error('no route for this path');
      return new URL(request.url).pathname;
    },
  },
);

const attr = (item, key) => {
  const a = item.attributes.find((x) => x.key === key);
  return a && Object.values(a.value)[0];
};

async function settled(traceIds, what) {
  for (let i = 0; i < 300; i++) {
    if (traceIds.every((t) => spans.some((s) => s.kind === 2 && s.traceId === t) && records.some((r) => r.traceId === t))) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`no ${what} exported`);
}

test('console calls in interleaved requests become records of their own server span and still print', async () => {
  const a = 'a2'.repeat(16);
  const b = 'b2'.repeat(16);
  const pa = handler(new Request('https://app.example.com/x?tag=a&delay=80', { headers: { traceparent: `00-${a}-${'a2'.repeat(8)}-01` } }));
  await new Promise((r) => setTimeout(r, 20));
  const pb = handler(new Request('https://app.example.com/x?tag=b&delay=200', { headers: { traceparent: `00-${b}-${'b2'.repeat(8)}-01` } }));
  assert.deepEqual(await Promise.all([pa, pb].map(async (p) => (await p).text())), ['done', 'done']);
  await settled([a, b], 'spans and records');
  for (const [trace, tag] of [[a, 'a'], [b, 'b']]) {
    const server = spans.find((s) => s.kind === 2 && s.traceId === trace);
    const mine = records.filter((r) => r.traceId === trace);
    assert.equal(mine.length, 1);
    assert.equal(mine[0].body.stringValue, `answered ${tag} {"n":1}`);
    assert.equal(mine[0].spanId, server.spanId);
    assert.equal(attr(mine[0], 'log.source'), 'console.info');
    assert.ok(printed.includes(`info: answered ${tag} [object Object]`), 'the console printed it, as before');
  }
});

test("the SDK's own diagnostics never become records", async () => {
  const trace = 'c2'.repeat(16);
  const warnedBefore = records.length;
  const response = await handler(new Request('https://app.example.com/bad-route?tag=c', { headers: { traceparent: `00-${trace}-${'c2'.repeat(8)}-01` } }));
  assert.equal(await response.text(), 'done');
  await settled([trace], 'records of the request');
  assert.deepEqual(records.slice(warnedBefore).filter((r) => r.traceId === trace).map((r) => r.body.stringValue), ['answered c {"n":1}']);
  assert.ok(!records.some((r) => /no route for this path|edgescope/.test(r.body.stringValue)));
  assert.ok(printed.some((p) => p.startsWith('warn: [edgescope]') && p.includes('no route for this path')), 'the diagnostic printed');
});

test("a request's baggage joins the isolate's on its own calls to allowed URLs, and the isolate's entries win", async () => {
  setBaggage('region', 'eu');
  setBaggage('tenant', 'isolate');
  try {
    outgoing.length = 0;
    const pa = handler(
      new Request('https://app.example.com/x?tag=ba&delay=80', { headers: { baggage: 'tenant=req,user=u%201;p=1' } }),
    );
    await new Promise((r) => setTimeout(r, 20));
    const pb = handler(new Request('https://app.example.com/x?tag=bb&delay=200'));
    assert.deepEqual(await Promise.all([pa, pb].map(async (p) => (await p).text())), ['done', 'done']);
    const members = (header) => (header ? header.split(',').sort() : header);
    const of = (tag) => outgoing.filter((o) => o.tag === tag);
    assert.equal(of('ba').length, 3);
    for (const call of of('ba').slice(0, 2)) assert.deepEqual(members(call.baggage), ['region=eu', 'tenant=isolate', 'user=u%201;p=1']);
    for (const call of of('bb').slice(0, 2)) assert.deepEqual(members(call.baggage), ['region=eu', 'tenant=isolate']);
    for (const tag of ['ba', 'bb']) {
      const [, , third] = of(tag);
      assert.equal(third.baggage, null, 'a URL outside propagateTraceHeaderUrls gets no baggage');
      assert.equal(third.traceparent, null);
    }
    // The same with a traceparent (the server span then continues a remote context that has the
    // baggage): each member once, its properties kept, the isolate's entries winning.
    outgoing.length = 0;
    const traced = new Request('https://app.example.com/x?tag=bt', {
      headers: { traceparent: `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`, baggage: 'tenant=req,user=u%201;p=1' },
    });
    assert.equal(await (await handler(traced)).text(), 'done');
    for (const call of of('bt').slice(0, 2)) assert.deepEqual(members(call.baggage), ['region=eu', 'tenant=isolate', 'user=u%201;p=1']);
    // Within the W3C limits, the isolate's entries first: 70 incoming members leave room for 62.
    outgoing.length = 0;
    const many = Array.from({ length: 70 }, (_, i) => `k${i}=v${i}`).join(',');
    assert.equal(await (await handler(new Request('https://app.example.com/x?tag=bm', { headers: { baggage: many } }))).text(), 'done');
    const [first] = of('bm');
    const sent = first.baggage.split(',');
    assert.equal(sent.length, 64);
    assert.deepEqual(sent.slice(0, 2).sort(), ['region=eu', 'tenant=isolate']);
    assert.deepEqual(sent.slice(2), Array.from({ length: 62 }, (_, i) => `k${i}=v${i}`));
  } finally {
    removeBaggage('region');
    removeBaggage('tenant');
  }
});
