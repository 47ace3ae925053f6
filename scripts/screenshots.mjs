// Regenerates the README screenshots in docs/screenshots/: starts a fresh collector, the to-do
// demo (page and workers) on ephemeral ports, clicks through the demo (adds, completes, one slow
// and one failing change), and photographs the page and the viewer.
//   node scripts/screenshots.mjs          (after `bash scripts/build.sh`)
//   node scripts/screenshots.mjs --logs   only the log stream (logs.png), from a collector seeded
//                                         with an hour of the demo's kind of logs: needs the
//                                         viewer and the collector built, not the SDK or workerd
import { root, waitFor, getJson, startCollector, launchChromium } from '../tests/support.mjs';

/** Photographs the log stream of the collector at `ui`. */
async function logsShot(browser, ui) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 640 } });
  await page.goto(`${ui}/logs`);
  await page.waitForSelector('[data-testid=log-row]');
  await page.waitForSelector('[data-testid=match-count][data-loading=false]');
  await page.screenshot({ path: `${root}/docs/screenshots/logs.png` });
  await page.close();
}

/** An hour of logs as the demo's three services write them, as OTLP/JSON. */
function demoLogs(now = Date.now()) {
  const lines = [
    ['todo-web', 9, 'to-do added'], ['todo-api', 9, 'to-do stored'], ['todo-audit', 9, 'audit: add'],
    ['todo-web', 9, 'to-do completed'], ['todo-api', 9, 'to-do completed'], ['todo-audit', 9, 'audit: complete'],
    ['todo-api', 5, 'cache miss for the to-do list, reading the store'], ['todo-web', 13, 'slow response from /api/todos (1.8 s)'],
    ['todo-audit', 17, 'audit event not stored'], ['todo-api', 17, 'change not applied: the audit service failed'],
    ['todo-web', 17, 'add to-do failed: the audit service answered 503: the audit store is unavailable'],
  ];
  const byService = new Map();
  for (let i = 0; i < 600; i++) {
    // Busier towards the end of the hour, with a burst of errors 20 minutes ago.
    const msAgo = Math.floor(3_540_000 * (1 - Math.sqrt(i / 600))) + 1000;
    const burst = msAgo > 1_100_000 && msAgo < 1_300_000;
    const [service, severityNumber, body] = lines[burst ? 8 + (i % 3) : i % 8];
    const hex = (n) => ((0x9e3779b97f4a7c15n * n) & 0xffffffffffffffffn).toString(16).padStart(16, '0');
    const traceId = hex(BigInt(Math.floor(i / 3) + 1)) + hex(BigInt(Math.floor(i / 3) + 1000));
    if (!byService.has(service)) byService.set(service, []);
    byService.get(service).push({
      timeUnixNano: String(BigInt(now - msAgo) * 1000000n),
      severityNumber,
      body: { stringValue: body },
      attributes: [{ key: 'http.route', value: { stringValue: '/api/todos' } }],
      traceId,
      spanId: traceId.slice(0, 16),
    });
  }
  return {
    resourceLogs: [...byService].map(([service, logRecords]) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeLogs: [{ scope: { name: 'demo' }, logRecords }],
    })),
  };
}

if (process.argv.includes('--logs')) {
  const collector = await startCollector();
  const browser = await launchChromium();
  try {
    const response = await fetch(`${collector.otlp}/v1/logs`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(demoLogs()),
    });
    if (response.status !== 200) throw new Error(`seeding the collector: ${response.status} ${await response.text()}`);
    await logsShot(browser, collector.ui);
  } finally {
    await browser.close();
    await collector.stop();
  }
  process.exit(0);
}

const { TodoPage, startTodoStack } = await import('../tests/e2e/todo_demo.mjs');
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

  const viewer = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  await viewer.goto(collector.ui);
  await viewer.waitForSelector('[data-testid=trace-row]');
  await viewer.screenshot({ path: `${root}/docs/screenshots/traces.png` });
  await viewer.setViewportSize({ width: 1100, height: 600 });
  await viewer.goto(`${collector.ui}/trace/${slow.traceId}`);
  await viewer.waitForSelector('[data-testid=span-row]');
  await viewer.waitForSelector('[data-testid=trace-logs] [data-testid=log-row]');
  await viewer.screenshot({ path: `${root}/docs/screenshots/trace.png` });
  await logsShot(browser, collector.ui);
} finally {
  await stack.stop();
}
