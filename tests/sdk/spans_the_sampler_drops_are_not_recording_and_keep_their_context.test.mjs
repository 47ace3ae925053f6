// `isRecording()` says whether a span records, as OpenTelemetry JS's does: false for a span the
// sampler dropped (its context still goes to child spans, log records, links and outgoing
// headers, with the sampled flag off), true for a sampled one and, under `keepErrors`, for a
// dropped one the SDK still records in case its trace fails. On both span paths: recorded in
// JavaScript (Node's) and by the core (browsers, workerd; in Node a remote parent's and a tracer's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportSink } from '../support.mjs';
import { activeSpan, extract, flush, getTracer, init, inject, logger, startActiveSpan, startSpan } from '../../sdk/dist/node.js';

const { spans, logs, fetch: capture, clear } = exportSink();
const configure = (extra) => {
  clear();
  init({ serviceName: 'recording', fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 60_000, ...extra });
};

const starts = {
  'a root (recorded in JavaScript)': () => startSpan('root'),
  "a tracer's root (the core's)": () => getTracer('lib').startSpan('root'),
};

for (const [what, start] of Object.entries(starts)) {
  test(`always_off: ${what} is not recording, and its context still goes everywhere`, async () => {
    configure({ sampler: 'always_off' });
    const span = start();
    assert.equal(span.isRecording(), false);
    const { traceId, spanId, traceFlags } = span.spanContext();
    assert.match(traceId, /^[0-9a-f]{32}$/);
    assert.equal(traceFlags & 1, 0);
    const headers = {};
    startActiveSpan('outer', (outer) => {
      assert.equal(outer.isRecording(), false);
      assert.equal(activeSpan(), outer, 'still the active span');
      const child = startSpan('child');
      assert.equal(child.spanContext().traceId, outer.spanContext().traceId, 'a child of its trace');
      logger.info('inside');
      inject(headers);
      child.end();
    });
    assert.equal(parseInt(headers.traceparent.slice(-2), 16) & 1, 0, 'sent unsampled');
    span.end();
    await flush();
    assert.deepEqual(spans, [], 'nothing sampled');
    assert.equal(logs.length, 1);
    assert.match(logs[0].traceId, /^[0-9a-f]{32}$/, 'the record carries the trace');
    assert.ok(spanId);
  });
}

test('a remote parent decides: sampled children record, unsampled ones do not, and can be linked to', async () => {
  configure();
  const trace = '7e'.repeat(16);
  const sampled = startSpan('a', { parent: extract({ traceparent: `00-${trace}-${'7f'.repeat(8)}-01` }) });
  const unsampled = startSpan('b', { parent: extract({ traceparent: `00-${trace}-${'7f'.repeat(8)}-00` }) });
  assert.equal(sampled.isRecording(), true);
  assert.equal(unsampled.isRecording(), false);
  assert.equal(unsampled.spanContext().traceId, trace);
  const root = startSpan('root', { links: [{ context: unsampled }] });
  root.end();
  sampled.end();
  unsampled.end();
  assert.equal(sampled.isRecording(), false, 'ended');
  await flush();
  const exported = spans.find((x) => x.name === 'root');
  assert.deepEqual(exported.links.map((l) => l.spanId), [unsampled.spanContext().spanId]);
});

test('traceidratio: the spans that record are the spans exported', async () => {
  for (const [what, start] of Object.entries(starts)) {
    configure({ sampler: 'traceidratio', samplerArg: 0.25, maxQueueSize: 4096 });
    let recording = 0;
    for (let i = 0; i < 2000; i++) {
      const span = start();
      if (span.isRecording()) recording++;
      span.end();
    }
    await flush();
    assert.equal(recording, spans.length, what);
    assert.ok(recording > 300 && recording < 700, `${what}: ${recording} of 2000`);
  }
});

test('keepErrors: a dropped span is recorded in case its trace fails, so it is recording', () => {
  configure({ sampler: 'always_off', keepErrors: true });
  const span = startSpan('kept if it fails');
  assert.equal(span.isRecording(), true);
  assert.equal(span.spanContext().traceFlags & 1, 0);
  span.end();
});
