// The trace view of a small file, opened by choosing it and by dropping it: the header's
// figures, rows indented by parent in depth-first order, error, skew and critical-path marks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TRACE_ID, TraceView, smallTrace, tempFile } from './viewer_pages.mjs';
import { collectorAndBrowser } from './viewer_env.mjs';

const env = collectorAndBrowser();

test('a chosen file shows the header, the rows in tree order and their marks', async () => {
  const view = await (await TraceView.openFile(env.browser, env.collector, tempFile('small.json', smallTrace()))).ready();
  assert.equal(await view.header('trace-id'), TRACE_ID);
  assert.equal(await view.header('span-count'), '5');
  assert.equal(await view.header('trace-depth'), '3');
  assert.equal(await view.header('trace-errors'), '1');
  assert.equal(await view.header('trace-duration'), '100.0 ms');
  assert.match(await view.header('trace-services'), /web.*auth.*payments/);
  assert.deepEqual(await view.names(), ['GET /checkout', 'authenticate', 'SELECT users', 'payment', 'charge card']);
  const depths = await view.page.$$eval('[data-testid=span-row]', (rows) => rows.map((r) => r.dataset.depth));
  assert.deepEqual(depths, ['0', '1', '2', '1', '2']);
  assert.equal(await view.row('payment').locator('[data-testid=error-mark]').count(), 1);
  assert.equal(await view.row('charge card').locator('[data-testid=skew-mark]').count(), 1);
  assert.equal(await view.page.locator('[data-testid=skew-mark]').count(), 1);
  const critical = await view.page.$$eval('[data-testid=span-row].critical [data-testid=span-name]', (els) => els.map((e) => e.textContent));
  assert.deepEqual(critical, ['GET /checkout', 'payment', 'charge card']);
  assert.equal(await view.row('payment').locator('[data-testid=event-tick]').count(), 1);
  assert.equal(await view.page.locator('[data-testid=ruler] .tick').count(), 5);
});

test('a dropped file opens the same way', async () => {
  const page = await env.browser.newPage();
  await page.goto(`${env.collector.ui}/open`);
  await page.waitForSelector('[data-testid=drop-zone]');
  const text = readFileSync(tempFile('small.json', smallTrace()), 'utf8');
  await page.evaluate((content) => {
    const dt = new DataTransfer();
    dt.items.add(new File([content], 'dropped.json', { type: 'application/json' }));
    document.querySelector('[data-testid=drop-zone]').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, text);
  const view = await new TraceView(page).ready();
  assert.equal(await view.header('span-count'), '5');
});

test('the minimap zooms the waterfall to a dragged time range, and Reset zoom undoes it', async () => {
  const view = await (await TraceView.openFile(env.browser, env.collector, tempFile('small.json', smallTrace()))).ready();
  const bar = () => view.row('payment').locator('.span-bar').evaluate((el) => el.style.left);
  const before = await bar();
  const box = await view.page.locator('[data-testid=minimap]').boundingBox();
  await view.page.mouse.move(box.x + box.width * 0.2, box.y + 10);
  await view.page.mouse.down();
  await view.page.mouse.move(box.x + box.width * 0.6, box.y + 10);
  await view.page.mouse.up();
  assert.notEqual(await bar(), before);
  assert.ok(await view.page.isEnabled('[data-testid=reset-zoom]'));
  await view.click('reset-zoom');
  assert.equal(await bar(), before);
  // To the end of the trace: let go past the strip's right edge, and below it.
  const zoom = () => view.page.locator('[data-testid=minimap-zoom]').getAttribute('style');
  for (const [x, y] of [[box.x + box.width + 40, box.y + 10], [box.x + box.width * 0.9, box.y + box.height + 30]]) {
    await view.page.mouse.move(box.x + box.width * 0.6, box.y + 10);
    await view.page.mouse.down();
    await view.page.mouse.move(x, y, { steps: 4 });
    await view.page.mouse.up();
    const [, left, width] = (await zoom()).match(/left:([\d.]+)%;width:([\d.]+)%/).map(Number);
    assert.ok(Math.abs(left - 60) < 1.5, `zoomed from 60 %: ${await zoom()}`);
    assert.ok(Math.abs(left + width - (x > box.x + box.width ? 100 : 90)) < 1.5, `zoomed to where it was let go: ${await zoom()}`);
    await view.click('reset-zoom');
  }
});
