// `deno serve` with a default export object (Deno.ServeDefaultExport) wrapped by instrument: its
// `fetch` gets `(request, info)`, info the ServeHandlerInfo, not a worker's bindings.
import { instrument, logger } from '../../sdk/dist/node.js';

export default instrument({
  fetch(request, info) {
    logger.info('served by deno serve');
    return new Response(`remote ${info.remoteAddr.hostname}`);
  },
});
