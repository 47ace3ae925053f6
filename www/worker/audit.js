// The demo's downstream service: an audit log the to-do API records every change with, a module
// worker wrapped with `instrument` like the API, so that its SERVER span continues the API's
// outgoing call. Routes:
//   POST /events   { action, todo, title } → { id, at } (201)
//   GET  /events   the last 100 events, newest first
// `x-demo-fault: slow` makes storing take 800 ms longer; `x-demo-fault: fail` makes it fail
// with a 503 (the page's fault switch, passed on by the API).
import { instrument, logger, startActiveSpan } from 'edgescope';

const events = [];
const KEEP = 100;
const SLOW_MS = 800;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Stores one event, as its own span: with the fault switch, the time (or the error) shows here. */
function store(event, fault) {
  return startActiveSpan('store audit event', { attributes: { 'audit.action': event.action } }, async () => {
    if (fault === 'slow') await sleep(SLOW_MS);
    if (fault === 'fail') throw new Error('the audit store is unavailable (fault injected by the demo)');
    events.unshift(event);
    events.length = Math.min(events.length, KEEP);
  });
}

async function record(request) {
  const body = await request.json().catch(() => null);
  if (!body || typeof body.action !== 'string') {
    return Response.json({ error: 'an event needs an action' }, { status: 400 });
  }
  const { action, todo, title } = body;
  const event = { id: crypto.randomUUID().slice(0, 8), at: new Date().toISOString(), action, todo, title };
  try {
    await store(event, request.headers.get('x-demo-fault'));
  } catch (error) {
    // The exception is recorded on the `store audit event` span; the SERVER span gets the 503.
    logger.error('audit event not stored', { 'audit.action': event.action, 'exception.message': error.message });
    return Response.json({ error: error.message }, { status: 503 });
  }
  logger.info(`audit: ${event.action}`, { 'audit.id': event.id, 'todo.id': String(event.todo ?? '') });
  return Response.json({ id: event.id, at: event.at }, { status: 201 });
}

const audit = instrument(
  {
    async fetch(request) {
      const { pathname } = new URL(request.url);
      if (pathname === '/events' && request.method === 'POST') return record(request);
      if (pathname === '/events' && request.method === 'GET') return Response.json({ events });
      return Response.json({ error: `no route for ${request.method} ${pathname}` }, { status: 404 });
    },
  },
  { route: (request) => (new URL(request.url).pathname === '/events' ? '/events' : undefined) },
);

export default {
  // Readiness checks stay out of the traces.
  fetch: (request, env, ctx) =>
    new URL(request.url).pathname === '/health' ? new Response('ok') : audit.fetch(request, env, ctx),
};
