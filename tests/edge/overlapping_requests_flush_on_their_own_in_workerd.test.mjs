// Overlapping requests in one workerd isolate share the SDK's queue: one request's flush may
// send another's spans, and an export may still be under way when a request ends. Each
// request's `ctx.waitUntil` promise must still settle on its own (no continuation left for a
// request context that is gone), every span and log must arrive exactly once, also when the
// collector fails some exports (retried) and answers others slowly; a request's flush must not
// wait for another request's exports; and a request's batch under 1 KiB goes uncompressed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { getJson, startCollector, traceSpans, waitFor } from '../support.mjs';
import { startWorkerd } from './workerd.mjs';

let collector, proxy, worker;
/** Export requests the proxy received. */
let exports = 0;
/** Each export the proxy received: `{ encoding, body }` (the OTLP protobuf, unzipped). */
let received = [];
/**
 * How the proxy answers export number `n` (`body`: the OTLP protobuf, unzipped): 'refuse' (503
 * with `Retry-After: 2`), 'refuse-now' (503, `Retry-After: 0`), 'refuse-long' (503, `Retry-After: 5`), 'slow' (forwarded after 300 ms),
 * 'reset' (the connection closed unanswered, as a collector that is down fails it) or 'forward'. At first every third is refused (retried by the SDK at once) and every other
 * one answered slowly, so exports overlap the requests' ends.
 */
let plan = (n) => (n % 3 === 0 ? 'refuse-now' : n % 2 === 0 ? 'slow' : 'forward');

