// `instrument` on a cold isolate (for instrument_traces_requests_in_workerd.test.mjs): /ready
// answers without the SDK, so the first instrumented requests are the ones the test sends, all
// at once, while the SDK sets itself up.
import { instrument, logger } from './edgescope/workerd.js';

const instrumented = instrument({
  async fetch(request, env) {
    const url = new URL(request.url);
    const answer = await fetch(`${env.DOWNSTREAM}/work?delay=${url.searchParams.get('delay') ?? 0}`);
    logger.info('downstream answered', { tag: url.searchParams.get('tag') ?? '' });
    return new Response(await answer.text());
  },
});

export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname === '/ready') return new Response('ready');
    return instrumented.fetch(request, env, ctx);
  },
};
