// The log stream from Loki (a stand-in answering in Loki's documented shapes,
// tests/e2e/recorded_loki.mjs) through the collector's gateway: the query with
// categorize-labels, filters, the histogram's drag selection, context, trace links, and the live
// tail over the relayed WebSocket with pause, resume and the drop counter; polling when no
// WebSocket opens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LOKI_TRACE_ID, recordedStreams, toStreams } from './recorded_loki.mjs';
import { LogsPage } from './logs_page.mjs';
import { directLoki, GATEWAY_LOKI, recordedLokiBehindCollector, withRecordedLoki } from './viewer_env.mjs';

const env = recordedLokiBehindCollector();
const logsSource = GATEWAY_LOKI;

test('records come from query_range with categorize-labels, newest first, coloured by level', async () => {
  const page = await env.browser.newPage();
  const logs = await new LogsPage(page).open(env.collector.ui, logsSource);
  assert.deepEqual(await logs.counts(), [40, 40]);
  const rows = await logs.rows();
  assert.equal(rows[0].message, 'cart request 39 served', 'the newest record is on top');
  assert.equal(rows[0].level, 'FATAL');
  assert.match(rows[0].levelClass, /level-fatal/);
  assert.ok(rows.some((r) => /level-error/.test(r.levelClass) && r.level === 'ERROR'));
  const range = env.loki.requests.find((r) => r.path === '/loki/api/v1/query_range');
  assert.equal(range.flags, 'categorize-labels', 'the header went through the gateway');
  assert.equal(range.params.query, '{service_name=~".+"}');
  assert.equal(range.params.limit, '5000');
  assert.ok(env.loki.requests.some((r) => r.path === '/loki/api/v1/labels'));
  assert.ok(env.loki.requests.some((r) => r.path === '/loki/api/v1/label/service_name/values'));
  // Structured metadata stays apart from the stream labels.
  const details = await logs.expand('checkout request 20 failed');
  assert.equal(await page.textContent('[data-testid=detail-trace-id]'), LOKI_TRACE_ID);
  assert.equal(await page.textContent('[data-testid=detail-span-id]'), 'b7ad6b7169203331');
  assert.match(await (await details.$('[data-testid=detail-attributes]')).textContent(), /http_route\/pay/);
  assert.match(await (await details.$('[data-testid=detail-resource]')).textContent(), /deployment_environmentprod/);
  await page.close();
});

test('filters: service, minimum level, text, regular expression, attribute', async () => {
  const page = await env.browser.newPage();
  const logs = await new LogsPage(page).open(env.collector.ui, logsSource);
  await logs.filterService('checkout');
  await logs.waitForCount(20);
  await logs.filterLevel('error');
  await logs.waitForCount(5);
  assert.ok((await logs.rows()).every((r) => ['ERROR', 'FATAL'].includes(r.level) && r.service === 'checkout'));
  await logs.filterService('');
  await logs.filterLevel('');
  await logs.filterText('upstream timeout');
  await logs.waitForCount(5);
  await logs.filterText('Request 1\\d ', { regex: true });
  await logs.waitForCount(0);
  await logs.filterText('(?i)Request 1\\d ', { regex: true });
  await logs.waitForCount(10);
  await logs.filterText('(', { regex: true });
  await page.waitForSelector('[data-testid=filter-error]');
  await logs.filterText('');
  await logs.filterAttribute('http_route=/pay');
  await logs.waitForCount(10);
  // Labels every record has count as the README says ("an attribute or label key=value"): the
  // level (a stream label the records' level comes from), the trace id; a filter without `=` is
  // an error, as on the search page.
  await logs.filterAttribute('level=error');
  await logs.waitForCount(5);
  assert.ok((await logs.rows()).every((r) => r.level === 'ERROR'));
  await logs.filterAttribute(`trace_id=${LOKI_TRACE_ID}`);
  await logs.waitForCount(8);
  await logs.filterAttribute('garbage');
  assert.match(await page.textContent('[data-testid=filter-error]'), /garbage.*key=value/);
  await page.close();
});

