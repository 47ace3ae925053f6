// What an app hands the SDK that it cannot use costs only itself, is counted, and never throws
// into the host: an option that throws when read, headers given as `fetch` takes them, endpoints
// every export would fail on, timers beyond what `setTimeout` takes, remote contexts and links
// that throw, results whose `then` throws, requests whose parts throw, and baggage keys named
// like Object's own members. (Found by a QA pass with hostile inputs, 2026-11-30.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as sdk from '../../sdk/dist/node.js';

const sent = [];
const capture = async (url, request) => {
  sent.push({ url, headers: request.headers, doc: JSON.parse(Buffer.from(request.body).toString()) });
  return new Response(null, { status: 200 });
};
const base = { serviceName: 'hostile', fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 0 };
const spans = () => sent.flatMap(({ doc }) => (doc.resourceSpans ?? []).flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
/** `object` (a new one by default) with a field `what` that throws when read. */
const throwing = (what, object = {}) => Object.defineProperty(object, what, { enumerable: true, get() { throw new Error(what); } });
const apiErrors = () => sdk.diagnostics().apiErrors;

test('an option that throws when read costs only itself: the endpoint, fetch and service name hold', async () => {
  sent.length = 0;
  sdk.init(throwing('maxQueueSize', { ...base, endpoint: 'http://collector.example:4318' }));
  assert.equal(apiErrors(), 1);
  sdk.startSpan('kept').end();
  await sdk.flush();
  assert.deepEqual(sent.map((s) => s.url), ['http://collector.example:4318/v1/traces']);
  const resource = Object.fromEntries(sent[0].doc.resourceSpans[0].resource.attributes.map((a) => [a.key, a.value.stringValue]));
  assert.equal(resource['service.name'], 'hostile');
  assert.equal(resource['telemetry.sdk.language'], 'nodejs');
  // A config that cannot even list its keys is counted; the defaults hold.
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  assert.doesNotThrow(() => sdk.init(proxy));
  assert.equal(apiErrors(), 1);
});

test('headers given as a Headers, a Map or pairs reach every export; attributes given as a Map are counted', async () => {
  for (const headers of [new Headers({ authorization: 'Bearer T' }), new Map([['authorization', 'Bearer T']]), [['authorization', 'Bearer T']]]) {
    sent.length = 0;
    sdk.init({ ...base, headers });
    assert.equal(apiErrors(), 0, headers.constructor.name);
    sdk.startSpan('with headers', { attributes: new Map([['a', 1]]) }).end();
    await sdk.flush();
    assert.equal(new Headers(sent[0].headers).get('authorization'), 'Bearer T', headers.constructor.name);
    assert.equal(apiErrors(), 1, 'the Map of attributes is counted');
  }
});

test('an endpoint every export would fail on is refused and counted; one with spaces around it is trimmed', async () => {
  for (const endpoint of ['http://user:secret@collector.example', 'http://collector.example/?tenant=1', 'http://collector.example#x']) {
    sent.length = 0;
    sdk.init({ ...base, endpoint });
    assert.equal(apiErrors(), 1, endpoint);
    sdk.startSpan('refused endpoint').end();
    await sdk.flush();
    assert.deepEqual(sent.map((s) => s.url), ['http://127.0.0.1:4318/v1/traces'], `${endpoint}: the default holds`);
  }
  sent.length = 0;
  sdk.init({ ...base, endpoint: '  http://collector.example:4318 ' });
  assert.equal(apiErrors(), 0);
  sdk.startSpan('trimmed').end();
  await sdk.flush();
  assert.deepEqual(sent.map((s) => s.url), ['http://collector.example:4318/v1/traces']);
});

test('times of 2^31 ms or more are as long as timers go, not 1 ms', async () => {
  sent.length = 0;
  let answered = 0;
  const slow = async (url, request) => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    answered++;
    return capture(url, request);
  };
  sdk.init({ ...base, fetch: slow, timeoutMillis: 2 ** 31 });
  assert.equal(apiErrors(), 0);
  sdk.startSpan('slow export').end();
  // `Infinity` is no limit: the flush waits for the export.
  await sdk.flush({ timeoutMillis: Infinity });
  assert.equal(answered, 1, 'the flush waited for the slow export');
  assert.deepEqual(spans().map((s) => s.name), ['slow export']);
  assert.equal(sdk.diagnostics().exportsFailed, 0, JSON.stringify(sdk.diagnostics()));
});

