// fetch and XMLHttpRequest client spans in the cases OpenTelemetry JS's instrumentations and the
// HTTP conventions cover: exports that go through the page's fetch (a custom `fetch` in the
// config) are never traced; relative URLs resolve against `<base href>` as the browser resolves
// them; a request whose trace headers cannot be added still ends its span; an XHR object that is
// aborted, times out, fails or is opened again ends each request's span once, with that
// request's outcome (OpenTelemetry's XHR instrumentation: `abort` is no error, `timeout` and
// `error` are, with `error.type`); every form of fetch arguments keeps the caller's objects and
// body; methods are named as the conventions say; and `propagateTraceHeaderCorsUrls` is the
// latest `init`'s, matched at a host or path boundary.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { attr, getJson, sdkReady, serviceSpans, startBrowserStack, waitFor } from '../support.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
});

after(() => stack?.stop());

async function servicePage(service, { slow = false } = {}) {
  const page = await browser.newPage();
  // A slow answer, for requests cut short while under way. (Routing also answers CORS
  // preflights, so only the test that needs it routes.)
  if (slow) await page.route((url) => url.pathname === '/api/slow', (route) => setTimeout(() => route.fulfill({ status: 200, body: 'late' }).catch(() => {}), 1500));
  await page.goto(site.url);
  await sdkReady(page);
  await page.evaluate(
    async ({ otlp, service }) => {
      window.__sdk = await import('/sdk/browser.js');
      window.__sdk.init({ serviceName: service, endpoint: otlp, scheduleDelayMillis: 0, fetch: (url, init) => window.fetch(url, init) });
    },
    { otlp: collector.otlp, service },
  );
  return page;
}

/** `/api/echo` answers with the request's method, body, `x-app` header and whether it had `traceparent`. */
function routeEcho(page) {
  return page.route(
    (url) => url.pathname === '/api/echo',
    (route) => {
      const r = route.request();
      const h = r.headers();
      route.fulfill({ contentType: 'application/json', body: JSON.stringify({ method: r.method(), body: r.postData(), app: h['x-app'] ?? null, tp: !!h.traceparent }) });
    },
  );
}

/** Every span the collector holds for `service`. */
const spansOf = (service) => serviceSpans(collector, service);

test("exports through a custom fetch that calls the page's fetch are not traced", async () => {
  const page = await servicePage('export-loop');
  const exported = [];
  page.on('request', (r) => r.url().startsWith(collector.otlp) && exported.push(r.headers()));
  await page.evaluate(async () => {
    window.__sdk.startSpan('one piece of work').end();
    // Each export would make a client span for the next one, so a flush would never end.
    for (let i = 0; i < 3; i++) await Promise.race([window.__sdk.flush(), new Promise((r) => setTimeout(r, 2000))]);
  });
  await waitFor('the work span', async () => (await spansOf('export-loop')).some((x) => x.name === 'one piece of work'));
  await page.close();
  const names = (await spansOf('export-loop')).map((s) => s.name);
  assert.equal(names.filter((n) => n === 'POST').length, 0, 'no client span of an export');
  assert.deepEqual(names, ['one piece of work']);
  assert.ok(exported.length > 0 && exported.every((h) => !h.traceparent), 'no traceparent to the collector');
});

test('a relative URL resolves against <base href>: another origin there gets no traceparent', async () => {
  const page = await servicePage('base-href');
  const other = site.url.replace('127.0.0.1', 'localhost');
  const before = (await getJson(`${site.url}/api/seen`)).length;
  await page.evaluate(async (other) => {
    const base = document.createElement('base');
    base.href = `${other}/`;
    document.head.append(base);
    await fetch('api/hello').catch(() => {});
    await new Promise((resolve) => {
      const r = new XMLHttpRequest();
      r.open('GET', 'api/hello');
      r.onloadend = resolve;
      r.send();
    });
    base.remove();
    await window.__sdk.flush();
  }, other);
  const seen = (await getJson(`${site.url}/api/seen`)).slice(before);
  assert.deepEqual(
    seen.map((s) => [s.method, s.traceparent]),
    [
      ['GET', null],
      ['GET', null],
    ],
    'both requests went to the other origin without a header, so without a preflight',
  );
  const spans = await waitFor('two client spans', async () => {
    await page.evaluate(() => window.__sdk.flush());
    const s = (await spansOf('base-href')).filter((x) => x.kind === 3);
    return s.length === 2 && s;
  });
  for (const s of spans) assert.equal(attr(s, 'url.full'), `${other}/api/hello`);
});

