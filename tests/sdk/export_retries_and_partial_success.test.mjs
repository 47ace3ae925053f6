// The SDK's exporter in Node against a scripted OTLP endpoint: which failures are retried,
// how Retry-After is honoured, what a partial success counts, and that bodies are gzipped
// OTLP protobuf (or JSON on request).
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { diagnostics, flush, init, logger, startSpan } from '../../sdk/dist/node.js';

let server;
let url;
/** What the endpoint answers next: a list of [status, headers, body]; then 200. */
let script = [];
let received = [];

before(async () => {
  server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ at: Date.now(), method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      const [status, headers, body] = script.shift() ?? [200, {}, Buffer.alloc(0)];
      res.writeHead(status, headers);
      res.end(body);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${server.address().port}`;
});

after(() => server.close());

beforeEach(() => {
  script = [];
  received = [];
});

function configure(extra) {
  init({ serviceName: 'retry-test', endpoint: url, scheduleDelayMillis: 0, ...extra });
}

function oneSpan(name = 'work') {
  startSpan(name).end();
}

test('503 with Retry-After in seconds is retried after that delay, then succeeds', async () => {
  configure();
  script = [[503, { 'retry-after': '1' }, '']];
  oneSpan();
  await flush();
  assert.equal(received.length, 2);
  const waited = received[1].at - received[0].at;
  assert.ok(waited >= 950 && waited < 3000, `waited ${waited} ms`);
  assert.equal(diagnostics().exportsRetried, 1);
  assert.equal(diagnostics().exportsFailed, 0);
});

test('429 with an HTTP-date Retry-After is honoured', async () => {
  configure();
  // 4.5–5.5 s ahead once cut to the second: far longer than the usual backoff's 1.2 s at most,
  // even after a slow first request on a loaded machine.
  const soon = new Date(Date.now() + 5500).toUTCString();
  script = [[429, { 'retry-after': soon }, '']];
  oneSpan();
  await flush();
  assert.equal(received.length, 2);
  const waited = received[1].at - received[0].at;
  assert.ok(waited >= 2500, `waited for the date, not the backoff: ${waited} ms`);
});

test('a Retry-After that is neither seconds nor an HTTP date gets the usual backoff, not an instant retry', async () => {
  configure();
  // `Date.parse` reads each as a date long past, which would have meant no wait at all.
  script = [[429, { 'retry-after': '1.5' }, ''], [503, { 'retry-after': '-5' }, '']];
  oneSpan();
  await flush();
  assert.equal(received.length, 3);
  // Backoff: 1 s then 1.5 s, each ±20 %.
  assert.ok(received[1].at - received[0].at >= 750, `waited ${received[1].at - received[0].at} ms`);
  assert.ok(received[2].at - received[1].at >= 1150, `waited ${received[2].at - received[1].at} ms`);
  assert.equal(diagnostics().exportsFailed, 0);
});

test('a success whose body never ends, from a fetch that ignores its signal, frees its export slot at the timeout', async () => {
  // The answer's body stalls after its first byte; the app's fetch passes no signal on.
  const stalled = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '100' });
      res.write(Buffer.from([0x0a]));
    });
  });
  await new Promise((resolve) => stalled.listen(0, '127.0.0.1', resolve));
  const stalledUrl = `http://127.0.0.1:${stalled.address().port}`;
  let calls = 0;
  const fetchWithoutSignal = (u, { signal, ...rest }) => (calls++, fetch(u, rest));
  try {
    init({ serviceName: 'retry-test', endpoint: stalledUrl, scheduleDelayMillis: 0, timeoutMillis: 500, fetch: fetchWithoutSignal });
    const settled = async () => {
      const start = Date.now();
      await Promise.race([flush(), new Promise((resolve) => setTimeout(resolve, 5000))]);
      return Date.now() - start;
    };
    // More than the two export slots: each export must give its slot back.
    for (let round = 1; round <= 3; round++) {
      oneSpan(`round ${round}`);
      const took = await settled();
      assert.ok(took < 2000, `round ${round}: flush took ${took} ms`);
    }
    assert.equal(calls, 3, 'one request per flush: a delivered batch is not sent again');
    assert.equal(diagnostics().exportsFailed, 0);
  } finally {
    stalled.closeAllConnections();
    stalled.close();
  }
});

