// `instrument` in real workerd (with nodejs_compat): the edge-case suite of edge_cases.mjs.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { root } from '../support.mjs';
import { edgeCases } from './edge_cases.mjs';
import { startWorkerdModules } from './workerd.mjs';

const sdk = join(root, 'sdk', 'dist');
const here = (f) => fileURLToPath(new URL(f, import.meta.url));

edgeCases((bindings) =>
  startWorkerdModules(
    {
      'worker.js': here('./edge_cases_worker.js'),
      'edge_handler.js': here('./edge_handler.js'),
      'edgescope/workerd.js': join(sdk, 'workerd.js'),
      'edgescope/api.js': join(sdk, 'api.js'),
      'edgescope/public.js': join(sdk, 'public.js'),
      'edgescope/edge.js': join(sdk, 'edge.js'),
      'edgescope/fetch.js': join(sdk, 'fetch.js'),
      'edgescope/console.js': join(sdk, 'console.js'),
      'edgescope/core.js': join(sdk, 'core.js'),
      'edgescope/wasm/edgescope_bg.wasm': join(sdk, 'wasm', 'edgescope_bg.wasm'),
    },
    bindings,
    ['nodejs_compat'],
  ),
);
