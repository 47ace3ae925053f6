// The to-do demo end to end: the page (www/) in headless Chromium, the to-do API and the audit
// service as workers in real workerd, the collector and the viewer. Each action clicked on the
// page is one trace: the page's action span → its fetch CLIENT span → the API's SERVER span
// (continuing the traceparent the page sent through the same-origin proxy) → the API's CLIENT
// span to the audit service → the audit service's SERVER span → its store span; the log
// records of all three services carry the trace id.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { attr, traceSpans, waitFor } from '../support.mjs';
import { TodoPage, startTodoStack, traceLogs } from './todo_demo.mjs';

let stack, collector, workers, demo, browser;
const pageErrors = [];

before(async () => {
  stack = await startTodoStack();
  ({ collector, workers, demo, browser } = stack);
});

after(() => stack?.stop());

async function openTodoPage() {
  const page = await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(e));
  return new TodoPage(page).open(demo.url);
}

/** The trace's spans, once all `count` are in the collector. */
function spansOf(traceId, count = 6) {
  return waitFor(`${count} spans of trace ${traceId}`, async () => {
    const spans = await traceSpans(collector, traceId).catch(() => []);
    return spans.length >= count && spans;
  });
}

/** The trace's log records, once one from each service is in the collector. */
function logsOf(traceId) {
  return waitFor(`the logs of trace ${traceId} from all three services`, async () => {
    const records = await traceLogs(collector, traceId);
    const services = new Set(records.map((r) => r.service));
    return ['todo-web', 'todo-api', 'todo-audit'].every((s) => services.has(s)) && records;
  });
}

/**
 * Checks that `spans` form the one chain the demo makes for `action`, and returns its links:
 * `{ action, fetch, server, call, audit, store }`.
 */
function chain(spans, { action, method, path, route }) {
  assert.equal(spans.length, 6, spans.map((s) => `${s.service} ${s.name}`).join(', '));
  const root = spans.filter((s) => !s.parentSpanId);
  assert.equal(root.length, 1, 'one root');
  const childOf = (parent) => {
    const children = spans.filter((s) => s.parentSpanId === parent.spanId);
    assert.equal(children.length, 1, `one child of ${parent.service} ${parent.name}`);
    return children[0];
  };
  const links = { action: root[0] };
  links.fetch = childOf(links.action);
  links.server = childOf(links.fetch);
  links.call = childOf(links.server);
  links.audit = childOf(links.call);
  links.store = childOf(links.audit);
  const shape = Object.fromEntries(Object.entries(links).map(([k, s]) => [k, [s.service, s.kind, s.name]]));
  assert.deepEqual(shape, {
    action: ['todo-web', 1, action],
    fetch: ['todo-web', 3, method],
    server: ['todo-api', 2, `${method} ${route}`],
    call: ['todo-api', 3, 'POST'],
    audit: ['todo-audit', 2, 'POST /events'],
    store: ['todo-audit', 1, 'store audit event'],
  });
  assert.equal(attr(links.fetch, 'url.full'), `${demo.url}${path}`, 'the page called its own origin');
  assert.equal(attr(links.server, 'url.path'), path);
  assert.equal(attr(links.server, 'http.route'), route);
  assert.equal(attr(links.call, 'url.full'), `${workers.audit}/events`);
  assert.equal(attr(links.audit, 'http.route'), '/events');
  return links;
}

const ADD = { action: 'add to-do', method: 'POST', path: '/api/todos', route: '/api/todos' };

/** The viewer's waterfall rows for a trace: `[service, span name, depth, error]`. */
async function waterfall(traceId) {
  const viewer = await browser.newPage();
  viewer.on('pageerror', (e) => pageErrors.push(e));
  await viewer.goto(`${collector.ui}/trace/${traceId}`);
  await viewer.waitForFunction(() => document.querySelectorAll('[data-testid=span-row]').length >= 6);
  const rows = await viewer.$$eval('[data-testid=span-row]', (els) =>
    els.map((e) => [
      e.querySelector('.service').textContent,
      e.querySelector('[data-testid=span-name]').textContent,
      Number(e.dataset.depth),
      e.classList.contains('error'),
    ]),
  );
  const header = await viewer.textContent('[data-testid=trace-header]');
  await viewer.waitForSelector('[data-testid=trace-logs] [data-testid=log-row]');
  const logs = await viewer.$$eval('[data-testid=trace-logs] [data-testid=log-message]', (els) =>
    els.map((e) => e.textContent),
  );
  await viewer.close();
  return { rows, header, logs };
}

