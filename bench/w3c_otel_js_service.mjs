// The W3C trace-context test suite's test service, built on OpenTelemetry JS instead of edgescope,
// to measure the reference under the same suite (examples/cloudflare-worker/README.md says how to
// get and run the suite; its code is not part of this repository).
//
//   node bench/w3c_otel_js_service.mjs [port]      # default 5000; then point the suite at /test
//
// POST /test takes a JSON array of {url, arguments}: each is POSTed to `url` with `arguments` as
// the JSON body, with trace headers from a CLIENT span whose parent is the SERVER span of the
// incoming request, as OpenTelemetry's HTTP instrumentations do: W3CTraceContextPropagator
// (extract and inject) and BasicTracerProvider's default sampler (parent-based, always on).
// The packages are the pinned OpenTelemetry JS reference that `npm run bench` installs into
// target/bench/yardstick-*/.
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bench = join(root, 'target', 'bench');
const yard = readdirSync(bench).find((d) => d.startsWith('yardstick-'));
if (!yard) throw new Error('no target/bench/yardstick-*: run `npm run bench` once to install the reference');
const require = createRequire(join(bench, yard, 'package.json'));
const api = require('@opentelemetry/api');
const { W3CTraceContextPropagator } = require('@opentelemetry/core');
const { BasicTracerProvider } = require('@opentelemetry/sdk-trace-base');

const version = (p) => JSON.parse(readFileSync(join(bench, yard, 'node_modules', '@opentelemetry', p, 'package.json'))).version;
const versions = ['api', 'core', 'sdk-trace-base', 'sdk-trace'].map((p) => `@opentelemetry/${p}@${version(p)}`).join(', ');
const propagator = new W3CTraceContextPropagator();
const tracer = new BasicTracerProvider().getTracer('w3c-test-service');

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', async () => {
    if (req.method !== 'POST' || req.url !== '/test') {
      res.writeHead(404).end();
      return;
    }
    const parent = propagator.extract(api.ROOT_CONTEXT, req.headers, api.defaultTextMapGetter);
    const span = tracer.startSpan('POST /test', { kind: api.SpanKind.SERVER }, parent);
    const context = api.trace.setSpan(parent, span);
    let cases = [];
    try {
      cases = JSON.parse(body || '[]');
    } catch {
      // Not JSON: nothing to forward.
    }
    for (const { url, arguments: args } of Array.isArray(cases) ? cases : []) {
      const client = tracer.startSpan('POST', { kind: api.SpanKind.CLIENT }, context);
      const headers = { 'content-type': 'application/json' };
      propagator.inject(api.trace.setSpan(context, client), headers, api.defaultTextMapSetter);
      try {
        await fetch(url, { method: 'POST', headers, body: JSON.stringify(args ?? []) });
      } catch {
        // The suite reports a missing callback itself.
      }
      client.end();
    }
    span.end();
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
});

const port = Number(process.argv[2] ?? 5000);
server.listen(port, '127.0.0.1', () => console.log(`OpenTelemetry JS test service (${versions}): http://127.0.0.1:${port}/test`));
