// The waterfall of a long trace starts under the header and the toolbar and reaches below the
// window: its last rows, selected by a deep link or by ↑ (k) from no selection, are brought into
// the window (the page scrolls where the waterfall cannot); and when the window grows, the rows
// that now fit are drawn at once, not at the next scroll.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../support.mjs';
import { ingest } from './viewer_pages.mjs';
import { collectorAndBrowser } from './viewer_env.mjs';

const env = collectorAndBrowser();
const TRACE = '0000000000000000000000000000beef';
const ROWS = 200;
const spanId = (i) => (i + 1).toString(16).padStart(16, '0');
const T = 1_700_000_000_000_000_000n;

/** A root and 199 children, one after the other: 200 rows of 26 px. */
const longTrace = () => ({
  resourceSpans: [{
    resource: { attributes: [{ key: 'service.name', value: { stringValue: 'long' } }] },
    scopeSpans: [{
      spans: Array.from({ length: ROWS }, (_, i) => ({
        traceId: TRACE,
        spanId: spanId(i),
        ...(i ? { parentSpanId: spanId(0) } : {}),
        name: `op ${i}`,
        startTimeUnixNano: String(T + BigInt(i) * 1_000_000n),
        endTimeUnixNano: String(T + BigInt(i + 1) * 1_000_000n + (i ? 0n : 1_000_000_000n)),
      })),
    }],
  }],
});

let ingested = false;
async function open(viewport, span) {
  if (!ingested) {
    await ingest(env.collector, longTrace());
    ingested = true;
  }
  const page = await env.browser.newPage({ viewport });
  await waitFor('the trace in the collector', async () => {
    await page.goto(`${env.collector.ui}/trace/${TRACE}${span ? `?span=${span}` : ''}`);
    await page.waitForSelector('[data-testid=span-row]', { timeout: 5000 });
    return true;
  });
  return page;
}

const selected = (page) => page.$eval('[data-testid=span-row].selected', (r) => {
  const b = r.getBoundingClientRect();
  return { name: r.querySelector('[data-testid=span-name]').textContent, inWindow: b.top >= 0 && b.bottom <= innerHeight };
});

test('the last span, selected by a deep link or by k from no selection, is in the window', async () => {
  const viewport = { width: 1200, height: 800 };
  const page = await open(viewport, spanId(ROWS - 1));
  await page.waitForSelector('[data-testid=span-row].selected');
  assert.deepEqual(await selected(page), { name: `op ${ROWS - 1}`, inWindow: true });
  await page.close();

  const again = await open(viewport);
  await again.click('[data-testid=trace-header]');
  await again.keyboard.press('k');
  await again.waitForSelector('[data-testid=span-row].selected');
  assert.deepEqual(await selected(again), { name: `op ${ROWS - 1}`, inWindow: true });
  await again.keyboard.press('k');
  assert.deepEqual(await selected(again), { name: `op ${ROWS - 2}`, inWindow: true });
  await again.close();
});

test('a taller window shows the rows that now fit in the waterfall without a scroll', async () => {
  const page = await open({ width: 1200, height: 500 });
  await page.setViewportSize({ width: 1200, height: 1400 });
  // Every row the waterfall shows is drawn: the last one in the DOM is at or below its bottom.
  await page.waitForFunction(() => {
    const wf = document.querySelector('[data-testid=waterfall]');
    const last = Math.max(...[...document.querySelectorAll('[data-testid=span-row]')].map((r) => Number(r.dataset.index)));
    return wf.clientHeight > 1000 && (last + 1) * 26 >= wf.scrollTop + wf.clientHeight;
  }, null, { timeout: 10000 });
  await page.close();
});
