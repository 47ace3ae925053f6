// The `edgescope/full` browser entry in headless Chromium: a page-load span tree from
// Navigation and Resource Timing, click spans that parent the requests their handlers start and
// take the handlers' errors, and navigation spans with redacted URLs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite } from './fixture/server.mjs';
import { attr, getJson, launchChromium, serviceSpans, startCollector, traceSpans, waitFor } from '../support.mjs';

let collector, site, browser, page;

before(async () => {
  collector = await startCollector();
  site = await startTestSite({ otlp: collector.otlp });
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(site.url);
  await page.waitForFunction(() => XMLHttpRequest.prototype.open.__edgescope === true);
  await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/full.js');
    sdk.init({ serviceName: 'full-page', endpoint: otlp, scheduleDelayMillis: 0 });
    window.__sdk = sdk;
  }, collector.otlp);
});

after(async () => {
  await browser?.close();
  site?.server.close();
  await collector?.stop();
});

async function traceByRoot(name) {
  return waitFor(`a trace rooted at ${name}`, async () => {
    await page.evaluate(() => window.__sdk.flush());
    const { traces } = await getJson(`${collector.ui}/api/traces?limit=100`);
    const t = traces.find((t) => t.rootName === name && t.rootService === 'full-page');
    return t && traceSpans(collector, t.traceId);
  });
}

test('page load becomes a documentLoad span with documentFetch and resource children', async () => {
  const spans = await traceByRoot('documentLoad');
  const root = spans.find((s) => s.name === 'documentLoad');
  const fetchSpan = spans.find((s) => s.name === 'documentFetch');
  const resources = spans.filter((s) => s.name === 'resourceFetch');
  assert.equal(fetchSpan.parentSpanId, root.spanId);
  assert.ok(resources.length >= 3, `${resources.length} resources (SDK modules, wasm, config)`);
  assert.ok(resources.some((r) => attr(r, 'url.full').endsWith('/sdk/wasm/edgescope_bg.wasm')));
  assert.ok(BigInt(root.startTimeUnixNano) <= BigInt(fetchSpan.startTimeUnixNano));
  assert.ok(BigInt(root.endTimeUnixNano) >= BigInt(fetchSpan.endTimeUnixNano));
  const events = root.events.map((e) => e.name);
  assert.ok(events.includes('domInteractive') && events.includes('loadEventEnd'), events.join());
});

