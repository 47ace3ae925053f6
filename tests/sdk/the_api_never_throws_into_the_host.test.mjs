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

test('bad values are ignored and counted, good ones kept', () => {
  sdk.init({ serviceName: 'hostile', endpoint: 'http://127.0.0.1:9', scheduleDelayMillis: 0 });
  const span = sdk.startSpan('s');
  span.setAttribute('ok', 1);
  span.setAttribute('object', {});
  span.setAttribute('function', () => 1);
  assert.equal(sdk.diagnostics().apiErrors, 2);
  assert.equal(span.isRecording(), true);
  span.end();
  assert.equal(span.isRecording(), false);
});

test('user exceptions inside withSpan and startActiveSpan pass through unchanged', async () => {
  const boom = new Error('boom');
  assert.throws(() => sdk.startActiveSpan('sync', () => { throw boom; }), (e) => e === boom);
  await assert.rejects(sdk.startActiveSpan('async', async () => { throw boom; }), (e) => e === boom);
  assert.equal(sdk.startActiveSpan('value', () => 42), 42);
  assert.equal(await sdk.startActiveSpan('promise', async () => 43), 43);
  assert.equal(sdk.activeSpan(), undefined, 'nothing stays active');
});
