// A span link to another span of the same trace selects that span, unfolding the subtree that
// hid it (as Jaeger UI focuses a reference within the trace), and back and forward move between
// the spans; the link keeps the trace source of the page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../support.mjs';
import { SPAN, TRACE_ID, TraceView, collectorWithTrace, smallTrace } from './viewer_pages.mjs';

// payment links to SELECT users, in the same trace.
const env = collectorWithTrace(smallTrace({ payment: { links: [{ traceId: TRACE_ID, spanId: SPAN.query }] } }));

const open = (query = '') =>
  waitFor('the trace in the collector', async () => {
    const v = await TraceView.open(env.browser, env.collector, `${TRACE_ID}${query}`);
    try {
      await v.ready();
      return v;
    } catch (e) {
      await v.page.close();
      throw e;
    }
  });

const spanInAddress = (view) => new URL(view.page.url()).searchParams.get('span');

test('a link to a span of the same trace selects it, unfolds its ancestors, and back and forward follow', async () => {
  const view = await open();
  await view.toggle('authenticate');
  assert.equal((await view.names()).includes('SELECT users'), false);
  await view.select('payment');
  assert.equal(spanInAddress(view), SPAN.payment);
  await view.page.click('[data-testid=span-link]');
  await view.page.waitForFunction(() => document.querySelector('[data-testid=details-name]')?.textContent === 'SELECT users');
  assert.equal(await view.selectedName(), 'SELECT users');
  assert.equal(spanInAddress(view), SPAN.query);
  assert.deepEqual(await view.names(), ['GET /checkout', 'authenticate', 'SELECT users', 'payment', 'charge card']);
  await view.page.goBack();
  await view.page.waitForFunction(() => document.querySelector('[data-testid=details-name]')?.textContent === 'payment');
  assert.equal(spanInAddress(view), SPAN.payment);
  await view.page.goForward();
  await view.page.waitForFunction(() => document.querySelector('[data-testid=details-name]')?.textContent === 'SELECT users');
  assert.equal(await view.selectedName(), 'SELECT users');
  await view.page.close();
});

test('a span link keeps the trace source of the page', async () => {
  // The collector also answers as Jaeger (API v3): a source that is not the default one.
  const view = await open('?traces=jaeger%3A');
  await view.select('payment');
  assert.equal(new URL(view.page.url()).searchParams.get('traces'), 'jaeger:');
  const href = await view.page.getAttribute('[data-testid=span-link]', 'href');
  assert.equal(href, `/trace/${TRACE_ID}?span=${SPAN.query}&traces=jaeger%3A&logs=collector%3A`);
  await view.page.click('[data-testid=span-link]');
  await view.page.waitForFunction(() => document.querySelector('[data-testid=details-name]')?.textContent === 'SELECT users');
  assert.equal(new URL(view.page.url()).searchParams.get('traces'), 'jaeger:');
  await view.page.close();
});
