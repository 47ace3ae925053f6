// `init` called again (a consent banner's choice, a settings change) starts from the defaults, as
// the README says: its switches turn sessions, fetch and XHR tracing and error capture off or on,
// whatever the earlier `init` said. A part turned off stays installed and passes calls through.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { attr, getJson, sdkReady, serviceSpans, startBrowserStack, waitFor } from '../support.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
});

after(() => stack?.stop());

async function logsOf(service) {
  const doc = await getJson(`${collector.ui}/api/logs?limit=500`);
  return doc.result.resourceLogs.filter((rl) => attr(rl.resource, 'service.name') === service).flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
}

/** Inits with `first`, makes requests, inits with `second`, makes them again; returns what the page saw. */
async function twice(service, first, second) {
  const page = await browser.newPage();
  await page.goto(site.url);
  await sdkReady(page);
  const out = await page.evaluate(
    async ({ otlp, service, first, second }) => {
      const sdk = await import('/sdk/browser.js');
      const xhr = (url) =>
        new Promise((resolve) => {
          const r = new XMLHttpRequest();
          r.open('GET', url);
          r.onloadend = resolve;
          r.send();
        });
      const round = async (n) => {
        await fetch(`/api/hello?fetch=${n}`);
        await xhr(`/api/hello?xhr=${n}`);
        sdk.startSpan(`work ${n}`).end();
        setTimeout(() => {
          throw new Error(`uncaught ${n}`);
        });
        await new Promise((r) => setTimeout(r, 50));
        const session = sdk.sessionId();
        await sdk.flush();
        return session;
      };
      sdk.init({ serviceName: service, endpoint: otlp, scheduleDelayMillis: 0, ...first });
      const a = await round(1);
      sdk.init({ serviceName: service, endpoint: otlp, scheduleDelayMillis: 0, ...second });
      const b = await round(2);
      return { sessions: [a ?? null, b ?? null] };
    },
    { otlp: collector.otlp, service, first, second },
  );
  await waitFor('the second work span', async () => (await serviceSpans(collector, service)).some((s) => s.name === 'work 2'));
  await page.close();
  const spans = await serviceSpans(collector, service);
  const names = spans.map((s) => (s.kind === 3 ? new URL(attr(s, 'url.full')).search : s.name)).sort();
  const errors = (await logsOf(service)).map((r) => r.body.stringValue).filter((b) => b.startsWith('uncaught')).sort();
  const sessionOf = (name) => attr(spans.find((s) => s.name === name), 'session.id') ?? null;
  return { ...out, names, errors, spanSessions: [sessionOf('work 1'), sessionOf('work 2')] };
}

test('a second init turning sessions, fetch, XHR and error capture off stops each of them', async () => {
  const r = await twice('reinit-off', {}, { sessions: false, instrumentFetch: false, instrumentXHR: false, captureErrors: false });
  assert.deepEqual(r.names, ['?fetch=1', '?xhr=1', 'work 1', 'work 2'], 'no request span after the second init');
  assert.deepEqual(r.errors, ['uncaught 1']);
  assert.match(r.sessions[0], /^[0-9a-f]{32}$/);
  assert.equal(r.sessions[1], null, 'sessionId() is undefined with sessions: false');
  assert.equal(r.spanSessions[0], r.sessions[0]);
  assert.equal(r.spanSessions[1], null, 'no session.id on the spans after it');
});

test('a second init turning on what the first left off installs it', async () => {
  const r = await twice('reinit-on', { sessions: false, instrumentFetch: false, instrumentXHR: false, captureErrors: false }, {});
  assert.deepEqual(r.names, ['?fetch=2', '?xhr=2', 'work 1', 'work 2']);
  assert.deepEqual(r.errors, ['uncaught 2']);
  assert.equal(r.sessions[0], null);
  assert.match(r.sessions[1], /^[0-9a-f]{32}$/);
  assert.deepEqual(r.spanSessions, [null, r.sessions[1]]);
});