test('a fetch whose headers cannot be copied fails as it would untraced, and its span still ends', async () => {
  const page = await servicePage('bad-headers');
  const failure = await page.evaluate(async () => {
    const failure = await fetch('/api/hello', { headers: [['no value']] }).then(
      () => 'answered',
      (e) => e.name,
    );
    await window.__sdk.flush();
    return failure;
  });
  assert.equal(failure, 'TypeError');
  const [span] = await waitFor('the failed span', async () => {
    await page.evaluate(() => window.__sdk.flush());
    const s = (await spansOf('bad-headers')).filter((x) => x.kind === 3);
    return s.length === 1 && s;
  });
  assert.equal(attr(span, 'error.type'), 'TypeError');
  assert.equal(span.status?.code, 2);
});

test('fetch() without arguments is refused as the browser refuses it, and no request goes out', async () => {
  const page = await servicePage('no-arguments');
  let requests = 0;
  page.on('request', (r) => new URL(r.url()).origin === site.url && requests++);
  const outcome = await page.evaluate(() => fetch().then((r) => `answered ${r.status}`, (e) => e.name));
  assert.equal(outcome, 'TypeError');
  assert.equal(requests, 0, 'nothing sent (it was GET /undefined)');
  await page.close();
});

test('one XMLHttpRequest object reused, aborted, timed out and opened again ends each span once', async () => {
  const page = await servicePage('xhr-reuse', { slow: true });
  const outcome = await page.evaluate(async () => {
    const r = new XMLHttpRequest();
    const done = () => new Promise((resolve) => r.addEventListener('loadend', resolve, { once: true }));
    r.open('GET', '/api/hello?n=1');
    r.send();
    await done();
    r.open('GET', '/api/missing?n=2');
    r.send();
    await done();
    r.open('GET', '/api/slow?n=3');
    r.send();
    r.abort();
    r.open('GET', '/api/slow?n=4');
    r.timeout = 50;
    r.send();
    await done();
    r.timeout = 0;
    // Opened again while under way: the browser drops the request without an event.
    r.open('GET', '/api/slow?n=5');
    r.send();
    r.open('GET', '/api/hello?n=6');
    r.send();
    await done();
    // Reopened from its own load handler, as retry code does.
    await new Promise((resolve) => {
      r.onload = () => {
        r.onload = null;
        r.open('GET', '/api/hello?n=8');
        r.send();
        // Not `loadend`: the browser still fires that for request 7.
        r.addEventListener('load', resolve, { once: true });
      };
      r.open('GET', '/api/hello?n=7');
      r.send();
    });
    // Sent twice: the second send throws, and the first request goes on.
    r.open('GET', '/api/hello?n=9');
    r.send();
    let threw;
    try {
      r.send();
    } catch (e) {
      threw = e.name;
    }
    await done();
    await window.__sdk.flush();
    return { threw, diagnostics: window.__sdk.diagnostics() };
  });
  assert.equal(outcome.threw, 'InvalidStateError');
  assert.equal(outcome.diagnostics.staleHandles, 0, 'no call on a span that had already ended');
  const spans = await waitFor('nine XHR spans', async () => {
    await page.evaluate(() => window.__sdk.flush());
    const s = (await spansOf('xhr-reuse')).filter((x) => x.kind === 3);
    return s.length >= 9 && s;
  });
  const byN = Object.fromEntries(spans.map((s) => [new URL(attr(s, 'url.full')).searchParams.get('n'), s]));
  assert.deepEqual(Object.keys(byN).sort(), ['1', '2', '3', '4', '5', '6', '7', '8', '9']);
  const summary = (n) => [attr(byN[n], 'http.response.status_code'), attr(byN[n], 'error.type'), byN[n].status?.code ?? 0];
  assert.deepEqual(summary('1'), ['200', undefined, 0]);
  assert.deepEqual(summary('2'), ['404', '404', 2]);
  assert.deepEqual(summary('3'), [undefined, undefined, 0], 'aborted: no status code, no error');
  assert.deepEqual(summary('4'), [undefined, 'timeout', 2]);
  assert.deepEqual(summary('5'), [undefined, undefined, 0], 'dropped by open: ended as aborted');
  assert.deepEqual(summary('6'), ['200', undefined, 0]);
  assert.deepEqual(summary('7'), ['200', undefined, 0]);
  assert.deepEqual(summary('8'), ['200', undefined, 0]);
  assert.deepEqual(summary('9'), ['200', undefined, 0]);
  // Cut short: each ended before the next request on the object started, not when its answer came.
  for (const n of ['3', '5']) {
    const next = byN[String(Number(n) + 1)];
    assert.ok(BigInt(byN[n].endTimeUnixNano) <= BigInt(next.startTimeUnixNano), `span ${n} ended when it was cut short`);
  }
});

