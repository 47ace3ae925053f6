// `span.spanContext()` (and `inject` with the span) after `end()`: the ids a trace id is
// logged or linked with once the work is done — the core has freed the span by then.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extract, init, inject, startActiveSpan, startSpan } from '../../sdk/dist/node.js';

init({ serviceName: 'context-after-end', endpoint: 'http://127.0.0.1:9', scheduleDelayMillis: 60000 });

test('the ids read after end are those the span had, without reading them before', () => {
  const parent = extract({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
  const span = startSpan('work', { parent });
  span.setAttribute('k', 'v');
  span.end();
  const cx = span.spanContext();
  assert.equal(cx.traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.match(cx.spanId, /^[0-9a-f]{16}$/);
  assert.notEqual(cx.spanId, 'b7ad6b7169203331');
  assert.equal(cx.traceFlags & 1, 1, 'sampled, as the parent');

  // Many spans later (the core reuses the freed slot), the first span still has its ids.
  for (let i = 0; i < 100; i++) startSpan(`other ${i}`).end();
  assert.deepEqual(span.spanContext(), cx);
  const headers = {};
  inject(headers, span);
  assert.equal(headers.traceparent, `00-${cx.traceId}-${cx.spanId}-01`);
});

test('the tracestate goes on with the ids after the span ends: inject with the span, its children and work after it', async () => {
  const parent = extract({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'vendor=abc,dd=s:1' });
  const span = startSpan('never read while open', { parent });
  const child = startSpan('child', { parent: extract({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'k=v' }) });
  child.end();
  span.end();
  // The core reuses the freed slots: another span's tracestate must not be read for these.
  for (let i = 0; i < 10; i++) startSpan(`other ${i}`, { parent: extract({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: `other=${i}` }) }).end();
  const headers = {};
  inject(headers, span);
  assert.equal(headers.tracestate, 'vendor=abc,dd=s:1');
  const childHeaders = {};
  inject(childHeaders, child);
  assert.equal(childHeaders.tracestate, 'k=v');

  // Work the span's function left behind (a timer after the response) continues the trace, and a
  // span it starts then has the tracestate too.
  let later;
  await startActiveSpan('server', { parent }, async () => {
    later = new Promise((done) => setTimeout(() => {
      const direct = {};
      inject(direct);
      const inner = startSpan('after the end');
      const fromChild = {};
      inject(fromChild, inner);
      inner.end();
      done([direct, fromChild]);
    }, 5));
  });
  const [direct, fromChild] = await later;
  assert.equal(direct.tracestate, 'vendor=abc,dd=s:1', JSON.stringify(direct));
  assert.equal(fromChild.tracestate, 'vendor=abc,dd=s:1', JSON.stringify(fromChild));

  // Spans of traces without a tracestate send none, before and after their end.
  const plain = startSpan('plain');
  const open = {};
  inject(open, plain);
  plain.end();
  const closed = {};
  inject(closed, plain);
  assert.equal(open.tracestate, undefined);
  assert.equal(closed.tracestate, undefined);
});

test('ending twice keeps the context, and a span read before end gives the same ids', () => {
  const span = startSpan('read early');
  const before = span.spanContext();
  span.end();
  span.end();
  assert.deepEqual(span.spanContext(), before);
  assert.match(before.traceId, /^[0-9a-f]{32}$/);
});

test('a span links to spans that have ended (by the ids they kept) as to open ones; what is no span is counted', async () => {
  const { diagnostics, flush } = await import('../../sdk/dist/node.js');
  const spans = [];
  const capture = async (url, request) => {
    for (const rs of JSON.parse(Buffer.from(request.body).toString()).resourceSpans ?? []) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
    return new Response(null, { status: 200 });
  };
  init({ serviceName: 'links', fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 0 });
  const open = startSpan('open target');
  const done = startSpan('done target');
  done.end();
  const early = startSpan('ended before its batch');
  early.end();
  for (let i = 0; i < 50; i++) startSpan(`filler ${i}`).end();
  const linker = startSpan('linker', { links: [{ context: early, attributes: { which: 'option' } }] });
  linker.addLink(open, { which: 'open' });
  linker.addLink(done, { which: 'ended' });
  linker.addLink(extract({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }), { which: 'remote' });
  const before = diagnostics().apiErrors;
  linker.addLink({ nothing: true });
  linker.addLink(undefined);
  assert.equal(diagnostics().apiErrors, before + 2);
  linker.end();
  open.end();
  await flush();
  const exported = spans.find((s) => s.name === 'linker');
  const linked = Object.fromEntries((exported.links ?? []).map((l) => [l.attributes[0].value.stringValue, l.spanId]));
  assert.deepEqual(linked, { option: early.spanContext().spanId, open: open.spanContext().spanId, ended: done.spanContext().spanId, remote: 'b7ad6b7169203331' });
  assert.equal(exported.droppedLinksCount ?? 0, 0);
  // OTLP's link flags: bit 8 says whether bit 9 is known, bit 9 that the linked context is remote.
  const flags = Object.fromEntries(exported.links.map((l) => [l.attributes[0].value.stringValue, l.flags & 0x300]));
  assert.deepEqual(flags, { option: 0x100, open: 0x100, ended: 0x100, remote: 0x300 }, 'spans of this process are local');
});
