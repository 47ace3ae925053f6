// The canary test: secrets planted in URLs, attribute values, log messages, span and event names and request and
// response headers (Authorization, Cookie, Set-Cookie, custom ones) are driven through the
// instrumented page, with the default entry and with `edgescope/full` (page load, resources,
// interactions, navigation, console, web vitals), and no canary appears in any telemetry byte
// that leaves it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { exportsOf, sdkReady, startBrowserStack } from '../support.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startBrowserStack();
  ({ collector, site, browser } = stack);
});

after(() => stack?.stop());

const CANARIES = {
  query: 'CANARYQUERY1',
  fragmentish: 'CANARYPASS2',
  custom: 'CANARYPIN3',
  bearer: 'CANARYBEARER4abcdef',
  jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJjYW5hcnkiOiJ5ZXMifQ.CANARYJWTsignature5x',
  card: '4111 1111 1111 1111',
  hooked: 'CANARYHOOK6',
  // URLs inside free text: an error's message, a rejection's reason, log and console messages,
  // a span's exception event.
  errorMessage: 'CANARYERRMSG19',
  rejection: 'CANARYREJECT20',
  logMessage: 'CANARYLOGMSG21',
  exceptionEvent: 'CANARYEXCEVENT23',
  // Span status messages: an error thrown inside startActiveSpan (sync and async), an uncaught
  // error while a span is active (a click handler's), and a status the app sets itself.
  statusThrow: 'CANARYSTATUS24',
  statusAsync: 'CANARYSTATUS25',
  statusClick: 'CANARYCLICKERR26',
  statusSet: 'CANARYBEARERSTATUS27',
  // Span and event names (a span named after a URL, a renamed span, an event).
  spanName: 'CANARYSPANNAME28',
  renamed: 'CANARYRENAMED29',
  eventName: 'CANARYEVENTNAME30',
  // A URL password written by hand with a raw `/`, `?` and `#` in it (a connection string).
  urlPassword: 'CANARYURLPW31',
  // A URL's user alone (often the key itself), a signed URL's signature and credential, and
  // server session ids in a query and in a path parameter.
  urlUser: 'CANARYURLUSER32',
  amzSignature: 'CANARYAMZSIG33',
  amzCredential: 'CANARYAMZCRED34',
  phpSession: 'CANARYPHPSESS35',
  pathSession: 'CANARYPATHSESS36',
  // Secret keys' values in text (a JSON object, a form body), Basic credentials, and an attribute
  // whose key names a secret.
  jsonPassword: 'CANARYJSONPW37',
  formSecret: 'CANARYFORM38',
  basic: 'Q0FOQVJZQkFTSUMzOTp4',
  keyedAttribute: 'CANARYKEYED40',
};

