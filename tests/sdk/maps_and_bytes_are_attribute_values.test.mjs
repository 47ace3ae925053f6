// Attribute values of every OTLP type from JavaScript: a plain object is a map (`kvlistValue`)
// and a Uint8Array bytes (`bytesValue`), on spans (both span paths), events and log records;
// redaction and the value-length limit reach the strings inside a map, and a cyclic or very wide
// object is cut, never followed forever, without throwing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportSink } from '../support.mjs';
import { diagnostics, flush, init, logger, startSpan } from '../../sdk/dist/node.js';

const { spans, logs, fetch: capture, clear } = exportSink();
const configure = (extra) => {
  clear();
  init({ serviceName: 'maps', fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 0, ...extra });
};

/** An OTLP/JSON AnyValue as a JavaScript value (maps as objects, bytes as base64 text). */
function js(v) {
  if (v.kvlistValue) return Object.fromEntries((v.kvlistValue.values ?? []).map((kv) => [kv.key, js(kv.value)]));
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(js);
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.bytesValue !== undefined) return { base64: v.bytesValue };
  return Object.values(v)[0];
}
const attrs = (item) => Object.fromEntries(item.attributes.map((a) => [a.key, js(a.value)]));

for (const [path, extra] of [
  ['spans recorded in JavaScript', {}],
  ['spans the core records (keepErrors; the browser and workerd path)', { keepErrors: true }],
]) {
  test(`maps and bytes on a span, its events and log records: ${path}`, async () => {
    configure(extra);
    const span = startSpan('request', { attributes: { 'http.request.method': 'GET' } });
    span.setAttribute('request', { headers: { accept: 'text/html', 'x-retry': 2 }, cached: false, tags: ['a', 'b'] });
    span.setAttribute('digest', new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
    span.setAttribute('after', 'kept in order');
    span.addEvent('retry', { attempt: { n: 2, reason: 'timeout' } });
    span.end();
    logger.info('stored', { item: { id: 7, owner: { name: 'ada' } }, raw: new Uint8Array([1]) });
    await flush();
    const [s] = spans;
    assert.deepEqual(attrs(s), {
      'http.request.method': 'GET',
      request: { headers: { accept: 'text/html', 'x-retry': 2 }, cached: false, tags: ['a', 'b'] },
      digest: { base64: '3q2+7w==' },
      after: 'kept in order',
    });
    assert.deepEqual(attrs(s.events[0]), { attempt: { n: 2, reason: 'timeout' } });
    assert.deepEqual(attrs(logs[0]), { item: { id: 7, owner: { name: 'ada' } }, raw: { base64: 'AQ==' } });
  });
}

test('redaction and the value-length limit reach the strings inside a map', async () => {
  configure({ attributeValueLengthLimit: 12 });
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl';
  startSpan('secrets')
    .setAttribute('auth', { header: `Bearer ${jwt}`, nested: { 'url.full': 'https://x.io/?token=abc' } })
    .setAttribute('long', { text: 'a'.repeat(40) })
    .end();
  await flush();
  const a = attrs(spans[0]);
  assert.ok(!JSON.stringify(a).includes('eyJ'), JSON.stringify(a));
  assert.ok(!JSON.stringify(a).includes('abc'), JSON.stringify(a));
  assert.equal(a.long.text, 'a'.repeat(12));
});

test('a cyclic, deep or very wide object is cut without throwing; getters run once; other objects are ignored and counted', async () => {
  configure();
  const cyclic = { name: 'loop' };
  cyclic.self = cyclic;
  let deep = { leaf: 'bottom' };
  for (let i = 0; i < 20; i++) deep = { down: deep };
  const wide = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]));
  let reads = 0;
  const getter = {
    get value() {
      reads++;
      return reads === 1 ? 'first' : 'x'.repeat(100_000);
    },
  };
  const before = diagnostics().apiErrors;
  startSpan('hostile')
    .setAttribute('cyclic', cyclic)
    .setAttribute('deep', deep)
    .setAttribute('wide', wide)
    .setAttribute('getter', getter)
    .setAttribute('date', new Date(0))
    .setAttribute('map', new Map([['a', 1]]))
    .end();
  await flush();
  const a = attrs(spans[0]);
  assert.equal(a.cyclic.name, 'loop');
  let depth = 0;
  for (let v = a.cyclic; v && v.self; v = v.self) depth++;
  assert.ok(depth > 0 && depth <= 8, `the cycle is cut at depth ${depth}`);
  let d = 0;
  for (let v = a.deep; v && v.down; v = v.down) d++;
  assert.ok(d <= 8, `deep maps end at depth ${d}`);
  assert.ok(Object.keys(a.wide).length < 1024, `${Object.keys(a.wide).length} entries kept of 5,000`);
  assert.deepEqual(a.getter, { value: 'first' });
  assert.equal(reads, 1, 'the getter ran once');
  assert.equal(a.date, undefined);
  assert.equal(a.map, undefined);
  assert.equal(diagnostics().apiErrors, before + 2, 'the Date and the Map are counted');
});

