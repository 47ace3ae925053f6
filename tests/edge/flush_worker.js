// A worker wrapped by `instrument` for the flush tests: each request logs, waits `?wait=` ms,
// makes a child span and logs again. The wrapper notes when the promise the SDK hands to
// `ctx.waitUntil` settles (its own flush); GET /settled reports those notes, so a test can
// see whether every request's flush finished on its own.
import { instrument, logger, startActiveSpan } from './edgescope/workerd.js';

/** Request id → 'pending' once the SDK called `waitUntil`, 'settled' when that promise settled. */
const notes = new Map();

const traced = instrument(
  {
    async fetch(request) {
      const url = new URL(request.url);
      const id = url.searchParams.get('id') ?? '';
      logger.info(`request ${id} began`);
      const wait = Number(url.searchParams.get('wait')) || 0;
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await startActiveSpan('work', async () => logger.info(`request ${id} worked`));
      return new Response(id);
    },
  },
  // Small batches: a flush sends several, more than its two export slots at a time. A test can
  // shorten the flush deadline through the FLUSH_DEADLINE_MS binding.
  (env) => ({
    route: (request) => new URL(request.url).pathname,
    maxExportBatchSize: 3,
    flushDeadlineMillis: Number(env.FLUSH_DEADLINE_MS) || undefined,
  }),
);

export default {
  fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === '/settled') return Response.json(Object.fromEntries(notes));
    const id = url.searchParams.get('id');
    const watched = {
      waitUntil(promise) {
        if (id === null) return ctx.waitUntil(promise);
        notes.set(id, 'pending');
        const settled = () => notes.set(id, 'settled');
        ctx.waitUntil(promise.then(settled, settled));
      },
      passThroughOnException: () => ctx.passThroughOnException(),
    };
    return traced.fetch(request, env, watched);
  },
};
