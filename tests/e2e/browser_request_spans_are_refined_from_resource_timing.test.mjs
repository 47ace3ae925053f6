// fetch and XMLHttpRequest spans refined from the request's Resource Timing entry, as
// OpenTelemetry JS's fetch and XHR instrumentations refine theirs: in headless Chromium, against a
// local API (another origin) whose answer's body arrives in two parts, the second 600 ms after
// the headers. The span ends at the entry's `responseEnd`, after the whole body arrived (not at
// the headers), carries events at the entry's network phases and `http.response.body.size`;
// a fetch whose body the page never reads gets no entry and ends at its headers after 300 ms;
// another origin's entry without Timing-Allow-Origin gives only what it has; two requests to one
// URL each get their own entry; and a span still waiting for its entry when the page is hidden
// goes with the page-hide flush.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { attr, sdkReady, serviceSpans, startBrowserStack, waitFor } from '../support.mjs';

let stack, collector, site, browser, api;
/** When the API wrote the last byte of each answer (Unix ms), by `id`. */
const bodyEnds = new Map();
/** Answers of /api/ordered: the first ends its body 200 ms after the second has ended its own (10 s at most). */
let ordered = 0;
let secondEnded;

const PHASES = 'fetchStart domainLookupStart domainLookupEnd connectStart secureConnectionStart connectEnd requestStart responseStart responseEnd'.split(' ');

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const headers = { 'content-type': 'text/plain', 'access-control-allow-origin': '*', 'cache-control': 'no-store' };
    if (!url.pathname.includes('no-tao')) headers['timing-allow-origin'] = '*';
    const nth = url.pathname === '/api/ordered' ? ordered++ : undefined;
    const delay = nth === 0 ? 200 : nth > 0 ? 150 : Number(url.searchParams.get('ms') || 600);
    const second = nth === 0 ? Promise.race([new Promise((r) => (secondEnded = r)), new Promise((r) => setTimeout(r, 10000))]) : undefined;
    res.writeHead(200, headers);
    // Headers and the first half now, the rest later: 2,000 bytes in all.
    res.write('a'.repeat(1000));
    Promise.resolve(second).then(() => setTimeout(() => {
      res.end('b'.repeat(1000));
      bodyEnds.set(url.searchParams.get('id'), Date.now());
      if (nth === 1) secondEnded?.();
    }, delay));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  api = { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
});

after(() => {
  api?.close();
  return stack?.stop();
});

async function servicePage(service, scheduleDelayMillis = 100) {
  const page = await browser.newPage();
  await page.goto(site.url);
  await sdkReady(page);
  await page.evaluate(
    async ({ otlp, service, scheduleDelayMillis }) => {
      window.__sdk = await import('/sdk/browser.js');
      window.__sdk.init({ serviceName: service, endpoint: otlp, scheduleDelayMillis });
    },
    { otlp: collector.otlp, service, scheduleDelayMillis },
  );
  return page;
}

/** Every span the collector holds for `service`. */
const spansOf = (service) => serviceSpans(collector, service);

async function spansFor(service, count) {
  let spans = [];
  await waitFor(`${count} span(s) of ${service}`, async () => (spans = await spansOf(service)).length >= count, 30000);
  return spans;
}

/** The Resource Timing entries of `url` in the page, their times in Unix ms as the SDK reads them. */
function entriesOf(page, url) {
  return page.evaluate((url) => performance.getEntriesByName(url).map((e) => ({ ...e.toJSON(), origin: performance.timeOrigin })), url);
}

const ns = (v) => Number(BigInt(v)) / 1e6; // Unix ms, for comparisons to within a microsecond
const near = (a, b, what) => assert.ok(Math.abs(a - b) < 0.002, `${what}: ${a} vs ${b}`);

/** Checks `span` against `entry`: events at its non-zero phases, in order, and the end at its `responseEnd`. */
function assertFromEntry(span, entry) {
  const expected = PHASES.filter((p) => entry[p] > 0);
  assert.deepEqual(span.events.map((e) => e.name), expected);
  for (const e of span.events) near(ns(e.timeUnixNano), entry.origin + entry[e.name], e.name);
  near(ns(span.endTimeUnixNano), entry.origin + entry.responseEnd, 'end');
  assert.ok(ns(span.startTimeUnixNano) <= entry.origin + entry.startTime + 0.002, 'the span covers the entry');
}

test('a fetch span ends after its body, with the network phases and size of its entry', async () => {
  const page = await servicePage('rt-fetch');
  const url = `${api.url}/api/slow?id=fetch`;
  const text = await page.evaluate(async (url) => (await fetch(url)).text(), url);
  assert.equal(text.length, 2000);
  const [span] = await spansFor('rt-fetch', 1);
  const [entry] = await entriesOf(page, url);
  assert.equal(span.name, 'GET');
  assert.equal(attr(span, 'url.full'), url);
  assert.equal(Number(attr(span, 'http.response.status_code')), 200);
  assert.equal(Number(attr(span, 'http.response.body.size')), 2000);
  assertFromEntry(span, entry);
  assert.ok(span.events.some((e) => e.name === 'requestStart') && span.events.some((e) => e.name === 'connectStart'), 'details with Timing-Allow-Origin');
  // The headers came at once; the body's end 600 ms later.
  assert.ok(ns(span.endTimeUnixNano) - ns(span.startTimeUnixNano) >= 599, 'ended after the body, not at the headers');
  // The API's clock is Node's Date.now(); the span's is Chromium's timeOrigin + responseEnd, which
  // drifts from the wall clock by a few ms under load. 100 ms still tells the body's end (600 ms
  // after the headers) from the headers.
  const late = bodyEnds.get('fetch') - ns(span.endTimeUnixNano);
  assert.ok(late < 100, `ended after the API wrote the last byte (the span ends ${late} ms before it)`);
  await page.close();
});

