// In headless Chromium, the baggage of a remote context travels with the spans under it: fetch
// and XHR started under a span whose parent came from `extract` (or from the page's
// `<meta name="baggage">`, read by `documentContext()`) send that baggage on, after the page-wide
// `setBaggage` entries, which win for a key both have; a sibling request outside that span
// sends the page-wide baggage only. Member properties (`;k=v`) go on with their members.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sdkReady, startBrowserStack } from '../support.mjs';

let stack, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ site, browser } = stack);
});

after(() => stack?.stop());

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const REMOTE = `00-${TRACE}-00f067aa0ba902b7-01`;

test("requests under a remote context's span send its baggage on; a sibling request outside it does not", async () => {
  const page = await browser.newPage();
  const received = [];
  await page.route(`${site.url}/api/echo*`, async (route) => {
    received.push({ url: route.request().url(), headers: await route.request().allHeaders() });
    await route.fulfill({ status: 200, contentType: 'text/plain', body: 'ok' });
  });
  await page.goto(site.url);
  await sdkReady(page);
  const meta = await page.evaluate(
    async ({ remote }) => {
      // The server's context in the page, as Sentry's SDKs and Next.js's `clientTraceMetadata` write it.
      for (const [name, content] of [['traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'], ['baggage', 'release=1.2,tenant=meta']]) {
        const m = document.createElement('meta');
        m.name = name;
        m.content = content;
        document.head.append(m);
      }
      const sdk = await import('/sdk/browser.js');
      sdk.init({ serviceName: 'remote-baggage-page', endpoint: '/nowhere', scheduleDelayMillis: 60000 });
      sdk.setBaggage('tenant', 'page');
      const xhr = (url) =>
        new Promise((resolve) => {
          const r = new XMLHttpRequest();
          r.open('GET', url);
          r.onloadend = resolve;
          r.send();
        });
      const parent = sdk.extract({ traceparent: remote, baggage: 'user=alice;ttl=60;sensitive,tenant=remote,region=eu ; src=edge' });
      const requests = [];
      sdk.startActiveSpan('remote child', { parent }, () => {
        // Started synchronously while the span is active, one of them from a child span.
        requests.push(fetch('/api/echo?via=fetch&under=remote'), xhr('/api/echo?via=xhr&under=remote'));
        sdk.startActiveSpan('nested', () => requests.push(fetch('/api/echo?via=fetch&under=nested')));
      });
      requests.push(fetch('/api/echo?via=fetch&under=none'), xhr('/api/echo?via=xhr&under=none'));
      const load = sdk.startSpan('documentLoad', { parent: sdk.documentContext() });
      sdk.withSpan(load, () => requests.push(fetch('/api/echo?via=fetch&under=meta')));
      load.end();
      await Promise.all(requests);
      return sdk.documentContext().baggage;
    },
    { remote: REMOTE },
  );
  assert.deepEqual(meta, { release: '1.2', tenant: 'meta' }, 'documentContext() reads <meta name="baggage">');
  const sent = (via, under) => {
    const r = received.find((r) => r.url.endsWith(`via=${via}&under=${under}`));
    assert.ok(r, `the ${via} request under ${under} arrived`);
    return r.headers;
  };
  for (const [via, under] of [['fetch', 'remote'], ['xhr', 'remote'], ['fetch', 'nested']]) {
    const h = sent(via, under);
    assert.match(h.traceparent ?? '', new RegExp(`^00-${TRACE}-`), `${via} under ${under}: the remote trace`);
    assert.equal(h.baggage, 'tenant=page,user=alice;ttl=60;sensitive,region=eu;src=edge', `${via} under ${under}: the page-wide entries, then the remote context's, with their properties`);
  }
  for (const via of ['fetch', 'xhr']) {
    const h = sent(via, 'none');
    assert.doesNotMatch(h.traceparent ?? '', new RegExp(TRACE), `${via} outside: a trace of its own`);
    assert.equal(h.baggage, 'tenant=page', `${via} outside: the page-wide baggage only`);
  }
  assert.equal(sent('fetch', 'meta').baggage, 'tenant=page,release=1.2');
  await page.close();
});
