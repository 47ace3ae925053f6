// The viewer's sources: Jaeger (API v3 and, for an older server, the legacy API), Tempo (with a
// partial trace) and Zipkin, recorded responses served by tests/e2e/recorded_backends.mjs. Tempo
// and Jaeger are reached through the collector's gateway (credentials added on the server),
// Zipkin directly from the browser (it allows CORS); the settings page stores a choice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { behindCollector } from './viewer_env.mjs';
import { ONE_TRACE_ID, OTHER_TRACE_ID, startRecordedBackends, TEMPO_TRACE_ID, ZIPKIN_TRACE_ID } from './recorded_backends.mjs';

const env = behindCollector('backends', startRecordedBackends, (url) => ['--upstream', `rec=${url}`, '--upstream-header', 'rec=Authorization: Bearer gateway-secret']);

/** Opens the search page with the given query string and returns the result rows' texts. */
async function search(page, query) {
  await page.goto(`${env.collector.ui}/?${query}`);
  return results(page);
}

/** The result rows' texts once the search page shows its outcome; its error panel as an error. */
async function results(page) {
  await page.waitForSelector('[data-testid=trace-row], [data-testid=empty], [data-testid=error]', { timeout: 15000 });
  const error = await page.$('[data-testid=error]');
  if (error) throw new Error(`the search page shows an error: ${await error.textContent()}`);
  return page.$$eval('[data-testid=trace-row]', (rows) => rows.map((r) => r.textContent));
}

async function openFirstResult(page) {
  await page.click('[data-testid=trace-row] a');
  await page.waitForSelector('[data-testid=span-row], [data-testid=error]', { timeout: 15000 });
  return page.$$eval('[data-testid=span-name]', (names) => names.map((n) => n.textContent));
}

const requestsTo = (prefix) => env.backends.requests.filter((r) => r.path.startsWith(prefix));

test('Tempo through the gateway: TraceQL search, the trace, and its PARTIAL status shown', async () => {
  const page = await env.browser.newPage();
  const rows = await search(page, `traces=${encodeURIComponent('tempo:/upstream/rec/tempo')}&service=my.service&lookback=all`);
  assert.equal(rows.length, 1);
  assert.match(rows[0], /my\.service/);
  assert.match(rows[0], new RegExp(TEMPO_TRACE_ID), 'the short Tempo id is left-padded to 32 digits');
  assert.match(await page.textContent('[data-testid=trace-source]'), /Grafana Tempo at \/upstream\/rec\/tempo/);
  assert.equal(await page.locator('[data-testid=scatter-point]').count(), 1);
  assert.deepEqual(await openFirstResult(page), ["I'm a server span"]);
  assert.match(await page.textContent('[data-testid=notice]'), /partial trace: trace exceeds max bytes/);
  const searchRequest = requestsTo('/tempo/api/search')[0];
  assert.match(decodeURIComponent(searchRequest.query), /q=\{ resource\.service\.name = "my\.service" \}/);
  for (const r of requestsTo('/tempo/')) {
    assert.equal(r.authorization, 'Bearer gateway-secret', `${r.path}: the gateway adds the upstream's credentials`);
    assert.equal(r.origin, undefined, `${r.path}: the browser did not call the backend itself`);
  }
  await page.close();
});

test('a Tempo trace shorter than a millisecond says so rather than 0 ns', async () => {
  const page = await env.browser.newPage();
  await search(page, `traces=${encodeURIComponent('tempo:/upstream/rec/tempo')}&service=my.service&operation=quick&lookback=all`);
  assert.deepEqual(await page.locator('[data-testid=trace-duration]').allTextContents(), ['< 1 ms']);
  assert.deepEqual(await page.locator('[data-testid=trace-row] .service').allTextContents(), ['my.service']);
  await page.close();
});

