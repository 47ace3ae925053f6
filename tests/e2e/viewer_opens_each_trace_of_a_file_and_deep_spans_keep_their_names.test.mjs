// Trace files beyond one small trace: a file of several traces lists them all (as Jaeger UI does
// for an uploaded file) and opens the one clicked; a file of one trace opens it directly; a span
// 30 levels deep keeps its service and name in view, its depth shown as a number; an event timed
// before its span says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { root } from '../support.mjs';
import { TraceView, smallTrace, tempFile } from './viewer_pages.mjs';
import { collectorAndBrowser } from './viewer_env.mjs';

const fixtures = join(root, '..', 'shared', 'fixtures');
const env = collectorAndBrowser();

test('a file of two traces lists both, each opens from the list, and the list comes back', async () => {
  const view = await TraceView.openFile(env.browser, env.collector, join(fixtures, 'jaeger-memory-otel_traces_01.json'));
  const page = view.page;
  await page.waitForSelector('[data-testid=trace-row]');
  assert.match(await page.textContent('[data-testid=file-trace-count]'), /2 traces/);
  const ids = await page.$$eval('[data-testid=trace-row] td.mono', (tds) => tds.map((td) => td.textContent));
  assert.deepEqual(ids.sort(), ['00000000000000010000000000000000', '00000000000000020000000000000000']);
  const cells = await page.$$eval('[data-testid=trace-row]', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  for (const row of cells) {
    assert.equal(row[1], 'service-x', 'the services');
    assert.equal(row[4], '2', 'two spans each');
  }
  await page.click('[data-testid=trace-row] >> text=00000000000000020000000000000000');
  await view.ready();
  assert.equal(await view.header('trace-id'), '00000000000000020000000000000000');
  assert.deepEqual((await view.names()).sort(), ['test-general-conversion-3', 'test-general-conversion-5']);
  await page.click('[data-testid=back-to-file-list]');
  await page.click('[data-testid=trace-row] >> text=00000000000000010000000000000000');
  await view.ready();
  assert.equal(await view.header('trace-id'), '00000000000000010000000000000000');
  await page.close();
});

test('a file of one trace still opens it directly', async () => {
  const view = await (await TraceView.openFile(env.browser, env.collector, tempFile('one.json', smallTrace()))).ready();
  assert.equal(await view.page.locator('[data-testid=trace-list]').count(), 0);
  assert.equal(await view.header('span-count'), '5');
  await view.page.close();
});

/** A chain of `depth + 1` spans, each the child of the one before, in a long-named service. */
function deepTrace(depth) {
  const id = (i) => (0xd000000000000000n + BigInt(i)).toString(16);
  const t = (ms) => String(1_700_000_000_000_000_000n + BigInt(ms) * 1_000_000n);
  const spans = Array.from({ length: depth + 1 }, (_, i) => ({
    traceId: 'dddddddddddddddddddddddddddddddd', spanId: id(i), ...(i ? { parentSpanId: id(i - 1) } : {}),
    name: `level ${i}`, kind: 1, startTimeUnixNano: t(i), endTimeUnixNano: t(1000 - i),
  }));
  return { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'install-flow' } }] }, scopeSpans: [{ spans }] }] };
}

test('a span 30 levels deep shows its service and name whole, and its depth as a number', async () => {
  const page = await env.browser.newPage({ viewport: { width: 1200, height: 1400 } });
  await page.goto(`${env.collector.ui}/open`);
  await page.setInputFiles('[data-testid=file-input]', tempFile('deep.json', deepTrace(30)));
  const row = page.locator('[data-testid=span-row][data-depth="30"]');
  await row.waitFor();
  const box = async (selector) => row.locator(selector).first().evaluate((el) => {
    const r = el.getBoundingClientRect();
    return { left: r.left, right: r.right };
  });
  const label = await box('.span-label');
  for (const part of ['.service', '[data-testid=span-name]']) {
    const b = await box(part);
    assert.ok(b.left >= label.left && b.right <= label.right, `${part} ${JSON.stringify(b)} within the label ${JSON.stringify(label)}`);
  }
  assert.equal(await row.locator('[data-testid=depth-mark]').textContent(), '30');
  assert.equal(await page.locator('[data-testid=span-row][data-depth="2"] [data-testid=depth-mark]').count(), 0);
  await page.close();
});

test('an event timed 5 s before its span reads "−5.00 s" and its tick is marked as outside the span', async () => {
  const doc = smallTrace({ payment: { events: [{ timeUnixNano: String(1_700_000_000_025_000_000n - 5_000_000_000n), name: 'early' }] } });
  const view = await (await TraceView.openFile(env.browser, env.collector, tempFile('early.json', doc))).ready();
  await view.row('payment').click();
  assert.equal((await view.page.textContent('[data-testid=event-offset]')).trim(), '\u22125.00 s');
  const tick = view.row('payment').locator('[data-testid=event-tick]');
  assert.match(await tick.getAttribute('class'), /outside/);
  assert.match(await tick.getAttribute('title'), /early \(\u22125\.00 s, outside the span\)/);
  await view.page.close();
});
