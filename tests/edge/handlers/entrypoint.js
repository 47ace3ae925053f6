// A class-based module worker (WorkerEntrypoint), wrapped by instrument.
import { WorkerEntrypoint } from 'cloudflare:workers';
import { instrument, logger } from './edgescope/workerd.js';

class Api extends WorkerEntrypoint {
  async fetch(request) {
    // Work left running after the response through the class's own `this.ctx`.
    if (new URL(request.url).pathname === '/background') {
      this.ctx.waitUntil(
        (async () => {
          await new Promise((resolve) => setTimeout(resolve, 200));
          logger.info('entrypoint background work');
          await (await fetch(`${this.env.UPSTREAM}/from-background`)).text();
        })(),
      );
      return new Response('accepted', { status: 202 });
    }
    return new Response(`entrypoint ${new URL(request.url).pathname} ${this.env.OTEL_SERVICE_NAME}`);
  }
}

export default instrument(Api);
