// A page (or a library in it) that starts spans and never ends them: at 10,000 open spans the
// oldest is dropped unended and counted (`spansEvicted`), so spans started afterwards are still
// recorded, exported and propagated. Before, every new span was refused until a reload.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sdkReady, serviceSpans, startBrowserStack, waitFor } from '../support.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
});

after(() => stack?.stop());

test('10,500 spans never ended, then a span and a fetch are still traced', async () => {
  const page = await browser.newPage();
  await page.goto(site.url);
  await sdkReady(page);
  const out = await page.evaluate(async ({ otlp }) => {
    const sdk = await import('/sdk/browser.js');
    sdk.init({ serviceName: 'leaky-page', endpoint: otlp, scheduleDelayMillis: 0, sessions: false });
    for (let i = 0; i < 10_500; i++) {
      // A view whose promise never settles: its span stays open for good.
      sdk.startActiveSpan('never ends', () => new Promise(() => {}));
    }
    const after = sdk.startSpan('after the leak');
    const recording = after.isRecording();
    after.end();
    const answer = await sdk.startActiveSpan('click', async (span) => {
      const r = await fetch('/api/hello?after=leak');
      span.end();
      return r.json();
    });
    await sdk.flush();
    return { recording, evicted: sdk.diagnostics().spansEvicted, sent: answer.traceparent };
  }, { otlp: collector.otlp });
  assert.equal(out.recording, true);
  // The oldest go in batches of 157 (the oldest and the 156, 1/64 of 10,000, opened after it):
  // four batches made room for the last 500 views and the spans after them.
  assert.equal(out.evicted, 4 * 157);
  await waitFor('the spans after the leak', async () => {
    const names = (await serviceSpans(collector, 'leaky-page')).map((s) => s.name);
    return names.includes('after the leak') && names.includes('click');
  });
  const spans = await serviceSpans(collector, 'leaky-page');
  assert.ok(!spans.some((s) => s.name === 'never ends'), 'spans never ended are not exported');
  const click = spans.find((s) => s.name === 'click');
  assert.match(out.sent ?? '', new RegExp(`^00-${click.traceId}-[0-9a-f]{16}-0[13]$`), "the fetch carried the click's trace");
  await page.close();
});