for (const [path, extra] of [
  ['spans recorded in JavaScript', {}],
  ['spans the core records (keepErrors; the browser and workerd path)', { keepErrors: true }],
]) {
  test(`the app's redact hook sees strings inside maps under their own keys, and bytes are cut to the length limit: ${path}`, async () => {
    const seen = [];
    configure({
      ...extra,
      attributeValueLengthLimit: 4,
      redact: (key, value) => {
        seen.push(key);
        return key === 'email' ? 'hidden' : value;
      },
    });
    let reads = 0;
    const user = {
      get email() {
        reads++;
        return 'ada@example.com';
      },
      name: 'ada',
    };
    startSpan('hooked', { attributes: { email: 'ada@example.com' } })
      .setAttribute('user', user)
      .setAttribute('blob', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))
      .end();
    logger.warn('logged', { user: { email: 'ada@example.com' } });
    await flush();
    const a = attrs(spans[0]);
    assert.equal(a.email, 'hidd', 'a start attribute passes the hook (then the length limit)');
    assert.deepEqual(a.user, { email: 'hidd', name: 'ada' });
    assert.equal(reads, 1, 'the getter ran once');
    assert.deepEqual(a.blob, { base64: Buffer.from([1, 2, 3, 4]).toString('base64') });
    assert.equal(attrs(logs[0]).user.email, 'hidd');
    assert.ok(seen.includes('name'));
  });
}

for (const [path, extra] of [
  ['spans recorded in JavaScript', {}],
  ['spans the core records (keepErrors; the browser and workerd path)', { keepErrors: true }],
]) {
  test(`the app's redact hook sees each string of an array, and a rule that throws inside a map costs that string only: ${path}`, async () => {
    const mask = (v) => v.replace(/[\w.]+@[\w.]+/g, '[email]');
    configure({
      ...extra,
      redact: (key, value) => {
        if (value === 'explode') throw new Error('rule failed');
        return mask(value);
      },
    });
    const before = diagnostics().apiErrors;
    const span = startSpan('arrays', { attributes: { to: ['ada@example.com', 'ok', 7] } });
    span.setAttribute('cc', ['bob@example.com']);
    span.setAttribute('mail', { bcc: ['carol@example.com'], note: 'explode', kept: 'dan@example.com' });
    span.addEvent('sent', { rcpt: ['erin@example.com'] });
    span.end();
    logger.info('mailed', { rcpt: ['frank@example.com', true] });
    await flush();
    const text = JSON.stringify({ spans, logs });
    assert.ok(!text.includes('@example.com'), text);
    const a = attrs(spans[0]);
    assert.deepEqual(a.to, ['[email]', 'ok', 7]);
    assert.deepEqual(a.cc, ['[email]']);
    assert.deepEqual(a.mail, { bcc: ['[email]'], note: 'REDACTED', kept: '[email]' }, 'the throwing rule cost one string, not the map');
    assert.deepEqual(attrs(spans[0].events[0]).rcpt, ['[email]']);
    assert.deepEqual(attrs(logs[0]).rcpt, ['[email]', true]);
    assert.equal(diagnostics().apiErrors - before, 1, 'the throwing rule is counted once');
  });
}
