// What QA found: log records carrying a Zipkin trace id as Zipkin and B3 write it (16 hex digits)
// are found from the trace (the log page's query and the trace page's, of Loki and of the
// collector), log rows show such an id's significant digits, the header's links keep the sources
// the address names, and a file fetched by URL (/open?url=, /logs?file=) from a server that sends
// nothing for 30 s, or one above 256 MiB, ends in an error naming it, while a slow file that keeps
// coming is waited for. The stand-in Zipkin and Loki (the recorded Yelp trace of
// ../shared/fixtures, see MANIFEST.tsv there) and the file server run here and allow CORS.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { launchChromium, root, startCollector, waitFor } from '../support.mjs';
import { smallTrace } from './viewer_pages.mjs';

const yelp = readFileSync(join(root, '..', 'shared', 'fixtures', 'zipkin-lens-yelp.json'), 'utf8');
/** The Yelp trace's id as Zipkin writes it (64 bits), and as OTLP does. */
const ZID = 'a03ee8fff1dcd9b9';
const ZID32 = `0000000000000000${ZID}`;
const T0 = BigInt(JSON.parse(yelp).find((s) => s.timestamp).timestamp) * 1000n;

/** Records of the stand-in Loki: the trace's id in either form, in upper case, and another trace's. */
const RECORDS = [
  { line: 'record with the 16-hex zipkin id', md: { trace_id: ZID } },
  { line: 'record with the 32-hex id', md: { trace_id: ZID32 } },
  { line: 'record with an upper-case id', md: { trace_id: ZID.toUpperCase() } },
  { line: 'record of another trace', md: { trace_id: 'b03ee8fff1dcd9b9' } },
];
const NOW_LINE = 'a line of the link\'s Loki';

/** Loki's `| trace_id="…"` (a comparison of text) and `| trace_id=~"…"` (anchored at both ends). */
function traceFilter(query) {
  const m = /\| trace_id(=~|=)"((?:[^"\\]|\\.)*)"/.exec(query);
  if (!m) return () => true;
  if (m[1] === '=') return (id) => id === m[2];
  const re = new RegExp(`^(?:${m[2]})$`, 's');
  return (id) => re.test(id ?? '');
}

let collector, browser, server, base;
const lokiQueries = [];
const hanging = new Set();

function lokiAnswer(url) {
  const query = url.searchParams.get('query') ?? '';
  lokiQueries.push(query);
  const keep = traceFilter(query);
  const values = RECORDS.filter((r) => keep(r.md.trace_id))
    .map((r, i) => [String(T0 + BigInt(i + 1) * 1000000n), r.line, { structuredMetadata: r.md }]);
  if (!/trace_id/.test(query)) values.push([String(BigInt(Date.now()) * 1000000n), NOW_LINE, { structuredMetadata: {} }]);
  return {
    status: 'success',
    data: { resultType: 'streams', encodingFlags: ['categorize-labels'], result: values.length ? [{ stream: { service_name: 'routing' }, values }] : [] },
  };
}

function handle(req, res) {
  const url = new URL(req.url, 'http://x');
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Allow-Headers', '*');
  if (req.method === 'OPTIONS') return res.writeHead(204).end();
  const json = (body) => res.writeHead(200, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
  const path = url.pathname;
  if (path.startsWith('/zipkin/api/v2/trace/')) return json(yelp);
  if (path === '/zipkin/api/v2/services') return json(['routing']);
  if (path.startsWith('/zipkin/api/v2/')) return json([]);
  if (path === '/loki/api/v1/query_range') return json(lokiAnswer(url));
  if (path.startsWith('/loki/api/v1/label')) return json({ status: 'success', data: [] });
  const trace = JSON.stringify(smallTrace());
  switch (path) {
    case '/never.json': // Takes the request, never answers.
      hanging.add(res);
      return;
    case '/stall.json': // Headers and half a file, then nothing.
      hanging.add(res);
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.write(trace.slice(0, trace.length / 2));
    case '/huge.json': // Says 300 MB, sends a little, then nothing.
      hanging.add(res);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '300000000' });
      return void res.write('{"resourceSpans":[');
    case '/slow.json': { // A whole file in 8 parts, 5 s apart: 35 s in all, never 30 s silent.
      hanging.add(res);
      res.writeHead(200, { 'content-type': 'application/json' });
      const part = Math.ceil(trace.length / 8);
      let i = 0;
      const next = () => {
        res.write(trace.slice(i * part, (i + 1) * part));
        i += 1;
        if (i < 8) setTimeout(next, 5000);
        else res.end();
      };
      return next();
    }
    default:
      return res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found');
  }
}

