// OTLP files opened by URL, on the trace page (/open?url=…) and the log page (/logs?file=…): the
// address keeps the URL so that a link shows the same view, and a failed fetch (no CORS, 404,
// not OTLP) shows an error panel naming what went wrong. The files are the recorded fixtures of
// ../shared/fixtures (their origins and licences are in MANIFEST.tsv there), served by a small
// static server on another origin than the viewer's, with CORS allowed under /cors/ only.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { basename, join } from 'node:path';
import { launchChromium, root, startCollector } from '../support.mjs';
import { LogsPage } from './logs_page.mjs';
import { TraceView } from './viewer_pages.mjs';

const fixtures = join(root, '..', 'shared', 'fixtures');
let collector, browser, files;

/** Serves the fixtures at /cors/NAME (with CORS allowed) and /no-cors/NAME (without). */
async function serveFixtures() {
  const server = createServer(async (req, res) => {
    const [, area, name] = new URL(req.url, 'http://x').pathname.split('/');
    if (area === 'cors') res.setHeader('Access-Control-Allow-Origin', '*');
    try {
      const body = await readFile(join(fixtures, basename(decodeURIComponent(name ?? ''))));
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

before(async () => {
  files = await serveFixtures();
  collector = await startCollector();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await collector?.stop();
  await files?.close();
});

test('a trace file typed in as a URL opens, and the address reproduces the view', async () => {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  await page.goto(`${collector.ui}/open`);
  const fileUrl = `${files.url}/cors/zipkin-lens-skew.json`;
  await page.fill('[data-testid=url-input]', fileUrl);
  await page.click('[data-testid=open-url]');
  const view = await new TraceView(page).ready();
  assert.equal(new URL(page.url()).searchParams.get('url'), fileUrl, 'the URL is kept in the address');
  const count = await view.header('span-count');
  assert.ok(Number(count) > 1, `${count} spans`);
  // The address alone, in a fresh page, shows the same trace.
  const again = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  await again.goto(page.url());
  const view2 = await new TraceView(again).ready();
  assert.equal(await view2.header('span-count'), count);
  assert.equal(await view2.header('trace-id'), await view.header('trace-id'));
  assert.equal(await again.inputValue('[data-testid=url-input]'), fileUrl);
  await page.close();
  await again.close();
});

test('an OTLP/JSON trace file by URL goes through the same tolerant reader', async () => {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  await page.goto(`${collector.ui}/open?url=${encodeURIComponent(`${files.url}/cors/otlp-proto-trace.json`)}`);
  const view = await new TraceView(page).ready();
  assert.equal(await view.header('trace-id'), '5b8efff798038103d269b633813fc60c');
  assert.deepEqual(await view.names(), ["I'm a server span"]);
  await page.close();
});

/** Opens /open?url=… and returns the error panel's text (failing if the page shows a trace). */
async function openError(url) {
  const page = await browser.newPage();
  await page.goto(`${collector.ui}/open?url=${encodeURIComponent(url)}`);
  await page.waitForSelector('[data-testid=error], [data-testid=span-row]', { timeout: 15000 });
  assert.equal(await page.locator('[data-testid=span-row]').count(), 0, 'no waterfall');
  const text = await page.textContent('[data-testid=error]');
  await page.close();
  return text;
}

test('a file that is missing, not shared by CORS, or not OTLP shows an error panel saying which', async () => {
  const missing = await openError(`${files.url}/cors/no-such-file.json`);
  assert.match(missing, /no-such-file\.json/);
  assert.match(missing, /404/);
  const blocked = await openError(`${files.url}/no-cors/otlp-proto-trace.json`);
  assert.match(blocked, /could not be fetched/);
  assert.match(blocked, /CORS/);
  const notOtlp = await openError(`${files.url}/cors/jaeger-apiv3-GetServices.json`);
  assert.match(notOtlp, /jaeger-apiv3-GetServices\.json is not a trace file/);
  const notUrl = await openError('not a url');
  assert.match(notUrl, /not a URL/);
});

test('a log file by URL fills the log stream, and the address keeps it', async () => {
  const page = await browser.newPage();
  const fileUrl = `${files.url}/cors/otel-rust-it-logs.json`;
  const logs = await new LogsPage(page).open(collector.ui, `file=${encodeURIComponent(fileUrl)}`);
  await logs.waitForCount(1);
  assert.deepEqual((await logs.rows()).map((r) => [r.level, r.service, r.message]), [
    ['INFO', 'logs-integration-test', 'hello from banana. My price is 2.99.'],
  ]);
  assert.equal(new URL(page.url()).searchParams.get('file'), fileUrl);
  assert.equal(await page.inputValue('[data-testid=log-url]'), fileUrl);
  // Typed in: a missing file is an error panel naming it.
  await page.fill('[data-testid=log-url]', `${files.url}/cors/gone.json`);
  await page.click('[data-testid=log-open-url]');
  await page.waitForSelector('[data-testid=error]');
  assert.match(await page.textContent('[data-testid=error]'), /gone\.json.*404/);
  await page.close();
});
