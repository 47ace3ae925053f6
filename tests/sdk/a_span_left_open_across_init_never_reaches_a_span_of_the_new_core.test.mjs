// A span still open when `init` is called again (a new config starts a fresh core): its handle
// names a slot of the old core, and the new core's first spans take the same slots. Ending it
// (or setting anything on it) must never reach the new core's span in that slot: it is a no-op,
// counted as a stale handle. Spans recorded in JavaScript end into the new core, whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnostics, extract, flush, init, startSpan } from '../../sdk/dist/node.js';

/** The spans of every request the SDK sent since `configure`. */
let sent = [];
const capture = async (url, request) => {
  if (url.endsWith('/v1/traces')) {
    for (const rs of JSON.parse(Buffer.from(request.body).toString()).resourceSpans) {
      const service = rs.resource.attributes.find((a) => a.key === 'service.name').value.stringValue;
      for (const ss of rs.scopeSpans) sent.push(...ss.spans.map((s) => ({ ...s, service })));
    }
  }
  return new Response(null, { status: 200 });
};

function configure(serviceName) {
  init({ serviceName, fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 60000 });
}

const attributes = (span) => Object.fromEntries((span.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]]));

test("a core span left open across init ends as a no-op, and the new core's span in its slot is untouched", async () => {
  configure('before');
  sent = [];
  // With a remote parent: spans the core records (not JavaScript), one slot each.
  const parent = extract({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
  const old = [startSpan('old 1', { parent }), startSpan('old 2', { parent })];
  configure('after');
  const fresh = [startSpan('new 1', { parent }), startSpan('new 2', { parent })];
  const stale = diagnostics().staleHandles;
  for (const span of old) {
    span.setAttribute('from.old', 'yes');
    span.updateName('renamed by the old span');
    span.setStatus({ code: 'error', message: 'old' });
    span.end();
  }
  assert.ok(diagnostics().staleHandles > stale, 'the old spans were stale handles, counted');
  assert.ok(!old[0].isRecording() && !old[1].isRecording(), 'the old spans are over');
  assert.ok(fresh.every((s) => s.isRecording()), 'the new spans are still open');
  for (const span of fresh) span.setAttribute('from.new', 'yes').end();
  await flush();
  assert.deepEqual(
    sent.map((s) => [s.name, s.service, attributes(s), s.status?.code ?? 0]).sort(),
    [
      ['new 1', 'after', { 'from.new': 'yes' }, 0],
      ['new 2', 'after', { 'from.new': 'yes' }, 0],
    ],
    'the new spans as they were made, and nothing of the old ones',
  );
  assert.deepEqual(
    sent.map((s) => s.spanId).sort(),
    fresh.map((s) => s.spanContext().spanId).sort(),
  );
});

test('a span recorded in JavaScript left open across init ends into the new core, whole', async () => {
  configure('before js');
  sent = [];
  const old = startSpan('old js', { attributes: { 'set.before': 1 } });
  configure('after js');
  const fresh = startSpan('new js');
  old.setAttribute('set.after', 2);
  old.end();
  fresh.end();
  await flush();
  assert.deepEqual(sent.map((s) => s.name).sort(), ['new js', 'old js']);
  const ended = sent.find((s) => s.name === 'old js');
  assert.deepEqual(Object.keys(attributes(ended)).sort(), ['set.after', 'set.before']);
  assert.equal(ended.spanId, old.spanContext().spanId);
  assert.deepEqual(attributes(sent.find((s) => s.name === 'new js')), {});
});