test('a Tempo search over more than 168 hours names the range Tempo searched', async () => {
  const page = await env.browser.newPage();
  const tempo = `traces=${encodeURIComponent('tempo:/upstream/rec/tempo')}&service=my.service`;
  const before = requestsTo('/tempo/api/search').length;
  await search(page, `${tempo}&lookback=all`);
  const params = new URLSearchParams(requestsTo('/tempo/api/search').slice(before).at(-1).query);
  const [start, end] = [Number(params.get('start')), Number(params.get('end'))];
  assert.equal(end - start, 168 * 3600, "Tempo's longest range");
  const notice = await page.textContent('[data-testid=search-range-notice]');
  const utc = (s) => new Date(s * 1000).toISOString().replace('T', ' ').replace('Z', ' UTC');
  assert.ok(notice.includes(`from ${utc(start)} to ${utc(end)}`), notice);
  assert.match(notice, /168 hours/);
  // Seven days (168 h) and a day are searched whole: no notice.
  for (const lookback of ['7d', '24h']) {
    await search(page, `${tempo}&lookback=${lookback}`);
    assert.equal(await page.locator('[data-testid=search-range-notice]').count(), 0, lookback);
  }
  await page.close();
});

/** The attribute keys the search form offers, once it offers some. */
async function attributeKeys(page) {
  await page.waitForSelector('[data-testid=attribute-keys] option', { state: 'attached', timeout: 15000 });
  return page.$$eval('[data-testid=attribute-keys] option', (o) => o.map((x) => x.value));
}

test('Tempo: the attribute field offers its tag names, from /api/v2/search/tags or an older Tempo\'s /api/search/tags', async () => {
  const page = await env.browser.newPage();
  await search(page, `traces=${encodeURIComponent('tempo:/upstream/rec/tempo')}&service=my.service&lookback=all`);
  assert.equal(await page.getAttribute('[data-testid=tags]', 'list'), 'attribute-keys');
  // Resource and span attributes, each once; TraceQL's intrinsics are not attributes.
  assert.deepEqual(await attributeKeys(page), ['host.name=', 'http.method=', 'service.name=']);
  await page.goto(`${env.collector.ui}/?traces=${encodeURIComponent('tempo:/upstream/rec/tempo-v1')}&lookback=all`);
  assert.deepEqual(await attributeKeys(page), ['http.status_code=', 'k8s.pod.name=']);
  const paths = requestsTo('/tempo-v1/api/').map((r) => r.path);
  assert.ok(paths.indexOf('/tempo-v1/api/v2/search/tags') < paths.indexOf('/tempo-v1/api/search/tags'), `v2 first, then v1: ${paths}`);
  await page.close();
});

test('traces from Tempo and logs from Loki: the trace records mark their span row and fill the logs panel', async () => {
  const page = await env.browser.newPage();
  const sources = `traces=${encodeURIComponent('tempo:/upstream/rec/tempo')}&logs=${encodeURIComponent('loki:/upstream/rec/loki')}`;
  await page.goto(`${env.collector.ui}/trace/${TEMPO_TRACE_ID}?${sources}`);
  await page.waitForSelector('[data-testid=log-mark]', { timeout: 15000 });
  const mark = await page.$eval('[data-testid=log-mark]', (m) => ({ title: m.title, className: m.className, left: m.style.left }));
  assert.deepEqual(mark, { title: 'half way through the server span', className: 'log-mark level-warn', left: '50%' });
  assert.match(await page.textContent('[data-testid=trace-logs]'), /half way through the server span/);
  // Links and the address keep the sources, so that they show the same data when shared.
  assert.equal(await page.getAttribute('[data-testid=logs-link]', 'href'), `/logs?trace_id=${TEMPO_TRACE_ID}&${sources}`);
  await page.click('[data-testid=span-row]');
  await page.waitForSelector('[data-testid=span-details]');
  const address = new URL(page.url()).searchParams;
  assert.deepEqual(
    [address.get('traces'), address.get('logs'), address.get('span')?.length],
    ['tempo:/upstream/rec/tempo', 'loki:/upstream/rec/loki', 16],
  );
  const lokiQuery = requestsTo('/loki/loki/api/v1/query_range').at(-1);
  assert.match(decodeURIComponent(lokiQuery.query), /\| trace_id="5b8efff798038103d269b633813fc60c"/);
  assert.equal(lokiQuery.authorization, 'Bearer gateway-secret');
  await page.close();
});

