// Runs in real Deno without env permission, in a terminal (the test gives it one): an
// instrumented handler answers one request in-process and the script prints `answered <status>
// <body>`. The endpoint is in the config; the request continues the trace given in the
// arguments, and the service name comes from OTEL_SERVICE_NAME when the process may read it.
import { flush, instrument } from '../../sdk/dist/node.js';

const [endpoint, trace] = Deno.args;
const handler = instrument(() => new Response('handled'), { endpoint });
const response = await handler(new Request('http://127.0.0.1/x', { headers: { traceparent: `00-${trace}-${'1f'.repeat(8)}-01` } }));
console.log(`answered ${response.status} ${await response.text()}`);
await flush();
Deno.exit(0);
