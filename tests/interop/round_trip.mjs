// The tests each interop file runs: a real collector on 127.0.0.1, one real SDK exporting into
// it, then every span and log record the SDK held is looked up through the query API and must
// be equal, field by field, to the SDK's own record of it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getJson, startCollector } from '../support.mjs';
import { answeredJaeger, expectedJaeger } from './jaeger_model.mjs';
import { storedLogs, storedSpans } from './view.mjs';

function assertSameRecords(stored, expected, key, what) {
  assert.deepStrictEqual(stored.map(key), expected.map(key), `the ${what} the collector returns`);
  for (const [i, record] of expected.entries()) {
    assert.deepStrictEqual(stored[i], record, `${what} ${key(record)}`);
  }
}

/**
 * Registers the round-trip tests as the suite `title`. `exportAll(otlp)` makes the SDK export to `otlp` and resolves
 * to `{ traceId, spans, logs, results }`: the SDK's own records in the view of view.mjs and the
 * results of its exports (`SUCCESS`, or JS's `{ code: 0 }`).
 */
export function roundTrip(title, exportAll) {
  describe(title, () => tests(exportAll));
}

function tests(exportAll) {
  let collector;
  let sdk;
  before(async () => {
    collector = await startCollector();
    sdk = await exportAll(collector.otlp);
  }, { timeout: 90000 });
  after(() => collector?.stop());

  test('the collector acknowledges every export of spans and of log records', () => {
    const ok = sdk.results.map((r) => r === 'SUCCESS' || r?.code === 0);
    assert.deepStrictEqual(ok, [true, true], `export results: ${JSON.stringify(sdk.results)}`);
    assert.equal(sdk.spans.length, 2);
    assert.equal(sdk.logs.length, 3);
  });

  test('the trace comes back from /api/v3/traces/{id} with every span as the SDK recorded it', async () => {
    const stored = await storedSpans(collector, sdk.traceId);
    assertSameRecords(stored, sdk.spans, (s) => s.name, 'span');
  });

  test('the trace comes back from /jaeger/api/traces/{id} in the Jaeger model, as OpenTelemetry maps it', async () => {
    const doc = await getJson(`${collector.ui}/jaeger/api/traces/${sdk.traceId}`);
    assert.equal(doc.errors, null);
    assert.equal(doc.data.length, 1);
    const trace = doc.data[0];
    const answered = new Map(trace.spans.map((s) => [s.spanID, answeredJaeger(s, trace.processes)]));
    assert.deepStrictEqual([...answered.keys()].sort(), sdk.spans.map((s) => s.spanId).sort());
    for (const span of sdk.spans) assert.deepStrictEqual(answered.get(span.spanId), expectedJaeger(span), span.name);
  });

  test('the log records of the trace come back from /api/logs?trace_id= as the SDK recorded them', async () => {
    const stored = await storedLogs(collector, sdk.traceId);
    assertSameRecords(stored, sdk.logs.filter((l) => l.traceId === sdk.traceId), (l) => l.severityText, 'log record');
  });

  test('every log record, also one outside any trace, comes back from /api/logs', async () => {
    assertSameRecords(await storedLogs(collector), sdk.logs, (l) => l.severityText, 'log record');
  });

  test('the schema URLs of resources and scopes come back', async () => {
    const urls = (records) => records.map((r) => [r.resource.schemaUrl, r.scope.schemaUrl]);
    assert.deepStrictEqual(urls(await storedSpans(collector, sdk.traceId)), urls(sdk.spans));
    assert.deepStrictEqual(urls(await storedLogs(collector)), urls(sdk.logs));
  });
}