test('an XMLHttpRequest that fails for lack of a CORS answer is an error span', async () => {
  const page = await servicePage('xhr-error');
  await page.evaluate(async (url) => {
    await new Promise((resolve) => {
      const r = new XMLHttpRequest();
      r.open('GET', url);
      r.onloadend = resolve;
      r.send();
    });
    await window.__sdk.flush();
  }, site.url.replace('127.0.0.1', 'localhost') + '/api/hello');
  const [span] = await waitFor('the failed span', async () => {
    await page.evaluate(() => window.__sdk.flush());
    const s = (await spansOf('xhr-error')).filter((x) => x.kind === 3);
    return s.length === 1 && s;
  });
  assert.equal(attr(span, 'error.type'), 'error');
  assert.equal(span.status?.code, 2);
  assert.equal(attr(span, 'http.response.status_code'), undefined);
});

test('propagateTraceHeaderCorsUrls given to a later init applies, as each init starts from its own config', async () => {
  const page = await servicePage('re-init');
  const other = site.url.replace('127.0.0.1', 'localhost');
  const before = (await getJson(`${site.url}/api/seen`)).length;
  await page.evaluate(
    async ({ otlp, other }) => {
      await fetch(`${other}/api/hello?first`).catch(() => {});
      window.__sdk.init({ serviceName: 're-init', endpoint: otlp, propagateTraceHeaderCorsUrls: [other] });
      await fetch(`${other}/api/hello?second`).catch(() => {});
      window.__sdk.init({ serviceName: 're-init', endpoint: otlp });
      await fetch(`${other}/api/hello?third`).catch(() => {});
    },
    { otlp: collector.otlp, other },
  );
  const seen = (await getJson(`${site.url}/api/seen`)).slice(before);
  // The test API answers no CORS headers: the preflight fails, so the request is not sent.
  assert.deepEqual(
    seen.map((s) => s.method),
    ['GET', 'OPTIONS', 'GET'],
    'only the allowed request asked for a preflight, for its traceparent',
  );
});

test("fetch(Request), and headers as Headers, arrays or objects, all get traceparent; the caller's objects and body are left as they were", async () => {
  const page = await servicePage('fetch-forms');
  await routeEcho(page);
  const out = await page.evaluate(async () => {
    const echo = async (...args) => (await fetch(...args)).json();
    const request = new Request('/api/echo', { method: 'POST', body: 'one', headers: { 'x-app': '1' } });
    const headers = new Headers({ 'x-app': '3' });
    const object = { 'x-app': '4' };
    return {
      request: await echo(request),
      requestWithInit: await echo(new Request('/api/echo', { method: 'POST', body: 'two', headers: { 'x-app': 'replaced' } }), { headers: [['x-app', '2']] }),
      headers: await echo('/api/echo', { method: 'PUT', body: 'three', headers }),
      object: await echo(new URL('/api/echo', location.href), { method: 'POST', body: 'four', headers: object }),
      callerHeaders: [...headers.keys()],
      callerObject: Object.keys(object),
      requestHeaders: [...request.headers.keys()],
    };
  });
  assert.deepEqual(out.request, { method: 'POST', body: 'one', app: '1', tp: true });
  assert.deepEqual(out.requestWithInit, { method: 'POST', body: 'two', app: '2', tp: true });
  assert.deepEqual(out.headers, { method: 'PUT', body: 'three', app: '3', tp: true });
  assert.deepEqual(out.object, { method: 'POST', body: 'four', app: '4', tp: true });
  assert.deepEqual(out.callerHeaders, ['x-app']);
  assert.deepEqual(out.callerObject, ['x-app']);
  assert.deepEqual(out.requestHeaders, ['content-type', 'x-app'], 'the Request keeps its own headers, without traceparent');
});

