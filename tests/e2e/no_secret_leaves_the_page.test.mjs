// The canary test: secrets planted in URLs, attribute values and log messages are driven
// through the instrumented page, and no canary appears in any telemetry byte that leaves it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { sdkReady, startBrowserStack } from '../support.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
});

after(() => stack?.stop());

const CANARIES = {
  query: 'CANARYQUERY1',
  fragmentish: 'CANARYPASS2',
  custom: 'CANARYPIN3',
  bearer: 'CANARYBEARER4abcdef',
  jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJjYW5hcnkiOiJ5ZXMifQ.CANARYJWTsignature5x',
  card: '4111 1111 1111 1111',
  hooked: 'CANARYHOOK6',
};

test('no canary secret reaches the exported telemetry', async () => {
  const page = await browser.newPage();
  const bodies = [];
  page.on('request', (r) => {
    if (r.url().startsWith(collector.otlp) && r.method() === 'POST') {
      const body = r.postDataBuffer();
      bodies.push(r.headers()['content-encoding'] === 'gzip' ? gunzipSync(body) : body);
    }
  });
  await page.goto(site.url);
  await sdkReady(page);
  await page.evaluate(async (c) => {
    const sdk = await import('/sdk/browser.js');
    sdk.init({
      serviceName: 'canary',
      endpoint: c.otlp,
      scheduleDelayMillis: 0,
      redactQueryParams: ['tenant_pin'],
      redact: (key, value) => value.replaceAll(c.hooked, '[app-redacted]'),
    });
    await fetch(`/api/hello?access_token=${c.query}&q=shoes`);
    await new Promise((resolve) => {
      const r = new XMLHttpRequest();
      r.open('GET', `/api/hello?Password=${c.fragmentish}&tenant_pin=${c.custom}`);
      r.onloadend = resolve;
      r.send();
    });
    await sdk.startActiveSpan('checkout', async (span) => {
      span.setAttribute('auth.header', `Bearer ${c.bearer}`);
      span.setAttribute('payment.note', `paid with ${c.card}`);
      span.setAttribute('app.secret', `internal ${c.hooked}`);
      sdk.logger.warn(`token was ${c.jwt}`, { detail: `card ${c.card}` });
    });
    await sdk.flush();
  }, { ...CANARIES, otlp: collector.otlp });
  await page.evaluate(() => new Promise((r) => setTimeout(r, 200)));
  const all = Buffer.concat(bodies).toString('latin1');
  assert.ok(bodies.length >= 2 && all.includes('checkout') && all.includes('q=shoes'), 'telemetry was exported');
  for (const [name, canary] of Object.entries(CANARIES)) {
    assert.ok(!all.includes(canary), `the ${name} canary leaked`);
  }
  assert.ok(!all.includes('4111111111111111'));
});
