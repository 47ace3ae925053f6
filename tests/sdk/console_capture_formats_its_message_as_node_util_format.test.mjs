// Console capture records a call's message as Node's `util.format` writes it for `%j` (the
// value as JSON), `%%` (a literal percent sign, which takes no argument; a format string given
// alone is written as it is) and the numbers of `%d`, `%i` and `%f`, compared here with
// `util.format` itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { format } from 'node:util';

console.log = () => {};
const { exportSink } = await import('../support.mjs');
const { flush, init } = await import('../../sdk/dist/node.js');
const { captureConsole } = await import('../../sdk/dist/console.js');

/** Logs each of `calls` through captured `console.log` and checks the records against `util.format`. */
async function assertRecordedAsUtilFormat(calls, logs) {
  captureConsole(['log']);
  try {
    for (const args of calls) console.log(...args);
  } finally {
    captureConsole(false);
  }
  await flush();
  assert.deepEqual(
    logs.map((r) => r.body.stringValue),
    calls.map((args) => format(...args)),
  );
}

test('%j and %% are written as util.format writes them', async () => {
  const { logs, fetch } = exportSink();
  init({ serviceName: 'format', fetch, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 60_000 });
  const calls = [
    ['100%%'],
    ['100%% %s', 'done'],
    ['%s %% %s', 'a'],
    ['%%s', 'a'],
    ['%%%s', 'a'],
    ['%s%%', 'x'],
    ['a%', 'b'],
    ['%j', 'text'],
    ['%j', { a: 1, b: [1, 'x', null] }],
    ['%j', [1, 'x']],
    ['%j', undefined],
    ['%j', NaN],
    ['%j', () => 1],
    ['%j and %j', null, 42],
    ['%s %j', 'only one'],
    ['%j%%', { ok: true }, 'rest'],
  ];
  await assertRecordedAsUtilFormat(calls, logs);
});

test('%j of a BigInt, which JSON cannot write (Node throws), records its digits and keeps the record', async () => {
  const { logs, fetch } = exportSink();
  init({ serviceName: 'format', fetch, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 60_000 });
  captureConsole(['log']);
  try {
    console.log('count %j', 10n);
  } finally {
    captureConsole(false);
  }
  await flush();
  assert.deepEqual(logs.map((r) => r.body.stringValue), ['count 10']);
});

test('%d, %i and %f are written as util.format writes them: %d as Number, a BigInt with its n, minus zero as -0', async () => {
  const { logs, fetch } = exportSink();
  init({ serviceName: 'format', fetch, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 60_000 });
  const calls = [
    ['took %d ms', 42.5],
    ['flags %d', '0x10'],
    ['big %d', 10n],
    ['%i', '0x10'],
    ['%i', 42.9],
    ['%i', 10n],
    ['%f', 10n],
    ['%f', '1.5e3 ms'],
    ['%d %i %f', -0, -0, -0],
    ['%d', Symbol('s')],
    ['%d', [5]],
    ['%d', {}],
    ['%i', '12abc'],
    ['%d %d %d', null, undefined, ''],
  ];
  await assertRecordedAsUtilFormat(calls, logs);
});
