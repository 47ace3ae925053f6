// A class-based module worker (WorkerEntrypoint), wrapped by instrument.
import { WorkerEntrypoint } from 'cloudflare:workers';
import { instrument } from './edgescope/workerd.js';

class Api extends WorkerEntrypoint {
  async fetch(request) {
    return new Response(`entrypoint ${new URL(request.url).pathname} ${this.env.OTEL_SERVICE_NAME}`);
  }
}

export default instrument(Api);
