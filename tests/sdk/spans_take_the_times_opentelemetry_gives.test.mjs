// OpenTelemetry's API lets a caller give times: `startSpan(name, { startTime })`, `span.end(endTime)`,
// `span.addEvent(name, [attributes], [time])` and `span.recordException(e, [attributes], [time])`,
// each a `TimeInput` (Unix milliseconds, or below `performance.timeOrigin` and 10^12 a
// `performance.now()` reading; a `Date`; `[seconds, nanoseconds]`). The exported span holds exactly those times, on
// both paths a span takes: recorded in JavaScript (the Node entry) and recorded by the core (the
// path of the lean browser and workerd module, taken here under `keepErrors`). An end before the
// start is moved to the start; what is no time is counted and read as now, never thrown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnostics, flush, init, startSpan } from '../../sdk/dist/node.js';

let sent = [];
const capture = async (url, request) => {
  if (url.endsWith('/v1/traces')) {
    for (const rs of JSON.parse(Buffer.from(request.body).toString()).resourceSpans) for (const ss of rs.scopeSpans) sent.push(...ss.spans);
  }
  return new Response(null, { status: 200 });
};

const PATHS = [
  ['recorded in JavaScript (Node entry)', {}],
  ['recorded by the core (browser and workerd path)', { keepErrors: true }],
];

function configure(extra) {
  sent = [];
  init({ serviceName: 'times', fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 0, ...extra });
}

const byName = (name) => {
  const span = sent.find((s) => s.name === name);
  assert.ok(span, `span ${name} exported`);
  return span;
};

/** Unix nanoseconds of Unix milliseconds, whole and fraction apart (as the core converts them). */
const nanos = (ms) => BigInt(Math.trunc(ms)) * 1000000n + BigInt(Math.round((ms - Math.trunc(ms)) * 1e6));

for (const [path, extra] of PATHS) {
  test(`given times are exported to the nanosecond: ${path}`, async () => {
    configure(extra);
    const before = diagnostics().apiErrors;
    const span = startSpan('timed', { startTime: new Date(1_800_000_000_123) });
    span.addEvent('hrtime', [1_800_000_000, 500_250_000]);
    span.addEvent('attributes then time', { step: 2 }, 1_800_000_000_600.5);
    span.recordException(new TypeError('boom'), 1_800_000_000_700);
    span.recordException(new RangeError('late'), { retry: true }, new Date(1_800_000_000_800));
    span.end([1_800_000_001, 0]);
    // Never handed to the core on the recorded path: the record carries both times.
    startSpan('plain', { startTime: 1_800_000_002_000.25 }).end(new Date(1_800_000_003_000));
    // `performance.now()` readings.
    const perf = startSpan('perf', { startTime: 1000.5 });
    perf.end(2000.75);
    // A date from before the process started (a queued job's) is below `performance.timeOrigin`
    // too, but no `performance.now()` reading: read as the date it is, not 56 years ahead.
    const early = Date.now() - 3_600_000;
    assert.ok(early < performance.timeOrigin);
    startSpan('queued', { startTime: early }).end(early + 250);
    await flush();
    assert.equal(diagnostics().apiErrors, before, 'no time was refused');

    const timed = byName('timed');
    assert.equal(timed.startTimeUnixNano, '1800000000123000000');
    assert.equal(timed.endTimeUnixNano, '1800000001000000000');
    assert.deepEqual(
      timed.events.map((e) => [e.name, e.timeUnixNano]),
      [
        ['hrtime', '1800000000500250000'],
        ['attributes then time', '1800000000600500000'],
        ['exception', '1800000000700000000'],
        ['exception', '1800000000800000000'],
      ],
    );
    assert.deepEqual(timed.events[1].attributes, [{ key: 'step', value: { intValue: '2' } }]);
    assert.equal(timed.events[2].attributes.find((a) => a.key === 'exception.type').value.stringValue, 'TypeError');
    assert.deepEqual(timed.events[3].attributes.find((a) => a.key === 'retry'), { key: 'retry', value: { boolValue: true } });

    const plain = byName('plain');
    assert.equal(plain.startTimeUnixNano, '1800000002000250000');
    assert.equal(plain.endTimeUnixNano, '1800000003000000000');

    const queued = byName('queued');
    assert.equal(queued.startTimeUnixNano, String(nanos(early)));
    assert.equal(queued.endTimeUnixNano, String(nanos(early + 250)));

    const p = byName('perf');
    assert.equal(p.startTimeUnixNano, String(nanos(performance.timeOrigin + 1000.5)));
    assert.equal(p.endTimeUnixNano, String(nanos(performance.timeOrigin + 2000.75)));
  });

  test(`an end before the start is the start, and what is no time is counted and read as now: ${path}`, async () => {
    configure(extra);
    const before = diagnostics().apiErrors;
    startSpan('backwards', { startTime: 1_800_000_000_000 }).end(1_799_999_999_000);
    const t0 = BigInt(Date.now()) * 1000000n;
    const bad = [NaN, 'yesterday', -5, 1e20, [1, 'x'], {}, new Date(NaN), Infinity];
    for (const [i, time] of bad.entries()) startSpan(`bad start ${i}`, { startTime: time }).end();
    for (const [i, time] of bad.entries()) startSpan(`bad end ${i}`).end(time);
    const events = startSpan('bad events');
    events.addEvent('string time', { k: 1 }, 'noon');
    events.recordException(new Error('x'), {}, -1);
    events.end();
    const t1 = BigInt(Date.now() + 1) * 1000000n;
    await flush();
    assert.equal(diagnostics().apiErrors - before, 2 * bad.length + 2, 'each time that is none counted once');

    const backwards = byName('backwards');
    assert.equal(backwards.startTimeUnixNano, '1800000000000000000');
    assert.equal(backwards.endTimeUnixNano, backwards.startTimeUnixNano);
    // Within 50 ms: the SDK's clock is `performance.timeOrigin` + `performance.now()`, which may
    // drift from `Date.now()` a little.
    const now = (v) => BigInt(v) >= t0 - 50000000n && BigInt(v) <= t1 + 50000000n;
    for (let i = 0; i < bad.length; i++) {
      for (const span of [byName(`bad start ${i}`), byName(`bad end ${i}`)]) {
        assert.ok(now(span.startTimeUnixNano) && now(span.endTimeUnixNano), `${span.name} ${bad[i]}: read as now`);
      }
    }
    const ev = byName('bad events');
    assert.deepEqual(ev.events.map((e) => e.name), ['string time', 'exception']);
    for (const e of ev.events) assert.ok(now(e.timeUnixNano), `${e.name} read as now`);
  });
}
