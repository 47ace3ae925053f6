// `instrument` where the runtime has no AsyncLocalStorage (here Node with `node:async_hooks`
// replaced by a module without it, before the SDK loads): requests cannot be told apart, so an
// app's `flush()` ends every SERVER span whose body nobody has begun to read, so that it is
// exported, and a body being read goes on. (With AsyncLocalStorage a flush outside any request
// leaves them open: instrument_streams_and_odd_results_in_node.test.mjs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor, withoutAsyncLocalStorage } from '../support.mjs';

withoutAsyncLocalStorage();
const { flush, instrument } = await import('../../sdk/dist/node.js');

const spans = [];
const capture = async (url, request) => {
  const doc = JSON.parse(Buffer.from(request.body).toString());
  if (url.endsWith('/v1/traces')) for (const rs of doc.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
  return new Response(null, { status: 200 });
};

const handler = instrument(
  async () => {
    let n = 0;
    return new Response(
      new ReadableStream({
        async pull(controller) {
          await new Promise((r) => setTimeout(r, 20));
          controller.enqueue(new TextEncoder().encode(`chunk ${++n}\n`));
          if (n === 3) controller.close();
        },
      }),
    );
  },
  { serviceName: 'no-async-context', fetch: capture, protocol: 'http/json', compression: 'none' },
);

const until = (what, fn) => waitFor(what, fn, 3000);

test("without AsyncLocalStorage an app's flush() outside a request ends every unread body's span; one being read goes on", async () => {
  assert.equal((await import('node:async_hooks')).AsyncLocalStorage, undefined, 'the runtime under test has no AsyncLocalStorage');
  const unread = 'd1'.repeat(16);
  const reading = 'd2'.repeat(16);
  await handler(new Request('http://app.test/a', { headers: { traceparent: `00-${unread}-${'d3'.repeat(8)}-01` } }));
  const response = await handler(new Request('http://app.test/b', { headers: { traceparent: `00-${reading}-${'d3'.repeat(8)}-01` } }));
  const reader = response.body.getReader();
  assert.equal(new TextDecoder().decode((await reader.read()).value), 'chunk 1\n');
  await new Promise((resolve) => setTimeout(() => flush().then(resolve), 0));
  await until('the unread span', () => spans.find((s) => s.traceId === unread));
  assert.equal(spans.find((s) => s.traceId === reading), undefined, 'the body being read keeps its span open');
  while (!(await reader.read()).done);
  await until('the read span', () => spans.find((s) => s.traceId === reading));
});
