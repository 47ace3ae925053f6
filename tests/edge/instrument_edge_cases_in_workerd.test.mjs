// `instrument` in real workerd (with nodejs_compat): the edge-case suite of edge_cases.mjs.
import { fileURLToPath } from 'node:url';
import { edgeCases } from './edge_cases.mjs';
import { startWorkerd } from './workerd.mjs';

const here = (f) => fileURLToPath(new URL(f, import.meta.url));

edgeCases((bindings) => startWorkerd(here('./edge_cases_worker.js'), bindings, ['nodejs_compat'], { 'edge_handler.js': here('./edge_handler.js') }));
