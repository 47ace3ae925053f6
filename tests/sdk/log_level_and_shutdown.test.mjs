// The logger's minimum level (`logLevel`; by default debug in development and info elsewhere)
// and `shutdown()`: what was queued is exported, then nothing more is recorded until `init`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportSink } from '../support.mjs';
import { diagnostics, flush, init, logger, shutdown, startSpan } from '../../sdk/dist/node.js';

const { spans, logs, fetch: capture, clear } = exportSink();
const configure = (extra) => {
  clear();
  init({ serviceName: 'levels', fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 0, ...extra });
};

/** The messages of the records that reach the collector when each level logs once. */
async function recorded(extra) {
  configure(extra);
  for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal']) logger[level](level);
  await flush();
  return logs.map((r) => r.body.stringValue);
}

test('without an environment, outside a page served from loopback, records start at info', async () => {
  assert.deepEqual(await recorded(), ['info', 'warn', 'error', 'fatal']);
  assert.deepEqual(await recorded({ environment: 'production' }), ['info', 'warn', 'error', 'fatal']);
});

test('in development (environment or deployment.environment.name) records start at debug', async () => {
  assert.deepEqual(await recorded({ environment: 'development' }), ['debug', 'info', 'warn', 'error', 'fatal']);
  assert.deepEqual(await recorded({ environment: 'Local' }), ['debug', 'info', 'warn', 'error', 'fatal']);
  const fromResource = await recorded({ resourceAttributes: { 'deployment.environment.name': 'dev' } });
  assert.deepEqual(fromResource, ['debug', 'info', 'warn', 'error', 'fatal']);
});

test('logLevel sets the lowest level recorded; an unknown one is counted and the default kept', async () => {
  assert.deepEqual(await recorded({ logLevel: 'warn', environment: 'development' }), ['warn', 'error', 'fatal']);
  assert.deepEqual(await recorded({ logLevel: 'trace' }), ['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
  const before = diagnostics().apiErrors;
  assert.deepEqual(await recorded({ logLevel: 'verbose' }), ['info', 'warn', 'error', 'fatal']);
  assert.equal(diagnostics().apiErrors, before + 1);
  assert.deepEqual(await recorded({ logLevel: 'constructor' }), ['info', 'warn', 'error', 'fatal']);
});

for (const [path, extra] of [
  ['spans recorded in JavaScript', {}],
  ['spans the core records (keepErrors; the browser and workerd path)', { keepErrors: true }],
]) {
  test(`shutdown exports what was queued, then records nothing until init: ${path}`, async () => {
    configure({ scheduleDelayMillis: 60_000, ...extra });
    startSpan('before').end();
    logger.info('before');
    const open = startSpan('open across shutdown');
    await shutdown();
    assert.deepEqual(spans.map((s) => s.name), ['before']);
    assert.deepEqual(logs.map((r) => r.body.stringValue), ['before']);
    const after = startSpan('after');
    assert.equal(after.isRecording(), false);
    after.setAttribute('k', 'v').end();
    logger.error('after');
    open.end();
    await flush();
    assert.deepEqual(spans.map((s) => s.name), ['before'], 'nothing is exported after shutdown');
    assert.deepEqual(logs.map((r) => r.body.stringValue), ['before']);
    configure(extra);
    startSpan('again').end();
    logger.info('again');
    await flush();
    assert.deepEqual(spans.map((s) => s.name), ['again']);
    assert.deepEqual(logs.map((r) => r.body.stringValue), ['again']);
  });
}
