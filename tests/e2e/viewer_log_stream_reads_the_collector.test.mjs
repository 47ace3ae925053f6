// The log stream from the bundled collector, which speaks the Loki API: records from the shared
// fixtures (otlp-proto-logs.json, otel-rust-it-logs.json) and posted ones, `?trace_id=` and the
// link from a record to its trace, a huge line that stays cheap, the live tail over the
// collector's own WebSocket, "Load older" past the first answer's limit, and a `buffer=` the page
// cannot use, named on the page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium, root, startCollector } from '../support.mjs';
import { LogsPage } from './logs_page.mjs';

const FIXTURE_TRACE = '5b8efff798038103d269b633813fc60c';
const fixture = (name) => readFileSync(join(root, '..', 'shared', 'fixtures', name), 'utf8');
let collector, browser;

async function post(path, body) {
  const response = await fetch(`${collector.otlp}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  assert.equal(response.status, 200, await response.text());
}

const str = (v) => ({ stringValue: v });
function records(service, list) {
  return {
    resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: str(service) }, { key: 'deployment.environment', value: str('test') }] },
      scopeLogs: [{
        scope: { name: 'e2e' },
        logRecords: list.map(([msAgo, severityNumber, body, attributes = {}, traceId]) => ({
          timeUnixNano: String(BigInt(Date.now() - msAgo) * 1000000n),
          severityNumber,
          body: str(body),
          attributes: Object.entries(attributes).map(([key, v]) => ({ key, value: str(v) })),
          ...(traceId ? { traceId, spanId: 'eee19b7ec3c1b174' } : {}),
        })),
      }],
    }],
  };
}

const HUGE = `${'x'.repeat(5_000_000)} end of the huge line`;

before(async () => {
  // The fixtures are years old: keep them (no retention).
  collector = await startCollector({ args: ['--retention-hours', '0'] });
  await post('/v1/logs', fixture('otlp-proto-logs.json'));
  await post('/v1/logs', fixture('otel-rust-it-logs.json'));
  await post('/v1/traces', fixture('otlp-proto-trace.json'));
  await post('/v1/logs', records('shop-web', [
    [60000, 9, 'cart loaded', { 'http.route': '/cart' }],
    [50000, 13, 'cart slow', { 'http.route': '/cart' }],
    [40000, 17, 'payment failed', { 'http.route': '/pay' }, FIXTURE_TRACE],
    [30000, 21, 'process crashed'],
    [20000, 5, 'cache miss'],
    [10000, 1, 'entering handler'],
    [5000, 9, HUGE],
  ]));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await collector?.stop();
});

test('fixture and posted records are listed with their levels; filters narrow them', async () => {
  const page = await browser.newPage();
  const logs = await new LogsPage(page).open(collector.ui, 'lookback=all');
  assert.deepEqual(await logs.counts(), [9, 9]);
  const rows = await logs.rows();
  assert.deepEqual(rows.map((r) => r.level), ['INFO', 'TRACE', 'DEBUG', 'FATAL', 'ERROR', 'WARN', 'INFO', 'INFO', 'INFO']);
  assert.deepEqual(rows.slice(-2).map((r) => [r.service, r.message]), [
    ['logs-integration-test', 'hello from banana. My price is 2.99.'],
    ['my.service', 'Example log record'],
  ]);
  assert.match(rows[3].levelClass, /level-fatal/);
  await logs.filterService('shop-web');
  await logs.waitForCount(7);
  await logs.filterLevel('warn');
  await logs.waitForCount(3);
  await logs.filterAttribute('http_route=/pay'); // Loki's names: dots become underscores
  await logs.waitForCount(1);
  await logs.filterAttribute('deployment_environment=test'); // a stream label
  await logs.waitForCount(3);
  await logs.filterText('cart');
  await logs.waitForCount(1);
  const url = new URL(page.url());
  assert.deepEqual(Object.fromEntries(url.searchParams), {
    lookback: 'all', service: 'shop-web', level: 'warn', attr: 'deployment_environment=test', q: 'cart',
  }, 'the filters are in the page URL');
  await page.reload();
  await logs.waitForCount(1);
  await page.close();
});

test('?trace_id= shows that trace\'s records, and a record\'s trace id opens the trace', async () => {
  const page = await browser.newPage();
  const logs = await new LogsPage(page).open(collector.ui, `lookback=all&trace_id=${FIXTURE_TRACE}`);
  assert.deepEqual((await logs.rows()).map((r) => r.message).sort(), ['Example log record', 'payment failed']);
  await page.click('[data-testid=log-row]:has-text("payment failed") [data-testid=log-trace-link]');
  await page.waitForURL(new RegExp(`/trace/${FIXTURE_TRACE}\\?traces=collector%3A&logs=collector%3A$`));
  await page.waitForSelector('[data-testid=span-row]');
  assert.deepEqual(await page.$$eval('[data-testid=span-name]', (els) => els.map((e) => e.textContent)), ["I'm a server span"]);
  // And back: the trace page links to the stream filtered to the trace, looked for around the
  // trace's time (the fixture's records are from 2018).
  await page.click('[data-testid=logs-link]');
  await page.waitForURL(new RegExp(`/logs\\?trace_id=${FIXTURE_TRACE}&traces=collector%3A&logs=collector%3A$`));
  await page.waitForSelector('[data-testid=match-count][data-loading=false]');
  await logs.waitForCount(1);
  assert.deepEqual((await logs.rows()).map((r) => r.message), ['Example log record'], 'records an hour around the trace');
  await page.close();
});

test('a 5 MB line is cut in its row, expands in steps, and the page never holds it whole', async () => {
  const page = await browser.newPage();
  const logs = await new LogsPage(page).open(collector.ui, 'lookback=all');
  const top = (await logs.rows())[0];
  assert.equal(top.message.length, 240);
  const hidden = Number((await page.textContent('[data-testid=message-more]')).match(/\+(\d+) characters/)[1]);
  assert.equal(hidden, HUGE.length - 240);
  await page.click('[data-testid=message-more]');
  await page.waitForSelector('[data-testid=log-details]');
  assert.equal((await page.textContent('[data-testid=log-full-message]')).length, 4000);
  await page.click('[data-testid=message-expand]');
  await page.waitForFunction(() => document.querySelector('[data-testid=log-full-message]').textContent.length === 104000);
  // What would freeze the page is laying out the whole line: the document holds a few pages of it.
  const html = await page.evaluate(() => document.documentElement.outerHTML.length);
  assert.ok(html < 200_000, `the document holds ${html} characters`);
  await logs.filterText('end of the huge line');
  await logs.waitForCount(1);
  await page.close();
});

test('live tail from the collector over its WebSocket shows records as they are stored', async () => {
  const page = await browser.newPage();
  const logs = await new LogsPage(page).open(collector.ui, 'live=1');
  await page.waitForFunction(() => document.querySelector('[data-testid=live-status]')?.textContent === 'live (WebSocket)');
  await logs.waitForCount(7); // the last hour's records: the posted ones
  await post('/v1/logs', records('tail-test', [[0, 17, 'tailed while watching']]));
  await logs.waitForCount(8);
  assert.deepEqual((await logs.rows())[0], { level: 'ERROR', levelClass: 'level level-error', service: 'tail-test', message: 'tailed while watching' });
  await page.close();
});

test('an OTLP/JSON log file opens in the stream, in place of the source\'s records', async () => {
  const page = await browser.newPage();
  const logs = await new LogsPage(page).open(collector.ui, 'lookback=all');
  assert.ok((await logs.counts())[1] >= 9);
  await page.setInputFiles('[data-testid=log-file]', join(root, '..', 'shared', 'fixtures', 'otel-rust-it-logs.json'));
  await logs.waitForCount(1);
  assert.deepEqual((await logs.rows()).map((r) => [r.level, r.service, r.message]), [
    ['INFO', 'logs-integration-test', 'hello from banana. My price is 2.99.'],
  ]);
  await page.close();
});

test('"Load older" asks for the records before the oldest one held, past the first answer\'s limit', async () => {
  // 5,100 records of one service in the last hour: more than one answer's 5,000.
  await post('/v1/logs', records('bulk', Array.from({ length: 5100 }, (_, i) => [1_800_000 - i * 100, 9, `bulk line ${i}`])));
  const page = await browser.newPage();
  const logs = await new LogsPage(page).open(collector.ui, 'service=bulk');
  assert.deepEqual(await logs.counts(), [5000, 5000], 'the newest 5,000 of the service');
  await page.waitForSelector('[data-testid=partial-notice]');
  await page.click('[data-testid=load-older]');
  await logs.waitForCount(5100); // every bulk line once: no gap, no duplicate
  await page.waitForSelector('[data-testid=load-older]', { state: 'detached' });
  await page.waitForSelector('[data-testid=partial-notice]', { state: 'detached' });
  // The oldest, asked of the collector by its text.
  await logs.filterText('bulk line 0');
  await page.waitForSelector('[data-testid=match-count][data-loading=false]');
  assert.deepEqual(await logs.counts(), [1, 1]);
  assert.equal((await logs.rows())[0].message, 'bulk line 0');
  await page.close();
});

test('a `buffer=` the page cannot use is named on the page, and the buffer it keeps instead is the one shown', async () => {
  const page = await browser.newPage();
  await new LogsPage(page).open(collector.ui, 'buffer=10');
  assert.equal(
    await page.textContent('[data-testid=buffer-notice]'),
    'buffer=10 is outside 1000–2000000 records; keeping at least 1000',
  );
  await new LogsPage(page).open(collector.ui, 'buffer=5000');
  assert.equal(await page.$('[data-testid=buffer-notice]'), null, 'a usable buffer gets no notice');
  await page.close();
});
