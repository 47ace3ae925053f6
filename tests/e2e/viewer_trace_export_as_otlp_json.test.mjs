// Export downloads the trace as OTLP/JSON that reads back as the same spans.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SPAN, TRACE_ID, TraceView, smallTrace, tempFile } from './viewer_pages.mjs';
import { collectorAndBrowser } from './viewer_env.mjs';

const env = collectorAndBrowser();

test('the export is OTLP/JSON with every span, resource and scope', async () => {
  const view = await (await TraceView.openFile(env.browser, env.collector, tempFile('small.json', smallTrace()))).ready();
  const [download] = await Promise.all([view.page.waitForEvent('download'), view.click('export')]);
  assert.equal(download.suggestedFilename(), `trace-${TRACE_ID}.json`);
  const doc = JSON.parse(readFileSync(await download.path(), 'utf8'));
  const spans = doc.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ ...s, rs, ss }))));
  assert.deepEqual(spans.map((s) => s.spanId).sort(), Object.values(SPAN).sort());
  assert.ok(spans.every((s) => s.traceId === TRACE_ID));
  const payment = spans.find((s) => s.spanId === SPAN.payment);
  assert.equal(payment.status.code, 2);
  assert.equal(payment.links[0].spanId, 'aaaaaaaaaaaaaaaa');
  assert.equal(payment.ss.scope.name, 'payments-lib');
  assert.equal(payment.rs.resource.attributes[0].value.stringValue, 'payments');
});
