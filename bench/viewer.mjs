// The viewer on a 99,936-span trace (the SmartThings fixture replicated 96 times with fresh
// ids), in headless Chromium: file chosen → first waterfall row painted, expand all, collapse
// all, a page-down scroll, one search keystroke, the JS heap and the wasm memory; and the
// viewer's download size (wasm + JS + CSS + HTML, gzip -9). Each interaction is timed from the
// event to the second animation frame after it (the frame that shows it). Prints JSON. Needs a
// built viewer and collector (it serves the viewer).
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { launchChromium, root, startCollector } from '../tests/support.mjs';
import { largeZipkinTrace } from '../tests/e2e/large_trace.mjs';

const dir = mkdtempSync(join(tmpdir(), 'edgescope-bench-'));
const file = join(dir, 'large.json');
writeFileSync(file, JSON.stringify(largeZipkinTrace(96)));
const dist = join(root, 'viewer', 'dist');
const gzipBytes = readdirSync(dist)
  .filter((f) => /\.(wasm|js|css|html)$/.test(f))
  .reduce((sum, f) => sum + gzipSync(readFileSync(join(dist, f)), { level: 9 }).length, 0);

const collector = await startCollector();
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  await page.goto(`${collector.ui}/open`);
  await page.waitForSelector('[data-testid=file-input]');
  const t0 = Date.now();
  await page.setInputFiles('[data-testid=file-input]', file);
  await page.waitForSelector('[data-testid=span-row]', { timeout: 120000 });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
  const firstPaint = Date.now() - t0;

  // Runs `act` in the page and resolves to the milliseconds until the second frame after it.
  const timed = (act) =>
    page.evaluate(async (source) => {
      const start = performance.now();
      // eslint-disable-next-line no-new-func
      new Function(source)();
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      return performance.now() - start;
    }, act);
  const click = (testid) => `document.querySelector('[data-testid=${testid}]').click()`;
  const collapseAll = await timed(click('collapse-all'));
  const expandAll = await timed(click('expand-all'));
  const pageDown = await timed(`const el = document.querySelector('[data-testid=waterfall]');
    el.scrollBy(0, el.clientHeight); el.dispatchEvent(new Event('scroll'));`);
  // Search as you type: "p", then "po" (which narrows the first keystroke's matches).
  const type = (value) => `const input = document.querySelector('[data-testid=trace-search]');
    input.value = ${JSON.stringify(value)}; input.dispatchEvent(new Event('input', { bubbles: true }));`;
  const firstKey = await timed(type('p'));
  const nextKey = await timed(type('po'));

  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  // The wasm module's linear memory: calling the glue's init again hands back the exports.
  const wasmBytes = await page.evaluate(async () => (await (await import('/viewer.js')).default()).memory.buffer.byteLength);
  console.log(JSON.stringify({
    bytes: statSync(file).size,
    firstPaintMs: firstPaint,
    collapseAllMs: collapseAll,
    expandAllMs: expandAll,
    pageDownMs: pageDown,
    searchFirstKeyMs: firstKey,
    searchNextKeyMs: nextKey,
    jsHeapBytes: usedSize,
    wasmMemoryBytes: wasmBytes,
    viewerGzipBytes: gzipBytes,
  }));
} finally {
  await browser.close();
  await collector.stop();
  rmSync(dir, { recursive: true, force: true });
}
