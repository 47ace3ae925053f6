// The full entry's IndexedDB outbox is bounded: at most 200 batches and 5 MB wait for the
// network; beyond either, the oldest are dropped first, each counted in `diagnostics()` as a
// failed export, and what is kept is delivered once the page is back online.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { getJson, startBrowserStack, waitFor } from '../support.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
});

after(() => stack?.stop());

/** Opens a page with the full entry (no page-load spans) in a fresh context (its own IndexedDB). */
async function offlinePage(serviceName, extra = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${site.url}/blank`);
  await page.evaluate(
    async ({ otlp, serviceName, extra }) => {
      window.__sdk = await import('/sdk/full.js');
      window.__sdk.init({
        serviceName,
        endpoint: otlp,
        scheduleDelayMillis: 600000,
        documentLoad: false,
        compression: 'none',
        webVitals: false,
        longTasks: false,
        ...extra,
      });
      // Wait for the outbox's first drain (of an empty store) to settle.
      await new Promise((r) => setTimeout(r, 200));
    },
    { otlp: collector.otlp, serviceName, extra },
  );
  await context.setOffline(true);
  return { context, page };
}

/** Exports `n` batches of one span each, `batch 0` first, each with `pad` bytes of attribute. */
function exportBatches(page, n, pad) {
  return page.evaluate(
    async ({ n, pad }) => {
      const failedBefore = window.__sdk.diagnostics().exportsFailed;
      for (let i = 0; i < n; i++) {
        const attributes = pad ? { 'test.pad': Array.from({ length: pad / 8 }, () => Math.random().toString(36).slice(2, 10).padEnd(8, 'x')).join('') } : {};
        window.__sdk.startSpan(`batch ${i}`, { attributes }).end();
        await window.__sdk.flush();
      }
      return failedBefore;
    },
    { n, pad },
  );
}

/**
 * The number of batches in the outbox and their bytes, once each of the `total` batches exported
 * since `exportsFailed` was `failedBefore` is either stored or dropped and counted (or 15 s passed).
 */
function stored(page, failedBefore, total) {
  return page.evaluate(async ({ failedBefore, total }) => {
    const deadline = Date.now() + 15000;
    const read = () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('edgescope');
        open.onsuccess = () => {
          const db = open.result;
          const out = { count: 0, bytes: 0 };
          const cursor = db.transaction('outbox').objectStore('outbox').openCursor();
          cursor.onsuccess = () => {
            const c = cursor.result;
            if (!c) return db.close(), resolve(out);
            out.count++;
            out.bytes += c.value.body.length;
            c.continue();
          };
          cursor.onerror = () => reject(cursor.error);
        };
        open.onerror = () => reject(open.error);
      });
    for (;;) {
      const s = await read();
      const now = window.__sdk.diagnostics().exportsFailed;
      if (s.count + now - failedBefore >= total || Date.now() > deadline) return { ...s, exportsFailed: now };
      await new Promise((r) => setTimeout(r, 100));
    }
  }, { failedBefore, total });
}

/** The names of the spans `service` delivered, once `count` arrived. */
async function delivered(service, count) {
  return waitFor(`${count} spans of ${service}`, async () => {
    const { traces } = await getJson(`${collector.ui}/api/traces?limit=1000`);
    const names = traces.filter((t) => t.rootService === service).map((t) => t.rootName);
    return names.length >= count && names;
  }, 60000);
}

test('at most 200 batches wait offline; the oldest are dropped and counted, the newest 200 delivered', async () => {
  const { context, page } = await offlinePage('outbox-count');
  const failedBefore = await exportBatches(page, 205, 0);
  const s = await stored(page, failedBefore, 205);
  assert.equal(s.count, 200, 'the store holds 200 batches');
  assert.equal(s.exportsFailed - failedBefore, 5, 'the 5 dropped batches are counted');
  await context.setOffline(false);
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  const names = await delivered('outbox-count', 200);
  const expected = Array.from({ length: 200 }, (_, i) => `batch ${i + 5}`);
  assert.deepEqual([...names].sort(), expected.sort(), 'the newest 200');
  await context.close();
});

test('at most 5 MB waits offline; the oldest batches are dropped first and counted', async () => {
  const { context, page } = await offlinePage('outbox-bytes');
  // 20 batches of about 400 KB: 8 MB, of which the newest 13 (5.2 MB) fit.
  const failedBefore = await exportBatches(page, 20, 400 * 1024);
  const s = await stored(page, failedBefore, 20);
  assert.ok(s.bytes <= 5 * 1024 * 1024, `${s.bytes} bytes stored`);
  assert.ok(s.bytes > 4.5 * 1024 * 1024, `${s.bytes} bytes stored: no more dropped than needed`);
  assert.equal(s.exportsFailed - failedBefore, 20 - s.count, 'every dropped batch is counted');
  await context.setOffline(false);
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  const names = await delivered('outbox-bytes', s.count);
  const kept = Array.from({ length: s.count }, (_, i) => `batch ${20 - s.count + i}`);
  assert.deepEqual([...names].sort(), kept.sort(), 'the newest batches are the ones kept');
  await context.close();
});

test('a stored batch whose resend fails again keeps its place: still the oldest, sent first and dropped first', async () => {
  const { context, page } = await offlinePage('outbox-order', { protocol: 'http/json' });
  const failedBefore = await exportBatches(page, 3, 0);
  await stored(page, failedBefore, 3);
  // Back online, but the collector cannot be reached: the first stored batch is taken out,
  // fails again, and goes back.
  await page.route(`${collector.otlp}/**`, (route) => route.abort('connectionrefused'));
  await context.setOffline(false);
  const refused = page.waitForEvent('requestfailed', (r) => r.url().startsWith(collector.otlp));
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await refused;
  const order = await page.evaluate(async () => {
    const names = () =>
      new Promise((resolve) => {
        const open = indexedDB.open('edgescope');
        open.onsuccess = () => {
          const db = open.result;
          const out = [];
          const cursor = db.transaction('outbox').objectStore('outbox').openCursor();
          cursor.onsuccess = () => {
            const c = cursor.result;
            if (!c) return db.close(), resolve(out);
            const text = typeof c.value.body === 'string' ? c.value.body : new TextDecoder().decode(c.value.body);
            out.push(text.match(/batch \d+/)[0]);
            c.continue();
          };
        };
      });
    // Until the batch that failed is back in the store (three again), at most 10 s.
    const deadline = Date.now() + 10000;
    let n = await names();
    while (n.length !== 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      n = await names();
    }
    return n;
  });
  assert.deepEqual(order, ['batch 0', 'batch 1', 'batch 2'], 'the batch that failed again is still the oldest');
  await page.unroute(`${collector.otlp}/**`);
  const sent = [];
  page.on('request', (r) => r.url().startsWith(collector.otlp) && sent.push(r.postData().match(/batch \d+/)?.[0]));
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await delivered('outbox-order', 3);
  assert.deepEqual(sent, ['batch 0', 'batch 1', 'batch 2'], 'sent oldest first');
  await context.close();
});
