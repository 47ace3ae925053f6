// The logs page asks the collector for what its filters name (service and minimum level in the
// stream selector, the text as a line filter), so that a quiet service among a chatty one shows
// its records rather than none of the newest 5,000 of every service; when an answer is a full
// page the page says it may hold fewer records than the source has. A time range dragged on the
// histogram is kept in the address (`lookback=custom&start=…&end=…`, Unix microseconds, as the
// search page writes a custom range) and read back by a reload. Reload (and every new query) asks
// for the whole window again, not only what lies before the oldest record held.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium, startCollector } from '../support.mjs';
import { LogsPage } from './logs_page.mjs';

let collector, browser;
const str = (v) => ({ stringValue: v });
const ns = (msAgo) => String(BigInt(Date.now() - msAgo) * 1000000n);

async function post(service, logRecords) {
  const response = await fetch(`${collector.otlp}/v1/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: str(service) }] }, scopeLogs: [{ logRecords }] }] }),
  });
  assert.equal(response.status, 200, await response.text());
}

before(async () => {
  collector = await startCollector();
  // QA's case: five errors of a quiet service ten minutes ago, then 6,000 lines of a chatty one.
  await post('quiet', [0, 1, 2, 3, 4].map((i) => ({ timeUnixNano: ns(600_000 + i), severityNumber: 17, body: str(`quiet error ${i}`) })));
  await post('chatty', Array.from({ length: 6000 }, (_, i) => ({
    timeUnixNano: ns(300_000 - i * 10), severityNumber: 9, body: str(`chatty ${i}${i % 1000 === 0 ? ' needle' : ''}`),
  })));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await collector?.stop();
});

/** A page that keeps the LogQL of every `query_range` it sends (`asked`), and their ranges (`ranges`). */
async function newPage() {
  const page = await browser.newPage();
  const asked = [];
  const ranges = [];
  page.on('request', (r) => {
    if (!r.url().includes('/loki/api/v1/query_range')) return;
    const params = new URL(r.url()).searchParams;
    asked.push(params.get('query'));
    ranges.push([params.get('start'), params.get('end')]);
  });
  return { page, asked, ranges, logs: new LogsPage(page) };
}

const settled = (page) => page.waitForSelector('[data-testid=match-count][data-loading=false]');

test('a service, a minimum level and a text are asked of the collector, past the newest 5,000 records of all', async () => {
  const { page, asked, logs } = await newPage();
  await logs.open(collector.ui);
  assert.deepEqual(await logs.counts(), [5000, 5000]);
  assert.match(await page.textContent('[data-testid=partial-notice]'), /^The page holds 5000 records, the newest the log source has for \{service_name=~"\.\+"\} in this time range; it may have more before .*: "Load older" asks for them\.$/);

  await logs.open(collector.ui, 'service=quiet');
  assert.deepEqual(await logs.counts(), [5, 5], 'the quiet service\'s records, not none of the chatty one\'s');
  assert.equal(asked.at(-1), '{service_name="quiet"}');
  assert.equal(await page.$('[data-testid=partial-notice]'), null, 'every record of the query is held');

  await logs.open(collector.ui, 'level=error');
  assert.deepEqual(await logs.counts(), [5, 5]);
  assert.equal(asked.at(-1), '{service_name=~".+", level=~"error|fatal"}');

  await logs.open(collector.ui, 'q=needle');
  assert.deepEqual(await logs.counts(), [6, 6], 'chatty 0, 1000, … 5000: the oldest of them beyond the newest 5,000');
  assert.equal(asked.at(-1), '{service_name=~".+"} |= "needle"');

  // Changed on the page, the filters ask again: a choice at once, typed text once it settles.
  await logs.open(collector.ui);
  await logs.filterService('quiet');
  await settled(page);
  assert.deepEqual(await logs.counts(), [5, 5]);
  assert.equal(asked.at(-1), '{service_name="quiet"}');
  await logs.filterService('');
  await settled(page);
  assert.deepEqual(await logs.counts(), [5000, 5000], 'every service again');
  const before = asked.length;
  await page.type('[data-testid=log-text]', 'needle', { delay: 20 });
  await settled(page);
  assert.deepEqual(await logs.counts(), [6, 6]);
  assert.deepEqual(asked.slice(before), ['{service_name=~".+"} |= "needle"'], 'one query for the typed word, not one a keystroke');
  await page.close();
});

test('filters the query cannot carry are named as searching only the records held', async () => {
  const { page, logs } = await newPage();
  await logs.open(collector.ui, 'attr=deployment_environment%3Dtest');
  assert.match(await page.textContent('[data-testid=partial-notice]'), / The attribute filter searches only the records held\.$/);
  await page.close();
});

test('a time range dragged on the histogram is kept in the address and read back', async () => {
  const { page, asked, ranges, logs } = await newPage();
  await logs.open(collector.ui, 'service=chatty');
  assert.deepEqual(await logs.counts(), [5000, 5000]);
  await logs.dragHistogram(0.3, 0.6);
  await page.waitForSelector('[data-testid=range-reset]');
  await settled(page);
  const [matching, held] = await logs.counts();
  assert.ok(matching > 500 && matching < 3000, `about a third of the records (${matching})`);
  assert.equal(held, matching, 'the range\'s records, asked of the source');
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('lookback'), 'custom');
  assert.match(url.searchParams.get('start'), /^\d{16}$/, 'Unix microseconds');
  assert.match(url.searchParams.get('end'), /^\d{16}$/);
  assert.equal(url.searchParams.get('service'), 'chatty');
  assert.equal(await page.inputValue('[data-testid=log-lookback]'), 'custom');
  // The source was asked for the range: from its start to just after its end, in nanoseconds.
  const range = [`${url.searchParams.get('start')}000`, String(BigInt(url.searchParams.get('end')) * 1000n + 1n)];
  assert.deepEqual(ranges.at(-1), range);
  assert.equal(asked.at(-1), '{service_name="chatty"}');

  await page.reload();
  await settled(page);
  assert.deepEqual(await logs.counts(), [matching, held], 'the same records after a reload');
  await page.waitForSelector('[data-testid=range-reset]');
  assert.deepEqual(ranges.at(-1), range, 'asked for the same range');

  await page.click('[data-testid=range-reset]');
  await settled(page);
  assert.deepEqual(await logs.counts(), [5000, 5000], 'the last hour again');
  const reset = new URL(page.url()).searchParams;
  assert.deepEqual([reset.get('lookback'), reset.get('start'), reset.get('end')], [null, null, null]);

  // A range in the address that does not read is named, and the default range shown.
  await logs.open(collector.ui, 'service=quiet&lookback=custom&start=soon');
  assert.match(await page.textContent('[data-testid=range-error]'), /start and end in Unix microseconds.*`soon`/);
  assert.deepEqual(await logs.counts(), [5, 5]);
  await page.close();
});

test('Reload asks for the whole window again: the records stored since come, those held stay', async () => {
  await post('reloaded', [{ timeUnixNano: ns(60_000), severityNumber: 9, body: str('held before') }]);
  const { page, logs } = await newPage();
  await logs.open(collector.ui, 'service=reloaded');
  assert.equal((await logs.counts())[0], 1);
  await post('reloaded', [{ timeUnixNano: ns(0), severityNumber: 9, body: str('stored since') }]);
  await page.click('[data-testid=log-reload]');
  await settled(page);
  assert.equal((await logs.counts())[0], 2, 'not only what lies before the oldest record held');
  assert.deepEqual((await logs.rows()).map((r) => r.message), ['stored since', 'held before']);
  await page.close();
});
