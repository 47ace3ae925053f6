// The page-load spans the full entry records from Navigation and Resource Timing (`documentLoad`,
// `documentFetch`, `resourceFetch`) and their events (`domInteractive`, …) have their names passed
// through the app's `redact(key, value)` rule, as every span and event name of the API is
// (`span.name`, `event.name`), so one rule covers every name the SDK exports; so do their string
// attributes (`url.full`, `user_agent.original`, …), as the API's and the fetch spans' do.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { attr, sdkReady, serviceSpans, startBrowserStack, waitFor } from '../support.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
});

after(() => stack?.stop());

test("page-load span and event names and string attributes pass through the app's redact rule", async () => {
  const service = 'auto-names';
  const page = await browser.newPage();
  await page.goto(site.url);
  await sdkReady(page);
  await page.evaluate(
    async ({ otlp, service }) => {
      const sdk = await import('/sdk/full.js');
      sdk.init({
        serviceName: service,
        endpoint: otlp,
        scheduleDelayMillis: 0,
        webVitals: false,
        offline: false,
        redact: (key, value) => (key === 'span.name' ? `app:${value}` : key === 'event.name' ? `app-event:${value}` : key === 'url.full' ? `app-url:${value}` : value),
      });
      await new Promise((r) => setTimeout(r, 50));
      await sdk.flush();
    },
    { otlp: collector.otlp, service },
  );
  const spans = await waitFor('the page-load spans', async () => {
    const s = await serviceSpans(collector, service);
    return s.some((x) => x.name.endsWith('documentLoad')) && s.some((x) => x.name.endsWith('documentFetch')) && s;
  });
  await page.close();
  const names = spans.map((s) => s.name);
  assert.ok(names.includes('app:documentLoad'), names.join(', '));
  assert.ok(names.includes('app:documentFetch'), names.join(', '));
  assert.ok(names.some((n) => n === 'app:resourceFetch'), names.join(', '));
  assert.deepEqual(names.filter((n) => !n.startsWith('app:')), [], 'every name went through the rule');
  const root = spans.find((s) => s.name === 'app:documentLoad');
  const events = (root.events ?? []).map((e) => e.name);
  assert.ok(events.includes('app-event:domInteractive'), events.join(', '));
  assert.deepEqual(events.filter((n) => !n.startsWith('app-event:')), []);
  assert.match(attr(root, 'url.full'), /^app-url:http:/, "the root span's URL went through the rule");
  const resources = spans.filter((s) => s.name === 'app:resourceFetch');
  assert.deepEqual(
    resources.filter((s) => !String(attr(s, 'url.full')).startsWith('app-url:')).map((s) => attr(s, 'url.full')),
    [],
    "every resource span's URL went through the rule",
  );
});