before(async () => {
  collector = await startCollector();
  proxy = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const plain = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
      received.push({ encoding: req.headers['content-encoding'], body: plain });
      const step = plan(++exports, plain);
      if (step === 'reset') return req.socket.destroy();
      if (step.startsWith('refuse')) {
        res.writeHead(503, { 'retry-after': { refuse: '2', 'refuse-now': '0', 'refuse-long': '5' }[step] });
        return res.end();
      }
      if (step === 'slow') await new Promise((resolve) => setTimeout(resolve, 300));
      const headers = { 'content-type': req.headers['content-type'] };
      if (req.headers['content-encoding']) headers['content-encoding'] = req.headers['content-encoding'];
      const answer = await fetch(collector.otlp + req.url, { method: 'POST', headers, body });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/x-protobuf' });
      res.end(Buffer.from(await answer.arrayBuffer()));
    });
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  worker = await startWorkerd(
    fileURLToPath(new URL('./flush_worker.js', import.meta.url)),
    {
      OTEL_SERVICE_NAME: 'flush-worker',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${proxy.address().port}`,
    },
    ['nodejs_compat'],
  );
});

after(async () => {
  await worker?.stop();
  proxy?.close();
  await collector?.stop();
});

async function logsOf(traceId) {
  const doc = await getJson(`${collector.ui}/api/logs?trace_id=${traceId}`);
  return doc.result.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
}

test('overlapping requests each settle their flush and deliver every span and log once', async () => {
  const requests = Array.from({ length: 12 }, (_, i) => ({
    id: String(i),
    trace: (i + 1).toString(16).padStart(32, 'a'),
    // Some requests end at once, others while the first ones' exports are still under way.
    wait: [0, 40, 250][i % 3],
  }));
  const answers = await Promise.all(
    requests.map(({ id, trace, wait }) =>
      fetch(`${worker.url}/work?id=${id}&wait=${wait}`, { headers: { traceparent: `00-${trace}-00f067aa0ba902b7-01` } }),
    ),
  );
  for (const [i, answer] of answers.entries()) assert.equal(await answer.text(), requests[i].id, worker.output());

  // Each request's waitUntil promise settles by itself (a flush that waits on a continuation
  // workerd dropped never does).
  const notes = await waitFor('every request to settle its flush', async () => {
    const n = await getJson(`${worker.url}/settled`);
    return requests.every(({ id }) => n[id] === 'settled') && n;
  }).catch(async (e) => {
    throw new Error(`${e.message}; notes: ${JSON.stringify(await getJson(`${worker.url}/settled`))}\n${worker.output()}`);
  });
  assert.equal(Object.keys(notes).length, requests.length);

  // Everything was sent before the flushes settled: each trace has its two spans and two logs,
  // none twice.
  for (const { id, trace } of requests) {
    const spans = await traceSpans(collector, trace).catch(() => []);
    assert.deepEqual(spans.map((s) => s.name).sort(), ['GET /work', 'work'], `spans of request ${id}`);
    const logs = await logsOf(trace);
    assert.deepEqual(
      logs.map((l) => l.body.stringValue).sort(),
      [`request ${id} began`, `request ${id} worked`],
      `logs of request ${id}`,
    );
  }
  assert.ok(exports > requests.length / 3, `the proxy saw ${exports} exports`);
  assert.doesNotMatch(worker.output(), /cross-context|different request context/);
});

test("a request's flush does not wait for another request's export that waits to be retried", async () => {
  // The first attempt of each export with request A's trace id (its spans, its logs) is
  // refused with Retry-After: 2; B comes while A waits to retry, and is answered at once.
  const a = { id: 'a', trace: 'e'.repeat(32) };
  const b = { id: 'b', trace: 'f'.repeat(32) };
  const refused = new Set();
  plan = (n, body) => {
    if (!body.includes(Buffer.from(a.trace, 'hex'))) return 'forward';
    const key = body.toString('base64');
    if (refused.has(key)) return 'forward';
    refused.add(key);
    return 'refuse';
  };
  const get = ({ id, trace }) =>
    fetch(`${worker.url}/work?id=${id}`, { headers: { traceparent: `00-${trace}-00f067aa0ba902b7-01` } }).then((r) => r.text());
  assert.equal(await get(a), 'a');
  await waitFor("A's exports to be refused", () => refused.size === 2);
  const before = exports;
  assert.equal(await get(b), 'b');

  // B's flush settles by itself, while A's batches still wait for their retry.
  const notes = await waitFor("B's flush to settle", async () => {
    const n = await getJson(`${worker.url}/settled`);
    return n.b === 'settled' && { ...n, exports };
  });
  assert.equal(notes.a, 'pending', "A's flush still waits for its retry");
  assert.equal(notes.exports, before + 2, "A's exports were not retried yet: only B's two came since");

  // Then A's retries go through: everything of both requests arrives once.
  await waitFor("A's flush to settle", async () => (await getJson(`${worker.url}/settled`)).a === 'settled');
  for (const { id, trace } of [a, b]) {
    const spans = await traceSpans(collector, trace);
    assert.deepEqual(spans.map((s) => s.name).sort(), ['GET /work', 'work'], `spans of request ${id}`);
    assert.equal((await logsOf(trace)).length, 2, `logs of request ${id}`);
  }
  assert.doesNotMatch(worker.output(), /cross-context|different request context/);
});

test('what a flush cannot deliver by its deadline is carried to the next flush, and arrives once', async () => {
  // A worker whose flushes end after 1 s. Every export with C's trace id is refused with
  // Retry-After: 5 until D comes: C's flush settles at its deadline with its batches kept, and
  // D's flush sends them first.
  const late = await startWorkerd(
    fileURLToPath(new URL('./flush_worker.js', import.meta.url)),
    {
      OTEL_SERVICE_NAME: 'flush-worker',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${proxy.address().port}`,
      FLUSH_DEADLINE_MS: '1000',
    },
    ['nodejs_compat'],
  );
  try {
    const c = { id: 'c', trace: 'c'.repeat(32) };
    const d = { id: 'd', trace: 'd'.repeat(32) };
    let refusing = true;
    // Each refused batch with C's trace id → how often it was refused. A retry sends the same
    // bytes. C's batches may also hold records of the worker's /ready request: the SDK's queue
    // is shared, and a request's flush starts after its response, so C's flush can take what
    // /ready's has not yet taken (covered by C's waitUntil, sent on in C's batches).
    const refused = new Map();
    plan = (n, body) => {
      if (refusing && body.includes(Buffer.from(c.trace, 'hex'))) {
        const key = body.toString('base64');
        refused.set(key, (refused.get(key) ?? 0) + 1);
        return 'refuse-long';
      }
      return 'forward';
    };
    const get = ({ id, trace }) =>
      fetch(`${late.url}/work?id=${id}`, { headers: { traceparent: `00-${trace}-00f067aa0ba902b7-01` } }).then((r) => r.text());
    assert.equal(await get(c), 'c');
    const settled = await waitFor("C's flush to settle at its deadline", async () => (await getJson(`${late.url}/settled`)).c === 'settled');
    assert.ok(settled);
    assert.ok(refused.size >= 2, `C's spans and C's logs were refused (${refused.size} batches)`);
    assert.deepEqual([...refused.values()], [...refused.values()].map(() => 1), 'each batch of C was refused once, not retried within the request');
    assert.deepEqual(await traceSpans(collector, c.trace).catch(() => []), [], 'nothing of C arrived yet');

    refusing = false;
    assert.equal(await get(d), 'd');
    await waitFor("D's flush to settle", async () => (await getJson(`${late.url}/settled`)).d === 'settled');
    for (const { id, trace } of [c, d]) {
      const spans = await traceSpans(collector, trace);
      assert.deepEqual(spans.map((s) => s.name).sort(), ['GET /work', 'work'], `spans of request ${id}`);
      assert.equal((await logsOf(trace)).length, 2, `logs of request ${id}`);
    }
    assert.doesNotMatch(late.output(), /cross-context|different request context/);
  } finally {
    await late.stop();
  }
});

