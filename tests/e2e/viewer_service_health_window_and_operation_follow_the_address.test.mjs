// The Services page shows what its address asks for, and says what it could not: the Window field
// follows the address (Back, a link's `window=2h` as itself and with 2 hours of numbers, one that
// is no range named), another window keeps the service chosen, an operation the service has no
// entry spans of says so over empty charts; and with a Jaeger source listing more services than it
// searches, those in Jaeger's service map are searched first and the note says how many were not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ingest } from './viewer_pages.mjs';
import { collectorAndBrowser } from './viewer_env.mjs';

const env = collectorAndBrowser();
const hex = (n, width) => n.toString(16).padStart(width, '0');
let next = 1;

/** One trace of SERVER spans, each `[service, name, parent index]`, a minute ago. */
function trace(spans) {
  const traceId = hex(next++, 32);
  const start = BigInt(Date.now() - 60_000) * 1_000_000n;
  return {
    resourceSpans: spans.map(([service, name, parent], i) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [{
        spans: [{
          traceId, spanId: hex(next * 16 + i + 1, 16), name, kind: 2,
          ...(parent !== undefined ? { parentSpanId: hex(next * 16 + parent + 1, 16) } : {}),
          startTimeUnixNano: String(start), endTimeUnixNano: String(start + 5_000_000n),
        }],
      }],
    })),
  };
}

let ingested = false;
async function data() {
  if (ingested) return;
  ingested = true;
  for (let i = 0; i < 5; i++) await ingest(env.collector, trace([['web', 'GET /a']]));
  // 21 services alone, then two late in the alphabet that call each other (Jaeger's service map).
  for (let i = 0; i <= 20; i++) await ingest(env.collector, trace([[`svc-${hex(i, 2)}`, 'work']]));
  await ingest(env.collector, trace([['zz-front', 'GET /'], ['zz-back', 'query', 0]]));
}

const windowShown = (page, want) => page.waitForFunction((want) =>
  document.querySelector('[data-testid=health-window]')?.value === want
    && document.querySelector('[data-testid=health-title]'), want, { timeout: 10000 });

test('the Window field follows the address, keeps the service, and a link’s window is used as written', async () => {
  await data();
  const page = await env.browser.newPage();
  await page.goto(`${env.collector.ui}/services?window=1h&service=web`);
  await windowShown(page, '1h');
  await page.selectOption('[data-testid=health-window]', '24h');
  await page.waitForFunction(() => new URLSearchParams(location.search).get('window') === '24h');
  assert.equal(new URL(page.url()).searchParams.get('service'), 'web', 'the service stays chosen');
  await windowShown(page, '24h');
  assert.equal(await page.textContent('[data-testid=health-title]'), 'web');
  await page.goBack();
  await windowShown(page, '1h');

  // While another window loads, the page says so rather than showing the old window's numbers
  // under the new window's name.
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route('**/api/signals?*', async (route) => { await held; await route.continue(); });
  await page.selectOption('[data-testid=health-window]', '6h');
  await page.waitForSelector('[data-testid=health-loading]');
  assert.equal(await page.textContent('[data-testid=health-loading]'), 'Loading the last 6h…');
  assert.equal(await page.locator('[data-testid=health-title]').count(), 0, 'no numbers of the old window');
  release();
  await windowShown(page, '6h');
  assert.equal(await page.locator('[data-testid=health-loading]').count(), 0);
  await page.unroute('**/api/signals?*');

  // `2h` is not offered: it shows as itself, and the numbers are for 2 hours (60 buckets of 2 minutes).
  await page.goto(`${env.collector.ui}/services?window=2h&service=web`);
  await windowShown(page, '2h');
  assert.equal(await page.$eval('[data-testid=health-window]', (s) => s.selectedOptions[0].textContent), 'Last 2h');
  const buckets = await page.$$eval('[data-testid=point-rate]', (ps) => ps.map((p) => BigInt(p.dataset.bucket)));
  assert.equal(buckets.length, 60);
  assert.equal(buckets[1] - buckets[0], 120_000_000_000n);

  await page.goto(`${env.collector.ui}/services?window=soon`);
  await page.waitForSelector('[data-testid=error]');
  assert.match(await page.textContent('[data-testid=error]'), /^Window `soon`/);
  assert.equal(await page.locator('[data-testid=health-title]').count(), 0);
  await page.close();
});

