// The details of a selected span: kind, status, ids, attributes (long ones cut, with a control
// to show all), events, links to other traces, resource and scope.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LINKED_TRACE_ID, LONG_STATEMENT, SPAN, TRACE_ID, TraceView, smallTrace, tempFile } from './viewer_pages.mjs';
import { collectorAndBrowser } from './viewer_env.mjs';

const env = collectorAndBrowser();

test('a selected span shows everything it carries', async () => {
  const view = await (await TraceView.openFile(env.browser, env.collector, tempFile('small.json', smallTrace()))).ready();
  await view.select('payment');
  assert.equal(await view.header('details-kind'), 'server');
  assert.match(await view.header('details-status'), /^error: card declined/);
  assert.equal(await view.header('details-span-id'), SPAN.payment);
  assert.equal(await view.header('details-duration'), '70.0 ms');
  assert.match(await view.header('details-events'), /\+25\.0 ms\s+retry/);
  assert.deepEqual(await view.table('event-attributes'), { attempt: '2' });
  const link = view.page.locator('[data-testid=span-link]');
  assert.equal(await link.getAttribute('href'), `/trace/${LINKED_TRACE_ID}?span=aaaaaaaaaaaaaaaa&traces=collector%3A&logs=collector%3A`);
  assert.deepEqual(await view.table('link-attributes'), { 'link.kind': 'follows' });
  assert.deepEqual(await view.table('details-resource'), { 'service.name': 'payments' });
  assert.equal(await view.header('details-scope'), 'payments-lib');

  await view.select('GET /checkout');
  assert.deepEqual(await view.table('details-attributes'), { 'http.method': 'GET', 'http.route': '/checkout' });
  assert.deepEqual(await view.table('details-resource'), { 'service.name': 'web', 'deployment.environment': 'test' });
  assert.equal(await view.header('details-scope'), 'edgescope-test 1.2.3');
  assert.match(await view.page.textContent('[data-testid=span-details]'), new RegExp(TRACE_ID));

  await view.select('SELECT users');
  assert.equal(await view.header('details-kind'), 'client');
  const value = view.page.locator('[data-testid=details-attributes] [data-testid=value]');
  const cut = await value.textContent();
  assert.ok(cut.length === 257 && cut.endsWith('…') && LONG_STATEMENT.startsWith(cut.slice(0, -1)), cut);
  await view.page.click('[data-testid=expand-value]');
  assert.equal(await value.textContent(), LONG_STATEMENT);
});

test('a link opens the linked trace', async () => {
  const view = await (await TraceView.openFile(env.browser, env.collector, tempFile('small.json', smallTrace()))).ready();
  await view.select('payment');
  await view.page.click('[data-testid=span-link]');
  await view.page.waitForURL(`**/trace/${LINKED_TRACE_ID}?span=aaaaaaaaaaaaaaaa&traces=collector%3A&logs=collector%3A`);
});

test('flags, trace state, what the SDK dropped and an end before the start are shown', async () => {
  const trace = smallTrace({
    payment: { flags: 0x301, traceState: 'vendor=abc,ours=1', droppedAttributesCount: 3, droppedEventsCount: 1 },
    'charge card': { endTimeUnixNano: '1' },
  });
  trace.resourceSpans[2].resource.droppedAttributesCount = 2;
  const view = await (await TraceView.openFile(env.browser, env.collector, tempFile('flags.json', trace))).ready();
  await view.select('payment');
  assert.equal(await view.header('details-flags'), '01 (sampled, remote parent)');
  assert.equal(await view.header('details-tracestate'), 'vendor=abc,ours=1');
  assert.equal(await view.header('details-dropped'), "3 attributes, 1 event (over the SDK's limits)");
  assert.equal(await view.header('resource-dropped'), "2 attributes dropped (over the SDK's limits)");
  await view.select('GET /checkout');
  assert.equal(await view.header('details-flags'), '00');
  assert.equal(await view.page.locator('[data-testid=details-tracestate], [data-testid=details-dropped], [data-testid=resource-dropped]').count(), 0);
  await view.select('charge card');
  assert.match(await view.header('details-duration'), /\(its end time is before its start\)$/);
});

test('spans whose parent is not in the trace are named in the header', async () => {
  const view = await (await TraceView.openFile(env.browser, env.collector, tempFile('orphan.json', smallTrace({ payment: { parentSpanId: 'ffffffffffffffff' } })))).ready();
  assert.match(await view.header('missing-parents'), /^1 span names a parent span that is not in this trace/);
  const whole = await (await TraceView.openFile(env.browser, env.collector, tempFile('whole.json', smallTrace()))).ready();
  assert.equal(await whole.page.locator('[data-testid=missing-parents]').count(), 0);
});
