// `instrument` on the handler shapes workerd accepts besides an object literal, in real workerd:
// a class instance keeps its prototype's methods (scheduled, queue) and one `this`; a
// WorkerEntrypoint class stays a class; the scheduled and queue events are set up and flushed as
// fetch is, with a span each; a Durable Object class keeps its state, and work a class hands to
// this.ctx.waitUntil is followed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { attr, getJson, serviceSpans, startCollector, waitFor } from '../support.mjs';
import { startWorkers } from './workerd.mjs';

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
let collector, workers, upstream;
const calls = [];

before(async () => {
  collector = await startCollector();
  upstream = createServer((req, res) => {
    calls.push({ url: req.url, headers: req.headers });
    res.end('ok');
  });
  await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
  const env = (service) => ({ OTEL_SERVICE_NAME: service, OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlp, UPSTREAM: `http://127.0.0.1:${upstream.address().port}` });
  workers = await startWorkers([
    { name: 'caller', main: here('./handlers/caller.js'), services: { INSTANCE: 'instance', ENTRYPOINT: 'entrypoint', LITERAL: 'literal', DURABLE: 'durable' } },
    { name: 'literal', main: here('./handlers/object_state.js'), bindings: env('literal') },
    { name: 'instance', main: here('./handlers/class_instance.js'), bindings: env('class-instance') },
    { name: 'entrypoint', main: here('./handlers/entrypoint.js'), bindings: env('entrypoint') },
    { name: 'durable', main: here('./handlers/durable_object.js'), bindings: env('durable'), durableObjects: { COUNTER: 'Counter' } },
  ]);
});

after(async () => {
  await workers?.stop();
  upstream?.close();
  await collector?.stop();
});

const call = async (query) => (await fetch(`${workers.url}/?${query}`)).json();

test("a class instance keeps its prototype's scheduled and queue, and one `this` for every method", async () => {
  const out = await call('t=INSTANCE&k=scheduled,queue,fetch');
  assert.deepEqual(out, { scheduled: 'ok', queue: 'ok', fetch: '200 events=2' }, workers.output());
});

test("an object literal's methods share `this`: what scheduled keeps there, fetch sees", async () => {
  await call('t=LITERAL&k=scheduled');
  assert.deepEqual(await call('t=LITERAL&k=scheduled,fetch'), { scheduled: 'ok', fetch: '200 hits=2' });
});

test('instrument(class extends WorkerEntrypoint) gives workerd a class whose fetch is traced', async () => {
  const out = await call('t=ENTRYPOINT&k=fetch');
  assert.deepEqual(out, { fetch: '200 entrypoint / entrypoint' }, workers.output());
  const spans = await waitFor('the entrypoint SERVER span', async () => {
    const s = await serviceSpans(collector, 'entrypoint');
    return s.length > 0 && s;
  });
  assert.equal(spans[0].name, 'GET');
  assert.equal(spans[0].kind, 2, 'SERVER');
});

test("work a class hands to this.ctx.waitUntil is exported when it is done, with no other request to carry it", async () => {
  calls.length = 0;
  assert.deepEqual(await call('t=ENTRYPOINT&k=fetch&p=/background'), { fetch: '202 accepted' });
  const out = await waitFor('the background call', () => calls.find((c) => c.url === '/from-background'));
  const traceId = out.headers.traceparent.split('-')[1];
  // No other request reaches the entrypoint: the request's flush follows its waitUntil work.
  const spans = await waitFor('the background client span', async () => {
    const s = (await serviceSpans(collector, 'entrypoint')).filter((x) => x.traceId === traceId);
    return s.some((x) => x.kind === 3) && s;
  });
  const server = spans.find((s) => s.kind === 2);
  assert.equal(spans.find((s) => s.kind === 3).parentSpanId, server.spanId);
  const logs = await waitFor('the background log record', async () => {
    const doc = await getJson(`${collector.ui}/api/logs?trace_id=${traceId}`);
    const records = doc.result.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
    return records.length > 0 && records;
  });
  assert.match(JSON.stringify(logs[0].body), /entrypoint background work/);
});

test('instrument(class extends DurableObject) traces fetch with the runtime\'s state intact', async () => {
  const first = await call('t=DURABLE&k=fetch&p=/count?name=a');
  const second = await call('t=DURABLE&k=fetch&p=/count?name=a');
  const other = await call('t=DURABLE&k=fetch&p=/count?name=b');
  const [n1, n2, n3] = [first, second, other].map((o) => JSON.parse(o.fetch.replace(/^200 /, '')));
  assert.deepEqual([n1.n, n2.n, n3.n], [1, 2, 1], 'storage reached through this.ctx counts per object');
  assert.equal(n1.id, n2.id);
  assert.notEqual(n1.id, n3.id);
  const spans = await waitFor('the Durable Object SERVER spans', async () => {
    const s = (await serviceSpans(collector, 'durable')).filter((x) => x.kind === 2);
    return s.length >= 3 && s;
  });
  assert.ok(spans.every((s) => s.name === 'GET' && attr(s, 'url.path') === '/count'));
  const counted = await waitFor('the log records', async () => {
    const doc = await getJson(`${collector.ui}/api/logs?service=durable`);
    const records = doc.result.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
    return records.length >= 3 && records;
  });
  assert.ok(counted.every((r) => spans.some((s) => s.spanId === r.spanId)), 'each record in its request\'s span');
});

test('a scheduled event exports its span, its logs and its spans, and its outgoing call carries its trace', async () => {
  calls.length = 0;
  await call('t=INSTANCE&k=scheduled');
  const out = calls.find((c) => c.url === '/from-scheduled');
  assert.ok(out, 'the upstream was called');
  const traceId = out.headers.traceparent.split('-')[1];
  // No fetch reaches this worker after the event: the event's own flush exports.
  const spans = await waitFor('the scheduled span and its child', async () => {
    const s = (await serviceSpans(collector, 'class-instance')).filter((x) => x.traceId === traceId);
    return s.some((x) => x.name === 'scheduled') && s.some((x) => x.name === 'nightly-job') && s;
  });
  const scheduled = spans.find((s) => s.name === 'scheduled');
  assert.equal(scheduled.kind, 2, 'SERVER');
  assert.equal(attr(scheduled, 'faas.trigger'), 'timer');
  assert.equal(attr(scheduled, 'faas.cron'), '*/5 * * * *');
  assert.equal(spans.find((s) => s.name === 'nightly-job').parentSpanId, scheduled.spanId);
  const logs = await waitFor('the scheduled log record', async () => {
    const doc = await getJson(`${collector.ui}/api/logs?trace_id=${traceId}`);
    const records = doc.result.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
    return records.length > 0 && records;
  });
  assert.equal(logs[0].body.stringValue, 'from scheduled');
  assert.equal(logs[0].spanId, scheduled.spanId);
});

test('a queue batch gets a consumer span with its queue and batch size', async () => {
  const spans = await waitFor('the queue span', async () => {
    const s = await serviceSpans(collector, 'class-instance');
    return s.find((x) => x.name === 'process jobs');
  });
  assert.equal(spans.kind, 5, 'CONSUMER');
  assert.equal(attr(spans, 'messaging.destination.name'), 'jobs');
  assert.equal(Number(attr(spans, 'messaging.batch.message_count')), 1);
});
