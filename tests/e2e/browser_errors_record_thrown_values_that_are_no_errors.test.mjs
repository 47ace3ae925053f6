// Uncaught throws and unhandled rejections of values that are no `Error` (`throw {}`,
// `Promise.reject({ code: 1 })`, `reject('text')`) are recorded with the value itself as
// `exception.message` (an object as its JSON, as the logger records one, never
// "[object Object]" or the fallback text) and a type for what was thrown: the object's class
// name, or the primitive's type; an error-like object keeps its `name` and `message`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { attr, getJson, sdkReady, startBrowserStack, waitFor } from '../support.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
});

after(() => stack?.stop());

test('thrown values that are no errors are recorded as what they are', async () => {
  const page = await browser.newPage();
  await page.goto(site.url);
  await sdkReady(page);
  await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/browser.js');
    sdk.init({ serviceName: 'thrown-values', endpoint: otlp, scheduleDelayMillis: 60_000 });
    class Custom {
      constructor() {
        this.why = 'custom';
      }
    }
    const later = (fn) => setTimeout(fn);
    later(() => {
      throw {};
    });
    later(() => {
      throw { code: 7, detail: 'thrown object' };
    });
    later(() => {
      throw 'thrown text';
    });
    Promise.reject({ code: 1 });
    Promise.reject('rejected text');
    Promise.reject(42);
    Promise.reject(new Custom());
    Promise.reject({ name: 'AbortError', message: 'error-like' });
    await new Promise((r) => setTimeout(r, 200));
    await sdk.flush();
  }, collector.otlp);
  const records = await waitFor('eight error records', async () => {
    const doc = await getJson(`${collector.ui}/api/logs?limit=200`);
    const errors = doc.result.resourceLogs
      .filter((rl) => attr(rl.resource, 'service.name') === 'thrown-values')
      .flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords))
      .filter((r) => r.severityText === 'ERROR');
    return errors.length >= 8 && errors;
  });
  const got = records
    .map((r) => [attr(r, 'exception.source'), attr(r, 'exception.type'), attr(r, 'exception.message'), r.body.stringValue])
    .sort((a, b) => (a.join() < b.join() ? -1 : 1));
  const row = (source, type, message) => [source, type, message, message];
  assert.deepEqual(got, [
    row('unhandledrejection', 'AbortError', 'error-like'),
    row('unhandledrejection', 'Custom', '{"why":"custom"}'),
    row('unhandledrejection', 'Object', '{"code":1}'),
    row('unhandledrejection', 'number', '42'),
    row('unhandledrejection', 'string', 'rejected text'),
    row('window.error', 'Object', '{"code":7,"detail":"thrown object"}'),
    row('window.error', 'Object', '{}'),
    row('window.error', 'string', 'thrown text'),
  ]);
  await page.close();
});
