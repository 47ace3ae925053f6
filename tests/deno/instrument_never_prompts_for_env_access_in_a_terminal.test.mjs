// `deno run` in a terminal without `--allow-env` asks the user once per environment variable read
// ("Deno requests env access to …"), and the program waits for the answer. `instrument` asks
// `Deno.permissions.querySync` first and reads only the names already granted, so nothing prompts
// and the request is answered. `script` gives Deno a terminal, as a developer's shell would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root, startCollector, traceSpans, waitFor } from '../support.mjs';

const hasScript = spawnSync('script', ['--version']).status === 0;

/** Runs tests/deno/no_prompt.mjs in a terminal with `permissions`; resolves to its output when it exits or after 20 s. */
function runInTerminal(permissions, endpoint, trace) {
  const deno = join(root, 'node_modules', '.bin', 'deno');
  const command = [deno, 'run', ...permissions, join(root, 'tests', 'deno', 'no_prompt.mjs'), endpoint, trace].map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    env: { ...process.env, OTEL_SERVICE_NAME: 'from-env', DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(output);
    });
  });
}

/** The one stored span of `trace`. */
const spanOf = (collector, trace) =>
  waitFor(`the span of ${trace}`, async () => {
    const spans = await traceSpans(collector, trace).catch(() => []);
    return spans.length === 1 && spans;
  });

test('without env permission, in a terminal, nothing prompts and the handler answers', { skip: !hasScript && 'no `script` command' }, async () => {
  const collector = await startCollector();
  try {
    const trace = '3e'.repeat(16);
    const output = await runInTerminal(['--allow-net', '--allow-read'], collector.otlp, trace);
    assert.doesNotMatch(output, /requests env access|Allow\?/, output);
    assert.match(output, /answered 200 handled/, output);
    const [span] = await spanOf(collector, trace);
    assert.equal(span.service, 'unknown_service:deno', 'OTEL_SERVICE_NAME may not be read');
  } finally {
    await collector.stop();
  }
});

test('names granted by --allow-env=NAME are still read, in a terminal, without a prompt for the others', { skip: !hasScript && 'no `script` command' }, async () => {
  const collector = await startCollector();
  try {
    const trace = '4e'.repeat(16);
    const output = await runInTerminal(['--allow-net', '--allow-read', '--allow-env=OTEL_SERVICE_NAME'], collector.otlp, trace);
    assert.doesNotMatch(output, /requests env access|Allow\?/, output);
    assert.match(output, /answered 200 handled/, output);
    const [span] = await spanOf(collector, trace);
    assert.equal(span.service, 'from-env', 'the granted name is read');
  } finally {
    await collector.stop();
  }
});