test('adding, completing and deleting a to-do are each one trace from the click to the audit service, with the logs of all three services', { timeout: 90000 }, async () => {
  const todo = await openTodoPage();
  const added = await todo.add('Buy oat milk');
  assert.deepEqual([added.name, added.status], ['add to-do', 201]);
  assert.deepEqual(await todo.titles(), ['Buy oat milk']);
  const todoId = await todo.row('Buy oat milk').getAttribute('data-id');
  const completed = await todo.complete('Buy oat milk');
  assert.deepEqual([completed.name, completed.status], ['complete to-do', 200]);
  assert.equal(await todo.row('Buy oat milk').locator('input[type=checkbox]').isChecked(), true);
  const deleted = await todo.remove('Buy oat milk');
  assert.deepEqual([deleted.name, deleted.status], ['delete to-do', 204]);
  assert.deepEqual(await todo.titles(), []);
  assert.equal(new Set([added.traceId, completed.traceId, deleted.traceId]).size, 3, 'one trace per action');

  const onItem = { path: `/api/todos/${todoId}`, route: '/api/todos/:id' };
  const expected = [
    [added, { ...ADD, log: 'to-do added', audit: 'audit: add' }],
    [completed, { ...onItem, action: 'complete to-do', method: 'PATCH', log: 'to-do completed', audit: 'audit: complete' }],
    [deleted, { ...onItem, action: 'delete to-do', method: 'DELETE', log: 'to-do deleted', audit: 'audit: delete' }],
  ];
  for (const [entry, want] of expected) {
    const spans = await spansOf(entry.traceId);
    const links = chain(spans, want);
    assert.equal(attr(links.fetch, 'http.response.status_code'), String(entry.status));
    assert.equal(attr(links.server, 'http.response.status_code'), String(entry.status));
    assert.equal(attr(links.call, 'http.response.status_code'), '201');
    for (const span of spans) assert.notEqual(span.status?.code, 2, `${span.service} ${span.name} is not an error`);

    // Each service's log record carries the trace and the span it was written in.
    const logs = await logsOf(entry.traceId);
    const by = (service) =>
      logs.filter((r) => r.service === service).map((r) => [r.severityText, r.body.stringValue, r.spanId]);
    assert.deepEqual(by('todo-web'), [['INFO', want.log, links.action.spanId]]);
    assert.deepEqual(by('todo-api'), [['INFO', want.log, links.server.spanId]]);
    assert.deepEqual(by('todo-audit'), [['INFO', want.audit, links.audit.spanId]]);
  }

  // The viewer shows the add as one waterfall across the three services, with their logs.
  const { rows, header, logs } = await waterfall(added.traceId);
  assert.deepEqual(rows, [
    ['todo-web', 'add to-do', 0, false],
    ['todo-web', 'POST', 1, false],
    ['todo-api', 'POST /api/todos', 2, false],
    ['todo-api', 'POST', 3, false],
    ['todo-audit', 'POST /events', 4, false],
    ['todo-audit', 'store audit event', 5, false],
  ]);
  for (const service of ['todo-web', 'todo-api', 'todo-audit']) assert.match(header, new RegExp(service));
  assert.deepEqual([...logs].sort(), ['audit: add', 'to-do added', 'to-do added']);
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page or the viewer');
});

test('with the fault switch on failing, the change fails with a 500: error spans from the audit service up to the click, an ERROR log from each service', { timeout: 90000 }, async () => {
  const todo = await openTodoPage();
  await todo.setFault('fail');
  const failed = await todo.add('This one fails');
  assert.deepEqual([failed.name, failed.status], ['add to-do', 500]);
  assert.match(await todo.errorMessage(), /Could not add “This one fails”: the audit service answered 503/);
  assert.ok(!(await todo.titles()).includes('This one fails'), 'the change was not applied');

  const links = chain(await spansOf(failed.traceId), ADD);
  for (const [name, span] of Object.entries(links)) assert.equal(span.status?.code, 2, `${name} span has error status`);
  assert.equal(attr(links.fetch, 'http.response.status_code'), '500');
  assert.equal(attr(links.server, 'http.response.status_code'), '500');
  assert.equal(attr(links.call, 'http.response.status_code'), '503');
  assert.equal(attr(links.audit, 'http.response.status_code'), '503');
  const exception = (span) => attr(span.events.find((e) => e.name === 'exception'), 'exception.message');
  assert.match(exception(links.store), /the audit store is unavailable/);
  assert.match(exception(links.server), /the audit service answered 503/);

  const logs = await logsOf(failed.traceId);
  const errors = logs.filter((r) => r.severityText === 'ERROR').map((r) => [r.service, r.spanId]);
  assert.deepEqual(errors.sort(), [
    ['todo-api', links.server.spanId],
    ['todo-audit', links.audit.spanId],
    ['todo-web', links.action.spanId],
  ]);

  // In the viewer every row of the trace is marked as an error.
  const { rows } = await waterfall(failed.traceId);
  assert.deepEqual(rows.map(([service, , , error]) => [service, error]), [
    ['todo-web', true],
    ['todo-web', true],
    ['todo-api', true],
    ['todo-api', true],
    ['todo-audit', true],
    ['todo-audit', true],
  ]);

  // Switched back to healthy, the same page works again.
  await todo.setFault('');
  assert.equal((await todo.add('This one works')).status, 201);

  // Left on failing for the viewer and come back to: the switch shows what the page sends (a
  // browser restores a radio's state on Back, while a page loaded again starts healthy; one
  // restored from the back/forward cache keeps both).
  await todo.setFault('fail');
  await todo.page.goto(collector.ui);
  await todo.page.goBack();
  await todo.page.waitForSelector('[data-testid=action][data-name="load to-dos"]');
  const shown = await todo.page.$eval('input[name=fault]:checked', (r) => r.value);
  const sent = (await todo.add('After Back')).status;
  assert.deepEqual([shown, sent], shown === 'fail' ? ['fail', 500] : ['', 201]);
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page or the viewer');
});

test('with the fault switch on slow, the 800 ms show in the audit service’s store span, under the page’s action', { timeout: 90000 }, async () => {
  const todo = await openTodoPage();
  await todo.setFault('slow');
  const slow = await todo.add('Take your time');
  assert.equal(slow.status, 201);
  const links = chain(await spansOf(slow.traceId), ADD);
  const ms = (span) => Number(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1e6;
  assert.ok(ms(links.store) >= 790, `the store span took ${ms(links.store)} ms`);
  assert.ok(ms(links.action) >= ms(links.store), 'the action span covers the whole request');
});