test('page load leaves out the exporter\'s requests when the endpoint is a same-origin path', async () => {
  const proxied = await browser.newPage();
  // The site proxies /otlp/ to the collector, as a page avoiding CORS does.
  await proxied.route(
    (url) => url.pathname.startsWith('/otlp/'),
    async (route) => route.fulfill({ response: await route.fetch({ url: collector.otlp + new URL(route.request().url()).pathname.slice(5) }) }),
  );
  await proxied.goto(site.url);
  await proxied.waitForFunction(() => XMLHttpRequest.prototype.open.__edgescope === true);
  await proxied.evaluate(async () => {
    // An export the page made before the full entry's page-load spans are built.
    await fetch('/otlp/v1/logs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const sdk = await import('/sdk/full.js');
    sdk.init({ serviceName: 'proxied-page', endpoint: '/otlp', scheduleDelayMillis: 0 });
    await new Promise((r) => setTimeout(r, 100));
    await sdk.flush();
  });
  const spans = await waitFor('the proxied page load', async () => {
    const { traces } = await getJson(`${collector.ui}/api/traces?limit=200`);
    const t = traces.find((t) => t.rootName === 'documentLoad' && t.rootService === 'proxied-page');
    return t && traceSpans(collector, t.traceId);
  });
  const urls = spans.filter((s) => s.name === 'resourceFetch').map((s) => attr(s, 'url.full'));
  assert.ok(urls.length >= 3, urls.join());
  assert.deepEqual(urls.filter((u) => u.includes('/otlp/')), []);
  await proxied.close();
});

test('page load records the document status code only where the browser gives it', async () => {
  const other = await browser.newPage();
  await other.goto(site.url);
  await other.waitForFunction(() => XMLHttpRequest.prototype.open.__edgescope === true);
  await other.evaluate(async (otlp) => {
    // Navigation Timing without responseStatus, as in browsers that do not report it.
    const [nav] = performance.getEntriesByType('navigation');
    const entry = { ...nav.toJSON(), responseStatus: undefined };
    const byType = performance.getEntriesByType.bind(performance);
    performance.getEntriesByType = (type) => (type === 'navigation' ? [entry] : byType(type));
    const sdk = await import('/sdk/full.js');
    sdk.init({ serviceName: 'no-status-page', endpoint: otlp, scheduleDelayMillis: 0 });
    await new Promise((r) => setTimeout(r, 100));
    await sdk.flush();
  }, collector.otlp);
  const spans = await waitFor('the page load', async () => {
    const { traces } = await getJson(`${collector.ui}/api/traces?limit=200`);
    const t = traces.find((t) => t.rootName === 'documentLoad' && t.rootService === 'no-status-page');
    return t && traceSpans(collector, t.traceId);
  });
  const documentFetch = spans.find((s) => s.name === 'documentFetch');
  assert.equal(attr(documentFetch, 'http.response.status_code'), undefined, 'not a made-up 200');
  await other.close();
});

test('a resource of another origin without Timing-Allow-Origin gets no body size, which the browser hides as 0', async () => {
  const other = await browser.newPage();
  const elsewhere = site.url.replace('127.0.0.1', 'localhost');
  await other.route(`${elsewhere}/pixel.gif`, (route) =>
    route.fulfill({ contentType: 'image/gif', body: Buffer.from('R0lGODlhAQABAAAAACwAAAAAAQABAAA=', 'base64') }),
  );
  await other.goto(site.url);
  await other.waitForFunction(() => XMLHttpRequest.prototype.open.__edgescope === true);
  await other.evaluate(
    async ({ otlp, src }) => {
      await new Promise((resolve) => {
        const img = new Image();
        img.onload = img.onerror = resolve;
        img.src = src;
      });
      const sdk = await import('/sdk/full.js');
      sdk.init({ serviceName: 'opaque-resource-page', endpoint: otlp, scheduleDelayMillis: 0 });
      await new Promise((r) => setTimeout(r, 100));
      await sdk.flush();
    },
    { otlp: collector.otlp, src: `${elsewhere}/pixel.gif` },
  );
  const spans = await waitFor('the page load', async () => {
    const { traces } = await getJson(`${collector.ui}/api/traces?limit=300`);
    const t = traces.find((t) => t.rootName === 'documentLoad' && t.rootService === 'opaque-resource-page');
    return t && traceSpans(collector, t.traceId);
  });
  const pixel = spans.find((s) => s.name === 'resourceFetch' && attr(s, 'url.full') === `${elsewhere}/pixel.gif`);
  assert.ok(pixel, 'the image is a resource child');
  assert.equal(attr(pixel, 'http.response.body.size'), undefined);
  const wasm = spans.find((s) => s.name === 'resourceFetch' && attr(s, 'url.full').endsWith('.wasm'));
  assert.ok(Number(attr(wasm, 'http.response.body.size')) > 0, 'same-origin sizes are kept');
  await other.close();
});

test('a click span parents the request its handler starts and takes the error it throws', async () => {
  await page.evaluate(() => {
    const ok = document.createElement('button');
    ok.id = 'load-things';
    ok.onclick = () => fetch('/api/hello');
    const bad = document.createElement('button');
    bad.id = 'broken';
    bad.onclick = () => {
      throw new Error('handler exploded');
    };
    document.body.append(ok, bad);
  });
  await page.click('#load-things');
  const spans = await waitFor('the click and its fetch', async () => {
    await page.evaluate(() => window.__sdk.flush());
    const { traces } = await getJson(`${collector.ui}/api/traces?limit=100`);
    const t = traces.find((t) => t.rootName === 'click' && t.spanCount === 2);
    return t && traceSpans(collector, t.traceId);
  });
  const click = spans.find((s) => s.name === 'click');
  const get = spans.find((s) => s.name === 'GET');
  assert.equal(get.parentSpanId, click.spanId);
  assert.equal(attr(click, 'html.id'), 'load-things');

  await page.click('#broken');
  const failed = await waitFor('the failed click', async () => {
    await page.evaluate(() => window.__sdk.flush());
    const { traces } = await getJson(`${collector.ui}/api/traces?limit=100`);
    const t = traces.find((t) => t.rootName === 'click' && t.errorCount === 1);
    return t && traceSpans(collector, t.traceId);
  });
  assert.equal(failed[0].status.code, 2);
  assert.ok(failed[0].events.some((e) => e.name === 'exception' && attr(e, 'exception.message') === 'handler exploded'));
  const logs = await getJson(`${collector.ui}/api/logs?trace_id=${failed[0].traceId}`);
  const record = logs.result.resourceLogs[0].scopeLogs[0].logRecords[0];
  assert.equal(record.severityText, 'ERROR');
  assert.equal(record.spanId, failed[0].spanId, 'the error log belongs to the click span');
});

test("a click span is active only while the page's handlers run, not in a task that runs after", async () => {
  await page.evaluate(() => {
    const button = document.createElement('button');
    button.id = 'timer-before-click';
    // A timer set on mouseup, in the same task as the click but before it, runs first after it.
    button.onmouseup = () =>
      setTimeout(() => {
        window.__laterActive = window.__sdk.activeSpan() !== undefined;
        window.__laterTrace = window.__sdk.startSpan('timer work').spanContext().traceId;
      }, 0);
    // A click the handler dispatches itself ends there; the outer click's span stays active.
    const inner = document.createElement('span');
    button.onclick = (event) => {
      if (event.target !== button) return;
      inner.click();
      window.__clickTrace = window.__sdk.activeSpan()?.spanContext().traceId;
    };
    button.append(inner);
    document.body.append(button);
  });
  await page.click('#timer-before-click');
  const seen = await waitFor('the timer', () =>
    page.evaluate(() => window.__laterTrace && { click: window.__clickTrace, later: window.__laterTrace, active: window.__laterActive }),
  );
  assert.match(seen.click, /^[0-9a-f]{32}$/, 'the handler ran under the click span, after a nested click');
  assert.equal(seen.active, false);
  assert.notEqual(seen.later, seen.click, "the timer's span starts its own trace");
});

test('history navigation makes a navigation span with the URL redacted', async () => {
  await page.evaluate(() => history.pushState({}, '', '/account?access_token=CANARYNAV&tab=2'));
  const spans = await traceByRoot('navigation');
  const nav = spans[0];
  assert.equal(attr(nav, 'navigation.type'), 'pushState');
  assert.equal(attr(nav, 'url.full'), `${site.url}/account?access_token=REDACTED&tab=2`);
  assert.equal(attr(nav, 'url.previous'), `${site.url}/`);
});

test('a Navigation API navigation (a router intercepting navigate) makes a navigation span too', async () => {
  await page.evaluate(async () => {
    const intercept = (e) => e.canIntercept && e.intercept({ handler: async () => {} });
    navigation.addEventListener('navigate', intercept);
    await navigation.navigate('/products?sid=CANARYNAV2', { history: 'push' }).committed;
    navigation.removeEventListener('navigate', intercept);
    history.pushState({}, '', '/cart');
  });
  const navs = await waitFor('both navigations', async () => {
    await page.evaluate(() => window.__sdk.flush());
    const n = (await serviceSpans(collector, 'full-page')).filter((s) => s.name === 'navigation');
    const products = n.filter((s) => attr(s, 'url.full') === `${site.url}/products?sid=REDACTED`);
    const cart = n.filter((s) => attr(s, 'url.full') === `${site.url}/cart`);
    return products.length && cart.length && { products, cart };
  });
  assert.equal(navs.products.length, 1, 'one span per navigation');
  assert.equal(attr(navs.products[0], 'navigation.type'), 'pushState');
  assert.equal(navs.cart.length, 1);
  assert.equal(attr(navs.cart[0], 'url.previous'), `${site.url}/products?sid=REDACTED`, 'the next navigation starts where it ended');
});

test('a handler that blocks the main thread becomes a longtask span and a longAnimationFrame span', async () => {
  await page.evaluate(() => {
    const busy = document.createElement('button');
    busy.id = 'busy';
    busy.onclick = function blockFor200ms() {
      const until = performance.now() + 200;
      while (performance.now() < until);
    };
    document.body.append(busy);
  });
  await page.click('#busy');
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 50))));
  const task = (await traceByRoot('longtask')).find((s) => s.name === 'longtask');
  assert.ok(Number(attr(task, 'longtask.duration_ms')) >= 200, `${attr(task, 'longtask.duration_ms')} ms`);
  assert.ok(BigInt(task.endTimeUnixNano) - BigInt(task.startTimeUnixNano) >= 200_000_000n);
  const frame = (await traceByRoot('longAnimationFrame')).find((s) => s.name === 'longAnimationFrame');
  assert.ok(Number(attr(frame, 'loaf.duration_ms')) >= 200);
  assert.ok(Number(attr(frame, 'loaf.blocking_duration_ms')) >= 150, `${attr(frame, 'loaf.blocking_duration_ms')} ms blocking`);
  assert.equal(attr(frame, 'loaf.script.invoker'), 'BUTTON#busy.onclick');
});

