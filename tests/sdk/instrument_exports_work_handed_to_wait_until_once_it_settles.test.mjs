// `instrument` with a runtime context that has `waitUntil` (Vercel Edge's `context`, workerd's
// `ctx`), run in Node: what the handler hands to `waitUntil` is exported once all of it has
// settled, in one more export, not one per call, and not before the request's own; a frozen
// context still works as it would without the SDK.
import { test } from 'node:test';
import assert from 'node:assert/strict';

const exports = [];
const capture = async (url, init) => {
  const body = JSON.parse(Buffer.from(init.body).toString());
  const names = (body.resourceSpans ?? []).flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.name)));
  exports.push({ path: new URL(url).pathname, names });
  return new Response(null, { status: 200 });
};

const { instrument, startActiveSpan } = await import('../../sdk/dist/node.js');
const config = { serviceName: 'wait-until', fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 60_000 };

/** A runtime context: `waitUntil` keeps each promise, as a runtime does until they settle. */
function context(frozen) {
  const kept = [];
  const ctx = { waitUntil: (p) => void kept.push(Promise.resolve(p).catch(() => {})), passThroughOnException() {} };
  return { ctx: frozen ? Object.freeze(ctx) : ctx, settled: async () => {
    for (let n = -1; n !== kept.length; ) {
      n = kept.length;
      await Promise.allSettled(kept);
    }
  } };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('twenty pieces of waitUntil work are exported together once they have all settled, after the request', async () => {
  // The work goes on until the request's own export has been made, however slow the machine.
  let going;
  const requestExported = new Promise((resolve) => { going = resolve; });
  const handler = instrument(async (request, ctx) => {
    for (let i = 0; i < 20; i++) ctx.waitUntil(startActiveSpan(`work ${i}`, async (span) => (await requestExported, await sleep(i), span.end())));
    return new Response('accepted', { status: 202 });
  }, config);
  const { ctx, settled } = context(false);
  exports.length = 0;
  await (await handler(new Request('http://127.0.0.1/jobs'), ctx)).text();
  for (let i = 0; i < 500 && !exports.length; i++) await sleep(10);
  going();
  await settled();
  const traces = exports.filter((e) => e.path === '/v1/traces');
  assert.equal(traces.length, 2, `the request's export, then one for its work: ${JSON.stringify(traces)}`);
  assert.ok(traces[0].names.includes('GET'));
  assert.equal(traces.flatMap((t) => t.names).filter((n) => n.startsWith('work')).length, 20, 'every piece of work');
});

test('work that settles before the handler returns goes with the request, in one export', async () => {
  const handler = instrument(async (request, ctx) => {
    const quick = startActiveSpan('quick work', async (span) => span.end());
    ctx.waitUntil(quick);
    await quick;
    return new Response('done');
  }, config);
  const { ctx, settled } = context(false);
  exports.length = 0;
  await (await handler(new Request('http://127.0.0.1/quick'), ctx)).text();
  await settled();
  const traces = exports.filter((e) => e.path === '/v1/traces');
  assert.equal(traces.length, 1, JSON.stringify(traces));
  assert.deepEqual(traces[0].names.sort(), ['GET', 'quick work']);
});

test('a frozen context is the handler’s as it was: no error, and its methods are the same at each read', async () => {
  let seen;
  const handler = instrument(async (request, ctx) => {
    seen = { same: ctx.waitUntil === ctx.waitUntil && ctx.passThroughOnException === ctx.passThroughOnException };
    ctx.waitUntil(sleep(5));
    ctx.passThroughOnException();
    return new Response('ok');
  }, config);
  const { ctx, settled } = context(true);
  const response = await handler(new Request('http://127.0.0.1/frozen'), ctx);
  assert.equal(await response.text(), 'ok');
  await settled();
  assert.deepEqual(seen, { same: true });
});
