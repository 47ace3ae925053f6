// Page hide in headless Chromium: spans ended just before the page goes away (`pagehide`: a
// navigation) or is hidden (`visibilitychange` to hidden) reach the collector through a
// keepalive request, without waiting for the export timer, and no entry ever listens for
// `unload` or `beforeunload` (either keeps the page out of the back/forward cache).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBrowserStack, traceSpans, waitFor } from '../support.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
});

after(() => stack?.stop());

/** Records every listener the page adds, and the exports with their `keepalive`, from before any script runs. */
function spy() {
  window.__listeners = [];
  const add = EventTarget.prototype.addEventListener;
  EventTarget.prototype.addEventListener = function (type) {
    const on = this === window ? 'window' : this === document ? 'document' : 'other';
    window.__listeners.push(`${on}:${type}`);
    return add.apply(this, arguments);
  };
}

async function openPage(entry, serviceName) {
  const page = await browser.newPage();
  await page.addInitScript(spy);
  await page.goto(`${site.url}/blank`);
  await page.evaluate(
    async ({ entry, otlp, serviceName }) => {
      window.__sdk = await import(`/sdk/${entry}.js`);
      window.__exports = [];
      const hostFetch = fetch;
      window.__sdk.init({
        serviceName,
        endpoint: otlp,
        // Far beyond the test: only the page-hide flush can send what ends below.
        scheduleDelayMillis: 600000,
        documentLoad: false,
        fetch: (url, init) => (window.__exports.push({ url: String(url), keepalive: init.keepalive }), hostFetch(url, init)),
      });
    },
    { entry, otlp: collector.otlp, serviceName },
  );
  return page;
}

/** Ends a span (and logs a record) on the page; resolves to the span's trace id. */
function endSpan(page, name) {
  return page.evaluate((name) => {
    const span = window.__sdk.startSpan(name);
    span.end();
    window.__sdk.logger.warn(`${name} (log)`);
    return span.spanContext().traceId;
  }, name);
}

for (const entry of ['browser', 'full']) {
  test(`${entry} entry: visibilitychange to hidden flushes with keepalive`, async () => {
    const page = await openPage(entry, `hide-${entry}`);
    const traceId = await endSpan(page, 'before hidden');
    const exports = await page.evaluate(async () => {
      // A visible page's visibilitychange sends nothing.
      document.dispatchEvent(new Event('visibilitychange'));
      const whileVisible = window.__exports.length;
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
      return { whileVisible, hidden: window.__exports };
    });
    assert.equal(exports.whileVisible, 0, 'nothing sent while the page is visible');
    for (const signal of ['traces', 'logs']) {
      const sent = exports.hidden.filter((e) => e.url.endsWith(`/v1/${signal}`));
      assert.ok(sent.length >= 1 && sent.every((e) => e.keepalive === true), `${signal}: ${JSON.stringify(exports.hidden)}`);
    }
    const spans = await waitFor('the span flushed on hide', () => traceSpans(collector, traceId).catch(() => undefined));
    assert.deepEqual(spans.map((s) => s.name), ['before hidden']);
    const listeners = await page.evaluate(() => window.__listeners);
    assert.ok(listeners.includes('document:visibilitychange') && listeners.includes('window:pagehide'), listeners.join());
    assert.deepEqual(listeners.filter((l) => /:(before)?unload$/.test(l)), [], 'no unload listener');
    assert.equal(await page.evaluate(() => window.onunload ?? window.onbeforeunload), null);
    await page.close();
  });

  test(`${entry} entry: pagehide alone (the page still visible, as browsers that skip visibilitychange) flushes with keepalive`, async () => {
    const page = await openPage(entry, `pagehide-${entry}`);
    const traceId = await endSpan(page, 'before pagehide');
    const exports = await page.evaluate(() => {
      window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }));
      return window.__exports;
    });
    for (const signal of ['traces', 'logs']) {
      const sent = exports.filter((e) => e.url.endsWith(`/v1/${signal}`));
      assert.ok(sent.length >= 1 && sent.every((e) => e.keepalive === true), `${signal}: ${JSON.stringify(exports)}`);
    }
    const spans = await waitFor('the span flushed on pagehide', () => traceSpans(collector, traceId).catch(() => undefined));
    assert.deepEqual(spans.map((s) => s.name), ['before pagehide']);
    await page.close();
  });

  test(`${entry} entry: navigating away delivers what ended just before`, async () => {
    const page = await openPage(entry, `navigate-${entry}`);
    const traceId = await endSpan(page, 'before navigating away');
    const { listeners, exported } = await page.evaluate(() => ({ listeners: window.__listeners, exported: window.__exports.length }));
    assert.equal(exported, 0, 'nothing exported before the page goes away');
    assert.deepEqual(listeners.filter((l) => /:(before)?unload$/.test(l)), [], 'no unload listener');
    await page.goto('about:blank');
    const spans = await waitFor('the span flushed as the page went away', () => traceSpans(collector, traceId).catch(() => undefined));
    assert.deepEqual(spans.map((s) => s.name), ['before navigating away']);
    await page.close();
  });
}

