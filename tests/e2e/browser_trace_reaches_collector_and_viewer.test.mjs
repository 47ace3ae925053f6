// Foundation end to end: the test page (tests/e2e/fixture) in headless Chromium → the collector → the viewer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { attr, getJson, sdkReady, traceSpans, waitFor, startBrowserStack } from '../support.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
});

after(() => stack?.stop());

test('a click traces the fetch, propagates traceparent, and shows up in the viewer with its log', async () => {
  const page = await browser.newPage();
  const pageErrors = [];
  const exports = [];
  page.on('pageerror', (e) => pageErrors.push(e));
  page.on('request', (r) => {
    if (r.url().startsWith(collector.otlp) && r.method() === 'POST') exports.push({ url: r.url(), headers: r.headers() });
  });
  await page.goto(site.url);
  // The page's button listens once the SDK's wasm has loaded, which `load` does not wait for.
  await sdkReady(page);
  await page.click('#call');
  const result = JSON.parse(
    await waitFor('the result on the test page', async () => {
      const text = await page.textContent('[data-testid=result]');
      return text.startsWith('{') && text;
    }),
  );

  // The test endpoint saw a traceparent of the click's trace.
  const seen = await getJson(`${site.url}/api/seen`);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].method, 'GET');
  const [, sentTraceId, sentSpanId, flags] = seen[0].traceparent.split('-');
  assert.match(seen[0].traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);
  assert.equal(sentTraceId, result.clickTraceId);
  assert.equal(parseInt(flags, 16) & 1, 1, 'sampled');

  // The collector stored the click span and the client span with the header's span id.
  const spans = await waitFor('both spans in the collector', async () => {
    const s = await traceSpans(collector, sentTraceId);
    return s.length >= 2 && s;
  });
  const click = spans.find((s) => s.name === 'click call-test-api');
  const client = spans.find((s) => s.spanId === sentSpanId);
  assert.ok(click, 'click span stored');
  assert.ok(client, 'the exported client span is the one whose id went out in traceparent');
  assert.equal(client.service, 'test-web');
  assert.equal(client.kind, 3);
  assert.equal(client.name, 'GET');
  assert.equal(client.parentSpanId, click.spanId);
  assert.equal(attr(client, 'http.request.method'), 'GET');
  assert.equal(attr(client, 'url.full'), `${site.url}/api/hello`);
  assert.equal(attr(client, 'http.response.status_code'), '200');
  assert.ok(BigInt(client.endTimeUnixNano) >= BigInt(client.startTimeUnixNano));

  // The log record written after the answer carries the same trace and the click span.
  const logs = await waitFor('the log record in the collector', async () => {
    const doc = await getJson(`${collector.ui}/api/logs?trace_id=${sentTraceId}`);
    const records = doc.result.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
    return records.length > 0 && records;
  });
  assert.equal(logs[0].body.stringValue, 'test API answered');
  assert.equal(logs[0].spanId, click.spanId);
  assert.equal(logs[0].severityText, 'INFO');

  // Exports went out as gzipped OTLP protobuf.
  const traceExports = exports.filter((e) => e.url.endsWith('/v1/traces'));
  assert.ok(traceExports.length > 0);
  for (const e of exports) {
    assert.equal(e.headers['content-type'], 'application/x-protobuf');
    assert.equal(e.headers['content-encoding'], 'gzip');
  }

  // The viewer lists the trace, opens it as a waterfall, and shows the log on the logs page.
  const viewer = await browser.newPage();
  viewer.on('pageerror', (e) => pageErrors.push(e));
  await viewer.goto(collector.ui);
  await viewer.click(`a[href^="/trace/${sentTraceId}"]`);
  await viewer.waitForSelector('[data-testid=span-row]');
  const rows = await viewer.$$eval('[data-testid=span-row]', (els) =>
    els.map((e) => ({ name: e.querySelector('[data-testid=span-name]').textContent, depth: Number(e.dataset.depth) })),
  );
  assert.deepEqual(rows, [
    { name: 'click call-test-api', depth: 0 },
    { name: 'GET', depth: 1 },
  ]);
  assert.match(await viewer.textContent('[data-testid=trace-header]'), /test-web/);
  // The trace's log records appear under its waterfall.
  await viewer.waitForSelector('[data-testid=trace-logs] [data-testid=log-row]');
  assert.deepEqual(await viewer.$$eval('[data-testid=trace-logs] [data-testid=log-message]', (els) => els.map((e) => e.textContent)), [
    'test API answered',
  ]);

  await viewer.goto(`${collector.ui}/logs`);
  await viewer.waitForSelector('[data-testid=log-row]');
  const row = viewer.locator('[data-testid=log-row]', { hasText: 'test API answered' });
  assert.equal(await row.count(), 1);
  await row.locator('[data-testid=log-trace-link]').click();
  await viewer.waitForURL(new RegExp(`/trace/${sentTraceId}(\\?|$)`));
  await viewer.waitForSelector('[data-testid=span-row]');
  assert.equal(await viewer.locator('[data-testid=span-row]').count(), 2);

  assert.deepEqual(pageErrors, [], 'no uncaught errors in the test page or the viewer');
});

