// The log stream after QA s11: *Show context* asks the source for the service's lines around a
// record when the records held (one trace's) lack them; Loki is never asked for more than its
// default max_query_length (721h), "all" pages back 30 days at a time with a note; and JSON-lines
// OTLP log files (one logs document a line) open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LOKI_TRACE_ID, toStreams } from './recorded_loki.mjs';
import { LogsPage } from './logs_page.mjs';
import { directLoki, GATEWAY_LOKI, recordedLokiBehindCollector, withRecordedLoki } from './viewer_env.mjs';
import { tempFile } from './viewer_pages.mjs';

const env = recordedLokiBehindCollector();
const logsSource = GATEWAY_LOKI;

test("Show context on a trace's records asks the source for the service's lines before and after", async () => {
  const page = await env.browser.newPage();
  const logs = await new LogsPage(page).open(env.collector.ui, `trace_id=${LOKI_TRACE_ID}&${logsSource}`);
  // Records 0, 5, …, 35 carry the trace; the even ones are checkout's.
  assert.deepEqual(await logs.counts(), [8, 8]);
  await logs.expand('checkout request 20 failed');
  await page.click('[data-testid=show-context]');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=context-row]').length > 4, null, { timeout: 15000 });
  const rows = await page.$$eval('[data-testid=context-row]', (rs) => rs.map((r) => [r.querySelector('.log-message').textContent, r.classList.contains('current')]));
  // Every checkout record (0, 2, …, 38) within 20 lines of record 20, in time order.
  assert.deepEqual(rows.map(([m]) => Number(m.match(/request (\d+)/)[1])), Array.from({ length: 20 }, (_, k) => 2 * k));
  assert.deepEqual(rows.filter(([, current]) => current).map(([m]) => m), ['checkout request 20 failed: upstream timeout']);
  const asked = env.loki.requests.filter((r) => r.path === '/loki/api/v1/query_range' && r.params.query === '{service_name="checkout"}');
  assert.deepEqual(asked.map((r) => r.params.direction).sort(), ['backward', 'forward']);
  await page.close();
});

test('Show context keeps two records of one time and message from two streams', async () => {
  const now = Date.now();
  const ts = (msAgo) => String(BigInt(now - msAgo) * 1000000n);
  const traced = { trace_id: LOKI_TRACE_ID };
  await withRecordedLoki({
    streams: toStreams([
      { service: 'web', level: 'info', ts: ts(3000), line: 'starting' },
      // One time, one message, two streams (levels): two records.
      { service: 'web', level: 'info', ts: ts(2000), line: 'retrying', meta: traced },
      { service: 'web', level: 'warn', ts: ts(2000), line: 'retrying' },
      { service: 'web', level: 'info', ts: ts(1000), line: 'done' },
    ]),
  }, async (direct) => {
    const page = await env.browser.newPage();
    const logs = await new LogsPage(page).open(env.collector.ui, `trace_id=${LOKI_TRACE_ID}&${directLoki(direct)}`);
    assert.deepEqual(await logs.counts(), [1, 1]);
    await logs.expand('retrying');
    await page.click('[data-testid=show-context]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=context-row]').length > 1, null, { timeout: 15000 });
    const rows = await page.$$eval('[data-testid=context-row]', (rs) => rs.map((r) => [r.querySelector('.log-message').textContent, r.classList.contains('current')]));
    assert.deepEqual(rows.map(([m]) => m).sort(), ['done', 'retrying', 'retrying', 'starting']);
    assert.equal(rows.filter(([, current]) => current).length, 1);
    await page.close();
  });
});

test('"All" never asks Loki for more than its max_query_length, and says so', async () => {
  const page = await env.browser.newPage();
  const before = env.loki.requests.length;
  const logs = await new LogsPage(page).open(env.collector.ui, `lookback=all&${logsSource}`);
  assert.deepEqual(await logs.counts(), [40, 40]);
  const ranges = env.loki.requests.slice(before).filter((r) => r.path === '/loki/api/v1/query_range');
  assert.ok(ranges.length >= 1);
  const HOUR = 3600n * 1000000000n;
  for (const r of ranges) {
    const span = BigInt(r.params.end) - BigInt(r.params.start);
    assert.ok(span <= 721n * HOUR, `asked for ${span / HOUR} h`);
  }
  assert.match(await page.textContent('[data-testid=range-notice]'), /30 days at a time/);
  await page.close();
});

