// Browser instrumentation beyond fetch, in headless Chromium: XMLHttpRequest client spans with
// trace headers for the page's origin only, each ending with its request's own outcome even when
// the page retries on the same object from the handler of that outcome, and uncaught errors /
// unhandled rejections as ERROR log records with exception attributes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite } from './fixture/server.mjs';
import { attr, getJson, launchChromium, serviceSpans, startCollector, traceSpans, waitFor } from '../support.mjs';

let collector, site, browser;

before(async () => {
  collector = await startCollector();
  site = await startTestSite({ otlp: collector.otlp });
  browser = await launchChromium();
});

/** The test page, once its SDK is initialised (the wasm instantiates after the load event). */
async function testPage() {
  const page = await browser.newPage();
  await page.goto(site.url);
  await page.waitForFunction(() => XMLHttpRequest.prototype.open.__edgescope === true);
  return page;
}

after(async () => {
  await browser?.close();
  site?.server.close();
  await collector?.stop();
});

function xhr(page, url) {
  return page.evaluate(
    (url) =>
      new Promise((resolve) => {
        const r = new XMLHttpRequest();
        r.open('GET', url);
        r.onloadend = () => resolve(r.status);
        r.send();
      }),
    url,
  );
}

test('XMLHttpRequest gets a client span and traceparent on the same origin only', async () => {
  const page = await testPage();
  const before = (await getJson(`${site.url}/api/seen`)).length;
  assert.equal(await xhr(page, '/api/hello'), 200);
  assert.equal(await xhr(page, site.url.replace('127.0.0.1', 'localhost') + '/api/hello'), 0, 'CORS refuses the answer');
  const seen = (await getJson(`${site.url}/api/seen`)).slice(before);
  assert.equal(seen.length, 2);
  assert.match(seen[0].traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-03$/);
  assert.equal(seen[1].traceparent, null, 'no header, so no preflight, for the other origin');
  assert.equal(seen[1].method, 'GET');
  const [, traceId, spanId] = seen[0].traceparent.split('-');
  await page.evaluate(async () => (await import('/sdk/browser.js')).flush());
  const spans = await waitFor('the XHR span', async () => {
    const s = await traceSpans(collector, traceId).catch(() => []);
    return s.length === 1 && s;
  });
  assert.equal(spans[0].spanId, spanId);
  assert.equal(spans[0].kind, 3);
  assert.equal(attr(spans[0], 'http.response.status_code'), '200');
  assert.equal(attr(spans[0], 'url.full'), `${site.url}/api/hello`);
});

test('an XMLHttpRequest retried from its own timeout, abort or error handler ends its span with that outcome', async () => {
  const page = await testPage();
  // A slow answer, for requests cut short while under way.
  await page.route((url) => url.pathname === '/api/slow', (route) => setTimeout(() => route.fulfill({ status: 200, body: 'late' }).catch(() => {}), 1500));
  await page.evaluate(
    async ({ otlp, other }) => {
      const sdk = await import('/sdk/browser.js');
      sdk.init({ serviceName: 'xhr-retry', endpoint: otlp, scheduleDelayMillis: 0 });
      // Opens `first`, and when `event` ends it, opens `retry` on the same object from the
      // handler, before any listener of ours has had its say unless it ran first.
      const retried = (event, first, retry, { listen = (r, f) => (r['on' + event] = f), start = () => {} } = {}) =>
        new Promise((resolve) => {
          const r = new XMLHttpRequest();
          listen(r, () => {
            r.open('GET', retry);
            r.timeout = 0;
            r.onload = resolve;
            r.send();
          });
          r.open('GET', first);
          if (event === 'timeout') r.timeout = 100;
          r.send();
          start(r);
        });
      await retried('timeout', '/api/slow?n=1', '/api/hello?n=2');
      await retried('abort', '/api/slow?n=3', '/api/hello?n=4', { start: (r) => setTimeout(() => r.abort(), 50) });
      await retried('error', `${other}/api/hello?n=5`, '/api/hello?n=6');
      // The page's own capture listener, added before ours, runs first.
      await retried('timeout', '/api/slow?n=7', '/api/hello?n=8', { listen: (r, f) => r.addEventListener('timeout', f, true) });
      await sdk.flush();
    },
    { otlp: collector.otlp, other: site.url.replace('127.0.0.1', 'localhost') },
  );
  const spans = await waitFor('eight XHR spans', async () => {
    await page.evaluate(async () => (await import('/sdk/browser.js')).flush());
    const s = (await serviceSpans(collector, 'xhr-retry')).filter((x) => x.kind === 3);
    return s.length >= 8 && s;
  });
  const summary = Object.fromEntries(
    spans.map((s) => [new URL(attr(s, 'url.full')).searchParams.get('n'), [attr(s, 'http.response.status_code'), attr(s, 'error.type'), s.status?.code ?? 0]]),
  );
  assert.deepEqual(summary, {
    1: [undefined, 'timeout', 2],
    2: ['200', undefined, 0],
    3: [undefined, undefined, 0],
    4: ['200', undefined, 0],
    5: [undefined, 'error', 2],
    6: ['200', undefined, 0],
    7: [undefined, 'timeout', 2],
    8: ['200', undefined, 0],
  }, 'timed out: an error of type timeout; aborted: no error; failed: an error of type error; each retry its own span');
  await page.close();
});

