// The log stream after QA s11: *Show context* asks the source for the service's lines around a
// record when the records held (one trace's) lack them; Loki is never asked for more than its
// default max_query_length (721h), "all" pages back 30 days at a time with a note; and JSON-lines
// OTLP log files (one logs document a line) open.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium, startCollector } from '../support.mjs';
import { LOKI_TRACE_ID, startRecordedLoki } from './recorded_loki.mjs';
import { LogsPage } from './logs_page.mjs';
import { tempFile } from './viewer_pages.mjs';

let loki, collector, browser;
const logsSource = `logs=${encodeURIComponent('loki:/upstream/loki')}`;

before(async () => {
  loki = await startRecordedLoki();
  collector = await startCollector({ args: ['--upstream', `loki=${loki.url}`] });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await collector?.stop();
  await loki?.stop();
});

test("Show context on a trace's records asks the source for the service's lines before and after", async () => {
  const page = await browser.newPage();
  const logs = await new LogsPage(page).open(collector.ui, `trace_id=${LOKI_TRACE_ID}&${logsSource}`);
  // Records 0, 5, …, 35 carry the trace; the even ones are checkout's.
  assert.deepEqual(await logs.counts(), [8, 8]);
  await logs.expand('checkout request 20 failed');
  await page.click('[data-testid=show-context]');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=context-row]').length > 4, null, { timeout: 15000 });
  const rows = await page.$$eval('[data-testid=context-row]', (rs) => rs.map((r) => [r.querySelector('.log-message').textContent, r.classList.contains('current')]));
  // Every checkout record (0, 2, …, 38) within 20 lines of record 20, in time order.
  assert.deepEqual(rows.map(([m]) => Number(m.match(/request (\d+)/)[1])), Array.from({ length: 20 }, (_, k) => 2 * k));
  assert.deepEqual(rows.filter(([, current]) => current).map(([m]) => m), ['checkout request 20 failed: upstream timeout']);
  const asked = loki.requests.filter((r) => r.path === '/loki/api/v1/query_range' && r.params.query === '{service_name="checkout"}');
  assert.deepEqual(asked.map((r) => r.params.direction).sort(), ['backward', 'forward']);
  await page.close();
});

test('"All" never asks Loki for more than its max_query_length, and says so', async () => {
  const page = await browser.newPage();
  const before = loki.requests.length;
  const logs = await new LogsPage(page).open(collector.ui, `lookback=all&${logsSource}`);
  assert.deepEqual(await logs.counts(), [40, 40]);
  const ranges = loki.requests.slice(before).filter((r) => r.path === '/loki/api/v1/query_range');
  assert.ok(ranges.length >= 1);
  const HOUR = 3600n * 1000000000n;
  for (const r of ranges) {
    const span = BigInt(r.params.end) - BigInt(r.params.start);
    assert.ok(span <= 721n * HOUR, `asked for ${span / HOUR} h`);
  }
  assert.match(await page.textContent('[data-testid=range-notice]'), /30 days at a time/);
  await page.close();
});

test('a JSON-lines file of OTLP logs documents opens', async () => {
  const doc = (message, ns) => JSON.stringify({
    resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'web' } }] },
      scopeLogs: [{ logRecords: [{ timeUnixNano: ns, severityNumber: 9, body: { stringValue: message } }] }],
    }],
  });
  const file = tempFile('two.jsonl', `${doc('first line', '1700000000000000000')}\n${doc('second line', '1700000001000000000')}\n`);
  const page = await browser.newPage();
  const logs = await new LogsPage(page).open(collector.ui);
  await page.setInputFiles('[data-testid=log-file]', file);
  await logs.waitForCount(2);
  assert.deepEqual((await logs.rows()).map((r) => r.message), ['second line', 'first line']);
  assert.equal(await page.locator('[data-testid=error]').count(), 0);
  await page.close();
});
