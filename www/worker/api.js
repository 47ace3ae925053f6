// The demo's to-do API: a module worker wrapped with `instrument`, run in workerd. Routes:
//   GET    /api/todos        the list
//   POST   /api/todos        { title } → the new to-do (201)
//   PATCH  /api/todos/:id    { done } → the changed to-do
//   DELETE /api/todos/:id    → 204
// Every change is first recorded by the audit service (AUDIT_URL, another worker) and applied
// only once the audit accepted it, so a failing audit service fails the change (500) and a slow
// one slows it down. The page asks for that on purpose with `x-demo-fault: slow|fail`, which is
// passed on to the audit service.
//
// The to-dos live in a Map in this isolate's memory: workerd runs the demo in one isolate, so
// every request sees the same list until workerd restarts (on Cloudflare, where a worker runs in
// many isolates, they would belong in a Durable Object or KV).
import { activeSpan, instrument, logger } from 'edgescope';

const todos = new Map();
const MAX_TITLE = 200;
const FAULTS = new Set(['slow', 'fail']);

/** `http.route` for the SERVER span: the path with the to-do id replaced by `:id`. */
function route(request) {
  const path = new URL(request.url).pathname;
  if (path === '/api/todos') return '/api/todos';
  if (/^\/api\/todos\/[^/]+$/.test(path)) return '/api/todos/:id';
  return undefined;
}

const json = (body, status = 200) => Response.json(body, { status });
const problem = (status, error) => json({ error }, status);

/** Records a change with the audit service; throws when it does not accept it. */
async function audit(env, request, event) {
  const fault = request.headers.get('x-demo-fault');
  const headers = { 'content-type': 'application/json' };
  if (FAULTS.has(fault)) headers['x-demo-fault'] = fault;
  const response = await fetch(`${env.AUDIT_URL}/events`, { method: 'POST', headers, body: JSON.stringify(event) });
  if (!response.ok) {
    const reason = (await response.json().catch(() => ({}))).error ?? response.statusText;
    throw new Error(`the audit service answered ${response.status}: ${reason}`);
  }
  return response.json();
}

/** Applies `change` after the audit service recorded `event`; a refused audit is a 500. */
async function audited(env, request, event, change) {
  try {
    await audit(env, request, event);
  } catch (error) {
    activeSpan()?.recordException(error);
    logger.error('change not applied: the audit service failed', {
      'todo.action': event.action,
      'exception.message': error.message,
    });
    return problem(500, error.message);
  }
  return change();
}

async function readJson(request) {
  try {
    const body = await request.json();
    return body && typeof body === 'object' ? body : {};
  } catch {
    return {};
  }
}

async function create(request, env) {
  const { title } = await readJson(request);
  const text = typeof title === 'string' ? title.trim() : '';
  if (!text) return problem(400, 'a to-do needs a title');
  if (text.length > MAX_TITLE) return problem(400, `a title has at most ${MAX_TITLE} characters`);
  const todo = { id: crypto.randomUUID().slice(0, 8), title: text, done: false, createdAt: new Date().toISOString() };
  return audited(env, request, { action: 'add', todo: todo.id, title: todo.title }, () => {
    todos.set(todo.id, todo);
    logger.info('to-do added', { 'todo.id': todo.id, 'todo.count': todos.size });
    return json(todo, 201);
  });
}

async function update(request, env, id) {
  const todo = todos.get(id);
  if (!todo) return problem(404, `no to-do ${id}`);
  const { done } = await readJson(request);
  if (typeof done !== 'boolean') return problem(400, '`done` must be true or false');
  return audited(env, request, { action: done ? 'complete' : 'reopen', todo: id, title: todo.title }, () => {
    todo.done = done;
    logger.info(done ? 'to-do completed' : 'to-do reopened', { 'todo.id': id });
    return json(todo);
  });
}

async function remove(request, env, id) {
  const todo = todos.get(id);
  if (!todo) return problem(404, `no to-do ${id}`);
  return audited(env, request, { action: 'delete', todo: id, title: todo.title }, () => {
    todos.delete(id);
    logger.info('to-do deleted', { 'todo.id': id, 'todo.count': todos.size });
    return new Response(null, { status: 204 });
  });
}

const api = instrument(
  {
    async fetch(request, env) {
      const url = new URL(request.url);
      const method = request.method;
      if (url.pathname === '/api/todos') {
        if (method === 'GET') return json({ todos: [...todos.values()] });
        if (method === 'POST') return create(request, env);
        return problem(405, `${method} is not allowed on /api/todos`);
      }
      const match = url.pathname.match(/^\/api\/todos\/([^/]+)$/);
      if (match) {
        const id = decodeURIComponent(match[1]);
        if (method === 'PATCH') return update(request, env, id);
        if (method === 'DELETE') return remove(request, env, id);
        return problem(405, `${method} is not allowed on /api/todos/:id`);
      }
      return problem(404, `no route for ${url.pathname}`);
    },
  },
  { route },
);

export default {
  // Readiness checks stay out of the traces.
  fetch: (request, env, ctx) =>
    new URL(request.url).pathname === '/health' ? new Response('ok') : api.fetch(request, env, ctx),
};
