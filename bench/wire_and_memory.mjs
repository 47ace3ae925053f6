// Bytes on the wire per span and memory under a blocked exporter, edgescope against
// OpenTelemetry JS, in the same Node process. Prints JSON.
//
// Wire: the same 1,000 client spans (five HTTP attributes each) as edgescope sends them (OTLP
// protobuf, gzip) and as OpenTelemetry JS's OTLP/HTTP JSON exporter serializes them
// (`JsonTraceSerializer`; its browser exporter sends that body uncompressed).
// Memory: 1,000,000 spans created in a tight loop while every export hangs forever; the SDK's
// queue bound (2,048 spans) must keep its memory flat. Reported: wasm memory of edgescope's
// module, and the growth of the JS heap for both.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as ours from '../sdk/dist/node.js';
import * as core from '../sdk/dist/core.js';

const require = createRequire(join(process.env.NODE_PATH ?? process.cwd(), 'x.js'));
const { BasicTracerProvider, SimpleSpanProcessor, InMemorySpanExporter, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { JsonTraceSerializer } = require('@opentelemetry/otlp-transformer');
const { resourceFromAttributes } = require('@opentelemetry/resources');

const SPANS = 1000;
const attrs = (i) => ({
  'http.request.method': 'GET',
  'url.full': `https://api.example.com/todos/${i}`,
  'server.address': 'api.example.com',
  'server.port': 443,
  'http.response.status_code': 200,
});

// edgescope: capture what its exporter sends.
const bodies = [];
const capture = async (url, init) => {
  bodies.push(init.body);
  return new Response(null, { status: 200 });
};
ours.init({ serviceName: 'wire', fetch: capture, scheduleDelayMillis: 0, maxExportBatchSize: SPANS });
for (let i = 0; i < SPANS; i++) ours.startSpan('GET', { kind: 'client', attributes: attrs(i) }).end();
await ours.flush();
const oursBytes = bodies.reduce((n, b) => n + b.length, 0);

// OpenTelemetry JS: the same spans through its JSON serializer.
const memory = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'wire' }),
  spanProcessors: [new SimpleSpanProcessor(memory)],
});
const tracer = provider.getTracer('wire');
for (let i = 0; i < SPANS; i++) tracer.startSpan('GET', { kind: 2, attributes: attrs(i) }).end();
const json = JsonTraceSerializer.serializeRequest(memory.getFinishedSpans());
const otelBytes = json.length;
const otelGzipBytes = gzipSync(json).length;

// Memory under a blocked exporter.
const hang = () => new Promise(() => {});
const gc = () => globalThis.gc?.();
const heap = () => (gc(), process.memoryUsage().heapUsed);
ours.init({ serviceName: 'memory', fetch: hang, scheduleDelayMillis: 0 });
const oursHeap0 = heap();
for (let i = 0; i < 1_000_000; i++) {
  const s = ours.startSpan('op');
  s.setAttribute('i', i);
  s.end();
}
const oursHeap = heap() - oursHeap0;
const wasmBytes = core.wasmMemory().buffer.byteLength;
const dropped = ours.diagnostics().spansDropped;

const blocked = { export: () => {}, shutdown: async () => {}, forceFlush: async () => {} };
const otelProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(blocked, { maxQueueSize: 2048 })] });
const otelTracer = otelProvider.getTracer('memory');
const otelHeap0 = heap();
for (let i = 0; i < 1_000_000; i++) {
  const s = otelTracer.startSpan('op');
  s.setAttribute('i', i);
  s.end();
}
const otelHeap = heap() - otelHeap0;

console.log(JSON.stringify({
  oursBytesPerSpan: oursBytes / SPANS,
  otelJsonBytesPerSpan: otelBytes / SPANS,
  otelJsonGzipBytesPerSpan: otelGzipBytes / SPANS,
  wasmBytes,
  oursHeap,
  otelHeap,
  dropped,
}));
process.exit(0);
