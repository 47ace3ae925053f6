// Runs a script in real Deno (npm `deno`) and waits until it prints the port it listens on.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { root, waitFor } from '../support.mjs';

/**
 * Starts `script` with `env` and `args`, with `permissions` (env, net and read by default);
 * `listening` matches the line that carries the port. Resolves to `{ url, output(), stop() }`.
 */
export async function startDeno(script, env, listening = /listening (\d+)/, permissions = ['--allow-env', '--allow-net', '--allow-read'], args = []) {
  const deno = spawn(join(root, 'node_modules', '.bin', 'deno'), ['run', '--no-prompt', ...permissions, script, ...args], {
    env: { ...process.env, ...env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  deno.stdout.on('data', (d) => (output += d));
  deno.stderr.on('data', (d) => (output += d));
  const exited = new Promise((r) => deno.on('exit', r));
  const port = await waitFor('Deno to listen', () => {
    if (deno.exitCode !== null) throw Object.assign(new Error(`deno exited: ${output}`), { fatal: true });
    return output.match(listening)?.[1];
  }, 30000);
  return {
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    async stop() {
      if (deno.exitCode === null) deno.kill('SIGTERM');
      await exited;
    },
  };
}
