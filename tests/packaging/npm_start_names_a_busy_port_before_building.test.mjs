// `npm start` while something (a first `npm start`) holds one of its ports: it names the port and
// stops before the set-up and the build, which would empty the sdk/dist and viewer/dist that the
// running demo serves. A port that is no port, or one the user may not listen on, is named the same way. start.sh runs in a copy whose
// set-up and build only say they ran, so that a regression here does not build or start anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `n` ports free just now, all different (each listened on until all are picked, then closed). */
async function freePorts(n) {
  const servers = await Promise.all(Array.from({ length: n }, async () => {
    const s = createServer();
    await new Promise((r) => s.listen(0, '127.0.0.1', r));
    return s;
  }));
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Runs a copy of scripts/start.sh with free ports but those in `ports`; returns what it did. */
async function start(ports) {
  const copy = mkdtempSync(join(tmpdir(), 'edgescope-start-'));
  mkdirSync(join(copy, 'scripts'));
  for (const f of ['start.sh', 'free_ports.mjs']) copyFileSync(join(root, 'scripts', f), join(copy, 'scripts', f));
  for (const f of ['setup', 'build']) writeFileSync(join(copy, 'scripts', `${f}.sh`), `echo "[${f}] ran"; exit 1\n`);
  const env = { ...process.env };
  const names = ['OTLP', 'UI', 'DEMO', 'API', 'AUDIT'];
  const free = await freePorts(names.length);
  names.forEach((name, i) => { env[`EDGESCOPE_${name}_PORT`] = String(ports[name] ?? free[i]); });
  try {
    return spawnSync('bash', ['scripts/start.sh'], { cwd: copy, encoding: 'utf8', timeout: 30_000, env });
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

test('a busy port is named and nothing is set up or built', async () => {
  const holder = createServer();
  await new Promise((r) => holder.listen(0, '127.0.0.1', r));
  const busy = holder.address().port;
  try {
    const run = await start({ UI: busy });
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${busy} \\(in use`));
    assert.doesNotMatch(run.stdout + run.stderr, /\[(setup|build)\] ran/, 'neither set-up nor build ran');
  } finally {
    holder.close();
  }
});

test('a port that is no port is named and nothing is set up or built', async () => {
  const run = await start({ DEMO: 'eighty' });
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /cannot listen on 127\.0\.0\.1:eighty \(not a port/);
  assert.doesNotMatch(run.stdout + run.stderr, /\[(setup|build)\] ran/);
});

test('one port given for two servers is named and nothing is set up or built', async () => {
  const [port] = await freePorts(1);
  const run = await start({ UI: port, OTLP: port });
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} \\(given for two servers`));
  assert.doesNotMatch(run.stdout + run.stderr, /\[(setup|build)\] ran/);
});

test('a port this user may not listen on is named as refused, not as in use', async () => {
  // Port 80 needs privileges: root runs the check as `nobody` (the script copied where it may read it).
  const copy = mkdtempSync(join(tmpdir(), 'edgescope-ports-'));
  try {
    copyFileSync(join(root, 'scripts', 'free_ports.mjs'), join(copy, 'free_ports.mjs'));
    chmodSync(copy, 0o755);
    const asRoot = process.getuid?.() === 0;
    const argv = asRoot
      ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, join(copy, 'free_ports.mjs'), '80']
      : [process.execPath, join(copy, 'free_ports.mjs'), '80'];
    const run = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 30_000, cwd: copy });
    assert.equal(run.status, 1, run.stderr);
    assert.equal(run.stdout.trim(), '80 refused: EACCES');
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});