test('dragging across the histogram selects a time range, and it can be reset', async () => {
  const page = await env.browser.newPage();
  const logs = await new LogsPage(page).open(env.collector.ui, logsSource);
  // One path per level, holding that level's part of every bar, titled with its count.
  const levels = await page.$$eval('[data-testid=histogram-level]', (paths) =>
    paths.map((p) => ({ level: p.dataset.level, bars: p.getAttribute('d').split('M').length - 1, title: p.textContent })));
  assert.deepEqual(levels.map((l) => l.level).sort(), ['debug', 'error', 'fatal', 'info', 'trace', 'warn']);
  assert.ok(levels.every((l) => l.bars >= 1 && l.title === `${l.title.split(' ')[0]} ${l.level}`));
  assert.equal(levels.reduce((n, l) => n + Number(l.title.split(' ')[0]), 0), 40, 'every record counted once');
  await logs.dragHistogram(0.5, 1.0);
  await page.waitForSelector('[data-testid=range-reset]');
  const [matching] = await logs.counts();
  assert.ok(matching > 10 && matching < 30, `about half the records are in the range (${matching})`);
  assert.equal((await logs.rows())[0].message, 'cart request 39 served');
  await page.click('[data-testid=range-reset]');
  await logs.waitForCount(40);
  await page.close();
});

test('show context lists the same service around a record; a trace id links both ways', async () => {
  const page = await env.browser.newPage();
  const logs = await new LogsPage(page).open(env.collector.ui, logsSource);
  await logs.expand('cart request 21 served');
  await page.click('[data-testid=show-context]');
  await page.waitForSelector('[data-testid=context-panel]');
  const context = await page.$$eval('[data-testid=context-row]', (rows) => rows.map((r) => [r.classList.contains('current'), r.textContent]));
  assert.equal(context.length, 20, 'every cart record: 10 before, the record, 9 after');
  assert.ok(context.every(([, t]) => /cart request/.test(t)));
  assert.match(context.find(([current]) => current)[1], /cart request 21 /);

  // `?trace_id=` asks Loki with a label filter (Loki's selectors only name stream labels).
  await logs.open(env.collector.ui, `${logsSource}&trace_id=${LOKI_TRACE_ID}`);
  assert.deepEqual(await logs.counts(), [8, 8]);
  assert.match(await page.textContent('[data-testid=trace-filter]'), new RegExp(LOKI_TRACE_ID));
  const asked = env.loki.requests.filter((r) => r.path === '/loki/api/v1/query_range').at(-1);
  assert.equal(asked.params.query, `{service_name=~".+"} | trace_id="${LOKI_TRACE_ID}"`);
  await logs.expand('checkout request 0 served');
  const href = await page.getAttribute('[data-testid=detail-trace-link]', 'href');
  assert.equal(href, `/trace/${LOKI_TRACE_ID}?traces=collector%3A&${logsSource}`, 'the trace page keeps the sources');
  await page.click('[data-testid=detail-trace-link]');
  await page.waitForURL(new RegExp(`/trace/${LOKI_TRACE_ID}`));
  await page.close();
});

test('live tail: WebSocket through the gateway, pause and resume, the oldest lines dropped and counted', async () => {
  const page = await env.browser.newPage();
  const logs = await new LogsPage(page).open(env.collector.ui, `${logsSource}&live=1&buffer=1000`);
  await page.waitForFunction(() => document.querySelector('[data-testid=live-status]')?.textContent === 'live (WebSocket)');
  assert.equal((await logs.counts())[1], 0, 'the stand-in sends no backlog');
  const tailUpgrade = env.loki.requests.find((r) => r.upgrade);
  assert.equal(tailUpgrade.params.query, '{service_name=~".+"}');
  const now = Date.now();
  const batch = (from, n) =>
    toStreams(Array.from({ length: n }, (_, i) => ({
      service: 'tailed', level: 'info', ts: String(BigInt(now + from + i) * 1000000n), line: `live line ${from + i}`,
    })));
  env.loki.tail(batch(0, 300));
  await logs.waitForCount(300);
  assert.equal((await logs.rows())[0].message, 'live line 299');

  await page.click('[data-testid=live-pause]');
  assert.equal(await logs.status(), 'paused');
  env.loki.tail(batch(300, 200));
  await page.waitForFunction(() => document.querySelector('[data-testid=waiting-count]')?.textContent === '200 new lines waiting');
  assert.deepEqual(await logs.counts(), [300, 300], 'nothing moves while paused');
  await page.click('[data-testid=live-pause]');
  await logs.waitForCount(500);
  assert.equal((await logs.rows())[0].message, 'live line 499');

  env.loki.tail(batch(500, 900), [{ labels: { service_name: 'tailed' }, timestamp: String(now) }]);
  await page.waitForFunction(() => document.querySelector('[data-testid=dropped-count]')?.dataset.dropped === '401');
  assert.deepEqual(await logs.counts(), [1000, 1000], 'the buffer holds 1,000 lines');
  assert.match(await page.textContent('[data-testid=dropped-count]'), /401 oldest lines dropped/);
  assert.equal((await logs.rows())[0].message, 'live line 1399');
  await page.click('[data-testid=live-toggle]');
  assert.equal(await logs.status(), '');
  await page.close();
});

