// The viewer on a 99,936-span trace (the SmartThings fixture replicated 96 times with fresh
// ids), in headless Chromium: file chosen → first waterfall row painted, a page-down scroll,
// and the JS heap. Prints JSON. Needs a built viewer and collector (it serves the viewer).
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium, startCollector } from '../tests/support.mjs';
import { largeZipkinTrace } from '../tests/e2e/large_trace.mjs';

const dir = mkdtempSync(join(tmpdir(), 'edgescope-bench-'));
const file = join(dir, 'large.json');
writeFileSync(file, JSON.stringify(largeZipkinTrace(96)));
const collector = await startCollector();
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  await page.goto(`${collector.ui}/open`);
  const t0 = Date.now();
  await page.setInputFiles('[data-testid=file-input]', file);
  await page.waitForSelector('[data-testid=span-row]', { timeout: 120000 });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
  const firstPaint = Date.now() - t0;
  const scroll = await page.evaluate(async () => {
    const el = document.querySelector('[data-testid=waterfall]');
    const start = performance.now();
    el.scrollBy(0, el.clientHeight);
    el.dispatchEvent(new Event('scroll'));
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return performance.now() - start;
  });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  console.log(JSON.stringify({ bytes: statSync(file).size, firstPaintMs: firstPaint, pageDownMs: scroll, jsHeapBytes: usedSize }));
} finally {
  await browser.close();
  await collector.stop();
  rmSync(dir, { recursive: true, force: true });
}
