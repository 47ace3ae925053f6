// examples/rust-worker in real workerd, exporting through a proxy in front of the collector: the
// handler makes an `edgescope::otel::Exporter` per request (workers-rs style), and a batch one
// request's exporter could not deliver (503) is sent by the next request's; a flush starts the logs post without
// waiting for the traces post's answer. (The backoff's timing is tested on wasm32 in sdk/tests/otel_export.rs; here
// the refusals carry `Retry-After: 0`, so that no pause outlasts the test's wait on a loaded machine.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { root, startCollector, traceSpans, waitFor } from '../support.mjs';
import { startWorkerdModules } from './workerd.mjs';

const dist = join(root, 'examples', 'rust-worker', 'dist');
let collector, proxy, worker;
/**
 * How the proxy answers: 'forward' passes each post on to the collector; 'unavailable' answers
 * 503 with `Retry-After: 0`; 'together' holds a traces post until a logs post has arrived (3 s at most), then passes
 * both on.
 */
let mode = 'forward';
/** Each post the proxy saw: `{ path, status, body, encoding }` (the body unzipped); and for 'together' whether the logs came while the traces were held. */
const posts = [];
let logsArrived;
let logsSeen = false;
let logsWhileTracesHeld;

before(async () => {
  if (!existsSync(join(dist, 'rust_worker_bg.wasm'))) throw new Error('examples/rust-worker/dist is missing: run `bash scripts/build.sh` first');
  collector = await startCollector();
  proxy = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    // The Rust exporter gzips its bodies (workerd has CompressionStream).
    const encoding = req.headers['content-encoding'] ?? 'none';
    const body = encoding === 'gzip' ? gunzipSync(Buffer.concat(chunks)) : Buffer.concat(chunks);
    if (mode === 'unavailable') {
      posts.push({ path: req.url, status: 503, body, encoding });
      return res.writeHead(503, { 'retry-after': '0' }).end();
    }
    if (mode === 'together') {
      if (req.url === '/v1/logs') {
        logsSeen = true;
        logsArrived?.();
      } else if (logsSeen) logsWhileTracesHeld = true;
      else {
        let held = true;
        await Promise.race([
          new Promise((r) => (logsArrived = r)).then(() => held && (logsWhileTracesHeld = true)),
          new Promise((r) => setTimeout(r, 3000)),
        ]);
        held = false;
        logsWhileTracesHeld ??= false;
      }
    }
    const answer = await fetch(collector.otlp + req.url, { method: 'POST', headers: { 'content-type': req.headers['content-type'] }, body });
    posts.push({ path: req.url, status: answer.status, body, encoding });
    res.writeHead(answer.status).end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
  worker = await startWorkerdModules(
    {
      'shim.mjs': join(dist, 'shim.mjs'),
      'rust_worker.js': join(dist, 'rust_worker.js'),
      'rust_worker_bg.wasm': join(dist, 'rust_worker_bg.wasm'),
    },
    { OTEL_SERVICE_NAME: 'rust-worker-retry', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${proxy.address().port}` },
  );
});

after(async () => {
  await worker?.stop();
  proxy?.close();
  await collector?.stop();
});

const greet = async (trace) => {
  const response = await fetch(`${worker.url}/greet?name=retry`, { headers: { traceparent: `00-${trace}-${'0b'.repeat(8)}-01` } });
  assert.equal(response.status, 200, worker.output());
  await response.text();
};

test("a batch the collector refused with 503 is sent by the next request's exporter", async () => {
  const first = '1a'.repeat(16);
  const second = '2a'.repeat(16);
  // The readiness request's export first, so that the first request's own export is the one refused.
  await waitFor("the readiness request's export", () => posts.some((x) => x.status === 200));
  mode = 'unavailable';
  await greet(first);
  // The batch with the first request's spans (their trace id's 16 bytes) was refused.
  const carries = (post, trace) => post.path === '/v1/traces' && post.body.includes(Buffer.from(trace, 'hex'));
  await waitFor("the refused post of the first request's spans", () => posts.some((x) => x.status === 503 && carries(x, first)));
  mode = 'forward';
  await greet(second);
  for (const trace of [second, first]) {
    const spans = await waitFor(`the spans of ${trace}`, async () => {
      const s = await traceSpans(collector, trace).catch(() => []);
      return s.length >= 2 && s;
    });
    assert.ok(spans.some((s) => s.kind === 2), trace);
  }
  assert.deepEqual([...new Set(posts.map((p) => p.encoding))], ['gzip'], 'every body went gzipped');
});

test('a flush starts the logs post without waiting for the answer to the traces post', async () => {
  const trace = '3a'.repeat(16);
  mode = 'together';
  logsWhileTracesHeld = undefined;
  logsSeen = false;
  await greet(trace);
  await waitFor('the spans', async () => (await traceSpans(collector, trace).catch(() => [])).length >= 2);
  await waitFor('the traces post to be answered', () => logsWhileTracesHeld !== undefined);
  assert.equal(logsWhileTracesHeld, true, 'the logs post arrived while the traces post was held');
  mode = 'forward';
});
