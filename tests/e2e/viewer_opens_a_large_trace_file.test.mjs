// The viewer opens a 99,936-span trace file and keeps only the rows in view in the DOM.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium, startCollector } from '../support.mjs';
import { largeZipkinTrace } from './large_trace.mjs';

let collector, browser, dir, file;

before(async () => {
  collector = await startCollector();
  browser = await launchChromium();
  dir = mkdtempSync(join(tmpdir(), 'edgescope-large-'));
  file = join(dir, 'large-zipkin.json');
  writeFileSync(file, JSON.stringify(largeZipkinTrace(96)));
});

after(async () => {
  await browser?.close();
  await collector?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a 99,936-span file opens as a waterfall with only the visible rows in the DOM', async () => {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(`${collector.ui}/open`);
  await page.setInputFiles('[data-testid=file-input]', file);
  await page.waitForSelector('[data-testid=span-row]', { timeout: 60000 });
  assert.equal(await page.textContent('[data-testid=span-count]'), '99936');
  const inDom = await page.locator('[data-testid=span-row]').count();
  assert.ok(inDom > 10 && inDom < 120, `${inDom} rows in the DOM`);

  // Scrolling to the end renders the last rows, and still only a window of them.
  await page.$eval('[data-testid=waterfall]', (el) => el.scrollTo(0, el.scrollHeight));
  await page.waitForSelector('[data-testid=span-row][data-index="99935"]');
  assert.ok((await page.locator('[data-testid=span-row]').count()) < 120);
  assert.deepEqual(errors, []);
});

test('a file that is not a trace gets an error naming the file and the problem', async () => {
  const bad = join(dir, 'notes.json');
  writeFileSync(bad, '{"hello": "world"}');
  const page = await browser.newPage();
  await page.goto(`${collector.ui}/open`);
  await page.setInputFiles('[data-testid=file-input]', bad);
  const message = await page.textContent('[data-testid=error]');
  assert.match(message, /notes\.json is not a trace file/);
  assert.match(message, /resourceSpans/);
});
