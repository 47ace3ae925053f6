// `getTracer(name, version)`: its spans are exported under an instrumentation scope of that name
// and version, the module's `startSpan` under the SDK's own, on both span paths (recorded in
// JavaScript in Node, and by the core as in browsers and workerd); a span a tracer starts is
// still the parent of spans started inside it, which keep their own scope.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flush, getTracer, init, startActiveSpan, startSpan } from '../../sdk/dist/node.js';

let scopes = [];
const capture = async (url, request) => {
  if (url.endsWith('/v1/traces')) {
    for (const rs of JSON.parse(Buffer.from(request.body).toString()).resourceSpans) scopes.push(...rs.scopeSpans);
  }
  return new Response(null, { status: 200 });
};

/** `{ spanName: "scope@version" }` of what was exported, and the spans by name. */
function exported() {
  const scopeOf = {};
  const spans = {};
  for (const ss of scopes) {
    for (const span of ss.spans) {
      scopeOf[span.name] = `${ss.scope?.name ?? ''}@${ss.scope?.version ?? ''}`;
      spans[span.name] = span;
    }
  }
  return { scopeOf, spans };
}

for (const [path, extra] of [
  ['spans recorded in JavaScript', {}],
  ['spans the core records (keepErrors; the browser and workerd path)', { keepErrors: true }],
]) {
  test(`a tracer's spans carry its scope: ${path}`, async () => {
    scopes = [];
    init({ serviceName: 'scopes', fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 0, ...extra });
    const db = getTracer('acme-db', '2.1.0');
    const http = getTracer('acme-http');
    startSpan('plain').end();
    db.startSpan('query', { kind: 'client', attributes: { 'db.system.name': 'sqlite' } }).end();
    http.startActiveSpan('request', (outer) => {
      db.startActiveSpan('nested query', { kind: 'client' }, (inner) => inner.end());
      startSpan('inside').end();
      outer.end();
    });
    startActiveSpan('app', (s) => {
      getTracer('acme-db', '2.1.0').startSpan('same scope again').end();
      s.end();
    });
    await flush();
    const { scopeOf, spans } = exported();
    assert.equal(scopeOf.plain, 'edgescope@' + scopeOf.plain.split('@')[1], 'the SDK scope for startSpan');
    assert.equal(scopeOf.query, 'acme-db@2.1.0');
    assert.equal(scopeOf['nested query'], 'acme-db@2.1.0');
    assert.equal(scopeOf['same scope again'], 'acme-db@2.1.0');
    assert.equal(scopeOf.request, 'acme-http@');
    assert.equal(scopeOf.inside, scopeOf.plain, 'a span started inside keeps the SDK scope');
    assert.equal(scopeOf.app, scopeOf.plain);
    assert.equal(spans['nested query'].parentSpanId, spans.request.spanId);
    assert.equal(spans.inside.parentSpanId, spans.request.spanId);
    assert.equal(spans['same scope again'].parentSpanId, spans.app.spanId);
    assert.equal(spans.query.attributes[0].key, 'db.system.name');
    const names = scopes.map((ss) => ss.scope.name);
    assert.equal(new Set(names).size, names.length, 'one scopeSpans entry per scope in a request');
  });
}

test('a tracer made before a second init still names its own scope in the new core', async () => {
  // Spans the core records (keepErrors): a tracer keeps its scope's id in the core, which a new
  // core gives out afresh.
  const config = { serviceName: 'scopes', fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 0, keepErrors: true };
  init(config);
  const early = getTracer('early-lib', '1.0.0');
  early.startSpan('before init').end();
  scopes = [];
  init(config);
  // The new core's first scope is the late tracer's: the id the early one had in the old core.
  getTracer('late-lib', '2.0.0').startSpan('late').end();
  early.startSpan('after init').end();
  // A numeric kind past OpenTelemetry JS's SpanKind is internal, never a scope.
  getTracer('late-lib', '2.0.0').startSpan('late again').end();
  startSpan('plain kind 258', { kind: 258 }).end();
  await flush();
  const { scopeOf, spans } = exported();
  assert.equal(scopeOf.late, 'late-lib@2.0.0');
  assert.equal(scopeOf['after init'], 'early-lib@1.0.0');
  assert.equal(scopeOf['late again'], 'late-lib@2.0.0');
  assert.equal(scopeOf['plain kind 258'].split('@')[0], 'edgescope');
  assert.equal(spans['plain kind 258'].kind, 1);
});

for (const [path, extra] of [
  ['spans recorded in JavaScript', {}],
  ['spans the core records', { keepErrors: true }],
]) {
  test(`a tracer without a name gets an empty scope name, as the OpenTelemetry API specification says, and never throws: ${path}`, async () => {
    scopes = [];
    init({ serviceName: 'scopes', fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 0, ...extra });
    getTracer('').startSpan('empty name').end();
    getTracer(undefined).startSpan('no name').end();
    getTracer({ toString: () => { throw new Error('hostile'); } }, 7).startSpan('hostile name').end();
    startSpan('plain').end();
    await flush();
    const { scopeOf } = exported();
    assert.match(scopeOf.plain, /^edgescope@/);
    for (const name of ['empty name', 'no name', 'hostile name']) assert.equal(scopeOf[name], '@', name);
  });
}

test("inside an instrumented request (AsyncLocalStorage), a tracer's span is the child of the request's span", async () => {
  const { instrument } = await import('../../sdk/dist/node.js');
  scopes = [];
  const handler = instrument(
    async () => {
      await null;
      getTracer('acme-db', '2.1.0').startSpan('query after await').end();
      return new Response('ok');
    },
    { serviceName: 'scopes', fetch: capture, protocol: 'http/json', compression: 'none' },
  );
  await (await handler(new Request('http://localhost/items'))).text();
  for (let i = 0; i < 200 && !exported().spans.GET; i++) await new Promise((r) => setTimeout(r, 10));
  const { scopeOf, spans } = exported();
  assert.equal(scopeOf['query after await'], 'acme-db@2.1.0');
  assert.equal(spans['query after await'].traceId, spans.GET.traceId);
  assert.equal(spans['query after await'].parentSpanId, spans.GET.spanId);
});

test("a numeric kind is OpenTelemetry JS's SpanKind, as code written for its API passes it", async () => {
  scopes = [];
  init({ serviceName: 'scopes', fetch: capture, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 0 });
  // @opentelemetry/api's SpanKind: INTERNAL 0, SERVER 1, CLIENT 2, PRODUCER 3, CONSUMER 4.
  const names = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
  names.forEach((name, n) => getTracer('ported-lib').startSpan(`numeric ${name}`, { kind: n }).end());
  for (const name of names) startSpan(`named ${name}`, { kind: name.toLowerCase() }).end();
  for (const odd of [-1, 5, NaN]) startSpan(`odd ${odd}`, { kind: odd }).end();
  await flush();
  const { spans } = exported();
  // OTLP numbers them one more: INTERNAL 1 … CONSUMER 5.
  names.forEach((name, n) => {
    assert.equal(spans[`numeric ${name}`].kind, n + 1, name);
    assert.equal(spans[`named ${name}`].kind, n + 1, name);
  });
  for (const odd of [-1, 5, NaN]) assert.equal(spans[`odd ${odd}`].kind, 1, `${odd} is internal`);
});
