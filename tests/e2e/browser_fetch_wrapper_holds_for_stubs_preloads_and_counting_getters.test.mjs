// The fetch wrapper around what a page may have put in fetch's place, or give it: a stub or
// polyfill installed before `init` that returns no promise (`undefined`, a minimal thenable) gets
// back exactly what it returned, and a fetch taken from an iframe (its own realm's promise) is
// still traced; a fetch answered from `<link rel=preload as=fetch>`, which Chromium gives no
// Resource Timing entry of its own, ends its span a short time after its body is in rather than
// at the next flush; and the input's `toString`, `init.method` and `init.headers` are read once,
// as the host's fetch reads them (QA browser r2, t10, t2).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { attr, getJson, serviceSpans, startBrowserStack, waitFor } from '../support.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
});

after(() => stack?.stop());

/** The client spans the collector holds for `service`. */
const clientSpans = async (service) => (await serviceSpans(collector, service)).filter((s) => s.kind === 3);

test('a fetch stub that returns undefined or a thenable gets back that very value after init, and a promise of another frame is still traced', async () => {
  const page = await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${site.url}/blank`);
  const out = await page.evaluate(async (otlp) => {
    const frame = document.createElement('iframe');
    document.body.append(frame);
    const real = window.fetch;
    let thens = 0;
    const thenable = {
      then(resolve) {
        thens++;
        resolve({ ok: true, status: 299 });
      },
    };
    // A test's stub, installed before the SDK: no answer at all, a minimal thenable, or another
    // frame's fetch (whose promise is not one of this frame's).
    window.fetch = function stub(url) {
      if (String(url).includes('sync')) return undefined;
      if (String(url).includes('thenable')) return thenable;
      if (String(url).includes('frame')) return frame.contentWindow.fetch(url);
      return real.apply(this, arguments);
    };
    const sdk = (window.__sdk = await import('/sdk/browser.js'));
    sdk.init({ serviceName: 'stubbed-fetch', endpoint: otlp, scheduleDelayMillis: 0 });
    const out = {};
    try {
      out.sync = String(fetch('/api/hello?sync'));
    } catch (e) {
      out.sync = `threw ${e.name}: ${e.message}`;
    }
    const returned = fetch('/api/hello?thenable');
    out.sameThenable = returned === thenable;
    out.thenableStatus = (await returned)?.status;
    out.thens = thens;
    const framed = fetch('/api/hello?frame');
    out.framedIsOtherPromise = Object.prototype.toString.call(framed) === '[object Promise]' && !(framed instanceof Promise);
    out.framed = (await (await framed).json()).greeting;
    const plain = fetch('/api/hello?plain');
    out.plainIsPromise = plain instanceof Promise;
    out.plain = (await plain).status;
    await sdk.flush();
    out.diagnostics = sdk.diagnostics();
    return out;
  }, collector.otlp);
  assert.deepEqual(
    { sync: out.sync, sameThenable: out.sameThenable, thenableStatus: out.thenableStatus, thens: out.thens },
    { sync: 'undefined', sameThenable: true, thenableStatus: 299, thens: 1 },
    'what the stub returned, untouched: its then called by the page alone',
  );
  assert.equal(out.framedIsOtherPromise, true, "the frame's fetch answered with its own realm's promise");
  assert.equal(out.framed, 'hello from the test API');
  assert.equal(out.plainIsPromise, true);
  assert.equal(out.plain, 200);
  assert.equal(out.diagnostics.apiErrors, 0);
  assert.equal(out.diagnostics.staleHandles, 0);
  assert.deepEqual(pageErrors, []);
  const spans = await waitFor('four client spans', async () => {
    await page.evaluate(() => window.__sdk.flush());
    const s = await clientSpans('stubbed-fetch');
    return s.length >= 4 && s;
  });
  const byQuery = Object.fromEntries(spans.map((s) => [new URL(attr(s, 'url.full')).search.slice(1), s]));
  assert.deepEqual(Object.keys(byQuery).sort(), ['frame', 'plain', 'sync', 'thenable']);
  // No answer the SDK could read: ended, with no status and no error.
  for (const q of ['sync', 'thenable']) {
    assert.equal(attr(byQuery[q], 'http.response.status_code'), undefined, q);
    assert.equal(byQuery[q].status?.code ?? 0, 0, q);
  }
  assert.equal(attr(byQuery.frame, 'http.response.status_code'), '200');
  assert.equal(attr(byQuery.plain, 'http.response.status_code'), '200');
  await page.close();
});

test("fetch reads the input's toString, init.method and init.headers once, as the host does, and sends what they said", async () => {
  const page = await browser.newPage();
  await page.goto(`${site.url}/blank`);
  const seenBefore = (await getJson(`${site.url}/api/seen`)).length;
  const reads = await page.evaluate(async (otlp) => {
    const count = async (sdk) => {
      const n = { toString: 0, method: 0, headers: 0, classMethod: 0 };
      const input = {
        toString() {
          n.toString++;
          return '/api/hello?reads';
        },
      };
      const init = {
        get method() {
          n.method++;
          return 'POST';
        },
        get headers() {
          n.headers++;
          return { 'x-app': 'counted' };
        },
      };
      await (await fetch(input, init)).text();
      // A class instance goes through the Request fetch makes of it.
      class Options {
        get method() {
          n.classMethod++;
          return 'PUT';
        }
      }
      await (await fetch('/api/hello?class', new Options())).text();
      if (sdk) await sdk.flush();
      return n;
    };
    const before = await count();
    const sdk = await import('/sdk/browser.js');
    sdk.init({ serviceName: 'counted-reads', endpoint: otlp, scheduleDelayMillis: 0 });
    return { before, after: await count(sdk) };
  }, collector.otlp);
  assert.deepEqual(reads.before, { toString: 1, method: 1, headers: 1, classMethod: 1 }, "the host's own reads");
  assert.deepEqual(reads.after, reads.before);
  const seen = (await getJson(`${site.url}/api/seen`)).slice(seenBefore);
  assert.deepEqual(
    seen.map((s) => [s.method, !!s.traceparent]),
    [
      ['POST', false],
      ['PUT', false],
      ['POST', true],
      ['PUT', true],
    ],
  );
  const spans = await waitFor('the two spans', async () => {
    const s = await clientSpans('counted-reads');
    return s.length >= 2 && s;
  });
  assert.deepEqual(spans.map((s) => [s.name, new URL(attr(s, 'url.full')).search]).sort(), [
    ['POST', '?reads'],
    ['PUT', '?class'],
  ]);
  await page.close();
});

test('a fetch answered from <link rel=preload as=fetch>, loaded or still loading, ends its span soon after its body is read, with no flush', async () => {
  const page = await browser.newPage();
  await page.goto(`${site.url}/blank`);
  const seenBefore = (await getJson(`${site.url}/api/seen`)).length;
  const out = await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/browser.js');
    sdk.init({ serviceName: 'preloaded', endpoint: otlp, scheduleDelayMillis: 200 });
    const preload = (href) => {
      const link = Object.assign(document.createElement('link'), { rel: 'preload', as: 'fetch', crossOrigin: 'anonymous', href });
      document.head.append(link);
      return new Promise((resolve) => (link.onload = resolve));
    };
    // Loaded before the fetch: the body is in the browser already.
    await preload('/api/hello?loaded');
    const loaded = await (await fetch('/api/hello?loaded')).json();
    // Still loading (four lines, 250 ms apart) when the fetch takes it over.
    const loading = preload('/api/stream?n=4&every=250&loading');
    const t = performance.now();
    const lines = (await (await fetch('/api/stream?n=4&every=250&loading')).text()).split('\n').filter(Boolean).length;
    const readIn = performance.now() - t;
    await loading;
    const initiators = (q) => performance.getEntriesByType('resource').filter((e) => e.name.endsWith(q)).map((e) => e.initiatorType);
    return { loaded: loaded.greeting, lines, readIn, entries: { loaded: initiators('?loaded'), loading: initiators('&loading') } };
  }, collector.otlp);
  assert.equal(out.loaded, 'hello from the test API');
  assert.equal(out.lines, 4);
  // Both fetches were answered from their preload, which alone has an entry.
  assert.deepEqual(out.entries, { loaded: ['link'], loading: ['link'] });
  assert.equal((await getJson(`${site.url}/api/seen`)).length - seenBefore, 1, 'one request for the loaded preload and its fetch');
  // No flush and no page hide: the export timer sends them once they have ended.
  const spans = await waitFor(
    'both spans, without a flush',
    async () => {
      const s = await clientSpans('preloaded');
      return s.length >= 2 && s;
    },
    8000,
  );
  const bySearch = Object.fromEntries(spans.map((s) => [new URL(attr(s, 'url.full')).search, s]));
  const loaded = bySearch['?loaded'];
  const loading = bySearch['?n=4&every=250&loading'];
  assert.ok(loaded && loading, `spans: ${Object.keys(bySearch)}`);
  assert.equal(attr(loaded, 'http.response.status_code'), '200');
  assert.equal(attr(loading, 'http.response.status_code'), '200');
  const ms = (s) => Number(BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)) / 1e6;
  // The loaded one ends at its answer; the other once the preload had its body, not at its headers.
  assert.ok(ms(loaded) < 1000, `loaded: ${ms(loaded)} ms`);
  assert.ok(ms(loading) >= out.readIn - 300 && ms(loading) < out.readIn + 1000, `loading: ${ms(loading)} ms, its body read in ${out.readIn} ms`);
  await page.close();
});
