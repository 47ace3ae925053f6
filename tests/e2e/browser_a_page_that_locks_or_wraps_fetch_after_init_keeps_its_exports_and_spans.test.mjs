// The browser entry on a page that changes `window.fetch` after `init`: made read-only, or
// replaced by a library's accessor (a getter and setter around its own wrapper). The exporter
// must neither fail on the read-only property (assigning it throws in a module) nor hand the
// library's setter the untraced fetch, which would end fetch tracing for good (QA s22 browser 3).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { attr, serviceSpans, startBrowserStack } from '../support.mjs';

let stack;

before(async () => {
  stack = await startBrowserStack();
});

after(() => stack?.stop());

for (const [how, lock] of [
  ['made read-only', () => Object.defineProperty(window, 'fetch', { value: window.fetch, writable: false })],
  [
    'kept behind an accessor',
    () => {
      let inner = window.fetch;
      const wrapper = (...args) => inner(...args);
      Object.defineProperty(window, 'fetch', { get: () => wrapper, set: (f) => (inner = f), configurable: true });
    },
  ],
]) {
  test(`window.fetch ${how} after init: every export arrives and every fetch is still traced`, async () => {
    const page = await stack.browser.newPage();
    await page.goto(`${stack.site.url}/blank`);
    const service = `locked-fetch-${how.split(' ')[0]}`;
    const result = await page.evaluate(
      async ({ otlp, service, lock }) => {
        const sdk = await import('/sdk/browser.js');
        sdk.init({ serviceName: service, endpoint: otlp, scheduleDelayMillis: 0, documentLoad: false });
        new Function(`(${lock})()`)();
        for (const n of [1, 2, 3]) {
          await (await fetch(`/blank?n=${n}`)).text();
          await sdk.flush();
        }
        return sdk.diagnostics();
      },
      { otlp: stack.collector.otlp, service, lock: lock.toString() },
    );
    assert.equal(result.exportsFailed, 0);
    const spans = await serviceSpans(stack.collector, service);
    const urls = spans.map((s) => new URL(attr(s, 'url.full')).search).sort();
    assert.deepEqual(urls, ['?n=1', '?n=2', '?n=3']);
    await page.close();
  });
}
