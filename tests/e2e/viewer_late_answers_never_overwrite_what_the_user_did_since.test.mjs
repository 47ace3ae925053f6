// A late answer, a typing pause or a queue of the live tail never overwrites what the user did
// since: a log file opened within the typing pause stays shown; lines that waited while the live
// tail was paused are shown once after Stop and Live tail again; a file's records and older ones
// do not stay into the live tail; Tempo's PARTIAL notice comes only over its own trace; a page left
// within a typing pause, or while a query is out, throws nothing; a search out says "Searching…"
// rather than showing the results of the filters before, and an older search answered last is
// dropped. Answers are held with `page.route` (the collector's) or by a stand-in server of the test
// (a file server and a Tempo, each on 127.0.0.1, allowing CORS), and released when the user has moved on.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { waitFor } from '../support.mjs';
import { collectorAndBrowser } from './viewer_env.mjs';
import { LogsPage } from './logs_page.mjs';

const env = collectorAndBrowser();

const str = (v) => ({ stringValue: v });
const nowNs = () => BigInt(Date.now()) * 1_000_000n;
const HOUR_NS = 3_600_000_000_000n;

/** An OTLP/JSON logs document: `messages` of `service`, the first at `timeNs` (2 s ago by default). */
function logsDoc(service, messages, timeNs = nowNs() - 2_000_000_000n) {
  return {
    resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: str(service) }] },
      scopeLogs: [{
        scope: { name: 'e2e' },
        logRecords: messages.map((body, i) => ({
          timeUnixNano: String(timeNs + BigInt(i) * 1000n), severityNumber: 9, severityText: 'INFO', body: str(body),
        })),
      }],
    }],
  };
}

/** An OTLP/JSON trace of one span `name` of `service`, 5 s ago. */
function traceDoc(traceId, service, name) {
  const start = nowNs() - 5_000_000_000n;
  return {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: str(service) }] },
      scopeSpans: [{ scope: { name: 'e2e' }, spans: [{
        traceId, spanId: traceId.slice(0, 16), name, kind: 2,
        startTimeUnixNano: String(start), endTimeUnixNano: String(start + 20_000_000n),
      }] }],
    }],
  };
}

async function post(signal, doc) {
  const r = await fetch(`${env.collector.otlp}/v1/${signal}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(doc),
  });
  assert.equal(r.status, 200, await r.text());
}

/** A page whose uncaught errors are kept in `page.errors`. */
async function newPage() {
  const page = await env.browser.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  return page;
}

/** Two frames: whatever an answer just received changes has been drawn. */
const twoFrames = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

/** A promise with its `resolve`. */
function gate() {
  let open;
  const shut = new Promise((r) => { open = r; });
  return { shut, open };
}

/**
 * Holds the first request of `page` to `pattern` whose URL `match`es until `release()`;
 * `arrived` resolves when it is held, `finished` once its answer has been read after the release.
 */
async function holdFirst(page, pattern, match) {
  const held = gate();
  const seen = gate();
  let taken = false;
  await page.route(pattern, async (route) => {
    if (taken || !match(decodeURIComponent(route.request().url()))) return route.continue();
    taken = true;
    seen.open(route.request());
    await held.shut;
    await route.continue().catch(() => {}); // the page may be closed by then
  });
  return {
    arrived: seen.shut,
    async release() {
      const request = await seen.shut;
      const finished = page.waitForEvent('requestfinished', (r) => r === request);
      held.open();
      await finished;
      await twoFrames(page);
    },
  };
}

const messages = async (logs) => (await logs.rows()).map((r) => r.message);

// The stand-ins of the test: a file server and a Tempo whose trace answers a test sets, and may
// hold until it releases them.
let files;
let tempo;

function listen(handler) {
  const server = createServer((req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', '*');
    if (req.method === 'OPTIONS') return res.writeHead(204).end();
    handler(new URL(req.url, 'http://x').pathname, req, res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    server,
    url: `http://127.0.0.1:${server.address().port}`,
    stop: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  })));
}