test('Jaeger API v3 through the gateway, and the legacy API for an older Jaeger', async () => {
  const page = await env.browser.newPage();
  const rows = await search(page, `traces=${encodeURIComponent('jaeger:/upstream/rec/jaeger')}&service=foo&lookback=all`);
  assert.equal(rows.length, 1);
  assert.match(rows[0], /foobar/);
  assert.deepEqual(await openFirstResult(page), ['foobar']);
  assert.ok(requestsTo('/jaeger/api/v3/traces').some((r) => /query\.service_name=foo/.test(r.query)));

  const legacy = await search(page, `traces=${encodeURIComponent('jaeger:/upstream/rec/jaeger-legacy')}&service=service-x&lookback=all`);
  assert.equal(legacy.length, 1);
  assert.match(legacy[0], /test-general-conversion/);
  const paths = requestsTo('/jaeger-legacy/').map((r) => r.path);
  assert.ok(paths.indexOf('/jaeger-legacy/api/v3/traces') < paths.indexOf('/jaeger-legacy/api/traces'), 'v3 first, then the legacy API');
  assert.equal((await openFirstResult(page)).length, 5);
  await page.close();
});

test('a Jaeger API v3 that ignores the attribute filters: the viewer checks the traces against them', async () => {
  const page = await env.browser.newPage();
  for (const source of ['jaeger:/upstream/rec/jaeger-noattrs', `jaeger:${env.backends.url}/jaeger-noattrs`]) {
    const before = requestsTo('/jaeger-noattrs/api/v3/traces').length;
    const filtered = `traces=${encodeURIComponent(source)}&service=shop&lookback=all&limit=20`;
    const rows = await search(page, `${filtered}&tags=${encodeURIComponent('http.status_code=500')}`);
    assert.equal(rows.length, 1, source);
    assert.match(rows[0], new RegExp(ONE_TRACE_ID));
    const asked = new URLSearchParams(requestsTo('/jaeger-noattrs/api/v3/traces')[before].query);
    assert.equal(asked.get('query.attributes'), '{"http.status_code":"500"}');
    assert.equal(asked.get('query.num_traces'), '20', 'the limit, as Jaeger 1.x reads it');
    assert.equal(asked.get('query.search_depth'), '20');
    const unfiltered = await search(page, filtered);
    assert.equal(unfiltered.length, 2, 'without a filter both traces are listed');
    assert.ok(unfiltered.some((r) => r.includes(OTHER_TRACE_ID)));
  }
  await page.close();
});

test('a Jaeger older than API v3 answering 200 with its UI page: the legacy API is used, directly and through the gateway', async () => {
  const page = await env.browser.newPage();
  for (const source of ['jaeger:/upstream/rec/jaeger-html', `jaeger:${env.backends.url}/jaeger-html`]) {
    const rows = await search(page, `traces=${encodeURIComponent(source)}&service=service-x&lookback=all`);
    assert.equal(rows.length, 1, source);
    assert.match(rows[0], /test-general-conversion/);
    const services = await page.$$eval('[data-testid=service] option', (o) => o.map((x) => x.value));
    assert.deepEqual(services, ['', 'service-x'], 'the services from /api/services');
    assert.equal((await openFirstResult(page)).length, 5, 'the trace from /api/traces/{id}');
  }
  const paths = requestsTo('/jaeger-html/').map((r) => r.path);
  assert.ok(paths.indexOf('/jaeger-html/api/v3/traces') < paths.indexOf('/jaeger-html/api/traces'), 'v3 first, then the legacy API');
  await page.close();
});

test('Zipkin directly from the browser, with service and operation lists', async () => {
  const page = await env.browser.newPage();
  const source = `zipkin:${env.backends.url}/zipkin`;
  const rows = await search(page, `traces=${encodeURIComponent(source)}&service=mobile_api&lookback=all`);
  assert.equal(rows.length, 1);
  assert.match(rows[0], new RegExp(ZIPKIN_TRACE_ID));
  const services = await page.$$eval('[data-testid=service] option', (o) => o.map((x) => x.value));
  assert.deepEqual(services, ['', 'mobile_api', 'routing']);
  const operations = await page.$$eval('[data-testid=operation] option', (o) => o.map((x) => x.value));
  assert.deepEqual(operations, ['', 'get', 'post']);
  assert.equal((await openFirstResult(page)).length, 16);
  const direct = requestsTo('/zipkin/api/v2/traces')[0];
  assert.equal(direct.origin, env.collector.ui, 'the browser called Zipkin itself (CORS)');
  assert.equal(direct.authorization, undefined);
  await page.close();
});

