// The canary test at the length limits: secrets placed so that the cut of a log body (the
// logger's and console capture's, at `attributeValueLengthLimit` bytes or 16 KiB) or of a span
// attribute value falls inside them, in the default browser entry and in `edgescope/full`.
// Redaction sees the whole text before the cut, so no byte of a canary's part before the cut
// leaves the page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { exportsOf, sdkReady, startBrowserStack } from '../support.mjs';
import { SECRETS } from '../secrets_at_the_cut.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
});

after(() => stack?.stop());

for (const entry of ['browser', 'full']) {
  test(`no part of a secret the length cut splits leaves the page (${entry} entry)`, async () => {
    const page = await browser.newPage();
    const bodies = exportsOf(page, collector.otlp);
    await page.goto(site.url);
    await sdkReady(page);
    await page.evaluate(
      async ({ secrets, otlp, entry }) => {
        const sdk = await import(`/sdk/${entry}.js`);
        const straddling = (cap, [context, kept, rest]) => `${'.'.repeat(cap - context.length - kept.length - 1)} ${context}${kept}${rest} and more`;
        for (const cap of [undefined, 300]) {
          sdk.init({ serviceName: 'cut-canary', endpoint: otlp, scheduleDelayMillis: 0, attributeValueLengthLimit: cap, captureConsole: ['log'] });
          const limit = cap ?? 16_384;
          const span = sdk.startSpan('values');
          for (const [name, secret] of Object.entries(secrets)) {
            sdk.logger.warn(straddling(limit, secret));
            if (entry === 'full') console.log(straddling(limit, secret));
            if (cap) span.setAttribute(`app.${name}`, straddling(limit, secret));
          }
          span.end();
          await sdk.flush();
        }
      },
      { secrets: SECRETS, otlp: collector.otlp, entry },
    );
    const all = Buffer.concat(bodies).toString('latin1');
    assert.ok(all.includes('cut-canary') && all.includes('app.jwt'), 'telemetry was exported');
    const left = Object.entries(SECRETS).filter(([, [, kept]]) => all.includes(kept)).map(([name]) => name);
    assert.deepEqual(left, [], 'no part of a secret before the cut left the page');
    await page.close();
  });
}