test('an uncaught error and an unhandled rejection become ERROR log records', async () => {
  const page = await testPage();
  await page.evaluate(async () => {
    setTimeout(() => {
      throw new TypeError('kaboom in a timer');
    });
    Promise.reject(new RangeError('nobody caught this'));
    await new Promise((r) => setTimeout(r, 100));
    await (await import('/sdk/browser.js')).flush();
  });
  const records = await waitFor('two error records', async () => {
    const doc = await getJson(`${collector.ui}/api/logs?limit=50`);
    const all = doc.result.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
    const errors = all.filter((r) => r.severityText === 'ERROR');
    return errors.length >= 2 && errors;
  });
  const timer = records.find((r) => attr(r, 'exception.type') === 'TypeError');
  const rejection = records.find((r) => attr(r, 'exception.type') === 'RangeError');
  assert.equal(attr(timer, 'exception.message'), 'kaboom in a timer');
  assert.match(attr(timer, 'exception.stacktrace'), /kaboom in a timer/);
  assert.equal(attr(timer, 'exception.source'), 'window.error');
  assert.equal(attr(rejection, 'exception.source'), 'unhandledrejection');
  assert.equal(rejection.body.stringValue, 'nobody caught this');
});

test('a cross-origin script error and a rejection with null are ERROR records of type Error', async () => {
  const page = await browser.newPage();
  const other = site.url.replace('127.0.0.1', 'localhost');
  await page.route(`${other}/thrower.js`, (route) =>
    route.fulfill({ status: 200, contentType: 'text/javascript', body: "throw new Error('detail the page may not read');" }),
  );
  await page.goto(site.url);
  await page.waitForFunction(() => XMLHttpRequest.prototype.open.__edgescope === true);
  await page.evaluate(async (src) => {
    const { init } = await import('/sdk/browser.js');
    init({ serviceName: 'opaque-errors', endpoint: (await import('/config.js')).otlpEndpoint, scheduleDelayMillis: 0 });
    await new Promise((resolve) => {
      const script = document.createElement('script');
      script.src = src;
      script.onload = script.onerror = resolve;
      document.head.append(script);
    });
    Promise.reject(null);
    await new Promise((r) => setTimeout(r, 100));
    await (await import('/sdk/browser.js')).flush();
  }, `${other}/thrower.js`);
  const records = await waitFor('two error records', async () => {
    const doc = await getJson(`${collector.ui}/api/logs?limit=200`);
    const all = doc.result.resourceLogs
      .filter((rl) => attr(rl.resource, 'service.name') === 'opaque-errors')
      .flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
    const errors = all.filter((r) => r.severityText === 'ERROR');
    return errors.length >= 2 && errors;
  });
  const script = records.find((r) => attr(r, 'exception.source') === 'window.error');
  const rejection = records.find((r) => attr(r, 'exception.source') === 'unhandledrejection');
  assert.equal(script.body.stringValue, 'Script error.', 'the browser hides the message from another origin');
  assert.equal(attr(script, 'exception.type'), 'Error');
  assert.equal(attr(rejection, 'exception.type'), 'Error');
});
