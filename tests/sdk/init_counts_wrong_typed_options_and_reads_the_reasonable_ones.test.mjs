// `init` options of the wrong type are never dropped silently: each is counted in
// `diagnostics().apiErrors` and, with `debug: true`, named in one console line. What users
// reasonably pass is read: a `URL` for `endpoint`, one string for `redactQueryParams`, numeric
// strings for the millisecond and size options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnostics, flush, init, startSpan } from '../../sdk/dist/node.js';

const sent = [];
const capture = async (url, request) => {
  sent.push({ url, doc: JSON.parse(Buffer.from(request.body).toString()) });
  return new Response(null, { status: 200 });
};
const base = { serviceName: 'config', fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 0 };
const spans = () => sent.flatMap(({ doc }) => (doc.resourceSpans ?? []).flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));

/** Calls `fn` with what the console prints to stderr recorded (the SDK keeps its own `console.warn`); returns the lines. */
function warnings(fn) {
  const lines = [];
  const write = process.stderr.write;
  process.stderr.write = (chunk) => lines.push(...String(chunk).split('\n').filter(Boolean)) > 0;
  try {
    fn();
  } finally {
    process.stderr.write = write;
  }
  return lines;
}

test('each wrong-typed option is counted, and debug names them all in one line', () => {
  const wrong = { timeoutMillis: 'soon', maxQueueSize: {}, keepErrors: 'yes', headers: 'authorization: x', redact: 'no', serviceName: 42, compression: 'brotli' };
  init({ ...base, ...wrong });
  assert.equal(diagnostics().apiErrors, Object.keys(wrong).length, JSON.stringify(diagnostics()));
  const lines = warnings(() => init({ ...base, ...wrong, debug: true }));
  const named = lines.filter((l) => Object.keys(wrong).every((k) => l.includes(k)));
  assert.equal(named.length, 1, `one line names every wrong option: ${JSON.stringify(lines)}`);
  assert.equal(warnings(() => init({ ...base, ...wrong })).length, 0, 'nothing printed without debug');
  init(base);
  assert.equal(diagnostics().apiErrors, 0, 'the right types count nothing');
});

test('a URL object is an endpoint, one string is a query parameter to redact, numeric strings are numbers', async () => {
  sent.length = 0;
  init({ ...base, endpoint: new URL('https://collector.example.test/otlp/'), redactQueryParams: 'ticket', maxExportBatchSize: '1', attributeValueLengthLimit: '40' });
  assert.equal(diagnostics().apiErrors, 0, JSON.stringify(diagnostics()));
  startSpan('a').setAttribute('url.full', 'https://s.test/?ticket=abc123&page=2').setAttribute('long', 'x'.repeat(50)).end();
  startSpan('b').end();
  await flush();
  assert.deepEqual([...new Set(sent.map((s) => s.url))], ['https://collector.example.test/otlp/v1/traces']);
  assert.equal(sent.length, 2, 'one span per batch (maxExportBatchSize "1")');
  const a = spans().find((s) => s.name === 'a');
  const url = a.attributes.find((x) => x.key === 'url.full').value.stringValue;
  assert.doesNotMatch(url, /abc123/);
  assert.match(url, /page=2/);
  assert.equal(a.attributes.find((x) => x.key === 'long').value.stringValue.length, 40);
});

test('options every export would fail on are counted and left out: an endpoint that is no http(s) URL, a time-out of 0 or less, headers fetch refuses', async () => {
  for (const wrong of [{ endpoint: 'not a url' }, { endpoint: 'ftp://collector.example.test' }, { timeoutMillis: 0 }, { timeoutMillis: -1 }]) {
    init({ ...base, ...wrong });
    assert.equal(diagnostics().apiErrors, 1, `${JSON.stringify(wrong)}: ${JSON.stringify(diagnostics())}`);
  }
  // The bad headers are left out, the good one kept: the export goes, with it.
  sent.length = 0;
  const seen = [];
  const headers = { authorization: 'Bearer t', 'x-split': 'a\nb', 'bad name': 'v', 'x-text': 'caf\u00e9 \u2603', 'x-count': 3 };
  init({ ...base, endpoint: 'https://collector.example.test', headers, fetch: (url, request) => (seen.push(new Headers(request.headers)), capture(url, request)) });
  assert.equal(diagnostics().apiErrors, 1, JSON.stringify(diagnostics()));
  startSpan('with headers').end();
  await flush();
  assert.equal(diagnostics().exportsFailed, 0);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].get('authorization'), 'Bearer t');
  assert.equal(seen[0].get('x-count'), '3');
  for (const name of ['x-split', 'x-text']) assert.equal(seen[0].get(name), null, name);
  assert.deepEqual([...new Set(sent.map((s) => s.url))], ['https://collector.example.test/v1/traces']);
});

test('without a serviceName the service is unknown_service:node, as the resource spec names it with the executable', async () => {
  sent.length = 0;
  const { serviceName, ...rest } = base;
  init(rest);
  startSpan('nameless').end();
  await flush();
  const resource = sent.flatMap(({ doc }) => doc.resourceSpans ?? [])[0].resource;
  const name = resource.attributes.find((a) => a.key === 'service.name').value.stringValue;
  assert.equal(name, 'unknown_service:node');
  assert.equal(serviceName, 'config');
});
