// `traceparent`, `tracestate` and `baggage` on instrumented fetch and XHR in headless Chromium:
// sent to the page's own origin and to origins `propagateTraceHeaderCorsUrls` allows, never to
// another origin (which would see a CORS preflight it did not ask for, and the page's baggage).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sdkReady, startBrowserStack } from '../support.mjs';

let stack, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ site, browser } = stack);
});

after(() => stack?.stop());

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const REMOTE = `00-${TRACE}-00f067aa0ba902b7-01`;
const TRACESTATE = 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7';
const ALLOWED = 'http://allowed.test';
const OTHER = 'http://other.test';
const ALLOWED_LOOKALIKE = 'http://allowed.test.evil.test';

test('trace headers and baggage go to same-origin and allowed origins only, from fetch and XHR', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const received = [];
  // Other origins, answered here (with CORS) so that no request leaves the machine.
  for (const origin of [ALLOWED, OTHER, ALLOWED_LOOKALIKE]) {
    await page.route(`${origin}/**`, async (route) => {
      const request = route.request();
      const cors = {
        'access-control-allow-origin': '*',
        'access-control-allow-headers': 'traceparent, tracestate, baggage, x-app',
        'access-control-allow-methods': 'GET, POST',
      };
      if (request.method() !== 'OPTIONS') received.push({ url: request.url(), headers: await request.allHeaders() });
      await route.fulfill({ status: 200, headers: { ...cors, 'content-type': 'text/plain' }, body: 'ok' });
    });
  }
  await page.route(`${site.url}/api/echo*`, async (route) => {
    received.push({ url: route.request().url(), headers: await route.request().allHeaders() });
    await route.fulfill({ status: 200, contentType: 'text/plain', body: 'ok' });
  });
  await page.goto(site.url);
  await sdkReady(page);
  const traceIds = await page.evaluate(
    async ({ remote, tracestate, allowed, other, lookalike }) => {
      const sdk = await import('/sdk/browser.js');
      sdk.init({ serviceName: 'headers-page', endpoint: '/nowhere', scheduleDelayMillis: 60000, propagateTraceHeaderCorsUrls: [allowed] });
      sdk.setBaggage('tenant', 'acme corp');
      const parent = sdk.extract({ traceparent: remote, tracestate });
      const xhr = (url) =>
        new Promise((resolve) => {
          const r = new XMLHttpRequest();
          r.open('GET', url);
          r.setRequestHeader('x-app', '1');
          r.onloadend = resolve;
          r.send();
        });
      const urls = ['/api/echo', `${allowed}/api`, `${other}/api`, `${lookalike}/api`];
      const ids = [];
      await sdk.startActiveSpan('remote child', { parent }, async (span) => {
        ids.push(span.spanContext().traceId);
        // Started synchronously, while the span is active.
        const requests = [];
        for (const url of urls) requests.push(fetch(`${url}?via=fetch`, { headers: { 'x-app': '1' } }));
        for (const url of urls) requests.push(xhr(`${url}?via=xhr`));
        await Promise.all(requests);
      });
      return ids;
    },
    { remote: REMOTE, tracestate: TRACESTATE, allowed: ALLOWED, other: OTHER, lookalike: ALLOWED_LOOKALIKE },
  );
  assert.deepEqual(traceIds, [TRACE], 'the span continues the remote trace');
  const find = (prefix, via) => {
    const r = received.find((r) => r.url.startsWith(prefix) && r.url.endsWith(`via=${via}`));
    assert.ok(r, `${prefix} received the ${via} request`);
    return r.headers;
  };
  for (const via of ['fetch', 'xhr']) {
    for (const prefix of [`${site.url}/api/echo`, `${ALLOWED}/api`]) {
      const h = find(prefix, via);
      assert.match(h.traceparent ?? '', new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`), `${via} to ${prefix}: traceparent`);
      assert.notEqual(h.traceparent, REMOTE, 'the request span\'s own id, not the remote parent\'s');
      assert.equal(h.tracestate, TRACESTATE, `${via} to ${prefix}: tracestate`);
      assert.equal(h.baggage, 'tenant=acme%20corp', `${via} to ${prefix}: baggage`);
      assert.equal(h['x-app'], '1', 'the page\'s own header is kept');
    }
    for (const prefix of [`${OTHER}/api`, `${ALLOWED_LOOKALIKE}/api`]) {
      const h = find(prefix, via);
      for (const name of ['traceparent', 'tracestate', 'baggage']) assert.equal(h[name], undefined, `${via} to ${prefix}: no ${name}`);
      assert.equal(h['x-app'], '1');
    }
  }
  await context.close();
});

test("a trace header the page set itself goes out as the page set it, once, from fetch and XHR", async () => {
  // XHR joins a header set twice ("a, b"): a traceparent the page set and the SDK's would reach
  // the server as one invalid value. The page's own header wins; our tracestate, which belongs
  // to our traceparent, is left out with it; a reused XHR gets ours again after `open`.
  const OWN = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`;
  const context = await browser.newContext();
  const page = await context.newPage();
  const received = [];
  await page.route(`${site.url}/api/echo*`, async (route) => {
    received.push({ url: route.request().url(), headers: await route.request().allHeaders() });
    await route.fulfill({ status: 200, contentType: 'text/plain', body: 'ok' });
  });
  await page.goto(site.url);
  await sdkReady(page);
  await page.evaluate(
    async ({ own, remote, tracestate }) => {
      const sdk = await import('/sdk/browser.js');
      sdk.init({ serviceName: 'own-headers-page', endpoint: '/nowhere', scheduleDelayMillis: 60000 });
      sdk.setBaggage('tenant', 'acme');
      const parent = sdk.extract({ traceparent: remote, tracestate });
      const send = (r, url, headers) =>
        new Promise((resolve) => {
          r.open('GET', url);
          for (const [name, value] of Object.entries(headers)) r.setRequestHeader(name, value);
          r.onloadend = resolve;
          r.send();
        });
      await sdk.startActiveSpan('page headers', { parent }, async () => {
        // Started synchronously, while the span is active; the XHR used again after its `load`.
        const r = new XMLHttpRequest();
        await Promise.all([
          send(r, '/api/echo?via=xhr&own=traceparent', { TraceParent: own }).then(() => send(r, '/api/echo?via=xhr&own=none', {})),
          send(new XMLHttpRequest(), '/api/echo?via=xhr&own=baggage', { baggage: 'page=1' }),
          fetch('/api/echo?via=fetch&own=traceparent', { headers: { TraceParent: own } }),
          fetch(new Request('/api/echo?via=fetch&own=baggage', { headers: { baggage: 'page=1' } })),
        ]);
      });
    },
    { own: OWN, remote: REMOTE, tracestate: TRACESTATE },
  );
  const sent = (via, own) => {
    const r = received.find((r) => r.url.endsWith(`via=${via}&own=${own}`));
    assert.ok(r, `the ${via} request with its own ${own} arrived`);
    return r.headers;
  };
  const ours = new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`);
  for (const via of ['xhr', 'fetch']) {
    let h = sent(via, 'traceparent');
    assert.equal(h.traceparent, OWN, `${via}: the page's traceparent, alone`);
    assert.equal(h.tracestate, undefined, `${via}: no tracestate of ours beside the page's traceparent`);
    assert.equal(h.baggage, 'tenant=acme', `${via}: our baggage is added`);
    h = sent(via, 'baggage');
    assert.match(h.traceparent ?? '', ours, `${via}: our traceparent`);
    assert.equal(h.tracestate, TRACESTATE);
    assert.equal(h.baggage, 'page=1', `${via}: the page's baggage, alone`);
  }
  const h = sent('xhr', 'none');
  assert.match(h.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-9a-f]$/, 'the reopened XHR gets our traceparent again, alone');
  assert.equal(h.baggage, 'tenant=acme');
  await context.close();
});

