// Every public function, called with hostile arguments, returns normally and counts the
// trouble instead of throwing into the host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as sdk from '../../sdk/dist/node.js';

const cyclic = {};
cyclic.self = cyclic;
const hostile = [undefined, null, 0, NaN, -1, 2 ** 64, '', 'x'.repeat(1 << 16), {}, cyclic, [], [cyclic], () => 1,
  Symbol('s'), 10n, new Proxy({}, { get() { throw new Error('trap'); }, ownKeys() { throw new Error('trap'); } })];

test('no public call throws, whatever it is given', async () => {
  sdk.init({ serviceName: 'hostile', endpoint: 'http://127.0.0.1:9', scheduleDelayMillis: 0 });
  for (const a of hostile) {
    for (const b of hostile) {
      sdk.init(a);
      const span = sdk.startSpan(a, b);
      span.setAttribute(a, b);
      span.setAttributes(a);
      span.setStatus(a);
      span.addEvent(a, b);
      span.recordException(a, b);
      span.addLink(a, b);
      span.updateName(a);
      span.spanContext();
      span.end();
      sdk.logger.info(a, b);
      sdk.logger.error(b, a);
      sdk.inject(a, b);
      sdk.extract(a);
      sdk.withSpan(a, () => {});
    }
  }
  assert.equal(typeof sdk.diagnostics().apiErrors, 'number');
});

test('a revoked Proxy, which throws on every look, costs only itself: spans still start and end', async () => {
  const bodies = [];
  const names = [];
  const capture = async (url, request) => {
    const doc = JSON.parse(Buffer.from(request.body).toString());
    for (const rs of doc.resourceSpans ?? []) for (const ss of rs.scopeSpans) names.push(...ss.spans.map((x) => x.name));
    for (const rl of doc.resourceLogs ?? []) for (const sl of rl.scopeLogs) bodies.push(...sl.logRecords.map((r) => r.body?.stringValue));
    return new Response(null, { status: 200 });
  };
  sdk.init({ serviceName: 'revoked', fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 0 });
  const revoked = () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  };
  assert.equal(sdk.withSpan(revoked(), () => 'ran'), 'ran');
  sdk.startSpan('revoked options', revoked()).end();
  sdk.startSpan('revoked end time').end(revoked());
  sdk.startSpan('revoked start time', { startTime: revoked() }).end();
  await sdk.flush();
  assert.deepEqual(names.sort(), ['revoked end time', 'revoked options', 'revoked start time']);
  assert.equal(sdk.diagnostics().apiErrors, 4, `each counted once: ${JSON.stringify(sdk.diagnostics())}`);
});

test('bad values are ignored and counted, good ones kept', () => {
  sdk.init({ serviceName: 'hostile', endpoint: 'http://127.0.0.1:9', scheduleDelayMillis: 0 });
  const span = sdk.startSpan('s');
  span.setAttribute('ok', 1);
  span.setAttribute('object', new Map());
  span.setAttribute('function', () => 1);
  assert.equal(sdk.diagnostics().apiErrors, 2);
  assert.equal(span.isRecording(), true);
  span.end();
  assert.equal(span.isRecording(), false);
});

test('withSpan and startActiveSpan without a function run nothing, count the call and return undefined', () => {
  const exported = [];
  sdk.init({ serviceName: 'no-fn', endpoint: 'http://127.0.0.1:9', scheduleDelayMillis: 0, fetch: async (url) => (exported.push(url), new Response('{}')) });
  const calls = [
    () => sdk.startActiveSpan('x'),
    () => sdk.startActiveSpan('x', {}),
    () => sdk.startActiveSpan('x', { kind: 'client' }, 'not a function'),
    () => sdk.withSpan(null, null),
    () => sdk.withSpan(sdk.startSpan('held'), undefined),
    () => sdk.getTracer('l').startActiveSpan('x'),
    () => sdk.getTracer('l', '1').startActiveSpan('x', {}, null),
  ];
  for (const call of calls) assert.equal(call(), undefined);
  assert.equal(sdk.diagnostics().apiErrors, calls.length);
  assert.equal(sdk.activeSpan(), undefined, 'nothing stays active');
});

test('user exceptions inside withSpan and startActiveSpan pass through unchanged', async () => {
  const boom = new Error('boom');
  assert.throws(() => sdk.startActiveSpan('sync', () => { throw boom; }), (e) => e === boom);
  await assert.rejects(sdk.startActiveSpan('async', async () => { throw boom; }), (e) => e === boom);
  assert.equal(sdk.startActiveSpan('value', () => 42), 42);
  assert.equal(await sdk.startActiveSpan('promise', async () => 43), 43);
  assert.equal(sdk.activeSpan(), undefined, 'nothing stays active');
});

test('baggage is validated, percent-encoded on inject and decoded on extract', () => {
  sdk.init({ serviceName: 'baggage', endpoint: 'http://127.0.0.1:9', scheduleDelayMillis: 0 });
  assert.equal(sdk.setBaggage('tenant', 'Zürich 1'), true);
  assert.equal(sdk.setBaggage('bad key', 'x'), false);
  assert.deepEqual(sdk.getBaggage(), { tenant: 'Zürich 1' });
  const headers = {};
  sdk.startActiveSpan('out', (span) => sdk.inject(headers, span));
  assert.equal(headers.baggage, 'tenant=Z%C3%BCrich%201');
  const incoming = sdk.extract({
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    baggage: 'userId=alice, bad entry, region=eu%2Dwest;ttl=5',
  });
  assert.deepEqual(incoming.baggage, { userId: 'alice', region: 'eu-west' });
  sdk.removeBaggage('tenant');
  const after = {};
  sdk.startActiveSpan('out', (span) => sdk.inject(after, span));
  assert.equal(after.baggage, undefined);
});

test('startActiveSpan re-throws what its function throws unchanged and ends the span, even a value String() refuses', async () => {
  const spans = [];
  const capture = async (url, request) => {
    const doc = JSON.parse(Buffer.from(request.body).toString());
    for (const rs of doc.resourceSpans ?? []) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
    return new Response(null, { status: 200 });
  };
  sdk.init({ serviceName: 'throws', fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 0 });
  const nullProto = Object.assign(Object.create(null), { code: 'E_PAYLOAD' });
  const noPrimitive = { [Symbol.toPrimitive]() { throw new Error('no primitive'); } };
  // (`then` answers, for node:assert's own look at a rejection.)
  const trapped = new Proxy({}, { get(_, key) { if (key === 'then') return undefined; throw new Error('trap'); } });
  for (const [name, value] of [['null prototype', nullProto], ['no primitive', noPrimitive], ['trapped', trapped], ['a string', 'text']]) {
    assert.throws(() => sdk.startActiveSpan(`sync ${name}`, () => { throw value; }), (e) => e === value, name);
    await assert.rejects(sdk.startActiveSpan(`async ${name}`, async () => { throw value; }), (e) => e === value, name);
  }
  await sdk.flush();
  assert.equal(spans.length, 8, spans.map((s) => s.name).join());
  for (const s of spans) assert.equal(s.status.code, 2, `${s.name} is an error`);
  const type = (name) => spans.find((s) => s.name === name).events[0].attributes.find((a) => a.key === 'exception.type').value.stringValue;
  assert.equal(type('sync a string'), 'string', 'a thrown string is of type string, as the error capture says');
  assert.equal(spans.find((s) => s.name === 'sync a string').status.message, 'text');
});
