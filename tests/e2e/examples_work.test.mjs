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

/** Clicks `#go`, then waits for the page's status line and the span of the trace it names. */
async function clickAndFindSpan(page) {
  await page.click('#go');
  const status = await waitFor('the status', async () => {
    const t = await page.textContent('#status');
    return t.startsWith('Done') && t;
  });
  const traceId = status.match(/[0-9a-f]{32}/)[0];
  const spans = await waitFor('the span', async () => {
    const s = await traceSpans(collector, traceId).catch(() => []);
    return s.length > 0 && s;
  });
  return { traceId, span: spans[0] };
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
