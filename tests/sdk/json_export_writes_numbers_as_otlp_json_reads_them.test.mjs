// OTLP/JSON export writes number attribute values so that a reader gets the same number back:
// non-finite values as the proto3 JSON strings "NaN", "Infinity" and "-Infinity", finite ones
// exactly (integers beyond 2^53, which an int64 string could not say truly, as doubles); an
// integer-valued number is an `intValue` string, -0 among them ("0"), as OpenTelemetry JS sends
// it. Both span paths (recorded in JavaScript, and by the core as in browsers and workerd) and
// log records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flush, init, logger, startSpan } from '../../sdk/dist/node.js';

const bodies = { traces: [], logs: [] };
const capture = async (url, request) => {
  const text = Buffer.from(request.body).toString();
  bodies[url.endsWith('/v1/logs') ? 'logs' : 'traces'].push(text);
  return new Response(null, { status: 200 });
};

const values = {
  half: 0.5,
  unsafe: 2 ** 53,
  'int64.max': 2 ** 63,
  big: 1e21,
  tiny: 5e-324,
  sum: 0.1 + 0.2,
  negative: -123.456,
  nan: NaN,
  inf: Infinity,
  'neg.inf': -Infinity,
};
const written = {
  big: '1e+21',
  nan: '"NaN"',
  inf: '"Infinity"',
  'neg.inf': '"-Infinity"',
};

const integers = { 'negative.zero': -0, seven: 7, 'safe.max': 2 ** 53 - 1 };

/** The double values of `attributes` as OTLP/JSON has them, parsed, and as written in `text`. */
function doubles(attributes, text) {
  const out = {};
  const ints = Object.fromEntries(attributes.filter(({ key }) => key in integers).map(({ key, value }) => [key, value]));
  assert.deepEqual(ints, { 'negative.zero': { intValue: '0' }, seven: { intValue: '7' }, 'safe.max': { intValue: String(2 ** 53 - 1) } });
  for (const { key, value } of attributes) {
    if (!(key in values)) continue;
    const raw = value.doubleValue;
    assert.notEqual(raw, undefined, `${key} is a doubleValue: ${JSON.stringify(value)}`);
    out[key] = typeof raw === 'string' ? Number(raw) : raw;
    const at = text.indexOf(`"key":"${key}"`);
    assert.ok(at >= 0, key);
    const literal = text.slice(at).match(/"doubleValue":("[^"]*"|[^,}]+)/)[1];
    if (key in written) assert.equal(literal, written[key], `${key} is written as ${written[key]}`);
  }
  return out;
}

function assertSame(got) {
  assert.deepEqual(Object.keys(got).sort(), Object.keys(values).sort());
  for (const [key, want] of Object.entries(values)) {
    assert.ok(Object.is(got[key], want), `${key}: got ${Object.is(got[key], -0) ? '-0' : got[key]}, want ${Object.is(want, -0) ? '-0' : want}`);
  }
}

for (const [path, extra] of [
  ['spans recorded in JavaScript', {}],
  ['spans the core records (keepErrors; the browser and workerd path)', { keepErrors: true }],
]) {
  test(`span and log doubles read back as written: ${path}`, async () => {
    bodies.traces = [];
    bodies.logs = [];
    init({ serviceName: 'doubles', fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 0, ...extra });
    startSpan('numbers', { attributes: { ...values, ...integers } }).end();
    logger.info('numbers', { ...values, ...integers });
    await flush();

    assert.equal(bodies.traces.length, 1);
    const span = JSON.parse(bodies.traces[0]).resourceSpans[0].scopeSpans[0].spans[0];
    assertSame(doubles(span.attributes, bodies.traces[0]));

    assert.equal(bodies.logs.length, 1);
    const record = JSON.parse(bodies.logs[0]).resourceLogs[0].scopeLogs[0].logRecords[0];
    assertSame(doubles(record.attributes, bodies.logs[0]));
  });
}