const json = (res, body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));

before(async () => {
  const served = new Map();
  files = await listen((path, req, res) => (served.has(path) ? json(res, served.get(path)) : res.writeHead(404).end()));
  files.served = served;
  // Trace id → { body, held }: the answer, given once `held` (a promise) resolves.
  const traces = new Map();
  const asked = new Set();
  tempo = await listen(async (path, req, res) => {
    const trace = path.match(/^\/api\/v2\/traces\/([0-9a-f]+)$/);
    if (trace && traces.has(trace[1])) {
      asked.add(trace[1]);
      const { body, held } = traces.get(trace[1]);
      await held;
      return json(res, body);
    }
    // What the search page asks of Tempo: nothing to list.
    if (path === '/api/search') return json(res, { traces: [] });
    if (path === '/api/v2/search/tags') return json(res, { scopes: [] });
    if (/^\/api\/v2\/search\/tag\/[^/]+\/values$/.test(path)) return json(res, { tagValues: [] });
    res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found');
  });
  Object.assign(tempo, { traces, asked });
});

after(async () => {
  // A held answer still out is given, so that the server can close.
  for (const t of tempo?.traces.values() ?? []) t.release?.();
  await files?.stop();
  await tempo?.stop();
});

test('a log file chosen, or opened by URL, within the typing pause of the Text filter stays shown after the pause', async () => {
  await post('logs', logsDoc('r5-collector', ['hello from the collector']));
  const fileDoc = logsDoc('r5-file', ['hello from the file 1', 'hello from the file 2', 'hello from the file 3']);
  files.served.set('/r5-logs.json', fileDoc);
  const fileUrl = `${files.url}/r5-logs.json`;
  const fileRows = ['hello from the file 3', 'hello from the file 2', 'hello from the file 1'];
  for (const how of ['chosen', 'chosen in the same task as the typing', 'by URL']) {
    const page = await newPage();
    const logs = await new LogsPage(page).open(env.collector.ui);
    const asked = [];
    page.on('request', (r) => { if (r.url().includes('/loki/api/v1/query_range')) asked.push(r.url()); });
    if (how === 'by URL') await page.fill('[data-testid=log-url]', fileUrl);
    // Typed, then opened in the page's next task (a timer set before the typing pause's fires
    // before it, so the pause cannot pass in between however busy the machine is), or in the
    // same task, before the page has seen the typing.
    await page.evaluate(async ({ how, doc }) => {
      const text = document.querySelector('[data-testid=log-text]');
      text.value = 'hello';
      text.dispatchEvent(new Event('input', { bubbles: true }));
      if (how !== 'chosen in the same task as the typing') await new Promise((r) => setTimeout(r, 0));
      if (how === 'by URL') {
        document.querySelector('[data-testid=log-open-url]').click();
      } else {
        const input = document.querySelector('[data-testid=log-file]');
        const chosen = new DataTransfer();
        chosen.items.add(new File([JSON.stringify(doc)], 'r5-logs.json', { type: 'application/json' }));
        input.files = chosen.files;
        input.dispatchEvent(new Event('change', { bubbles: true }));
      }
    }, { how, doc: fileDoc });
    await waitFor(`the file ${how} shown`, async () => JSON.stringify(await messages(logs)) === JSON.stringify(fileRows));
    // The pause is long over: the query typed was not asked, and did not replace the file.
    await new Promise((r) => setTimeout(r, 1500));
    await twoFrames(page);
    assert.deepEqual(asked, [], `[${how}] no query asked after the file`);
    assert.deepEqual(await messages(logs), fileRows, `[${how}] the file's records`);
    assert.deepEqual(await logs.counts(), [3, 3]);
    if (how === 'by URL') assert.equal(new URL(page.url()).searchParams.get('file'), fileUrl, 'the file stays in the address');
    assert.deepEqual(page.errors, []);
    await page.close();
  }
});

