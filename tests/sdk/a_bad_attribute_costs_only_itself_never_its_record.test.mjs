// Attributes that cannot be recorded cost only themselves, each counted in
// `diagnostics().apiErrors`: a value whose reading throws (a getter, a Proxy), an empty key
// (OpenTelemetry's keys are non-empty), and attributes that are no map at all (an array, whose
// items would become keys "0" and "1", a string, a Proxy whose keys cannot be listed). The log
// record, event or span keeps its other attributes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportSink } from '../support.mjs';
import { diagnostics, flush, init, logger, startSpan } from '../../sdk/dist/node.js';

const { spans, logs, fetch: capture, clear } = exportSink();
const configure = (extra) => {
  clear();
  init({ serviceName: 'bad-attributes', fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 60_000, ...extra });
};
const attrs = (item) => Object.fromEntries((item.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]]));
const throwing = () => ({ get x() { throw new Error('getter boom'); } });
const proxy = () => new Proxy({}, { ownKeys() { throw new Error('proxy boom'); }, get() { throw new Error('proxy get'); } });

test('a log record keeps its readable attributes; each bad one is dropped and counted', async () => {
  configure();
  logger.info('nested getter', { ok: 'kept', g: throwing(), after: 1 });
  logger.info('own getter', { ok: 'kept', get g() { throw new Error('boom'); } });
  logger.info('proxy value', { ok: 'kept', p: proxy() });
  logger.info('empty key', { '': 1, k: 2 });
  assert.equal(diagnostics().apiErrors, 4);
  await flush();
  assert.deepEqual(
    logs.map((r) => [r.body.stringValue, attrs(r)]),
    [
      ['nested getter', { ok: 'kept', after: '1' }],
      ['own getter', { ok: 'kept' }],
      ['proxy value', { ok: 'kept' }],
      ['empty key', { k: '2' }],
    ],
  );
});

test('attributes that are no map are ignored and counted, and the record kept', async () => {
  configure();
  logger.info('array', [1, 2]);
  logger.info('string', 'nope');
  logger.info('proxy', proxy());
  logger.info('none', undefined);
  logger.info('null', null);
  assert.equal(diagnostics().apiErrors, 3, 'the array, the string and the proxy');
  await flush();
  assert.deepEqual(
    logs.map((r) => [r.body.stringValue, attrs(r)]),
    [['array', {}], ['string', {}], ['proxy', {}], ['none', {}], ['null', {}]],
  );
});

for (const [path, extra] of [
  ['spans recorded in JavaScript', {}],
  ['spans the core records (keepErrors; the browser and workerd path)', { keepErrors: true }],
]) {
  test(`spans and events keep their readable attributes: ${path}`, async () => {
    configure(extra);
    const span = startSpan('s', { attributes: { ok: 1, '': 2, g: throwing() } });
    span.setAttribute('', 'empty');
    span.setAttribute('kept', 'yes');
    span.addEvent('e', { ok: 1, '': 2, g: throwing() });
    span.addEvent('f', ['a', 'b']);
    span.end();
    assert.equal(diagnostics().apiErrors, 6);
    await flush();
    const [s] = spans;
    assert.deepEqual(attrs(s), { ok: '1', kept: 'yes' });
    assert.deepEqual(s.events.map((e) => [e.name, attrs(e)]), [['e', { ok: '1' }], ['f', {}]]);
  });
}

test('an array of more than 1,048,576 items (a sparse one too) is ignored and counted, never looped over', async () => {
  configure();
  const sparse = [];
  sparse.length = 2 ** 32 - 1;
  sparse[3] = 'x';
  const before = diagnostics().apiErrors;
  const span = startSpan('sparse');
  span.setAttribute('sparse', sparse);
  span.setAttribute('kept', [1, 2]);
  span.end();
  logger.info('sparse log', { sparse, kept: 'yes' });
  logger.info('sparse in a map', { nested: { sparse }, kept: 'yes' });
  assert.equal(diagnostics().apiErrors - before, 2, 'the span attribute and the log attribute; in a map it is left out');
  await flush();
  assert.deepEqual(attrs(spans.find((s) => s.name === 'sparse')).kept, { values: [{ intValue: '1' }, { intValue: '2' }] });
  assert.equal(attrs(spans.find((s) => s.name === 'sparse')).sparse, undefined);
  assert.equal(attrs(logs.find((r) => r.body.stringValue === 'sparse log')).kept, 'yes');
});