test('request methods follow the HTTP conventions: known ones by their name, others as _OTHER in a span named HTTP, the original as sent', async () => {
  const page = await servicePage('methods');
  await page.evaluate(async () => {
    await fetch('/api/hello?m=patch', { method: 'patch' });
    await fetch('/api/hello?m=purge', { method: 'PURGE' });
    await fetch('/api/hello?m=get');
    await fetch('/api/hello?m=post', { method: 'post' });
    await new Promise((resolve) => {
      const r = new XMLHttpRequest();
      r.open('Search', '/api/hello?m=search');
      r.onloadend = resolve;
      r.send();
    });
    await window.__sdk.flush();
  });
  const spans = await waitFor('five client spans', async () => {
    // A request span ends once its Resource Timing entry came or 300 ms after the answer.
    await page.evaluate(() => window.__sdk.flush());
    const s = (await spansOf('methods')).filter((x) => x.kind === 3);
    return s.length === 5 && s;
  });
  const byM = Object.fromEntries(
    spans.map((s) => [new URL(attr(s, 'url.full')).searchParams.get('m'), [s.name, attr(s, 'http.request.method'), attr(s, 'http.request.method_original')]]),
  );
  assert.deepEqual(byM, {
    patch: ['PATCH', 'PATCH', 'patch'],
    purge: ['HTTP', '_OTHER', 'PURGE'],
    get: ['GET', 'GET', undefined],
    post: ['POST', 'POST', undefined],
    search: ['HTTP', '_OTHER', 'Search'],
  });
});

