// The edge-case suite of `instrument`, run in real workerd (instrument_edge_cases_in_workerd.test.mjs)
// and in real Deno (tests/deno/instrument_edge_cases_in_deno.test.mjs) with the handler of
// edge_handler.js: console capture correlated with each request, a request's baggage on its own
// outgoing calls, invalid incoming traceparents, the HTTP conventions' attributes, and OTEL_*
// samplers and export headers read from the bindings or the environment.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { attr, getJson, startCollector, traceSpans, waitFor } from '../support.mjs';

/** What the downstream service saw: `{ path, tag, traceparent, baggage }` per call. */
const calls = [];
/** The headers of each export that reached the collector through the recording proxy. */
const exports = [];

async function logsOf(collector, traceId) {
  const doc = await getJson(`${collector.ui}/api/logs?trace_id=${traceId}`);
  return doc.result.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
}

/** The server and client spans of a trace, once `count` spans are stored. */
async function spansOf(collector, traceId, count) {
  return waitFor(`${count} spans of ${traceId}`, async () => {
    const s = await traceSpans(collector, traceId).catch(() => []);
    return s.length === count && s;
  });
}

const callsOf = (tag) => calls.filter((c) => c.tag === tag);

/** Whether `traceparent` says sampled (the flags' lowest bit; a new root also sets the random bit, 02). */
const sampledIn = (traceparent) => (parseInt(traceparent.split('-')[3], 16) & 1) === 1;

/**
 * Defines the suite. `start(env)` runs the handler in the runtime with `env` (bindings or
 * environment variables) and resolves to `{ url, output(), stop() }`.
 */
