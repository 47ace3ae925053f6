// Browser sessions in headless Chromium: `session.id` on every span and record, kept across a
// reload of the tab, rotated after 15 minutes of inactivity; `setUser` adds `user.id`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { sdkReady, serviceSpans, startBrowserStack, waitFor } from '../support.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
});

after(() => stack?.stop());

async function ready(page) {
  await sdkReady(page);
}

/** Makes a span and a log record on the page and returns the session id the SDK reports. */
function activity(page, name) {
  return page.evaluate(async (name) => {
    const sdk = await import('/sdk/browser.js');
    sdk.startSpan(name).end();
    sdk.logger.info(name);
    await sdk.flush();
    return sdk.sessionId();
  }, name);
}

/** The bodies of `page`'s export requests, unzipped, as they are sent. */
function exportBodies(page) {
  const bodies = [];
  page.on('request', (r) => {
    if (r.url().startsWith(collector.otlp)) {
      const b = r.postDataBuffer();
      bodies.push((r.headers()['content-encoding'] === 'gzip' ? gunzipSync(b) : b).toString('latin1'));
    }
  });
  return bodies;
}

test('one session id per tab across reloads, a new one after 15 idle minutes, and user.id once set', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const bodies = exportBodies(page);
  await page.goto(site.url);
  await ready(page);
  const first = await activity(page, 'first-activity');
  assert.match(first, /^[0-9a-f]{32}$/);

  await page.reload();
  await ready(page);
  assert.equal(await activity(page, 'after-reload'), first, 'the tab keeps its session');

  // Pretend the last activity was 16 minutes ago.
  await page.evaluate(() => {
    const s = JSON.parse(sessionStorage.getItem('edgescope.session'));
    s.last -= 16 * 60 * 1000;
    sessionStorage.setItem('edgescope.session', JSON.stringify(s));
  });
  await page.reload();
  await ready(page);
  const rotated = await activity(page, 'after-idle');
  assert.notEqual(rotated, first, 'a new session after 15 idle minutes');

  await page.evaluate(async () => (await import('/sdk/browser.js')).setUser('user-42'));
  await activity(page, 'with-user');
  const all = bodies.join('\n');
  assert.ok(all.includes(first) && all.includes(rotated), 'both session ids were exported');
  assert.ok(all.includes('user-42'), 'user.id was exported');
  await context.close();
});

test('where storage throws (a sandboxed frame, storage blocked) the session lives in memory and nothing throws', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.addInitScript(() => {
    for (const name of ['sessionStorage', 'localStorage']) {
      Object.defineProperty(window, name, {
        get() {
          throw new DOMException('The document is sandboxed', 'SecurityError');
        },
      });
    }
  });
  await page.goto(site.url);
  await ready(page);
  const first = await activity(page, 'without storage');
  const outcome = await page.evaluate(async () => {
    const sdk = await import('/sdk/browser.js');
    return { again: sdk.sessionId(), diagnostics: sdk.diagnostics() };
  });
  assert.match(first, /^[0-9a-f]{32}$/);
  assert.equal(outcome.again, first, 'the same session for the page');
  assert.equal(outcome.diagnostics.apiErrors, 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test('with sessions: false, sessionId() is undefined and stores nothing, and no record has session.id', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const bodies = exportBodies(page);
  // A page that does not initialise the SDK itself.
  await page.goto(`${site.url}/blank`);
  const outcome = await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/browser.js');
    sdk.init({ serviceName: 'no-sessions', endpoint: otlp, scheduleDelayMillis: 0, sessions: false });
    const before = sdk.sessionId();
    sdk.startSpan('without-session').end();
    sdk.logger.info('without-session');
    await sdk.flush();
    return { before, after: sdk.sessionId(), stored: Object.keys(sessionStorage), diagnostics: sdk.diagnostics() };
  }, collector.otlp);
  assert.equal(outcome.before, undefined, 'no session before any activity');
  assert.equal(outcome.after, undefined, 'nor after it');
  assert.deepEqual(outcome.stored, [], 'nothing in sessionStorage');
  assert.equal(outcome.diagnostics.apiErrors, 0);
  const all = bodies.join('\n');
  assert.ok(all.includes('without-session'), 'the span and record were exported');
  assert.ok(!all.includes('session.id'), 'without session.id');
  await context.close();
});

test("a module Web Worker given the page's sessionId() joins the tab's session; without it, it has its own", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(site.url);
  await ready(page);
  const tab = await activity(page, 'tab-activity');
  const run = (sessionId, name) =>
    page.evaluate(async ({ otlp, sessionId, name }) => {
      const source = `
        const sdk = await import('${location.origin}/sdk/full.js');
        sdk.init({ serviceName: '${name}', endpoint: '${otlp}', scheduleDelayMillis: 0${sessionId ? `, sessionId: '${sessionId}'` : ''} });
        sdk.startSpan('in the worker').end();
        await sdk.flush();
        postMessage(sdk.sessionId());`;
      const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })), { type: 'module' });
      return new Promise((resolve) => {
        worker.onmessage = (m) => resolve(m.data);
        worker.onerror = (e) => resolve(`error event: ${e.message}`);
      });
    }, { otlp: collector.otlp, sessionId, name });
  assert.equal(await run(tab, 'worker-joined'), tab, "the worker reports the tab's session");
  const own = await run(undefined, 'worker-alone');
  assert.match(own, /^[0-9a-f]{32}$/);
  assert.notEqual(own, tab, 'a worker without it has a session of its own (no sessionStorage to share)');
  const sessionOf = async (service) => {
    const spans = await waitFor(`${service}'s span`, async () => {
      const s = await serviceSpans(collector, service);
      return s.length >= 1 && s;
    });
    return spans[0].resource?.attributes?.find?.((a) => a.key === 'session.id')?.value.stringValue
      ?? spans[0].attributes.find((a) => a.key === 'session.id')?.value.stringValue;
  };
  assert.equal(await sessionOf('worker-joined'), tab, "the worker's span carries the tab's session.id");
  assert.equal(await sessionOf('worker-alone'), own);
  await context.close();
});
