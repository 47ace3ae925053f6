// Runs a worker in the real workerd runtime (npm `workerd`) on 127.0.0.1, with the built SDK.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, waitFor } from '../support.mjs';

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts `workerPath` in workerd, importing the SDK's files from sdk/dist, with `bindings` (text)
 * and `modules` of the worker's own besides (module name → file).
 */
export async function startWorkerd(workerPath, bindings, compatibilityFlags = [], modules = {}) {
  const sdk = join(root, 'sdk', 'dist');
  return startWorkerdModules(
    {
      'worker.js': workerPath,
      ...modules,
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
    compatibilityFlags,
  );
}

/**
 * Starts workerd with `modules` (module name → file; the first is the main module; `.wasm`
 * files become wasm modules) and `bindings` (text); resolves to `{ url, output(), stop() }`.
 */
export async function startWorkerdModules(modules, bindings, compatibilityFlags = []) {
  const dir = mkdtempSync(join(tmpdir(), 'edgescope-workerd-'));
  const port = await freePort();
  // workerd embeds files relative to the config file: copy every module beside it.
  for (const [name, from] of Object.entries(modules)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    copyFileSync(from, join(dir, name));
  }
  const module = (name) =>
    `(name = ${JSON.stringify(name)}, ${/\.wasm(\?module)?$/.test(name) ? 'wasm' : 'esModule'} = embed ${JSON.stringify(name)})`;
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [ ${Object.keys(modules).map(module).join(', ')} ],
  compatibilityDate = "2026-11-01",
  compatibilityFlags = [ ${compatibilityFlags.map((f) => JSON.stringify(f)).join(', ')} ],
  bindings = [ ${Object.entries(bindings).map(([k, v]) => `(name = ${JSON.stringify(k)}, text = ${JSON.stringify(v)})`).join(', ')} ],
  globalOutbound = "internet",
);
`;
  return serve(dir, config, port);
}

/** The SDK's files as workerd modules (module name → file in sdk/dist). */
function sdkModules() {
  const sdk = join(root, 'sdk', 'dist');
  const files = ['workerd.js', 'api.js', 'public.js', 'edge.js', 'fetch.js', 'console.js', 'core.js', 'wasm/edgescope_bg.wasm'];
  return Object.fromEntries(files.map((f) => [`edgescope/${f}`, join(sdk, f)]));
}

/**
 * Starts workerd with several workers, each `{ name, main, bindings, services, durableObjects }`:
 * `main` its module (the SDK beside it), `bindings` text bindings, `services` service bindings
 * (binding name → worker name), `durableObjects` Durable Object classes the module exports
 * (binding name → class name; kept in memory). The first worker gets the HTTP socket; every worker has
 * `service_binding_extra_handlers`, so that a service binding can call `scheduled` and `queue`.
 * Resolves to `{ url, output(), stop() }`.
 */
export async function startWorkers(workers) {
  const dir = mkdtempSync(join(tmpdir(), 'edgescope-workerd-'));
  const port = await freePort();
  const blocks = [];
  for (const [i, w] of workers.entries()) {
    const modules = { 'worker.js': w.main, ...sdkModules() };
    for (const [name, from] of Object.entries(modules)) {
      mkdirSync(join(dir, w.name, name, '..'), { recursive: true });
      copyFileSync(from, join(dir, w.name, name));
    }
    const module = (name) => `(name = ${JSON.stringify(name)}, ${/\.wasm$/.test(name) ? 'wasm' : 'esModule'} = embed ${JSON.stringify(`${w.name}/${name}`)})`;
    const bindings = [
      ...Object.entries(w.bindings || {}).map(([k, v]) => `(name = ${JSON.stringify(k)}, text = ${JSON.stringify(v)})`),
      ...Object.entries(w.services || {}).map(([k, v]) => `(name = ${JSON.stringify(k)}, service = ${JSON.stringify(v)})`),
      ...Object.entries(w.durableObjects || {}).map(([k, v]) => `(name = ${JSON.stringify(k)}, durableObjectNamespace = ${JSON.stringify(v)})`),
    ];
    const classes = Object.values(w.durableObjects || {});
    const durable = classes.length
      ? `durableObjectNamespaces = [ ${classes.map((c) => `(className = ${JSON.stringify(c)}, uniqueKey = ${JSON.stringify(`${w.name}-${c}`)})`).join(', ')} ],
  durableObjectStorage = (inMemory = void),`
      : '';
    blocks.push(`const w${i} :Workerd.Worker = (
  modules = [ ${Object.keys(modules).map(module).join(', ')} ],
  ${durable}
  compatibilityDate = "2026-11-01",
  compatibilityFlags = [ "service_binding_extra_handlers" ],
  bindings = [ ${bindings.join(', ')} ],
  globalOutbound = "internet",
);`);
  }
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ ${workers.map((w, i) => `(name = ${JSON.stringify(w.name)}, worker = .w${i})`).join(', ')},
    (name = "internet", network = (allow = ["public", "private", "local"])) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = ${JSON.stringify(workers[0].name)}) ],
);
${blocks.join('\n')}
`;
  // `--experimental`: service_binding_extra_handlers is an experimental flag.
  return serve(dir, config, port, ['--experimental']);
}

/**
 * Runs `workerd serve` on `config` (written into `dir`, which holds the embedded files) until it
 * listens on `port`; resolves to `{ url, output(), stop() }`, `stop` removing `dir`. The port was
 * free when picked, but another process may take it before workerd binds it: workerd then exits
 * naming the address in use, and is started again on another port (at most three times).
 */
async function serve(dir, config, port, flags = []) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await serveOn(dir, config, port, flags);
    } catch (e) {
      if (!e.addressInUse || attempt === 3) {
        rmSync(dir, { recursive: true, force: true });
        throw e;
      }
      const next = await freePort();
      config = config.replaceAll(`127.0.0.1:${port}`, `127.0.0.1:${next}`);
      port = next;
    }
  }
}

async function serveOn(dir, config, port, flags) {
  const configPath = join(dir, 'config.capnp');
  writeFileSync(configPath, config);
  const child = spawn(join(root, 'node_modules', '.bin', 'workerd'), ['serve', ...flags, configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const url = `http://127.0.0.1:${port}`;
  const failed = () => Object.assign(new Error(`workerd exited: ${output}`), {
    fatal: true,
    addressInUse: /Address already in use/.test(output),
  });
  try {
    await waitFor('workerd to listen', async () => {
      if (child.exitCode !== null) throw failed();
      try {
        await fetch(url + '/ready');
        // An answer while workerd fails to bind came from the process that holds the port.
        return child.exitCode === null && !/Address already in use/.test(output);
      } catch {
        return false;
      }
    }, 20000);
  } catch (e) {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
    throw e.addressInUse === undefined && /Address already in use/.test(output) ? failed() : e;
  }
  return {
    url,
    output: () => output,
    async stop() {
      // workerd drains its requests on SIGTERM; one the runtime left hanging (a response body
      // that failed on a chunk that is not bytes stalls there) would keep it alive: killed then.
      if (child.exitCode === null) child.kill('SIGTERM');
      const drained = setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(drained);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
