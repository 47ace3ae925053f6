// examples/browser-vanilla (a plain page with an import map, no bundler), examples/vite (the
// package in a Vite build) and examples/leptos (Rust, on the opentelemetry API) export their spans and logs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { attr, getJson, launchChromium, root, serveDir, startCollector, traceSpans, waitFor } from '../support.mjs';

let collector, browser, site;

before(async () => {
  collector = await startCollector();
  browser = await launchChromium();
  site = await serveDir(root);
});

/**
 * Clicks `#go`, then waits for the page's status line ("Done …", or "Failed …"; it must start with
 * `expect`) and the span of the trace it names.
 */
async function clickAndFindSpan(page, expect = 'Done') {
  await page.click('#go');
  const status = await waitFor('the status', async () => {
    const t = await page.textContent('#status');
    return /^(Done|Failed)/.test(t) && t;
  });
  assert.ok(status.startsWith(expect), `the page says ${JSON.stringify(status.slice(0, 200))}, not ${expect}…`);
  const traceId = status.match(/[0-9a-f]{32}/)[0];
  const spans = await waitFor('the span', async () => {
    const s = await traceSpans(collector, traceId).catch(() => []);
    return s.length > 0 && s;
  });
  return { traceId, span: spans[0], status };
}

after(async () => {
  site?.close();
  await browser?.close();
  await collector?.stop();
});

test('the plain HTML example traces its button and logs through the import map', async () => {
  const page = await browser.newPage();
  await page.goto(`${site.url}/examples/browser-vanilla/index.html?otlp=${encodeURIComponent(collector.otlp)}`);
  await page.waitForFunction(() => XMLHttpRequest.prototype.open.__edgescope === true);
  const { traceId, span } = await clickAndFindSpan(page);
  assert.equal(span.name, 'do work');
  assert.equal(span.service, 'example-vanilla');
  const logs = await waitFor('the log', async () => {
    const doc = await getJson(`${collector.ui}/api/logs?trace_id=${traceId}`);
    return doc.result.resourceLogs.length > 0 && doc;
  });
  assert.equal(logs.result.resourceLogs[0].scopeLogs[0].logRecords[0].body.stringValue, 'work done');
});

test('the Vite example builds, and its span and log reach the collector', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { build } = await import('vite');
  const out = mkdtempSync(join(tmpdir(), 'edgescope-vite-'));
  await build({ root: join(root, 'examples', 'vite'), logLevel: 'warn', build: { outDir: out, emptyOutDir: true } });
  const built = await serveDir(out);
  try {
    const page = await browser.newPage();
    await page.goto(`${built.url}/index.html?otlp=${encodeURIComponent(collector.otlp)}`);
    await page.waitForFunction(() => XMLHttpRequest.prototype.open.__edgescope === true);
    const { span } = await clickAndFindSpan(page);
    assert.equal(span.name, 'vite work');
    assert.equal(span.service, 'example-vite');
  } finally {
    built.close();
    rmSync(out, { recursive: true, force: true });
  }
});

test('the Leptos example traces a click and its fetch through the opentelemetry API and exports them', async () => {
  const page = await browser.newPage();
  await page.goto(`${site.url}/examples/leptos/index.html?otlp=${encodeURIComponent(collector.otlp)}`);
  await page.waitForSelector('#go');
  const quote = page.waitForRequest((r) => r.url().endsWith('/quote.txt'));
  const { traceId, span } = await clickAndFindSpan(page);
  assert.equal(span.name, 'load quote');
  assert.equal(span.service, 'example-leptos');
  assert.equal(attr(span, 'quote.source'), 'quote.txt');
  assert.equal(span.status?.code, 1, 'ok');
  assert.equal(attr(span, 'http.response.status_code'), '200');
  assert.deepEqual(span.events ?? [], [], 'no exception event');
  // The fetch carried the span's context (sampled, and the Level 2 random flag of a trace it started).
  assert.equal((await quote).headers().traceparent, `00-${traceId}-${span.spanId}-03`);
  const logs = await waitFor('the log', async () => {
    const doc = await getJson(`${collector.ui}/api/logs?trace_id=${traceId}`);
    return doc.result.resourceLogs.length > 0 && doc;
  });
  const record = logs.result.resourceLogs[0].scopeLogs[0].logRecords[0];
  assert.equal(record.body.stringValue, 'quote loaded: Ask not what your spans can do for you.');
  assert.equal(record.spanId, span.spanId, 'the record carries the span it was made in');
  await page.close();
});

// A quote.txt that answers 404 is no quote: the span's status is Error ("HTTP 404", not Ok), the
// page says "Failed" instead of showing the 404 page, and no "quote loaded" record is made.
test('the Leptos example ends its span with an error, not Ok, when quote.txt answers 404', async () => {
  const page = await browser.newPage();
  await page.route('**/quote.txt', (r) => r.fulfill({ status: 404, contentType: 'text/html', body: '<h1>404 Not Found</h1>' }));
  await page.goto(`${site.url}/examples/leptos/index.html?otlp=${encodeURIComponent(collector.otlp)}`);
  await page.waitForSelector('#go');
  const { traceId, span, status } = await clickAndFindSpan(page, 'Failed');
  assert.ok(!status.includes('404 Not Found'), `the 404 page is not shown as the quote: ${status}`);
  assert.match(status, /HTTP 404$/);
  assert.equal(span.name, 'load quote');
  assert.deepEqual({ code: span.status?.code, message: span.status?.message }, { code: 2, message: 'HTTP 404' });
  assert.equal(attr(span, 'http.response.status_code'), '404');
  assert.deepEqual(span.events ?? [], [], 'an answer is not an exception');
  // The page says "Failed" only after the flush that carried the span (and any record) is answered.
  const doc = await getJson(`${collector.ui}/api/logs?trace_id=${traceId}`);
  const records = doc.result.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
  assert.deepEqual(records.map((r) => r.body.stringValue), [], 'no "quote loaded" record for a 404 page');
  await page.close();
});

// A fetch that rejects (no answer at all) is recorded as the semantic conventions' exception
// event, and the span's status description is the error's message, not a dump of the JS value
// with its stack.
test('the Leptos example records a failed fetch as an exception event with a short status description', async () => {
  const page = await browser.newPage();
  await page.route('**/quote.txt', (r) => r.abort('connectionrefused'));
  await page.goto(`${site.url}/examples/leptos/index.html?otlp=${encodeURIComponent(collector.otlp)}`);
  await page.waitForSelector('#go');
  const { span, status } = await clickAndFindSpan(page, 'Failed');
  assert.match(status, /: Failed to fetch$/);
  assert.equal(span.status?.code, 2, 'error');
  assert.equal(span.status?.message, 'Failed to fetch', 'the error\'s message, not its Debug form');
  const exceptions = (span.events ?? []).filter((e) => e.name === 'exception');
  assert.equal(exceptions.length, 1, JSON.stringify(span.events));
  assert.equal(attr(exceptions[0], 'exception.type'), 'TypeError');
  assert.equal(attr(exceptions[0], 'exception.message'), 'Failed to fetch');
  assert.equal(attr(span, 'http.response.status_code'), undefined, 'no answer, no status code');
  await page.close();
});
