// Values from telemetry are text: markup and script in span names, services, attributes, events
// and links neither run nor render as elements.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TraceView, smallTrace, tempFile } from './viewer_pages.mjs';
import { collectorAndBrowser } from './viewer_env.mjs';

const env = collectorAndBrowser();

const IMG = '<img src=x onerror="window.__pwned=1">';
const SCRIPT = '<script>window.__pwned=2</script>';
const BOLD = '<b id="bold">bold</b>';

test('markup and script in telemetry show as text and do not run', async () => {
  const doc = smallTrace({
    payment: {
      name: IMG,
      attributes: [{ key: SCRIPT, value: { stringValue: SCRIPT } }, { key: 'html', value: { stringValue: BOLD } }],
      events: [{ timeUnixNano: '1700000000050000000', name: SCRIPT }],
      status: { code: 2, message: IMG },
    },
  });
  doc.resourceSpans[2].resource.attributes[0].value.stringValue = BOLD;
  const view = await (await TraceView.openFile(env.browser, env.collector, tempFile('evil.json', doc))).ready();
  await view.select(IMG);
  await view.search.fill('<script');
  assert.equal(await view.header('details-name'), IMG);
  assert.deepEqual(await view.table('details-attributes'), { [SCRIPT]: SCRIPT, html: BOLD });
  assert.match(await view.page.textContent('[data-testid=span-details]'), /<script>window.__pwned=2<\/script>/);
  assert.match(await view.header('trace-services'), /<b id="bold">bold<\/b>/);
  assert.equal(await view.page.locator('main img, main script, #bold').count(), 0);
  await view.page.waitForTimeout(200);
  assert.equal(await view.page.evaluate(() => window.__pwned), undefined);
});
