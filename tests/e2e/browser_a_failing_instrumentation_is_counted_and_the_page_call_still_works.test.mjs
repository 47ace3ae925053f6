// Each instrumentation is wrapped: a failure inside it (here, hostile objects the page hands
// to the instrumented call, which the instrumentation reads) is counted in
// `diagnostics().apiErrors`, and the page's own call still does exactly what it did before.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBrowserStack } from '../support.mjs';

let stack, collector, site, browser, page;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
  page = await browser.newPage();
  await page.goto(`${site.url}/blank`);
  await page.evaluate(async (otlp) => {
    window.__sdk = await import('/sdk/full.js');
    window.__sdk.init({ serviceName: 'hostile-page', endpoint: otlp, scheduleDelayMillis: 0, documentLoad: false, captureConsole: true });
    /** Runs `fn` and returns what it gave and by how much `apiErrors` went up. */
    window.__counted = async (fn) => {
      const before = window.__sdk.diagnostics().apiErrors;
      const result = await fn();
      return { result, apiErrors: window.__sdk.diagnostics().apiErrors - before };
    };
  }, collector.otlp);
});

after(() => stack?.stop());

test('fetch: an init whose method getter throws once (when the instrumentation reads it)', async () => {
  const out = await page.evaluate(() =>
    window.__counted(async () => {
      let reads = 0;
      const init = {
        get method() {
          if (reads++ === 0) throw new Error('hostile getter');
          return 'GET';
        },
      };
      const response = await fetch('/api/hello', init);
      return { status: response.status, body: (await response.json()).greeting };
    }),
  );
  assert.deepEqual(out.result, { status: 200, body: 'hello from the test API' });
  assert.equal(out.apiErrors, 1);
});

test('XHR: a URL object whose toString throws after the browser read it', async () => {
  const out = await page.evaluate(() =>
    window.__counted(
      () =>
        new Promise((resolve) => {
          let reads = 0;
          const url = {
            toString() {
              if (reads++ === 1) throw new Error('hostile toString');
              return '/api/hello';
            },
          };
          const r = new XMLHttpRequest();
          r.open('GET', url);
          r.onloadend = () => resolve({ status: r.status, body: JSON.parse(r.responseText).greeting });
          r.send();
        }),
    ),
  );
  assert.deepEqual(out.result, { status: 200, body: 'hello from the test API' });
  assert.equal(out.apiErrors, 1);
});

test('errors: an uncaught error whose name getter throws; the page\'s own error handler still sees it', async () => {
  const out = await page.evaluate(() =>
    window.__counted(
      () =>
        new Promise((resolve) => {
          const hostile = new Error('hostile error');
          Object.defineProperty(hostile, 'name', {
            get() {
              throw new Error('hostile name');
            },
          });
          addEventListener('error', (e) => (e.preventDefault(), setTimeout(() => resolve(e.error === hostile), 0)), { once: true });
          setTimeout(() => {
            throw hostile;
          }, 0);
        }),
    ),
  );
  assert.equal(out.result, true, 'the page\'s handler got the error');
  assert.equal(out.apiErrors, 1);
});

test('console: a value that cannot be turned into text is recorded as "[Thrown]"; the console still gets the call', async () => {
  const out = await page.evaluate(() =>
    window.__counted(() => {
      const hostile = {
        toJSON() {
          throw new Error('hostile toJSON');
        },
        toString() {
          throw new Error('hostile toString');
        },
      };
      console.log('logging', hostile);
      return 'returned';
    }),
  );
  const printed = [];
  page.on('console', (m) => printed.push(m.text()));
  await page.evaluate(() => console.log('still printed'));
  assert.equal(out.result, 'returned');
  assert.equal(out.apiErrors, 0, 'nothing failed: the record holds "logging [Thrown]"');
  assert.ok(printed.includes('still printed'));
});

test('interactions: a page whose Element.prototype.getAttribute throws; the page\'s click handler still runs', async () => {
  // (An element's own hostile `getAttribute` no longer reaches the SDK, which reads through
  // Element's own accessors: a form's controls can shadow the form's.)
  const out = await page.evaluate(() =>
    window.__counted(() => {
      const button = document.createElement('button');
      button.id = 'hostile';
      document.body.append(button);
      let clicked = 0;
      button.addEventListener('click', () => clicked++);
      const getAttribute = Element.prototype.getAttribute;
      Element.prototype.getAttribute = () => {
        throw new Error('hostile getAttribute');
      };
      try {
        button.click();
      } finally {
        Element.prototype.getAttribute = getAttribute;
      }
      return clicked;
    }),
  );
  assert.equal(out.result, 1);
  assert.equal(out.apiErrors, 1);
});
