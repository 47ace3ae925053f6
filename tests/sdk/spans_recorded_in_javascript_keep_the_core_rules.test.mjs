// Spans of the JavaScript API are recorded in JavaScript and encoded per batch in wasm (ADR
// 0011). What reaches the collector follows the same rules as a span the core records: the
// sampler's decision, limits with counted drops, redaction, and a span handed over to the core
// (for an event or a status) keeps its ids and attributes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnostics, flush, init, startSpan, withSpan } from '../../sdk/dist/node.js';

/** The spans of every request the SDK sent since `configure`. */
let sent = [];
const capture = async (url, request) => {
  if (url.endsWith('/v1/traces')) {
    for (const rs of JSON.parse(Buffer.from(request.body).toString()).resourceSpans) for (const ss of rs.scopeSpans) sent.push(...ss.spans);
  }
  return new Response(null, { status: 200 });
};

function configure(extra) {
  sent = [];
  init({ serviceName: 'recorded', fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 0, ...extra });
}

/** A span's attributes as `{ key: value }` (OTLP/JSON writes 64-bit ints as strings). */
const attributes = (span) =>
  Object.fromEntries(span.attributes.map((a) => [a.key, a.value.intValue !== undefined ? Number(a.value.intValue) : Object.values(a.value)[0]]));

test('the ratio sampler keeps the traces whose id says so, as the core decides it', async () => {
  configure({ sampler: 'traceidratio', samplerArg: 0.25 });
  const started = [];
  for (let i = 0; i < 800; i++) {
    const span = startSpan('sampled?');
    started.push(span.spanContext());
    span.end();
  }
  await flush();
  // Kept: the trace id's rightmost 7 bytes reach (1 - 0.25) * 2^56.
  const keeps = (traceId) => BigInt(`0x${traceId.slice(18)}`) >= 3n * 2n ** 54n;
  const kept = started.filter((cx) => keeps(cx.traceId));
  assert.deepEqual(sent.map((s) => s.traceId).sort(), kept.map((cx) => cx.traceId).sort());
  assert.ok(kept.length > 120 && kept.length < 280, `${kept.length} of 800`);
  // The sampled flag as decided, beside W3C Level 2's random flag of a new trace.
  for (const cx of started) assert.equal(cx.traceFlags, keeps(cx.traceId) ? 3 : 2);
});

test('a child follows its parent’s decision, and always_off keeps nothing', async () => {
  configure({ sampler: 'parentbased_always_off' });
  const root = startSpan('root');
  withSpan(root, () => startSpan('child').end());
  root.end();
  configure({ sampler: 'always_off' });
  startSpan('off').end();
  await flush();
  assert.deepEqual(sent, []);
});

test('limits and redaction apply, and drops are counted', async () => {
  configure({ attributeValueLengthLimit: 40 });
  const before = diagnostics();
  const span = startSpan('limited');
  span.setAttribute('url.full', 'https://api.example.com/v1/items?access_token=abc123');
  span.setAttribute('note', 'paid with 4111 1111 1111 1111 today');
  span.setAttribute('first', 1);
  span.setAttribute('list', ['a', 2, true, [3], { x: 1 }]);
  span.setAttribute('first', 1.5);
  for (let i = 0; i < 130; i++) span.setAttribute(`k${i}`, i);
  span.setAttribute('bad', new Date(0)); // not a plain object: no map
  span.end();
  span.setAttribute('late', 1);
  await flush();
  const [out] = sent;
  const a = attributes(out);
  assert.equal(a['url.full'], 'https://api.example.com/v1/items?access_');
  assert.equal(a.note, 'paid with REDACTED today');
  assert.equal(out.attributes[2].key, 'first', 'a replaced value keeps its place');
  assert.equal(a.first, 1.5);
  // Items that are no values (a nested array, an object) stay as empty values, in their places.
  assert.deepEqual(a.list.values, [{ stringValue: 'a' }, { intValue: '2' }, { boolValue: true }, {}, {}]);
  assert.equal(out.attributes.length, 128);
  assert.equal(out.droppedAttributesCount, 6);
  const after = diagnostics();
  assert.equal(after.attributesDropped - before.attributesDropped, 6);
  assert.equal(after.apiErrors - before.apiErrors, 1, 'the Date');
  assert.equal(after.staleHandles - before.staleHandles, 1, 'the attribute set after end');
});