test('live tail: a burst of messages beyond a frame\'s reading budget arrives whole over the next frames', async () => {
  const page = await env.browser.newPage();
  const logs = await new LogsPage(page).open(env.collector.ui, `${logsSource}&live=1&buffer=5000`);
  await page.waitForFunction(() => document.querySelector('[data-testid=live-status]')?.textContent === 'live (WebSocket)');
  const now = Date.now();
  // 200 messages of 500 lines, sent at once: far more than 4 ms of reading.
  for (let m = 0; m < 200; m++) {
    env.loki.tail(toStreams(Array.from({ length: 500 }, (_, i) => ({
      service: 'burst', level: 'info', ts: String(BigInt(now) * 1000000n + BigInt(m * 500 + i)), line: `burst line ${m * 500 + i}`,
    }))));
  }
  await page.waitForFunction(() => document.querySelector('[data-testid=dropped-count]')?.dataset.dropped === '95000', null, { timeout: 60000 });
  assert.deepEqual(await logs.counts(), [5000, 5000], 'the newest 5,000 held, the 95,000 before them counted');
  assert.equal((await logs.rows())[0].message, 'burst line 99999');
  await page.click('[data-testid=live-toggle]');
  await page.close();
});

test('without a WebSocket the live tail polls query_range from the newest record on', async () => {
  await withRecordedLoki({ streams: recordedStreams(), websocket: false }, async (direct) => {
    const page = await env.browser.newPage();
    const logs = await new LogsPage(page).open(env.collector.ui, directLoki(direct));
    assert.deepEqual(await logs.counts(), [40, 40]);
    await logs.goLive('live (polling every second)');
    direct.append(toStreams([{ service: 'cart', level: 'warn', ts: String(BigInt(Date.now() - 1000) * 1000000n), line: 'polled line' }]));
    await logs.waitForCount(41);
    assert.equal((await logs.rows())[0].message, 'polled line');
    const polls = direct.requests.filter((r) => r.path === '/loki/api/v1/query_range' && r.params.direction === 'forward');
    assert.ok(polls.length >= 1 && polls.every((r) => r.flags === 'categorize-labels'));
    await page.waitForTimeout(1500);
    assert.deepEqual(await logs.counts(), [41, 41], 'polling asks from the newest record on: no duplicates');
    await page.close();
  });
});

test('live tail: when the source stops answering it says "reconnecting…" and carries on once it is back', async () => {
  await withRecordedLoki({ streams: recordedStreams() }, async (direct) => {
    const page = await env.browser.newPage();
    const logs = await new LogsPage(page).open(env.collector.ui, directLoki(direct));
    assert.deepEqual(await logs.counts(), [40, 40]);
    const status = () => page.textContent('[data-testid=live-status]');
    await logs.goLive('live (WebSocket)');
    direct.down(true);
    await page.waitForFunction(() => /^reconnecting…/.test(document.querySelector('[data-testid=live-status]')?.textContent), null, { timeout: 15000 });
    assert.doesNotMatch(await status(), /CORS|tail stopped/);
    direct.down(false);
    await page.waitForFunction(() => document.querySelector('[data-testid=live-status]')?.textContent === 'live (WebSocket)', null, { timeout: 20000 });
    direct.tail(toStreams([{ service: 'cart', level: 'info', ts: String(BigInt(Date.now()) * 1000000n), line: 'tailed after the restart' }]));
    await logs.waitForCount(41);
    assert.equal((await logs.rows())[0].message, 'tailed after the restart');
    await page.close();
  });
});

