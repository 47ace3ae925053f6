// Runs in real Deno: `Deno.serve(instrument(handler))`, configured from OTEL_* variables. The
// handler calls a downstream service and logs after the `await`. Prints `listening <port>`.
import { instrument, logger } from '../../sdk/dist/node.js';

const handler = instrument(async (request) => {
  const url = new URL(request.url);
  if (url.pathname === '/boom') throw new RangeError('out of range');
  const answer = await fetch(`${Deno.env.get('DOWNSTREAM')}/work?delay=${url.searchParams.get('delay') ?? 0}`);
  logger.info('downstream answered');
  return new Response(await answer.text());
});

const server = Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log(`listening ${port}`) }, handler);
setTimeout(() => server.shutdown(), 60_000);
