// The baggage of a remote context (`extract(headers).baggage`) travels with the span started
// under it and with that span's descendants, as OpenTelemetry's context carries it: `inject`
// for them sends it on, after the page-wide (`setBaggage`) entries, which win for a key both
// have (the rule of the edge entry's per-request baggage), within 64 members and 8,192 bytes.
// Spans outside that context send the page-wide baggage only.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import * as sdk from '../../sdk/dist/node.js';

const REMOTE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

afterEach(() => {
  for (const key of Object.keys(sdk.getBaggage())) sdk.removeBaggage(key);
});

const injected = (span) => {
  const headers = {};
  sdk.inject(headers, span);
  return headers;
};

test("a span under a remote parent sends the parent's baggage on, and so do its descendants", () => {
  sdk.init({ serviceName: 'remote-baggage', endpoint: 'http://127.0.0.1:9', scheduleDelayMillis: 0 });
  sdk.setBaggage('tenant', 'page');
  const parent = sdk.extract({ traceparent: REMOTE, baggage: 'user=alice,tenant=remote,city=Z%C3%BCrich%201' });
  assert.deepEqual(parent.baggage, { user: 'alice', tenant: 'remote', city: 'Zürich 1' });
  const seen = {};
  sdk.startActiveSpan('server', { parent }, (span) => {
    seen.explicit = injected(span);
    seen.active = injected();
    const child = sdk.startSpan('child');
    sdk.withSpan(child, () => {
      seen.grandchild = injected(sdk.startSpan('grandchild'));
    });
    seen.child = injected(child);
    child.end();
  });
  const expected = 'tenant=page,user=alice,city=Z%C3%BCrich%201';
  for (const [which, headers] of Object.entries(seen)) {
    assert.match(headers.traceparent, /^00-4bf92f3577b34da6a3ce929d0e0e4736-/, `${which}: the remote trace`);
    assert.equal(headers.baggage, expected, `${which}: page-wide entries first and winning, then the remote ones`);
  }
  assert.deepEqual(sdk.getBaggage(), { tenant: 'page' }, 'the page-wide baggage is as it was');
  // A sibling outside the remote context: the page-wide baggage only.
  const sibling = sdk.startSpan('sibling');
  assert.equal(injected(sibling).baggage, 'tenant=page');
  sibling.end();
  // Without page-wide entries: the remote baggage alone; a remote context without baggage adds none.
  sdk.removeBaggage('tenant');
  sdk.startActiveSpan('server', { parent }, () => assert.equal(injected().baggage, 'user=alice,tenant=remote,city=Z%C3%BCrich%201'));
  sdk.startActiveSpan('server', { parent: sdk.extract({ traceparent: REMOTE }) }, () => assert.equal(injected().baggage, undefined));
  assert.equal(injected(sdk.startSpan('plain')).baggage, undefined);
});

