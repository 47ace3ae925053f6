// OpenTelemetry's common spec: null values within arrays MUST be preserved as-is, because
// arrays side by side pair up by index (`header_keys[i]` → `header_values[i]`). The SDK writes
// an array's `null`, `undefined`, hole or non-value item as an empty AnyValue (`{}`), as
// OpenTelemetry JS does, on both span paths, events and log records; the collector stores it and
// gives it back in OTLP/JSON and in Jaeger's JSON.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { exportSink, getJson, startCollector, traceSpans } from '../support.mjs';
import { flush, init, logger, shutdown, startSpan } from '../../sdk/dist/node.js';

const { spans, logs, fetch: capture, clear } = exportSink();

/** An OTLP/JSON array value's items, an empty AnyValue as `null`. */
const items = (item, key) =>
  item.attributes.find((a) => a.key === key).value.arrayValue.values.map((v) => (Object.keys(v).length ? Object.values(v)[0] : null));

const sparse = [];
sparse[1] = 'second';

for (const [path, extra] of [
  ['spans recorded in JavaScript', {}],
  ['spans the core records (keepErrors; the browser and workerd path)', { keepErrors: true }],
]) {
  test(`null array items keep their places: ${path}`, async () => {
    clear();
    init({ serviceName: 'arrays', fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 0, ...extra });
    const span = startSpan('request', { attributes: { at_start: [true, null, false] } });
    span.setAttribute('header_keys', ['accept', 'x-empty', 'x-gone', 'host']);
    span.setAttribute('header_values', ['text/html', null, undefined, 'example.com']);
    span.setAttribute('sparse', sparse);
    span.setAttribute('odd_items', ['a', { not: 'a value' }, ['nested'], () => 1, 'b']);
    span.addEvent('retry', { attempts: [1, null, 3] });
    span.end();
    logger.info('stored', { ids: [7, null, 9] });
    await flush();
    const [s] = spans;
    assert.deepEqual(items(s, 'at_start'), [true, null, false]);
    assert.deepEqual(items(s, 'header_keys'), ['accept', 'x-empty', 'x-gone', 'host']);
    assert.deepEqual(items(s, 'header_values'), ['text/html', null, null, 'example.com']);
    assert.deepEqual(items(s, 'sparse'), [null, 'second']);
    assert.deepEqual(items(s, 'odd_items'), ['a', null, null, null, 'b']);
    assert.deepEqual(items(s.events[0], 'attempts'), ['1', null, '3']);
    assert.deepEqual(items(logs[0], 'ids'), ['7', null, '9']);
  });
}

let collector;
before(async () => {
  collector = await startCollector();
});
after(async () => {
  await shutdown();
  await collector.stop();
});

test('the collector keeps null items from an OTLP/protobuf export and gives them back', async () => {
  init({ serviceName: 'arrays-proto', endpoint: collector.otlp, protocol: 'http/protobuf', scheduleDelayMillis: 0 });
  const span = startSpan('request');
  span.setAttribute('header_values', ['text/html', null, 'example.com']);
  const traceId = span.spanContext().traceId;
  span.end();
  await flush();
  const [stored] = await traceSpans(collector, traceId);
  assert.deepEqual(items(stored, 'header_values'), ['text/html', null, 'example.com']);
  // Jaeger's JSON has no typed arrays: an array is a string tag holding JSON, `null` included.
  const { data } = await getJson(`${collector.ui}/jaeger/api/traces/${traceId}`);
  const tag = data[0].spans[0].tags.find((t) => t.key === 'header_values');
  assert.deepEqual(tag, { key: 'header_values', type: 'string', value: '["text/html",null,"example.com"]' });
});