before(async () => {
  server = createServer(handle);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
  collector = await startCollector();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await collector?.stop();
  for (const res of hanging) res.destroy();
  server?.closeAllConnections();
  server?.close();
});

const sources = () =>
  `traces=${encodeURIComponent(`zipkin:${base}/zipkin`)}&logs=${encodeURIComponent(`loki:${base}`)}`;
const messages = (page, scope = '') =>
  page.$$eval(`${scope} [data-testid=log-message]`, (ms) => ms.map((m) => m.textContent).sort());

async function newPage() {
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  return page;
}

test("a 64-bit trace id finds Loki's records carrying it in 16 or 32 digits on the log page", async () => {
  const page = await newPage();
  await page.goto(`${collector.ui}/logs?trace_id=${ZID}&${sources()}`);
  await page.waitForSelector('[data-testid=log-row]', { timeout: 15000 });
  await page.waitForSelector('[data-testid=match-count][data-loading=false]');
  assert.deepEqual(await messages(page), ['record with the 16-hex zipkin id', 'record with the 32-hex id']);
  assert.ok(lokiQueries.includes(`{service_name=~".+"} | trace_id=~"(0{16})?${ZID}"`), lokiQueries.join('\n'));
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("the trace page of a 64-bit trace lists its records in either form", async () => {
  const page = await newPage();
  await page.goto(`${collector.ui}/trace/${ZID32}?${sources()}`);
  await page.waitForSelector('[data-testid=trace-logs] [data-testid=log-row]', { timeout: 15000 });
  // Both, once the panel has settled (then compared, so that a failure names what it shows).
  await waitFor('two records', async () => (await messages(page, '[data-testid=trace-logs]')).length === 2, 5000).catch(() => {});
  assert.deepEqual(await messages(page, '[data-testid=trace-logs]'), ['record with the 16-hex zipkin id', 'record with the 32-hex id']);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("log rows show a 64-bit trace id's significant digits, not its leading zeros, and link to the trace", async () => {
  const page = await newPage();
  await page.goto(`${collector.ui}/logs?trace_id=${ZID32}&${sources()}`);
  await page.waitForSelector('[data-testid=log-trace-link]', { timeout: 15000 });
  await page.waitForSelector('[data-testid=match-count][data-loading=false]');
  const links = await page.$$eval('[data-testid=log-trace-link]', (as) => as.map((a) => [a.textContent, a.getAttribute('href')]));
  assert.ok(links.length >= 1);
  for (const [text, href] of links) {
    assert.equal(text, ZID.slice(0, 8));
    assert.equal(href, `/trace/${ZID32}?${sources()}`);
  }
  await page.click('[data-testid=log-trace-link] >> nth=0');
  await waitFor('the trace page', () => new URL(page.url()).pathname === `/trace/${ZID32}`);
  await page.waitForSelector('[data-testid=span-row]', { timeout: 15000 });
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a 128-bit trace id is still asked for with an exact match', async () => {
  const page = await newPage();
  const id = '4bf92f3577b34da6a3ce929d0e0e4736';
  const n = lokiQueries.length;
  await page.goto(`${collector.ui}/logs?trace_id=${id}&${sources()}`);
  await page.waitForSelector('[data-testid=match-count][data-loading=false]');
  await waitFor('the query', () => lokiQueries.slice(n).some((q) => q.includes('trace_id')));
  assert.deepEqual(lokiQueries.slice(n).filter((q) => q.includes('trace_id')), [`{service_name=~".+"} | trace_id="${id}"`]);
  await page.close();
});

test("the collector finds a 64-bit trace's records by their own id and by a 16-digit trace_id attribute", async () => {
  const now = BigInt(Date.now()) * 1000000n;
  const record = (body, extra) => ({ timeUnixNano: String(now), severityNumber: 9, body: { stringValue: body }, ...extra });
  const doc = {
    resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'b3-app' } }] },
      scopeLogs: [{
        logRecords: [
          record('own id', { traceId: ZID32 }),
          record('attribute of 16 digits', { attributes: [{ key: 'trace_id', value: { stringValue: ZID } }] }),
          record('another trace', { traceId: `0000000000000000b${ZID.slice(1)}` }),
        ],
      }],
    }],
  };
  const r = await fetch(`${collector.otlp}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(doc) });
  assert.ok(r.ok, `ingest answered ${r.status}`);
  const page = await newPage();
  await page.goto(`${collector.ui}/logs?trace_id=${ZID}`);
  await waitFor('the trace\'s records', async () => (await messages(page)).length >= 2);
  await page.waitForSelector('[data-testid=match-count][data-loading=false]');
  assert.deepEqual(await messages(page), ['attribute of 16 digits', 'own id']);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("the header's links carry the sources the address names, and follow a change of them", async () => {
  const context = await browser.newContext({ viewport: { width: 1300, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Saved sources are the collector's; the address names the stand-ins.
  await page.goto(`${collector.ui}/?${sources()}`);
  await page.waitForSelector('nav a');
  const named = new URLSearchParams(sources());
  for (const [link, path] of [['Logs', '/logs'], ['Services', '/services'], ['Search', '/']]) {
    await page.click(`nav >> text=${link}`);
    await waitFor(`the ${link} page`, () => new URL(page.url()).pathname === path);
    const address = new URL(page.url()).searchParams;
    assert.equal(address.get('traces'), named.get('traces'), `${link}: ${page.url()}`);
    assert.equal(address.get('logs'), named.get('logs'), `${link}: ${page.url()}`);
    assert.equal(await page.textContent('nav a[aria-current=page]'), link);
    if (link === 'Logs') {
      // A reload shows the same data: the link's Loki, not the saved collector.
      await page.reload();
      await waitFor("the link's Loki's line", async () => (await messages(page)).includes(NOW_LINE));
    }
  }
  // Another address (back and forward, say): the links follow it.
  await page.evaluate(() => {
    history.pushState(null, '', '/?traces=collector%3A&logs=collector%3A');
    dispatchEvent(new PopStateEvent('popstate'));
  });
  await waitFor('the links to follow', async () =>
    new URL(await page.getAttribute('nav a[href^="/logs"]', 'href'), 'http://x').searchParams.get('logs') === 'collector:');
  for (const path of ['/', '/services']) {
    const href = await page.getAttribute(`nav a[href^="${path}?"]`, 'href');
    assert.equal(new URL(href, 'http://x').searchParams.get('traces'), 'collector:', href);
  }
  assert.deepEqual(errors, []);
  await context.close();
});

/** Opens `path` of the viewer in a new page. */
async function open(path) {
  const page = await newPage();
  await page.goto(`${collector.ui}${path}`);
  return page;
}

test('a file by URL above 256 MiB is refused as soon as its length is known, naming it', async () => {
  const huge = await open(`/open?url=${encodeURIComponent(`${base}/huge.json`)}`);
  await huge.waitForSelector('[data-testid=error]', { timeout: 10000 });
  assert.match(await huge.textContent('[data-testid=error]'), new RegExp(`${base}/huge\\.json is too large to open \\(300 MB; the viewer reads up to 268 MB\\)`));
  assert.deepEqual(huge.errors, []);
  await huge.close();
});

test('a file by URL from a server that sends nothing for 30 s is an error naming it; a slow one that keeps coming opens', async () => {
  const started = Date.now();
  const [never, stall, slow] = await Promise.all([
    open(`/open?url=${encodeURIComponent(`${base}/never.json`)}`),
    open(`/logs?file=${encodeURIComponent(`${base}/stall.json`)}`),
    open(`/open?url=${encodeURIComponent(`${base}/slow.json`)}`),
  ]);
  for (const [page, name] of [[never, 'never.json'], [stall, 'stall.json']]) {
    await page.waitForSelector('[data-testid=error]', { timeout: 45000 });
    const text = await page.textContent('[data-testid=error]');
    assert.match(text, new RegExp(`${base}/${name.replace('.', '\\.')} could not be fetched: the server sent nothing for 30 s`));
  }
  assert.ok(Date.now() - started >= 29000, `given up after ${Date.now() - started} ms`);
  // 35 s of a file that keeps coming: opened, no error.
  await slow.waitForSelector('[data-testid=span-row], [data-testid=error]', { timeout: 45000 });
  assert.equal(await slow.$('[data-testid=error]'), null, await slow.textContent('main'));
  for (const page of [never, stall, slow]) {
    assert.deepEqual(page.errors, []);
    await page.close();
  }
});
