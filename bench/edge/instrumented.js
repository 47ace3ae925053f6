// The handler of plain.js wrapped by `instrument`: a SERVER span per request, a log record,
// and the export through ctx.waitUntil (to a sink that answers at once).
import { instrument, logger } from './edgescope/workerd.js';

export default instrument({
  async fetch(request) {
    const url = new URL(request.url);
    logger.info('greeting', { name: url.searchParams.get('name') ?? 'world' });
    return new Response(`hello ${url.searchParams.get('name') ?? 'world'}`);
  },
});
