// `instrument` around a generic `(request) => Response` handler, run in Node: a streamed body
// ends the SERVER span once it has been read to its end (log records written meanwhile belong to
// the request and leave with it), a result that is not a Response is returned untouched with an
// ERROR span, a response that declares its length goes out untouched, and empty OTEL_* values
// count as unset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { flush, instrument, logger, startSpan } from '../../sdk/dist/node.js';
import { configFromEnv } from '../../sdk/dist/edge.js';

const spans = [];
const logs = [];
const capture = async (url, request) => {
  const doc = JSON.parse(Buffer.from(request.body).toString());
  if (url.endsWith('/v1/traces')) for (const rs of doc.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
  if (url.endsWith('/v1/logs')) for (const rl of doc.resourceLogs) for (const sl of rl.scopeLogs) logs.push(...sl.logRecords);
  return new Response(null, { status: 200 });
};

let failBody;
const TICKS = 200;
let ticked = 0;

// A response that declares its length (a download, a proxied answer): handed over as it is.
const sized = new Response('0123456789', { headers: { 'content-length': '10' } });

const handler = instrument(
  async (request) => {
    const { pathname } = new URL(request.url);
    if (pathname === '/undefined') return undefined;
    if (pathname === '/string') return 'not a response';
    if (pathname === '/sized') return sized;
    // A flush in the handler, as an app may call it, while another request's body is unread.
    if (pathname === '/flushes') {
      await flush();
      return new Response('flushed');
    }
    // A feed whose events come one timer turn apart (a ticker that lets the event loop
    // breathe): each is quick, the whole is not, so it must be streamed, never read ahead whole.
    if (pathname === '/ticker') {
      ticked = 0;
      return new Response(
        new ReadableStream({
          async pull(controller) {
            await new Promise((r) => setTimeout(r, 0));
            controller.enqueue(new TextEncoder().encode(`data: ${++ticked}\n\n`));
            if (ticked === TICKS) controller.close();
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      );
    }
    // Bodies with chunks that are not bytes, which the runtime fails: a string there at once
    // (read ahead), an object after a byte chunk and a timer turn (met while streaming).
    if (pathname === '/strings') return new Response(new ReadableStream({ start: (c) => c.enqueue('text, not bytes') }));
    // Views other than a Uint8Array and ArrayBuffers, which Node refuses (workerd takes them).
    if (pathname === '/uint16') return new Response(new ReadableStream({ start: (c) => c.enqueue(new Uint16Array([1, 2])) }));
    if (pathname === '/arraybuffer') return new Response(new ReadableStream({ start: (c) => c.enqueue(new ArrayBuffer(4)) }));
    if (pathname === '/objects') {
      let n = 0;
      return new Response(
        new ReadableStream({
          async pull(controller) {
            await new Promise((r) => setTimeout(r, 20));
            controller.enqueue(n++ ? { not: 'bytes' } : new TextEncoder().encode('bytes first\n'));
          },
        }),
      );
    }
    // A body that fails once `failBody` is called.
    if (pathname === '/fails') return new Response(new ReadableStream({ start: (c) => (failBody = () => c.error(new Error('the upstream went away'))) }));
    let n = 0;
    const body = new ReadableStream({
      async pull(controller) {
        await new Promise((r) => setTimeout(r, 20));
        n++;
        if (n === 3) logger.info('the last chunk');
        controller.enqueue(new TextEncoder().encode(`chunk ${n}\n`));
        if (n === 3) controller.close();
      },
    });
    return new Response(body, { headers: { 'x-kind': 'stream' } });
  },
  { serviceName: 'node-stream', fetch: capture, protocol: 'http/json', compression: 'none' },
);

async function until(what, fn) {
  for (let i = 0; i < 300; i++) {
    const v = fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const attr = (span, key) => {
  const a = span.attributes.find((x) => x.key === key);
  return a && Object.values(a.value)[0];
};

test('a streamed body ends the SERVER span once read to its end, and the log written meanwhile belongs to the request', async () => {
  const trace = '5a'.repeat(16);
  const response = await handler(new Request('http://app.test/stream', { headers: { traceparent: `00-${trace}-${'5b'.repeat(8)}-01` } }));
  assert.equal(response.headers.get('x-kind'), 'stream');
  assert.equal(await response.text(), 'chunk 1\nchunk 2\nchunk 3\n');
  const server = await until('the server span', () => spans.find((s) => s.traceId === trace));
  const log = await until('the log record', () => logs.find((l) => l.traceId === trace));
  assert.equal(log.body.stringValue, 'the last chunk');
  assert.equal(log.spanId, server.spanId);
  assert.ok(BigInt(server.endTimeUnixNano) >= BigInt(log.timeUnixNano), 'the span ends after the last chunk');
});

test('a stream of quick events is handed over after one turn, not read ahead to its end', async () => {
  const trace = 'e1'.repeat(16);
  const response = await handler(new Request('http://app.test/ticker', { headers: { traceparent: `00-${trace}-${'e2'.repeat(8)}-01` } }));
  assert.ok(ticked < TICKS / 2, `the response came after ${ticked} of ${TICKS} events`);
  assert.equal(response.headers.get('content-length'), null);
  const text = await response.text();
  assert.equal(text.split('\n\n').filter(Boolean).length, TICKS);
  const server = await until('the ticker span', () => spans.find((s) => s.traceId === trace));
  assert.equal(attr(server, 'http.response.status_code'), '200');
});

test("an app's flush() outside any request (a server's timer) exports what has ended and leaves unread bodies open", async () => {
  const unread = '7a'.repeat(16);
  const reading = '7b'.repeat(16);
  await handler(new Request('http://app.test/stream', { headers: { traceparent: `00-${unread}-${'7c'.repeat(8)}-01` } }));
  const response = await handler(new Request('http://app.test/stream', { headers: { traceparent: `00-${reading}-${'7c'.repeat(8)}-01` } }));
  const reader = response.body.getReader();
  assert.equal(new TextDecoder().decode((await reader.read()).value), 'chunk 1\n');
  // A span that has ended, outside any request: the flush exports it.
  const done = startSpan('timer work');
  done.end();
  const doneId = done.spanContext().spanId;
  await new Promise((resolve) => setTimeout(() => flush().then(resolve), 0));
  await until('the ended span', () => spans.find((s) => s.spanId === doneId));
  assert.equal(spans.find((s) => s.traceId === unread), undefined, 'the unread body keeps its span open');
  assert.equal(spans.find((s) => s.traceId === reading), undefined, 'the body being read keeps its span open');
  while (!(await reader.read()).done);
  const server = await until('the read span', () => spans.find((s) => s.traceId === reading));
  const log = await until('its log record', () => logs.find((l) => l.traceId === reading));
  assert.ok(BigInt(server.endTimeUnixNano) >= BigInt(log.timeUnixNano));
});

test("a flush() inside another request's handler leaves this request's unread body and its span alone", async () => {
  const streaming = '9a'.repeat(16);
  const flushing = '9b'.repeat(16);
  const response = await handler(new Request('http://app.test/fails', { headers: { traceparent: `00-${streaming}-${'9c'.repeat(8)}-01` } }));
  assert.equal(await (await handler(new Request('http://app.test/flushes', { headers: { traceparent: `00-${flushing}-${'9c'.repeat(8)}-01` } }))).text(), 'flushed');
  await until('the flushing span', () => spans.find((s) => s.traceId === flushing));
  assert.equal(spans.find((s) => s.traceId === streaming), undefined, "the other request's span is still open");
  // The body is read now, and fails: the span, still open, says so.
  const read = response.text().catch((e) => e);
  failBody();
  assert.equal((await read).message, 'the upstream went away');
  const server = await until('the streaming span', () => spans.find((s) => s.traceId === streaming));
  assert.equal(server.status.code, 2, 'an error, which a span ended early would not record');
});

test('a body nobody reads or cancels ends its span once the response is garbage collected, without any flush', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc');
  const trace = 'aa'.repeat(16);
  // The response is dropped unread: only the SDK could keep it (and its span) alive.
  await handler(new Request('http://app.test/stream', { headers: { traceparent: `00-${trace}-${'ab'.repeat(8)}-01` } }));
  const server = await until('the dropped span', () => {
    gc();
    return spans.find((s) => s.traceId === trace);
  });
  assert.equal(attr(server, 'http.response.status_code'), '200');
});

test('a result that is not a Response is returned untouched, with an ERROR span', async () => {
  for (const [path, expected, trace] of [['/undefined', undefined, '6a'.repeat(16)], ['/string', 'not a response', '6b'.repeat(16)]]) {
    const result = await handler(new Request(`http://app.test${path}`, { headers: { traceparent: `00-${trace}-${'6c'.repeat(8)}-01` } }));
    assert.equal(result, expected, path);
    const server = await until(`the span of ${path}`, () => spans.find((s) => s.traceId === trace));
    assert.equal(server.status.code, 2, path);
    assert.equal(attr(server, 'error.type'), 'TypeError', path);
  }
});

test('empty OTEL_* values are unset, and OTEL_SERVICE_NAME wins over service.name', () => {
  const names = ['OTEL_SERVICE_NAME', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG', 'OTEL_RESOURCE_ATTRIBUTES'];
  const empty = Object.fromEntries(names.map((n) => [n, '']));
  // (The export timer is on in Node, whose process outlives its requests.)
  assert.deepEqual(configFromEnv(empty), { scheduleDelayMillis: 1000 });
  assert.deepEqual(configFromEnv({ ...empty, OTEL_EXPORTER_OTLP_ENDPOINT: ' ' }), { scheduleDelayMillis: 1000 });
  const c = configFromEnv({ OTEL_SERVICE_NAME: 'svc', OTEL_RESOURCE_ATTRIBUTES: 'service.name=ignored,team=edge' });
  assert.equal(c.serviceName, 'svc');
  assert.deepEqual(c.resourceAttributes, { team: 'edge' });
  assert.equal(configFromEnv({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs' }).serviceName, 'from-attrs');
});

test('a response that declares its Content-Length goes out as the handler made it, and its span ends', async () => {
  const trace = '8a'.repeat(16);
  const response = await handler(new Request('http://app.test/sized', { headers: { traceparent: `00-${trace}-${'8b'.repeat(8)}-01` } }));
  assert.equal(response, sized, 'the very Response the handler returned, body not wrapped');
  assert.equal(response.headers.get('content-length'), '10');
  assert.equal(await response.text(), '0123456789');
  const server = await until('the server span', () => spans.find((s) => s.traceId === trace));
  assert.equal(attr(server, 'http.response.status_code'), '200');
});

test('a body with a chunk that is not bytes fails as the runtime fails it, and its SERVER span ends then as an error', async () => {
  const cases = [['/strings', 'c1'.repeat(16)], ['/objects', 'c2'.repeat(16)], ['/uint16', 'c4'.repeat(16)], ['/arraybuffer', 'c5'.repeat(16)]];
  for (const [path, trace] of cases) {
    const response = await handler(new Request(`http://app.test${path}`, { headers: { traceparent: `00-${trace}-${'c3'.repeat(8)}-01` } }));
    // The runtime's own error for the chunk, as without the SDK.
    const failure = await response.text().then(() => undefined, (e) => e);
    assert.ok(failure instanceof TypeError, `${path}: ${failure}`);
    const server = await until(`the span of ${path}`, () => spans.find((s) => s.traceId === trace));
    assert.equal(server.status.code, 2, path);
    assert.equal(attr(server, 'error.type'), 'TypeError', path);
    assert.match(server.status.message, /not bytes \((string|object)\)/, path);
  }
});
