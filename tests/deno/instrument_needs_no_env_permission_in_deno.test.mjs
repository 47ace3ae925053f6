// `instrument` in real Deno without full env permission: it reads only the OTEL_* names it uses,
// each on its own, and a name the process may not read is unset, so the handler runs and is
// traced with `--allow-env=OTEL_SERVICE_NAME` or with no env permission at all.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { root, startCollector, traceSpans, waitFor } from '../support.mjs';
import { startDeno } from './deno.mjs';

const script = join(root, 'tests', 'deno', 'least_privilege.mjs');
let collector;

before(async () => {
  collector = await startCollector();
});

after(async () => {
  await collector?.stop();
});

/** Serves one request with `traceparent` in Deno with `permissions`; resolves to its stored spans. */
async function serve(permissions, args, trace) {
  const env = { OTEL_SERVICE_NAME: 'deno-scoped', OTEL_TRACES_SAMPLER: 'always_off' };
  const deno = await startDeno(script, env, undefined, ['--allow-net', '--allow-read', ...permissions], [collector.otlp, ...args]);
  try {
    const response = await fetch(`${deno.url}/x`, { headers: { traceparent: `00-${trace}-${'1f'.repeat(8)}-01` } });
    assert.equal(response.status, 200, deno.output());
    assert.equal(await response.text(), 'handled');
    return await waitFor(`the span of ${trace}`, async () => {
      const spans = await traceSpans(collector, trace).catch(() => []);
      return spans.length === 1 && spans;
    });
  } finally {
    await deno.stop();
  }
}

test('with --allow-env=OTEL_SERVICE_NAME the handler runs, traced under that service; the names it may not read are unset', async () => {
  // OTEL_TRACES_SAMPLER=always_off is set but may not be read: the request is sampled.
  const [span] = await serve(['--allow-env=OTEL_SERVICE_NAME'], [], '1e'.repeat(16));
  assert.equal(span.service, 'deno-scoped');
  assert.equal(span.kind, 2);
});

test('with no env permission at all the handler runs and is traced', async () => {
  const [span] = await serve([], ['deno-noenv'], '2e'.repeat(16));
  assert.equal(span.service, 'deno-noenv');
});
