// What a log record's body holds when the logger or console capture is given something other
// than a string: objects as JSON, a cycle as "[Circular]" (as pino writes one; Node's console
// shows `[Circular *1]`), a value whose reading throws (a getter, `toJSON`, a Proxy) as
// "[Thrown]" in its place while the rest of the message stays, errors as their stack, no
// message as an empty body (the console prints an empty line). The body is cut to
// `attributeValueLengthLimit` bytes, or 16 KiB without one, at a character boundary, and each
// cut record is counted in `diagnostics().logsTruncated`.
import { test } from 'node:test';
import assert from 'node:assert/strict';

// The console as the host had it: what it printed, kept here. Set before the SDK wraps it.
const printed = [];
for (const method of ['log', 'info', 'warn', 'error', 'debug']) {
  console[method] = (...args) => printed.push(`${method}: ${args.map((a) => typeof a).join(' ')}`);
}
const { exportSink } = await import('../support.mjs');
const { diagnostics, flush, init, logger } = await import('../../sdk/dist/node.js');
const { captureConsole } = await import('../../sdk/dist/console.js');

const { logs, fetch: capture, clear } = exportSink();
const configure = (extra) => {
  clear();
  init({ serviceName: 'bodies', fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 60_000, ...extra });
};
const bodies = async () => {
  await flush();
  return logs.map((r) => r.body.stringValue);
};

const cyclic = () => {
  const c = { a: 1 };
  c.self = c;
  c.list = [c, 2];
  return c;
};
const getter = () => ({ ok: 1, get bad() { throw new Error('getter boom'); }, after: 2 });
const toJSON = () => ({ when: { toJSON() { throw new Error('toJSON boom'); } }, n: 1 });
const proxy = () => new Proxy({}, { ownKeys() { throw new Error('proxy boom'); }, get() { throw new Error('proxy get'); } });

test('the logger records objects as JSON, cycles and unreadable values in their place', async () => {
  configure();
  const shared = { x: 1 };
  logger.info({ a: 1, nested: { list: [1, 'two', null, undefined, () => 1] }, skipped: undefined });
  logger.info(cyclic());
  logger.info({ p: shared, q: shared });
  logger.info(getter());
  logger.info(toJSON());
  logger.info({ toJSON() { throw new Error('top'); } });
  logger.info(proxy());
  logger.info({ big: 10n, at: new Date(0), nan: NaN });
  logger.info({ map: new Map([['a', 1], [2, { b: true }]]), set: new Set(['x', 3]), empty: new Map() });
  logger.info(new Map([['top', 1]]));
  const inMap = new Map([['a', 1]]);
  inMap.set('self', inMap);
  const inSet = new Set([1]);
  inSet.add(inSet);
  logger.info({ inMap, inSet });
  logger.info(12345678901234567890n);
  logger.info(42);
  logger.info(null);
  logger.info();
  assert.deepEqual(await bodies(), [
    '{"a":1,"nested":{"list":[1,"two",null,null,null]}}',
    '{"a":1,"self":"[Circular]","list":["[Circular]",2]}',
    '{"p":{"x":1},"q":{"x":1}}',
    '{"ok":1,"bad":"[Thrown]","after":2}',
    '{"when":"[Thrown]","n":1}',
    '[Thrown]',
    '[Thrown]',
    '{"big":"10","at":"1970-01-01T00:00:00.000Z","nan":null}',
    // A Map by its entries and a Set by its values (JSON.stringify writes {} for both), a bigint
    // with the `n` the console prints. (A Map's keys become an object's: a number key as its
    // digits, first, as in any JavaScript object.)
    '{"map":{"2":{"b":true},"a":1},"set":["x",3],"empty":{}}',
    '{"top":1}',
    '{"inMap":{"a":1,"self":"[Circular]"},"inSet":[1,"[Circular]"]}',
    '12345678901234567890n',
    '42',
    'null',
    '',
  ]);
  assert.equal(diagnostics().apiErrors, 0, 'every call made its record');
});

