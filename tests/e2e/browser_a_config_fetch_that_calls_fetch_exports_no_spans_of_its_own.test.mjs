// The browser entry with a `config.fetch` that calls the page's fetch at another URL than the
// endpoint (a proxy path, a rewrite): the fetch instrumentation skips the endpoint's URL, not that
// one, so each export would get a CLIENT span, exported in turn, without end, unless the exporter
// keeps its own calls untraced (QA s14 edge 4, checked in the browser).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { serviceSpans, startBrowserStack } from '../support.mjs';

let stack, page;

before(async () => {
  stack = await startBrowserStack();
  page = await stack.browser.newPage();
  await page.goto(`${stack.site.url}/blank`);
});

after(() => stack?.stop());

test('one span is exported once, and no span of the exports', async () => {
  const sent = await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/browser.js');
    let calls = 0;
    sdk.init({
      serviceName: 'config-fetch-page',
      endpoint: 'http://exports.invalid',
      scheduleDelayMillis: 0,
      documentLoad: false,
      fetch: (url, init) => {
        calls++;
        // A traced export (a POST span) turns the SDK off, so that the test fails rather than loops.
        if (calls > 3) sdk.shutdown();
        return fetch(url.replace('http://exports.invalid', otlp), init);
      },
    });
    sdk.startSpan('work').end();
    for (let i = 0; i < 3; i++) await sdk.flush();
    return calls;
  }, stack.collector.otlp);
  const spans = await serviceSpans(stack.collector, 'config-fetch-page');
  assert.deepEqual(spans.map((s) => s.name), ['work']);
  assert.equal(sent, 1, 'one export');
});
