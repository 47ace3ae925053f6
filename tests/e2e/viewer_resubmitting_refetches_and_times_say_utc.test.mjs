// Two things a user of the viewer relies on without thinking about them. Submitting the same source
// again fetches it again: the same URL on /open after the file changed, and Search with unchanged
// filters after new traces arrived (the page's address does not change, so nothing else would).
// And every wall-clock time says its zone: the viewer shows UTC, labelled "UTC", whatever the
// browser's own zone (here New York), so that times read the same for everyone a link is sent to.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { launchChromium, startCollector } from '../support.mjs';
import { ingest, smallTrace, TRACE_ID, TraceView } from './viewer_pages.mjs';

let collector, browser, files;
/** What the file server answers at /trace.json; tests change it. */
let served = null;
/** A log file of one record, at 1,700,000,000 s after the epoch. */
const LOGS = {
  resourceLogs: [{
    resource: { attributes: [{ key: 'service.name', value: { stringValue: 'web' } }] },
    scopeLogs: [{ logRecords: [{ timeUnixNano: '1700000000000000000', severityText: 'INFO', body: { stringValue: 'hello' } }] }],
  }],
};

before(async () => {
  const server = createServer((req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    // As a static host may: browsers may keep the file for an hour.
    res.setHeader('Cache-Control', 'max-age=3600');
    const body = req.url.startsWith('/logs.json') ? LOGS : served;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  files = { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
  collector = await startCollector();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await collector?.stop();
  await files?.close();
});

/** A one-span trace starting now (so the search's default last hour finds it). */
function freshTrace(traceId, name) {
  const now = BigInt(Date.now()) * 1_000_000n;
  return {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'refetch-svc' } }] },
      scopeSpans: [{
        spans: [{
          traceId, spanId: traceId.slice(0, 16), name, kind: 2,
          startTimeUnixNano: String(now - 5_000_000n), endTimeUnixNano: String(now),
        }],
      }],
    }],
  };
}

test('opening the same URL again fetches the file again', async () => {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  const fileUrl = `${files.url}/trace.json`;
  served = freshTrace('11111111111111111111111111111111', 'first version');
  await page.goto(`${collector.ui}/open?url=${encodeURIComponent(fileUrl)}`);
  const view = await new TraceView(page).ready();
  assert.deepEqual(await view.names(), ['first version']);
  served = freshTrace('22222222222222222222222222222222', 'second version');
  await page.click('[data-testid=open-url]');
  await page.waitForSelector('[data-testid=span-row] >> text=second version', { timeout: 15000 });
  assert.equal(await view.header('trace-id'), '22222222222222222222222222222222');
  await page.close();
});

test('Search with unchanged filters asks the source again and shows traces that arrived since', async () => {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  await ingest(collector, freshTrace('33333333333333333333333333333333', 'older'));
  // The page names its sources in the address (the collector too).
  await page.goto(`${collector.ui}/?service=refetch-svc&lookback=1h&limit=20&sort=newest&traces=collector%3A&logs=collector%3A`);
  await page.waitForSelector('[data-testid=trace-row]');
  assert.equal(await page.locator('[data-testid=trace-row]').count(), 1);
  await ingest(collector, freshTrace('44444444444444444444444444444444', 'newer'));
  const before = page.url();
  await page.click('[data-testid=search]');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=trace-row]').length === 2, null, {
    timeout: 15000,
  });
  assert.equal(page.url(), before, 'the same search');
  await page.close();
});

test('wall-clock times are UTC and say so, in a browser of another zone', async () => {
  const context = await browser.newContext({ timezoneId: 'America/New_York', viewport: { width: 1200, height: 800 } });
  await ingest(collector, smallTrace());
  const page = await context.newPage();
  // The trace header: 1,700,000,000 s after the epoch is 2023-11-14 22:13:20 UTC (17:13:20 in New York).
  await page.goto(`${collector.ui}/trace/${TRACE_ID}`);
  await new TraceView(page).ready();
  const start = await page.textContent('[data-testid=trace-start]');
  assert.equal(start.trim(), '2023-11-14 22:13:20.000 UTC');
  // The search results and the scatter plot's time axis.
  await page.goto(`${collector.ui}/?service=web&lookback=all`);
  await page.waitForSelector('[data-testid=trace-row]');
  const cells = await page.$$eval('[data-testid=trace-start]', (tds) => tds.map((td) => td.textContent));
  assert.deepEqual(cells, ['2023-11-14 22:13:20.000 UTC']);
  const axis = await page.$$eval('.scatter-time span', (spans) => spans.map((s) => s.textContent));
  assert.equal(axis.length, 2);
  for (const t of axis) assert.match(t, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC$/);
  // A log line of the log stream.
  await page.goto(`${collector.ui}/logs?file=${encodeURIComponent(`${files.url}/logs.json`)}`);
  await page.waitForSelector('[data-testid=log-row] .log-time');
  assert.equal((await page.textContent('[data-testid=log-row] .log-time')).trim(), '2023-11-14 22:13:20.000 UTC');
  await context.close();
});
