// The Node entry's plain `init` (no `instrument`ed request): the active span follows `await`
// (AsyncLocalStorage), so spans and log records made after it are the active span's; global
// `fetch` gets a CLIENT span and the trace headers unless `instrumentFetch` is false; and a
// handler `instrument`ed afterwards without a config keeps the set-up `init` made.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { activeSpan, flush, init, inject, instrument, logger, startActiveSpan, startSpan } from '../../sdk/dist/node.js';

let spans = [];
let records = [];
let resources = [];
const capture = async (url, request) => {
  const body = JSON.parse(Buffer.from(request.body).toString());
  for (const rs of body.resourceSpans ?? []) {
    resources.push(rs.resource);
    for (const ss of rs.scopeSpans) spans.push(...ss.spans);
  }
  for (const rl of body.resourceLogs ?? []) for (const sl of rl.scopeLogs) records.push(...sl.logRecords);
  return new Response(null, { status: 200 });
};
const config = { serviceName: 'plain-init', fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 0 };
const byName = (name) => spans.find((s) => s.name === name);

// An upstream that answers with the trace headers it was sent.
const seen = [];
const upstream = http.createServer((req, res) => {
  seen.push(req.headers.traceparent ?? null);
  res.end('ok');
});
await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const upstreamUrl = `http://127.0.0.1:${upstream.address().port}/items`;
after(() => upstream.close());

test('after a plain init, the active span follows await: child spans and log records are its own', async () => {
  spans = [];
  records = [];
  init(config);
  let ids;
  await startActiveSpan('outer', async (span) => {
    ids = span.spanContext();
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(activeSpan()?.spanContext().spanId, ids.spanId, 'still active after a timer');
    startSpan('child after await').end();
    logger.info('logged after await');
  });
  await flush();
  const child = byName('child after await');
  assert.equal(child.traceId, ids.traceId);
  assert.equal(child.parentSpanId, ids.spanId);
  const record = records.find((r) => r.body?.stringValue === 'logged after await');
  assert.equal(record.traceId, ids.traceId);
  assert.equal(record.spanId, ids.spanId);
});

test('after a plain init, global fetch is traced: a CLIENT span, child of the active span, whose traceparent the server gets', async () => {
  spans = [];
  seen.length = 0;
  init(config);
  let ids;
  await startActiveSpan('checkout', async (span) => {
    ids = span.spanContext();
    await null;
    assert.equal(await (await fetch(upstreamUrl)).text(), 'ok');
  });
  await flush();
  const client = spans.find((s) => s.kind === 3);
  assert.ok(client, `a CLIENT span among ${spans.map((s) => s.name)}`);
  assert.equal(client.traceId, ids.traceId);
  assert.equal(client.parentSpanId, ids.spanId);
  assert.match(seen[0], new RegExp(`^00-${ids.traceId}-${client.spanId}-0[13]$`));
  assert.equal(client.attributes.find((a) => a.key === 'http.response.status_code').value.intValue, '200');
});

test('instrumentFetch: false in a later init leaves fetch untraced and its headers alone', async () => {
  spans = [];
  seen.length = 0;
  init({ ...config, instrumentFetch: false });
  await startActiveSpan('quiet', async () => {
    await (await fetch(upstreamUrl)).text();
  });
  await flush();
  assert.deepEqual(seen, [null]);
  assert.deepEqual(spans.map((s) => s.name), ['quiet']);
});

