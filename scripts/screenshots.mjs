// Regenerates the README screenshots in docs/screenshots/: starts a fresh collector and the
// demo on ephemeral ports, clicks through the demo, and photographs the viewer.
//   node scripts/screenshots.mjs        (after `bash scripts/build.sh`)
import { startDemo } from '../www/server.mjs';
import { launchChromium, root, startCollector, waitFor, getJson } from '../tests/support.mjs';

const collector = await startCollector();
const demo = await startDemo({ otlp: collector.otlp });
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 560 } });
  await page.goto(demo.url);
  for (let i = 0; i < 3; i++) {
    await page.click('#call');
    await page.waitForTimeout(200);
  }
  await waitFor('three traces', async () => (await getJson(`${collector.ui}/api/traces`)).traces.length >= 3);
  await page.screenshot({ path: `${root}/docs/screenshots/demo.png` });
  const viewer = await browser.newPage({ viewport: { width: 1100, height: 360 } });
  await viewer.goto(collector.ui);
  await viewer.waitForSelector('[data-testid=trace-row]');
  await viewer.screenshot({ path: `${root}/docs/screenshots/traces.png` });
  await viewer.click('[data-testid=trace-row] a');
  await viewer.waitForSelector('[data-testid=span-row]');
  await viewer.screenshot({ path: `${root}/docs/screenshots/trace.png` });
  await viewer.goto(`${collector.ui}/logs`);
  await viewer.waitForSelector('[data-testid=log-row]');
  await viewer.screenshot({ path: `${root}/docs/screenshots/logs.png` });
} finally {
  await browser.close();
  demo.server.close();
  await collector.stop();
}