test('an operation the service has no entry spans of says so, over empty charts', async () => {
  await data();
  const page = await env.browser.newPage();
  await page.goto(`${env.collector.ui}/services?window=1h&service=web&operation=no-such-op`);
  await page.waitForSelector('[data-testid=health-title]');
  assert.equal(await page.textContent('[data-testid=health-title]'), 'web · no-such-op');
  assert.match(await page.textContent('[data-testid=operation-not-found]'), /web has no entry spans of operation no-such-op/);
  const values = await page.$$eval('[data-testid=point-rate]', (ps) => ps.map((p) => Number(p.dataset.value)));
  assert.equal(values.length, 60);
  assert.deepEqual(values.filter((v) => v > 0), []);
  // No latency either, and the caption says so rather than a maximum of 1 ns.
  assert.equal(await page.textContent('[data-testid=chart-latency] figcaption'), 'Latency p50 / p95 / p99 · no spans');
  // The operation it has: its requests, and no such notice.
  await page.goto(`${env.collector.ui}/services?window=1h&service=web&operation=${encodeURIComponent('GET /a')}`);
  await page.waitForSelector('[data-testid=health-title]');
  const sum = await page.$$eval('[data-testid=point-rate]', (ps) => ps.reduce((n, p) => n + Number(p.dataset.value) * 60, 0));
  assert.equal(Math.round(sum), 5);
  assert.equal(await page.textContent('[data-testid=chart-latency] figcaption'), 'Latency p50 / p95 / p99 · max 5.0 ms');
  assert.equal(await page.locator('[data-testid=operation-not-found]').count(), 0);
  await page.close();
});

test('a service the address names with no entry spans in the window keeps its place, over empty charts, not another service', async () => {
  await data();
  const page = await env.browser.newPage();
  for (const query of ['service=nightly-report', 'service=nightly-report&operation=run']) {
    await page.goto(`${env.collector.ui}/services?window=1h&${query}`);
    await page.waitForSelector('[data-testid=health-title]');
    assert.match(await page.textContent('[data-testid=health-title]'), /^nightly-report/, query);
    assert.equal(await page.textContent('[data-testid=service-not-found]'), 'nightly-report has no entry spans in this window.');
    assert.equal(await page.locator('[data-testid=operation-not-found]').count(), 0, 'said once');
    const values = await page.$$eval('[data-testid=point-rate]', (ps) => ps.map((p) => Number(p.dataset.value)));
    assert.equal(values.length, 60);
    assert.deepEqual(values.filter((v) => v > 0), []);
    assert.equal(await page.locator('[data-testid=health-service].selected').count(), 0, 'no other service chosen');
    assert.ok((await page.locator('[data-testid=health-service]').count()) > 0, 'the services that have entry spans are offered');
  }
  // Without a service, the first is shown, and nothing is said.
  await page.goto(`${env.collector.ui}/services?window=1h`);
  await page.waitForSelector('[data-testid=health-title]');
  assert.equal(await page.locator('[data-testid=service-not-found]').count(), 0);
  assert.equal(await page.locator('[data-testid=health-service].selected').count(), 1);
  await page.close();
});

test('with more services than a Jaeger source is searched for, its service map’s go first and the note counts the rest', async () => {
  await data();
  const page = await env.browser.newPage();
  await page.goto(`${env.collector.ui}/services?window=1h&traces=${encodeURIComponent(`jaeger:${env.collector.ui}`)}`);
  await page.waitForSelector('[data-testid=health-sample]', { timeout: 60000 });
  const note = await page.textContent('[data-testid=health-sample]');
  // 24 services listed, 20 searched.
  assert.match(note, /4 of the services it lists were not searched \(at most 20, those in its service map first\)/);
  assert.doesNotMatch(note, /rates there count a sample/);
  const shown = await page.$$eval('[data-testid=health-service]', (b) => b.map((e) => e.textContent.split(' · ')[0]));
  assert.ok(shown.includes('zz-front') && shown.includes('zz-back'), shown.join(', '));
  assert.equal(shown.length, 20);
  await page.close();
});
