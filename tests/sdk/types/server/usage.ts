// Type-checked use of the package's API by a worker (the `workerd` condition, as wrangler
// resolves it): `instrument` is there, the browser-only functions are not. Not executed.
import { init, instrument, startSpan, type InstrumentConfig } from 'edgescope';
// @ts-expect-error the browser entries' own: a worker that imported it would fail to link.
import { setUser } from 'edgescope';
// @ts-expect-error
import { sessionId, documentContext } from 'edgescope';

init({ serviceName: 'worker' });
const config: InstrumentConfig = { serviceName: 'worker', route: (request) => new URL(request.url).pathname };
export default instrument(
  {
    async fetch(request: Request) {
      startSpan('work').end();
      return new Response(request.url);
    },
  },
  config,
);
void [setUser, sessionId, documentContext];

// The handler shapes of the README ("Handler shapes", "Other events"), each given back as the type it was given.
type Ctx = { waitUntil(promise: Promise<unknown>): void };
interface Env {
  API: string;
}
// A class instance: its other methods and its state are kept.
class Handler {
  count = 0;
  async fetch(request: Request, env: Env, ctx: Ctx) {
    this.count++;
    return new Response(`${request.url} ${env.API} ${this.count}`);
  }
  async scheduled() {}
  hello() {
    return 'hi';
  }
}
const instance: Handler = instrument(new Handler(), config);
instance.hello();
// A class: a WorkerEntrypoint, a Durable Object class (with an RPC method only, too) comes back as a class.
declare abstract class WorkerEntrypoint<E = unknown> {
  protected ctx: Ctx;
  protected env: E;
  constructor(ctx: Ctx, env: E);
  fetch?(request: Request): Response | Promise<Response>;
}
const Entrypoint = instrument(
  class extends WorkerEntrypoint<Env> {
    async fetch(request: Request) {
      return new Response(`${request.url} ${this.env.API}`);
    }
  },
);
const entrypoint: WorkerEntrypoint<Env> = new Entrypoint({ waitUntil() {} }, { API: 'x' });
class Counter {
  constructor(readonly state: unknown, readonly env: Env) {}
  async add(n: number) {
    return n + 1;
  }
  async alarm() {}
}
const counter: typeof Counter = instrument(Counter);
// A worker with no `fetch`: cron-only, queue-only, email.
const cron = instrument({ async scheduled(controller: { cron: string }, env: Env, ctx: Ctx) {} });
cron.scheduled({ cron: '* * * * *' }, { API: 'x' }, { waitUntil() {} });
const queue = instrument({ async queue(batch: { messages: unknown[] }, env: Env) {}, async email(message: unknown) {} });
// Handlers typed by an interface without an index signature, as wrangler's `ExportedHandler<Env>` is (whose
// handlers are optional properties, `request` a Request of its own).
interface MyHandler {
  fetch(request: Request, env: Env, ctx: Ctx): Promise<Response>;
}
declare const typed: MyHandler;
const fromInterface: MyHandler = instrument(typed);
interface CfRequest extends Request {
  cf?: { colo: string };
}
interface ExportedHandler<E> {
  fetch?: (request: CfRequest, env: E, ctx: Ctx) => Response | Promise<Response>;
  scheduled?: (controller: unknown, env: E, ctx: Ctx) => void | Promise<void>;
}
declare const exported: ExportedHandler<Env>;
const fromExported: ExportedHandler<Env> = instrument(exported);
// Parameters typed by `instrument` (`request` is a Request).
const untyped = instrument({ async fetch(request, env, ctx) { return new Response(request.url); } });
const fn: (request: Request, info: unknown) => Promise<Response> = instrument(async (request: Request, info: unknown) => new Response(request.url));
// Within a function generic over the handler.
export function withTelemetry<T extends MyHandler>(handler: T): T {
  return instrument(handler, config);
}

// @ts-expect-error not a handler.
instrument(42);
// @ts-expect-error not a handler.
instrument('x');
// @ts-expect-error not a handler.
instrument(null);
// @ts-expect-error a `fetch` that is not a function.
instrument({ fetch: 1 });
// @ts-expect-error a `fetch` that does not take a Request.
instrument({ fetch: (n: number) => new Response(String(n)) });
// @ts-expect-error a `fetch` that answers no Response.
instrument({ async fetch(request: Request) { return request.url; } });
// @ts-expect-error a `scheduled` that is not a function.
instrument({ scheduled: 'daily' });
// @ts-expect-error no handler at all (a misspelt `fetch`).
instrument({ fecth: async (request: Request) => new Response(request.url) });
// @ts-expect-error a function that is not a request handler.
instrument((n: number) => n);
// @ts-expect-error a class whose `fetch` is not a function.
instrument(class { fetch = 1; });
void [entrypoint, counter, queue, fromInterface, fromExported, untyped, fn];
