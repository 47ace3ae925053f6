// `startSpan(name, { parent: span })`: a span of this process is a parent as a remote context is —
// open, or ended (work after an `await` in a browser, which keeps no context across it). Its
// trace, tracestate and remote baggage go on to the child.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as sdk from '../../sdk/dist/node.js';

const spans = [];
sdk.init({
  serviceName: 'parent-option',
  protocol: 'http/json',
  compression: 'none',
  scheduleDelayMillis: 0,
  fetch: async (url, request) => {
    const doc = JSON.parse(Buffer.from(request.body).toString());
    for (const rs of doc.resourceSpans ?? []) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
    return new Response(null, { status: 200 });
  },
});
const named = (name) => spans.find((s) => s.name === name);

test('an open span and an ended one given as parent are the parent, in their trace, with its tracestate and baggage', async () => {
  const before = sdk.diagnostics().apiErrors;
  const remote = sdk.extract({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'vendor=abc', baggage: 'tenant=acme' });
  const click = sdk.startSpan('click', { parent: remote });
  const during = sdk.startSpan('while open', { parent: click });
  click.end();
  const after = sdk.startSpan('after the end', { parent: click });
  const headers = {};
  sdk.inject(headers, after);
  after.end();
  during.end();
  const root = sdk.startSpan('a root of its own');
  root.end();
  const underRoot = sdk.startSpan('under an ended root', { parent: root });
  underRoot.end();
  await sdk.flush();

  const parent = named('click');
  for (const name of ['while open', 'after the end']) {
    assert.equal(named(name).traceId, '0af7651916cd43dd8448eb211c80319c', name);
    assert.equal(named(name).parentSpanId, parent.spanId, name);
    assert.equal(named(name).flags & 0x200, 0, `${name}: its parent is local, not remote`);
  }
  assert.equal(headers.tracestate, 'vendor=abc');
  assert.equal(headers.baggage, 'tenant=acme');
  assert.match(headers.traceparent, /^00-0af7651916cd43dd8448eb211c80319c-/);
  assert.equal(named('under an ended root').traceId, named('a root of its own').traceId);
  assert.equal(named('under an ended root').parentSpanId, named('a root of its own').spanId);
  assert.equal(sdk.diagnostics().apiErrors, before, 'nothing to count');
});