test('flush and shutdown given a time-out that cannot be read as a number resolve, counted', async () => {
  sdk.init(base);
  for (const timeoutMillis of [Symbol('t'), { valueOf() { throw new Error('t'); } }]) {
    let flushed;
    assert.doesNotThrow(() => (flushed = sdk.flush({ timeoutMillis })));
    await flushed;
  }
  assert.equal(apiErrors(), 2);
  await sdk.shutdown({ timeoutMillis: Symbol('t') });
});

test('a remote parent or link that throws when read, or holds no text, loses neither the span nor its core slot', async () => {
  sent.length = 0;
  sdk.init(base);
  const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const cases = {
    'tracestate not text': { parent: { traceparent: tp, tracestate: 5 } },
    'traceparent not text': { parent: { traceparent: 12 } },
    'traceparent throws': { parent: throwing('traceparent') },
    'baggage throws': { parent: throwing('baggage', { traceparent: tp }) },
    'link throws': { links: [throwing('context')] },
  };
  for (const [name, options] of Object.entries(cases)) sdk.startSpan(name, options).end();
  await sdk.flush();
  const got = Object.fromEntries(spans().map((s) => [s.name, s]));
  assert.deepEqual(Object.keys(got).sort(), Object.keys(cases).sort());
  assert.equal(apiErrors(), 5);
  // What could be read is kept: the remote parent of the span whose baggage throws.
  assert.equal(got['baggage throws'].traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.equal(got['baggage throws'].parentSpanId, 'b7ad6b7169203331');
  // No slot is left behind: a span held open meanwhile is never evicted.
  const held = sdk.startSpan('held');
  for (let i = 0; i < 3000; i++) sdk.startSpan('many', { parent: throwing('baggage', { traceparent: tp }) }).end();
  assert.equal(held.isRecording(), true);
  assert.equal(sdk.diagnostics().spansEvicted, 0);
  held.end();
  await sdk.flush();
});

test('startActiveSpan whose function returns something with an unreadable then: no throw, the span ends', async () => {
  sent.length = 0;
  sdk.init(base);
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  const results = { 'revoked Proxy': proxy, 'throwing then': { then() { throw new Error('then'); } }, 'throwing get': new Proxy({}, { get() { throw new Error('get'); } }) };
  for (const [name, result] of Object.entries(results)) {
    assert.equal(sdk.startActiveSpan(name, () => result), result, name);
  }
  await sdk.flush();
  assert.deepEqual(spans().map((s) => s.name).sort(), Object.keys(results).sort());
});

test('instrument hands a request whose parts throw or are odd to the handler untraced', async () => {
  sdk.init(base);
  let ran = 0;
  const handler = sdk.instrument(() => (ran++, new Response('ok')), { serviceName: 'hostile' });
  const good = new Request('http://example.test/a');
  const requests = [
    { url: good.url, headers: { get() { throw new Error('get'); } } },
    { url: good.url, headers: good.headers, get method() { throw new Error('method'); } },
    { url: good.url, headers: { get: () => 7 } },
    { url: good.url, headers: { get: () => ['x'] } },
  ];
  for (const request of requests) assert.equal((await handler(request)).status, 200);
  assert.equal(ran, requests.length);
});

test('baggage keys named like Object members go on with the rest', () => {
  sdk.init(base);
  sdk.setBaggage('tenant', 'acme');
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  for (const incoming of ['user=alice,constructor=x', 'toString=1,user=alice', 'user=alice,hasOwnProperty=2']) {
    const parent = sdk.extract({ traceparent, baggage: incoming });
    const carrier = {};
    sdk.startActiveSpan('s', { parent }, (span) => sdk.inject(carrier, span));
    assert.equal(carrier.baggage, `tenant=acme,${incoming}`, incoming);
  }
  sdk.removeBaggage('tenant');
  assert.equal(apiErrors(), 0);
});

test('the workerd and Vercel Edge entries take a config that throws when read without throwing', () => {
  const loader = fileURLToPath(new URL('./wasm_as_module_loader.mjs', import.meta.url));
  for (const entry of ['workerd.js', 'edge-light.js']) {
    const url = new URL(`../../sdk/dist/${entry}`, import.meta.url).href;
    const script = `
      const sdk = await import(${JSON.stringify(url)});
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      const getter = { serviceName: 'kept' };
      Object.defineProperty(getter, 'timeoutMillis', { enumerable: true, get() { throw new Error('x'); } });
      for (const config of [proxy, getter, new Proxy({}, { ownKeys() { throw new Error('keys'); } })]) sdk.init(config);
      console.log(JSON.stringify(sdk.diagnostics()));`;
    const out = execFileSync(process.execPath, ['--import', loader, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30000 });
    assert.equal(JSON.parse(out.trim().split('\n').at(-1)).apiErrors, 1, `${entry}: the last init's one unreadable config counted`);
  }
});

test('a size option beyond 2^32 - 1 is that large, not what is left of it past 2^32', async () => {
  await sdk.flush();
  sent.length = 0;
  sdk.init({ ...base, attributeValueLengthLimit: 2 ** 32 + 5, maxQueueSize: 2 ** 32 + 1, maxExportBatchSize: 2 ** 32 + 2 });
  sdk.startSpan('long value', { attributes: { text: 'x'.repeat(100) } }).end();
  sdk.startSpan('second').end();
  sdk.startSpan('third').end();
  await sdk.flush();
  assert.deepEqual(spans().map((s) => s.name), ['long value', 'second', 'third']);
  assert.equal(sent.length, 1, 'one batch: the batch size is not 2');
  assert.equal(spans()[0].attributes.find((a) => a.key === 'text').value.stringValue.length, 100);
});

// From the review of the fixes above: what they must not change for configs that are valid.

test('a config Proxy is read through its get trap, and a frozen config keeps the Node language', async () => {
  for (const [name, config] of [
    ['proxy', new Proxy({ ...base, serviceName: 'placeholder' }, { get: (t, k) => (k === 'serviceName' ? 'checkout' : t[k]) })],
    ['frozen', Object.freeze({ ...base, serviceName: 'checkout', resourceAttributes: Object.freeze({ team: 'a' }) })],
  ]) {
    await sdk.flush();
    sent.length = 0;
    sdk.init(config);
    sdk.startSpan(name).end();
    await sdk.flush();
    const resource = Object.fromEntries(sent[0].doc.resourceSpans[0].resource.attributes.map((a) => [a.key, a.value.stringValue]));
    assert.equal(resource['service.name'], 'checkout', name);
    assert.equal(resource['telemetry.sdk.language'], 'nodejs', name);
    assert.equal(apiErrors(), 0, name);
  }
});

test('a config parsed from JSON with a "__proto__" member gets no options from it; it is counted', async () => {
  await sdk.flush();
  sent.length = 0;
  sdk.init(Object.assign(JSON.parse('{"__proto__":{"endpoint":"http://10.0.0.9:9999"}}'), base));
  assert.equal(apiErrors(), 1);
  sdk.startSpan('json config').end();
  await sdk.flush();
  assert.deepEqual(sent.map((s) => s.url), ['http://127.0.0.1:4318/v1/traces']);
});

test('a flush time-out that is no number (a word, an object) is counted and the default holds', async () => {
  sdk.init(base);
  await sdk.flush({ timeoutMillis: 'soon' });
  await sdk.flush({ timeoutMillis: {} });
  assert.equal(apiErrors(), 2);
  await sdk.flush({ timeoutMillis: '5000' });
  assert.equal(apiErrors(), 2, 'a numeric string is a number');
});

test('a baggage member named __proto__ keeps its properties', () => {
  sdk.init(base);
  const parent = sdk.extract({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', baggage: 'user=alice;ttl=60,__proto__=x;ttl=60' });
  const carrier = {};
  sdk.startActiveSpan('s', { parent }, (span) => sdk.inject(carrier, span));
  assert.equal(carrier.baggage, 'user=alice;ttl=60,__proto__=x;ttl=60');
});

test('the Node entry that is off (its wasm missing) still leaves fetch alone when instrumentFetch is false', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgescope-off-'));
  try {
    cpSync(fileURLToPath(new URL('../../sdk/dist', import.meta.url)), dir, { recursive: true });
    rmSync(join(dir, 'wasm', 'edgescope_node_bg.wasm'));
    const script = `
      const own = globalThis.fetch;
      const sdk = await import(${JSON.stringify(pathToFileURL(join(dir, 'node.js')).href)});
      sdk.init({ serviceName: 'off', instrumentFetch: false });
      console.log(JSON.stringify({ off: !!sdk.diagnostics().disabled, untouched: globalThis.fetch === own }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30000, stdio: ['ignore', 'pipe', 'ignore'] });
    assert.deepEqual(JSON.parse(out.trim().split('\n').at(-1)), { off: true, untouched: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an error status whose message cannot be read keeps its code; the message is counted', async () => {
  await sdk.flush();
  sent.length = 0;
  sdk.init(base);
  sdk.startSpan('failed').setStatus(throwing('message', { code: 'error' })).end();
  await sdk.flush();
  assert.equal(spans()[0].status.code, 2, JSON.stringify(spans()[0].status));
  assert.equal(apiErrors(), 1);
});
