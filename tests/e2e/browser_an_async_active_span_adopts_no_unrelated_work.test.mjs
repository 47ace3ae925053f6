// Browsers have no AsyncLocalStorage: a span made active by `startActiveSpan`/`withSpan` with
// an async callback is active while the callback runs synchronously, as with OpenTelemetry JS's
// StackContextManager, not page-wide until its promise settles. Work the page starts meanwhile
// from another task (a timer, a click handler's fetch) is not its child.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { getJson, sdkReady, startBrowserStack, waitFor } from '../support.mjs';

let stack, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ site, browser } = stack);
});

after(() => stack?.stop());

test('an async active span parents its synchronous work only, never a timer or a click handler started meanwhile', async () => {
  const page = await browser.newPage();
  await page.goto(site.url);
  await sdkReady(page);
  const before = (await getJson(`${site.url}/api/seen`)).length;
  const ids = await page.evaluate(async () => {
    const sdk = await import('/sdk/browser.js');
    const traceOf = (span) => span.spanContext().traceId;
    const out = {};
    let release;
    const gate = new Promise((resolve) => (release = resolve));
    const button = document.createElement('button');
    button.id = 'unrelated';
    button.onclick = () => fetch('/api/hello');
    document.body.append(button);
    const pending = sdk.startActiveSpan('slow work', async (span) => {
      out.work = traceOf(span);
      const child = sdk.startSpan('synchronous child');
      out.child = traceOf(child);
      child.end();
      await gate;
    });
    // Another task while the work waits: a timer's span, then a click whose handler fetches.
    await new Promise((resolve) => setTimeout(resolve, 20));
    out.activeInTimer = sdk.activeSpan() !== undefined;
    const timer = sdk.startSpan('timer work');
    out.timer = traceOf(timer);
    timer.end();
    button.click();
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    await pending;
    out.activeAfter = sdk.activeSpan() !== undefined;
    return out;
  });
  assert.equal(ids.child, ids.work, 'a span started in the synchronous part is the work span child');
  assert.equal(ids.activeInTimer, false, 'nothing is active in a later task');
  assert.notEqual(ids.timer, ids.work, "the timer's span starts its own trace");
  // (The handler's fetch may reach the server after the page is done, on a loaded machine.)
  const seen = await waitFor('the click handler\'s fetch at the server', async () => {
    const s = (await getJson(`${site.url}/api/seen`)).slice(before);
    return s.length > 0 && s;
  });
  assert.equal(seen.length, 1);
  assert.notEqual(seen[0].traceparent.split('-')[1], ids.work, "the click handler's fetch is not in the work trace");
  assert.equal(ids.activeAfter, false);
});