test('a redirect on the same host gets the batch posted again (fetch would send 301, 302 and 303 on as a GET without it)', async () => {
  for (const status of [301, 302, 303, 307, 308]) {
    configure({ headers: { authorization: 'Bearer t' } });
    received = [];
    script = [[status, { location: '/moved/v1/traces' }, '']];
    oneSpan(`moved ${status}`);
    await flush();
    assert.deepEqual(received.map((r) => `${r.method} ${r.url}`), ['POST /v1/traces', 'POST /moved/v1/traces'], `${status}`);
    assert.deepEqual(received[1].body, received[0].body, `${status}: the same batch`);
    assert.equal(received[1].headers.authorization, 'Bearer t');
    assert.equal(diagnostics().exportsFailed, 0, `${status}`);
  }
});

test('a redirect to another origin (host or port) is not followed, and counts as a failed export', async () => {
  // localhost is another host name than 127.0.0.1, and another port another service: the
  // authorization header would go there.
  const port = Number(new URL(url).port);
  for (const elsewhere of [url.replace('127.0.0.1', 'localhost'), `http://127.0.0.1:${port === 65535 ? port - 1 : port + 1}`]) {
    configure({ headers: { authorization: 'Bearer t' } });
    received = [];
    script = [[307, { location: `${elsewhere}/v1/traces` }, '']];
    oneSpan();
    await flush();
    assert.equal(received.length, 1, elsewhere);
    assert.equal(diagnostics().exportsFailed, 1, elsewhere);
  }
});

