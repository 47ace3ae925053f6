// Collapse and expand in the trace view: one subtree, all, and one level at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TraceView, smallTrace, tempFile } from './viewer_pages.mjs';
import { collectorAndBrowser } from './viewer_env.mjs';

const env = collectorAndBrowser();

test('subtrees, all and one level collapse and expand', async () => {
  const view = await (await TraceView.openFile(env.browser, env.collector, tempFile('small.json', smallTrace()))).ready();
  await view.toggle('payment');
  assert.deepEqual(await view.names(), ['GET /checkout', 'authenticate', 'SELECT users', 'payment']);
  assert.equal(await view.row('payment').locator('[data-testid=toggle]').getAttribute('aria-expanded'), 'false');
  await view.toggle('payment');
  assert.equal((await view.names()).length, 5);
  await view.click('collapse-all');
  assert.deepEqual(await view.names(), ['GET /checkout']);
  await view.click('expand-level');
  assert.deepEqual(await view.names(), ['GET /checkout', 'authenticate', 'payment']);
  await view.click('expand-level');
  assert.equal((await view.names()).length, 5);
  await view.click('collapse-level');
  assert.deepEqual(await view.names(), ['GET /checkout', 'authenticate', 'payment']);
  await view.click('expand-all');
  assert.equal((await view.names()).length, 5);
});
