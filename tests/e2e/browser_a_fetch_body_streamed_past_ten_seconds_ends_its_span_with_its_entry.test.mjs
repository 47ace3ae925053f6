// A fetch whose body the page reads for longer than 10 s (server-sent events over fetch, an
// answer streamed token by token) ends its span when the body has been read to its end (or the
// read is cancelled), with the Resource Timing entry's events and body size, not at the headers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { attr, serviceSpans, startBrowserStack, waitFor } from '../support.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
});

after(() => stack?.stop());

test('a body streamed for 12 s ends its span with the entry it gets once read', async () => {
  const page = await browser.newPage();
  await page.goto(`${site.url}/blank`);
  const lines = await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/browser.js');
    sdk.init({ serviceName: 'long-stream', endpoint: otlp, scheduleDelayMillis: 200 });
    const response = await fetch('/api/stream?n=24&every=500');
    const reader = response.body.getReader();
    let text = '';
    for (let r; !(r = await reader.read()).done; ) text += new TextDecoder().decode(r.value);
    // The entry comes once the body has been read; the export timer then sends the span.
    return text.split('\n').filter(Boolean).length;
  }, collector.otlp);
  assert.equal(lines, 24);
  const span = await waitFor('the stream span', async () => (await serviceSpans(collector, 'long-stream')).find((s) => s.kind === 3));
  const events = (span.events ?? []).map((e) => e.name);
  assert.ok(events.includes('responseEnd'), `events: ${JSON.stringify(events)}`);
  assert.ok(attr(span, 'http.response.body.size') > 0);
  await page.close();
});
