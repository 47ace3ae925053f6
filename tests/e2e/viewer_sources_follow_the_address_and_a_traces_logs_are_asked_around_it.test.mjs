// The sources follow the page address (back and forward included), the settings' Kind follows
// the upstream chips and Reset, a trace's logs are asked of Loki around the trace's own time (on
// the trace page and on a /logs?trace_id= link opened afresh), Tempo's PARTIAL notice goes with
// its trace, and a viewer on a static host points at Settings. Backends: the recorded Tempo,
// Zipkin and Loki of recorded_backends.mjs, asked directly (they allow CORS).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { root, serveDir } from '../support.mjs';
import { behindCollector } from './viewer_env.mjs';
import { startRecordedBackends, TEMPO_TRACE_ID } from './recorded_backends.mjs';

const env = behindCollector('backends', startRecordedBackends, (url) => ['--upstream', `rec=${url}`]);

const tempo = () => `tempo:${env.backends.url}/tempo`;
const loki = () => `loki:${env.backends.url}/loki`;
const sourcesQuery = () => `traces=${encodeURIComponent(tempo())}&logs=${encodeURIComponent(loki())}`;
/** The recorded Tempo trace starts at 1544712660 s (2018): far beyond any "last 7 days". */
const TRACE_START = 1544712660000000000n;
const lokiAsked = () => env.backends.requests.filter((r) => r.path === '/loki/loki/api/v1/query_range');
const rangeOf = (r) => {
  const q = new URLSearchParams(r.query);
  return [BigInt(q.get('start')), BigInt(q.get('end'))];
};

async function newPage() {
  const page = await env.browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.errors = errors;
  return page;
}

test("a trace's logs are asked of Loki around the trace's own time, on the trace page and on a fresh /logs?trace_id= tab", async () => {
  const page = await newPage();
  const before = lokiAsked().length;
  await page.goto(`${env.collector.ui}/trace/${TEMPO_TRACE_ID}?${sourcesQuery()}`);
  await page.waitForSelector('[data-testid=trace-logs] [data-testid=log-row]', { timeout: 15000 });
  const asked = lokiAsked().slice(before);
  assert.equal(asked.length, 1);
  const [start, end] = rangeOf(asked[0]);
  assert.ok(start <= TRACE_START && TRACE_START <= end, `asked [${start}, ${end}], the trace starts at ${TRACE_START}`);
  // The link of the trace page, opened in a new tab (nothing fetched before in it).
  const href = await page.getAttribute('[data-testid=logs-link]', 'href');
  const tab = await newPage();
  const n = lokiAsked().length;
  await tab.goto(`${env.collector.ui}${href}`);
  await tab.waitForSelector('[data-testid=log-row]', { timeout: 15000 });
  assert.match(await tab.textContent('[data-testid=log-list]'), /half way through the server span/);
  const [s2, e2] = rangeOf(lokiAsked().slice(n).find((r) => /trace_id/.test(decodeURIComponent(r.query))));
  assert.ok(s2 <= TRACE_START && TRACE_START <= e2, `the log page asked [${s2}, ${e2}]`);
  assert.deepEqual([...page.errors, ...tab.errors], []);
  await page.close();
  await tab.close();
});

