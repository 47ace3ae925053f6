// The full browser entry's log sources in headless Chromium: opt-in console capture (the
// console still shows everything; the SDK's own warnings are not captured) and web vitals
// reported as `browser.web_vital` records (the LogRecord's event name) when the page is hidden.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { attr, getJson, waitFor, sdkReady, startBrowserStack } from '../support.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
});

after(() => stack?.stop());

async function records(service) {
  const doc = await getJson(`${collector.ui}/api/logs?limit=500`);
  return doc.result.resourceLogs
    .filter((rl) => attr(rl.resource, 'service.name') === service)
    .flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
}

test('console calls become log records and still reach the console', async () => {
  const page = await browser.newPage();
  const shown = [];
  page.on('console', (m) => shown.push(`${m.type()}:${m.text()}`));
  await page.goto(site.url);
  await sdkReady(page);
  await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/full.js');
    sdk.init({ serviceName: 'console-page', endpoint: otlp, scheduleDelayMillis: 0, captureConsole: ['warn', 'error'], debug: true });
    console.warn('disk almost full', { free: 3 });
    console.error(new TypeError('bad input'));
    console.info('not captured');
    await sdk.flush();
    // An SDK diagnostic, printed with debug: true: an unknown sampler name.
    sdk.init({ serviceName: 'console-page', endpoint: otlp, scheduleDelayMillis: 0, sampler: 'bogus', debug: true });
    console.warn('after re-init');
    await sdk.flush();
  }, collector.otlp);
  const logs = await waitFor('the console records', async () => {
    const r = await records('console-page');
    return r.length >= 2 && r;
  });
  const bodies = logs.map((r) => `${r.severityText}:${r.body.stringValue}`);
  assert.ok(bodies.includes('WARN:disk almost full {"free":3}'), bodies.join('|'));
  assert.ok(bodies.some((b) => b.startsWith('ERROR:TypeError: bad input\n    at ')), 'an error as its stack');
  assert.ok(!bodies.some((b) => b.includes('not captured')), 'info was not asked for');
  assert.ok(!bodies.some((b) => b.includes('[edgescope]')), 'the SDK does not capture itself');
  assert.ok(shown.includes('warning:disk almost full JSHandle@object') || shown.some((s) => s.startsWith('warning:disk almost full')));
  assert.ok(shown.some((s) => s.startsWith('warning:[edgescope]')), 'the diagnostic reached the console');
});

test('web vitals are reported once, as browser.web_vital records with ratings, when the page is hidden', async () => {
  const page = await browser.newPage();
  await page.goto(site.url);
  await sdkReady(page);
  await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/full.js');
    sdk.init({ serviceName: 'vitals-page', endpoint: otlp, scheduleDelayMillis: 0 });
    // A layout shift, and a slow interaction for INP.
    const banner = document.createElement('div');
    banner.style.height = '200px';
    banner.textContent = 'late banner';
    document.body.prepend(banner);
    const slow = document.createElement('button');
    slow.id = 'slow';
    slow.textContent = 'slow';
    slow.onclick = () => {
      const end = performance.now() + 120;
      while (performance.now() < end);
    };
    document.body.append(slow);
  }, collector.otlp);
  await page.click('#slow');
  await page.waitForTimeout(300);
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
    document.dispatchEvent(new Event('visibilitychange'));
  });
  const vitals = await waitFor('the web vitals', async () => {
    const r = (await records('vitals-page')).filter((x) => x.eventName === 'browser.web_vital');
    return r.length >= 4 && r;
  });
  const byName = Object.fromEntries(vitals.map((r) => [attr(r, 'name'), r]));
  for (const name of ['FCP', 'TTFB', 'CLS', 'INP']) assert.ok(byName[name], `${name} reported (got ${Object.keys(byName)})`);
  assert.equal(vitals.length, new Set(vitals.map((r) => attr(r, 'name'))).size, 'each vital once');
  assert.ok(Number(attr(byName.INP, 'value')) >= 100, 'INP saw the slow click');
  assert.ok(Number(attr(byName.CLS, 'value')) > 0, 'CLS saw the shift');
  for (const r of vitals) {
    // The LogRecord's event name (OTLP 1.5), not the deprecated `event.name` attribute; the value always a double.
    assert.ok(!r.attributes.some((a) => a.key === 'event.name'), 'no event.name attribute');
    const value = r.attributes.find((a) => a.key === 'value').value;
    assert.deepEqual(Object.keys(value), ['doubleValue'], `${attr(r, 'name')}: ${JSON.stringify(value)}`);
    assert.ok(['good', 'needs-improvement', 'poor'].includes(attr(r, 'rating')));
    assert.equal(attr(r, 'navigation_type'), 'navigate');
    // The message says the value with its unit (CLS has none).
    const name = attr(r, 'name');
    assert.match(r.body.stringValue, name === 'CLS' ? /^CLS [\d.]+$/ : new RegExp(`^${name} [\\d.]+ ms$`));
  }
});

