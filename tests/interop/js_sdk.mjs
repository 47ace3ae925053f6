// The OpenTelemetry JS SDK, configured as an application would be, exporting one trace and a
// few log records to the collector over OTLP/HTTP (JSON or protobuf). An in-memory exporter
// beside each OTLP one keeps the SDK's own records, the expectation of the tests.
import { randomBytes } from 'node:crypto';
import { createTraceState, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { jsLog, jsSpan, sortLogs, sortSpans } from './view.mjs';

const hex = (bytes) => randomBytes(bytes).toString('hex');

/** Wraps an exporter to remember the result of every export. */
function recording(exporter, results) {
  return {
    export(items, done) {
      exporter.export(items, (result) => {
        results.push(result);
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

/** Every kind of attribute value the JS API takes. */
const everyType = {
  'str': 'plain',
  'str.escapes': 'quote " backslash \\ newline \n tab \t nul-ish \u0001 é 漢字 🚀',
  'str.empty': '',
  'bool.true': true,
  'bool.false': false,
  'int': 42,
  'int.negative': -7,
  'int.zero': 0,
  'int.max_safe': Number.MAX_SAFE_INTEGER,
  'int.min_safe': Number.MIN_SAFE_INTEGER,
  'double': 3.141592653589793,
  'double.tenth': 0.1,
  'double.negative': -2.5e-8,
  'double.tiny': 5e-324,
  'array.str': ['a', 'b', ''],
  'array.bool': [true, false],
  'array.int': [1, -2, 3],
  'array.double': [1.5, -0.25],
  'array.empty': [],
};

/**
 * Exports a SERVER span continuing a remote parent and its CLIENT child, and three log records,
 * two of them in the trace, to `otlp` with `protocol` (`json` or `protobuf`); resolves to the
 * SDK's own records in the common view and the results of the OTLP exports.
 */
export async function exportWithJsSdk(otlp, protocol) {
  const Trace = protocol === 'json' ? JsonTraceExporter : ProtoTraceExporter;
  const Log = protocol === 'json' ? JsonLogExporter : ProtoLogExporter;
  const results = [];
  const resource = resourceFromAttributes(
    { 'service.name': `interop-js-${protocol}`, 'service.version': '1.2.3', 'deployment.environment.name': 'test', 'host.cpu.count': 2 },
    { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' },
  );

  const spansSeen = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    resource,
    // One link per span, so that the client span's second link is dropped and counted.
    spanLimits: { linkCountLimit: 1 },
    spanProcessors: [
      new SimpleSpanProcessor(spansSeen),
      new BatchSpanProcessor(recording(new Trace({ url: `${otlp}/v1/traces` }), results)),
    ],
  });
  const logsSeen = new InMemoryLogRecordExporter();
  const loggerProvider = new LoggerProvider({
    resource,
    processors: [
      new SimpleLogRecordProcessor({ exporter: logsSeen }),
      new BatchLogRecordProcessor({ exporter: recording(new Log({ url: `${otlp}/v1/logs` }), results) }),
    ],
  });

  // A minute ago, with nanoseconds that no millisecond clock would give.
  const t0 = Math.floor(Date.now() / 1000) - 60;
  const at = (ms, ns) => [t0 + Math.floor(ms / 1000), (ms % 1000) * 1_000_000 + ns];

  const tracer = tracerProvider.getTracer('interop-tracer', '4.5.6', { schemaUrl: 'https://opentelemetry.io/schemas/1.29.0' });
  const traceId = hex(16);
  const remoteParent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId,
    spanId: hex(8),
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: createTraceState('vendor=abc,other=x-1'),
  });
  const linked = { traceId: hex(16), spanId: hex(8), traceFlags: TraceFlags.SAMPLED, isRemote: true, traceState: createTraceState('linked=yes') };

  const server = tracer.startSpan('GET /orders/{id}', {
    kind: SpanKind.SERVER,
    startTime: at(0, 123_456),
    attributes: everyType,
    links: [{ context: linked, attributes: { 'link.reason': 'retry of', 'link.attempt': 2 } }],
  }, remoteParent);
  server.addEvent('request.received', { 'bytes': 512, 'ratio': 0.75, 'tags': ['x', 'y'], 'ok': true }, at(1, 7));
  const client = tracer.startSpan('GET inventory', {
    kind: SpanKind.CLIENT,
    startTime: at(2, 999_999),
    attributes: { 'http.request.method': 'GET', 'server.port': 8443, 'url.full': 'https://inventory.internal/items?id=7' },
    links: [
      { context: { ...linked, spanId: hex(8) } },
      { context: { ...linked, spanId: hex(8) }, attributes: { 'link.dropped': true } },
    ],
  }, trace.setSpan(ROOT_CONTEXT, server));
  client.addEvent('retry', { attempt: 1 }, at(3, 1));
  client.setStatus({ code: SpanStatusCode.OK });
  client.end(at(40, 500_001));
  const failure = new TypeError('inventory answered 503');
  server.recordException(failure, at(41, 42));
  server.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream failed: inventory answered 503' });
  server.setAttribute('late.attribute', 'set after the child ended');
  server.end(at(45, 1));

  const logger = loggerProvider.getLogger('interop-logger', '7.8.9');
  logger.emit({
    timestamp: at(1, 11),
    observedTimestamp: at(1, 12),
    severityNumber: SeverityNumber.INFO,
    severityText: 'INFO',
    body: 'order 7 received',
    attributes: { ...everyType, 'map': { nested: 'yes', n: 1 }, 'bytes': new Uint8Array([0, 1, 254, 255]) },
    context: trace.setSpan(ROOT_CONTEXT, server),
  });
  logger.emit({
    timestamp: at(3, 21),
    observedTimestamp: at(3, 22),
    severityNumber: SeverityNumber.ERROR2,
    severityText: 'ERROR',
    eventName: 'inventory.failed',
    body: { status: 503, retryable: true, detail: { items: [7, 'eight', 9.5], raw: new Uint8Array([104, 105]) } },
    attributes: { 'http.response.status_code': 503 },
    context: trace.setSpan(ROOT_CONTEXT, client),
  });
  logger.emit({
    timestamp: at(50, 31),
    observedTimestamp: at(50, 32),
    severityNumber: SeverityNumber.DEBUG,
    severityText: 'debug',
    body: 'outside any trace',
  });

  // Read before shutting down, which empties the in-memory exporters.
  const spans = sortSpans(spansSeen.getFinishedSpans().map(jsSpan));
  const logs = sortLogs(logsSeen.getFinishedLogRecords().map(jsLog));
  await tracerProvider.shutdown();
  await loggerProvider.shutdown();
  return { traceId, spans, logs, results };
}
