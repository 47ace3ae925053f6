// A Node (or Deno) server has no `waitUntil`: each request that ends asks for a flush. While the
// collector does not answer, a flush takes as long as the exports it waits for; a flush per
// request would leave one waiting drain (with its 30 s timer) per request, and the heap would
// grow with every request for as long as the outage lasts. Requests that end while a flush runs
// share the next one instead, and that one still sends what they queued.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnostics, instrument, logger } from '../../sdk/dist/node.js';
import { waitFor } from '../support.mjs';

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

test('2,000 requests while the collector does not answer leave a few timers, not one per request, and the next answer takes their telemetry', async () => {
  const answers = [];
  let posts = 0;
  const bodies = [];
  // A collector that holds every export until told to answer.
  const hold = async (url, request) => {
    posts++;
    const doc = JSON.parse(Buffer.from(request.body).toString());
    for (const rl of doc.resourceLogs ?? []) for (const sl of rl.scopeLogs) bodies.push(...sl.logRecords.map((r) => r.body?.stringValue));
    await new Promise((resolve) => answers.push(resolve));
    return new Response(null, { status: 200 });
  };
  const handler = instrument(
    async (request) => {
      logger.info(`served ${new URL(request.url).pathname}`);
      return new Response('ok');
    },
    { serviceName: 'outage', fetch: hold, protocol: 'http/json', compression: 'none', maxQueueSize: 10000 },
  );
  const before = timers();
  for (let i = 0; i < 2000; i++) await (await handler(new Request(`http://127.0.0.1/r${i}`))).text();
  const during = timers() - before;
  assert.ok(during < 20, `${during} timers after 2,000 requests while exports wait (one flush at a time, and one after it)`);
  assert.ok(posts <= 4, `${posts} exports under way at once`);
  // The collector answers: what the requests logged is sent.
  const answering = setInterval(() => answers.splice(0).forEach((answer) => answer()), 5);
  try {
    await waitFor('the records of every request', () => new Set(bodies).size === 2000, 30000);
  } finally {
    clearInterval(answering);
  }
  assert.equal(diagnostics().logsDropped ?? 0, 0);
});
