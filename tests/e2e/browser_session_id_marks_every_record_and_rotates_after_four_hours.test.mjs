// Browser sessions, decoded: every span and log record the page exports (the full entry's page
// load, resources, interactions, navigation, requests, errors, console and web vitals too) carries
// the `session.id` current when it was made, and a session is rotated after 4 hours even when
// the page never idles for 15 minutes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { getJson, startBrowserStack, traceSpans, waitFor } from '../support.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
});

after(() => stack?.stop());

/** Every OTLP/JSON export body the page sends, decoded. */
function captureExports(page) {
  const docs = [];
  page.on('request', (r) => {
    if (r.url().startsWith(collector.otlp) && r.method() === 'POST') {
      const b = r.postDataBuffer();
      docs.push(JSON.parse((r.headers()['content-encoding'] === 'gzip' ? gunzipSync(b) : b).toString('utf8')));
    }
  });
  return docs;
}

/** `[kind, name, session.id, user.id, the span or record]` of every span and log record in `docs`. */
function items(docs) {
  const out = [];
  const value = (item, key) => item.attributes?.find((a) => a.key === key)?.value.stringValue;
  for (const doc of docs) {
    for (const rs of doc.resourceSpans ?? []) {
      for (const ss of rs.scopeSpans) for (const s of ss.spans) out.push(['span', s.name, value(s, 'session.id'), value(s, 'user.id'), s]);
    }
    for (const rl of doc.resourceLogs ?? []) {
      for (const sl of rl.scopeLogs) for (const l of sl.logRecords) out.push(['log', l.body?.stringValue, value(l, 'session.id'), value(l, 'user.id'), l]);
    }
  }
  return out;
}

test('every exported span and log record carries session.id (full entry, decoded)', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const docs = captureExports(page);
  await page.goto(`${site.url}/blank`);
  const id = await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/full.js');
    sdk.init({ serviceName: 'session-every', endpoint: otlp, scheduleDelayMillis: 0, protocol: 'http/json', captureConsole: true });
    document.body.innerHTML = '<button id="b">b</button><form id="f"><button type="submit">s</button></form>';
    document.getElementById('f').addEventListener('submit', (e) => e.preventDefault());
    document.getElementById('b').addEventListener('click', () => fetch('/api/hello?from=click'));
    document.getElementById('b').click();
    document.querySelector('#f button').click();
    await new Promise((resolve) => {
      const r = new XMLHttpRequest();
      r.open('GET', '/api/hello?from=xhr');
      r.onloadend = resolve;
      r.send();
    });
    history.pushState({}, '', '/elsewhere');
    setTimeout(() => {
      throw new Error('uncaught on purpose');
    }, 0);
    Promise.reject(new Error('rejected on purpose'));
    console.warn('console line');
    sdk.logger.info('logger line');
    sdk.startSpan('manual').end();
    const recorded = sdk.startSpan('recorded in JavaScript', { attributes: { n: 1 } });
    recorded.end();
    await new Promise((r) => setTimeout(r, 200));
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
    await new Promise((r) => setTimeout(r, 200));
    await sdk.flush();
    return sdk.sessionId();
  }, collector.otlp);
  await page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
  const all = items(docs);
  const names = new Set(all.map(([, name]) => name));
  for (const name of ['documentLoad', 'documentFetch', 'resourceFetch', 'click', 'submit', 'navigation', 'GET', 'manual', 'console line', 'logger line', 'uncaught on purpose', 'rejected on purpose']) {
    assert.ok(names.has(name), `${name} was exported: ${[...names].join(', ')}`);
  }
  assert.ok(all.some(([kind, , ]) => kind === 'log') && all.some(([kind]) => kind === 'span'));
  assert.match(id, /^[0-9a-f]{32}$/);
  assert.deepEqual(all.filter(([, , s]) => s !== id), [], 'every span and record has the session id');
  await context.close();
});

test('init called again (and after shutdown) keeps session.id and user.id on every span and record', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const docs = captureExports(page);
  await page.goto(`${site.url}/blank`);
  const id = await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/full.js');
    const config = { serviceName: 'session-reinit', endpoint: otlp, scheduleDelayMillis: 0, protocol: 'http/json', documentLoad: false, webVitals: false, longTasks: false };
    sdk.init(config);
    sdk.setUser('user-7');
    sdk.startSpan('first init').end();
    sdk.logger.info('log of the first init');
    await sdk.flush();
    sdk.init({ ...config, serviceVersion: '2' });
    sdk.startSpan('second init').end();
    sdk.logger.info('log of the second init');
    await sdk.flush();
    await sdk.shutdown();
    sdk.init(config);
    sdk.startSpan('init after shutdown').end();
    sdk.logger.info('log of the init after shutdown');
    await sdk.flush();
    return sdk.sessionId();
  }, collector.otlp);
  await page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
  const all = items(docs);
  assert.equal(all.length, 6, all.map(([, n]) => n).join());
  assert.deepEqual(all.filter(([, , s, u]) => s !== id || u !== 'user-7'), [], 'every span and record has the session and the user');
  await context.close();
});

