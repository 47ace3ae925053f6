// `npm start` while something (a first `npm start`) holds one of its ports: it names the port and
// stops before the set-up and the build, which would empty the sdk/dist and viewer/dist that the
// running demo serves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A port free just now (listened on, then closed). */
async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

test('a busy port is named and nothing is built', async () => {
  const holder = createServer();
  await new Promise((r) => holder.listen(0, '127.0.0.1', r));
  const busy = holder.address().port;
  const [otlp, demo, api, audit] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const dist = join(root, 'sdk', 'dist');
  const before = existsSync(dist) ? statSync(dist).mtimeMs : null;
  try {
    const run = spawnSync('bash', ['scripts/start.sh'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 30_000,
      env: {
        ...process.env,
        EDGESCOPE_UI_PORT: String(busy),
        EDGESCOPE_OTLP_PORT: String(otlp),
        EDGESCOPE_DEMO_PORT: String(demo),
        EDGESCOPE_API_PORT: String(api),
        EDGESCOPE_AUDIT_PORT: String(audit),
      },
    });
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${busy} \\(in use`));
    assert.doesNotMatch(run.stdout + run.stderr, /\[setup\]|\[build\]/, 'neither set-up nor build ran');
    assert.equal(existsSync(dist) ? statSync(dist).mtimeMs : null, before, 'sdk/dist untouched');
  } finally {
    holder.close();
  }
});
