// The full entry's page instrumentations follow each `init`, as the default entry's do: a second
// `init` that turns on a part the first left off installs it (page load recorded late from
// Navigation Timing, navigation, interactions), and one that turns parts off stops their
// recording while what the page wrapped after the SDK (its own `history.pushState` wrapper) keeps
// working, nothing unwrapped. Web vitals follow the last `init` as well.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { attr, getJson, sdkReady, serviceSpans, startBrowserStack, waitFor } from '../support.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
});

after(() => stack?.stop());

/** Inits with `first`, navigates and clicks, inits with `second`, does so again; returns the page's own wrapper's calls. */
async function twice(service, first, second) {
  const page = await browser.newPage();
  await page.goto(site.url);
  await sdkReady(page);
  const wrapped = await page.evaluate(
    async ({ otlp, service, first, second }) => {
      const sdk = await import('/sdk/full.js');
      const button = document.createElement('button');
      button.id = 'b';
      document.body.append(button);
      const round = async (n) => {
        history.pushState({}, '', `/round-${n}`);
        button.click();
        await new Promise((r) => setTimeout(r, 50));
        sdk.startSpan(`work ${n}`).end();
        await sdk.flush();
      };
      sdk.init({ serviceName: service, endpoint: otlp, scheduleDelayMillis: 0, webVitals: false, offline: false, ...first });
      // The page wraps pushState after the SDK did.
      let calls = 0;
      const theirs = history.pushState;
      history.pushState = function () {
        calls++;
        return theirs.apply(this, arguments);
      };
      await round(1);
      sdk.init({ serviceName: service, endpoint: otlp, scheduleDelayMillis: 0, webVitals: false, offline: false, ...second });
      await round(2);
      await new Promise((r) => setTimeout(r, 50));
      await sdk.flush();
      return calls;
    },
    { otlp: collector.otlp, service, first, second },
  );
  await waitFor('the second work span', async () => (await serviceSpans(collector, service)).some((s) => s.name === 'work 2'));
  await page.close();
  const spans = await serviceSpans(collector, service);
  const count = (name) => spans.filter((s) => s.name === name).length;
  return { wrapped, count };
}

const OFF = { documentLoad: false, navigation: false, interactions: false, longTasks: false };

test('a second init turns on the page instrumentations the first left off', async () => {
  const { wrapped, count } = await twice('reinit-on', OFF, {});
  assert.equal(wrapped, 2);
  assert.equal(count('navigation'), 1, 'the second round only');
  assert.equal(count('click'), 1, 'the second round only');
  assert.equal(count('documentLoad'), 1, 'page load, recorded late from Navigation Timing');
});

test('a second init turns them off: nothing more is recorded, and what the page wrapped after the SDK still runs', async () => {
  const { wrapped, count } = await twice('reinit-off', {}, OFF);
  assert.equal(wrapped, 2, "the page's own wrapper ran both times");
  assert.equal(count('navigation'), 1, 'the first round only');
  assert.equal(count('click'), 1, 'the first round only');
  assert.equal(count('documentLoad'), 1, 'recorded at the first init');
});

for (const [first, second, reported] of [[{ webVitals: false }, {}, true], [{}, { webVitals: false }, false]]) {
  test(`web vitals follow the last init too (${JSON.stringify(first)} then ${JSON.stringify(second)})`, async () => {
    const service = `reinit-vitals-${reported ? 'on' : 'off'}`;
    const page = await browser.newPage();
    await page.goto(site.url);
    await sdkReady(page);
    await page.evaluate(
      async ({ otlp, service, first, second }) => {
        const sdk = await import('/sdk/full.js');
        sdk.init({ serviceName: service, endpoint: otlp, scheduleDelayMillis: 0, ...first });
        sdk.init({ serviceName: service, endpoint: otlp, scheduleDelayMillis: 0, ...second });
        Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
        document.dispatchEvent(new Event('visibilitychange'));
        sdk.logger.info('hidden');
        await sdk.flush();
      },
      { otlp: collector.otlp, service, first, second },
    );
    const records = await waitFor('the marker record', async () => {
      const doc = await getJson(`${collector.ui}/api/logs?limit=500`);
      const r = doc.result.resourceLogs.filter((rl) => attr(rl.resource, 'service.name') === service).flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
      return r.some((x) => x.body?.stringValue === 'hidden') && (!reported || r.some((x) => x.eventName === 'browser.web_vital')) && r;
    });
    await page.close();
    const vitals = records.filter((x) => x.eventName === 'browser.web_vital');
    assert.equal(vitals.length > 0, reported, `${vitals.length} web vitals`);
  });
}
