// A Loki answer whose entries are not Loki's documented `[string ns, string line(, metadata
// object)]` is an error panel naming the stream and the entry, never rows at 1970; a malformed
// live-tail message or poll answer is named beside the status and the tail goes on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { recordedStreams, toStreams } from './recorded_loki.mjs';
import { LogsPage } from './logs_page.mjs';
import { directLoki, GATEWAY_LOKI, recordedLokiBehindCollector, withRecordedLoki } from './viewer_env.mjs';

const env = recordedLokiBehindCollector();

/** A Loki answering every `query_range` with `result` (asked directly by the page: CORS allowed). */
async function lokiAnswering(result) {
  const server = createServer((req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', 'authorization, accept, x-loki-response-encoding-flags');
    if (req.method === 'OPTIONS') return res.writeHead(204).end();
    const body = req.url.startsWith('/loki/api/v1/query_range')
      ? { status: 'success', data: { resultType: 'streams', result } }
      : { status: 'success', data: [] };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, stop: () => new Promise((r) => server.close(r)) };
}

test('entries of another shape than Loki\'s are an error naming the stream and the entry, not rows', async () => {
  // QA's answer: a number for the time, an object for the line, a string for an entry.
  const loki = await lokiAnswering([{ stream: { service_name: 'web' }, values: [[1795800000000000000, { line: 'x' }], 'nope'] }]);
  try {
    const page = await env.browser.newPage();
    const logs = await new LogsPage(page).open(env.collector.ui, `logs=${encodeURIComponent(`loki:${loki.url}`)}`);
    assert.match(
      await page.textContent('[data-testid=error]'),
      /query_range\?.*: Loki's answer is malformed: stream 1 \{service_name="web"\}, entry 1: the time is 1795800000000000000, not a string of Unix nanoseconds$/,
    );
    assert.deepEqual(await logs.counts(), [0, 0], 'no rows');
    assert.equal(await page.$('[data-testid=log-row]'), null);
    await page.close();
  } finally {
    await loki.stop();
  }
});

test('a malformed tail message is named beside the status, and the tail goes on', async () => {
  const page = await env.browser.newPage();
  const logs = await new LogsPage(page).open(env.collector.ui, `${GATEWAY_LOKI}&live=1`);
  await page.waitForFunction(() => document.querySelector('[data-testid=live-status]')?.textContent === 'live (WebSocket)');
  assert.deepEqual(await logs.counts(), [0, 0]);
  // A number where Loki writes a string of nanoseconds.
  env.loki.tail([{ stream: { service_name: 'web' }, values: [[5, 'at 1970']] }]);
  await page.waitForSelector('[data-testid=tail-skipped]');
  assert.equal(
    await page.textContent('[data-testid=tail-skipped]'),
    '1 live tail message not shown: stream 1 {service_name="web"}, entry 1: the time is 5, not a string of Unix nanoseconds',
  );
  // Not a list of streams at all.
  env.loki.tail('nope');
  await page.waitForFunction(() => document.querySelector('[data-testid=tail-skipped]')?.textContent.startsWith('2 live tail messages'));
  assert.match(await page.textContent('[data-testid=tail-skipped]'), /: streams is "nope", not a list$/);
  assert.equal(await logs.status(), 'live (WebSocket)');
  // The next good message is shown.
  env.loki.tail(toStreams([{ service: 'web', level: 'info', ts: String(BigInt(Date.now()) * 1000000n), line: 'after the bad ones' }]));
  await logs.waitForCount(1);
  assert.equal((await logs.rows())[0].message, 'after the bad ones');
  assert.equal(await page.$('[data-testid=error]'), null, 'no error panel: the tail did not fail');
  await page.click('[data-testid=live-toggle]');
  await page.close();
});

test('malformed poll answers are named beside the status and polling goes on from where it was, up to five in a row', async () => {
  await withRecordedLoki({ streams: recordedStreams(), websocket: false }, async (direct) => {
    const page = await env.browser.newPage();
    const logs = await new LogsPage(page).open(env.collector.ui, directLoki(direct));
    assert.deepEqual(await logs.counts(), [40, 40]);
    await logs.goLive('live (polling every second)');
    // Two answers in a row with an entry of another shape, and a record stored meanwhile.
    direct.malformNext(2);
    direct.append(toStreams([{ service: 'cart', level: 'warn', ts: String(BigInt(Date.now() - 1000) * 1000000n), line: 'stored during the bad answers' }]));
    await page.waitForFunction(() => document.querySelector('[data-testid=tail-skipped]')?.textContent.startsWith('2 poll answers'));
    assert.match(
      await page.textContent('[data-testid=tail-skipped]'),
      /^2 poll answers in a row were not read, asking again: Loki's answer is malformed: stream \d+ \{service_name="web"\}, entry 1: the time is 5, not a string of Unix nanoseconds$/,
    );
    // The next good answer brings the record the bad ones held, and the notice goes.
    await logs.waitForCount(41);
    assert.equal((await logs.rows())[0].message, 'stored during the bad answers');
    await page.waitForSelector('[data-testid=tail-skipped]', { state: 'detached' });
    assert.equal(await logs.status(), 'live (polling every second)');
    assert.equal(await page.$('[data-testid=error]'), null, 'no error panel: the tail did not fail');
    // A source whose every answer is malformed stops the tail, saying why, after five.
    direct.malformNext(1000);
    await page.waitForFunction(() => document.querySelector('[data-testid=live-status]')?.textContent.startsWith('live tail stopped'), null, { timeout: 20000 });
    assert.match(await logs.status(), /^live tail stopped: 5 poll answers in a row were not read: Loki's answer is malformed: /);
    const polls = direct.requests.filter((r) => r.path === '/loki/api/v1/query_range').length;
    await page.waitForTimeout(1500);
    assert.equal(direct.requests.filter((r) => r.path === '/loki/api/v1/query_range').length, polls, 'no more polls');
    await page.close();
  });
});

test('a source back after an outage whose first poll answers are malformed reads as answering again', async () => {
  await withRecordedLoki({ streams: recordedStreams(), websocket: false }, async (direct) => {
    const page = await env.browser.newPage();
    const logs = await new LogsPage(page).open(env.collector.ui, directLoki(direct));
    await logs.goLive('live (polling every second)');
    direct.down(true);
    await page.waitForFunction(() => document.querySelector('[data-testid=live-status]')?.textContent.startsWith('reconnecting'), null, { timeout: 15000 });
    direct.malformNext(2);
    direct.down(false);
    await page.waitForSelector('[data-testid=tail-skipped]', { timeout: 30000 });
    assert.equal(await logs.status(), 'live (polling every second)', 'it answers, though not yet readably');
    await page.click('[data-testid=live-toggle]');
    await page.close();
  });
});