test('"Load older" goes on past empty 30-day windows, from where the last window began', async () => {
  const now = Date.now();
  const DAY = 86_400_000;
  const at = (ms, line) => ({ service: 'sparse', level: 'info', ts: String(BigInt(now - ms) * 1000000n), line });
  // Months apart: 60 days and more without a record between them.
  await withRecordedLoki({ streams: toStreams([at(3_600_000, 'an hour ago'), at(100 * DAY, 'a hundred days ago'), at(200 * DAY, 'two hundred days ago')]) }, async (direct) => {
    const page = await env.browser.newPage();
    const logs = await new LogsPage(page).open(env.collector.ui, `lookback=all&${directLoki(direct)}`);
    assert.deepEqual(await logs.counts(), [1, 1]);
    await page.click('[data-testid=load-older]');
    await logs.waitForCount(2);
    await page.waitForSelector('[data-testid=match-count][data-loading=false]');
    await page.click('[data-testid=load-older]');
    await logs.waitForCount(3);
    assert.deepEqual((await logs.rows()).map((r) => r.message), ['an hour ago', 'a hundred days ago', 'two hundred days ago']);
    // Each window ends where the one before began: no gap, no window asked twice.
    const windows = direct.requests.filter((r) => r.path === '/loki/api/v1/query_range').map((r) => [BigInt(r.params.start), BigInt(r.params.end)]);
    assert.equal(windows.length, 7, "1 + 3 + 3 windows of 30 days");
    for (let i = 1; i < windows.length; i++) assert.equal(windows[i][1], windows[i - 1][0], `window ${i}`);
    for (const [start, end] of windows) assert.ok(end - start <= 721n * 3600n * 1000000000n);
    // The windows were cut: older ones may still hold records.
    assert.equal(await page.locator('[data-testid=load-older]').count(), 1);
    await page.close();
  });
});

test('a "Load older" whose year of windows is empty says so, and "Search further back" goes on', async () => {
  const now = Date.now();
  const DAY = 86_400_000;
  const at = (ms, line) => ({ service: 'sparse', level: 'info', ts: String(BigInt(now - ms) * 1000000n), line });
  await withRecordedLoki({ streams: toStreams([at(3_600_000, 'an hour ago'), at(500 * DAY, 'five hundred days ago')]) }, async (direct) => {
    const page = await env.browser.newPage();
    const logs = await new LogsPage(page).open(env.collector.ui, `lookback=all&${directLoki(direct)}`);
    assert.deepEqual(await logs.counts(), [1, 1]);
    assert.equal(await page.locator('[data-testid=older-notice]').count(), 0);
    assert.equal((await page.textContent('[data-testid=load-older]')).trim(), 'Load older');
    // Days 30 to 390 hold nothing: the click says so and offers to look further back.
    await page.click('[data-testid=load-older]');
    await page.waitForSelector('[data-testid=older-notice]');
    await page.waitForSelector('[data-testid=match-count][data-loading=false]');
    assert.match(await page.textContent('[data-testid=older-notice]'), /^No records in the 360 days before \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC\. "Search further back" asks for the 360 days before those\.$/);
    assert.equal((await page.textContent('[data-testid=load-older]')).trim(), 'Search further back');
    assert.deepEqual(await logs.counts(), [1, 1]);
    const windows = () => direct.requests.filter((r) => r.path === '/loki/api/v1/query_range').length;
    assert.equal(windows(), 1 + 12);
    // The next click finds the record 500 days back; the notice goes.
    await page.click('[data-testid=load-older]');
    await logs.waitForCount(2);
    await page.waitForSelector('[data-testid=older-notice]', { state: 'detached' });
    assert.deepEqual((await logs.rows()).map((r) => r.message), ['an hour ago', 'five hundred days ago']);
    assert.equal((await page.textContent('[data-testid=load-older]')).trim(), 'Load older');
    await page.close();
  });
});

test('a "Load older" that failed asks for the same window again on the next click', async () => {
  const now = Date.now();
  const DAY = 86_400_000;
  const at = (ms, line) => ({ service: 'sparse', level: 'info', ts: String(BigInt(now - ms) * 1000000n), line });
  await withRecordedLoki({ streams: toStreams([at(3_600_000, 'an hour ago'), at(40 * DAY, 'forty days ago')]) }, async (direct) => {
    const page = await env.browser.newPage();
    const logs = await new LogsPage(page).open(env.collector.ui, `lookback=all&${directLoki(direct)}`);
    assert.deepEqual(await logs.counts(), [1, 1]);
    // Loki is down for one click: that window is not read.
    direct.down(true);
    await page.click('[data-testid=load-older]');
    await page.waitForSelector('[data-testid=error]');
    await page.waitForSelector('[data-testid=match-count][data-loading=false]');
    direct.down(false);
    await page.click('[data-testid=load-older]');
    await logs.waitForCount(2);
    assert.deepEqual((await logs.rows()).map((r) => r.message), ['an hour ago', 'forty days ago']);
    await page.close();
  });
});

test('a JSON-lines file of OTLP logs documents opens', async () => {
  const doc = (message, ns) => JSON.stringify({
    resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'web' } }] },
      scopeLogs: [{ logRecords: [{ timeUnixNano: ns, severityNumber: 9, body: { stringValue: message } }] }],
    }],
  });
  const file = tempFile('two.jsonl', `${doc('first line', '1700000000000000000')}\n${doc('second line', '1700000001000000000')}\n`);
  const page = await env.browser.newPage();
  const logs = await new LogsPage(page).open(env.collector.ui);
  await page.setInputFiles('[data-testid=log-file]', file);
  await logs.waitForCount(2);
  assert.deepEqual((await logs.rows()).map((r) => r.message), ['second line', 'first line']);
  assert.equal(await page.locator('[data-testid=error]').count(), 0);
  await page.close();
});
