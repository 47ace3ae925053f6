// examples/rust-worker: a request handler written in Rust (workers-rs style: a wasm-bindgen
// `fetch` export behind a module-worker shim) traces with the `opentelemetry` crate's API on
// edgescope, in real workerd: it continues the incoming traceparent, nests a span and a log
// record inside its SERVER span, and exports through ctx.waitUntil. Its SERVER spans follow the
// HTTP conventions (`GET /greet` with `http.route`, a 404 named `GET`), and empty OTEL_* bindings
// are unset.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attr, getJson, root, startCollector, traceSpans, waitFor } from '../support.mjs';
import { startWorkerdModules } from './workerd.mjs';

const dist = join(root, 'examples', 'rust-worker', 'dist');
let collector, worker;

before(async () => {
  if (!existsSync(join(dist, 'rust_worker_bg.wasm'))) throw new Error('examples/rust-worker/dist is missing: run `bash scripts/build.sh` first');
  collector = await startCollector();
  worker = await startWorkerdModules(
    {
      'shim.mjs': join(dist, 'shim.mjs'),
      'rust_worker.js': join(dist, 'rust_worker.js'),
      'rust_worker_bg.wasm': join(dist, 'rust_worker_bg.wasm'),
    },
    { OTEL_SERVICE_NAME: 'rust-worker', OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlp },
  );
});

after(async () => {
  await worker?.stop();
  await collector?.stop();
});

test('the Rust handler continues the incoming trace with a SERVER span, a child span and a log record', async () => {
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const parentId = 'b7ad6b7169203331';
  const response = await fetch(`${worker.url}/greet?name=edge`, {
    headers: { traceparent: `00-${traceId}-${parentId}-01`, baggage: 'tenant=acme%20corp;ttl=60,bad member' },
  });
  assert.equal(response.status, 200, worker.output());
  assert.equal(await response.text(), 'hello edge from Rust');
  assert.equal(response.headers.get('x-trace-id'), traceId);

  const spans = await waitFor('the Rust worker spans in the collector', async () => {
    const s = await traceSpans(collector, traceId).catch(() => []);
    return s.length >= 2 && s;
  });
  const server = spans.find((s) => s.kind === 2);
  const child = spans.find((s) => s.name === 'compose greeting');
  assert.ok(server && child, JSON.stringify(spans.map((s) => [s.name, s.kind])));
  assert.equal(server.service, 'rust-worker');
  assert.equal(server.name, 'GET /greet');
  assert.equal(attr(server, 'http.route'), '/greet', 'the matched route');
  assert.equal(attr(server, 'http.response.status_code'), '200');
  assert.equal(server.parentSpanId, parentId, 'the sent span id is the parent');
  assert.equal(server.status?.code, 1, 'OK');
  assert.deepEqual(server.attributes.find((a) => a.key === 'tenant')?.value, { stringValue: 'acme corp' }, 'the baggage was extracted');
  assert.equal(child.parentSpanId, server.spanId);
  assert.deepEqual(child.attributes.find((a) => a.key === 'greeting.name')?.value, { stringValue: 'edge' });

  const records = await waitFor('the Rust worker log record', async () => {
    const doc = await getJson(`${collector.ui}/api/logs?trace_id=${traceId}`);
    const r = doc.result.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
    return r.length > 0 && r;
  });
  assert.equal(records[0].body.stringValue, 'greeting edge');
  assert.equal(records[0].spanId, child.spanId, 'the log record carries the active span');
});

test('without a traceparent the Rust handler starts a new trace', async () => {
  const response = await fetch(`${worker.url}/greet`);
  assert.equal(response.status, 200, worker.output());
  const traceId = response.headers.get('x-trace-id');
  assert.match(traceId, /^[0-9a-f]{32}$/);
  const spans = await waitFor('the new trace', async () => {
    const s = await traceSpans(collector, traceId).catch(() => []);
    return s.length >= 2 && s;
  });
  assert.equal(spans.find((s) => s.kind === 2).parentSpanId ?? '', '');
});

