// Node runs one process for many requests: a handler `instrument`ed without `init` has the export
// timer on, as `init` does, so work that outlives its response (a timer's span and log record)
// leaves within `scheduleDelayMillis` rather than waiting for the next request's flush, which a
// quiet server may never get. (workerd and Vercel Edge isolates export from their requests'
// flushes only: tests/edge.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instrument, logger, startSpan } from '../../sdk/dist/node.js';
import { waitFor } from '../support.mjs';

const spans = [];
const bodies = [];
const capture = async (url, request) => {
  const doc = JSON.parse(Buffer.from(request.body).toString());
  for (const rs of doc.resourceSpans ?? []) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
  for (const rl of doc.resourceLogs ?? []) for (const sl of rl.scopeLogs) bodies.push(...sl.logRecords.map((r) => r.body?.stringValue));
  return new Response(null, { status: 200 });
};

test('work after the response leaves on the export timer when only instrument set the SDK up', async () => {
  let later;
  const handler = instrument(
    async () => {
      later = new Promise((resolve) =>
        setTimeout(() => {
          startSpan('refresh cache').end();
          logger.info('cache refreshed');
          resolve();
        }, 50),
      );
      return new Response('ok');
    },
    { serviceName: 'quiet-server', fetch: capture, protocol: 'http/json', compression: 'none' },
  );
  const response = await handler(new Request('http://127.0.0.1/items'));
  await response.text();
  await waitFor('the request span', () => spans.some((s) => s.kind === 2));
  await later;
  const { traceId } = spans.find((s) => s.kind === 2);
  // No request and no flush() from here on: the timer (1 s by default) sends them.
  const refreshed = await waitFor('the timer span', () => spans.find((s) => s.name === 'refresh cache'), 4000);
  assert.equal(refreshed.traceId, traceId, 'it continues the request trace');
  await waitFor('the timer log record', () => bodies.includes('cache refreshed'), 4000);
});