test('an error is recorded as its stack, inside an object too', async () => {
  configure();
  const e = new TypeError('as message');
  logger.error(e);
  logger.error({ cause: e });
  const [top, nested] = await bodies();
  assert.equal(top, e.stack);
  assert.match(top, /^TypeError: as message\n {4}at /);
  assert.deepEqual(JSON.parse(nested), { cause: e.stack });
  // A stack without the message's line (Firefox and Safari write none) gets it first.
  const bare = new Error('no head');
  bare.stack = 'f@https://app.example/main.js?sig=secret:1:2';
  logger.error(bare);
  assert.deepEqual((await bodies()).slice(2), ['Error: no head\nf@https://app.example/main.js:1:2']);
});

test('console capture records what the console shows, value by value', async () => {
  configure();
  const printedBefore = printed.length;
  captureConsole(true);
  try {
    console.error('cycle', cyclic());
    console.log('%o and %s', cyclic(), 'text');
    console.log('getter', getter());
    console.log('toj', toJSON(), 'after');
    console.log('proxy', proxy(), 'after');
    console.info('%d items', proxy());
    console.warn(new RangeError('boom'));
    console.log();
    console.log(undefined);
  } finally {
    captureConsole(false);
  }
  const got = await bodies();
  assert.deepEqual(got.slice(0, 6), [
    'cycle {"a":1,"self":"[Circular]","list":["[Circular]",2]}',
    '{"a":1,"self":"[Circular]","list":["[Circular]",2]} and text',
    'getter {"ok":1,"bad":"[Thrown]","after":2}',
    'toj {"when":"[Thrown]","n":1} after',
    'proxy [Thrown] after',
    'NaN items',
  ]);
  assert.match(got[6], /^RangeError: boom\n {4}at /);
  assert.deepEqual(got.slice(7), ['', 'undefined']);
  assert.equal(diagnostics().apiErrors, 0, 'every call made its record');
  assert.equal(printed.length - printedBefore, 9, 'the console printed every call');
});

test('a body is cut to 16 KiB, or to attributeValueLengthLimit bytes, and counted', async () => {
  configure();
  captureConsole(['log']);
  try {
    console.log(new Array(100_000).fill('y'));
  } finally {
    captureConsole(false);
  }
  logger.info('x'.repeat(1_000_000));
  logger.info('short');
  const [array, long, short] = await bodies();
  assert.equal(array.length, 16_384);
  assert.ok(array.startsWith('["y","y",'));
  assert.equal(long, 'x'.repeat(16_384));
  assert.equal(short, 'short');
  assert.equal(diagnostics().logsTruncated, 2);

  configure({ attributeValueLengthLimit: 10 });
  assert.equal(diagnostics().logsTruncated, 0, 'init starts the count afresh');
  logger.info('aéééééé'); // the 10th byte is the first of an é's two: the cut moves before it
  logger.info('0123456789'); // exactly the limit
  logger.info('😀😀😀😀😀'); // four bytes each
  assert.deepEqual(await bodies(), ['aéééé', '0123456789', '😀😀']);
  assert.equal(diagnostics().logsTruncated, 2);
});

test('a deep object well under the cap is written whole: each value counts against the cap once, not once per level', async () => {
  configure();
  let deep = { leaf: 'z'.repeat(600) };
  for (let i = 0; i < 40; i++) deep = { [`level${i}`]: deep, n: i };
  const value = { deep, after: 'the last key' };
  logger.info(value);
  const [body] = await bodies();
  assert.equal(body, JSON.stringify(value));
  assert.equal(diagnostics().logsTruncated, 0);
});

test('the cut comes after redaction: a card number it splits is masked whole, other numbers are cut as text', async () => {
  configure({ attributeValueLengthLimit: 10 });
  logger.info('pay 4111 1111 1111 1111 now');
  logger.info('order 12345678 shipped today');
  assert.deepEqual(await bodies(), ['pay REDACT', 'order 1234']);
  assert.equal(diagnostics().logsTruncated, 2);
});
