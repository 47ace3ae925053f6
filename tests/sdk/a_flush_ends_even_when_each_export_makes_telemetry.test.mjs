// Where there is no AsyncLocalStorage (a browser; here Node with `node:async_hooks` replaced by a
// module without it, before the SDK loads), the SDK cannot tell an export's own work after an
// `await` from the app's. An exporter `fetch` that awaits a token and then logs under
// `captureConsole` makes a log record per export. `flush()` still ends: it delivers what was
// queued when it was called, and the records the exports made go with the next export, not lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withoutAsyncLocalStorage } from '../support.mjs';

withoutAsyncLocalStorage();
const { diagnostics, flush, init, logger, startSpan } = await import('../../sdk/dist/node.js');

let exports = 0;
const spans = [];
const bodies = [];
const fetchWithToken = async (url, request) => {
  const n = ++exports;
  const doc = JSON.parse(Buffer.from(request.body).toString());
  for (const rs of doc.resourceSpans ?? []) for (const ss of rs.scopeSpans) spans.push(...ss.spans.map((s) => s.name));
  for (const rl of doc.resourceLogs ?? []) for (const sl of rl.scopeLogs) bodies.push(...sl.logRecords.map((r) => r.body?.stringValue));
  // A token from somewhere else first, then a line about the export: captured as a record.
  await new Promise((resolve) => setTimeout(resolve, 1));
  console.info(`export ${n} sent`);
  return new Response(null, { status: 200 });
};

const settles = (promise, ms) =>
  Promise.race([promise.then(() => 'settled'), new Promise((resolve) => setTimeout(resolve, ms, 'still pending'))]);

test('a flush ends when each export logs after an await, and what the exports logged goes with the next export', async () => {
  const info = console.info;
  console.info = () => {}; // keep the test's output clean; capture wraps this one
  try {
    init({
      serviceName: 'exports-that-log',
      fetch: fetchWithToken,
      protocol: 'http/json',
      compression: 'none',
      captureConsole: ['info'],
      scheduleDelayMillis: 60_000,
    });
    startSpan('work').end();
    logger.warn('before the flush');
    assert.equal(await settles(flush(), 2000), 'settled', `exports so far: ${exports}`);
    assert.ok(exports <= 2, `one export per signal, not one per export's own record: ${exports}`);
    assert.deepEqual(spans, ['work']);
    assert.ok(bodies.includes('before the flush'), `${bodies}`);
    // The records the exports made are queued, not lost: the next flush sends them.
    const made = exports;
    assert.equal(await settles(flush(), 2000), 'settled');
    for (let n = 1; n <= made; n++) assert.ok(bodies.includes(`export ${n} sent`), `export ${n}'s record: ${bodies}`);
    assert.equal(diagnostics().exportsFailed, 0);
  } finally {
    console.info = info;
  }
});
