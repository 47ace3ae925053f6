// Type-checked use of the package's API by a Node app under `moduleResolution: nodenext` (the
// `node` and `import` conditions, as tsc resolves them for an ES module; no `skipLibCheck`), the
// usual Node set-up: every declaration file must resolve its neighbours by their `.js` names.
// `init` takes the runtime's set-up too. Not executed.
import { init, instrument, logger, startActiveSpan, startSpan, type ServerConfig } from 'edgescope';
// @ts-expect-error the browser entries' own.
import { setUser } from 'edgescope';

const config: ServerConfig = {
  serviceName: 'orders',
  endpoint: new URL('http://127.0.0.1:4318'),
  captureConsole: ['warn', 'error'],
  instrumentFetch: true,
  propagateTraceHeaderUrls: ['https://api.example.com', /\.internal$/],
};
init(config);
init({ captureConsole: true, instrumentFetch: false });
// @ts-expect-error `route` belongs to `instrument`, which names each request's route.
init({ route: (request: Request) => new URL(request.url).pathname });

const handler = instrument(async (request: Request) => {
  const total: number = await startActiveSpan('price', async (span) => {
    span.setAttribute('order.items', 3);
    return 42;
  });
  startSpan('audit').end();
  logger.info('priced', { total });
  return new Response(String(total));
});
void handler;
// Under `deno serve`, an object's `fetch(request, info)`, given back as it was given.
const served: { fetch(request: Request, info: { remoteAddr: { hostname: string } }): Response } = instrument({
  fetch(request: Request, info: { remoteAddr: { hostname: string } }) {
    return new Response(`${request.url} ${info.remoteAddr.hostname}`);
  },
});
void served;
void setUser;