test('lines that waited while the live tail was paused are shown once after Stop and Live tail, and after Stop, Reload and Live tail', async () => {
  for (const reload of [false, true]) {
    const service = reload ? 'r6-reload' : 'r6-stop';
    await post('logs', logsDoc(service, ['line-old']));
    const page = await newPage();
    const logs = await new LogsPage(page).open(env.collector.ui, `service=${service}`);
    await logs.waitForCount(1);
    await logs.goLive('live (WebSocket)');
    await page.click('[data-testid=live-pause]');
    await post('logs', logsDoc(service, ['line-1', 'line-2'], nowNs()));
    await page.waitForFunction(() => document.querySelector('[data-testid=waiting-count]')?.textContent === '2 new lines waiting');
    await page.click('[data-testid=live-toggle]'); // Stop
    if (reload) {
      await page.click('[data-testid=log-reload]');
      await page.waitForSelector('[data-testid=match-count][data-loading=false]');
      assert.deepEqual(await logs.counts(), [3, 3], 'after Reload');
    }
    await logs.goLive('live (WebSocket)');
    // A line posted now comes after anything the tail resumes with, or the stop left queued.
    await post('logs', logsDoc(service, ['line-3'], nowNs()));
    await waitFor('line-3 tailed', async () => (await messages(logs)).includes('line-3'));
    await twoFrames(page);
    assert.deepEqual((await messages(logs)).sort(), ['line-1', 'line-2', 'line-3', 'line-old'], reload ? 'Stop, Reload, Live tail' : 'Stop, Live tail');
    assert.deepEqual(await logs.counts(), [4, 4]);
    assert.deepEqual(page.errors, []);
    await page.close();
  }
});

