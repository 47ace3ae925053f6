// Nothing the SDK does may break the page. When its wasm is refused (a Content-Security-Policy
// without 'wasm-unsafe-eval') or cannot be fetched, the import still succeeds: the app's own
// module runs, every call does what it does with the SDK off, nothing is instrumented, and the
// SDK says why once (console.warn and `diagnostics().disabled`). When the CSP's connect-src
// refuses the collector, a batch is neither retried nor kept: it is counted as blocked by CSP.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBrowserStack, waitFor } from '../support.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
});

after(() => stack?.stop());

/**
 * Opens `/csp` under `csp` with an app module importing `entry` and using the SDK; resolves to
 * what the app saw (`null` when its module never ran) and the console's warnings and errors.
 */
async function openApp(entry, csp, { blockWasm = false, endpoint = collector.otlp } = {}) {
  const page = await browser.newPage();
  const console = [];
  page.on('console', (m) => (m.type() === 'warning' || m.type() === 'error') && console.push(m.text()));
  await page.route(`${site.url}/app.js`, (route) =>
    route.fulfill({
      contentType: 'text/javascript',
      body: `
        import * as sdk from '${entry}';
        const nativeFetch = window.fetch;
        sdk.init({ serviceName: 'strict-web', endpoint: ${JSON.stringify(endpoint)}, scheduleDelayMillis: 0, documentLoad: false, navigation: false, interactions: false, longTasks: false, webVitals: false });
        const span = sdk.startSpan('work');
        span.setAttribute('a', 1).end();
        sdk.logger.info('hello');
        const violations = [];
        window.addEventListener('securitypolicyviolation', (e) => violations.push(e.blockedURI));
        window.app = {
          fetchWrapped: window.fetch !== nativeFetch,
          recording: sdk.startSpan('other').isRecording(),
          flushed: sdk.flush().then(() => true),
          diagnostics: () => sdk.diagnostics(),
          violations,
          sdk,
        };`,
    }),
  );
  if (blockWasm) await page.route('**/*.wasm', (route) => route.abort('blockedbyclient'));
  await page.goto(`${site.url}/csp${csp ? `?policy=${encodeURIComponent(csp)}` : ''}`);
  const ran = await page.waitForFunction(() => window.app, null, { timeout: 5000 }).then(
    () => true,
    () => false,
  );
  const app = ran ? await page.evaluate(async () => ({ fetchWrapped: app.fetchWrapped, recording: app.recording, flushed: await app.flushed, diagnostics: app.diagnostics() })) : null;
  return { page, app, console };
}

for (const entry of ['/sdk/browser.js', '/sdk/full.js']) {
  for (const [why, csp, blockWasm] of [
    ["a CSP without 'wasm-unsafe-eval'", "script-src 'self'", false],
    ['a .wasm that cannot be fetched', undefined, true],
  ]) {
    test(`${entry}: with ${why} the app runs and the SDK is off, saying why once`, async () => {
      const { page, app, console } = await openApp(entry, csp, { blockWasm });
      try {
        assert.ok(app, `the app's module ran (console: ${JSON.stringify(console)})`);
        assert.equal(app.fetchWrapped, false, 'fetch is not instrumented');
        assert.equal(app.recording, false, 'spans are not recorded');
        assert.equal(app.flushed, true);
        assert.match(app.diagnostics.disabled, /WebAssembly/, JSON.stringify(app.diagnostics));
        assert.equal(app.diagnostics.apiErrors, 0);
        const said = console.filter((line) => line.includes('edgescope is off'));
        assert.equal(said.length, 1, JSON.stringify(console));
      } finally {
        await page.close();
      }
    });
  }
}

