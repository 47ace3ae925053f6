// The Node entry's own exports make no telemetry: a `config.fetch` that awaits a token before it
// calls the global (traced) fetch, or that logs under `captureConsole`, would otherwise make a
// CLIENT span or a log record per export, each exported in turn, without end (flush never
// resolved). Requests the app sends to the exporter's URLs are not traced either; its other
// requests to the same host are.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { flush, init, logger, startSpan } from '../../sdk/dist/node.js';

// A collector that keeps what it is sent (OTLP/JSON), and answers the app's own `/v1/users`.
const received = [];
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const text = Buffer.concat(chunks).toString();
    received.push({ path: req.url, body: text && req.headers['content-type'] === 'application/json' ? JSON.parse(text) : undefined });
    res.end(req.url === '/v1/users' ? '[]' : '{}');
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${server.address().port}`;
after(() => server.close());

const spanNames = () => received.flatMap((r) => r.body?.resourceSpans ?? []).flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.name)));
const bodies = () => received.flatMap((r) => r.body?.resourceLogs ?? []).flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((l) => l.body?.stringValue)));
/** `flush()`, failing the test if it has not resolved in 5 s (it never did while exports were traced). */
const settled = () => Promise.race([flush().then(() => true), new Promise((resolve) => setTimeout(resolve, 5000, false)).then((ok) => ok)]);
const base = { endpoint, serviceName: 'own-exports', protocol: 'http/json', compression: 'none', scheduleDelayMillis: 0 };

test('a config.fetch that awaits before calling the traced global fetch sends each export once, and makes no span', async () => {
  received.length = 0;
  let calls = 0;
  init({ ...base, fetch: async (url, options) => {
    calls++;
    const token = await Promise.resolve('Bearer t');
    await new Promise((resolve) => setTimeout(resolve, 1));
    return fetch(url, { ...options, headers: { ...options.headers, authorization: token } });
  } });
  startSpan('one').end();
  assert.ok(await settled(), 'flush resolves');
  assert.ok(await settled(), 'a second flush resolves');
  assert.deepEqual(spanNames(), ['one'], 'no CLIENT span of the export itself');
  assert.equal(calls, 1, 'one export');
  assert.deepEqual(received.map((r) => r.path), ['/v1/traces']);
});

test('under captureConsole, what an export\'s config.fetch logs (before and after an await) is not recorded', async () => {
  received.length = 0;
  const printed = [];
  const log = console.log;
  // What the console shows is unchanged: the lines still reach the original method.
  console.log = (...args) => printed.push(args.join(' '));
  try {
    init({ ...base, captureConsole: true, fetch: async (url, options) => {
      console.log('exporting to', url);
      await new Promise((resolve) => setTimeout(resolve, 1));
      console.log('still exporting');
      return fetch(url, options);
    } });
    logger.info('from the app');
    console.log('the app printed this');
    assert.ok(await settled(), 'flush resolves');
    assert.ok(await settled(), 'a second flush resolves');
  } finally {
    console.log = log;
    init({ ...base });
  }
  assert.deepEqual(bodies().sort(), ['from the app', 'the app printed this']);
  assert.ok(printed.includes(`exporting to ${endpoint}/v1/logs`), printed.join('\n'));
  assert.equal(received.filter((r) => r.path === '/v1/logs').length, 1, 'one log export');
});

test('the app\'s own requests to the exporter\'s URLs are not traced; its other requests to that host are', async () => {
  received.length = 0;
  init({ ...base, fetch: (url, options) => fetch(url, options) });
  await fetch(`${endpoint}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  await fetch(`${endpoint}/v1/users`);
  assert.ok(await settled());
  assert.deepEqual(spanNames(), ['GET'], 'only the request to /v1/users has a CLIENT span');
});
