// Regenerates the README screenshots in docs/screenshots/: starts a fresh collector, the to-do
// demo (page and workers) on ephemeral ports, clicks through the demo (adds, completes, one slow
// and one failing change), and photographs the page and the viewer.
//   node scripts/screenshots.mjs        (after `bash scripts/build.sh`)
import { root, waitFor, getJson } from '../tests/support.mjs';
import { TodoPage, startTodoStack } from '../tests/e2e/todo_demo.mjs';

const stack = await startTodoStack();
const { collector, demo, browser } = stack;
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 980 } });
  const todo = await new TodoPage(page).open(demo.url);
  for (const title of ['Buy oat milk', 'Water the plants', 'Book the dentist']) await todo.add(title);
  await todo.complete('Buy oat milk');
  await todo.setFault('slow');
  const slow = await todo.complete('Water the plants');
  await todo.setFault('fail');
  await todo.add('Renew the passport');
  await page.locator('#new-title').blur();
  await waitFor('every trace', async () => (await getJson(`${collector.ui}/api/traces`)).traces.length >= 8);
  await waitFor('all three services in the slow trace', async () => {
    const trace = await getJson(`${collector.ui}/api/v3/traces/${slow.traceId}`).catch(() => null);
    return trace?.result.resourceSpans.length === 3;
  });
  await page.screenshot({ path: `${root}/docs/screenshots/demo.png` });

  const viewer = await browser.newPage({ viewport: { width: 1100, height: 400 } });
  await viewer.goto(collector.ui);
  await viewer.waitForSelector('[data-testid=trace-row]');
  await viewer.screenshot({ path: `${root}/docs/screenshots/traces.png` });
  await viewer.setViewportSize({ width: 1100, height: 440 });
  await viewer.goto(`${collector.ui}/trace/${slow.traceId}`);
  await viewer.waitForSelector('[data-testid=span-row]');
  await viewer.waitForSelector('[data-testid=trace-logs] [data-testid=log-row]');
  await viewer.screenshot({ path: `${root}/docs/screenshots/trace.png` });
  await viewer.goto(`${collector.ui}/logs`);
  await viewer.waitForSelector('[data-testid=log-row]');
  await viewer.screenshot({ path: `${root}/docs/screenshots/logs.png` });
} finally {
  await stack.stop();
}
