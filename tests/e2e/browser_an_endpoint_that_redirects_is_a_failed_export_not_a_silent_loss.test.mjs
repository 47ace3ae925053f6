// A browser hides a redirect's Location from a `fetch` that asked not to follow it, and following
// it would turn 301-303 into a GET without the batch (answered 2xx: counted as delivered) and take
// the configured headers to whatever host it names. So an export the endpoint redirects counts as
// failed, and nothing is sent on.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { sdkReady, startBrowserStack } from '../support.mjs';

let stack;
/** What each server was asked: the endpoint, which redirects, and where it redirects to. */
const asked = { endpoint: [], elsewhere: [] };
let status = 302;
const servers = {};

/** A server that answers preflights as a collector does (any origin, any header), then `answer`. */
function serve(name, answer) {
  const server = http.createServer((req, res) => {
    req.resume();
    asked[name].push(`${req.method} ${req.url} ${req.headers['x-api-key'] ?? ''}`.trim());
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-allow-headers', '*');
    res.setHeader('access-control-allow-methods', 'GET, POST');
    if (req.method === 'OPTIONS') return res.end();
    answer(req, res);
  });
  servers[name] = server;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
}

before(async () => {
  stack = await startBrowserStack();
  await serve('elsewhere', (req, res) => res.end());
  await serve('endpoint', (req, res) => {
    res.writeHead(status, { location: `http://127.0.0.1:${servers.elsewhere.address().port}${req.url}` });
    res.end();
  });
});

after(async () => {
  for (const server of Object.values(servers)) server.close();
  await stack?.stop();
});

for (const code of [302, 307]) {
  test(`an export the endpoint redirects (${code}) counts as failed and goes nowhere else`, async () => {
    status = code;
    asked.endpoint.length = asked.elsewhere.length = 0;
    const page = await stack.browser.newPage();
    await page.goto(stack.site.url);
    await sdkReady(page);
    const diagnostics = await page.evaluate(async ({ endpoint }) => {
      const sdk = await import('/sdk/browser.js');
      sdk.init({ serviceName: 'redirected', endpoint, headers: { 'x-api-key': 'secret' }, scheduleDelayMillis: 0 });
      sdk.startSpan('work').end();
      await sdk.flush();
      return sdk.diagnostics();
    }, { endpoint: `http://127.0.0.1:${servers.endpoint.address().port}` });
    await page.close();
    assert.ok(diagnostics.exportsFailed >= 1, JSON.stringify(diagnostics));
    assert.ok(asked.endpoint.includes('POST /v1/traces secret'), `the endpoint was asked: ${asked.endpoint}`);
    assert.deepEqual(asked.elsewhere.filter((r) => !r.startsWith('OPTIONS')), [], 'nothing followed the redirect');
  });
}
