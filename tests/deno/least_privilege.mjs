// Runs in real Deno with the permissions a test gives it (no `--allow-env`, or only some names):
// `Deno.serve(instrument(handler, config))`, the config's endpoint (and service name, when
// given) from the arguments, which need no permission. Prints `listening <port>`.
import { instrument } from '../../sdk/dist/node.js';

const [endpoint, serviceName] = Deno.args;
const config = serviceName ? { endpoint, serviceName } : { endpoint };
const handler = instrument(() => new Response('handled'), config);
const server = Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log(`listening ${port}`) }, handler);
setTimeout(() => server.shutdown(), 60_000);