test('traceparent goes only to the page origin, and page hide delivers unexported spans', async () => {
  const page = await browser.newPage();
  await page.goto(site.url);
  // localhost is another origin than 127.0.0.1: the request must go out without traceparent,
  // so without a CORS preflight (the test API answers no CORS headers, so reading fails).
  const before = (await getJson(`${site.url}/api/seen`)).length;
  const crossOrigin = await page.evaluate(async (url) => {
    const { startSpan, withSpan, diagnostics } = await import('/sdk/browser.js');
    const span = startSpan('cross-origin check');
    const outcome = await withSpan(span, () => fetch(url).then(() => 'read', (e) => e.name));
    span.end();
    return { outcome, diagnostics: diagnostics() };
  }, site.url.replace('127.0.0.1', 'localhost') + '/api/hello');
  assert.equal(crossOrigin.outcome, 'TypeError', 'the browser refuses to share the answer');
  const seen = (await getJson(`${site.url}/api/seen`)).slice(before);
  assert.deepEqual(seen.map((r) => [r.method, r.traceparent]), [['GET', null]], 'one GET, no preflight, no header');
  assert.equal(crossOrigin.diagnostics.apiErrors, 0);

  // Export is scheduled 500 ms out; hiding the page must send it at once, uncompressed (a page
  // that is going away cannot wait for CompressionStream). The scheduled export gzips its body,
  // so a body in which the span's name reads is the hide's, however long a loaded machine takes
  // to show it (a timeout under the 500 ms left a few hundred ms of margin).
  // (The cross-origin span's scheduled export may go first, gzipped: the hide's is the one with
  // the span made before it.)
  const sent = page.waitForRequest(
    (r) => r.url() === `${collector.otlp}/v1/traces` && r.postDataBuffer()?.includes('before hide'),
    { timeout: 10000 },
  );
  const traceId = await page.evaluate(async () => {
    const { startSpan } = await import('/sdk/browser.js');
    const span = startSpan('before hide');
    const id = span.spanContext().traceId;
    span.end();
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
    return id;
  });
  const request = await sent;
  assert.equal(request.headers()['content-encoding'], undefined);
  // Chromium keeps a keepalive request going after the page closes, but not always its CORS
  // preflight on a loaded machine; the test is about the SDK sending at once, so it lets the
  // request finish before closing.
  await request.response();
  await page.close();
  const spans = await waitFor('the span flushed on hide', async () => {
    const s = await traceSpans(collector, traceId);
    return s.length === 1 && s;
  });
  assert.equal(spans[0].name, 'before hide');
});

test('<meta name="traceparent"> continues the server trace for page-load spans', async () => {
  const page = await browser.newPage();
  await page.goto(site.url);
  const result = await page.evaluate(async () => {
    for (const [name, content] of [['traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'], ['tracestate', 'congo=t61rcWkgMzE']]) {
      const meta = document.createElement('meta');
      meta.name = name;
      meta.content = content;
      document.head.append(meta);
    }
    const { init, documentContext, startSpan } = await import('/sdk/browser.js');
    init({ serviceName: 'test-web', endpoint: 'http://127.0.0.1:9', scheduleDelayMillis: 0 });
    const parent = documentContext();
    const span = startSpan('documentLoad', { parent });
    return { parent, context: span.spanContext() };
  });
  assert.equal(result.parent.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  assert.equal(result.parent.tracestate, 'congo=t61rcWkgMzE');
  assert.equal(result.context.traceId, '0af7651916cd43dd8448eb211c80319c');
  await page.close();
});
