// Bundles the example worker with esbuild, the way wrangler does: the `workerd` condition picks
// the package's workerd entry, and the .wasm stays an import the runtime resolves.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');

/** Resolves to the module map for `startWorkerdModules`: the bundle and the .wasm. */
export async function bundleExampleWorker() {
  const esbuild = await import(join(root, 'node_modules', 'esbuild', 'lib', 'main.js'));
  const dir = mkdtempSync(join(tmpdir(), 'edgescope-example-'));
  // workerd reads the bundle while the process runs; it goes with the process.
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'worker.js');
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
