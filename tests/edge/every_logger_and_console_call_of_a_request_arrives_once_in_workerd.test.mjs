// In workerd the clock stands still within a request until it does I/O: a line logged ten times
// in a loop makes ten records equal in every field. Each is a call of its own and reaches the
// collector (which keeps equal records of one export, and drops only an export sent again), for
// the logger and console capture alike.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { getJson, startCollector, waitFor } from '../support.mjs';
import { startWorkerd } from './workerd.mjs';

let collector, worker;

before(async () => {
  collector = await startCollector();
  worker = await startWorkerd(fileURLToPath(new URL('./same_line_worker.js', import.meta.url)), { OTLP: collector.otlp }, ['nodejs_compat']);
});

after(async () => {
  await worker?.stop();
  await collector?.stop();
});

test('ten equal logger calls and ten equal console calls in one request arrive ten times each', async () => {
  const trace = '5a'.repeat(16);
  const response = await fetch(`${worker.url}/poll`, { headers: { traceparent: `00-${trace}-${'5b'.repeat(8)}-01` } });
  assert.equal(await response.text(), 'ok', worker.output());
  const records = await waitFor('the request\'s records', async () => {
    const doc = await getJson(`${collector.ui}/api/logs?trace_id=${trace}&limit=100`);
    const r = doc.result.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
    return r.length >= 20 && r;
  });
  const count = (body) => records.filter((r) => r.body.stringValue === body).length;
  assert.equal(count('retrying'), 10);
  assert.equal(count('polled {"attempt":"same"}'), 10);
  assert.equal(records.length, 20);
});