test('the value length limit counts characters, as OpenTelemetry does, recorded in JavaScript or in the core', async () => {
  configure({ attributeValueLengthLimit: 5 });
  const recorded = startSpan('recorded');
  const handed = startSpan('handed over');
  for (const span of [recorded, handed]) {
    span.setAttribute('city', 'Zürich');
    span.setAttribute('repeated', 'ééééééé');
    span.setAttribute('kanji', '東京都庁舎前');
    span.setAttribute('list', ['Zürich', 'ab']);
  }
  handed.addEvent('hands it to the core');
  recorded.end();
  handed.end();
  await flush();
  for (const out of sent) {
    const a = attributes(out);
    assert.deepEqual([a.city, a.repeated, a.kanji], ['Züric', 'ééééé', '東京都庁舎'], out.name);
    assert.deepEqual(a.list.values.map((v) => v.stringValue), ['Züric', 'ab'], out.name);
  }
  assert.equal(sent.length, 2);
});

test("a secret key's value is masked whole in every span of a batch, and other keys' values are not", async () => {
  configure({});
  for (const n of [1, 2, 3]) {
    const span = startSpan(`keyed ${n}`);
    span.setAttribute('db.password', `hunter${n}`);
    span.setAttribute('app.note', `note ${n}`);
    span.setAttribute('gen_ai.token.type', 'input');
    span.end();
  }
  await flush();
  assert.equal(sent.length, 3);
  for (const span of sent) {
    const a = attributes(span);
    assert.equal(a['db.password'], 'REDACTED');
    assert.match(a['app.note'], /^note \d$/);
    assert.equal(a['gen_ai.token.type'], 'input');
  }
});

test('span and event names are redacted, recorded in JavaScript or handed over to the core', async () => {
  configure();
  startSpan('GET /cb?access_token=CANARYNAME1&q=ok').end();
  const renamed = startSpan('clean');
  renamed.updateName('auth Bearer CANARYRENAME2abc');
  renamed.end();
  const adopted = startSpan('GET /x?sid=CANARYADOPT3');
  adopted.addEvent('paid 4111 1111 1111 1111');
  adopted.updateName('POST /pay?api_key=CANARYADOPT4');
  adopted.end();
  await flush();
  const text = JSON.stringify(sent);
  assert.equal(sent.length, 3);
  // (The card number with its spaces: random ids and times may hold the digits 4111.)
  assert.ok(!text.includes('CANARY') && !text.includes('4111 1111'), text);
  assert.deepEqual(sent.map((s) => s.name).sort(), ['GET /cb?access_token=REDACTED&q=ok', 'POST /pay?api_key=REDACTED', 'auth Bearer REDACTED']);
  assert.equal(sent.find((s) => s.events?.length).events[0].name, 'paid REDACTED');
});

test('a span handed over to the core for an event and a status keeps its ids and attributes', async () => {
  configure();
  const span = startSpan('handed over', { kind: 'client', attributes: { early: 'yes' } });
  const cx = span.spanContext();
  span.setAttribute('before', 1);
  span.updateName('renamed');
  span.addEvent('checkpoint', { step: 2 });
  span.setAttribute('after', true);
  span.setStatus({ code: 'error', message: 'failed' });
  const child = withSpan(span, () => startSpan('child'));
  child.end();
  span.end();
  await flush();
  const parent = sent.find((s) => s.name === 'renamed');
  assert.equal(parent.traceId, cx.traceId);
  assert.equal(parent.spanId, cx.spanId);
  assert.equal(parent.kind, 3);
  assert.deepEqual(attributes(parent), { early: 'yes', before: 1, after: true });
  assert.equal(parent.events[0].name, 'checkpoint');
  assert.equal(parent.status.code, 2);
  const kid = sent.find((s) => s.name === 'child');
  assert.equal(kid.traceId, cx.traceId);
  assert.equal(kid.parentSpanId, cx.spanId);
  assert.ok(BigInt(parent.endTimeUnixNano) >= BigInt(parent.startTimeUnixNano));
  assert.ok(Math.abs(Number(BigInt(parent.startTimeUnixNano) / 1000000n) - Date.now()) < 5000, 'Unix time');
});

