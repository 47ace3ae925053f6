// Span times recorded in JavaScript (records.js, the Node/Deno entry's path) and by the core (a
// span handed over to it for an event) follow the same clock rule: `performance.timeOrigin +
// performance.now()`, re-anchored to `Date.now()` when the two drift apart by more than a second
// (a machine that slept: `performance.now()` stopped, the wall clock did not). The process's
// clocks are replaced before the first span, and moved by the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flush, init, startSpan } from '../../sdk/dist/node.js';

const HOUR = 3600 * 1000;
const realDate = Date.now.bind(Date);
const realPerf = performance.now.bind(performance);
const skew = { wall: 0, perf: 0 };
Date.now = () => realDate() + skew.wall;
performance.now = () => realPerf() + skew.perf;

let sent = [];
init({
  serviceName: 'clock',
  protocol: 'http/json',
  compression: 'none',
  scheduleDelayMillis: 600000,
  fetch: async (url, request) => {
    if (url.endsWith('/v1/traces')) {
      for (const rs of JSON.parse(Buffer.from(request.body).toString()).resourceSpans) for (const ss of rs.scopeSpans) sent.push(...ss.spans);
    }
    return new Response(null, { status: 200 });
  },
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('a wall clock that jumps more than a second moves the times of recorded and core spans; less does not', async () => {
  const steps = [
    ['awake', 0, () => {}],
    ['after an hour asleep', HOUR, () => (skew.wall += HOUR)],
    ['half a second more', HOUR, () => (skew.wall += 500)],
    ['clock set back', -HOUR + 500, () => (skew.wall -= 2 * HOUR)],
    ['performance clock ahead', -HOUR + 500, () => (skew.perf += 10 * 60 * 1000)],
  ];
  const out = [];
  for (const [name, offset, move] of steps) {
    move();
    // Both paths compare the clocks at most every 20 ms of performance.now().
    await sleep(40);
    const before = realDate();
    startSpan(`${name} (recorded)`).end();
    // An event hands the span over to the core, which then ends it.
    const handed = startSpan(`${name} (core)`);
    handed.addEvent('handed over');
    handed.end();
    out.push({ name, offset, before, after: realDate() });
  }
  await flush();
  for (const { name, offset, before, after } of out) {
    for (const path of ['recorded', 'core']) {
      const span = sent.find((s) => s.name === `${name} (${path})`);
      assert.ok(span, `${name} (${path}) was exported`);
      for (const field of ['startTimeUnixNano', 'endTimeUnixNano']) {
        const ms = Number(BigInt(span[field]) / 1000000n);
        // Between the real clock read before and after, moved by the expected offset, with
        // 50 ms for the rounding of the performance clock against the wall clock.
        assert.ok(ms >= before + offset - 50 && ms <= after + offset + 50, `${name} (${path}) ${field}: ${ms - before - offset} ms from the expected`);
      }
    }
  }
});

test('a time given as a performance.now() reading follows the same rule after the clocks drifted', async () => {
  skew.wall = HOUR;
  skew.perf = 0;
  await sleep(40);
  sent = [];
  const before = realDate();
  const t0 = performance.now();
  for (const path of ['recorded', 'core']) {
    const span = startSpan(`given (${path})`, { startTime: t0 });
    if (path === 'core') span.addEvent('handed over');
    span.addEvent('at a reading', performance.now());
    span.end(performance.now() + 5);
  }
  const after = realDate();
  await flush();
  for (const path of ['recorded', 'core']) {
    const span = sent.find((s) => s.name === `given (${path})`);
    const ms = (field) => Number(BigInt(field) / 1000000n);
    const start = ms(span.startTimeUnixNano);
    const end = ms(span.endTimeUnixNano);
    assert.ok(start >= before + HOUR - 50 && start <= after + HOUR + 50, `${path}: start ${start - before - HOUR} ms from the expected`);
    assert.ok(end - start >= 4 && end - start <= 60, `${path}: the span lasts ${end - start} ms, not clamped to its start`);
    const event = span.events.find((e) => e.name === 'at a reading');
    assert.ok(ms(event.timeUnixNano) >= start && ms(event.timeUnixNano) <= end, `${path}: the event lies inside the span`);
  }
});