test('a search answer with a trace that cannot be read shows the other traces and says what was left out', async () => {
  const page = await env.browser.newPage();
  const source = `zipkin:${env.backends.url}/zipkin-torn`;
  const rows = await search(page, `traces=${encodeURIComponent(source)}&service=mobile_api&lookback=all`);
  assert.equal(rows.length, 1, 'the trace that reads is listed');
  assert.match(rows[0], new RegExp(ZIPKIN_TRACE_ID));
  assert.match(
    await page.textContent('[data-testid=search-skipped]'),
    /^The source's search answer: 1 of its 2 traces could not be read and was left out \(it: trace 1: .*missing id\)\.$/,
  );
  await page.close();
});

test('the settings page stores the sources in the browser and puts them in the page URL', async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  await page.goto(`${env.collector.ui}/settings`);
  await page.selectOption('[data-testid=traces-kind]', 'tempo');
  await page.fill('[data-testid=traces-url]', '/upstream/rec/tempo/');
  await page.fill('[data-testid=traces-auth]', 'Bearer typed-in-browser');
  await page.click('[data-testid=save-sources]');
  await page.waitForURL(/traces=tempo%3A%2Fupstream%2Frec%2Ftempo/);
  assert.doesNotMatch(page.url(), /typed-in-browser/, 'credentials stay out of links');
  assert.equal((await results(page)).length, 1);
  // A fresh visit without the URL parameter still uses the stored choice.
  assert.equal((await search(page, 'service=my.service&lookback=all')).length, 1);
  assert.match(await page.textContent('[data-testid=trace-source]'), /Grafana Tempo/);
  const last = requestsTo('/tempo/api/search').at(-1);
  assert.equal(last.authorization, 'Bearer gateway-secret', "the gateway's credentials replace the browser's");
  await context.close();
});

test('the collector search filters by service and shows a bad filter as an error', async () => {
  const page = await env.browser.newPage();
  for (const name of ['otlp-proto-trace.json', 'jaeger-memory-otel_traces_01.json']) {
    const body = (await import('node:fs')).readFileSync(new URL(`../../../shared/fixtures/${name}`, import.meta.url));
    const r = await fetch(`${env.collector.otlp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(r.status, 200);
  }
  const all = await search(page, 'lookback=all');
  assert.ok(all.length >= 2, `${all.length} traces`);
  // A point of the scatter plot opens its trace: the points are drawn in the order of the rows.
  const ids = await page.$$eval('[data-testid=trace-row] td.mono a', (links) => links.map((a) => a.getAttribute('href').match(/\/trace\/(\w+)/)[1]));
  assert.equal(await page.locator('[data-testid=scatter-point]').count(), ids.length);
  // Traces at the same time and duration share a place: the points not under another one.
  const onTop = await page.$$eval('[data-testid=scatter-point]', (points) => points.flatMap((p, i) => {
    const box = p.getBoundingClientRect();
    return document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2) === p ? [i] : [];
  }));
  assert.ok(onTop.length >= 2, `points on top: ${onTop}`);
  for (const i of onTop) {
    await page.goto(`${env.collector.ui}/?lookback=all`);
    await page.locator('[data-testid=scatter-point]').nth(i).click();
    await page.waitForURL(new RegExp(`/trace/${ids[i]}`));
    await page.waitForSelector('[data-testid=span-row]');
    assert.equal((await page.textContent('[data-testid=trace-id]')).trim(), ids[i], `point ${i} opens trace ${ids[i]}`);
  }
  const serviceX = await search(page, 'service=service-x&lookback=all');
  assert.ok(serviceX.length >= 1 && serviceX.length < all.length);
  await page.goto(`${env.collector.ui}/?service=service-x&lookback=all&minDuration=fast`);
  await page.waitForSelector('[data-testid=error]');
  assert.match(await page.textContent('[data-testid=error]'), /minimum duration `fast`/);
  await page.close();
});

test('a Jaeger source that does not answer says so, not that a search needs a service', async () => {
  // A port nothing listens on: bind one, note it, close it.
  const { createServer } = await import('node:net');
  const port = await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const free = s.address().port;
      s.close(() => resolve(free));
    });
  });
  const page = await env.browser.newPage();
  await page.goto(`${env.collector.ui}/?traces=${encodeURIComponent(`jaeger:http://127.0.0.1:${port}`)}`);
  await page.waitForSelector('[data-testid=error]', { timeout: 15000 });
  const text = await page.textContent('[data-testid=error]');
  assert.match(text, /could not be reached/, text);
  assert.doesNotMatch(text, /need a service/);
  await page.close();
});
