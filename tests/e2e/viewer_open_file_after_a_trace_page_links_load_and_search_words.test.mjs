// The trace view after QA s11: a file opened after visiting a trace page (the page's log marks
// once outlived it and panicked the file's view), a linked trace that is still loading (no old
// trace under the new address), and search within a trace as Jaeger UI's filter (words ORed,
// `-key` leaves out that key's attributes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LINKED_TRACE_ID, TRACE_ID, TraceView, collectorWithTrace, ingest, smallTrace, tempFile } from './viewer_pages.mjs';

const env = collectorWithTrace(smallTrace());

async function page() {
  const p = await env.browser.newPage({ viewport: { width: 1200, height: 800 } });
  p.errors = [];
  p.on('pageerror', (e) => p.errors.push(e.message));
  return p;
}

test('Open file after a trace page shows the file, every time', async () => {
  const p = await page();
  await p.goto(`${env.collector.ui}/trace/${TRACE_ID}`);
  const view = await new TraceView(p).ready();
  await p.click('header a[href="/open"]');
  await p.setInputFiles('[data-testid=file-input]', tempFile('small.json', smallTrace()));
  await view.ready();
  assert.equal((await view.names()).length, 5);
  // And again, after a trace page that was not found.
  await p.goto(`${env.collector.ui}/trace/00000000000000000000000000000abc`);
  await p.waitForSelector('[data-testid=error]');
  await p.click('header a[href="/open"]');
  await p.setInputFiles('[data-testid=file-input]', tempFile('small.json', smallTrace()));
  await view.ready();
  assert.equal((await view.names()).length, 5);
  assert.deepEqual(p.errors, []);
  await p.close();
});

test('while a linked trace loads, the trace before is not shown under its address', async () => {
  // The linked trace: one span, with the id of a span of the first trace.
  const linked = smallTrace();
  linked.resourceSpans = [linked.resourceSpans[0]];
  linked.resourceSpans[0].scopeSpans[0].spans[0].traceId = LINKED_TRACE_ID;
  await ingest(env.collector, linked);
  const p = await page();
  let release;
  const held = new Promise((r) => (release = r));
  await p.route(`**/traces/${LINKED_TRACE_ID}*`, async (route) => {
    await held;
    await route.continue();
  });
  await p.goto(`${env.collector.ui}/trace/${TRACE_ID}`);
  const view = await new TraceView(p).ready();
  await view.select('payment');
  await p.click('[data-testid=span-link]');
  await p.waitForURL(new RegExp(`/trace/${LINKED_TRACE_ID}`));
  await p.waitForSelector('main >> text=Loading…');
  assert.equal(await view.rows.count(), 0, 'no rows of the trace before');
  release();
  await p.waitForFunction((id) => document.querySelector('[data-testid=trace-id]')?.textContent === id, LINKED_TRACE_ID);
  assert.equal((await view.names()).length, 1);
  assert.deepEqual(p.errors, []);
  await p.close();
});

test('search within a trace ORs its words and -key leaves out that key, as Jaeger UI does', async () => {
  const view = await (await TraceView.openFile(env.browser, env.collector, tempFile('small.json', smallTrace()))).ready();
  const matched = () => view.page.$$eval('[data-testid=span-row].match [data-testid=span-name]', (els) => els.map((e) => e.textContent));
  await view.search.fill('select charge');
  assert.deepEqual(await matched(), ['SELECT users', 'charge card']);
  assert.equal(await view.header('match-count'), '2 matching');
  await view.search.fill('u-42');
  assert.deepEqual(await matched(), ['authenticate']);
  await view.search.fill('u-42 -user');
  assert.deepEqual(await matched(), []);
  await view.search.fill('u-42 -user authenticate');
  assert.deepEqual(await matched(), ['authenticate']);
  await view.page.close();
});
