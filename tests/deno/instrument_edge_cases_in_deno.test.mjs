// `instrument` around a Deno.serve handler in real Deno: the edge-case suite of
// tests/edge/edge_cases.mjs, configured from environment variables.
import { join } from 'node:path';
import { root } from '../support.mjs';
import { edgeCases } from '../edge/edge_cases.mjs';
import { startDeno } from './deno.mjs';

edgeCases((env) => startDeno(join(root, 'tests', 'deno', 'edge_cases.mjs'), env));
