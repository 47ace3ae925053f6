// Type-checked use of the package's API by a worker (the `workerd` condition, as wrangler
// resolves it): `instrument` is there, the browser-only functions are not. Not executed.
import { init, instrument, startSpan, type InstrumentConfig } from 'edgescope';
// @ts-expect-error the browser entries' own: a worker that imported it would fail to link.
import { setUser } from 'edgescope';
// @ts-expect-error
import { sessionId, documentContext } from 'edgescope';

init({ serviceName: 'worker' });
const config: InstrumentConfig = { serviceName: 'worker', route: (request) => new URL(request.url).pathname };
export default instrument(
  {
    async fetch(request: Request) {
      startSpan('work').end();
      return new Response(request.url);
    },
  },
  config,
);
void [setUser, sessionId, documentContext];