test("a trace the trace source fails to give is asked once: its logs are then asked at once, over the last 7 days", async () => {
  const page = await newPage();
  const id = '0af7651916cd43dd8448eb211c80319c';
  const broken = `tempo:${env.backends.url}/tempo-broken`;
  const before = env.backends.requests.length;
  await page.goto(`${env.collector.ui}/trace/${id}?traces=${encodeURIComponent(broken)}&logs=${encodeURIComponent(loki())}`);
  await page.waitForSelector('[data-testid=error]', { timeout: 15000 });
  await page.waitForFunction(() => /No log records carry this trace id/.test(document.querySelector('[data-testid=trace-logs]')?.textContent ?? ''), null, { timeout: 15000 });
  const asked = env.backends.requests.slice(before);
  const tempoPaths = asked.filter((r) => r.path.startsWith('/tempo-broken/')).map((r) => r.path);
  assert.ok(tempoPaths.length >= 1, 'the trace source was asked');
  assert.deepEqual(tempoPaths, [...new Set(tempoPaths)], `no path asked twice: ${tempoPaths}`);
  const logs = asked.filter((r) => r.path === '/loki/loki/api/v1/query_range');
  assert.equal(logs.length, 1);
  const [start, end] = rangeOf(logs[0]);
  assert.ok(end - start >= 7n * 24n * 3600n * 1000000000n - 1000000000n, `a week asked: [${start}, ${end}]`);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("Tempo's PARTIAL notice goes with its trace: gone on the search page and on another trace's error", async () => {
  const page = await newPage();
  await page.goto(`${env.collector.ui}/trace/${TEMPO_TRACE_ID}?${sourcesQuery()}`);
  await page.waitForSelector('[data-testid=notice]', { timeout: 15000 });
  await page.locator('header nav a', { hasText: 'Search' }).click();
  await page.waitForSelector('[data-testid=trace-source]');
  assert.equal(await page.locator('[data-testid=notice]').count(), 0, 'no notice on the search page');
  // Back to the partial trace, then a trace Tempo cannot give (an error).
  await page.goBack();
  await page.waitForSelector('[data-testid=notice]', { timeout: 15000 });
  await page.evaluate((q) => {
    history.pushState(null, '', `/trace/not-a-trace-id?${q}`);
    dispatchEvent(new PopStateEvent('popstate'));
  }, sourcesQuery());
  await page.waitForSelector('[data-testid=error]', { timeout: 15000 });
  assert.equal(await page.locator('[data-testid=notice]').count(), 0, 'no notice above the error of another trace');
  await page.close();
});

test('after saving other sources in Settings, Back shows the sources of the address it is at', async () => {
  const page = await newPage();
  await page.goto(`${env.collector.ui}/?traces=${encodeURIComponent(tempo())}&lookback=all`);
  assert.match(await page.textContent('[data-testid=trace-source]'), /Grafana Tempo/);
  await page.click('header a[href="/settings"]');
  await page.selectOption('[data-testid=traces-kind]', 'zipkin');
  await page.fill('[data-testid=traces-url]', `${env.backends.url}/zipkin`);
  await page.click('[data-testid=save-sources]');
  await page.waitForFunction(() => /Zipkin/.test(document.querySelector('[data-testid=trace-source]')?.textContent ?? ''));
  await page.goBack();
  await page.waitForSelector('[data-testid=settings-form]');
  await page.goBack();
  assert.match(page.url(), /traces=tempo/);
  await page.waitForFunction(() => document.querySelector('[data-testid=trace-source]'));
  assert.match(await page.textContent('[data-testid=trace-source]'), /Grafana Tempo/, 'the page follows the address');
  await page.goForward();
  await page.goForward();
  await page.waitForFunction(() => /Zipkin/.test(document.querySelector('[data-testid=trace-source]')?.textContent ?? ''));
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('an address naming a source the viewer cannot read says so, and which sources it shows instead', async () => {
  const page = await newPage();
  // No sources saved by an earlier test: the collector is the one in use.
  await page.goto(`${env.collector.ui}/settings`);
  await page.evaluate(() => localStorage.clear());
  await page.goto(`${env.collector.ui}/?traces=${encodeURIComponent('bogus:http://x')}&logs=${encodeURIComponent('zipkin:/upstream/rec/zipkin')}&lookback=all`);
  const notice = page.locator('[data-testid=source-notice]');
  await notice.waitFor();
  const text = await notice.textContent();
  assert.match(text, /cannot read \(traces=bogus:http:\/\/x, logs=zipkin:\/upstream\/rec\/zipkin\)/);
  assert.match(text, /showing traces from edgescope collector and logs from edgescope collector instead/);
  assert.match(await page.textContent('[data-testid=trace-source]'), /edgescope collector/);
  // A page whose address names good sources (or none) has no such notice.
  await page.goto(`${env.collector.ui}/?${sourcesQuery()}&lookback=all`);
  await page.waitForFunction(() => /Grafana Tempo/.test(document.querySelector('[data-testid=trace-source]')?.textContent ?? ''));
  assert.equal(await page.locator('[data-testid=source-notice]').count(), 0);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("the settings' Kind follows an upstream's \"as …\" chip and Reset", async () => {
  const page = await newPage();
  await page.goto(`${env.collector.ui}/settings`);
  await page.waitForSelector('[data-testid=upstreams] button');
  assert.equal(await page.inputValue('[data-testid=traces-kind]'), 'collector');
  await page.click('[data-testid=upstreams] button:has-text("as tempo")');
  assert.equal(await page.inputValue('[data-testid=traces-kind]'), 'tempo');
  assert.equal(await page.inputValue('[data-testid=traces-url]'), '/upstream/rec');
  await page.click('[data-testid=upstreams] button:has-text("as loki")');
  assert.equal(await page.inputValue('[data-testid=logs-kind]'), 'loki');
  await page.click('[data-testid=reset-sources]');
  assert.equal(await page.inputValue('[data-testid=traces-kind]'), 'collector');
  assert.equal(await page.inputValue('[data-testid=logs-kind]'), 'collector');
  // Reset, then a URL typed and saved: the kind saved is the one shown.
  await page.selectOption('[data-testid=traces-kind]', 'tempo');
  await page.click('[data-testid=reset-sources]');
  await page.fill('[data-testid=traces-url]', '/upstream/rec/tempo');
  await page.click('[data-testid=save-sources]');
  await page.waitForSelector('[data-testid=trace-source]');
  const stored = JSON.parse(await page.evaluate(() => localStorage.getItem('edgescope.sources')));
  assert.equal(stored.traces.kind, 'collector');
  await page.close();
});

test('on a static host with no collector, the first page says to choose the sources in Settings', async () => {
  const site = await serveDir(join(root, 'viewer', 'dist'));
  try {
    const page = await newPage();
    await page.goto(`${site.url}/`);
    await page.waitForSelector('[data-testid=error]', { timeout: 15000 });
    assert.match(await page.textContent('[data-testid=sources-hint]'), /choose the trace and log sources in Settings/);
    assert.equal(await page.getAttribute('[data-testid=sources-hint] a', 'href'), '/settings');
    await page.close();
  } finally {
    site.close();
  }
});