test('console output made while a captured call is being recorded (a redact hook that logs) is not captured again', async () => {
  const page = await browser.newPage();
  let shown = 0;
  page.on('console', (m) => m.text().startsWith('redact hook saw') && shown++);
  await page.goto(site.url);
  await sdkReady(page);
  await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/full.js');
    sdk.init({
      serviceName: 'console-loop-page',
      endpoint: otlp,
      scheduleDelayMillis: 0,
      captureConsole: true,
      redact: (key, value) => {
        console.log('redact hook saw', key);
        return value;
      },
    });
    console.warn('captured once');
    await sdk.flush();
  }, collector.otlp);
  const logs = await waitFor('the console record', async () => {
    const r = await records('console-loop-page');
    return r.some((x) => x.body.stringValue === 'captured once') && r;
  });
  assert.deepEqual(
    // (The hook's output for span names, the page-load spans' made outside any console call, is
    // the page's own console output, captured as any other.)
    logs.map((r) => r.body.stringValue).filter((b) => b === 'redact hook saw log.message'),
    [],
    'the hook ran inside the capture: its output is shown, not recorded',
  );
  assert.equal(logs.filter((r) => r.body.stringValue === 'captured once').length, 1);
  assert.ok(shown >= 1, 'the hook output still reached the console');
});

test("a prerendered page's vitals count from its activation, as web-vitals does, and a page that never shifted reports CLS 0", async () => {
  const page = await browser.newPage();
  await page.goto(site.url);
  await sdkReady(page);
  const paint = await page.evaluate(async (otlp) => {
    // The page as a prerendered one activated late: web-vitals' FCP, LCP and TTFB are then
    // measured from `activationStart`, and its navigation type is "prerender".
    const [nav] = performance.getEntriesByType('navigation');
    const activated = { ...nav.toJSON(), activationStart: performance.now() + 60_000 };
    const byType = performance.getEntriesByType.bind(performance);
    performance.getEntriesByType = (type) => (type === 'navigation' ? [activated] : byType(type));
    const sdk = await import('/sdk/full.js');
    sdk.init({ serviceName: 'prerendered-page', endpoint: otlp, scheduleDelayMillis: 0 });
    await new Promise((r) => setTimeout(r, 300));
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
    return byType('paint').find((e) => e.name === 'first-contentful-paint')?.startTime;
  }, collector.otlp);
  assert.ok(paint > 0, 'the page painted');
  const vitals = await waitFor('the web vitals', async () => {
    const r = (await records('prerendered-page')).filter((x) => x.eventName === 'browser.web_vital');
    return r.length >= 3 && r;
  });
  const byName = Object.fromEntries(vitals.map((r) => [attr(r, 'name'), r]));
  const value = (name) => Number(attr(byName[name], 'value'));
  assert.ok(byName.FCP && byName.CLS && byName.TTFB, `FCP, CLS and TTFB reported (got ${Object.keys(byName)})`);
  assert.equal(value('FCP'), 0, 'painted before activation');
  if (byName.LCP) assert.equal(value('LCP'), 0);
  assert.equal(value('TTFB'), 0);
  assert.equal(value('CLS'), 0, 'no layout shift');
  for (const r of vitals) assert.equal(attr(r, 'navigation_type'), 'prerender');
});