export function edgeCases(start) {
  let collector, downstream, proxy, app;

  before(async () => {
    collector = await startCollector();
    downstream = createServer((req, res) => {
      const url = new URL(req.url, 'http://x');
      calls.push({
        path: url.pathname,
        tag: url.searchParams.get('tag'),
        traceparent: req.headers.traceparent ?? null,
        tracestate: req.headers.tracestate ?? null,
        baggage: req.headers.baggage ?? null,
      });
      setTimeout(() => res.end('ok'), Number(url.searchParams.get('delay')) || 0);
    });
    await new Promise((r) => downstream.listen(0, '127.0.0.1', r));
    // The OTLP endpoint the app exports to: it keeps each export's headers and passes it on.
    proxy = createServer(async (req, res) => {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      exports.push({ path: req.url, headers: req.headers });
      const headers = {};
      for (const h of ['content-type', 'content-encoding']) if (req.headers[h]) headers[h] = req.headers[h];
      const answer = await fetch(collector.otlp + req.url, { method: 'POST', headers, body: Buffer.concat(chunks) });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/x-protobuf' });
      res.end(Buffer.from(await answer.arrayBuffer()));
    });
    await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
    app = await start({
      OTEL_SERVICE_NAME: 'edge-cases',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${proxy.address().port}`,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-edge-token=s%20cret,x-team=edge',
      DOWNSTREAM: `http://127.0.0.1:${downstream.address().port}`,
    });
  });

  after(async () => {
    await app?.stop();
    downstream?.close();
    proxy?.close();
    await collector?.stop();
  });

  test('console calls become log records of their own request, and the console still prints them', async () => {
    const a = { tag: 'console-a', trace: 'a1'.repeat(16), parent: 'a1'.repeat(8) };
    const b = { tag: 'console-b', trace: 'b1'.repeat(16), parent: 'b1'.repeat(8) };
    // A logs while B, which started later, waits for its downstream call.
    const pa = fetch(`${app.url}/console?tag=${a.tag}&delay=250`, { headers: { traceparent: `00-${a.trace}-${a.parent}-01` } });
    await new Promise((r) => setTimeout(r, 60));
    const pb = fetch(`${app.url}/console?tag=${b.tag}&delay=600`, { headers: { traceparent: `00-${b.trace}-${b.parent}-01` } });
    assert.deepEqual(await Promise.all([pa, pb].map(async (p) => (await p).text())), ['done', 'done'], app.output());
    for (const { tag, trace } of [a, b]) {
      const server = (await spansOf(collector, trace, 3)).find((s) => s.kind === 2);
      const logs = await waitFor(`the log of ${tag}`, async () => {
        const records = await logsOf(collector, trace);
        return records.length > 0 && records;
      });
      assert.equal(logs.length, 1, 'console.debug is not in the captured methods');
      assert.equal(logs[0].body.stringValue, `downstream answered {"tag":"${tag}"}`);
      assert.equal(logs[0].severityText, 'INFO');
      assert.equal(attr(logs[0], 'log.source'), 'console.log');
      assert.equal(logs[0].spanId, server.spanId, 'the console call after the await belongs to its own request');
    }
    // Both methods print as before, the captured one and the other (which may go to another stream).
    await waitFor('the console output', () =>
      [a, b].every(({ tag }) => new RegExp(`downstream answered.*${tag}`).test(app.output()) && app.output().includes(`debug is not captured ${tag}`)),
    );
  });

  test("the SDK's own diagnostics print to the console and never become log records", async () => {
    const trace = 'c1'.repeat(16);
    const response = await fetch(`${app.url}/bad-route?tag=diagnostics`, { headers: { traceparent: `00-${trace}-${'c1'.repeat(8)}-01` } });
    assert.equal(await response.text(), 'done');
    await spansOf(collector, trace, 3);
    await waitFor('the diagnostic on the console', () => app.output().includes('no route for this path'));
    const logs = await waitFor('the log', async () => {
      const records = await logsOf(collector, trace);
      return records.length > 0 && records;
    });
    assert.deepEqual(logs.map((l) => l.body.stringValue), ['downstream answered {"tag":"diagnostics"}']);
  });

  test("a request's baggage reaches its own outgoing calls, after an await too, and no other request's", async () => {
    const requests = [
      // A's second call goes out while B, which started later, still waits for its first.
      { tag: 'bag-a', delay: 250, baggage: 'tenant=a, plan=gold;tier=1,bad key=x', expected: 'tenant=a,plan=gold;tier=1' },
      { tag: 'bag-b', delay: 600, baggage: 'tenant=b', expected: 'tenant=b' },
      { tag: 'bag-none', delay: 100, expected: null },
    ];
    const answers = [];
    for (const [i, r] of requests.entries()) {
      const headers = { traceparent: `00-${`d${i}`.repeat(16)}-${`d${i}`.repeat(8)}-01` };
      if (r.baggage) headers.baggage = r.baggage;
      answers.push(fetch(`${app.url}/baggage?tag=${r.tag}&delay=${r.delay}`, { headers }));
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    // Baggage without a (valid) traceparent is the request's all the same.
    answers.push(fetch(`${app.url}/baggage?tag=bag-root`, { headers: { baggage: 'tenant=root' } }));
    requests.push({ tag: 'bag-root', expected: 'tenant=root' });
    for (const a of answers) assert.equal(await (await a).text(), 'done', app.output());
    for (const { tag, expected } of requests) {
      const seen = callsOf(tag);
      assert.deepEqual(seen.map((c) => c.path), ['/first', '/second'], tag);
      assert.deepEqual(seen.map((c) => c.baggage), [expected, expected], `${tag}: the baggage of its own request`);
    }
  });

  test("a request's baggage goes on as W3C Baggage allows: a member with an invalid property is dropped whole, and members past 8,192 bytes too", async () => {
    // 60 members of 193 bytes (a key and 21 percent-encoded euro signs): 11,639 bytes in all.
    const big = Array.from({ length: 60 }, (_, i) => `k${String(i).padStart(2, '0')}=${'%E2%82%AC'.repeat(21)}`);
    const requests = [
      {
        tag: 'bag-properties',
        baggage: 'tenant=a;tier=1;bad prop=x, plan=gold;trial;ends = 2027,region=eu;=x,zone=z;p=v\\,ok=1; ',
        expected: 'plan=gold;trial;ends = 2027',
      },
      // As many whole members as fit in 8,192 bytes, in order: 42 (42 × 193 + 41 commas = 8,147).
      { tag: 'bag-big', baggage: big.join(','), expected: big.slice(0, 42).join(',') },
    ];
    for (const [i, r] of requests.entries()) {
      const headers = { traceparent: `00-${`5${i}`.repeat(16)}-${`5${i}`.repeat(8)}-01`, baggage: r.baggage };
      assert.equal(await (await fetch(`${app.url}/baggage?tag=${r.tag}`, { headers })).text(), 'done', app.output());
      const seen = callsOf(r.tag);
      assert.deepEqual(seen.map((c) => c.baggage), [r.expected, r.expected], r.tag);
    }
    assert.equal(Buffer.byteLength(requests[1].expected), 8147);
  });

  test('an invalid traceparent starts a new root trace', async () => {
    const invalid = {
      uppercase: `00-${'AB'.repeat(16)}-${'CD'.repeat(8)}-01`,
      'zero-trace': `00-${'0'.repeat(32)}-${'cd'.repeat(8)}-01`,
      'zero-parent': `00-${'ab'.repeat(16)}-${'0'.repeat(16)}-01`,
      'version-ff': `ff-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`,
      'short-trace': `00-${'ab'.repeat(15)}-${'cd'.repeat(8)}-01`,
      'short-parent': `00-${'ab'.repeat(16)}-${'cd'.repeat(7)}-01`,
      'long-version-00': `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01-00`,
    };
    for (const [name, traceparent] of Object.entries(invalid)) {
      const tag = `invalid-${name}`;
      const response = await fetch(`${app.url}/invalid?tag=${tag}`, { headers: { traceparent } });
      assert.equal(await response.text(), 'done', app.output());
      const [first] = callsOf(tag);
      const [, trace, clientId] = first.traceparent.split('-');
      assert.notEqual(trace, traceparent.split('-')[1].toLowerCase(), `${name}: a new trace`);
      assert.ok(sampledIn(first.traceparent), `${name}: a new root, sampled`);
      const spans = await spansOf(collector, trace, 3);
      const server = spans.find((s) => s.kind === 2);
      assert.ok(!server.parentSpanId, `${name}: the server span is a root`);
      assert.equal(spans.find((s) => s.spanId === clientId).parentSpanId, server.spanId);
    }
  });

  test('an incoming trace that was not sampled stays not sampled (flags 00 kept)', async () => {
    const trace = 'e0'.repeat(16);
    const response = await fetch(`${app.url}/unsampled?tag=flags-00`, { headers: { traceparent: `00-${trace}-${'e0'.repeat(8)}-00` } });
    assert.equal(await response.text(), 'done');
    for (const call of callsOf('flags-00')) assert.match(call.traceparent, new RegExp(`^00-${trace}-[0-9a-f]{16}-00$`));
    const sampled = 'e1'.repeat(16);
    await fetch(`${app.url}/sampled?tag=flags-01`, { headers: { traceparent: `00-${sampled}-${'e1'.repeat(8)}-01` } });
    for (const call of callsOf('flags-01')) assert.match(call.traceparent, new RegExp(`^00-${sampled}-[0-9a-f]{16}-01$`));
  });

  test('the server and client spans carry the HTTP conventions\' attributes', async () => {
    const port = String(downstream.address().port);
    const cases = [
      { tag: 'attrs-cf', headers: { 'cf-connecting-ip': '203.0.113.9', 'x-forwarded-for': '198.51.100.7' }, client: '203.0.113.9' },
      { tag: 'attrs-xff', headers: { 'x-forwarded-for': '198.51.100.7, 10.0.0.1' }, client: '198.51.100.7' },
    ];
    for (const [i, c] of cases.entries()) {
      const trace = `f${i}`.repeat(16);
      const headers = { ...c.headers, 'user-agent': 'edge-cases/1.0 (test)', traceparent: `00-${trace}-${`f${i}`.repeat(8)}-01` };
      assert.equal(await (await fetch(`${app.url}/attrs?tag=${c.tag}`, { headers })).text(), 'done');
      const spans = await spansOf(collector, trace, 3);
      const server = spans.find((s) => s.kind === 2);
      assert.equal(server.name, 'GET /attrs');
      assert.equal(attr(server, 'url.scheme'), 'http');
      assert.equal(attr(server, 'url.path'), '/attrs');
      assert.equal(attr(server, 'url.query'), `tag=${c.tag}`);
      const served = new URL(app.url);
      assert.equal(attr(server, 'server.address'), served.hostname);
      assert.equal(String(attr(server, 'server.port')), served.port);
      assert.equal(attr(server, 'user_agent.original'), 'edge-cases/1.0 (test)');
      assert.equal(attr(server, 'client.address'), c.client, c.tag);
      assert.equal(attr(server, 'http.response.status_code'), '200');
      const clients = spans.filter((s) => s.kind === 3);
      assert.equal(clients.length, 2);
      for (const client of clients) {
        assert.equal(attr(client, 'server.address'), '127.0.0.1');
        assert.equal(String(attr(client, 'server.port')), port);
        assert.equal(attr(client, 'http.request.method'), 'GET');
        assert.match(attr(client, 'url.full'), new RegExp(`^http://127\\.0\\.0\\.1:${port}/(first|second)\\?tag=${c.tag}`));
      }
    }
  });

  test('OTEL_EXPORTER_OTLP_HEADERS reach the collector with every export', async () => {
    const trace = '7e'.repeat(16);
    await (await fetch(`${app.url}/headers?tag=headers`, { headers: { traceparent: `00-${trace}-${'7e'.repeat(8)}-01` } })).text();
    await spansOf(collector, trace, 3);
    await waitFor('exports of spans and logs', () => ['/v1/traces', '/v1/logs'].every((p) => exports.some((e) => e.path === p)));
    for (const e of exports) {
      assert.equal(e.headers['x-edge-token'], 's cret', e.path);
      assert.equal(e.headers['x-team'], 'edge', e.path);
    }
  });

  test('a secret parameter of url.query is redacted when it comes first too', async () => {
    const trace = '3a'.repeat(16);
    const headers = { traceparent: `00-${trace}-${'3a'.repeat(8)}-01` };
    const response = await fetch(`${app.url}/attrs?access_token=CANARYFIRST&code=CANARYCODE&tag=query-first`, { headers });
    assert.equal(await response.text(), 'done', app.output());
    const server = (await spansOf(collector, trace, 3)).find((s) => s.kind === 2);
    assert.equal(attr(server, 'url.query'), 'access_token=REDACTED&code=REDACTED&tag=query-first');
  });

  test('a handler whose result is not a Response (or is Response.error()) gets an error span, and the runtime answers as without the SDK', async () => {
    for (const path of ['undefined', 'string', 'error-response']) {
      const trace = { undefined: '4a', string: '4b', 'error-response': '4d' }[path].repeat(16);
      const response = await fetch(`${app.url}/${path}`, { headers: { traceparent: `00-${trace}-${'4c'.repeat(8)}-01` } });
      await response.text();
      assert.equal(response.status, 500, `${path}: the runtime's own answer`);
      const [server] = await spansOf(collector, trace, 1);
      assert.equal(server.kind, 2);
      assert.equal(server.status?.code, 2, `${path}: status ERROR`);
      assert.equal(attr(server, 'error.type'), 'TypeError', path);
      assert.equal(attr(server, 'http.response.status_code'), undefined, path);
    }
  });

  test("a worker's own traceparent on its outgoing call is kept, with its own tracestate or none", async () => {
    const own = `00-${'6a'.repeat(16)}-${'6b'.repeat(8)}-01`;
    const trace = '6c'.repeat(16);
    const incoming = { traceparent: `00-${trace}-${'6d'.repeat(8)}-01`, tracestate: 'in=1' };
    for (const [tag, ts] of [['owntp', ''], ['owntp-ts', 'mine=2']]) {
      const response = await fetch(`${app.url}/owntp?tag=${tag}&tp=${own}&ts=${ts}`, { headers: incoming });
      assert.equal(await response.text(), 'done', app.output());
    }
    const [plain] = callsOf('owntp');
    const [withState] = callsOf('owntp-ts');
    assert.equal(plain.traceparent, own);
    assert.equal(withState.traceparent, own);
    assert.equal(plain.tracestate, null, "without the worker's traceparent, not ours either");
    assert.equal(withState.tracestate, 'mine=2');
  });

  test('a streamed body ends the SERVER span when it has been sent, and logs written while it streams belong to the request', async () => {
    const trace = '8a'.repeat(16);
    const response = await fetch(`${app.url}/stream?tag=stream`, { headers: { traceparent: `00-${trace}-${'8b'.repeat(8)}-01` } });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('x-streamed'), 'stream', 'the headers as the handler made them');
    assert.equal(await response.text(), 'chunk 1\nchunk 2\nchunk 3\n', app.output());
    const [server] = await spansOf(collector, trace, 1);
    const logs = await waitFor('the log written while the body streamed', async () => {
      const records = await logsOf(collector, trace);
      return records.length > 0 && records;
    });
    assert.equal(logs[0].body.stringValue, 'streamed the last chunk {"tag":"stream"}');
    assert.equal(logs[0].spanId, server.spanId, 'the log record belongs to the request');
    assert.ok(BigInt(server.endTimeUnixNano) >= BigInt(logs[0].timeUnixNano), 'the span ends after the last chunk, not when the handler returned');
    assert.equal(server.status?.code ?? 0, 0);
  });

  test('a body with a chunk that is not bytes fails as the runtime fails it, and its SERVER span ends then as an error', async () => {
    for (const [query, trace] of [['', 'c4'.repeat(16)], ['?late=1', 'c5'.repeat(16)]]) {
      // The runtime's own answer, as without the SDK: a failed response, or (workerd) one whose
      // body stalls after the chunk, which the client gives up on.
      await fetch(`${app.url}/not-bytes${query}`, { headers: { traceparent: `00-${trace}-${'c6'.repeat(8)}-01` }, signal: AbortSignal.timeout(2000) })
        .then((r) => r.text())
        .catch(() => {});
      const [server] = await spansOf(collector, trace, 1);
      assert.equal(server.status?.code, 2, `${query}: status ERROR\n${app.output()}`);
      assert.equal(attr(server, 'error.type'), 'TypeError', query);
      assert.match(server.status.message, /not bytes \((string|object)\)/, query);
    }
  });

  test('an ordinary response made from a string keeps its Content-Length (not chunked), and its span ends', async () => {
    const trace = '8e'.repeat(16);
    const response = await fetch(`${app.url}/json`, { headers: { traceparent: `00-${trace}-${'8f'.repeat(8)}-01` } });
    const text = await response.text();
    assert.equal(text, '{"ok":true,"items":[1,2,3]}');
    assert.equal(response.headers.get('content-length'), String(text.length), `headers: ${[...response.headers]}`);
    assert.equal(response.headers.get('transfer-encoding'), null);
    assert.equal(response.headers.get('content-type'), 'application/json');
    const [server] = await spansOf(collector, trace, 1);
    assert.equal(attr(server, 'http.response.status_code'), '200');
    // A body made in memory but larger than the SDK buffers goes out whole too (streamed on).
    const large = await fetch(`${app.url}/large`);
    assert.equal((await large.text()).length, 3 * 1024 * 1024);
  });

  test('a streamed body the client stops reading still ends its SERVER span', async () => {
    const trace = '8c'.repeat(16);
    const abort = new AbortController();
    const response = await fetch(`${app.url}/stream?tag=endless&endless=1`, {
      headers: { traceparent: `00-${trace}-${'8d'.repeat(8)}-01` },
      signal: abort.signal,
    });
    const reader = response.body.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), 'chunk 1\n');
    abort.abort();
    await reader.read().catch(() => {});
    const [server] = await spansOf(collector, trace, 1);
    assert.equal(server.kind, 2);
    assert.equal(attr(server, 'http.response.status_code'), '201');
    // The body's `cancel` logs in the request's trace (an SSE stream's clean-up).
    const [gone] = await waitFor('the log of the cancelled body', async () => {
      const logs = await logsOf(collector, trace);
      return logs.length && logs.filter((r) => JSON.stringify(r.body).includes('client went away'));
    });
    assert.equal(gone.spanId, server.spanId);
  });

  test("work the handler leaves to waitUntil is exported when it is done, with no other request to carry it", async (t) => {
    const trace = '9a'.repeat(16);
    const response = await fetch(`${app.url}/background?tag=bg`, { headers: { traceparent: `00-${trace}-${'9b'.repeat(8)}-01` } });
    if ((await response.text()) === 'no waitUntil') return t.skip('the runtime has no waitUntil');
    assert.equal(response.status, 202);
    const spans = await spansOf(collector, trace, 2);
    const server = spans.find((s) => s.kind === 2);
    const client = spans.find((s) => s.kind === 3);
    assert.equal(client.parentSpanId, server.spanId, 'the outgoing call of the background work');
    assert.equal(callsOf('bg')[0].traceparent.split('-')[1], trace);
    const [log] = await waitFor('the background log', async () => {
      const logs = await logsOf(collector, trace);
      return logs.length && logs.filter((r) => JSON.stringify(r.body).includes('background work'));
    });
    assert.equal(log.spanId, server.spanId);
  });

  test('OTEL_SERVICE_NAME wins over service.name in OTEL_RESOURCE_ATTRIBUTES, and empty OTEL_* values are unset', async () => {
    const precedence = await start({
      OTEL_SERVICE_NAME: 'edge-precedence',
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=ignored,deployment.environment=qa',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlp,
      // Empty: as if unset, so the ratio is the default (1), the protocol protobuf, no headers.
      OTEL_TRACES_SAMPLER: 'traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '',
      OTEL_EXPORTER_OTLP_PROTOCOL: '',
      OTEL_EXPORTER_OTLP_HEADERS: '',
      DOWNSTREAM: `http://127.0.0.1:${downstream.address().port}`,
    });
    try {
      for (let i = 0; i < 3; i++) {
        assert.equal(await (await fetch(`${precedence.url}/precedence?tag=precedence-${i}`)).text(), 'done', precedence.output());
        const [first] = callsOf(`precedence-${i}`);
        assert.ok(sampledIn(first.traceparent), 'an empty OTEL_TRACES_SAMPLER_ARG is the default ratio, 1');
        const spans = await spansOf(collector, first.traceparent.split('-')[1], 3);
        for (const span of spans) assert.equal(span.service, 'edge-precedence');
      }
    } finally {
      await precedence.stop();
    }
  });

  test('OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG decide what is sampled', async () => {
    const none = undefined;
    const configs = [
      { sampler: 'always_off', cases: [[none, false], ['01', false]] },
      { sampler: 'traceidratio', arg: '0', cases: [[none, false], ['01', false]] },
      { sampler: 'traceidratio', arg: '1', cases: [[none, true], ['00', true]] },
      { sampler: 'parentbased_always_off', cases: [[none, false], ['01', true], ['00', false]] },
      { sampler: 'parentbased_traceidratio', arg: '0', cases: [[none, false], ['01', true], ['00', false]] },
    ];
    for (const [n, { sampler, arg, cases }] of configs.entries()) {
      const env = {
        OTEL_SERVICE_NAME: 'edge-sampler',
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlp,
        OTEL_TRACES_SAMPLER: sampler,
        DOWNSTREAM: `http://127.0.0.1:${downstream.address().port}`,
      };
      if (arg !== undefined) env.OTEL_TRACES_SAMPLER_ARG = arg;
      const sampling = await start(env);
      try {
        for (const [i, [incoming, expected]] of cases.entries()) {
          const tag = `sampler-${n}-${i}`;
          const trace = `${n}${i}`.repeat(16);
          const headers = incoming ? { traceparent: `00-${trace}-${'9a'.repeat(8)}-${incoming}` } : {};
          assert.equal(await (await fetch(`${sampling.url}/sampler?tag=${tag}`, { headers })).text(), 'done', sampling.output());
          const [first] = callsOf(tag);
          const sent = first.traceparent.split('-')[1];
          const what = `${sampler}${arg === undefined ? '' : ` ${arg}`}, ${incoming ? `parent flags ${incoming}` : 'no parent'}`;
          assert.equal(sampledIn(first.traceparent), expected, what);
          if (incoming) assert.equal(sent, trace, `${what}: the trace continues`);
          if (expected) assert.equal((await spansOf(collector, sent, 3)).length, 3, `${what}: exported`);
        }
      } finally {
        await sampling.stop();
      }
    }
  });
}