test('no canary secret reaches the exported telemetry', async () => {
  const page = await browser.newPage();
  const bodies = exportsOf(page, collector.otlp);
  await page.goto(site.url);
  await sdkReady(page);
  await page.evaluate(async (c) => {
    const sdk = await import('/sdk/browser.js');
    sdk.init({
      serviceName: 'canary',
      endpoint: c.otlp,
      scheduleDelayMillis: 0,
      redactQueryParams: ['tenant_pin'],
      redact: (key, value) => value.replaceAll(c.hooked, '[app-redacted]'),
    });
    await fetch(`/api/hello?access_token=${c.query}&q=shoes`);
    await fetch(`/api/hello?X-Amz-Credential=${c.amzCredential}&X-Amz-Signature=${c.amzSignature}&PHPSESSID=${c.phpSession}`);
    await fetch(`/api/hello;jsessionid=${c.pathSession}`);
    await new Promise((resolve) => {
      const u = new XMLHttpRequest();
      u.open('GET', `${location.protocol}//${c.urlUser}@${location.host}/api/hello`);
      u.onloadend = resolve;
      u.send();
    });
    await new Promise((resolve) => {
      const r = new XMLHttpRequest();
      r.open('GET', `/api/hello?Password=${c.fragmentish}&tenant_pin=${c.custom}`);
      r.onloadend = resolve;
      r.send();
    });
    await sdk.startActiveSpan('checkout', async (span) => {
      span.setAttribute('auth.header', `Bearer ${c.bearer}`);
      span.setAttribute('payment.note', `paid with ${c.card}`);
      span.setAttribute('app.secret', `internal ${c.hooked}`);
      sdk.logger.warn(`token was ${c.jwt}`, { detail: `card ${c.card}` });
      span.recordException(new Error(`POST https://api.test/pay?api_key=${c.exceptionEvent}&v=2 failed`));
      sdk.logger.info(`reset link /reset#password=${c.logMessage}`);
      sdk.logger.error(`connect postgres://app:pa/${c.urlPassword}?x#y@db:5432/main failed`);
      sdk.logger.info(`signed in ${JSON.stringify({ email: 'a@b.c', password: c.jsonPassword })}`);
      sdk.logger.warn(`retrying body client_secret=${c.formSecret}&grant_type=x`, { header: `Basic ${c.basic}` });
      span.setAttribute('db.password', c.keyedAttribute);
    });
    try {
      sdk.startActiveSpan('throws', () => {
        throw new Error(`GET https://api.test/s?access_token=${c.statusThrow} failed`);
      });
    } catch {
      // Re-thrown, as it should be.
    }
    await sdk.startActiveSpan('rejects', async () => {
      throw new Error(`GET https://api.test/s?code=${c.statusAsync} failed`);
    }).catch(() => {});
    const button = document.createElement('button');
    button.addEventListener('click', () => {
      throw new Error(`GET https://api.test/c?id_token=${c.statusClick} failed`);
    });
    sdk.startActiveSpan('clicks', () => button.click());
    sdk.startSpan(`GET /cb?access_token=${c.spanName}&state=1`).end();
    const named = sdk.startSpan('to be renamed');
    named.addEvent(`sent /x?sid=${c.eventName}`);
    named.updateName(`auth Bearer ${c.renamed}`);
    named.end();
    sdk.startSpan('status set by the app').setStatus({ code: 'error', message: `refused Bearer ${c.statusSet}` }).end();
    setTimeout(() => {
      throw new Error(`GET https://api.test/x?token=${c.errorMessage} failed`);
    });
    Promise.reject(`callback /cb?code=${c.rejection}&state=1 refused`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await sdk.flush();
  }, { ...CANARIES, otlp: collector.otlp });
  await page.evaluate(() => new Promise((r) => setTimeout(r, 200)));
  const all = Buffer.concat(bodies).toString('latin1');
  assert.ok(bodies.length >= 2 && all.includes('checkout') && all.includes('q=shoes'), 'telemetry was exported');
  for (const text of ['https://api.test/pay?api_key=', '/reset#password=', 'https://api.test/x?token=', '/cb?code=', 'https://api.test/s?access_token=', 'https://api.test/c?id_token=', 'refused Bearer ', 'GET /cb?access_token=', 'sent /x?sid=', 'auth Bearer ', 'postgres://REDACTED:REDACTED@db:5432/main', 'X-Amz-Signature=REDACTED', '/api/hello;jsessionid=REDACTED', '//REDACTED@127.0.0.1', '"password":"REDACTED"', 'client_secret=REDACTED&grant_type=x', 'Basic REDACTED']) {
    assert.ok(all.includes(text), `the text around the ${text} secret was exported`);
  }
  for (const [name, canary] of Object.entries(CANARIES)) {
    assert.ok(!all.includes(canary), `the ${name} canary leaked: ${all.slice(Math.max(0, all.indexOf(canary) - 100), all.indexOf(canary) + 40).replace(/[^\x20-\x7e]/g, '.')}`);
  }
  assert.ok(!all.includes('4111111111111111'));
});

const HEADER_CANARIES = {
  authorization: 'CANARYAUTHZ7',
  cookie: 'CANARYCOOKIE8',
  setCookie: 'CANARYSETCOOKIE9',
  requestHeader: 'CANARYREQHDR10',
  responseHeader: 'CANARYRESHDR11',
  xhrAuthorization: 'CANARYXHRAUTHZ12',
  xhrHeader: 'CANARYXHRHDR13',
};

/** Secrets the full entry's own spans could pick up: a navigation's URLs, a resource's URL, a script's URL. */
const PAGE_CANARIES = {
  navigation: 'CANARYNAV14',
  previous: 'CANARYPREV15',
  resource: 'CANARYRES16',
  hash: 'CANARYHASH17',
  script: 'CANARYSCRIPT18',
  // A URL in a console message (captured by the full entry).
  console: 'CANARYCONSOLE22',
};

for (const entry of ['browser', 'full']) {
  test(`no secret in request or response headers reaches the telemetry (${entry} entry)`, async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const bodies = exportsOf(page, collector.otlp);
    // An API that sets a cookie and answers with a secret header.
    // A script served from a signed URL, which throws: its URL is in the error's stack.
    await page.route(`${site.url}/boom.js*`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/javascript', body: 'function boom() { throw new Error("boom from a script"); }\nwindow.boomAgain = () => boom();\nboom();\n' }),
    );
    await page.route(`${site.url}/api/secret*`, (route) =>
      route.fulfill({
        status: 200,
        headers: {
          'content-type': 'application/json',
          'set-cookie': `sid=${HEADER_CANARIES.setCookie}; Path=/`,
          'x-api-key': HEADER_CANARIES.responseHeader,
          authorization: `Bearer ${HEADER_CANARIES.responseHeader}`,
        },
        body: '{"ok":true}',
      }),
    );
    await page.goto(`${site.url}/blank`);
    await page.evaluate(
      async ({ c, p, entry, otlp }) => {
        document.cookie = `session=${c.cookie}; path=/`;
        const sdk = await import(`/sdk/${entry}.js`);
        sdk.init({ serviceName: `header-canary-${entry}`, endpoint: otlp, scheduleDelayMillis: 0, captureConsole: true });
        document.body.innerHTML = '<form id="f"><button id="go" type="submit" aria-label="send">send</button></form>';
        const calls = [];
        const send = () => {
          calls.push(
            fetch('/api/secret?via=fetch', {
              method: 'POST',
              headers: { authorization: `Bearer ${c.authorization}`, 'x-api-key': c.requestHeader, 'content-type': 'application/json' },
              body: '{}',
            }).then((r) => r.text()),
          );
          calls.push(
            new Promise((resolve) => {
              const r = new XMLHttpRequest();
              r.open('GET', '/api/secret?via=xhr');
              r.setRequestHeader('Authorization', `Basic ${btoa(`user:${c.xhrAuthorization}`)}`);
              r.setRequestHeader('Authorization', `Token ${c.xhrAuthorization}`);
              r.setRequestHeader('X-Api-Key', c.xhrHeader);
              r.onloadend = () => resolve(r.getAllResponseHeaders());
              r.send();
            }),
          );
        };
        const form = document.getElementById('f');
        form.addEventListener('submit', (e) => {
          e.preventDefault();
          send();
        });
        document.getElementById('go').click();
        document.getElementById('go').addEventListener('click', send, { once: true });
        document.getElementById('go').click();
        await Promise.all(calls);
        await new Promise((resolve) => {
          const script = document.createElement('script');
          script.src = `/boom.js?sig=${p.script}&v=1#frag`;
          script.onload = script.onerror = resolve;
          document.head.append(script);
        });
        // The script's function throwing inside an active span: the span's exception event.
        try {
          sdk.startActiveSpan('calls the script', () => window.boomAgain());
        } catch {
          // Re-thrown, as it should be.
        }
        history.pushState({}, '', `/step?session=${p.previous}`);
        history.pushState({}, '', `/after?access_token=${p.navigation}#token=${p.hash}`);
        history.replaceState({}, '', '/after');
        await new Promise((resolve) => {
          const img = new Image();
          img.onload = img.onerror = resolve;
          img.src = `/api/hello?api_key=${p.resource}`;
        });
        console.log('the page logs', document.cookie.length > 0);
        console.error(`retrying https://api.test/y?q=1&access_token=${p.console} later`);
        // Hidden: the full entry reports its web vitals and every entry flushes.
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
        document.dispatchEvent(new Event('visibilitychange'));
        await new Promise((r) => setTimeout(r, 300));
        await sdk.flush();
      },
      { c: HEADER_CANARIES, p: PAGE_CANARIES, entry, otlp: collector.otlp },
    );
    await page.evaluate(() => new Promise((r) => setTimeout(r, 200)));
    const all = Buffer.concat(bodies).toString('latin1');
    assert.ok(all.includes('/api/secret') && all.includes('via=xhr'), 'the request spans were exported');
    assert.ok(all.includes('boom from a script') && all.includes('/boom.js') && all.includes('calls the script'), 'the script errors were exported with their stacks');
    if (entry === 'full') {
      for (const name of ['documentLoad', 'resourceFetch', 'submit', 'click', 'navigation', 'browser.web_vital', 'https://api.test/y?q=1&access_token=']) {
        assert.ok(all.includes(name), `the full entry exported ${name}`);
      }
    }
    for (const [name, canary] of Object.entries({ ...HEADER_CANARIES, ...PAGE_CANARIES })) {
      assert.ok(!all.includes(canary), `the ${name} canary leaked: ${all.slice(Math.max(0, all.indexOf(canary) - 300), all.indexOf(canary) + 40).replace(/[^\x20-\x7e]/g, ".")}`);
    }
    assert.ok(!all.includes(Buffer.from(`user:${HEADER_CANARIES.xhrAuthorization}`).toString('base64')), 'the Basic credentials leaked');
    await context.close();
  });
}
