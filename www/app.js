// The to-do page: plain ESM, no framework. The SDK's full browser entry records the page load,
// web vitals, long tasks and uncaught errors by itself; each user action is a span of its own,
// named after what the user did, that parents the API request it makes (the SDK traces `fetch`
// and adds `traceparent`) and the log records written when the answer comes.
import { init, logger, startSpan, withSpan } from 'edgescope/full';
import { otlpEndpoint, viewerUrl } from '/config.js';

init({
  serviceName: 'todo-web',
  serviceVersion: '0.1.0',
  endpoint: otlpEndpoint,
  scheduleDelayMillis: 500,
  // The SDK's generic `click`/`submit` spans end as soon as the event's handlers return, before
  // the request they started is answered, and every click (into the text field, on the switch
  // below) would become a trace of its own named `click`. This page makes its own, per action.
  interactions: false,
});

const $ = (selector) => document.querySelector(selector);
const form = $('#add-form');
const input = $('#new-title');
const addButton = $('#add');
const list = $('#todos');
const board = $('#board');

/** The list as the API last confirmed it. */
let todos = [];
/** Ids of to-dos with a request under way. */
const pending = new Set();
/** The fault switch: '', 'slow' or 'fail', sent as `x-demo-fault`. */
let fault = '';
let busy = 0;

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

/**
 * Runs one user action as a span. `work(inSpan)` gets `inSpan(fn)`, which runs `fn` with the span
 * active, so that a request `fn` starts is the span's child and a record it logs carries the span.
 * The span is active only while `fn` runs, never across an `await`: the page has one active-span
 * stack, and a span left on it during a slow request would adopt whatever the user does meanwhile.
 * `work` resolves to the HTTP status; a failure marks the span, logs an ERROR and shows a message.
 */
async function action(name, attributes, label, work) {
  const span = startSpan(name, { attributes });
  // Read while the span is open: an ended span no longer reports its ids.
  const { traceId } = span.spanContext();
  const inSpan = (fn) => {
    let result;
    withSpan(span, () => {
      result = fn();
    });
    return result;
  };
  const started = performance.now();
  setBusy(1);
  let status;
  try {
    status = await work(inSpan);
    showError('');
  } catch (error) {
    status = error.status ?? 'failed';
    span.recordException(error);
    span.setStatus({ code: 'error', message: error.message });
    const attrs = error.status ? { 'http.response.status_code': error.status } : {};
    inSpan(() => logger.error(`${name} failed: ${error.message}`, attrs));
    showError(`Could not ${label}: ${error.message}`);
  } finally {
    span.end();
    setBusy(-1);
  }
  recordAction({ name, label, status, ms: performance.now() - started, traceId });
}

/** Calls the to-do API (same origin) with the fault switch's header; throws ApiError unless 2xx. */
async function request(inSpan, method, path, body) {
  const headers = body === undefined ? {} : { 'content-type': 'application/json' };
  if (fault) headers['x-demo-fault'] = fault;
  const init = { method, headers, body: body === undefined ? undefined : JSON.stringify(body) };
  const response = await inSpan(() => fetch(path, init));
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, (data && data.error) || `HTTP ${response.status}`);
  return { status: response.status, data };
}

function loadTodos() {
  return action('load to-dos', { 'event.type': 'load' }, 'load the list', async (inSpan) => {
    const { status, data } = await request(inSpan, 'GET', '/api/todos');
    todos = data.todos;
    render();
    inSpan(() => logger.info('to-dos loaded', { 'todo.count': todos.length }));
    return status;
  });
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const title = input.value.trim();
  if (!title) return;
  addButton.disabled = true;
  const attributes = { 'event.type': 'submit', 'html.id': 'add-form', 'todo.title.length': title.length };
  action('add to-do', attributes, `add “${title}”`, async (inSpan) => {
    const { status, data } = await request(inSpan, 'POST', '/api/todos', { title });
    todos.push(data);
    input.value = '';
    render();
    inSpan(() => logger.info('to-do added', { 'todo.id': data.id }));
    return status;
  }).finally(() => {
    addButton.disabled = false;
    input.focus();
  });
});

