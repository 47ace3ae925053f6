// `edgescope/full` wraps fetch, XMLHttpRequest's methods, history's and (with console capture)
// the console's: a page's feature checks see what they would see without the SDK — each wrapper's
// `name` and `length` are the host function's, `new` on it throws as on the host's and it has no
// `prototype`, as a method (QA s22 browser 7), and it sits where the host's did, with the same
// property attributes: history's on History.prototype, so that a library wrapping the prototype's
// method after `init` still sees the page's calls, which are still navigations.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { attr, serviceSpans, startBrowserStack, waitFor } from '../support.mjs';

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
      for (const [key, fn] of Object.entries(fns)) {
        let constructed;
        try {
          new fn();
          constructed = 'constructed';
        } catch (e) {
          constructed = `${e.constructor.name}: ${e.message}`;
        }
        out[key] = [fn.name, fn.length, 'prototype' in fn, Object.keys(fn), constructed];
      }
      // Where each is defined, with which attributes (`value` aside).
      const slots = { open: [proto, 'open'], send: [proto, 'send'], setRequestHeader: [proto, 'setRequestHeader'], pushState: [History.prototype, 'pushState'], replaceState: [History.prototype, 'replaceState'], log: [console, 'log'], warn: [console, 'warn'] };
      for (const [key, [owner, name]] of Object.entries(slots)) {
        const { value, ...attributes } = Object.getOwnPropertyDescriptor(owner, name) ?? {};
        out[key + ' property'] = [value === fns[key], attributes];
      }
      out['history own properties'] = Object.getOwnPropertyNames(history);
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

test('a library that wraps History.prototype.pushState after init sees the page’s calls, still navigations', async () => {
  const page = await stack.browser.newPage();
  await page.goto(`${stack.site.url}/blank`);
  const seen = await page.evaluate(async (otlp) => {
    // As in a browser without the Navigation API, whose events would tell the navigations
    // without the history wrappers: only those are left to see them.
    Object.defineProperty(globalThis, 'navigation', { value: undefined, configurable: true });
    const sdk = await import('/sdk/full.js');
    sdk.init({ serviceName: 'history-patched-later', endpoint: otlp, scheduleDelayMillis: 0, documentLoad: false, interactions: false, longTasks: false, webVitals: false });
    // A router or analytics library that wraps the prototype's methods, as many do.
    const seen = [];
    for (const method of ['pushState', 'replaceState']) {
      const original = History.prototype[method];
      History.prototype[method] = function () {
        seen.push(method);
        return original.apply(this, arguments);
      };
    }
    history.pushState(null, '', '?pushed=1');
    history.replaceState(null, '', '?replaced=1');
    await sdk.flush();
    return seen;
  }, stack.collector.otlp);
  assert.deepEqual(seen, ['pushState', 'replaceState'], 'the library’s wrappers saw the page’s calls');
  const spans = await waitFor('two navigation spans', async () => {
    await page.evaluate(async () => (await import('/sdk/full.js')).flush());
    const s = (await serviceSpans(stack.collector, 'history-patched-later')).filter((x) => x.name === 'navigation');
    return s.length >= 2 && s;
  });
  assert.deepEqual(
    spans.map((s) => [attr(s, 'navigation.type'), new URL(attr(s, 'url.full')).search]).sort(),
    [
      ['pushState', '?pushed=1'],
      ['replaceState', '?replaced=1'],
    ],
  );
  await page.close();
});
