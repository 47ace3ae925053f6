// A span the core records (every span in the browser and on workerd; in Node under `keepErrors`
// or with a remote parent) takes its string, number and boolean attributes through a queue in
// wasm memory that the next call into the core applies (`queueAttr` in sdk/js/core.js, `Ops` in
// sdk/src/js.rs); other values, strings too long for the queue and keys beyond the interned
// table cross with a call of their own. Whatever the path, the exported span holds what was set
// last, in the order it was set, and nothing queued is lost when the queue fills.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnostics, extract, flush, init, startSpan } from '../../sdk/dist/node.js';

let sent = [];
const capture = async (url, request) => {
  if (url.endsWith('/v1/traces')) {
    for (const rs of JSON.parse(Buffer.from(request.body).toString()).resourceSpans) for (const ss of rs.scopeSpans) sent.push(...ss.spans);
  }
  return new Response(null, { status: 200 });
};

// `keepErrors` keeps spans in the core (ADR 0011): the path of the browser and workerd entries.
const configure = (extra) => {
  sent = [];
  init({ serviceName: 'queued', fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 0, keepErrors: true, ...extra });
};

/** A span's attributes as `[key, value]` pairs in their order (OTLP/JSON writes 64-bit ints as strings). */
const pairs = (span) =>
  span.attributes.map((a) => [a.key, a.value.intValue !== undefined ? Number(a.value.intValue) : a.value.arrayValue ? a.value.arrayValue.values.map((v) => Object.values(v)[0]) : Object.values(a.value)[0]]);

test('queued and direct attributes keep their order, and the last value set wins', async () => {
  configure();
  const span = startSpan('mixed');
  span.setAttribute('http.request.method', 'GET');
  span.setAttribute('replaced', 'queued first');
  span.setAttribute('replaced', ['then', 'an', 'array']); // crosses directly, after the queue
  span.setAttribute('count', 3);
  span.setAttribute('ratio', 0.25);
  span.setAttribute('ok', false);
  span.setAttribute('text', 'grüße, 世界 🌍');
  span.setAttribute('array then queued', [1]);
  span.setAttribute('array then queued', 'string');
  span.end();
  await flush();
  assert.equal(sent.length, 1);
  assert.equal(sent[0].name, 'mixed');
  assert.deepEqual(pairs(sent[0]), [
    ['http.request.method', 'GET'],
    ['replaced', ['then', 'an', 'array']],
    ['count', 3],
    ['ratio', 0.25],
    ['ok', false],
    ['text', 'grüße, 世界 🌍'],
    ['array then queued', 'string'],
  ]);
});

test('a full queue is applied and refilled, a value too long for it crosses directly, nothing is lost', async () => {
  configure({ attributeValueLengthLimit: 0 });
  const long = 'x'.repeat(5000); // 15,000 bytes of room: more than the 8,192-byte queue
  const spans = [];
  for (let s = 0; s < 20; s++) spans.push(startSpan(`span ${s}`));
  // About 80 KB of attributes with no other call into wasm between them: the queue fills ten times.
  for (let i = 0; i < 40; i++) spans.forEach((span, s) => span.setAttribute(`key ${i}`, `value ${s}.${i} ${'é'.repeat(i)}`));
  spans.forEach((span, s) => span.setAttribute('long', long).setAttribute('after long', s));
  for (const span of spans) span.end();
  await flush();
  assert.equal(sent.length, 20);
  for (const out of sent) {
    const s = Number(out.name.slice(5));
    const a = pairs(out);
    assert.equal(a.length, 42);
    for (let i = 0; i < 40; i++) assert.deepEqual(a[i], [`key ${i}`, `value ${s}.${i} ${'é'.repeat(i)}`]);
    assert.deepEqual(a[40], ['long', long]);
    assert.deepEqual(a[41], ['after long', s]);
  }
});

test('keys beyond the interned table, spans with a remote parent and late attributes follow the core rules', async () => {
  configure();
  const before = diagnostics();
  const remote = extract({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
  const span = startSpan('remote child', { parent: remote });
  // More distinct keys than the 1,024 the table interns: the rest cross with their key.
  for (let i = 0; i < 1100; i++) startSpan('keys').setAttribute(`distinct ${i}`, i);
  span.setAttribute('kept', 'yes');
  for (let i = 0; i < 130; i++) span.setAttribute(`k${i}`, i);
  span.end();
  span.setAttribute('late', 1);
  await flush();
  const out = sent.find((s) => s.name === 'remote child');
  assert.equal(out.traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.equal(out.parentSpanId, 'b7ad6b7169203331');
  assert.deepEqual(pairs(out)[0], ['kept', 'yes']);
  assert.equal(out.attributes.length, 128);
  assert.equal(out.droppedAttributesCount, 3);
  const after = diagnostics();
  assert.equal(after.attributesDropped - before.attributesDropped, 3);
  assert.equal(after.staleHandles - before.staleHandles, 1, 'the attribute queued after end');
});
