// /trace/{id}?span={spanId} opens the trace with that span selected, its details shown and its
// row in view; selecting another span puts that one in the address bar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../support.mjs';
import { SPAN, TRACE_ID, TraceView, collectorWithTrace, ingest, smallTrace } from './viewer_pages.mjs';

const env = collectorWithTrace(smallTrace());

test('a deep link selects its span and the address follows the selection', async () => {
  const view = await waitFor('the trace in the collector', async () => {
    const v = await TraceView.open(env.browser, env.collector, TRACE_ID, SPAN.charge);
    try {
      await v.details.waitFor({ timeout: 3000 });
      return v;
    } catch (e) {
      await v.page.close();
      throw e;
    }
  });
  assert.equal(await view.header('details-name'), 'charge card');
  assert.equal(await view.header('details-span-id'), SPAN.charge);
  assert.equal(await view.selectedName(), 'charge card');
  await view.select('authenticate');
  assert.equal(new URL(view.page.url()).searchParams.get('span'), SPAN.auth);
  assert.equal(new URL(view.page.url()).pathname, `/trace/${TRACE_ID}`);
});

test('a deep link takes a span id without its leading zeros or in capitals, and names a span the trace lacks', async () => {
  const T = '0af7651916cd43dd8448eb211c80319c';
  const spans = ['00000000000000a1', '0000d91fa2c88c04'].map((spanId, i) => ({
    traceId: T, spanId, ...(i ? { parentSpanId: '00000000000000a1' } : {}), name: `op ${i}`, kind: 2,
    startTimeUnixNano: String(1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n), endTimeUnixNano: '1700000000010000000',
  }));
  await ingest(env.collector, { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 's' } }] }, scopeSpans: [{ spans }] }] });
  for (const [span, name] of [['d91fa2c88c04', 'op 1'], ['0000D91FA2C88C04', 'op 1'], ['a1', 'op 0']]) {
    const view = await (await TraceView.open(env.browser, env.collector, T, span)).ready();
    await view.details.waitFor();
    assert.equal(await view.selectedName(), name, span);
    await view.page.close();
  }
  const view = await (await TraceView.open(env.browser, env.collector, T, 'ffffffffffffffff')).ready();
  assert.match(await view.page.textContent('[data-testid=span-not-found]'), /no span ffffffffffffffff/);
  assert.equal(await view.page.locator('[data-testid=span-row].selected').count(), 0);
  await view.page.close();
});
