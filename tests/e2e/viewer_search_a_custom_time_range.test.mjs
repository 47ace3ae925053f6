// The search page's Time field also takes a custom range: From and To in UTC (as every time the
// viewer shows), kept in the address as Jaeger UI's links keep it (`lookback=custom&start=…&end=…`,
// Unix microseconds), so a link to a past incident finds the same traces tomorrow. A range that
// does not read is the form's error, shown without the hint about trace sources.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium, startCollector } from '../support.mjs';
import { ingest } from './viewer_pages.mjs';

let collector, browser;
const HOUR_US = 3_600_000_000;
const nowUs = Date.now() * 1000;

/** A one-span trace of service `range-svc` that started `hoursAgo` hours ago. */
function traceAt(traceId, name, hoursAgo) {
  const start = BigInt(nowUs - hoursAgo * HOUR_US) * 1000n;
  return {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'range-svc' } }] },
      scopeSpans: [{ spans: [{ traceId, spanId: traceId.slice(0, 16), name, kind: 2, startTimeUnixNano: String(start), endTimeUnixNano: String(start + 2_000_000n) }] }],
    }],
  };
}

/** `YYYY-MM-DDTHH:MM:SS` in UTC, as the range fields show a time. */
const utcField = (us) => new Date(Math.floor(us / 1e6) * 1000).toISOString().slice(0, 19);

before(async () => {
  collector = await startCollector();
  browser = await launchChromium();
  await ingest(collector, traceAt('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'three hours ago', 3));
  await ingest(collector, traceAt('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 'a day ago', 26));
});
after(async () => {
  await browser?.close();
  await collector?.stop();
});

const names = (page) => page.$$eval('[data-testid=trace-row]', (rows) => rows.map((r) => r.querySelector('a').textContent.replace('range-svc ', '')));
const settled = (page) => page.waitForSelector('[data-testid=trace-row], [data-testid=empty], [data-testid=error]', { timeout: 15000 });

test('a link with a custom range searches that range and shows it in UTC', async () => {
  const page = await browser.newPage({ timezoneId: 'America/New_York' });
  const [start, end] = [nowUs - 4 * HOUR_US, nowUs - 2 * HOUR_US];
  await page.goto(`${collector.ui}/?service=range-svc&lookback=custom&start=${start}&end=${end}`);
  await settled(page);
  assert.deepEqual(await names(page), ['three hours ago']);
  assert.equal(await page.locator('[data-testid=lookback]').inputValue(), 'custom');
  assert.equal(await page.locator('[data-testid=range-from]').inputValue(), utcField(start), 'UTC, not New York time');
  assert.equal(await page.locator('[data-testid=range-to]').inputValue(), utcField(end));

  // Moving the start back a day and searching puts the new range in the address.
  const earlier = nowUs - 30 * HOUR_US;
  await page.locator('[data-testid=range-from]').fill(utcField(earlier));
  await page.locator('[data-testid=search]').click();
  await page.waitForURL((url) => url.searchParams.get('start') === String(Math.floor(earlier / 1e6) * 1e6));
  assert.equal(new URL(page.url()).searchParams.get('end'), String(end), 'the end as it was');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=trace-row]').length === 2);
  assert.deepEqual(await names(page), ['three hours ago', 'a day ago']);

  // A lookback again drops the range from the address.
  await page.locator('[data-testid=lookback]').selectOption('1h');
  assert.equal(await page.locator('[data-testid=range-from]').count(), 0, 'the range fields go away');
  await page.locator('[data-testid=search]').click();
  await page.waitForURL((url) => url.searchParams.get('lookback') === '1h' && !url.searchParams.has('start') && !url.searchParams.has('end'));
  await page.waitForSelector('[data-testid=empty]');
  await page.close();
});

test('choosing Custom range starts from the last hour; a start alone searches up to now', async () => {
  const page = await browser.newPage();
  await page.goto(`${collector.ui}/?service=range-svc&lookback=6h`);
  await settled(page);
  await page.locator('[data-testid=lookback]').selectOption('custom');
  const from = Date.parse(`${await page.locator('[data-testid=range-from]').inputValue()}Z`);
  const to = Date.parse(`${await page.locator('[data-testid=range-to]').inputValue()}Z`);
  assert.equal(to - from, 3_600_000, 'an hour apart');
  assert.ok(Math.abs(to - Date.now()) < 60_000, `To is now: ${to}`);

  await page.goto(`${collector.ui}/?service=range-svc&start=${nowUs - 27 * HOUR_US}`);
  await settled(page);
  assert.equal(await page.locator('[data-testid=lookback]').inputValue(), 'custom');
  assert.equal(await page.locator('[data-testid=range-to]').inputValue(), '', 'no end: now');
  assert.deepEqual(await names(page), ['three hours ago', 'a day ago']);
  await page.close();
});

test('a range that does not read names what is wrong, without the hint about sources', async () => {
  const page = await browser.newPage();
  const [start, end] = [nowUs - 2 * HOUR_US, nowUs - 4 * HOUR_US];
  await page.goto(`${collector.ui}/?service=range-svc&lookback=custom&start=${start}&end=${end}`);
  await settled(page);
  assert.match(await page.textContent('[data-testid=error]'), /^From \(.+ UTC\) must be before To \(.+ UTC\)$/);
  assert.equal(await page.locator('[data-testid=sources-hint]').count(), 0);
  await page.goto(`${collector.ui}/?service=range-svc&minDuration=soon`);
  await settled(page);
  assert.match(await page.textContent('[data-testid=error]'), /minimum duration `soon`/);
  assert.equal(await page.locator('[data-testid=sources-hint]').count(), 0);
  await page.close();
});

test('a cleared To searches up to now; a From the page cannot use is named', async () => {
  const page = await browser.newPage();
  await page.goto(`${collector.ui}/?service=range-svc&lookback=custom&start=${nowUs - 30 * HOUR_US}&end=${nowUs - 12 * HOUR_US}`);
  await settled(page);
  assert.deepEqual(await names(page), ['a day ago']);
  await page.locator('[data-testid=range-to]').fill('');
  await page.locator('[data-testid=search]').click();
  await page.waitForURL((url) => url.searchParams.has('start') && !url.searchParams.has('end'));
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=trace-row]').length === 2);
  assert.deepEqual(await names(page), ['three hours ago', 'a day ago']);

  await page.locator('[data-testid=range-from]').fill('1969-12-31T00:00:00');
  await page.locator('[data-testid=search]').click();
  await page.waitForSelector('[data-testid=error]');
  assert.match(await page.textContent('[data-testid=error]'), /^From `1969-12-31T00:00(:00)?`: choose a time in the From field/);
  await page.close();
});
