// Runs in real Deno for tests/edge/edge_cases.mjs: `Deno.serve(instrument(handler))` with the
// handler of tests/edge/edge_handler.js, configured from OTEL_* variables. Prints `listening <port>`.
import { instrument } from '../../sdk/dist/node.js';
import { edgeConfig, edgeHandler } from '../edge/edge_handler.js';

const handler = instrument(edgeHandler(Deno.env.get('DOWNSTREAM')), edgeConfig);
const server = Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log(`listening ${port}`) }, handler);
setTimeout(() => server.shutdown(), 120_000);
