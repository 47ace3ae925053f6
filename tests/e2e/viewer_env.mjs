// The scaffolding of the viewer's end-to-end tests against recorded backends: a backend behind
// the collector's gateway with a browser for a whole test file (the recorded Loki of
// recorded_loki.mjs, or the Jaeger, Tempo, Zipkin and Loki of recorded_backends.mjs), and Lokis of
// a test's own, asked directly by the browser (the stand-ins allow CORS).
import { after, before } from 'node:test';
import { launchChromium, startCollector } from '../support.mjs';
import { startRecordedLoki } from './recorded_loki.mjs';

/** The logs source parameter of the Loki behind the gateway (`--upstream loki=…`). */
export const GATEWAY_LOKI = `logs=${encodeURIComponent('loki:/upstream/loki')}`;

/** The logs source parameter of a recorded Loki asked directly. */
export const directLoki = (loki) => `logs=${encodeURIComponent(`loki:${loki.url}`)}`;

/**
 * Starts, before the file's tests, a collector (`options` as for `startCollector`) and a browser,
 * and stops them after. Returns `{ collector, browser }`, filled in once the tests run.
 */
export function collectorAndBrowser(options) {
  const env = { collector: null, browser: null };
  before(async () => {
    env.collector = await startCollector(options);
    env.browser = await launchChromium();
  });
  after(async () => {
    await env.browser?.close();
    await env.collector?.stop();
  });
  return env;
}

/**
 * Starts, before the file's tests, a backend (`start()`), a collector run with `args(backend.url)`,
 * and a browser, and stops them after. Returns `{ [name]: backend, collector, browser }`, filled in
 * once the tests run.
 */
export function behindCollector(name, start, args) {
  const env = { [name]: null, collector: null, browser: null };
  before(async () => {
    env[name] = await start();
    env.collector = await startCollector({ args: args(env[name].url) });
    env.browser = await launchChromium();
  });
  after(async () => {
    await env.browser?.close();
    await env.collector?.stop();
    await env[name]?.stop();
  });
  return env;
}

/** A recorded Loki (`options` as for `startRecordedLoki`) as the collector's `loki` upstream: `{ loki, collector, browser }`. */
export const recordedLokiBehindCollector = (options) =>
  behindCollector('loki', () => startRecordedLoki(options), (url) => ['--upstream', `loki=${url}`]);

/** Runs `fn(loki)` with a recorded Loki of its own (`options` as for `startRecordedLoki`), stopped after. */
export async function withRecordedLoki(options, fn) {
  const loki = await startRecordedLoki(options);
  try {
    return await fn(loki);
  } finally {
    await loki.stop();
  }
}