test('a page reached through history reports navigation_type back-forward, as web-vitals names it', async () => {
  const page = await browser.newPage();
  await page.goto(site.url);
  await sdkReady(page);
  await page.evaluate(async (otlp) => {
    const [nav] = performance.getEntriesByType('navigation');
    const traversed = { ...nav.toJSON(), type: 'back_forward' };
    const byType = performance.getEntriesByType.bind(performance);
    performance.getEntriesByType = (type) => (type === 'navigation' ? [traversed] : byType(type));
    const sdk = await import('/sdk/full.js');
    sdk.init({ serviceName: 'traversed-page', endpoint: otlp, scheduleDelayMillis: 0 });
    await new Promise((r) => setTimeout(r, 300));
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  }, collector.otlp);
  const vitals = await waitFor('the web vitals', async () => {
    const r = (await records('traversed-page')).filter((x) => x.eventName === 'browser.web_vital');
    return r.length >= 2 && r;
  });
  assert.deepEqual([...new Set(vitals.map((r) => attr(r, 'navigation_type')))], ['back-forward']);
});

test('a page that was hidden before it painted (a background tab) reports no FCP or LCP, as web-vitals', async () => {
  const page = await browser.newPage();
  await page.goto(site.url);
  await sdkReady(page);
  await page.evaluate(async (otlp) => {
    // The browser's record of the page being hidden from the start, as in a tab opened in the
    // background: its paints come when it is first shown, and say nothing of its loading.
    const byType = performance.getEntriesByType.bind(performance);
    performance.getEntriesByType = (type) => (type === 'visibility-state' ? [{ name: 'hidden', startTime: 0 }] : byType(type));
    const sdk = await import('/sdk/full.js');
    sdk.init({ serviceName: 'background-page', endpoint: otlp, scheduleDelayMillis: 0 });
    await new Promise((r) => setTimeout(r, 300));
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  }, collector.otlp);
  const vitals = await waitFor('the web vitals', async () => {
    const r = (await records('background-page')).filter((x) => x.eventName === 'browser.web_vital');
    return r.some((x) => attr(x, 'name') === 'TTFB') && r;
  });
  assert.deepEqual(vitals.map((r) => attr(r, 'name')).filter((n) => n === 'FCP' || n === 'LCP'), []);
});

test('a page restored from the back/forward cache is a new page view: its vitals are reported again, as web-vitals does', async () => {
  const page = await browser.newPage();
  await page.goto(site.url);
  await sdkReady(page);
  await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/full.js');
    sdk.init({ serviceName: 'restored-page', endpoint: otlp, scheduleDelayMillis: 0 });
    await new Promise((r) => setTimeout(r, 300));
    const visibility = (state) => {
      Object.defineProperty(document, 'visibilityState', { value: state, configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    };
    visibility('hidden');
    window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }));
    // Back from the cache: pageshow with persisted, and the page visible again.
    visibility('visible');
    window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }));
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 50))));
    visibility('hidden');
  }, collector.otlp);
  const vitals = await waitFor('both page views', async () => {
    const r = (await records('restored-page')).filter((x) => x.eventName === 'browser.web_vital');
    return r.some((x) => attr(x, 'navigation_type') === 'back-forward-cache' && attr(x, 'name') === 'LCP') && r;
  });
  const restored = vitals.filter((r) => attr(r, 'navigation_type') === 'back-forward-cache');
  const byName = Object.fromEntries(restored.map((r) => [attr(r, 'name'), Number(attr(r, 'value'))]));
  assert.deepEqual(Object.keys(byName).sort(), ['CLS', 'FCP', 'LCP', 'TTFB']);
  assert.equal(byName.TTFB, 0);
  assert.equal(byName.CLS, 0);
  assert.ok(byName.FCP >= 0 && byName.LCP === byName.FCP, JSON.stringify(byName));
  assert.equal(vitals.filter((r) => attr(r, 'navigation_type') === 'navigate' && attr(r, 'name') === 'TTFB').length, 1, 'the first view once');
});

