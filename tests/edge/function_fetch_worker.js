// A module worker whose `fetch` is a function handler wrapped by `instrument` (as
// `fetch: instrument(app.fetch)` with Hono): workerd calls it as `(request, env, ctx)`.
import { instrument, logger } from './edgescope/workerd.js';

export default {
  fetch: instrument(async (request, env, ctx) => {
    logger.info('from the function handler');
    ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, 10)));
    return new Response(`${typeof env.OTEL_SERVICE_NAME} ${typeof ctx.waitUntil}`);
  }),
};
