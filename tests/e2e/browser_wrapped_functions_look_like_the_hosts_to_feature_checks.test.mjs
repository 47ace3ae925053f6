// `edgescope/full` wraps fetch, XMLHttpRequest's methods, history's and (with console capture)
// the console's: a page's feature checks see what they would see without the SDK — each wrapper's
// `name` and `length` are the host function's, and `new fetch()` throws as the host's does
// (QA s22 browser 7).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBrowserStack } from '../support.mjs';

let stack;

before(async () => {
  stack = await startBrowserStack();
});

after(() => stack?.stop());

test('names, lengths and constructibility of the wrapped functions are the host’s', async () => {
  const page = await stack.browser.newPage();
  await page.goto(`${stack.site.url}/blank`);
  const { before, after, wrapped } = await page.evaluate(async (otlp) => {
    const look = () => {
      const proto = XMLHttpRequest.prototype;
      const fns = { fetch, open: proto.open, send: proto.send, setRequestHeader: proto.setRequestHeader, pushState: history.pushState, replaceState: history.replaceState, log: console.log, warn: console.warn };
      const out = {};
      for (const [key, fn] of Object.entries(fns)) out[key] = [fn.name, fn.length];
      try {
        new fetch('/blank');
        out.newFetch = 'constructed';
      } catch (e) {
        out.newFetch = e.constructor.name;
      }
      return { out, fns };
    };
    const before = look();
    const sdk = await import('/sdk/full.js');
    sdk.init({ serviceName: 'feature-checks', endpoint: otlp, documentLoad: false, captureConsole: true });
    const after = look();
    const wrapped = Object.keys(before.fns).filter((k) => before.fns[k] !== after.fns[k]);
    return { before: before.out, after: after.out, wrapped };
  }, stack.collector.otlp);
  assert.deepEqual(wrapped.sort(), ['fetch', 'log', 'open', 'pushState', 'replaceState', 'send', 'setRequestHeader', 'warn'], 'each is wrapped');
  assert.deepEqual(after, before);
  await page.close();
});