test('exports the CSP connect-src refuses are counted as blocked, neither retried nor kept', async () => {
  // The collector is another origin than connect-src 'self' allows.
  const csp = "script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'";
  const { page, app, console } = await openApp('/sdk/full.js', csp);
  try {
    assert.ok(app, JSON.stringify(console));
    assert.equal(app.diagnostics.disabled, undefined);
    assert.equal(app.diagnostics.exportsRetried, 0, JSON.stringify(app.diagnostics));
    const blocked = app.diagnostics.exportsBlockedByCsp;
    assert.ok(blocked >= 2, `the span batch and the log batch: ${blocked}`);
    // A later batch goes nowhere: no new request for the CSP to refuse.
    const later = await page.evaluate(async () => {
      const before = app.violations.length;
      app.sdk.startSpan('later').end();
      await app.sdk.flush();
      return { made: app.violations.length - before, diagnostics: app.sdk.diagnostics() };
    });
    assert.equal(later.made, 0);
    assert.equal(later.diagnostics.exportsBlockedByCsp, blocked + 1);
    assert.equal(later.diagnostics.exportsRetried, 0);
    assert.equal(console.filter((line) => line.includes('Content-Security-Policy blocks exports')).length, 1, JSON.stringify(console));
    // Nothing kept in the offline outbox for the next page load.
    const kept = await page.evaluate(
      () =>
        new Promise((resolve) => {
          const open = indexedDB.open('edgescope');
          open.onerror = () => resolve(-1);
          open.onsuccess = () => {
            const db = open.result;
            if (!db.objectStoreNames.length) return resolve(0);
            const tx = db.transaction([...db.objectStoreNames]);
            const count = tx.objectStore(db.objectStoreNames[0]).count();
            count.onsuccess = () => resolve(count.result);
            count.onerror = () => resolve(-1);
          };
        }),
    );
    assert.equal(kept, 0, 'no batch stored');
  } finally {
    await page.close();
  }
});

test("another directive's violation at the collector's origin blocks no export", async () => {
  // connect-src allows the collector; img-src does not, so an image from its origin is refused.
  const csp = "script-src 'self' 'wasm-unsafe-eval'; img-src 'self'";
  const { page, app, console } = await openApp('/sdk/full.js', csp);
  try {
    assert.ok(app, JSON.stringify(console));
    const later = await page.evaluate(async (origin) => {
      const before = app.violations.length;
      await new Promise((resolve) => {
        const img = new Image();
        img.onerror = img.onload = resolve;
        img.src = `${origin}/`;
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      app.sdk.startSpan('after the image').end();
      await app.sdk.flush();
      return { made: app.violations.length - before, diagnostics: app.sdk.diagnostics() };
    }, collector.otlp);
    assert.equal(later.made, 1, 'the image was refused');
    assert.equal(later.diagnostics.exportsBlockedByCsp, 0, JSON.stringify(later.diagnostics));
    assert.equal(later.diagnostics.exportsFailed, 0, JSON.stringify(later.diagnostics));
  } finally {
    await page.close();
  }
});

test('a batch made offline that the CSP refuses is kept, then let go and counted when it is sent again', async () => {
  // Offline, a failed export is not held up waiting for a CSP report: the outbox keeps it, and the
  // CSP refuses it when it is sent again.
  const csp = "script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'";
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.route(`${site.url}/app.js`, (route) =>
      route.fulfill({
        contentType: 'text/javascript',
        body: `
          import * as sdk from '/sdk/full.js';
          sdk.init({ serviceName: 'strict-offline', endpoint: ${JSON.stringify(collector.otlp)}, scheduleDelayMillis: 600000, documentLoad: false, navigation: false, interactions: false, longTasks: false, webVitals: false });
          window.sdk = sdk;`,
      }),
    );
    await page.goto(`${site.url}/csp?policy=${encodeURIComponent(csp)}`);
    await page.waitForFunction(() => window.sdk);
    // The outbox's drain at start (of an empty store) settles first.
    await page.waitForTimeout(200);
    await context.setOffline(true);
    const outbox = () =>
      page.evaluate(
        () =>
          new Promise((resolve) => {
            const open = indexedDB.open('edgescope');
            open.onsuccess = () => {
              const db = open.result;
              if (!db.objectStoreNames.contains('outbox')) return db.close(), resolve(0);
              const count = db.transaction('outbox').objectStore('outbox').count();
              count.onsuccess = () => (db.close(), resolve(count.result));
            };
          }),
      );
    const offline = await page.evaluate(async () => {
      sdk.startSpan('made offline').end();
      await sdk.flush();
      return sdk.diagnostics();
    });
    assert.equal(offline.exportsFailed, 0, JSON.stringify(offline));
    await waitFor('the batch in the outbox', async () => (await outbox()) === 1);
    await context.setOffline(false);
    const blocked = await page.evaluate(async (before) => {
      dispatchEvent(new Event('online'));
      const deadline = Date.now() + 5000;
      while (sdk.diagnostics().exportsBlockedByCsp === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      return sdk.diagnostics().exportsBlockedByCsp - before;
    }, offline.exportsBlockedByCsp);
    assert.equal(blocked, 1, 'the stored batch is counted as blocked by the CSP');
    assert.equal(await outbox(), 0, 'and not kept again');
  } finally {
    await context.close();
  }
});