test('a propagateTraceHeaderCorsUrls prefix matches at a boundary: an origin there is not a prefix of a look-alike host', async () => {
  const page = await servicePage('prefix-rules');
  const verdicts = await page.evaluate(async () => {
    const { allowed } = await import('/sdk/fetch.js');
    const rules = ['https://api.example.com', 'https://cdn.example.com/v1', /^https:\/\/[a-z]+\.example\.org\//];
    return Object.fromEntries(
      [
        'https://api.example.com/orders',
        'https://api.example.com',
        'https://api.example.com?q=1',
        'https://api.example.com.evil.test/orders',
        'https://api.example.community/orders',
        'https://cdn.example.com/v1/app.js',
        'https://cdn.example.com/v10/app.js',
        'https://img.example.org/a.png',
      ].map((href) => [href, allowed(new URL(href), rules)]),
    );
  });
  assert.deepEqual(verdicts, {
    'https://api.example.com/orders': true,
    'https://api.example.com': true,
    'https://api.example.com?q=1': true,
    'https://api.example.com.evil.test/orders': false,
    'https://api.example.community/orders': false,
    'https://cdn.example.com/v1/app.js': true,
    'https://cdn.example.com/v10/app.js': false,
    'https://img.example.org/a.png': true,
  });
});

test("fetch of a Request made in another frame keeps the Request's headers and body", async () => {
  const page = await servicePage('frame-request');
  await routeEcho(page);
  const out = await page.evaluate(async () => {
    const frame = document.createElement('iframe');
    document.body.append(frame);
    const request = new frame.contentWindow.Request(`${location.origin}/api/echo`, { method: 'POST', body: 'five', headers: { 'x-app': '5' } });
    const answer = await (await fetch(request)).json();
    frame.remove();
    await window.__sdk.flush();
    return answer;
  });
  assert.deepEqual(out, { method: 'POST', body: 'five', app: '5', tp: true });
  const [span] = await waitFor('the span', async () => {
    await page.evaluate(() => window.__sdk.flush());
    const s = (await spansOf('frame-request')).filter((x) => x.kind === 3);
    return s.length === 1 && s;
  });
  assert.equal(span.name, 'POST');
  assert.equal(attr(span, 'url.full'), `${site.url}/api/echo`);
});

test('a fetch that throws instead of rejecting (another wrapper) still ends its span, with the error', async () => {
  const page = await browser.newPage();
  // A document of the site without its SDK set-up (a JSON answer), so that the wrapper is there first.
  await page.goto(`${site.url}/api/seen`);
  const thrown = await page.evaluate(
    async ({ otlp }) => {
      const real = window.fetch;
      // Another library's wrapper, installed before the SDK's, that refuses some URLs at once.
      window.fetch = function (input) {
        if (String(input).includes('refused')) throw new TypeError('refused before sending');
        return real.apply(this, arguments);
      };
      const sdk = await import('/sdk/browser.js');
      sdk.init({ serviceName: 'sync-throw', endpoint: otlp, scheduleDelayMillis: 0, fetch: (url, init) => real(url, init) });
      let error;
      try {
        await fetch('/api/refused');
      } catch (e) {
        error = `${e.name}: ${e.message}`;
      }
      await sdk.flush();
      return error;
    },
    { otlp: collector.otlp },
  );
  assert.equal(thrown, 'TypeError: refused before sending', 'the page gets the very error');
  const spans = await waitFor('the refused request span', async () => {
    const s = await spansOf('sync-throw');
    return s.length > 0 && s;
  });
  await page.close();
  assert.equal(spans.length, 1);
  assert.equal(spans[0].name, 'GET');
  assert.equal(attr(spans[0], 'error.type'), 'TypeError');
  assert.equal(spans[0].status.code, 2);
});

test('an init object with inherited or getter members (Object.create, a class instance) reaches fetch whole: the method and body sent, and the span says that method', async () => {
  const page = await servicePage('init-members');
  await routeEcho(page);
  const out = await page.evaluate(async () => {
    const echo = async (...args) => (await fetch(...args)).json();
    class Options {
      #body = 'getter-body';
      get method() {
        return 'PUT';
      }
      get body() {
        return this.#body;
      }
      get headers() {
        return { 'x-app': 'class' };
      }
    }
    const out = {
      inherited: await echo('/api/echo?inherited', Object.create({ method: 'POST', body: 'proto-body', headers: { 'x-app': 'proto' } })),
      getters: await echo('/api/echo?getters', new Options()),
      // One fetch refuses (a GET with a body) is refused as without the SDK.
      refused: await fetch('/api/echo?refused', Object.create({ method: 'GET', body: 'x' })).then(() => 'sent', (e) => e.name),
    };
    await window.__sdk.flush();
    return out;
  });
  assert.deepEqual(out.inherited, { method: 'POST', body: 'proto-body', app: 'proto', tp: true });
  assert.deepEqual(out.getters, { method: 'PUT', body: 'getter-body', app: 'class', tp: true });
  assert.equal(out.refused, 'TypeError');
  const spans = await waitFor('the request spans', async () => {
    await page.evaluate(() => window.__sdk.flush());
    const s = (await spansOf('init-members')).filter((x) => x.kind === 3);
    return s.length >= 3 && s;
  });
  const method = (q) => spans.find((s) => attr(s, 'url.full').endsWith(q)).name;
  assert.deepEqual([method('?inherited'), method('?getters')], ['POST', 'PUT']);
});

test('a RegExp with the g or y flag in propagateTraceHeaderCorsUrls matches every request, not every other one', async () => {
  const page = await servicePage('regex-flags');
  const other = site.url.replace('127.0.0.1', 'localhost');
  const before = (await getJson(`${site.url}/api/seen`)).length;
  await page.evaluate(
    async ({ otlp, other }) => {
      window.__sdk.init({ serviceName: 'regex-flags', endpoint: otlp, propagateTraceHeaderCorsUrls: [/localhost/g] });
      for (const q of ['g1', 'g2', 'g3']) await fetch(`${other}/api/hello?${q}`).catch(() => {});
      window.__sdk.init({ serviceName: 'regex-flags', endpoint: otlp, propagateTraceHeaderCorsUrls: [/^http:\/\/localhost:\d+\//y] });
      for (const q of ['y1', 'y2']) await fetch(`${other}/api/hello?${q}`).catch(() => {});
    },
    { otlp: collector.otlp, other },
  );
  const seen = (await getJson(`${site.url}/api/seen`)).slice(before);
  // Each allowed request asks for a preflight (for its traceparent), which the test API fails.
  assert.deepEqual(seen.map((s) => s.method), ['OPTIONS', 'OPTIONS', 'OPTIONS', 'OPTIONS', 'OPTIONS']);
});
