// `extract(headers)`: the `tracestate` of the context it returns is validated whole (W3C Trace
// Context Level 2), as a span started from it validates it: an invalid header (a duplicate key,
// an uppercase key, an empty or malformed member, more than 32 members) is dropped, never
// handed to the app to send on; a valid one comes back as edgescope sends it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extract, init, inject, startSpan } from '../../sdk/dist/node.js';

init({ serviceName: 'extract', endpoint: 'http://127.0.0.1:9', scheduleDelayMillis: 60000 });
const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

test('an invalid tracestate is dropped by extract, as by the span started from it', () => {
  const many = Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',');
  for (const tracestate of ['a=1,a=2', 'UPPER=1', 'k=v,bad member', 'k=', '=v', many]) {
    const cx = extract({ traceparent, tracestate });
    assert.equal(cx.traceparent, traceparent);
    assert.equal(cx.tracestate, undefined, tracestate);
    const headers = {};
    const child = startSpan('child', { parent: cx });
    inject(headers, child);
    child.end();
    assert.equal(headers.tracestate, undefined);
  }
});

test('a valid tracestate comes back as it is sent on, Level 2 keys and empty members allowed', () => {
  const cases = [
    ['congo=t61rcWkgMzE', 'congo=t61rcWkgMzE'],
    ['rojo=00f067aa0ba902b7 , congo=t61rcWkgMzE', 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE'],
    ['foo@@bar=1,t@=2', 'foo@@bar=1,t@=2'],
    ['a=1,,b=2', 'a=1,b=2'],
  ];
  for (const [tracestate, sent] of cases) {
    const cx = extract({ traceparent, tracestate });
    assert.equal(cx.tracestate, sent, tracestate);
    const headers = {};
    const child = startSpan('child', { parent: cx });
    inject(headers, child);
    child.end();
    assert.equal(headers.tracestate, sent);
  }
});