test('a handler instrumented without a config after init keeps what init set up', async () => {
  spans = [];
  resources = [];
  init({ ...config, resourceAttributes: { 'deployment.environment.name': 'staging' } });
  const handler = instrument(async () => new Response('handled'));
  assert.equal(await (await handler(new Request('http://localhost/orders'))).text(), 'handled');
  for (let i = 0; i < 200 && !byName('GET'); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(byName('GET'), `the SERVER span is exported with init's exporter (${spans.map((s) => s.name)})`);
  const attrs = Object.fromEntries(resources.at(-1).attributes.map((a) => [a.key, a.value.stringValue]));
  assert.equal(attrs['service.name'], 'plain-init');
  assert.equal(attrs['deployment.environment.name'], 'staging');
});

test('captureConsole in a plain init records console calls as the active span\'s log records, and a later init without it stops', async () => {
  records = [];
  init({ ...config, captureConsole: ['warn'] });
  let ids;
  await startActiveSpan('job', async (span) => {
    ids = span.spanContext();
    await null;
    console.warn('disk at %d%%', 91);
  });
  init(config);
  console.warn('after the capture is off');
  await flush();
  const record = records.find((r) => r.body?.stringValue === 'disk at 91%');
  assert.ok(record, `recorded: ${records.map((r) => r.body?.stringValue)}`);
  assert.equal(record.severityText, 'WARN');
  assert.equal(record.spanId, ids.spanId);
  assert.ok(!records.some((r) => r.body?.stringValue === 'after the capture is off'));
});

test('an init while work is under way keeps that work\'s active span', async () => {
  init(config);
  let ids;
  await startActiveSpan('long job', async (span) => {
    ids = span.spanContext();
    init(config);
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(activeSpan()?.spanContext().spanId, ids.spanId);
  });
});

test('a fetch of a URL without a host (blob:) has a CLIENT span with no server.address or server.port', async () => {
  spans = [];
  init(config);
  const url = URL.createObjectURL(new Blob(['local']));
  assert.equal(await (await fetch(url)).text(), 'local');
  URL.revokeObjectURL(url);
  await flush();
  const client = spans.find((s) => s.kind === 3);
  assert.ok(client, `a CLIENT span among ${spans.map((s) => s.name)}`);
  const keys = client.attributes.map((a) => a.key);
  assert.ok(keys.includes('url.full'), keys.join());
  assert.ok(!keys.includes('server.address') && !keys.includes('server.port'), keys.join());
});

test('a handler instrumented with a config after init adds that config to init\'s (a route keeps the exporter and the service)', async () => {
  // Run in a child process: the isolate's set-up happens on its first request, once.
  const { execFileSync } = await import('node:child_process');
  const script = `
    import { init, instrument, flush } from ${JSON.stringify(new URL('../../sdk/dist/node.js', import.meta.url).href)};
    const spans = [];
    const resources = [];
    init({ serviceName: 'orders', protocol: 'http/json', compression: 'none', fetch: async (url, request) => {
      const body = JSON.parse(Buffer.from(request.body).toString());
      for (const rs of body.resourceSpans ?? []) { resources.push(rs.resource); for (const ss of rs.scopeSpans) spans.push(...ss.spans); }
      return new Response(null, { status: 200 });
    } });
    const handler = instrument(async () => new Response('ok'), { route: () => '/orders/:id' });
    await (await handler(new Request('http://localhost/orders/7'))).text();
    for (let i = 0; i < 200 && !spans.length; i++) await new Promise((r) => setTimeout(r, 10));
    await flush();
    const service = resources[0]?.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
    console.log(JSON.stringify({ names: spans.map((s) => s.name), service }));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20000 });
  assert.deepEqual(JSON.parse(out.trim().split('\n').at(-1)), { names: ['GET /orders/:id'], service: 'orders' });
});

test('work that outlives its span (a timer after it ended) continues its trace: child spans, log records and injected headers', async () => {
  // One span recorded in JavaScript, one handed to the core (an event does that), each ended
  // while a timer started under it is still to run.
  for (const core of [false, true]) {
    spans = [];
    records = [];
    init(config);
    let ids;
    let later;
    await startActiveSpan(core ? 'core request' : 'request', async (span) => {
      ids = span.spanContext();
      if (core) span.addEvent('handed to the core');
      later = new Promise((resolve) => setTimeout(() => {
        startSpan('after the end').end();
        logger.warn('logged after the end');
        const headers = {};
        inject(headers);
        resolve(headers);
      }, 10));
      span.end();
    });
    const headers = await later;
    await flush();
    const after = byName('after the end');
    assert.ok(after, `exported: ${spans.map((s) => s.name)}`);
    assert.equal(after.traceId, ids.traceId, `core ${core}`);
    assert.equal(after.parentSpanId, ids.spanId, `core ${core}`);
    assert.equal(headers.traceparent, `00-${ids.traceId}-${ids.spanId}-0${ids.traceFlags}`, `core ${core}`);
    // Its parent is a span of this process, not a remote one (OTLP's SPAN_FLAGS_CONTEXT_IS_REMOTE,
    // 0x200, unset; 0x100 says the flag is known).
    assert.equal(after.flags & 0x300, 0x100, `core ${core}: flags ${after.flags}`);
    const record = records.find((r) => r.body?.stringValue === 'logged after the end');
    assert.ok(record, `recorded: ${records.map((r) => r.body?.stringValue)}`);
    assert.equal(record.traceId, ids.traceId, `core ${core}`);
    assert.equal(record.spanId, ids.spanId, `core ${core}`);
    assert.equal(record.flags, ids.traceFlags, `core ${core}`);
  }
});

test('keepErrors: a failed span started after its request span ended still gets its trace exported', async () => {
  // Nothing sampled: only a trace with an error leaves. Its request span ended before the
  // failed work began, so that work decides on the trace when it ends, as a root does.
  spans = [];
  init({ ...config, sampler: 'always_off', keepErrors: true });
  let later;
  let ids;
  await startActiveSpan('request', async (span) => {
    ids = span.spanContext();
    later = new Promise((resolve) => setTimeout(() => {
      const failed = startSpan('after the response');
      failed.setStatus({ code: 'error', message: 'cache refresh failed' });
      failed.end();
      resolve();
    }, 10));
    span.end();
  });
  await later;
  await flush();
  const failed = byName('after the response');
  assert.ok(failed, `exported: ${spans.map((s) => s.name)}`);
  assert.equal(failed.traceId, ids.traceId);
  assert.equal(failed.parentSpanId, ids.spanId);
  init(config);
});
