// A service keeps its colour on every page the viewer shows, also after a reload and in another
// tab of the same browser: the order in which services were first coloured is kept in
// localStorage, so a trace that shows them in another order does not swap their colours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ingest } from './viewer_pages.mjs';
import { collectorAndBrowser } from './viewer_env.mjs';

const env = collectorAndBrowser();

/** A trace of one SERVER span per service, in that order, the first the parent of the others. */
function trace(traceId, services) {
  const start = BigInt(Date.now() - 60_000) * 1_000_000n;
  return {
    resourceSpans: services.map((service, i) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [{ spans: [{
        traceId, spanId: (i + 1).toString(16).padStart(16, '0'), name: `op ${service}`, kind: 2,
        ...(i > 0 ? { parentSpanId: '0000000000000001' } : {}),
        startTimeUnixNano: String(start + BigInt(i) * 1_000_000n), endTimeUnixNano: String(start + 9_000_000n),
      }] }],
    })),
  };
}

/** The colour of each service chip in the trace page's header. */
async function colours(page, traceId) {
  await page.goto(`${env.collector.ui}/trace/${traceId}`);
  await page.waitForSelector('[data-testid=span-row]');
  return Object.fromEntries(await page.$$eval('.service-chip', (chips) => chips.map((c) => [c.textContent, getComputedStyle(c).borderColor])));
}

test('a service keeps its colour after a reload and in another tab, whatever order a trace shows it in', async () => {
  const first = 'c0' + '1'.repeat(30);
  const reversed = 'c0' + '2'.repeat(30);
  await ingest(env.collector, trace(first, ['alpha', 'beta', 'gamma']));
  await ingest(env.collector, trace(reversed, ['gamma', 'beta', 'alpha']));
  const context = await env.browser.newContext();
  const tab = await context.newPage();
  const seen = await colours(tab, first);
  assert.equal(new Set(Object.values(seen)).size, 3, JSON.stringify(seen));
  // A reload, then the other trace, which meets the services in the other order.
  assert.deepEqual(await colours(tab, reversed), seen, 'after a reload');
  const other = await context.newPage();
  assert.deepEqual(await colours(other, reversed), seen, 'in another tab');
  // A service first met in the other tab keeps that colour when this tab meets it.
  const third = 'c0' + '3'.repeat(30);
  await ingest(env.collector, trace(third, ['delta', 'alpha']));
  const delta = (await colours(other, third)).delta;
  await tab.goto(`${env.collector.ui}/`);
  assert.equal((await colours(tab, third)).delta, delta);
  await context.close();
});
