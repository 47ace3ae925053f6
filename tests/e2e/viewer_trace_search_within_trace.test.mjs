// Search within a trace: by span name, service, attribute key or value; matches highlighted,
// counted, and with "matches only" the only rows shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TraceView, smallTrace, tempFile } from './viewer_pages.mjs';
import { collectorAndBrowser } from './viewer_env.mjs';

const env = collectorAndBrowser();

const matched = (view) => view.page.$$eval('[data-testid=span-row].match [data-testid=span-name]', (els) => els.map((e) => e.textContent));

test('search highlights by name, service, attribute key and value; matches only filters', async () => {
  const view = await (await TraceView.openFile(env.browser, env.collector, tempFile('small.json', smallTrace()))).ready();
  await view.search.fill('PAYMENTS');
  assert.deepEqual(await matched(view), ['payment', 'charge card']);
  assert.equal(await view.header('match-count'), '2 matching');
  await view.search.fill('u-42');
  assert.deepEqual(await matched(view), ['authenticate']);
  await view.search.fill('db.stat');
  assert.deepEqual(await matched(view), ['SELECT users']);
  await view.search.fill('c');
  // payment by its status message, "card declined".
  assert.deepEqual(await matched(view), ['GET /checkout', 'authenticate', 'SELECT users', 'payment', 'charge card']);
  await view.search.fill('ch');
  assert.deepEqual(await matched(view), ['GET /checkout', 'charge card']);
  await view.page.check('[data-testid=matches-only]');
  assert.deepEqual(await view.names(), ['GET /checkout', 'charge card']);
  await view.search.fill('');
  assert.deepEqual(await matched(view), []);
  assert.equal((await view.names()).length, 5);
});

test('a query finds the same spans however it was typed, also after an exclusion', async () => {
  const view = await (await TraceView.openFile(env.browser, env.collector, tempFile('small.json', smallTrace()))).ready();
  // `-42` leaves out attributes and matches nothing; `u` typed in front makes `u-42`.
  await view.search.fill('-42');
  assert.equal(await view.header('match-count'), '0 matching');
  await view.search.fill('u-42');
  assert.deepEqual(await matched(view), ['authenticate']);
  await view.page.close();
});

test('Enter in the search box selects the next match', async () => {
  const view = await (await TraceView.openFile(env.browser, env.collector, tempFile('small.json', smallTrace()))).ready();
  await view.search.fill('payments');
  await view.search.press('Enter');
  assert.equal(await view.selectedName(), 'payment');
  await view.search.press('Enter');
  assert.equal(await view.selectedName(), 'charge card');
});

test('with matches only, Collapse all leaves the collapsed spans that hold matches, not an empty waterfall', async () => {
  const view = await (await TraceView.openFile(env.browser, env.collector, tempFile('small.json', smallTrace()))).ready();
  await view.search.fill('charge');
  await view.page.check('[data-testid=matches-only]');
  assert.deepEqual(await view.names(), ['charge card']);
  await view.click('collapse-all');
  assert.deepEqual(await view.names(), ['GET /checkout'], 'the root stands for the match it hides');
  await view.click('expand-all');
  assert.deepEqual(await view.names(), ['charge card']);
  await view.page.close();
});

test('search finds what Jaeger UI finds by the tags Jaeger derives: the status message, error, the kind', async () => {
  const view = await (await TraceView.openFile(env.browser, env.collector, tempFile('small.json', smallTrace()))).ready();
  // payment has the status ERROR "card declined"; SELECT users is a CLIENT span, the others SERVER spans.
  await view.search.fill('Declined');
  assert.deepEqual(await matched(view), ['payment']);
  await view.search.fill('error');
  assert.deepEqual(await matched(view), ['payment']);
  assert.equal(await view.header('match-count'), '1 matching');
  await view.search.fill('client');
  assert.deepEqual(await matched(view), ['SELECT users']);
  await view.search.fill('server');
  assert.deepEqual(await matched(view), ['GET /checkout', 'authenticate', 'payment', 'charge card']);
  // `-key` leaves them out by the key of Jaeger's tag, as it does attributes.
  await view.search.fill('declined -otel.status_description');
  assert.deepEqual(await matched(view), []);
  await view.page.close();
});