test("Tempo's PARTIAL notice of a trace answered late comes over no other page, and a late whole answer leaves another trace's notice", async () => {
  const spans = (id, name) => ({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: str('svc') }] },
    scopeSpans: [{ scope: {}, spans: [{ traceId: id, spanId: id.slice(0, 16), name, kind: 2,
      startTimeUnixNano: String(nowNs() - 1_000_000_000n), endTimeUnixNano: String(nowNs() - 500_000_000n) }] }] }] });
  /** Trace `id`'s answer, partial or whole, held until `release()` when `held`. */
  const answer = (id, partial, held = false) => {
    const g = gate();
    if (!held) g.open();
    tempo.traces.set(id, {
      body: { ...(partial ? { status: 'PARTIAL', message: `${id.slice(0, 4)} exceeds max size` } : {}), trace: spans(id, `span-of-${id.slice(0, 4)}`) },
      held: g.shut,
      release: g.open,
    });
  };
  const sources = `traces=${encodeURIComponent(`tempo:${tempo.url}`)}`;
  const notice = async (page) => (await page.locator('[data-testid=notice]').count() ? page.textContent('[data-testid=notice]') : null);
  /** Opens trace `a`, whose answer is held; resolves once Tempo holds it, with the wait for its answer read. */
  const openHeld = async (page, a) => {
    const finished = page.waitForEvent('requestfinished', (r) => r.url().includes(`/api/v2/traces/${a}`));
    await page.goto(`${env.collector.ui}/trace/${a}?${sources}`);
    await waitFor(`Tempo asked for ${a}`, () => tempo.asked.has(a));
    return async () => {
      tempo.traces.get(a).release();
      await finished;
      await twoFrames(page);
    };
  };
  /** Follows a link of the app to trace `b` (no reload). */
  const goTo = (page, b) => page.evaluate((href) => {
    history.pushState(null, '', href);
    dispatchEvent(new PopStateEvent('popstate'));
  }, `/trace/${b}?${sources}`);
  const page = await newPage();

  // A partial, held; B whole, opened meanwhile.
  const [a1, b1] = ['a1'.repeat(16), 'b1'.repeat(16)];
  answer(a1, true, true);
  answer(b1, false);
  let release = await openHeld(page, a1);
  await goTo(page, b1);
  await page.waitForSelector('[data-testid=span-row]:has-text("span-of-b1b1")');
  await release();
  assert.equal(await notice(page), null, "no notice of A over trace B");
  assert.deepEqual(await page.$$eval('[data-testid=span-name]', (s) => s.map((x) => x.textContent)), ['span-of-b1b1']);

  // A partial, held; the Search page opened meanwhile.
  const a2 = 'a2'.repeat(16);
  answer(a2, true, true);
  release = await openHeld(page, a2);
  await page.locator('header nav a', { hasText: /^Search$/ }).click();
  await page.waitForSelector('[data-testid=search-form]');
  await release();
  assert.equal(await notice(page), null, 'no notice of A over the Search page');

  // A whole, held; B partial, opened meanwhile: B's notice stays.
  const [a3, b3] = ['a3'.repeat(16), 'b3'.repeat(16)];
  answer(a3, false, true);
  answer(b3, true);
  release = await openHeld(page, a3);
  await goTo(page, b3);
  await page.waitForSelector('[data-testid=span-row]:has-text("span-of-b3b3")');
  await page.waitForSelector('[data-testid=notice]');
  await release();
  assert.equal(await notice(page), 'Tempo returned a partial trace: b3b3 exceeds max size', "B's own notice");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('leaving the log page within the typing pause, or while a query of the live tail is out, throws nothing into the page', async () => {
  await post('logs', logsDoc('r1-a', ['hello one', 'other two']));
  await post('logs', logsDoc('r1-b', ['b one']));
  /** Waits in the page's own time until a typing pause started before has ended, and two frames. */
  const pastThePause = (page) => page.evaluate(() => new Promise((r) => setTimeout(() => requestAnimationFrame(() => requestAnimationFrame(r)), 600)));

  for (const link of ['Search', 'Logs']) {
    const page = await newPage();
    const logs = await new LogsPage(page).open(env.collector.ui);
    await logs.filterText('hello');
    await page.locator('header nav a', { hasText: new RegExp(`^${link}$`) }).click();
    await page.waitForURL((u) => !u.searchParams.has('q'));
    await pastThePause(page);
    assert.deepEqual(page.errors, [], `typed, then the header's ${link} link`);
    // And the page after works.
    if (link === 'Search') {
      await page.waitForSelector('[data-testid=trace-list], [data-testid=empty]');
    } else {
      await page.waitForSelector('[data-testid=match-count][data-loading=false]');
      assert.ok((await messages(logs)).includes('other two'), 'the Logs page made again, unfiltered');
    }
    assert.deepEqual(page.errors, []);
    await page.close();
  }

  // Live tail on, a service chosen (the source asked again, the tail to restart after its
  // answer), the answer held; the Search page opened, then the answer given.
  const page = await newPage();
  const logs = await new LogsPage(page).open(env.collector.ui);
  await logs.goLive('live (WebSocket)');
  await page.waitForSelector('[data-testid=log-service] option[value=r1-b]', { state: 'attached' });
  const query = await holdFirst(page, '**/loki/api/v1/query_range*', (url) => url.includes('r1-b'));
  await logs.filterService('r1-b');
  await query.arrived;
  await page.locator('header nav a', { hasText: /^Search$/ }).click();
  await page.waitForSelector('[data-testid=search-form]');
  const tails = [];
  page.on('websocket', (ws) => tails.push(ws.url()));
  await query.release();
  assert.deepEqual(page.errors, [], 'the answer given on the Search page');
  assert.deepEqual(tails, [], 'no live tail opened from the Search page');
  await page.waitForSelector('[data-testid=trace-list], [data-testid=empty]');
  await page.close();
});

