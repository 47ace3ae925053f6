// Per-span cost, edgescope against @opentelemetry/sdk-trace-base, in the same Node process.
// Both: start a span, set three attributes, end it; spans go through a batch processor to an
// exporter that discards. edgescope also encodes each batch as OTLP protobuf (a discarding
// `fetch` receives it), which the peer's discarding exporter never does.
// Prints JSON: median ns per span over rounds, and ns per `inject` into a plain object.
// `--lean`: edgescope through the browser and workerd module (`edgescope_bg.wasm`) and the
// core's span path they take, instead of the Node entry's spans recorded in JavaScript.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

let ours;
if (process.argv.includes('--lean')) {
  const core = await import('../sdk/dist/core.js');
  core.initSync({ module: readFileSync(new URL('../sdk/dist/wasm/edgescope_bg.wasm', import.meta.url)) });
  ours = await import('../sdk/dist/public.js');
} else {
  ours = await import('../sdk/dist/node.js');
}

const require = createRequire(join(process.env.NODE_PATH ?? '.', 'x.js'));
const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { W3CTraceContextPropagator } = require('@opentelemetry/core');
const api = require('@opentelemetry/api');

const N = 100_000;
const ROUNDS = 7;
/** Spans between yields to the event loop, so that both SDKs' exports run and nothing is dropped. */
const CHUNK = 256;
const tick = () => new Promise((resolve) => setImmediate(resolve));
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function time(fn) {
  const out = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t0) / N);
  }
  return median(out);
}

// edgescope: batches of 512 are encoded and handed to a fetch that discards them.
const discard = async () => new Response(null, { status: 200 });
ours.init({ serviceName: 'bench', fetch: discard, compression: 'none', scheduleDelayMillis: 0, maxQueueSize: 4096 });
const oursNs = await time(async () => {
  for (let i = 0; i < N; i++) {
    if (i % CHUNK === 0) await tick();
    const span = ours.startSpan('op');
    span.setAttribute('http.request.method', 'GET');
    span.setAttribute('http.response.status_code', 200);
    span.setAttribute('url.path', '/todos');
    span.end();
  }
  await ours.flush();
});

// OpenTelemetry JS: BatchSpanProcessor with an exporter that reports success and drops.
let otelExported = 0;
const exporter = {
  export: (spans, done) => {
    otelExported += spans.length;
    done({ code: 0 });
  },
  shutdown: async () => {},
  forceFlush: async () => {},
};
const processor = new BatchSpanProcessor(exporter, { maxQueueSize: 4096, maxExportBatchSize: 512 });
const provider = new BasicTracerProvider({ spanProcessors: [processor] });
const tracer = provider.getTracer('bench');
const otelNs = await time(async () => {
  for (let i = 0; i < N; i++) {
    if (i % CHUNK === 0) await tick();
    const span = tracer.startSpan('op');
    span.setAttribute('http.request.method', 'GET');
    span.setAttribute('http.response.status_code', 200);
    span.setAttribute('url.path', '/todos');
    span.end();
  }
  await processor.forceFlush();
});

// inject: the active span's context into a plain carrier object.
const oursSpan = ours.startSpan('parent');
const oursInject = await time(async () => {
  await ours.withSpan(oursSpan, () => {
    for (let i = 0; i < N; i++) ours.inject({});
  });
});
const propagator = new W3CTraceContextPropagator();
const otelSpan = tracer.startSpan('parent');
const ctx = api.trace.setSpan(api.context.active(), otelSpan);
const otelInject = await time(async () => {
  for (let i = 0; i < N; i++) propagator.inject(ctx, {}, api.defaultTextMapSetter);
});

console.log(
  JSON.stringify({
    ours: oursNs,
    otel: otelNs,
    oursInject,
    otelInject,
    oursDropped: ours.diagnostics().spansDropped,
    otelDropped: N * ROUNDS - otelExported,
  }),
);
