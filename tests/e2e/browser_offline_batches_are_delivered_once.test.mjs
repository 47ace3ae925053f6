// Offline delivery in headless Chromium: spans exported while the browser is offline are kept
// in IndexedDB and delivered when it is back online — exactly once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { getJson, traceSpans, waitFor, sdkReady, startBrowserStack } from '../support.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
});

after(() => stack?.stop());

test('spans made offline arrive once when the page is back online', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(site.url);
  await sdkReady(page);
  await page.evaluate(async (otlp) => {
    window.__sdk = await import('/sdk/full.js');
    window.__sdk.init({ serviceName: 'offline-page', endpoint: otlp, scheduleDelayMillis: 0, documentLoad: false, longTasks: false });
  }, collector.otlp);

  // Only the test's span is exported: a long task on a loaded machine (CI) would be a span of
  // its own, in a second batch.
  await context.setOffline(true);
  const traceId = await page.evaluate(async () => {
    const span = window.__sdk.startSpan('made offline');
    const id = span.spanContext().traceId;
    span.end();
    await window.__sdk.flush();
    return id;
  });
  // The outbox writes after the failed export settles: poll the store (up to 10 s) rather than
  // guess how long IndexedDB takes on a loaded machine.
  const stored = await page.evaluate(async () => {
    // Opening a database that does not exist yet would create it without the SDK's store.
    const exists = async () => (await indexedDB.databases()).some((d) => d.name === 'edgescope');
    const count = async () =>
      (await exists()) &&
      new Promise((resolve) => {
        const open = indexedDB.open('edgescope');
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('outbox')) return db.close(), resolve(0);
          const request = db.transaction('outbox').objectStore('outbox').count();
          request.onsuccess = () => (db.close(), resolve(request.result));
          request.onerror = () => (db.close(), resolve(0));
        };
        open.onerror = () => resolve(0);
      });
    const deadline = Date.now() + 10_000;
    let n = await count();
    while (!n && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      n = await count();
    }
    return Number(n);
  });
  // At least the span's batch (the page may have made another record by now); what matters is that
  // the span is delivered once, checked below.
  assert.ok(stored >= 1, `the batch waits in IndexedDB (${stored} stored)`);
  assert.deepEqual((await getJson(`${collector.ui}/api/traces?limit=100`)).traces.filter((t) => t.traceId === traceId), []);

  await context.setOffline(false);
  const spans = await waitFor('the offline span', async () => {
    const s = await traceSpans(collector, traceId).catch(() => []);
    return s.length > 0 && s;
  });
  // Another online event and a reload must not send it again.
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await page.reload();
  await sdkReady(page);
  await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/full.js');
    sdk.init({ serviceName: 'offline-page', endpoint: otlp, scheduleDelayMillis: 0, documentLoad: false, longTasks: false });
    await new Promise((r) => setTimeout(r, 500));
  }, collector.otlp);
  assert.equal(spans.length, 1);
  assert.equal((await traceSpans(collector, traceId)).length, 1, 'delivered exactly once');
  await context.close();
});

test('a batch IndexedDB cannot keep (its transaction aborts, as on a full quota) is counted as a failed export', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(site.url);
  await sdkReady(page);
  await page.evaluate(async (otlp) => {
    window.__sdk = await import('/sdk/full.js');
    window.__sdk.init({ serviceName: 'quota-page', endpoint: otlp, scheduleDelayMillis: 0, documentLoad: false });
    // What the page exported so far (the default entry's records, the full module's fetch) is delivered.
    await window.__sdk.flush();
    window.__kept = 0;
    // The browser checks the quota when the transaction commits, after the outbox's requests
    // were made: it aborts the transaction, and those requests fail.
    const add = IDBObjectStore.prototype.add;
    IDBObjectStore.prototype.add = function () {
      const request = add.apply(this, arguments);
      const tx = this.transaction;
      window.__kept++;
      queueMicrotask(() => tx.abort());
      return request;
    };
  }, collector.otlp);
  await context.setOffline(true);
  const outcome = await page.evaluate(async () => {
    const before = window.__sdk.diagnostics().exportsFailed;
    window.__sdk.startSpan('made offline, with a full disk').end();
    await window.__sdk.flush();
    const deadline = Date.now() + 10_000;
    while (window.__sdk.diagnostics().exportsFailed === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    return { failed: window.__sdk.diagnostics().exportsFailed - before, kept: window.__kept };
  });
  assert.equal(outcome.kept, 1, 'the batch went to the outbox');
  assert.equal(outcome.failed, 1, 'the lost batch is counted');
  await context.close();
});

test("the outbox stores no export header (an authorization): a stored batch is sent with the current config's headers", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const sent = [];
  page.on('request', (r) => r.url().startsWith(collector.otlp) && r.method() === 'POST' && sent.push(r.headers()));
  await page.goto(site.url);
  await sdkReady(page);
  const config = { serviceName: 'outbox-headers-page', endpoint: collector.otlp, scheduleDelayMillis: 0, documentLoad: false, longTasks: false, webVitals: false };
  await page.evaluate(async (config) => {
    window.__sdk = await import('/sdk/full.js');
    window.__sdk.init({ ...config, headers: { authorization: 'Bearer CANARYOUTBOX1', 'x-tenant': 'CANARYOUTBOX2' } });
  }, config);
  await context.setOffline(true);
  const traceId = await page.evaluate(async () => {
    const span = window.__sdk.startSpan('made offline');
    span.end();
    await window.__sdk.flush();
    return span.spanContext().traceId;
  });
  const stored = await page.evaluate(async () => {
    const read = () =>
      new Promise((resolve) => {
        const open = indexedDB.open('edgescope');
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('outbox')) return db.close(), resolve([]);
          const request = db.transaction('outbox').objectStore('outbox').getAll();
          request.onsuccess = () => (db.close(), resolve(request.result));
          request.onerror = () => (db.close(), resolve([]));
        };
        open.onerror = () => resolve([]);
      });
    const deadline = Date.now() + 10_000;
    let all = await read();
    while (!all.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      all = await read();
    }
    return all.map((b) => ({ url: b.url, headers: b.headers }));
  });
  assert.ok(stored.length >= 1, 'the batch waits in IndexedDB');
  assert.ok(!JSON.stringify(stored).includes('CANARYOUTBOX'), `no configured header is stored: ${JSON.stringify(stored)}`);
  assert.ok(stored.every((b) => b.headers['content-type'] === 'application/x-protobuf'), 'what the body is stays with it');
  // A token refreshed meanwhile: the batch goes with the current one.
  await page.evaluate((config) => window.__sdk.init({ ...config, headers: { authorization: 'Bearer fresh' } }), config);
  sent.length = 0;
  await context.setOffline(false);
  await waitFor('the offline span', async () => (await traceSpans(collector, traceId).catch(() => [])).length > 0);
  assert.ok(sent.length >= 1 && sent.every((h) => h.authorization === 'Bearer fresh' && !h['x-tenant']), JSON.stringify(sent));
  await context.close();
});
