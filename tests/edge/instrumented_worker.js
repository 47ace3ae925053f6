// A worker wrapped by `instrument`: it calls a downstream service, logs after the `await`, and
// fails on /boom. Its configuration comes from OpenTelemetry variables in the bindings.
import { instrument, logger } from './edgescope/workerd.js';

export default instrument(
  {
    async fetch(request, env) {
      const url = new URL(request.url);
      if (url.pathname === '/boom') throw new TypeError('boom');
      const answer = await fetch(`${env.DOWNSTREAM}/work?delay=${url.searchParams.get('delay') ?? 0}`);
      logger.info('downstream answered', { tag: url.searchParams.get('tag') ?? '' });
      return new Response(await answer.text());
    },
  },
  { route: (request) => new URL(request.url).pathname },
);
