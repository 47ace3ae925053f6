// Runs the demo's two workers, the to-do API (api.js) and the audit service it calls (audit.js),
// in one workerd process (npm `workerd`), each on its own 127.0.0.1 port. Each worker is bundled
// with esbuild as wrangler bundles one: the `workerd` condition picks the `edgescope` package's
// workerd entry, and its .wasm stays an import that workerd resolves.
//
//   node www/worker/workerd.mjs --dir DIR --otlp URL --api-port N --audit-port N
//     writes DIR/config.capnp and the bundles, and prints the config's path, for
//     `workerd serve DIR/config.capnp` (what scripts/start.sh does);
//   startWorkers({ otlp }) starts workerd on free ports (for tests and scripts).
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
export const WORKERD = join(root, 'node_modules', '.bin', 'workerd');

/**
 * Bundles api.js and audit.js into `dir`, beside the SDK's .wasm files they import (kept as
 * `./wasm/<name>.wasm` imports); resolves to `{ 'api.js': [wasm module names], 'audit.js': […] }`.
 */
async function bundle(dir) {
  const esbuild = await import(join(root, 'node_modules', 'esbuild', 'lib', 'main.js'));
  const { metafile } = await esbuild.build({
    entryPoints: [join(here, 'api.js'), join(here, 'audit.js')],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker'],
    external: ['*.wasm'],
    outdir: dir,
    metafile: true,
    logLevel: 'error',
    absWorkingDir: root,
  });
  const wasmOf = {};
  for (const [output, { imports }] of Object.entries(metafile.outputs)) {
    const names = imports.filter((i) => i.external && i.path.endsWith('.wasm')).map((i) => i.path.replace(/^\.\//, ''));
    for (const name of names) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      copyFileSync(join(root, 'sdk', 'dist', name), join(dir, name));
    }
    wasmOf[basename(output)] = names;
  }
  return wasmOf;
}

const text = (bindings) =>
  Object.entries(bindings)
    .map(([name, value]) => `(name = ${JSON.stringify(name)}, text = ${JSON.stringify(value)})`)
    .join(', ');

function worker(main, wasm, bindings) {
  const modules = [`(name = "${main}", esModule = embed "${main}")`, ...wasm.map((w) => `(name = "${w}", wasm = embed "${w}")`)];
  return `(
  modules = [
    ${modules.join(',\n    ')},
  ],
  # From this date workerd has nodejs_compat on by default, and with it AsyncLocalStorage: each
  # request keeps its own active span across awaits.
  compatibilityDate = "2026-11-01",
  bindings = [ ${text(bindings)} ],
  globalOutbound = "internet",
)`;
}

/**
 * Writes the bundles and `config.capnp` into `dir`; resolves to the config's path. The API
 * reaches the audit service over HTTP (through the patched global `fetch`, so the call gets a
 * CLIENT span and trace headers) and both export to `otlp`.
 */
export async function prepareWorkers({ dir, otlp, apiPort, auditPort }) {
  mkdirSync(dir, { recursive: true });
  const wasm = await bundle(dir);
  const resource = 'service.namespace=todo-demo,deployment.environment.name=demo';
  const config = `# The edgescope demo's workers; written by www/worker/workerd.mjs.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "todo-api", worker = .api),
    (name = "todo-audit", worker = .audit),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [
    (name = "api", address = "127.0.0.1:${apiPort}", http = (), service = "todo-api"),
    (name = "audit", address = "127.0.0.1:${auditPort}", http = (), service = "todo-audit"),
  ],
);

const api :Workerd.Worker = ${worker('api.js', wasm['api.js'], {
    OTEL_SERVICE_NAME: 'todo-api',
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp,
    OTEL_RESOURCE_ATTRIBUTES: resource,
    AUDIT_URL: `http://127.0.0.1:${auditPort}`,
  })};

const audit :Workerd.Worker = ${worker('audit.js', wasm['audit.js'], {
    OTEL_SERVICE_NAME: 'todo-audit',
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp,
    OTEL_RESOURCE_ATTRIBUTES: resource,
  })};
`;
  const path = join(dir, 'config.capnp');
  writeFileSync(path, config);
  return path;
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once `url` answers, or rejects after `timeout` ms or when `failed()` says so. */
async function ready(url, failed, timeout = 20000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const why = failed();
    if (why) throw new Error(why);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Starts both workers in workerd, exporting to `otlp`, on the given ports or free ones.
 * Resolves to `{ api, audit, output(), stop() }` (`api` and `audit` are base URLs).
 */
export async function startWorkers({ otlp, apiPort, auditPort } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'edgescope-demo-workers-'));
  apiPort ||= await freePort();
  auditPort ||= await freePort();
  const config = await prepareWorkers({ dir, otlp, apiPort, auditPort });
  const child = spawn(WORKERD, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const api = `http://127.0.0.1:${apiPort}`;
  const audit = `http://127.0.0.1:${auditPort}`;
  const failed = () => (child.exitCode !== null ? `workerd exited: ${output}` : undefined);
  try {
    await ready(`${api}/health`, failed);
    await ready(`${audit}/health`, failed);
  } catch (error) {
    await stop();
    throw error;
  }
  return { api, audit, output: () => output, stop };
}

function option(name) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || !process.argv[i + 1]) throw new Error(`--${name} is required`);
  return process.argv[i + 1];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(
    await prepareWorkers({
      dir: option('dir'),
      otlp: option('otlp'),
      apiPort: Number(option('api-port')),
      auditPort: Number(option('audit-port')),
    }),
  );
}
