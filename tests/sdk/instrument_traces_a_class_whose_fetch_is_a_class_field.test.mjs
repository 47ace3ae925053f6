// TypeScript often writes a worker class's `fetch` as a class field (`fetch = async (request) =>
// …`), which lives on the instance and hides the prototype's: `instrument(Class)` traces it as it
// traces a method, and an event handler written so too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activeSpan, flush, instrument } from '../../sdk/dist/node.js';

const spans = [];
const capture = async (url, request) => {
  const doc = JSON.parse(Buffer.from(request.body).toString());
  for (const rs of doc.resourceSpans ?? []) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
  return new Response(null, { status: 200 });
};

test('a fetch and a scheduled handler written as class fields are traced', async () => {
  class Api {
    constructor(ctx, env) {
      this.ctx = ctx;
      this.env = env;
    }
    fetch = async (request) => new Response(activeSpan() ? `traced ${new URL(request.url).pathname}` : 'not traced');
    scheduled = async () => (this.sawSpan = !!activeSpan());
  }
  const Traced = instrument(Api, { serviceName: 'class-field', fetch: capture, protocol: 'http/json', compression: 'none' });
  const worker = new Traced({ waitUntil() {} }, {});
  assert.ok(worker instanceof Api);
  assert.equal(await (await worker.fetch(new Request('http://127.0.0.1/items'))).text(), 'traced /items');
  await worker.scheduled({ cron: '* * * * *', scheduledTime: Date.now() });
  assert.equal(worker.sawSpan, true);
  await flush();
  assert.deepEqual(spans.map((s) => [s.name, s.kind]).sort(), [['GET', 2], ['scheduled', 2]]);
});

test('a fetch the constructor binds to the instance is traced once, and a field called detached keeps its instance', async () => {
  spans.length = 0;
  class Bound {
    constructor() {
      this.name = 'bound';
      this.fetch = this.fetch.bind(this);
    }
    async fetch() {
      return new Response(this.name);
    }
  }
  class Detached {
    greeting = 'hello';
    fetch = async () => new Response(this.greeting);
  }
  const config = { serviceName: 'class-field', fetch: capture, protocol: 'http/json', compression: 'none' };
  const bound = new (instrument(Bound, config))({ waitUntil() {} }, {});
  assert.equal(await (await bound.fetch(new Request('http://127.0.0.1/bound'))).text(), 'bound');
  const { fetch: detached } = new (instrument(Detached, config))({ waitUntil() {} }, {});
  assert.equal(await (await detached(new Request('http://127.0.0.1/detached'))).text(), 'hello');
  // The same request object served again is traced again.
  const again = new Request('http://127.0.0.1/bound');
  await bound.fetch(again);
  await bound.fetch(again);
  await flush();
  assert.equal(spans.filter((s) => s.kind === 2).length, 4, JSON.stringify(spans.map((s) => s.name)));
});
