// `keepErrors` with the sampler dropping everything: a trace is exported whole when one of its
// spans fails. Work that goes on after the span that started it ended (B under an ended A) waits
// for the trace's root while that root is open, as any child does; it decides on the trace as a
// root only once the root has ended.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flush, getTracer, init, withSpan } from '../../sdk/dist/node.js';

const sent = [];
const capture = async (url, request) => {
  const body = JSON.parse(Buffer.from(request.body).toString());
  for (const rs of body.resourceSpans ?? []) for (const ss of rs.scopeSpans) for (const s of ss.spans) sent.push(s.name);
  return new Response(null, { status: 200 });
};
init({ serviceName: 'keep-errors', fetch: capture, protocol: 'http/json', compression: 'none', sampler: 'always_off', keepErrors: true });
const tracer = getTracer('work');

test('a failing root keeps the work done after one of its children ended', async () => {
  sent.length = 0;
  const root = tracer.startSpan('R');
  const a = withSpan(root, () => tracer.startSpan('A'));
  a.end();
  withSpan(a, () => tracer.startSpan('B')).end();
  root.setStatus({ code: 'error', message: 'boom' });
  root.end();
  await flush();
  assert.deepEqual(sent.sort(), ['A', 'B', 'R']);
});

test('after its root ended, work under it is kept when it fails and let go when it does not', async () => {
  sent.length = 0;
  const root = tracer.startSpan('R2');
  root.end();
  withSpan(root, () => tracer.startSpan('fine later')).end();
  const failed = withSpan(root, () => tracer.startSpan('failed later'));
  failed.setStatus({ code: 'error' });
  failed.end();
  await flush();
  assert.deepEqual(sent, ['failed later']);
});
