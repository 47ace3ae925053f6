// A collector that is down while the browser stays online: an export that fails for good (five
// attempts) waits in the IndexedDB outbox, and the first export that gets through afterwards sends
// it, with no `online` event and no reload — once. While the outbox holds nothing, exports do not
// open IndexedDB at all.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { traceSpans, waitFor, sdkReady, startBrowserStack } from '../support.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
});

after(() => stack?.stop());

/** The page's count of batches in the outbox (0 before the store exists). */
const stored = (page) =>
  page.evaluate(async () => {
    if (!(await indexedDB.databases()).some((d) => d.name === 'edgescope')) return 0;
    return new Promise((resolve) => {
      const open = window.__open.call(indexedDB, 'edgescope');
      open.onsuccess = () => {
        const db = open.result;
        if (!db.objectStoreNames.contains('outbox')) return db.close(), resolve(0);
        const request = db.transaction('outbox').objectStore('outbox').count();
        request.onsuccess = () => (db.close(), resolve(request.result));
      };
    });
  });

test('a batch kept while the collector was down goes with the next export that gets through', async () => {
  const page = await browser.newPage();
  await page.goto(site.url);
  await sdkReady(page);
  await page.evaluate(async (otlp) => {
    // The SDK's own IndexedDB opens, counted (the test's own use the saved function).
    window.__open = indexedDB.open;
    window.__opens = 0;
    indexedDB.open = function (...args) {
      window.__opens++;
      return window.__open.apply(this, args);
    };
    addEventListener('online', () => (window.__online = (window.__online ?? 0) + 1));
    // The collector's connections fail while `down`: a network error with the browser online.
    window.down = false;
    const flaky = (url, init) => (window.down ? Promise.reject(new TypeError('Failed to fetch')) : fetch(url, init));
    window.__sdk = await import('/sdk/full.js');
    window.__sdk.init({ serviceName: 'outage-page', endpoint: otlp, scheduleDelayMillis: 0, fetch: flaky, documentLoad: false, longTasks: false, webVitals: false });
    await window.__sdk.flush();
  }, collector.otlp);
  const kept = await page.evaluate(async () => {
    window.down = true;
    const span = window.__sdk.startSpan('made while the collector was down');
    span.end();
    // Five attempts with backoff (about 8 s), then the outbox.
    await window.__sdk.flush();
    return span.spanContext().traceId;
  });
  await waitFor('the batch in the outbox', async () => (await stored(page)) === 1, 30_000);

  const after = await page.evaluate(async () => {
    window.down = false;
    const span = window.__sdk.startSpan('made after it came back');
    span.end();
    await window.__sdk.flush();
    return span.spanContext().traceId;
  });
  await waitFor('the kept span', async () => (await traceSpans(collector, kept).catch(() => [])).length > 0);
  await waitFor('the outbox emptied', async () => (await stored(page)) === 0);
  assert.equal((await traceSpans(collector, after)).length, 1);

  // Nothing stored: later exports leave IndexedDB alone, and the kept span never comes twice.
  const opens = await page.evaluate(() => window.__opens);
  await page.evaluate(async () => {
    for (let i = 0; i < 3; i++) {
      window.__sdk.startSpan('later').end();
      await window.__sdk.flush();
    }
  });
  assert.equal(await page.evaluate(() => window.__opens), opens, 'no IndexedDB opened while the outbox is empty');
  assert.equal((await traceSpans(collector, kept)).length, 1, 'delivered once');
  assert.equal(await page.evaluate(() => window.__online ?? 0), 0, 'no online event was needed');
});
