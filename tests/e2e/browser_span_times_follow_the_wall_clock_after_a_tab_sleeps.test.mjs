// Span times in headless Chromium come from `performance.timeOrigin + performance.now()`,
// re-anchored to `Date.now()` when the two drift apart by more than a second, as they do when a
// tab sleeps (`performance.now()` stops, the wall clock does not) or the wall clock is set. The
// page's clocks are replaced before the SDK loads, and moved by the test.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { attr, getJson, startBrowserStack, traceSpans, waitFor } from '../support.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
});

after(() => stack?.stop());

const HOUR = 3600 * 1000;

for (const entry of ['browser', 'full']) {
  test(`${entry} entry: a wall clock that jumps more than a second moves span times with it; less does not`, async () => {
    const page = await browser.newPage();
    await page.addInitScript(() => {
      const realDate = Date.now.bind(Date);
      const realPerf = performance.now.bind(performance);
      window.__clock = { wall: 0, perf: 0, realDate };
      Date.now = () => realDate() + window.__clock.wall;
      performance.now = () => realPerf() + window.__clock.perf;
    });
    await page.goto(`${site.url}/blank`);
    const results = await page.evaluate(
      async ({ entry, HOUR, otlp }) => {
        const sdk = await import(`/sdk/${entry}.js`);
        sdk.init({ serviceName: `clock-${entry}`, endpoint: otlp, scheduleDelayMillis: 600000, documentLoad: false });
        const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
        const out = [];
        /** Makes a span after `move` and returns [expected offset, span start minus the real clock before, minus after]. */
        const step = async (name, expectedOffset, move) => {
          move();
          // The core compares the clocks at most every 20 ms of performance.now().
          await sleep(40);
          const before = window.__clock.realDate();
          const span = sdk.startSpan(name);
          span.end();
          const after = window.__clock.realDate();
          out.push({ name, expectedOffset, before, after });
        };
        await step('awake', 0, () => {});
        // A sleeping tab: the wall clock went on for an hour, performance.now() did not.
        await step('after an hour asleep', HOUR, () => (window.__clock.wall += HOUR));
        // Half a second of drift is within the tolerance: no re-anchoring.
        await step('half a second more', HOUR, () => (window.__clock.wall += 500));
        // The wall clock set back two hours.
        await step('clock set back', -HOUR + 500, () => (window.__clock.wall -= 2 * HOUR));
        // performance.now() jumping ahead alone (a timer bug) is corrected to the wall clock too.
        await step('performance clock ahead', -HOUR + 500, () => (window.__clock.perf += 10 * 60 * 1000));
        await sdk.flush();
        return out;
      },
      { entry, HOUR, otlp: collector.otlp },
    );
    const spans = await waitFor('the clock spans', async () => {
      const { traces } = await getJson(`${collector.ui}/api/traces?limit=100`);
      // (Not the page's long tasks, which the full entry reports as spans of their own.)
      const mine = traces.filter((t) => t.rootService === `clock-${entry}` && results.some((r) => r.name === t.rootName));
      return mine.length === results.length && (await Promise.all(mine.map((t) => traceSpans(collector, t.traceId)))).flat();
    });
    for (const { name, expectedOffset, before, after } of results) {
      const span = spans.find((s) => s.name === name);
      assert.ok(span, `${name} was exported`);
      const start = Number(BigInt(span.startTimeUnixNano) / 1000000n);
      // Between the real clock read before and after the span, moved by the expected offset,
      // with 50 ms for the rounding of the performance clock against the wall clock.
      assert.ok(start >= before + expectedOffset - 50 && start <= after + expectedOffset + 50, `${name}: start ${start - before - expectedOffset} ms from the expected`);
    }
    await page.close();
  });
}

test('full entry: spans timed from the performance timeline (long tasks) follow the wall clock after a tab slept too', async () => {
  const page = await browser.newPage();
  await page.addInitScript(() => {
    const realDate = Date.now.bind(Date);
    window.__clock = { wall: 0, realDate };
    Date.now = () => realDate() + window.__clock.wall;
  });
  await page.goto(`${site.url}/blank`);
  const out = await page.evaluate(
    async ({ HOUR, otlp }) => {
      const sdk = await import('/sdk/full.js');
      sdk.init({ serviceName: 'clock-longtask', endpoint: otlp, scheduleDelayMillis: 600000, documentLoad: false, webVitals: false });
      sdk.startSpan('awake').end();
      // Long tasks of the page's load are reported (buffered) before the tab sleeps.
      await new Promise((r) => setTimeout(r, 300));
      // The tab slept an hour: the wall clock went on, performance.now() did not.
      window.__clock.wall += HOUR;
      await new Promise((r) => setTimeout(r, 40));
      // The browser reports the long task a little later, to every observer in one task:
      // the SDK's has it once this one does.
      const reported = new Promise((resolve) =>
        new PerformanceObserver((list, observer) => {
          if (list.getEntries().some((e) => e.duration >= 390)) observer.disconnect(), setTimeout(resolve, 0);
        }).observe({ type: 'longtask' }),
      );
      const before = window.__clock.realDate();
      const until = performance.now() + 400;
      while (performance.now() < until);
      const after = window.__clock.realDate();
      await reported;
      sdk.startSpan('after the long task').end();
      await sdk.flush();
      return { before, after };
    },
    { HOUR, otlp: collector.otlp },
  );
  const spans = await waitFor('the long task span', async () => {
    const { traces } = await getJson(`${collector.ui}/api/traces?limit=100`);
    const mine = traces.filter((t) => t.rootService === 'clock-longtask');
    const all = (await Promise.all(mine.map((t) => traceSpans(collector, t.traceId)))).flat();
    return all.some((s) => s.name === 'longtask') && all.some((s) => s.name === 'after the long task') && all;
  });
  // The busy loop's task (at least 400 ms) lies within the loop an hour on (50 ms for clock
  // rounding), and no long task lies where the loop was before the tab slept.
  const times = spans
    .filter((s) => s.name === 'longtask' && attr(s, 'longtask.duration_ms') >= 390)
    .map((s) => [Number(BigInt(s.startTimeUnixNano) / 1000000n), Number(BigInt(s.endTimeUnixNano) / 1000000n)]);
  const within = (offset) => times.filter(([start, end]) => start >= out.before + offset - 50 && end <= out.after + offset + 50);
  assert.equal(within(HOUR).length, 1, `the loop's long task, an hour on: ${times.map(([s]) => s - out.before).join()} ms from the loop`);
  assert.deepEqual(within(0), [], 'not an hour before the spans around it');
  await page.close();
});
