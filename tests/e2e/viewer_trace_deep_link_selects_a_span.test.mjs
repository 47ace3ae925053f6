// /trace/{id}?span={spanId} opens the trace with that span selected, its details shown and its
// row in view; selecting another span puts that one in the address bar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../support.mjs';
import { SPAN, TRACE_ID, TraceView, collectorWithTrace, smallTrace } from './viewer_pages.mjs';

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