test('a search out shows "Searching…", not the results of the filters before, and an older search answered last is dropped', async () => {
  await post('traces', traceDoc('a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1', 'r4-a', 'op-a'));
  await post('traces', traceDoc('b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2', 'r4-b', 'op-b'));
  const page = await newPage();
  const services = () => page.$$eval('[data-testid=trace-row] .service', (s) => s.map((x) => x.textContent));
  const isSearch = (url) => new URL(url).pathname === '/api/v3/traces';

  // The first search (r4-a) held; a newer one (r4-b) answered; then the first.
  const first = await holdFirst(page, (u) => isSearch(u.href), () => true);
  await page.goto(`${env.collector.ui}/?service=r4-a`);
  await first.arrived;
  await page.waitForSelector('[data-testid=service] option[value=r4-b]', { state: 'attached' });
  await page.selectOption('[data-testid=service]', 'r4-b');
  await page.click('[data-testid=search]');
  await waitFor('the newer search listed', async () => JSON.stringify(await services()) === '["r4-b"]');
  await first.release();
  assert.deepEqual(await services(), ['r4-b'], 'the older answer dropped');
  await page.unrouteAll();

  // A search for r4-a held: meanwhile, no results of r4-b.
  const second = await holdFirst(page, (u) => isSearch(u.href), (url) => url.includes('r4-a'));
  await page.selectOption('[data-testid=service]', 'r4-a');
  await page.click('[data-testid=search]');
  await second.arrived;
  await twoFrames(page);
  assert.equal(new URL(page.url()).searchParams.get('service'), 'r4-a');
  assert.deepEqual(await services(), [], 'no results of the filters before');
  assert.ok(await page.isVisible('[data-testid=searching]'), '"Searching…" shown');
  await second.release();
  await waitFor('the search for r4-a listed', async () => JSON.stringify(await services()) === '["r4-a"]');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a log file opened, then Live tail: only the source's records are tailed, none older than the page's window", async () => {
  await post('logs', logsDoc('r8-svc', ['line-collector-recent']));
  await post('logs', logsDoc('r8-svc', ['line-collector-3h-ago'], nowNs() - 3n * HOUR_NS));
  // The file's records are of the same service, older than the page's hour, so that the service
  // filter shows them too.
  const page = await newPage();
  const logs = await new LogsPage(page).open(env.collector.ui, 'service=r8-svc');
  await logs.waitForCount(1);
  const file = JSON.stringify(logsDoc('r8-svc', ['line-file-a', 'line-file-b'], nowNs() - 6n * HOUR_NS));
  await page.setInputFiles('[data-testid=log-file]', { name: 'r8-old.json', mimeType: 'application/json', buffer: Buffer.from(file) });
  await waitFor('the file shown', async () => JSON.stringify((await messages(logs)).sort()) === '["line-file-a","line-file-b"]');
  await logs.goLive('live (WebSocket)');
  // A line posted now is tailed after anything the tail starts with.
  await post('logs', logsDoc('r8-svc', ['line-collector-fresh'], nowNs()));
  await waitFor('the fresh line tailed', async () => (await messages(logs)).includes('line-collector-fresh'));
  await twoFrames(page);
  assert.deepEqual(await messages(logs), ['line-collector-fresh', 'line-collector-recent']);
  assert.deepEqual(await logs.counts(), [2, 2]);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('lines that waited while the live tail was paused, stored on Stop into a full buffer, count the oldest they drop', async () => {
  const service = 'r6-full';
  await post('logs', logsDoc(service, Array.from({ length: 1000 }, (_, i) => `held ${i}`)));
  const page = await newPage();
  const logs = await new LogsPage(page).open(env.collector.ui, `service=${service}&buffer=1000`);
  await logs.waitForCount(1000);
  await logs.goLive('live (WebSocket)');
  await page.click('[data-testid=live-pause]');
  await post('logs', logsDoc(service, Array.from({ length: 50 }, (_, i) => `new ${i}`), nowNs()));
  await page.waitForFunction(() => document.querySelector('[data-testid=waiting-count]')?.textContent === '50 new lines waiting');
  await page.click('[data-testid=live-toggle]'); // Stop
  await waitFor('the 50 oldest counted as dropped', async () => (await logs.dropped()) === 50);
  assert.deepEqual(await logs.counts(), [1000, 1000]);
  assert.ok((await messages(logs)).includes('new 49'), 'the waiting lines are shown');
  assert.deepEqual(page.errors, []);
  await page.close();
});
