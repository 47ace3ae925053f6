// A record whose severity names no known level (`verbose`, with severity number 0) shows that
// text in its row, in the unknown level's grey, as the README says; known levels show their names.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium, startCollector } from '../support.mjs';
import { LogsPage } from './logs_page.mjs';

let collector, browser;

before(async () => {
  collector = await startCollector();
  const now = BigInt(Date.now()) * 1000000n;
  const record = (ago, severityNumber, severityText, body) => ({
    timeUnixNano: String(now - BigInt(ago) * 1000000n), severityNumber, severityText, body: { stringValue: body },
  });
  const response = await fetch(`${collector.otlp}/v1/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'levels' } }] },
      scopeLogs: [{ logRecords: [record(3000, 0, 'verbose', 'chatty'), record(2000, 9, 'INFO', 'plain'), record(1000, 0, '', 'nameless')] }],
    }] }),
  });
  assert.equal(response.status, 200);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await collector?.stop();
});

test('a level of no known name is shown as written, in the unknown grey', async () => {
  const page = await browser.newPage();
  const logs = await new LogsPage(page).open(collector.ui, 'lookback=1h');
  const rows = await logs.rows();
  const by = Object.fromEntries(rows.map((r) => [r.message, r]));
  assert.equal(by.chatty.level, 'verbose');
  assert.match(by.chatty.levelClass, /level-unknown/);
  assert.equal(by.plain.level, 'INFO');
  assert.equal(by.nameless.level, 'UNKNOWN');
  await page.close();
});
