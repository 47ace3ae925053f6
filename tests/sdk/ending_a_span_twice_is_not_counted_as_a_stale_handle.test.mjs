// `startActiveSpan` ends its span when the callback returns; OpenTelemetry's own API does not, so
// code written for it ends the span itself as well. That second `end()` is a no-op, as the
// OpenTelemetry specification asks of any `End` after the first, and is not counted in
// `staleHandles`, which counts calls that change an ended span (or one from before a re-init).
// The span is exported once, with the first end's time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnostics, extract, flush, init, startActiveSpan, startSpan } from '../../sdk/dist/node.js';

let sent = [];
const capture = async (url, request) => {
  if (url.endsWith('/v1/traces')) {
    for (const rs of JSON.parse(Buffer.from(request.body).toString()).resourceSpans) for (const ss of rs.scopeSpans) sent.push(...ss.spans);
  }
  return new Response(null, { status: 200 });
};
const remote = () => extract({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });

for (const [path, options] of [
  ['recorded in JavaScript', undefined],
  ['recorded in the core (remote parent)', { parent: remote() }],
]) {
  test(`a span ${path} ended twice is exported once and counts no stale handle`, async () => {
    sent = [];
    init({ serviceName: 'twice', fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 0 });
    const before = diagnostics().staleHandles;
    startActiveSpan('active, ended by its callback too', options ?? {}, (span) => span.end());
    const span = startSpan('ended twice', options);
    const first = Date.now() + 5_000;
    span.end(new Date(first));
    span.end(new Date(first + 5_000));
    assert.equal(diagnostics().staleHandles - before, 0, 'a second end() is not a stale handle');
    span.setAttribute('late', 1);
    assert.equal(diagnostics().staleHandles - before, 1, 'an attribute set after the end is counted');
    await flush();
    assert.deepEqual(sent.map((s) => s.name).sort(), ['active, ended by its callback too', 'ended twice']);
    const twice = sent.find((s) => s.name === 'ended twice');
    assert.equal(twice.endTimeUnixNano, `${first}000000`, 'the first end() holds');
    assert.deepEqual(twice.attributes ?? [], [], 'the attribute set after the end is not recorded');
  });
}
