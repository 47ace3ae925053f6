// Interactions in the `edgescope/full` entry, for forms: submitting one makes a `submit` span,
// active while the page's submit handlers run, so that a fetch a handler starts synchronously
// is its child.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { attr, getJson, startBrowserStack, traceSpans, waitFor } from '../support.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
});

after(() => stack?.stop());

test('a submit span parents the fetch its handler starts synchronously, and ends with the handlers', async () => {
  const page = await browser.newPage();
  await page.goto(`${site.url}/blank`);
  await page.evaluate(async (otlp) => {
    window.__sdk = await import('/sdk/full.js');
    window.__sdk.init({ serviceName: 'submit-page', endpoint: otlp, scheduleDelayMillis: 0, documentLoad: false });
    document.body.innerHTML =
      '<form id="order" name="order-form"><input name="q" value="shoes"><button id="send" type="submit">Send</button></form>';
    window.__done = new Promise((resolve) => {
      document.getElementById('order').addEventListener('submit', (event) => {
        event.preventDefault();
        fetch('/api/hello?from=submit').then(resolve, resolve);
      });
    });
  }, collector.otlp);
  await page.click('#send');
  await page.evaluate(async () => {
    await window.__done;
    // Outside any interaction: not a child of the submit span.
    await fetch('/api/hello?from=later');
    await window.__sdk.flush();
  });
  const spans = await waitFor('the submit trace', async () => {
    const { traces } = await getJson(`${collector.ui}/api/traces?limit=100`);
    const t = traces.find((t) => t.rootName === 'submit' && t.rootService === 'submit-page');
    const s = t && (await traceSpans(collector, t.traceId));
    return s && s.some((x) => attr(x, 'url.full')?.endsWith('from=submit')) && s;
  });
  const submit = spans.find((s) => s.name === 'submit');
  assert.equal(attr(submit, 'event.type'), 'submit');
  assert.equal(attr(submit, 'html.tag'), 'form');
  assert.equal(attr(submit, 'html.id'), 'order');
  assert.equal(attr(submit, 'html.label'), 'order-form');
  assert.equal(submit.parentSpanId ?? '', '', 'the submit span is a root');
  const request = spans.find((s) => attr(s, 'url.full')?.endsWith('from=submit'));
  assert.equal(request.parentSpanId, submit.spanId, 'the handler\'s fetch is a child of the submit span');
  assert.equal(request.kind, 3, 'a CLIENT span');
  assert.ok(BigInt(submit.endTimeUnixNano) <= BigInt(request.endTimeUnixNano), 'the submit span ended with its handlers, not with the response');
  assert.ok(!spans.some((s) => attr(s, 'url.full')?.endsWith('from=later')), 'a later request is not in the submit trace');
  await page.close();
});