test('a batch whose retries a collector that is down fails within the flush is carried to the next flush, and arrives once', async () => {
  // Every export with E's trace id fails at once (connection closed): E's flush spends its five
  // attempts in about 8 s, well before its 25 s deadline, and settles; F's flush, once the
  // collector is back, sends E's batches first.
  const e = { id: 'e', trace: '7'.repeat(32) };
  const f = { id: 'f', trace: '8'.repeat(32) };
  let down = true;
  const failed = new Map();
  plan = (n, body) => {
    if (down && body.includes(Buffer.from(e.trace, 'hex'))) {
      const key = body.toString('base64');
      failed.set(key, (failed.get(key) ?? 0) + 1);
      return 'reset';
    }
    return 'forward';
  };
  const get = ({ id, trace }) =>
    fetch(`${worker.url}/work?id=${id}`, { headers: { traceparent: `00-${trace}-00f067aa0ba902b7-01` } }).then((r) => r.text());
  assert.equal(await get(e), 'e');
  await waitFor("E's flush to settle after its retries", async () => (await getJson(`${worker.url}/settled`)).e === 'settled', 20000);
  assert.ok(failed.size >= 2, `E's spans and logs failed (${failed.size} batches)`);
  assert.deepEqual([...failed.values()], [...failed.values()].map(() => 5), 'each batch of E was tried five times');
  assert.deepEqual(await traceSpans(collector, e.trace).catch(() => []), [], 'nothing of E arrived yet');

  down = false;
  assert.equal(await get(f), 'f');
  await waitFor("F's flush to settle", async () => (await getJson(`${worker.url}/settled`)).f === 'settled');
  for (const { id, trace } of [e, f]) {
    const spans = await traceSpans(collector, trace);
    assert.deepEqual(spans.map((s) => s.name).sort(), ['GET /work', 'work'], `spans of request ${id}`);
    assert.equal((await logsOf(trace)).length, 2, `logs of request ${id}`);
  }
  assert.doesNotMatch(worker.output(), /cross-context|different request context/);
});

test("a request's batch under 1 KiB goes uncompressed, a larger one gzipped, and both arrive", async () => {
  plan = () => 'forward';
  received = [];
  // The id is in the log messages and in `url.query` of the server span: a long one makes
  // batches of several KiB.
  const small = { id: 's', trace: '5'.repeat(32) };
  const large = { id: 'l'.repeat(1500), trace: '6'.repeat(32) };
  for (const { id, trace } of [small, large]) {
    const answer = await fetch(`${worker.url}/work?id=${id}`, { headers: { traceparent: `00-${trace}-00f067aa0ba902b7-01` } });
    assert.equal(await answer.text(), id);
    await waitFor(`the flush of ${id.slice(0, 8)}`, async () => (await getJson(`${worker.url}/settled`))[id] === 'settled');
  }
  const of = (trace) => received.filter((e) => e.body.includes(Buffer.from(trace, 'hex')));
  const smallExports = of(small.trace);
  const largeExports = of(large.trace);
  assert.ok(smallExports.length >= 2 && largeExports.length >= 2, `exports: ${smallExports.length} small, ${largeExports.length} large`);
  for (const e of smallExports) assert.ok(e.body.length < 1024 && e.encoding === undefined, `${e.body.length} bytes, ${e.encoding}`);
  for (const e of largeExports) assert.ok(e.body.length >= 1024 && e.encoding === 'gzip', `${e.body.length} bytes, ${e.encoding}`);
  for (const { id, trace } of [small, large]) {
    const spans = await traceSpans(collector, trace);
    assert.deepEqual(spans.map((s) => s.name).sort(), ['GET /work', 'work'], `spans of request ${id.slice(0, 8)}`);
    assert.equal((await logsOf(trace)).length, 2, `logs of request ${id.slice(0, 8)}`);
  }
});
