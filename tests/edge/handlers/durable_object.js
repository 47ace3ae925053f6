// A Durable Object class wrapped by instrument: a counter kept in the object's storage, reached
// through `this.ctx`, which the SDK replaces with one that follows `waitUntil`.
import { DurableObject } from 'cloudflare:workers';
import { instrument, logger } from './edgescope/workerd.js';

export const Counter = instrument(
  class Counter extends DurableObject {
    async fetch(request) {
      const n = ((await this.ctx.storage.get('n')) ?? 0) + 1;
      await this.ctx.storage.put('n', n);
      const id = this.ctx.id.toString();
      // The runtime's methods run on the runtime's object.
      await this.ctx.blockConcurrencyWhile(async () => {});
      logger.info('counted', { n });
      return Response.json({ n, id, path: new URL(request.url).pathname });
    }
  },
);

/** Forwards every request to the counter named by `?name=`. */
export default {
  fetch(request, env) {
    const name = new URL(request.url).searchParams.get('name') || 'one';
    return env.COUNTER.get(env.COUNTER.idFromName(name)).fetch(request);
  },
};