test('the combined baggage keeps to 64 members and 8,192 bytes, dropping whole members, and skips invalid keys', () => {
  sdk.init({ serviceName: 'remote-baggage-limits', endpoint: 'http://127.0.0.1:9', scheduleDelayMillis: 0 });
  for (let i = 0; i < 10; i++) sdk.setBaggage(`page${i}`, 'p');
  const many = {};
  for (let i = 0; i < 80; i++) many[`k${i}`] = String(i);
  const members = sdk.startActiveSpan('many', { parent: { traceparent: REMOTE, baggage: many } }, () => injected().baggage.split(','));
  assert.equal(members.length, 64);
  assert.deepEqual(members.slice(0, 11), [...Array.from({ length: 10 }, (_, i) => `page${i}=p`), 'k0=0']);
  assert.equal(members[63], 'k53=53');

  const big = { a: 'x'.repeat(5000), b: 'y'.repeat(5000), c: 'z' };
  const header = sdk.startActiveSpan('big', { parent: { traceparent: REMOTE, baggage: big } }, () => injected().baggage);
  assert.ok(header.length <= 8192, `${header.length} bytes`);
  const keys = header.split(',').map((m) => m.split('=')[0]);
  assert.deepEqual(keys, [...Array.from({ length: 10 }, (_, i) => `page${i}`), 'a', 'c'], 'b does not fit and is left out whole');

  const odd = { 'bad key': 'x', 'ok': 'a,b;c=d' };
  const oddHeader = sdk.startActiveSpan('odd', { parent: { traceparent: REMOTE, baggage: odd } }, () => injected().baggage);
  assert.ok(oddHeader.endsWith(',ok=a%2Cb%3Bc=d'), oddHeader);
  assert.ok(!oddHeader.includes('bad'), oddHeader);
  // A value that throws when read as a string: the header is not written (counted), and the
  // page-wide baggage stays as it was.
  const hostile = { fine: 'x', bad: { toString() { throw new Error('no'); } } };
  const before = sdk.diagnostics().apiErrors;
  const h = sdk.startActiveSpan('hostile', { parent: { traceparent: REMOTE, baggage: hostile } }, () => injected());
  assert.match(h.traceparent, /^00-4bf92f35/);
  assert.equal(sdk.diagnostics().apiErrors, before + 1);
  assert.deepEqual(Object.keys(sdk.getBaggage()), Array.from({ length: 10 }, (_, i) => `page${i}`));
  for (const baggage of [null, 'user=alice', 42]) {
    const h = sdk.startActiveSpan('not an object', { parent: { traceparent: REMOTE, baggage } }, () => injected());
    assert.match(h.traceparent, /^00-4bf92f35/);
    assert.equal(h.baggage.split(',').length, 10, 'only the page-wide members');
  }
});

test('a page-wide entry the header has no room for is refused, so a remote one of that key goes on', () => {
  sdk.init({ serviceName: 'remote-baggage', endpoint: 'http://127.0.0.1:9', scheduleDelayMillis: 0 });
  // Two 5,000-byte members: the header holds the first, the second does not fit in 8,192 bytes.
  assert.equal(sdk.setBaggage('first', 'x'.repeat(5000)), true);
  assert.equal(sdk.setBaggage('second', 'y'.repeat(5000)), false);
  assert.deepEqual(Object.keys(sdk.getBaggage()), ['first']);
  const parent = sdk.extract({ traceparent: REMOTE, baggage: 'second=remote' });
  let sent;
  sdk.startActiveSpan('server', { parent }, (span) => {
    sent = injected(span).baggage;
  });
  const keys = (header) => header.split(',').map((member) => member.split('=')[0]);
  assert.deepEqual(keys(sent), ['first', 'second']);
  assert.match(sent, /,second=remote$/, 'the remote entry, the page having none of that key');
  sdk.removeBaggage('first');
  assert.deepEqual(sdk.getBaggage(), {}, 'the refused entry never comes back');
});

test('a root started under a remote context (root: true) is a new trace that keeps the context\'s baggage, as OpenTelemetry does', () => {
  sdk.init({ serviceName: 'remote-baggage', endpoint: 'http://127.0.0.1:9', scheduleDelayMillis: 0 });
  const parent = sdk.extract({ traceparent: REMOTE, baggage: 'user=alice' });
  let root, child;
  sdk.startActiveSpan('server', { parent }, () => {
    root = sdk.startSpan('a trace of its own', { root: true });
    sdk.withSpan(root, () => {
      child = sdk.startSpan('under the new root');
    });
  });
  const sent = injected(root);
  assert.notEqual(root.spanContext().traceId, '4bf92f3577b34da6a3ce929d0e0e4736', 'a new trace');
  assert.equal(sent.baggage, 'user=alice');
  assert.equal(injected(child).baggage, 'user=alice', 'and its children carry it on');
  root.end();
  child.end();
  const outside = sdk.startSpan('outside', { root: true });
  assert.equal(injected(outside).baggage, undefined, 'no context, no baggage');
  outside.end();
});
