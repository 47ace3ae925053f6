// A module worker whose handler is a class instance: its methods are on the prototype, and they
// share state through `this`. Its scheduled and queue events log, make a span and call out.
import { instrument, logger, startSpan } from './edgescope/workerd.js';

class Handler {
  constructor() {
    this.events = 0;
  }
  async fetch() {
    return new Response(`events=${this.events}`);
  }
  async scheduled(controller, env) {
    this.events++;
    logger.info('from scheduled', { cron: controller.cron });
    startSpan('nightly-job').end();
    await fetch(`${env.UPSTREAM}/from-scheduled`);
  }
  async queue(batch) {
    this.events++;
    logger.info('from queue', { messages: batch.messages.length });
  }
}

export default instrument(new Handler());
