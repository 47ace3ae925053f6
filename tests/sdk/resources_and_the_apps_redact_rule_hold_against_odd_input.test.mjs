// The resource's attributes: only an object of them is read, at most 128 (the rest dropped and
// counted on the resource), with secrets masked by the built-in rules and the app's rule as any
// attribute is. The app's rule, when it throws, costs the text it was given, never the record;
// and calls an app or a test makes with odd arguments get what the host itself would give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnostics, flush, init, instrument, logger, startSpan } from '../../sdk/dist/node.js';

const docs = [];
const capture = async (url, request) => {
  docs.push({ url, doc: JSON.parse(Buffer.from(request.body).toString()) });
  return new Response(null, { status: 200 });
};
const configure = (extra) => {
  docs.length = 0;
  init({ serviceName: 'odd', fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 0, ...extra });
};
const value = (v) => v.stringValue ?? v.intValue ?? v.boolValue ?? v.doubleValue;
const attrs = (item) => Object.fromEntries((item.attributes ?? []).map((a) => [a.key, value(a.value)]));
const resources = () => docs.flatMap(({ doc }) => (doc.resourceSpans ?? doc.resourceLogs).map((r) => r.resource));
const spans = () => docs.flatMap(({ doc }) => (doc.resourceSpans ?? []).flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
const logs = () => docs.flatMap(({ doc }) => (doc.resourceLogs ?? []).flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords)));

test('resource attributes that are no object are ignored and counted, not read as characters', async () => {
  configure({ resourceAttributes: 'team=a' });
  assert.equal(diagnostics().apiErrors, 1);
  startSpan('s').end();
  await flush();
  const [resource] = resources();
  assert.equal(attrs(resource)['service.name'], 'odd');
  assert.equal(attrs(resource)['0'], undefined, `${JSON.stringify(resource)}`);
  configure({ resourceAttributes: ['a', 'b'] });
  assert.equal(diagnostics().apiErrors, 1);
});

test('at most 128 resource attributes are kept, the others dropped and counted on the resource', async () => {
  const many = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, `v${i}`]));
  const started = performance.now();
  configure({ resourceAttributes: many });
  const took = performance.now() - started;
  startSpan('s').end();
  await flush();
  const [resource] = resources();
  assert.equal(resource.attributes.length, 128);
  assert.equal(resource.droppedAttributesCount, 20_000 - (128 - 4));
  assert.equal(attrs(resource).k0, 'v0');
  assert.equal(attrs(resource)['service.name'], 'odd', 'the SDK attributes come first');
  // The config's own fields come before the app's extras, so the limit never drops them, and win
  // over the same keys among them.
  configure({ serviceVersion: '2.0', environment: 'prod', resourceAttributes: { ...many, 'service.version': 'app' } });
  startSpan('s').end();
  await flush();
  const kept = attrs(resources()[0]);
  assert.equal(kept['service.version'], '2.0');
  assert.equal(kept['deployment.environment.name'], 'prod');
  // Not a timing assertion of the test's subject: a guard against the quadratic copy coming back
  // (20,000 keys took minutes), far above any machine's time for a linear one.
  assert.ok(took < 30_000, `${took} ms`);
});

test("the resource's values are redacted by the built-in rules and by the app's rule", async () => {
  configure({
    serviceVersion: 'Bearer abcdefghijkl',
    resourceAttributes: { 'service.docs': 'https://h/?token=abc', card: '4111 1111 1111 1111', team: 'payments' },
    redact: (key, v) => (key === 'team' ? v.toUpperCase() : v),
  });
  startSpan('s').end();
  await flush();
  const a = attrs(resources()[0]);
  assert.equal(a['service.docs'], 'https://h/?token=REDACTED');
  assert.equal(a.card, 'REDACTED');
  assert.equal(a['service.version'], 'Bearer REDACTED');
  assert.equal(a.team, 'PAYMENTS');
  configure({ redaction: false, resourceAttributes: { 'service.docs': 'https://h/?token=abc' } });
  startSpan('s').end();
  await flush();
  assert.equal(attrs(resources()[0])['service.docs'], 'https://h/?token=abc', 'redaction: false turns it off');
});

test("a rule that throws for one text costs that text, not the log record, event or span", async () => {
  configure({
    redact: (key, v) => {
      if (key === 'log.message' || key === 'bad') throw new Error('rule');
      return v;
    },
  });
  logger.info('a message', { bad: 'x', good: 'y' });
  const span = startSpan('s');
  span.addEvent('e', { bad: 'x', good: 'y' });
  span.setAttribute('bad', 'x');
  span.end();
  await flush();
  const [record] = logs();
  assert.equal(record.body.stringValue, 'REDACTED');
  assert.deepEqual(attrs(record), { bad: 'REDACTED', good: 'y' });
  const [s] = spans();
  assert.deepEqual(attrs(s.events[0]), { bad: 'REDACTED', good: 'y' });
  assert.equal(attrs(s).bad, 'REDACTED');
  assert.equal(diagnostics().apiErrors, 4);
});

test('a wrapped handler called without a request answers as the handler does, untraced', async () => {
  configure({});
  const handler = instrument(async (request) => new Response(`got ${request === undefined ? 'nothing' : typeof request}`), {});
  for (const odd of [undefined, null, 0, {}, { url: '/x' }]) {
    const answer = await handler(odd);
    assert.equal(answer.status, 200);
    assert.match(await answer.text(), /^got /);
  }
  const module = instrument({ fetch: async () => new Response('module') }, {});
  assert.equal(await (await module.fetch(undefined, {}, {})).text(), 'module');
  await flush();
  assert.equal(spans().length, 0, 'no SERVER span for what is no request');
});

test('flush and instrument given options whose reading throws still resolve and return', async () => {
  configure({});
  const trap = new Proxy({}, { get() { throw new Error('trap'); }, has() { throw new Error('trap'); } });
  await flush(trap);
  assert.equal(typeof instrument(trap, trap), 'object');
});
