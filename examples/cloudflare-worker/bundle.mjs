// Bundles the example worker with esbuild, the way wrangler does: the `workerd` condition picks
// the package's workerd entry, and the .wasm stays an import the runtime resolves.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');

/** Resolves to the module map for `startWorkerdModules`: the bundle and the .wasm. */
export async function bundleExampleWorker() {
  const esbuild = await import(join(root, 'node_modules', 'esbuild', 'lib', 'main.js'));
  const out = join(mkdtempSync(join(tmpdir(), 'edgescope-example-')), 'worker.js');
  await esbuild.build({
    entryPoints: [join(here, 'worker.js')],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker'],
    external: ['*.wasm'],
    outfile: out,
    logLevel: 'error',
    absWorkingDir: root,
  });
  return { 'worker.js': out, 'wasm/edgescope_bg.wasm': join(root, 'sdk', 'dist', 'wasm', 'edgescope_bg.wasm') };
}
