// Keys in the trace view: ↓/↑ move between spans, ← collapses (then goes to the parent),
// → expands (then goes to the first child), / focuses the search box; from a span a collapse has
// hidden, ↓/↑ go on from its visible ancestor; a history call the browser refuses changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { root, waitFor } from '../support.mjs';
import { SPAN, TRACE_ID, TraceView, ingest, smallTrace, tempFile } from './viewer_pages.mjs';
import { collectorAndBrowser } from './viewer_env.mjs';

const env = collectorAndBrowser();

test('arrow keys move, collapse and expand; slash goes to the search box', async () => {
  const view = await (await TraceView.openFile(env.browser, env.collector, tempFile('small.json', smallTrace()))).ready();
  await view.page.click('[data-testid=trace-header]');
  await view.press('ArrowDown');
  assert.equal(await view.selectedName(), 'GET /checkout');
  await view.press('ArrowDown', 'ArrowDown');
  assert.equal(await view.selectedName(), 'SELECT users');
  await view.press('ArrowUp');
  assert.equal(await view.selectedName(), 'authenticate');
  await view.press('ArrowLeft');
  assert.deepEqual(await view.names(), ['GET /checkout', 'authenticate', 'payment', 'charge card']);
  await view.press('ArrowLeft');
  assert.equal(await view.selectedName(), 'GET /checkout');
  await view.press('ArrowDown', 'ArrowRight');
  assert.equal((await view.names()).length, 5);
  await view.press('ArrowRight');
  assert.equal(await view.selectedName(), 'SELECT users');
  assert.equal(await view.header('details-name'), 'SELECT users');
  await view.press('/');
  assert.equal(await view.page.evaluate(() => document.activeElement.dataset.testid), 'trace-search');
  await view.page.keyboard.type('pay');
  assert.equal(await view.search.inputValue(), 'pay');
});

test('the arrow keys move on from a selected span that a collapse has hidden', async () => {
  const view = await (await TraceView.openFile(env.browser, env.collector, tempFile('small.json', smallTrace()))).ready();
  await view.select('SELECT users');
  await view.toggle('authenticate');
  assert.equal((await view.names()).includes('SELECT users'), false);
  // Down goes to the row after the collapsed ancestor that stands for it (it went to the top).
  await view.press('ArrowDown');
  assert.equal(await view.selectedName(), 'payment');
  // Up goes to that ancestor.
  await view.toggle('authenticate');
  await view.select('SELECT users');
  await view.toggle('authenticate');
  await view.press('ArrowUp');
  assert.equal(await view.selectedName(), 'authenticate');
  await view.page.close();
});

test('a refused history call (Firefox and Safari limit them) leaves the page and the selection as they are', async () => {
  await ingest(env.collector, smallTrace());
  const view = await waitFor('the trace in the collector', async () => {
    const v = await TraceView.open(env.browser, env.collector, TRACE_ID);
    try {
      return await v.ready();
    } catch (e) {
      await v.page.close();
      throw e;
    }
  });
  await view.page.evaluate(() => {
    window.notReloaded = true;
    history.replaceState = () => {
      throw new DOMException('Too many calls to Location or History APIs within a short timeframe.', 'SecurityError');
    };
  });
  await view.page.click('[data-testid=trace-header]');
  await view.press('ArrowDown', 'ArrowDown');
  assert.equal(await view.selectedName(), 'authenticate');
  assert.equal(await view.page.evaluate(() => window.notReloaded), true);
  await view.page.close();
});

test('the span the arrow keys select is always in the window, though the waterfall reaches below it', async () => {
  // 175 spans: the waterfall, under the header and the toolbar, is taller than what is left of the window.
  const file = join(root, '..', 'shared', 'fixtures', 'zipkin-lens-smartthings-oauth-authorization.json');
  const view = await (await TraceView.openFile(env.browser, env.collector, file)).ready();
  await view.rows.first().locator('[data-testid=span-name]').click();
  const offScreen = [];
  for (const key of [...Array(40).fill('ArrowDown'), ...Array(40).fill('ArrowUp')]) {
    await view.press(key);
    const r = await view.page.$eval('[data-testid=span-row].selected', (e) => ({ key: '', index: e.dataset.index, top: e.getBoundingClientRect().top, bottom: e.getBoundingClientRect().bottom, window: innerHeight }));
    if (r.bottom > r.window || r.top < 0) offScreen.push({ ...r, key });
  }
  assert.deepEqual(offScreen, []);
  await view.page.close();
});

test('Escape closes the details and takes the span out of the address, so a reload selects none', async () => {
  await ingest(env.collector, smallTrace());
  const view = await waitFor('the trace in the collector', async () => {
    const v = await TraceView.open(env.browser, env.collector, TRACE_ID, SPAN.payment);
    try {
      return await v.ready();
    } catch (e) {
      await v.page.close();
      throw e;
    }
  });
  await view.page.waitForSelector('[data-testid=span-details]');
  assert.equal(await view.selectedName(), 'payment');
  await view.page.click('[data-testid=trace-header]');
  await view.press('Escape');
  await view.page.waitForSelector('[data-testid=span-details]', { state: 'detached' });
  await view.page.waitForFunction(() => !location.search.includes('span='));
  assert.equal(view.page.url(), `${env.collector.ui}/trace/${TRACE_ID}`, 'no dangling ?');
  await view.page.reload();
  await view.ready();
  assert.equal(await view.page.locator('[data-testid=span-row].selected').count(), 0);
  await view.page.close();
});

test('an address whose trace id is none shows one error, and asks for no logs', async () => {
  // The all-zero id is W3C Trace Context's invalid one: none either, in any length.
  for (const id of ['nothex', '0', '00000000000000000000000000000000']) {
    const page = await env.browser.newPage();
    const asked = [];
    page.on('request', (r) => asked.push(new URL(r.url()).pathname));
    await page.goto(`${env.collector.ui}/trace/${id}`);
    await page.waitForSelector('[data-testid=error]');
    assert.match(await page.textContent('[data-testid=error]'), new RegExp(`\`${id}\` is not a trace id`));
    assert.equal(await page.locator('[data-testid=error]').count(), 1, id);
    assert.equal(await page.locator('[data-testid=trace-logs]').isVisible(), false, id);
    assert.deepEqual(asked.filter((p) => p.startsWith('/api/') || p.startsWith('/loki/')), [], id);
    await page.close();
  }
});
