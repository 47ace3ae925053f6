// Request spans in cases real pages have: a second `init` after another library wrapped fetch or
// the console never traces or records a call twice; with the collector at the page's origin only
// the exporter's exact URLs (/v1/traces, /v1/logs) go untraced, not the app's own /v1/ API; a
// `data:` URL's span carries its scheme and media type, not its payload, and no server; one
// string for `propagateTraceHeaderCorsUrls` allows that origin.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { attr, sdkReady, serviceSpans, startBrowserStack, waitFor } from '../support.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
});

after(() => stack?.stop());

async function openPage() {
  const page = await browser.newPage();
  await page.goto(site.url);
  await sdkReady(page);
  return page;
}

/** A page of the site without the SDK yet (its fetch is the browser's own until a test's `init`). */
async function openBlank() {
  const page = await browser.newPage();
  await page.goto(`${site.url}/blank`);
  return page;
}

const clientSpans = async (service) => (await serviceSpans(collector, service)).filter((s) => s.kind === 3);

test('a second init after another library wrapped fetch traces each call once', async () => {
  const page = await openPage();
  await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/browser.js');
    sdk.init({ serviceName: 'rewrap-fetch', endpoint: otlp, scheduleDelayMillis: 0 });
    const ours = window.fetch;
    window.fetch = function wrapper() {
      return ours.apply(this, arguments);
    };
    sdk.init({ serviceName: 'rewrap-fetch', endpoint: otlp, scheduleDelayMillis: 0 });
    await (await fetch('/api/hello?once=1')).text();
    await new Promise((r) => setTimeout(r, 400));
    sdk.startSpan('done').end();
    await sdk.flush();
  }, collector.otlp);
  await waitFor('the done span', async () => (await serviceSpans(collector, 'rewrap-fetch')).some((s) => s.name === 'done'));
  const calls = (await clientSpans('rewrap-fetch')).filter((s) => attr(s, 'url.full').includes('once=1'));
  assert.equal(calls.length, 1, JSON.stringify(calls.map((s) => s.traceId)));
  await page.close();
});

test('a second init after another library wrapped console.log records each call once', async () => {
  const page = await openBlank();
  // The records as exported (the collector may fold identical ones together).
  const bodies = await page.evaluate(async () => {
    const sdk = await import('/sdk/full.js');
    const bodies = [];
    const sink = async (url, request) => {
      if (url.endsWith('/v1/logs')) for (const rl of JSON.parse(new TextDecoder().decode(request.body)).resourceLogs) for (const sl of rl.scopeLogs) bodies.push(...sl.logRecords.map((r) => r.body.stringValue));
      return new Response(null, { status: 200 });
    };
    const config = { serviceName: 'rewrap-console', fetch: sink, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 0, captureConsole: true };
    sdk.init(config);
    const ours = console.log;
    console.log = function wrapper() {
      return ours.apply(this, arguments);
    };
    sdk.init(config);
    console.log('said once');
    await sdk.flush();
    return bodies;
  });
  assert.deepEqual(bodies.filter((b) => b === 'said once'), ['said once'], JSON.stringify(bodies));
  await page.close();
});

test("with the collector at the page's origin, the app's own /v1/ requests are traced and the exports are not", async () => {
  const page = await openBlank();
  const paths = await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/browser.js');
    const native = window.fetch;
    const paths = [];
    // The collector proxied at the page's origin: exports to location.origin/v1/... reach it.
    const exportFetch = (url, request) => {
      paths.push(new URL(url).pathname);
      return native(url.replace(location.origin, otlp), request);
    };
    sdk.init({ serviceName: 'v1-api', endpoint: location.origin, fetch: exportFetch, scheduleDelayMillis: 0 });
    await fetch('/v1/users').then((r) => r.text());
    await new Promise((r) => setTimeout(r, 400));
    sdk.startSpan('done').end();
    await sdk.flush();
    return paths;
  }, collector.otlp);
  assert.ok(paths.includes('/v1/traces'), JSON.stringify(paths));
  await waitFor('the done span', async () => (await serviceSpans(collector, 'v1-api')).some((s) => s.name === 'done'));
  const urls = (await clientSpans('v1-api')).map((s) => new URL(attr(s, 'url.full')).pathname);
  assert.deepEqual(urls, ['/v1/users']);
  await page.close();
});

test("a data: URL's span has its scheme and media type, without the payload or a server", async () => {
  const page = await openPage();
  await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/browser.js');
    sdk.init({ serviceName: 'data-url', endpoint: otlp, scheduleDelayMillis: 0 });
    await (await fetch(`data:text/plain;base64,${btoa('payload '.repeat(1000))}`)).text();
    await new Promise((r) => setTimeout(r, 400));
    sdk.startSpan('done').end();
    await sdk.flush();
  }, collector.otlp);
  await waitFor('the done span', async () => (await serviceSpans(collector, 'data-url')).some((s) => s.name === 'done'));
  const [span] = await clientSpans('data-url');
  assert.equal(attr(span, 'url.full'), 'data:text/plain;base64,…');
  assert.equal(attr(span, 'server.address'), undefined);
  assert.equal(attr(span, 'server.port'), undefined);
  await page.close();
});

test('one string or RegExp for propagateTraceHeaderCorsUrls lets that origin have trace headers', async () => {
  // Its fetch (under the SDK's) records what each request carries.
  const page = await openBlank();
  const sent = await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/browser.js');
    const sent = [];
    const network = window.fetch;
    window.fetch = (input, init) => {
      sent.push(new Headers(init && init.headers).get('traceparent'));
      return Promise.resolve(new Response('{}'));
    };
    for (const rule of ['https://api.example.test', /^https:\/\/api\.example\.test\//]) {
      sdk.init({ serviceName: 'propagate-one', endpoint: otlp, scheduleDelayMillis: 0, propagateTraceHeaderCorsUrls: rule, fetch: network });
      await fetch('https://api.example.test/items');
    }
    return { sent, apiErrors: sdk.diagnostics().apiErrors };
  }, collector.otlp);
  assert.equal(sent.sent.length, 2);
  for (const tp of sent.sent) assert.match(tp ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);
  assert.equal(sent.apiErrors, 0);
  await page.close();
});