test('a fetch whose body the page never reads ends at its headers once the wait for an entry is over', async () => {
  const page = await servicePage('rt-unread');
  const url = `${api.url}/api/slow?id=unread&ms=100`;
  // Kept, unread: Chromium reports the entry of a fetch only once its body has been read. The
  // page has not begun to read it 300 ms after the headers: the span ends where it would have
  // without Resource Timing.
  const headersAt = await page.evaluate(async (url) => {
    window.__kept = await fetch(url);
    return performance.timeOrigin + performance.now();
  }, url);
  const [span] = await spansFor('rt-unread', 1);
  assert.deepEqual(await entriesOf(page, url), [], 'no entry for the unread body');
  assert.deepEqual(span.events ?? [], []);
  assert.equal(attr(span, 'http.response.body.size'), undefined);
  assert.ok(ns(span.endTimeUnixNano) <= headersAt + 1, 'ended at the headers');
  assert.ok(ns(span.endTimeUnixNano) >= ns(span.startTimeUnixNano));
  await page.close();
});

test('an XHR span ends at its entry’s responseEnd, with its phases and size', async () => {
  const page = await servicePage('rt-xhr');
  const url = `${api.url}/api/slow?id=xhr&ms=300`;
  const length = await page.evaluate(
    (url) =>
      new Promise((resolve) => {
        const r = new XMLHttpRequest();
        r.open('GET', url);
        r.onloadend = () => resolve(r.responseText.length);
        r.send();
      }),
    url,
  );
  assert.equal(length, 2000);
  const [span] = await spansFor('rt-xhr', 1);
  const [entry] = await entriesOf(page, url);
  assert.equal(Number(attr(span, 'http.response.body.size')), 2000);
  assertFromEntry(span, entry);
  assert.ok(ns(span.endTimeUnixNano) - ns(span.startTimeUnixNano) >= 299);
  await page.close();
});

test('another origin’s entry without Timing-Allow-Origin gives its start and end only, and no size', async () => {
  const page = await servicePage('rt-no-tao');
  const url = `${api.url}/api/no-tao?id=no-tao&ms=200`;
  await page.evaluate(async (url) => (await fetch(url)).text(), url);
  const [span] = await spansFor('rt-no-tao', 1);
  const [entry] = await entriesOf(page, url);
  assert.equal(entry.requestStart, 0, 'the browser hides the details');
  assertFromEntry(span, entry);
  assert.deepEqual(span.events.map((e) => e.name), ['fetchStart', 'responseEnd']);
  assert.equal(attr(span, 'http.response.body.size'), undefined);
  assert.ok(ns(span.endTimeUnixNano) - ns(span.startTimeUnixNano) >= 199);
  await page.close();
});

test('two requests to one URL each get their own entry', async () => {
  const page = await servicePage('rt-same-url');
  const url = `${api.url}/api/ordered?id=same`;
  ordered = 0;
  // The first answer's body ends last: the second starts once the first's headers are in (so
  // that the API counts them in that order), and the first's body ends after the second's.
  await page.evaluate(async (url) => {
    const first = await fetch(url);
    await Promise.all([first.text(), fetch(url).then((r) => r.text())]);
  }, url);
  const spans = (await spansFor('rt-same-url', 2)).sort((a, b) => ns(a.startTimeUnixNano) - ns(b.startTimeUnixNano));
  const entries = (await entriesOf(page, url)).sort((a, b) => a.startTime - b.startTime);
  assert.equal(entries.length, 2);
  assertFromEntry(spans[0], entries[0]);
  assertFromEntry(spans[1], entries[1]);
  assert.ok(ns(spans[0].endTimeUnixNano) > ns(spans[1].endTimeUnixNano), 'the first request ended last');
  await page.close();
});

test('a span still waiting for its entry goes with the page-hide flush, ended at its headers', async () => {
  // A long export delay: only the page-hide flush sends the span.
  const page = await servicePage('rt-hidden', 60000);
  const url = `${api.url}/api/slow?id=hidden&ms=5000`;
  const headersAt = await page.evaluate(async (url) => {
    await fetch(url);
    const at = performance.timeOrigin + performance.now();
    dispatchEvent(new Event('pagehide'));
    return at;
  }, url);
  const [span] = await spansFor('rt-hidden', 1);
  assert.deepEqual(span.events ?? [], [], 'no entry yet');
  assert.ok(ns(span.endTimeUnixNano) <= headersAt + 1, 'ended at the headers');
  await page.close();
});

test('data: and blob: requests, which get no entry, and a URL with a fragment end once their bodies are read, without a flush', async () => {
  const page = await servicePage('rt-no-entry');
  const url = `${api.url}/api/slow?id=fragment&ms=50#section`;
  await page.evaluate(async (url) => {
    const blob = URL.createObjectURL(new Blob(['blob body']));
    for (const u of ['data:text/plain,hello', blob, url]) await (await fetch(u)).text();
  }, url);
  // The export timer (100 ms) takes them: no flush() ends them.
  const spans = await spansFor('rt-no-entry', 3);
  const of = (scheme) => spans.find((s) => attr(s, 'url.full').startsWith(scheme));
  assert.ok(of('data:') && of('blob:'), JSON.stringify(spans.map((s) => attr(s, 'url.full'))));
  const fragment = of(api.url);
  const [entry] = await entriesOf(page, url);
  assert.ok(entry, 'the browser reported the fragment URL’s entry');
  assertFromEntry(fragment, entry);
  await page.close();
});