test('live tail: a source back from a restart while a poll probes it gets the WebSocket again, not polling for good', async () => {
  await withRecordedLoki({ streams: recordedStreams() }, async (direct) => {
    const page = await env.browser.newPage();
    const logs = await new LogsPage(page).open(env.collector.ui, directLoki(direct));
    await logs.goLive('live (WebSocket)');
    direct.down(true);
    // Back at once after a WebSocket retry failed: the poll that follows it is the first to
    // reach the source again.
    const refused = direct.refusedUpgrades();
    for (let i = 0; i < 1500 && direct.refusedUpgrades() === refused; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(direct.refusedUpgrades() > refused, 'the tail tried its WebSocket again');
    direct.down(false);
    await page.waitForFunction(() => document.querySelector('[data-testid=live-status]')?.textContent === 'live (WebSocket)', null, { timeout: 15000 });
    direct.tail(toStreams([{ service: 'cart', level: 'info', ts: String(BigInt(Date.now()) * 1000000n), line: 'over the WebSocket again' }]));
    await logs.waitForCount(41);
    await page.close();
  });
});

test('polling keeps a record stored after the poll that saw another of the same time, without duplicates', async () => {
  // Clocks that count milliseconds stamp a burst of lines alike: a poll that asked from the
  // nanosecond after the newest record lost the lines of that time stored after it.
  await withRecordedLoki({ streams: recordedStreams(), websocket: false }, async (direct) => {
    const page = await env.browser.newPage();
    const logs = await new LogsPage(page).open(env.collector.ui, directLoki(direct));
    assert.deepEqual(await logs.counts(), [40, 40]);
    await logs.goLive('live (polling every second)');
    const ts = String(BigInt(Date.now() - 1000) * 1000000n);
    direct.append(toStreams([{ service: 'cart', level: 'warn', ts, line: 'first of the millisecond' }]));
    await logs.waitForCount(41);
    direct.append(toStreams([{ service: 'cart', level: 'warn', ts, line: 'second of the millisecond' }]));
    await logs.waitForCount(42);
    await page.waitForTimeout(2500);
    assert.deepEqual(await logs.counts(), [42, 42], 'each record once');
    assert.deepEqual((await logs.rows()).slice(0, 2).map((r) => r.message).sort(), ['first of the millisecond', 'second of the millisecond']);
    await page.close();
  });
});

test('"Load older" pages back past the first query_range limit, without gaps or duplicates', async () => {
  const now = Date.now();
  const bulk = Array.from({ length: 5300 }, (_, i) => ({
    service: i % 2 ? 'bulk-a' : 'bulk-b', level: 'info', ts: String(BigInt(now - 3_000_000 + i * 500) * 1000000n), line: `bulk line ${i}`,
  }));
  await withRecordedLoki({ streams: toStreams(bulk) }, async (direct) => {
    const page = await env.browser.newPage();
    const logs = await new LogsPage(page).open(env.collector.ui, directLoki(direct));
    assert.deepEqual(await logs.counts(), [5000, 5000], 'Loki\'s first answer: the newest 5,000');
    await page.click('[data-testid=load-older]');
    await logs.waitForCount(5300);
    assert.deepEqual(await logs.counts(), [5300, 5300], 'every record once');
    const older = direct.requests.filter((r) => r.path === '/loki/api/v1/query_range').at(-1);
    assert.equal(older.params.end, String(BigInt(bulk[300].ts) - 1n), 'asked up to the oldest record held');
    assert.equal(older.params.direction, 'backward');
    await page.waitForSelector('[data-testid=load-older]', { state: 'detached' }); // fewer than a page came
    // A text is asked of Loki as a line filter: 299 and 2990–2999.
    await logs.filterText('bulk line 299');
    await page.waitForSelector('[data-testid=match-count][data-loading=false]');
    assert.deepEqual(await logs.counts(), [11, 11]);
    assert.equal(direct.requests.filter((r) => r.path === '/loki/api/v1/query_range').at(-1).params.query, '{service_name=~".+"} |= "bulk line 299"');
    await page.close();
  });
});

test('the service filter offers the services Loki knows, beyond the records loaded', async () => {
  const now = Date.now();
  const invoice = toStreams([{ service: 'billing', level: 'info', ts: String(BigInt(now - 3 * 3_600_000) * 1000000n), line: 'an invoice, three hours ago' }]);
  await withRecordedLoki({ streams: [...recordedStreams(now), ...invoice] }, async (direct) => {
    const page = await env.browser.newPage();
    const logs = await new LogsPage(page).open(env.collector.ui, directLoki(direct));
    assert.deepEqual(await logs.counts(), [40, 40], 'the last hour: no billing record');
    await page.waitForSelector('[data-testid=log-service] option[value=billing]', { state: 'attached' });
    const options = await page.$$eval('[data-testid=log-service] option', (os) => os.map((o) => o.value));
    assert.deepEqual(options, ['', 'billing', 'cart', 'checkout']);
    const values = direct.requests.find((r) => r.path === '/loki/api/v1/label/service_name/values');
    assert.equal(BigInt(values.params.end) - BigInt(values.params.start), 3_600_000_000_000n, 'asked over the last hour');
    await logs.filterService('billing');
    await logs.waitForCount(0);
    await page.selectOption('[data-testid=log-lookback]', '24h');
    await logs.waitForCount(1);
    assert.equal((await logs.rows())[0].message, 'an invoice, three hours ago');
    await page.close();
  });
});

