// A Cloudflare-style module worker traced with `instrument`. Routes:
//   GET  /hello       a greeting that calls a downstream service (DOWNSTREAM binding) if set
//   POST /test        the W3C trace-context test-service protocol: for each {url, arguments}
//                     in the JSON body, POST `arguments` (JSON) to `url`, propagating context
// Anything else is a 404. `routeOf` is both the routing and the `route` option of `instrument`:
// a routed request's SERVER span is named `GET /hello` and has `http.route` `/hello`; a 404's has
// no route and is named after the method alone (`GET`), as the HTTP semantic conventions ask, so
// that unmatched URLs do not become span names.
import { instrument, logger } from 'edgescope';

/** The route `request` matches (its `http.route`), or undefined when it matches none. */
function routeOf(request) {
  const { pathname } = new URL(request.url);
  if (pathname === '/hello') return '/hello';
  if (pathname === '/test' && request.method === 'POST') return '/test';
  return undefined;
}

async function testService(request) {
  const cases = await request.json();
  for (const { url, arguments: args } of Array.isArray(cases) ? cases : []) {
    await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(args ?? []) });
  }
  return new Response('ok');
}

export default instrument(
  {
    async fetch(request, env) {
      const route = routeOf(request);
      if (route === '/test') return testService(request);
      if (route === '/hello') {
        let downstream = 'none';
        if (env.DOWNSTREAM) downstream = await (await fetch(env.DOWNSTREAM)).text();
        logger.info('said hello', { downstream });
        return Response.json({ hello: 'world', downstream });
      }
      return new Response('not found', { status: 404 });
    },
  },
  { route: routeOf },
);