test('ended spans wait in JavaScript no more than the queue holds, whatever the batch size', async () => {
  // A batch size above the queue size: the core drops what the queue cannot hold as the spans
  // end, so records must not pile up in JavaScript until the export timer fires.
  configure({ maxQueueSize: 100, maxExportBatchSize: 1e6, scheduleDelayMillis: 60000 });
  const before = diagnostics();
  const grown = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 300000; i++) {
    const span = startSpan('many');
    span.setAttribute('k', `a value of some length ${i}`);
    span.end();
  }
  const growth = process.memoryUsage().arrayBuffers - grown;
  assert.ok(growth < 8e6, `${(growth / 1e6).toFixed(1)} MB of records held`);
  assert.equal(diagnostics().spansDropped - before.spansDropped, 300000 - 100);
  await flush();
  assert.equal(sent.length, 100);
});

test('a span handed over to the core keeps the count of attributes it already dropped', async () => {
  configure();
  const before = diagnostics();
  const span = startSpan('over the limit');
  for (let i = 0; i < 130; i++) span.setAttribute(`k${i}`, i);
  span.addEvent('hands it over');
  span.setAttribute('one more', true);
  span.end();
  await flush();
  const [out] = sent;
  assert.equal(out.attributes.length, 128);
  assert.equal(out.droppedAttributesCount, 3, 'two dropped in JavaScript, one in the core');
  assert.equal(diagnostics().attributesDropped - before.attributesDropped, 3);
});

test('init() again sends what ended before it with the old settings, even while both export slots are busy', async () => {
  // Exports that wait until released: two of them fill the export slots.
  const waiting = [];
  const slow = (url, request) => new Promise((resolve) => waiting.push(() => resolve(capture(url, request))));
  const settings = { fetch: slow, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 60000 };
  sent = [];
  init({ ...settings, serviceName: 'old' });
  startSpan('one').end();
  flush();
  startSpan('two').end();
  flush();
  const span = startSpan('three');
  span.setAttribute('url.full', 'https://api.example.com/?token=abc123');
  span.end();
  init({ ...settings, serviceName: 'new', redaction: false });
  let done = false;
  const flushed = flush().then(() => (done = true));
  while (!done) {
    await new Promise((resolve) => setImmediate(resolve));
    waiting.splice(0).forEach((release) => release());
  }
  await flushed;
  const three = sent.find((s) => s.name === 'three');
  assert.ok(three, 'the span that ended before init() is sent');
  assert.equal(attributes(three)['url.full'], 'https://api.example.com/?token=REDACTED', 'with the redaction it ended under');
  assert.equal(sent.length, 3);
});

test('an unknown sampler named like an Object property is the default sampler, and init() still applies every setting', async () => {
  configure({ sampler: 'always_off' });
  for (const sampler of ['constructor', 'toString', '__proto__']) {
    configure({ sampler, redact: (key, value) => (key === 'hooked' ? 'by the hook' : value) });
    const span = startSpan(sampler);
    span.setAttribute('hooked', 'raw');
    span.end();
    await flush();
    assert.equal(sent.length, 1, `${sampler}: parentbased_always_on keeps the span`);
    assert.equal(attributes(sent[0]).hooked, 'by the hook', `${sampler}: the redact hook is set`);
  }
});

test("the app's own redact rule sees span and event names too, as span.name and event.name", async () => {
  const seen = new Set();
  configure({ redact: (key, value) => (seen.add(key), value.replace(/[\w.]+@[\w.]+/g, '[email]')) });
  startSpan('mail alice@example.com').end();
  const renamed = startSpan('clean');
  renamed.updateName('renamed bob@example.com');
  renamed.addEvent('sent to carol@example.com');
  renamed.end();
  await flush();
  const text = JSON.stringify(sent);
  assert.ok(!text.includes('@example.com'), text);
  assert.deepEqual(sent.map((s) => s.name).sort(), ['mail [email]', 'renamed [email]']);
  assert.equal(sent.find((s) => s.events?.length).events[0].name, 'sent to [email]');
  assert.ok(seen.has('span.name') && seen.has('event.name'), [...seen].join());
});

test('a redact rule that throws costs the name, not the span', async () => {
  configure({ redact: () => { throw new Error('rule failed'); } });
  const before = diagnostics().apiErrors;
  startSpan('kept span').end();
  await flush();
  assert.equal(sent.length, 1);
  assert.equal(sent[0].name, 'REDACTED');
  assert.equal(diagnostics().apiErrors - before, 1, 'counted');
});
