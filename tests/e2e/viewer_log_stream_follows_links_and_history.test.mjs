// The log stream follows the address when only its query changes: the "Logs" link in the
// header from /logs?trace_id=… shows every record again, and back brings the trace's records
// back (as Grafana Explore restores its query from the URL); filters typed in stay in the
// address and are left behind by the link too.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium, startCollector } from '../support.mjs';
import { LogsPage } from './logs_page.mjs';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
let collector, browser;

before(async () => {
  collector = await startCollector();
  const str = (v) => ({ stringValue: v });
  const record = (msAgo, body, traceId) => ({
    timeUnixNano: String(BigInt(Date.now() - msAgo) * 1000000n),
    severityNumber: 9,
    body: str(body),
    ...(traceId ? { traceId, spanId: '00f067aa0ba902b7' } : {}),
  });
  const doc = {
    resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: str('shop') }] },
      scopeLogs: [{ logRecords: [record(3000, 'in the trace', TRACE), record(2000, 'outside any trace')] }],
    }],
  };
  const r = await fetch(`${collector.otlp}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(doc) });
  assert.equal(r.status, 200, await r.text());
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await collector?.stop();
});

const messages = async (logs) => (await logs.rows()).map((r) => r.message);
/** The header's links keep the sources in use, and nothing else, in the address. */
const onlySources = (url) => [...url.searchParams.keys()].sort().join() === 'logs,traces';

test('the Logs link leaves a trace filter and a typed filter; back restores the trace filter', async () => {
  const page = await browser.newPage();
  const logs = await new LogsPage(page).open(collector.ui, `trace_id=${TRACE}`);
  assert.deepEqual(await messages(logs), ['in the trace']);
  assert.equal(await page.isVisible('[data-testid=trace-filter]'), true);

  await page.locator('nav a', { hasText: 'Logs' }).click();
  await page.waitForURL((url) => url.pathname === '/logs' && onlySources(url));
  await page.waitForSelector('[data-testid=trace-filter]', { state: 'detached' });
  await logs.waitForCount(2);
  assert.deepEqual(await messages(logs), ['outside any trace', 'in the trace']);

  await page.goBack();
  await page.waitForSelector('[data-testid=trace-filter]');
  await logs.waitForCount(1);
  assert.deepEqual(await messages(logs), ['in the trace']);
  assert.equal(new URL(page.url()).searchParams.get('trace_id'), TRACE);

  // A typed filter goes into the address; the Logs link starts afresh without it.
  await page.goForward();
  await logs.waitForCount(2);
  await page.fill('[data-testid=log-text]', 'outside');
  await logs.waitForCount(1);
  assert.equal(new URL(page.url()).searchParams.get('q'), 'outside');
  await page.locator('nav a', { hasText: 'Logs' }).click();
  await page.waitForURL((url) => url.pathname === '/logs' && onlySources(url));
  await logs.waitForCount(2);
  assert.equal(await page.inputValue('[data-testid=log-text]'), '');
  await page.close();
});