// HTTP semantic conventions: `http.route` is the matched route template and the SERVER span is
// named `{method} {http.route}`, or `{method}` alone when nothing matched; never the raw path,
// which would make a span name per URL. A 4xx leaves a SERVER span's status unset.
test('a path the Rust worker does not route is a 404 whose span is named GET, without http.route', async () => {
  const traceId = '1af7651916cd43dd8448eb211c80319c';
  const response = await fetch(`${worker.url}/users/4711?name=x`, {
    headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` },
  });
  assert.equal(response.status, 404, worker.output());
  await response.text();
  const spans = await waitFor('the 404 span', async () => {
    const s = await traceSpans(collector, traceId).catch(() => []);
    return s.length > 0 && s;
  });
  const server = spans.find((s) => s.kind === 2);
  assert.equal(server.name, 'GET', 'no route: the method alone, not the path');
  assert.equal(attr(server, 'http.route'), undefined, 'no http.route when no route matched');
  assert.equal(attr(server, 'url.path'), '/users/4711', 'the path stays in url.path');
  assert.equal(attr(server, 'http.response.status_code'), '404');
  assert.equal(server.status?.code ?? 0, 0, 'a 4xx leaves a SERVER span unset');
  assert.equal(spans.length, 1, 'no greeting for a 404');
});

// The OpenTelemetry environment specification: an empty value is unset. A worker whose
// OTEL_SERVICE_NAME and OTEL_EXPORTER_OTLP_ENDPOINT bindings are empty is the example's own
// `rust-worker`, posting to the default endpoint; a main module in front of the example's shim sends
// what goes to that default (http://127.0.0.1:4318) to this test's collector instead, and
// answers `/__posts` with every URL the worker fetched.
test('empty OTEL_* bindings are unset: the service is rust-worker and the endpoint the default', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgescope-rust-worker-'));
  const main = join(dir, 'main.mjs');
  writeFileSync(
    main,
    `import worker from './shim.mjs';
const real = globalThis.fetch;
const posts = [];
globalThis.fetch = (input, init) => {
  const url = String(input && input.url ? input.url : input);
  posts.push(url);
  const to = url.startsWith('http://127.0.0.1:4318/') ? ${JSON.stringify(collector.otlp)} + url.slice('http://127.0.0.1:4318'.length) : input;
  return real(to, init);
};
export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname === '/__posts') return Response.json(posts);
    return worker.fetch(request, env, ctx);
  },
};
`,
  );
  const empty = await startWorkerdModules(
    {
      'main.mjs': main,
      'shim.mjs': join(dist, 'shim.mjs'),
      'rust_worker.js': join(dist, 'rust_worker.js'),
      'rust_worker_bg.wasm': join(dist, 'rust_worker_bg.wasm'),
    },
    { OTEL_SERVICE_NAME: '', OTEL_EXPORTER_OTLP_ENDPOINT: '' },
  );
  try {
    const traceId = '2af7651916cd43dd8448eb211c80319c';
    const response = await fetch(`${empty.url}/greet?name=empty`, { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
    assert.equal(response.status, 200, empty.output());
    assert.equal(await response.text(), 'hello empty from Rust');
    const posts = await waitFor('the worker to post its spans', async () => {
      const p = await (await fetch(`${empty.url}/__posts`)).json();
      return p.some((u) => u.endsWith('/v1/traces')) && p;
    });
    assert.ok(posts.includes('http://127.0.0.1:4318/v1/traces'), `posted to the default endpoint, not to "": ${JSON.stringify(posts)}`);
    const spans = await waitFor('the spans in the collector', async () => {
      const s = await traceSpans(collector, traceId).catch(() => []);
      return s.length >= 2 && s;
    });
    assert.deepEqual([...new Set(spans.map((s) => s.service))], ['rust-worker'], 'the example\'s own service name, not ""');
  } finally {
    await empty.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
