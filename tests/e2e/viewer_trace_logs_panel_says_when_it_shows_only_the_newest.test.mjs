// A trace's logs panel shows at most 1,000 records: of a trace with more, the newest 1,000 in
// time order and a line saying so (it cut them silently, and the collector and Loki kept
// different ends); of a trace with fewer, all of them and no such line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium, startCollector } from '../support.mjs';

const MANY = '4bf92f3577b34da6a3ce929d0e0e4736';
const FEW = '0af7651916cd43dd8448eb211c80319c';
let collector, browser;

async function post(path, body) {
  const response = await fetch(`${collector.otlp}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, await response.text());
}

const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'busy' } }] };
const now = BigInt(Date.now()) * 1000000n;
const trace = (traceId) => ({
  resourceSpans: [{ resource, scopeSpans: [{ spans: [{
    traceId, spanId: 'eee19b7ec3c1b174', name: 'job', kind: 1,
    startTimeUnixNano: String(now - 2000n * 1000000000n), endTimeUnixNano: String(now),
  }] }] }],
});
const logs = (traceId, n) => ({
  resourceLogs: [{ resource, scopeLogs: [{ logRecords: Array.from({ length: n }, (_, i) => ({
    // One a second, the oldest first: record i at now - (n - i) s.
    timeUnixNano: String(now - BigInt(n - i) * 1000000000n),
    severityNumber: 9,
    body: { stringValue: `record ${i}.` },
    traceId,
    spanId: 'eee19b7ec3c1b174',
  })) }] }],
});

before(async () => {
  collector = await startCollector();
  await post('/v1/traces', trace(MANY));
  await post('/v1/logs', logs(MANY, 1002));
  await post('/v1/traces', trace(FEW));
  await post('/v1/logs', logs(FEW, 3));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await collector?.stop();
});

const rowsOf = (page) => page.$$eval('[data-testid=trace-logs] [data-testid=log-row]', (rows) => rows.map((r) => r.textContent));

test('of a trace with more than 1,000 records, the newest 1,000 show in time order, and the panel says so', async () => {
  const page = await browser.newPage();
  await page.goto(`${collector.ui}/trace/${MANY}`);
  await page.waitForSelector('[data-testid=trace-logs] [data-testid=log-row]', { timeout: 15000 });
  const rows = await rowsOf(page);
  assert.equal(rows.length, 1000);
  assert.match(rows[0], /record 2\./);
  assert.match(rows.at(-1), /record 1001\./);
  assert.ok(await page.isVisible('[data-testid=trace-logs-more]'), 'the cut is said');
  assert.match(await page.textContent('[data-testid=trace-logs-more]'), /newest 1,000/);
  await page.close();
});

test('of a trace with few records, all of them show and nothing is said of a cut', async () => {
  const page = await browser.newPage();
  await page.goto(`${collector.ui}/trace/${FEW}`);
  await page.waitForSelector('[data-testid=trace-logs] [data-testid=log-row]', { timeout: 15000 });
  const rows = await rowsOf(page);
  assert.equal(rows.length, 3);
  assert.match(rows[0], /record 0\./);
  assert.ok(!(await page.isVisible('[data-testid=trace-logs-more]')));
  await page.close();
});
