// Runs in real Deno: a `Deno.serve` handler that continues an incoming traceparent with the
// SDK (its `deno` export) and exports before answering. Prints `listening <port>` when ready.
import { init, extract, startSpan, withSpan, logger, flush } from '../../sdk/dist/node.js';

init({ serviceName: 'deno-test', endpoint: Deno.env.get('OTLP_ENDPOINT'), scheduleDelayMillis: 0 });

const server = Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log(`listening ${port}`) }, async (request) => {
  const url = new URL(request.url);
  const span = startSpan(`${request.method} ${url.pathname}`, { kind: 'server', parent: extract(request.headers) });
  const body = await withSpan(span, async () => {
    logger.info('deno handled a request');
    return JSON.stringify(span.spanContext());
  });
  span.end();
  await flush();
  return new Response(body, { headers: { 'content-type': 'application/json' } });
});

// Bounded run time: the test stops the process, and it stops by itself after 60 s.
setTimeout(() => server.shutdown(), 60_000);
