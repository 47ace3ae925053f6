// "Any service" on the search page: the time window, attributes and durations still apply (the
// collector searches every service when none is named), every row lists its services, and no
// trace is drawn on the scatter plot as if it were in the window when it is not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../support.mjs';
import { ingest } from './viewer_pages.mjs';
import { collectorAndBrowser } from './viewer_env.mjs';

const env = collectorAndBrowser();

const now = BigInt(Date.now()) * 1_000_000n;
const str = (key, value) => ({ key, value: { stringValue: value } });
const int = (key, value) => ({ key, value: { intValue: String(value) } });

/** A trace of two services started `ago` ms ago, lasting `ms` ms, whose root has `status`. */
function trace(id, ago, ms, status) {
  const start = now - BigInt(ago) * 1_000_000n;
  const end = start + BigInt(ms) * 1_000_000n;
  const span = (spanId, parent, name, attributes) => ({
    traceId: id, spanId, ...(parent ? { parentSpanId: parent } : {}), name, kind: 2,
    startTimeUnixNano: String(start), endTimeUnixNano: String(end), attributes,
  });
  return {
    resourceSpans: [
      { resource: { attributes: [str('service.name', 'any-web')] },
        scopeSpans: [{ spans: [span(`${id.slice(0, 15)}1`, null, 'GET /cart', [int('http.response.status_code', status)])] }] },
      { resource: { attributes: [str('service.name', 'any-db')] },
        scopeSpans: [{ spans: [span(`${id.slice(0, 15)}2`, `${id.slice(0, 15)}1`, 'SELECT', [])] }] },
    ],
  };
}

test('Any service with an attribute, a minimum duration and the last hour shows only the traces that match', async () => {
  await ingest(env.collector, trace('a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1', 60_000, 900, 500));
  await ingest(env.collector, trace('b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2', 120_000, 10, 200));
  await ingest(env.collector, trace('c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3', 180_000, 10, 500));
  // A trace of 2017, with the same service names nowhere: outside the last hour.
  await ingest(env.collector, JSON.parse(readFileSync(join(root, '..', 'shared', 'fixtures', 'jaeger-integration-example_trace.json'), 'utf8')));
  const page = await env.browser.newPage({ viewport: { width: 1200, height: 800 } });
  const rows = async () => page.$$eval('[data-testid=trace-row]', (trs) => trs.map((tr) => ({
    id: tr.querySelector('td.mono').textContent,
    services: [...tr.querySelectorAll('td.services .chip')].map((c) => c.textContent),
  })));

  await page.goto(`${env.collector.ui}/?lookback=1h&tags=${encodeURIComponent('http.response.status_code=500')}`);
  await page.waitForSelector('[data-testid=trace-row]');
  assert.deepEqual(await rows(), [
    { id: 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1', services: ['any-db', 'any-web'] },
    { id: 'c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3', services: ['any-db', 'any-web'] },
  ]);

  await page.goto(`${env.collector.ui}/?lookback=1h&minDuration=500ms`);
  await page.waitForSelector('[data-testid=trace-row]');
  assert.deepEqual((await rows()).map((r) => r.id), ['a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1']);

  // The last hour holds the three recent traces, not the one of 2017.
  await page.goto(`${env.collector.ui}/?lookback=1h`);
  await page.waitForSelector('[data-testid=trace-row]');
  assert.deepEqual((await rows()).map((r) => r.id).sort(), [
    'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1', 'b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2', 'c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3',
  ]);
  // Each point lies inside the plot, none pinned to its left edge.
  // (cx in percent of the plot's width, whose margin is 1.2%.)
  const xs = await page.$$eval('[data-testid=scatter-point]', (cs) => cs.map((c) => parseFloat(c.getAttribute('cx'))));
  assert.equal(xs.length, 3);
  assert.ok(xs.every((x) => x > 1.2), `${xs}`);
  // Round at any width (the plot stretches, its points do not).
  const boxes = await page.$$eval('[data-testid=scatter-point]', (cs) => cs.map((c) => c.getBoundingClientRect()).map((b) => [b.width, b.height]));
  assert.ok(boxes.every(([w, h]) => w > 0 && Math.abs(w - h) < 0.5), JSON.stringify(boxes));
  // All time spans the results, not the years since 1970.
  await page.goto(`${env.collector.ui}/?lookback=all`);
  await page.waitForSelector('[data-testid=scatter-point]');
  const axis = await page.$$eval('.scatter-time span', (spans) => spans.map((s) => s.textContent));
  assert.ok(!axis[0].startsWith('1970'), axis.join(' … '));
  await page.close();
});

test('a link\'s lookback the Time field does not offer is searched as written and shown; one that is no range is named', async () => {
  await ingest(env.collector, trace('d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4', 90 * 60_000, 10, 200));
  const page = await env.browser.newPage({ viewport: { width: 1200, height: 800 } });
  await page.goto(`${env.collector.ui}/?lookback=2h`);
  await page.waitForSelector('[data-testid=trace-row]');
  const ids = await page.$$eval('[data-testid=trace-row] td.mono', (tds) => tds.map((td) => td.textContent));
  assert.ok(ids.includes('d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4'), 'the trace of 90 minutes ago is in the last 2 hours');
  assert.equal(await page.$eval('[data-testid=lookback]', (s) => s.options[s.selectedIndex].text), 'Last 2h');
  await page.goto(`${env.collector.ui}/?lookback=fortnight`);
  assert.match(await page.textContent('[data-testid=error]'), /Time `fortnight`: write a range such as 15m, 2h or 3d/);
  await page.close();
});