test('full entry: pagehide alone reports the web vitals too, once, as web-vitals does', async () => {
  const page = await browser.newPage();
  await page.goto(`${site.url}/blank`);
  const bodies = await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/full.js');
    const bodies = [];
    const hostFetch = fetch;
    sdk.init({
      serviceName: 'vitals-pagehide',
      endpoint: otlp,
      scheduleDelayMillis: 600000,
      documentLoad: false,
      protocol: 'http/json',
      fetch: (url, init) => (String(url).endsWith('/v1/logs') && bodies.push(new TextDecoder().decode(init.body)), hostFetch(url, init)),
    });
    await new Promise((r) => setTimeout(r, 100));
    window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }));
    const onPagehide = [...bodies];
    // A later visibilitychange to hidden reports nothing again.
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
    await new Promise((r) => setTimeout(r, 100));
    return { onPagehide, all: bodies };
  }, collector.otlp);
  const names = (bodies) => bodies
    .flatMap((b) => JSON.parse(b).resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)))
    .filter((l) => l.eventName === 'browser.web_vital')
    .map((l) => l.attributes.find((a) => a.key === 'name').value.stringValue);
  assert.ok(names(bodies.onPagehide).includes('TTFB'), `web vitals reported on pagehide: ${names(bodies.onPagehide).join()}`);
  const all = names(bodies.all);
  assert.equal(new Set(all).size, all.length, `each once: ${all.join()}`);
  await page.close();
});

test('full entry: hidden with more queued than the keepalive budget, log records and web vitals go first and the rest follows without new telemetry', async () => {
  const page = await browser.newPage();
  await page.goto(`${site.url}/blank`);
  const { traceId, first } = await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/full.js');
    window.__sent = [];
    const hostFetch = fetch;
    sdk.init({
      serviceName: 'hide-backlog',
      endpoint: otlp,
      scheduleDelayMillis: 600000,
      documentLoad: false,
      protocol: 'http/json',
      compression: 'none',
      fetch: (url, init) => (window.__sent.push({ url: String(url), keepalive: init.keepalive, body: new TextDecoder().decode(init.body) }), hostFetch(url, init)),
    });
    await new Promise((r) => setTimeout(r, 100));
    // About 120 KB of spans: twice what keepalive requests may carry at once.
    const root = sdk.startSpan('root');
    for (let i = 0; i < 400; i++) sdk.startSpan(`child ${i}`, { parent: root, attributes: { pad: 'p'.repeat(200) } }).end();
    root.end();
    sdk.logger.error('checkout failed just before the tab switch');
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
    // What the hide event sent at once: a page going away sends nothing later.
    return { traceId: root.spanContext().traceId, first: window.__sent.map(({ url, keepalive, body }) => ({ url, keepalive, body })) };
  }, collector.otlp);
  const records = first
    .filter((e) => e.url.endsWith('/v1/logs'))
    .flatMap((e) => JSON.parse(e.body).resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)));
  const said = records.map((r) => (r.eventName === 'browser.web_vital' ? r.attributes.find((a) => a.key === 'name').value.stringValue : r.body.stringValue));
  assert.ok(said.includes('checkout failed just before the tab switch'), `the error went at once: ${said.join()}`);
  assert.ok(said.includes('TTFB') && said.includes('CLS'), `the web vitals went at once: ${said.join()}`);
  assert.ok(first.every((e) => e.keepalive === true), 'all with keepalive');
  const atOnce = first.filter((e) => e.url.endsWith('/v1/traces')).reduce((n, e) => n + e.body.length, 0);
  assert.ok(atOnce < 64 * 1024, `within the keepalive budget: ${atOnce} B`);
  // The tab lives on and records nothing more: the rest still leaves.
  const spans = await waitFor('every span of the backlog', async () => {
    const got = await traceSpans(collector, traceId).catch(() => []);
    return got.length === 401 ? got : undefined;
  });
  assert.equal(spans.length, 401);
  await page.close();
});
