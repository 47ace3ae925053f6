// The viewer routes on the client: a click on a link within the app changes the page without
// reloading it (a value set on `window` survives), the navigation marks the current page, and
// back and forward return to the page and query they left; a link to a path the viewer does not
// route loads it from the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../support.mjs';
import { TRACE_ID, collectorWithTrace, smallTrace } from './viewer_pages.mjs';

const env = collectorWithTrace(smallTrace());

test('links, back and forward change pages without a reload', async () => {
  const page = await env.browser.newPage();
  // A trace page first (the trace's log link leads on), with a marker that a page load would lose.
  await waitFor('the trace in the collector', async () => {
    await page.goto(`${env.collector.ui}/trace/${TRACE_ID}`);
    await page.locator('[data-testid=span-row]').first().waitFor({ timeout: 3000 });
    return true;
  });
  await page.evaluate(() => (window.__sameDocument = true));
  const current = () => page.locator('nav a[aria-current="page"]').allTextContents();
  assert.deepEqual(await current(), [], 'no navigation entry is the trace page');

  await page.locator('nav a', { hasText: 'Search' }).click();
  await page.waitForURL((url) => url.pathname === '/');
  await page.locator('[data-testid=lookback]').selectOption('6h');
  await page.locator('[data-testid=search]').click();
  await page.waitForURL((url) => url.searchParams.get('lookback') === '6h');
  assert.deepEqual(await current(), ['Search']);

  await page.locator('nav a', { hasText: 'Logs' }).click();
  // The header's links keep the sources in use (here the collector's) in the address.
  await page.waitForURL((url) => url.pathname === '/logs' && url.searchParams.get('logs') === 'collector:');
  assert.deepEqual(await current(), ['Logs']);

  // Back to the search with its query, back again to the trace, then forward.
  await page.goBack();
  await page.waitForURL((url) => url.pathname === '/' && url.searchParams.get('lookback') === '6h');
  assert.equal(await page.locator('[data-testid=lookback]').inputValue(), '6h', 'the form reads the query');
  await page.goBack();
  await page.waitForURL((url) => url.pathname === '/' && !url.searchParams.has('lookback'));
  await page.goBack();
  await page.waitForURL(`**/trace/${TRACE_ID}`);
  await page.locator('[data-testid=span-row]').first().waitFor();
  await page.goForward();
  await page.waitForURL((url) => url.pathname === '/');
  assert.deepEqual(await current(), ['Search']);
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no page load happened');

  // A link to a path the viewer does not route (the collector's own /health) loads it.
  await page.evaluate(() => {
    const a = document.createElement('a');
    a.href = '/health';
    a.textContent = 'health';
    a.id = 'server-link';
    document.body.append(a);
  });
  await page.locator('#server-link').click();
  await page.waitForURL('**/health');
  assert.equal((await page.textContent('body')).trim(), 'ok');

  await page.goto(`${env.collector.ui}/no/such/page`);
  await page.getByText('No such page.').waitFor();
  await page.close();
});
