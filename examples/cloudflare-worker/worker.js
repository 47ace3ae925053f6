// A Cloudflare-style module worker traced with `instrument`. Routes:
//   GET  /hello       a greeting that calls a downstream service (DOWNSTREAM binding) if set
//   POST /test        the W3C trace-context test-service protocol: for each {url, arguments}
//                     in the JSON body, POST `arguments` (JSON) to `url`, propagating context
import { instrument, logger } from 'edgescope';

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
      const url = new URL(request.url);
      if (request.method === 'POST' && url.pathname === '/test') return testService(request);
      if (url.pathname === '/hello') {
        let downstream = 'none';
        if (env.DOWNSTREAM) downstream = await (await fetch(env.DOWNSTREAM)).text();
        logger.info('said hello', { downstream });
        return Response.json({ hello: 'world', downstream });
      }
      return new Response('not found', { status: 404 });
    },
  },
  { route: (request) => new URL(request.url).pathname },
);
