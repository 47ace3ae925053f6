// A JSON lines file mixing traces, logs and metrics (one OpenTelemetry Collector file exporter in
// several pipelines writes them): /open takes its traces, /logs its logs; a file without lines of
// the page's signal says so and links to the other page. Errors say what happened: an empty file,
// a source asked directly that never answers (given up after 30 s, named), an HTML error page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { TraceView, tempFile } from './viewer_pages.mjs';
import { waitFor } from '../support.mjs';
import { collectorAndBrowser } from './viewer_env.mjs';

const T = '0af7651916cd43dd8448eb211c80319c';
const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'mixed' } }] };
const traces = { resourceSpans: [{ resource, scopeSpans: [{ scope: {}, spans: [{ traceId: T, spanId: '1111111111111111', name: 'root', kind: 2, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000100000000' }] }] }] };
const logs = { resourceLogs: [{ resource, scopeLogs: [{ scope: {}, logRecords: [{ timeUnixNano: '1700000000020000000', severityNumber: 9, body: { stringValue: 'hello' }, traceId: T, spanId: '1111111111111111' }] }] }] };
const metrics = { resourceMetrics: [{ resource, scopeMetrics: [] }] };
const lines = (...docs) => docs.map((d) => `${JSON.stringify(d)}\n`).join('');

const env = collectorAndBrowser();

/** Opens `file` on /logs; the texts of its rows, or of its error. */
async function openLogs(page, file) {
  await page.goto(`${env.collector.ui}/logs`);
  await page.setInputFiles('[data-testid=log-file]', file);
  await page.waitForSelector('[data-testid=log-row], [data-testid=error]');
  const error = await page.$('[data-testid=error]');
  return error ? { error: await error.textContent() } : { rows: await page.$$eval('[data-testid=log-row]', (r) => r.map((x) => x.textContent)) };
}

test('a file mixing traces, logs and metrics lines: /open shows its trace and /logs its records', async () => {
  const file = tempFile('mixed.jsonl', lines(traces, logs, metrics));
  const view = await (await TraceView.openFile(env.browser, env.collector, file)).ready();
  assert.deepEqual(await view.names(), ['root']);
  const { rows } = await openLogs(view.page, file);
  assert.equal(rows.length, 1);
  assert.match(rows[0], /hello/);
  await view.page.close();
});

test('a JSON-lines file cut off mid-line opens its other lines on /open and /logs, and says which it left out', async () => {
  // As a file exporter stopped mid-write leaves it.
  const file = tempFile('cut.jsonl', `${lines(traces, logs, metrics)}${JSON.stringify(logs).slice(0, 40)}\n`);
  const view = await (await TraceView.openFile(env.browser, env.collector, file)).ready();
  assert.deepEqual(await view.names(), ['root']);
  assert.match(await view.page.textContent('[data-testid=notice]'), /^cut\.jsonl: 1 of its 4 lines could not be read and was left out \(it: line 4: invalid JSON: EOF while parsing/);
  const { rows } = await openLogs(view.page, file);
  assert.equal(rows.length, 1);
  assert.match(rows[0], /hello/);
  assert.match(await view.page.textContent('[data-testid=file-skipped]'), /^cut\.jsonl: 1 of its 4 lines could not be read and was left out \(it: line 4: not an OTLP\/JSON logs document: invalid JSON/);
  // The trace page's notice went with its page.
  assert.equal(await view.page.$('[data-testid=notice]'), null);
  await view.page.close();
});

test('a saved Jaeger search answer with a trace that cannot be read lists the others and says which it left out', async () => {
  const trace = (id, span) => ({ traceID: id, spans: [{ traceID: id, spanID: span, operationName: `op-${id}`, startTime: 1700000000000000, duration: 5, processID: 'p1' }], processes: { p1: { serviceName: 'web' } } });
  const file = tempFile('search.json', JSON.stringify({ data: [trace('a1', 'b1'), trace('a2', 'not-hex'), trace('a3', 'b3')] }));
  const view = await TraceView.openFile(env.browser, env.collector, file);
  assert.equal(await view.page.textContent('[data-testid=file-trace-count]'), 'The file holds 2 traces: open one.');
  assert.equal(await view.page.textContent('[data-testid=notice]'), 'search.json: 1 of its 3 traces could not be read and was left out (it: data[1].spans[0]: spanID is not a hex id)');
  await view.page.close();
});

test('a file chosen while the page\'s first query is still out keeps its records once that answer comes', async () => {
  const page = await env.browser.newPage();
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  let asked = 0;
  await page.route('**/loki/api/v1/query_range*', async (route) => { asked += 1; await held; await route.continue(); });
  await page.goto(`${env.collector.ui}/logs`);
  await waitFor('the page asks the collector for its records', () => asked > 0);
  await page.setInputFiles('[data-testid=log-file]', tempFile('mixed.jsonl', lines(traces, logs, metrics)));
  await page.waitForSelector('[data-testid=log-row]');
  const answered = page.waitForEvent('requestfinished', (r) => r.url().includes('/query_range'));
  release();
  await answered;
  // Two frames: whatever the answer would change has been drawn.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const rows = await page.$$eval('[data-testid=log-row]', (r) => r.map((x) => x.textContent));
  assert.equal(rows.length, 1);
  assert.match(rows[0], /hello/);
  assert.equal(await page.getAttribute('[data-testid=match-count]', 'data-loading'), 'false');
  await page.close();
});

test('a file of logs on /open, or of traces on /logs, says so and links to the other page', async () => {
  for (const [name, content] of [['logs.jsonl', lines(logs, metrics)], ['logs.json', JSON.stringify(logs)]]) {
    const view = await TraceView.openFile(env.browser, env.collector, tempFile(name, content));
    assert.match(await view.error.textContent(), /logs.*open it on the Logs page/);
    assert.equal(await view.page.getAttribute('[data-testid=error] [data-testid=other-page]', 'href'), '/logs');
    await view.page.close();
  }
  const page = await env.browser.newPage();
  const { error } = await openLogs(page, tempFile('traces.jsonl', lines(traces, metrics)));
  assert.match(error, /traces\.jsonl: none of its 2 lines holds logs/);
  assert.equal(await page.getAttribute('[data-testid=error] [data-testid=other-page]', 'href'), '/open');
  await page.close();
});

test('an empty file says it is empty', async () => {
  const view = await TraceView.openFile(env.browser, env.collector, tempFile('nothing.json', '\n'));
  assert.equal((await view.error.textContent()).trim(), 'nothing.json is empty');
  const { error } = await openLogs(view.page, tempFile('nothing.jsonl', ''));
  assert.equal(error.trim(), 'nothing.jsonl: the file is empty');
  await view.page.close();
});

test('a source asked directly that never answers is given up after 30 s, and an HTML error page is summarised', async () => {
  const held = new Set();
  const server = createServer((req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', 'authorization, accept');
    if (req.method === 'OPTIONS') return res.writeHead(204).end();
    if (req.url.startsWith('/proxy/')) {
      return res.writeHead(502, { 'content-type': 'text/html' }).end('<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>');
    }
    held.add(res); // never answered
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  try {
    const page = await env.browser.newPage();
    await page.goto(`${env.collector.ui}/trace/${T}?traces=${encodeURIComponent(`zipkin:${url}/proxy`)}`);
    assert.match(await page.textContent('[data-testid=error]'), /the source answered 502: an HTML page titled “502 Bad Gateway”$/);
    // The page's clock is Playwright's: once the source holds the request, 29 s pass and then the
    // 30th, in no time.
    await page.clock.install();
    await page.goto(`${env.collector.ui}/trace/${T}?traces=${encodeURIComponent(`zipkin:${url}`)}`);
    await waitFor('the request held by the source', () => held.size > 0);
    await page.clock.fastForward(29_000);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await page.$('[data-testid=error]'), null, 'not given up after 29 s');
    await page.clock.fastForward(1_000);
    await page.waitForSelector('[data-testid=error]', { timeout: 5000 });
    assert.match(await page.textContent('[data-testid=error]'), new RegExp(`${url} did not answer within 30 s`));
    await page.close();
  } finally {
    held.forEach((res) => res.destroy());
    await new Promise((r) => server.close(r));
  }
});
