// The full browser entry in headless Chromium, given what pages really log: cyclic objects,
// objects with a throwing getter or `toJSON`, a hostile Proxy, errors, a 100,000-item array,
// attributes that cannot all be read. Every call makes its record (what could not be read is in
// its place, counted where it is an attribute), the body is capped at 16 KiB, the page's console
// shows every call, and nothing throws into the page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { attr, getJson, waitFor, startBrowserStack } from '../support.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
});

after(() => stack?.stop());

test('console capture and the logger record any value, each call once', async () => {
  const page = await browser.newPage();
  let shown = 0;
  // (Not the browser's own messages: a favicon's 404.)
  page.on('console', (m) => m.text().startsWith('Failed to load resource') || shown++);
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(site.url + '/blank');
  const result = await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/full.js');
    sdk.init({ serviceName: 'any-value', endpoint: otlp, scheduleDelayMillis: 60000, captureConsole: true, logLevel: 'debug' });
    const cyc = { a: 1 };
    cyc.self = cyc;
    const getter = { ok: 1, get bad() { throw new Error('getter boom'); } };
    const toj = { toJSON() { throw new Error('toJSON boom'); } };
    const prox = new Proxy({}, { ownKeys() { throw new Error('proxy boom'); }, get() { throw new Error('proxy get'); } });
    const threw = [];
    const calls = [
      () => console.error('cycle', cyc),
      () => console.log('%o', cyc),
      () => console.log('getter', getter),
      () => console.log('toj', toj, 'after'),
      () => console.log('proxy', prox),
      () => console.warn(new Error('boom')),
      () => console.log(new Array(100000).fill('y')),
      () => sdk.logger.info({ a: 1 }),
      () => sdk.logger.info(),
      () => sdk.logger.info('attr getter', { g: getter, ok: 'kept' }),
      () => sdk.logger.info('attr proxy', prox),
      () => sdk.logger.info('array attrs', [1, 2]),
      () => sdk.logger.info('empty key', { '': 1, k: 'v' }),
    ];
    for (const call of calls) {
      try {
        call();
      } catch (e) {
        threw.push(String(e));
      }
    }
    const d = sdk.diagnostics();
    await sdk.flush();
    return { threw, apiErrors: d.apiErrors, logsTruncated: d.logsTruncated, calls: calls.length };
  }, collector.otlp);
  assert.deepEqual(result.threw, []);
  assert.equal(result.apiErrors, 4, 'the getter, the proxy, the array and the empty key');
  assert.equal(result.logsTruncated, 1, 'the array');
  const records = await waitFor('the records', async () => {
    const doc = await getJson(`${collector.ui}/api/logs?service=any-value&limit=100`);
    const r = doc.result.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
    return r.length >= result.calls && r;
  });
  records.sort((a, b) => (BigInt(a.timeUnixNano) < BigInt(b.timeUnixNano) ? -1 : 1));
  assert.equal(records.length, result.calls);
  const body = (r) => r.body?.stringValue ?? '';
  const byBody = Object.fromEntries(records.map((r) => [body(r), r]));
  for (const b of [
    'cycle {"a":1,"self":"[Circular]"}',
    '{"a":1,"self":"[Circular]"}',
    'getter {"ok":1,"bad":"[Thrown]"}',
    'toj [Thrown] after',
    'proxy [Thrown]',
    '{"a":1}',
    '',
  ]) {
    assert.ok(b in byBody, `${JSON.stringify(b)} in ${JSON.stringify(records.map(body).map((x) => x.slice(0, 60)))}`);
  }
  const error = records.find((r) => body(r).startsWith('Error: boom\n'));
  assert.ok(error, 'the error as its stack');
  assert.match(body(error), /\n {4}at /);
  const array = records.find((r) => body(r).startsWith('["y","y"'));
  assert.equal(body(array).length, 16384);
  assert.equal(attr(byBody['attr getter'], 'ok'), 'kept');
  assert.equal(attr(byBody['attr getter'], 'g'), undefined);
  assert.ok(byBody['attr proxy']);
  assert.deepEqual(byBody['array attrs'].attributes.map((a) => a.key).filter((k) => k !== 'session.id'), []);
  assert.deepEqual(byBody['empty key'].attributes.map((a) => a.key).filter((k) => k !== 'session.id'), ['k']);
  assert.equal(shown, 7, 'the console showed each of its calls');
  assert.deepEqual(pageErrors, []);
});