test('a session that never idles is rotated after 4 hours, and each record carries the session current when it was made', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  // The page's clock, moved by the test.
  await page.addInitScript(() => {
    const now = Date.now;
    window.__skew = 0;
    Date.now = () => now() + window.__skew;
  });
  await page.goto(`${site.url}/blank`);
  const seen = await page.evaluate(
    async (otlp) => {
      const sdk = await import('/sdk/browser.js');
      sdk.init({ serviceName: 'session-rotation', endpoint: otlp, scheduleDelayMillis: 0 });
      const seen = [];
      // Activity every 10 minutes or less (never 15 idle) until just past 4 hours.
      const minutes = [...Array.from({ length: 24 }, (_, i) => i * 10), 239, 241, 245];
      for (const minute of minutes) {
        window.__skew = minute * 60 * 1000;
        sdk.startSpan(`minute ${minute}`).end();
        sdk.logger.info(`log at minute ${minute}`);
        seen.push([minute, sdk.sessionId()]);
      }
      await sdk.flush();
      return seen;
    },
    collector.otlp,
  );
  const first = seen[0][1];
  const rotatedAt = seen.find(([, id]) => id !== first);
  assert.ok(rotatedAt, 'the session was rotated');
  assert.equal(rotatedAt[0], 241, 'rotated at the first activity past 4 hours, not before');
  assert.ok(seen.filter(([m]) => m < 240).every(([, id]) => id === first), 'one session for the first 4 hours');
  assert.ok(seen.filter(([m]) => m > 240).every(([, id]) => id === rotatedAt[1]), 'then one new session');
  const stored = await page.evaluate(() => JSON.parse(sessionStorage.getItem('edgescope.session')));
  assert.equal(stored.id, rotatedAt[1], 'the new session is kept for the tab');

  // Decode the protobuf exports through the collector: each record has the session it was made in.
  const spans = await waitForSpans('session-rotation', 27);
  for (const span of spans) {
    const minute = Number(span.name.split(' ')[1]);
    const session = span.attributes.find((a) => a.key === 'session.id')?.value.stringValue;
    assert.equal(session, minute < 240 ? first : rotatedAt[1], span.name);
  }
  await context.close();
});

test('after 15 idle minutes the first span the page makes by itself (a long task) starts the new session', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const docs = captureExports(page);
  await page.addInitScript(() => {
    const now = Date.now;
    window.__skew = 0;
    Date.now = () => now() + window.__skew;
  });
  await page.goto(`${site.url}/blank`);
  const ids = await page.evaluate(async (otlp) => {
    const sdk = await import('/sdk/full.js');
    sdk.init({ serviceName: 'session-idle', endpoint: otlp, scheduleDelayMillis: 0, protocol: 'http/json', documentLoad: false, webVitals: false });
    const before = sdk.sessionId();
    sdk.startSpan('before idle').end();
    await new Promise((r) => setTimeout(r, 100));
    window.__skew = 16 * 60 * 1000;
    // The page is busy for 200 ms: a long task, which the browser reports a little later, to
    // every observer in one task (the SDK's has it once this one does).
    const reported = new Promise((resolve) =>
      new PerformanceObserver((list, observer) => {
        if (list.getEntries().some((e) => e.duration >= 190)) observer.disconnect(), setTimeout(resolve, 0);
      }).observe({ type: 'longtask' }),
    );
    const loopAt = performance.timeOrigin + performance.now();
    const until = performance.now() + 200;
    while (performance.now() < until);
    await reported;
    sdk.startSpan('after idle').end();
    sdk.logger.info('log after idle');
    await sdk.flush();
    return { before, after: sdk.sessionId(), loopAt };
  }, collector.otlp);
  await page.evaluate(() => new Promise((r) => setTimeout(r, 200)));
  assert.notEqual(ids.after, ids.before, 'a new session after 15 idle minutes');
  const all = items(docs);
  const session = (name) => all.find(([, n]) => n === name)?.[2];
  assert.equal(session('before idle'), ids.before);
  // The busy loop's: long and begun with the loop (the page's load, or the SDK's compile on a
  // busy machine, may have had others before it). Its time is on the timeline, or on the wall
  // clock the skew moved on by 16 minutes, which the SDK follows once the two drift apart.
  const duration = (span) => Number(Object.values(span.attributes.find((a) => a.key === 'longtask.duration_ms').value)[0]);
  const began = (span) => Number(BigInt(span.startTimeUnixNano) / 1000n) / 1000;
  const near = (t) => t >= ids.loopAt - 20 && t <= ids.loopAt + 250;
  const withLoop = (span) => near(began(span)) || near(began(span) - 16 * 60 * 1000);
  const loop = all.filter(([, n, , , span]) => n === 'longtask' && duration(span) >= 190 && withLoop(span));
  assert.equal(loop.length, 1, `the loop's long task was reported: ${all.map(([, n]) => n).join()}`);
  assert.equal(loop[0][2], ids.after, 'the long task, made after the idle time, is in the new session');
  assert.equal(session('after idle'), ids.after);
  assert.equal(session('log after idle'), ids.after);
  await context.close();
});

async function waitForSpans(service, count) {
  return waitFor(`${count} spans of ${service}`, async () => {
    const { traces } = await getJson(`${collector.ui}/api/traces?limit=200`);
    const mine = traces.filter((t) => t.rootService === service);
    if (mine.length < count) return undefined;
    return (await Promise.all(mine.map((t) => traceSpans(collector, t.traceId)))).flat();
  });
}