test('INP is the 98th percentile over every interaction of the page, the quick ones the browser does not report included', async () => {
  const page = await browser.newPage();
  await page.goto(site.url);
  await sdkReady(page);
  await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/full.js');
    sdk.init({ serviceName: 'inp-page', endpoint: otlp, scheduleDelayMillis: 0 });
    const button = document.createElement('button');
    button.id = 'tap';
    button.textContent = 'tap';
    // The first three taps block for 300, 200 and 100 ms; the rest are quick.
    const blocks = [300, 200, 100];
    button.onclick = () => {
      const end = performance.now() + (blocks.shift() ?? 0);
      while (performance.now() < end);
    };
    document.body.append(button);
  }, collector.otlp);
  // The page's own record of its interactions' durations, as the browser reports them.
  await page.evaluate(() => {
    window.__durations = new Map();
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.interactionId) window.__durations.set(e.interactionId, Math.max(window.__durations.get(e.interactionId) ?? 0, e.duration));
      }
    }).observe({ type: 'event', buffered: true, durationThreshold: 16 });
  });
  for (let i = 0; i < 103; i++) await page.click('#tap');
  await page.waitForTimeout(300);
  const { count, slowest } = await page.evaluate(() => ({
    count: performance.interactionCount,
    slowest: [...window.__durations.values()].sort((a, b) => b - a).slice(0, 3),
  }));
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  const inp = await waitFor('INP', async () => (await records('inp-page')).find((x) => attr(x, 'name') === 'INP'));
  // 103 interactions: the 98th percentile is the third slowest (web-vitals: index floor(count / 50)).
  assert.ok(count >= 100 && count < 150, `${count} interactions`);
  assert.equal(slowest.length, 3);
  assert.ok(slowest[2] < slowest[0], `the 100 ms tap is quicker than the 300 ms one (${slowest})`);
  assert.equal(Number(attr(inp, 'value')), slowest[2], `INP is the third slowest of ${slowest}`);
});

test('web vitals are reported whatever logLevel says: they are events, not logger output', async () => {
  const page = await browser.newPage();
  await page.goto(site.url);
  await sdkReady(page);
  await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/full.js');
    sdk.init({ serviceName: 'vitals-warn-page', endpoint: otlp, scheduleDelayMillis: 0, logLevel: 'warn' });
    sdk.logger.info('below the level');
    sdk.logger.warn('at the level');
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
    await sdk.flush();
  }, collector.otlp);
  const logs = await waitFor('the vitals', async () => {
    const r = await records('vitals-warn-page');
    return r.filter((x) => x.eventName === 'browser.web_vital').length >= 2 && r;
  });
  const vitals = logs.filter((x) => x.eventName === 'browser.web_vital');
  assert.ok(vitals.some((r) => attr(r, 'name') === 'TTFB') && vitals.some((r) => attr(r, 'name') === 'CLS'), vitals.map((r) => attr(r, 'name')).join());
  assert.equal(vitals.length, new Set(vitals.map((r) => attr(r, 'name'))).size, 'each vital once');
  const bodies = logs.map((r) => r.body.stringValue);
  assert.ok(bodies.includes('at the level') && !bodies.includes('below the level'), 'logLevel still holds for the logger');
});

test('console capture formats %s %d %i %f %o %O %c as the console does, and a later init without captureConsole stops it', async () => {
  const page = await browser.newPage();
  const shown = [];
  page.on('console', (m) => shown.push(m.text()));
  await page.goto(site.url);
  await sdkReady(page);
  await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/full.js');
    sdk.init({ serviceName: 'console-format-page', endpoint: otlp, scheduleDelayMillis: 0, captureConsole: true });
    console.log('hello %s', 'bob');
    console.info('%d items at %f each, %i left', '42.9', '2.5', 7.8, 'extra');
    console.warn('%cstyled%c and %o then %O', 'color: red', '', { a: 1 }, [2]);
    console.error('100% sure %s');
    console.log('no args %s');
    await sdk.flush();
    sdk.init({ serviceName: 'console-format-page', endpoint: otlp, scheduleDelayMillis: 0 });
    console.log('after an init without captureConsole');
    await sdk.flush();
  }, collector.otlp);
  const logs = await waitFor('the console records', async () => {
    const r = await records('console-format-page');
    return r.length >= 5 && r;
  });
  const bodies = logs.map((r) => r.body.stringValue);
  // A lone string is shown as it is, as the console shows it.
  assert.deepEqual(bodies.sort(), ['42 items at 2.5 each, 7 left extra', 'hello bob', 'no args %s', '100% sure %s', 'styled and {"a":1} then [2]'].sort());
  await waitFor('the console output', () => shown.some((s) => s.startsWith('hello')) && shown.includes('after an init without captureConsole'));
});