test('a request to another origin gets no CORS preflight it did not ask for', async () => {
  // The test site again, as another origin (localhost instead of 127.0.0.1): it records every
  // request it gets, preflights (OPTIONS) too, which the browser hides from the page.
  const other = site.url.replace('127.0.0.1', 'localhost');
  const page = await browser.newPage();
  await page.goto(site.url);
  await sdkReady(page);
  const before = site.seen.length;
  await page.evaluate(async (other) => {
    const sdk = await import('/sdk/browser.js');
    sdk.setBaggage('tenant', 'acme');
    await sdk.startActiveSpan('cross-origin calls', async () => {
      const calls = [
        // The site sends no CORS headers: the page cannot read the answers, but the requests go.
        fetch(`${other}/api/hello?via=fetch`).catch(() => {}),
        new Promise((resolve) => {
          const r = new XMLHttpRequest();
          r.open('GET', `${other}/api/hello?via=xhr`);
          r.onloadend = resolve;
          r.send();
        }),
      ];
      await Promise.all(calls);
    });
  }, other);
  const got = site.seen.slice(before);
  assert.deepEqual(
    got.map((r) => [r.method, r.traceparent]),
    [
      ['GET', null],
      ['GET', null],
    ],
    'two plain GETs, no OPTIONS, no traceparent',
  );
  await page.close();
});
