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

test("a form whose controls are named id and tagName still gets its submit span, parenting its handler's fetch", async () => {
  const page = await browser.newPage();
  await page.goto(`${site.url}/blank`);
  await page.evaluate(async (otlp) => {
    window.__sdk = await import('/sdk/full.js');
    window.__sdk.init({ serviceName: 'clobbered-form-page', endpoint: otlp, scheduleDelayMillis: 0, documentLoad: false });
    // `form.id` is the input named id, `form.tagName` the one named tagName ([LegacyOverrideBuiltIns]).
    document.body.innerHTML =
      '<form id="checkout"><input name="id" value="7"><input name="tagName" value="x"><button id="pay" type="submit">Pay</button></form>';
    window.__done = new Promise((resolve) => {
      document.getElementById('checkout').addEventListener('submit', (event) => {
        event.preventDefault();
        fetch('/api/hello?from=clobbered').then(resolve, resolve);
      });
    });
  }, collector.otlp);
  await page.click('#pay');
  const errors = await page.evaluate(async () => {
    await window.__done;
    await window.__sdk.flush();
    return window.__sdk.diagnostics().apiErrors;
  });
  const spans = await waitFor('the submit trace', async () => {
    const { traces } = await getJson(`${collector.ui}/api/traces?limit=100`);
    const t = traces.find((t) => t.rootName === 'submit' && t.rootService === 'clobbered-form-page');
    const s = t && (await traceSpans(collector, t.traceId));
    return s && s.some((x) => attr(x, 'url.full')?.endsWith('from=clobbered')) && s;
  });
  const submit = spans.find((s) => s.name === 'submit');
  assert.equal(attr(submit, 'html.tag'), 'form');
  assert.equal(attr(submit, 'html.id'), 'checkout');
  assert.equal(spans.find((s) => attr(s, 'url.full')?.endsWith('from=clobbered')).parentSpanId, submit.spanId);
  assert.equal(errors, 0, 'nothing failed in the instrumentation');
  await page.close();
});

test("a script's click that does not bubble is active only while it is dispatched", async () => {
  const page = await browser.newPage();
  await page.goto(`${site.url}/blank`);
  const parents = await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/full.js');
    sdk.init({ serviceName: 'synthetic-click-page', endpoint: otlp, scheduleDelayMillis: 0, documentLoad: false });
    document.body.innerHTML = '<button id="b">b</button>';
    const seen = {};
    const parentOf = (name) => {
      const span = sdk.startSpan(name);
      span.end();
      return span;
    };
    sdk.startActiveSpan('outer', (outer) => {
      document.getElementById('b').dispatchEvent(new MouseEvent('click')); // bubbles: false
      seen.inside = parentOf('after dispatch');
      outer.end();
      seen.outer = outer.spanContext().spanId;
    });
    seen.after = parentOf('after outer');
    await sdk.flush();
    return { outer: seen.outer };
  }, collector.otlp);
  const spans = await waitFor('the synthetic click spans', async () => {
    const { traces } = await getJson(`${collector.ui}/api/traces?limit=200`);
    const all = [];
    for (const t of traces.filter((t) => t.rootService === 'synthetic-click-page')) all.push(...(await traceSpans(collector, t.traceId)));
    return all.length >= 4 && all;
  });
  const byName = (name) => spans.find((s) => s.name === name);
  assert.equal(byName('click').parentSpanId, parents.outer, 'the click is a child of the active span');
  assert.equal(byName('after dispatch').parentSpanId, parents.outer, 'after the dispatch, the outer span is active again');
  assert.equal(byName('after outer').parentSpanId ?? '', '', 'after the outer span, nothing is active');
  await page.close();
});