list.addEventListener('change', (event) => {
  const box = event.target.closest('input[type=checkbox]');
  const todo = box && todos.find((t) => t.id === box.closest('li').dataset.id);
  if (!todo) return;
  const done = box.checked;
  const name = done ? 'complete to-do' : 'reopen to-do';
  change(todo, name, `${done ? 'complete' : 'reopen'} “${todo.title}”`, async (inSpan) => {
    const { status, data } = await request(inSpan, 'PATCH', `/api/todos/${encodeURIComponent(todo.id)}`, { done });
    Object.assign(todo, data);
    inSpan(() => logger.info(done ? 'to-do completed' : 'to-do reopened', { 'todo.id': todo.id }));
    return status;
  });
});

list.addEventListener('click', (event) => {
  const button = event.target.closest('button.delete');
  const todo = button && todos.find((t) => t.id === button.closest('li').dataset.id);
  if (!todo) return;
  change(todo, 'delete to-do', `delete “${todo.title}”`, async (inSpan) => {
    const { status } = await request(inSpan, 'DELETE', `/api/todos/${encodeURIComponent(todo.id)}`);
    todos = todos.filter((t) => t !== todo);
    inSpan(() => logger.info('to-do deleted', { 'todo.id': todo.id }));
    return status;
  });
});

/** An action on one to-do: its row is disabled until the API answered, then redrawn. */
function change(todo, name, label, work) {
  pending.add(todo.id);
  render();
  action(name, { 'event.type': 'click', 'todo.id': todo.id }, label, work).finally(() => {
    pending.delete(todo.id);
    render();
  });
}

for (const radio of document.querySelectorAll('input[name=fault]')) {
  radio.addEventListener('change', () => {
    fault = radio.value;
  });
}

function render() {
  list.replaceChildren(
    ...todos.map((todo) => {
      const li = document.createElement('li');
      li.className = 'todo';
      li.classList.toggle('done', todo.done);
      li.classList.toggle('pending', pending.has(todo.id));
      li.dataset.id = todo.id;
      li.dataset.testid = 'todo';
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.checked = todo.done;
      box.disabled = pending.has(todo.id);
      box.setAttribute('aria-label', `Done: ${todo.title}`);
      const title = document.createElement('span');
      title.className = 'title';
      title.textContent = todo.title;
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'delete';
      remove.textContent = '×';
      remove.disabled = pending.has(todo.id);
      remove.setAttribute('aria-label', `Delete ${todo.title}`);
      li.append(box, title, remove);
      return li;
    }),
  );
  $('#empty').hidden = todos.length > 0;
  const left = todos.filter((t) => !t.done).length;
  $('#summary').textContent = todos.length === 0 ? '' : `${left} of ${todos.length} left to do`;
}

function setBusy(delta) {
  busy += delta;
  board.setAttribute('aria-busy', String(busy > 0));
}

function showError(message) {
  const error = $('#error');
  error.textContent = message;
  error.hidden = !message;
}

/** Lists the action, newest first, with its outcome and a link to its trace in the viewer. */
function recordAction({ name, label, status, ms, traceId }) {
  const li = document.createElement('li');
  li.dataset.testid = 'action';
  li.dataset.name = name;
  li.dataset.status = String(status);
  li.dataset.traceId = traceId;
  const what = document.createElement('span');
  what.className = 'what';
  what.textContent = label[0].toUpperCase() + label.slice(1);
  const code = document.createElement('span');
  code.className = `status ${typeof status === 'number' && status < 400 ? 'ok' : 'bad'}`;
  code.textContent = String(status);
  const time = document.createElement('span');
  time.className = `ms${ms > 500 ? ' slow' : ''}`;
  time.textContent = `${Math.round(ms)} ms`;
  const link = document.createElement('a');
  link.href = `${viewerUrl}/trace/${traceId}`;
  link.target = '_blank';
  link.rel = 'noopener';
  link.title = `Trace ${traceId} in the viewer`;
  link.textContent = `trace ${traceId.slice(0, 8)}`;
  li.append(what, code, time, link);
  const actions = $('#actions');
  actions.prepend(li);
  while (actions.children.length > 8) actions.lastElementChild.remove();
  $('#no-actions').hidden = true;
}

$('#viewer-link').href = viewerUrl;
loadTodos();