/** A collector on a port of its own answering each export with the status `status(req)` gives, and `Retry-After: 2`. */
async function collectorAnswering(status) {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(status(req), { 'retry-after': '2' });
      res.end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Sends a span to `server` and calls `call` (`flush` or `shutdown`) with a 600 ms limit, which it keeps. */
async function resolvesBy600(server, call) {
  configure({ endpoint: `http://127.0.0.1:${server.address().port}` });
  oneSpan(call.name);
  const start = Date.now();
  await call({ timeoutMillis: 600 });
  const took = Date.now() - start;
  // Under the 2 s the collector asks to wait, which it must not wait out.
  assert.ok(took >= 550 && took < 1900, `${call.name} took ${took} ms`);
}

test('flush() resolves by its timeoutMillis while the collector asks to retry later, and the export goes on', async () => {
  // Each export is first told to come back in 2 s, then taken.
  const seen = [];
  const slow = await collectorAnswering((req) => (seen.push(req.url), seen.length % 2 ? 429 : 200));
  try {
    await resolvesBy600(slow, flush);
    // The export was not dropped: its retry is taken after the flush has resolved.
    const { waitFor } = await import('../support.mjs');
    await waitFor('the retry', () => seen.length === 2, 5000);
    assert.equal(diagnostics().exportsFailed, 0);
  } finally {
    slow.close();
  }
});

test('shutdown() resolves by its timeoutMillis and gives up, counted, what waits to retry, so the process can exit', async () => {
  const { shutdown } = await import('../../sdk/dist/node.js');
  const seen = [];
  const busy = await collectorAnswering((req) => (seen.push(req.url), 429));
  try {
    await resolvesBy600(busy, shutdown);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(diagnostics().exportsFailed, 1, JSON.stringify(diagnostics()));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.deepEqual(seen, ['/v1/traces'], 'no retry after the shutdown gave up');
  } finally {
    busy.close();
    configure(); // on again, for the tests after this one
  }
});

test('400 and other client errors are not retried and count as failed exports', async () => {
  configure();
  script = [[400, { 'content-type': 'application/json' }, '{"code":3,"message":"bad"}']];
  oneSpan();
  await flush();
  assert.equal(received.length, 1);
  assert.equal(diagnostics().exportsFailed, 1);
  assert.equal(diagnostics().exportsRetried, 0);
});

test('a network error is retried with backoff', async () => {
  configure({ endpoint: 'http://127.0.0.1:9' }); // nothing listens on the discard port
  oneSpan();
  const started = Date.now();
  // Five attempts with 1 s, 1.5 s, 2.25 s and 3.4 s (±20 %) between them: wait for the second.
  const pending = flush();
  await new Promise((r) => setTimeout(r, 1300));
  assert.ok(diagnostics().exportsRetried >= 1, 'retried at least once within 1.3 s');
  configure(); // a fresh SDK; the pending export keeps running in the background
  void pending;
  assert.ok(Date.now() - started < 5000);
});

test('a protobuf partial success is counted as rejected records', async () => {
  configure();
  // ExportTraceServiceResponse { partial_success (1) { rejected_spans (1) = 2, error_message (2) = "x" } }
  const answer = Buffer.from([0x0a, 0x05, 0x08, 0x02, 0x12, 0x01, 0x78]);
  script = [[200, { 'content-type': 'application/x-protobuf' }, answer]];
  oneSpan();
  await flush();
  assert.equal(diagnostics().recordsRejected, 2);
  assert.equal(received.length, 1, 'a partial success is not retried');
});

test('a JSON partial success is counted as rejected records', async () => {
  configure({ protocol: 'http/json' });
  script = [[200, { 'content-type': 'application/json' }, '{"partialSuccess":{"rejectedLogRecords":"3","errorMessage":"old"}}']];
  logger.info('one');
  await flush();
  assert.equal(diagnostics().recordsRejected, 3);
});

/** What the SDK wrote to stderr (its `debug` output) while `fn` ran. */
async function stderrOf(fn) {
  const write = process.stderr.write;
  let text = '';
  process.stderr.write = (chunk, ...rest) => {
    text += chunk;
    return typeof rest.at(-1) === 'function' ? (rest.at(-1)(), true) : true;
  };
  try {
    await fn();
  } finally {
    process.stderr.write = write;
  }
  return text;
}

test("with debug, a partial success shows the receiver's message, also a warning that rejected nothing", async () => {
  for (const [protocol, answers] of [
    [
      'http/protobuf',
      [
        // partial_success { rejected_spans = 2, error_message = "bad ids" }
        [Buffer.from([0x0a, 0x0b, 0x08, 0x02, 0x12, 0x07, ...Buffer.from('bad ids')]), 2],
        // partial_success { error_message = "ünits deprecated" }: a warning (UTF-8)
        [Buffer.concat([Buffer.from([0x0a, 0x13, 0x12, 0x11]), Buffer.from('ünits deprecated')]), 0],
      ],
    ],
    [
      'http/json',
      [
        ['{"partialSuccess":{"rejectedSpans":"2","errorMessage":"bad ids"}}', 2],
        ['{"partialSuccess":{"errorMessage":"ünits deprecated"}}', 0],
      ],
    ],
  ]) {
    configure({ protocol, debug: true });
    const before = diagnostics().recordsRejected;
    for (const [answer] of answers) script.push([200, { 'content-type': protocol === 'http/json' ? 'application/json' : 'application/x-protobuf' }, answer]);
    const said = await stderrOf(async () => {
      oneSpan('rejected in part');
      await flush();
      oneSpan('warned about');
      await flush();
    });
    assert.match(said, /rejected 2 records:? bad ids/, `${protocol}: ${said}`);
    assert.match(said, /warned:? ünits deprecated/, `${protocol}: ${said}`);
    assert.equal(diagnostics().recordsRejected - before, 2, `${protocol}: a warning rejects nothing`);
  }
  assert.equal(received.length, 4, 'nothing retried');
});

test('bodies are gzipped protobuf by default and gzipped JSON on request', async () => {
  configure();
  oneSpan('proto');
  await flush();
  configure({ protocol: 'http/json' });
  oneSpan('json');
  await flush();
  configure({ protocol: 'http/json', compression: 'none' });
  oneSpan('plain');
  await flush();
  const [proto, json, plain] = received;
  assert.equal(proto.headers['content-type'], 'application/x-protobuf');
  assert.equal(proto.headers['content-encoding'], 'gzip');
  assert.ok(gunzipSync(proto.body).includes(Buffer.from('proto')), 'the span name is in the protobuf');
  assert.equal(json.headers['content-type'], 'application/json');
  assert.equal(JSON.parse(gunzipSync(json.body)).resourceSpans[0].scopeSpans[0].spans[0].name, 'json');
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.equal(JSON.parse(plain.body).resourceSpans[0].scopeSpans[0].spans[0].name, 'plain');
});

test('calling init again sends what was queued under the old settings first', async () => {
  configure({ scheduleDelayMillis: 60000 });
  oneSpan('before re-init');
  init({ serviceName: 'second', endpoint: 'http://127.0.0.1:9', scheduleDelayMillis: 0 });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(received.length, 1, 'the queued span went to the first endpoint');
  assert.ok(gunzipSync(received[0].body).includes(Buffer.from('before re-init')));
});

test('a steady stream of spans leaves in full batches; the rest waits for the timer or flush()', async () => {
  const batches = [];
  const count = async (url, init) => {
    // Spans in the batch: each carries its name once.
    batches.push(Buffer.from(init.body).toString('latin1').split('steady').length - 1);
    // Answered while more spans arrive: these must wait for a full batch.
    await new Promise((r) => setTimeout(r, 5));
    return new Response(null, { status: 200 });
  };
  init({ serviceName: 'stream', fetch: count, scheduleDelayMillis: 60000, maxExportBatchSize: 10, compression: 'none' });
  for (let i = 0; i < 35; i++) {
    oneSpan('steady');
    await new Promise((r) => setTimeout(r, 1));
  }
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(batches, [10, 10, 10], 'full batches only, however the exports and the spans interleave');
  await flush();
  assert.deepEqual(batches, [10, 10, 10, 5]);
});

test('a collector that never answers keeps memory bounded: two exports wait, the queue holds, the rest is dropped and counted', async () => {
  const calls = [];
  const hang = (url, init) => {
    calls.push(init.body.length);
    return new Promise(() => {});
  };
  init({ serviceName: 'blocked', fetch: hang, scheduleDelayMillis: 0, maxQueueSize: 2048, maxExportBatchSize: 512, compression: 'none', timeoutMillis: 60000 });
  for (let i = 0; i < 10_000; i++) oneSpan(`s${i}`);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(calls.length, 2, 'at most two exports under way');
  assert.equal(diagnostics().spansDropped, 10_000 - 2 * 512 - 2048, 'everything else beyond the queue is dropped and counted');
});

test('a page-hide flush cuts batches to the keepalive budget, 64 KiB and 9 requests at once, and sends the rest as those settle', async () => {
  const sent = [];
  let inFlight = { bytes: 0, requests: 0 };
  let most = { bytes: 0, requests: 0 };
  const capture = async (url, init) => {
    sent.push({ keepalive: init.keepalive, bytes: init.body.length, encoding: init.headers['content-encoding'] });
    inFlight = { bytes: inFlight.bytes + init.body.length, requests: inFlight.requests + 1 };
    most = { bytes: Math.max(most.bytes, inFlight.bytes), requests: Math.max(most.requests, inFlight.requests) };
    await new Promise((r) => setTimeout(r, 5));
    inFlight = { bytes: inFlight.bytes - init.body.length, requests: inFlight.requests - 1 };
    return new Response(null, { status: 200 });
  };
  init({ serviceName: 'hide', fetch: capture, scheduleDelayMillis: 0, maxQueueSize: 4096, maxExportBatchSize: 512 });
  for (let i = 0; i < 3000; i++) {
    const span = startSpan('page work');
    span.setAttribute('payload', 'x'.repeat(200));
    span.end();
  }
  await flush({ keepalive: true });
  assert.ok(sent.every((r) => r.keepalive && r.encoding === undefined));
  assert.ok(most.requests > 1 && most.requests <= 9, `${most.requests} requests at once`);
  assert.ok(most.bytes <= 60000 && most.bytes > 50000, `${most.bytes} bytes in flight at once: the budget is used`);
  const total = sent.reduce((n, r) => n + r.bytes, 0);
  assert.ok(total > 3000 * 200, `everything queued went, in rounds: ${total} bytes in ${sent.length} requests`);
  assert.equal(diagnostics().spansDropped, 0);
});