test("the full entry's init in a module Web Worker (no document) does not throw, and the worker's spans and requests are traced", async () => {
  const answers = await page.evaluate(async (otlp) => {
    const run = (entry) =>
      new Promise((resolve) => {
        const source = `
          try {
            const sdk = await import('${location.origin}/sdk/${entry}.js');
            sdk.init({ serviceName: 'worker-${entry}', endpoint: '${otlp}', scheduleDelayMillis: 0 });
            sdk.startSpan('in the worker').end();
            await fetch('${location.origin}/api/hello?from=worker');
            await sdk.flush();
            postMessage('ok ' + sdk.diagnostics().apiErrors);
          } catch (e) {
            postMessage(e.name + ': ' + e.message);
          }`;
        const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })), { type: 'module' });
        worker.onmessage = (m) => resolve(m.data);
        worker.onerror = (e) => resolve(`error event: ${e.message}`);
      });
    return [await run('full'), await run('browser')];
  }, collector.otlp);
  assert.deepEqual(answers, ['ok 0', 'ok 0']);
  const spans = await waitFor('the worker spans', async () => {
    const s = await serviceSpans(collector, 'worker-full');
    return s.length >= 2 && s;
  });
  assert.deepEqual(spans.map((s) => s.name).sort(), ['GET', 'in the worker']);
});

