// A module worker wrapped by `instrument` for tests/edge/edge_cases.mjs (see edge_handler.js).
import { instrument } from './edgescope/workerd.js';
import { edgeConfig, edgeHandler } from './edge_handler.js';

export default instrument({ fetch: (request, env, ctx) => edgeHandler(env.DOWNSTREAM)(request, ctx) }, edgeConfig);