test('page load continues the server trace of <meta name="traceparent"> with its <meta name="tracestate">', async () => {
  const served = await browser.newPage();
  await served.goto(site.url);
  await served.waitForFunction(() => XMLHttpRequest.prototype.open.__edgescope === true);
  await served.evaluate(async (otlp) => {
    for (const [name, content] of [['traceparent', '00-1af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'], ['tracestate', 'congo=t61rcWkgMzE']]) {
      const meta = document.createElement('meta');
      meta.name = name;
      meta.content = content;
      document.head.append(meta);
    }
    const sdk = await import('/sdk/full.js');
    sdk.init({ serviceName: 'served-page', endpoint: otlp, scheduleDelayMillis: 0 });
    await new Promise((r) => setTimeout(r, 100));
    await sdk.flush();
  }, collector.otlp);
  const spans = await waitFor('the served page load', async () => {
    const found = await traceSpans(collector, '1af7651916cd43dd8448eb211c80319c').catch(() => undefined);
    return found?.some((s) => s.name === 'documentLoad') && found;
  });
  const root = spans.find((s) => s.name === 'documentLoad');
  assert.equal(root.parentSpanId, 'b7ad6b7169203331');
  assert.equal(root.traceState, 'congo=t61rcWkgMzE');
  assert.equal(spans.find((s) => s.name === 'documentFetch').traceState, 'congo=t61rcWkgMzE', 'its children keep it');
  await served.close();
});
