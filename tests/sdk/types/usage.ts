// Type-checked use of the package's public API: `tsc --noEmit` over this file fails when the
// declarations drift from what an app writes. Not executed.
import {
  init,
  startSpan,
  startActiveSpan,
  withSpan,
  activeSpan,
  logger,
  inject,
  extract,
  flush,
  shutdown,
  getTracer,
  type Tracer,
  diagnostics,
  setBaggage,
  getBaggage,
  removeBaggage,
  documentContext,
  type Span,
  type Config,
  type BrowserConfig,
  type RemoteContext,
  type Diagnostics,
  type TimeInput,
  type BaggageEntry,
} from 'edgescope';
import { init as initFull, type FullBrowserConfig } from 'edgescope/full';
// @ts-expect-error the server entries' own: a page that imported it would fail to link.
import { instrument } from 'edgescope';

const config: BrowserConfig = {
  serviceName: 'web',
  serviceVersion: '1.0.0',
  environment: 'production',
  endpoint: 'https://otel.example.com',
  headers: { authorization: 'Bearer x' },
  protocol: 'http/protobuf',
  compression: 'gzip',
  timeoutMillis: 5000,
  scheduleDelayMillis: 1000,
  sampler: 'parentbased_traceidratio',
  samplerArg: 0.25,
  keepErrors: true,
  attributeValueLengthLimit: 1024,
  propagateTraceHeaderCorsUrls: ['https://api.example.com', /\.example\.org\//],
  fetch: (input, init) => fetch(input, init),
  logLevel: 'warn',
};
init(config);
const full: FullBrowserConfig = { ...config, webVitals: false, captureConsole: ['warn', 'error'], offline: false };
initFull(full);
initFull({ serviceName: 'web', documentLoad: false, interactions: true });
const workerConfig: Config = { serviceName: 'worker' };
void workerConfig;

const parent: RemoteContext | undefined = extract({ traceparent: '00-…' }) ?? documentContext();
const span: Span = startSpan('load', { kind: 'client', attributes: { a: 1, b: 'x', c: true, d: [1, 2] }, parent });
span.setAttribute('k', 'v').setAttributes({ n: 1 }).addEvent('e', { x: 1 }).recordException(new Error('x'));
span.addLink(span, { reason: 'retry' }).setStatus({ code: 'error', message: 'boom' }).updateName('load2');
const { traceId, spanId, traceFlags }: { traceId: string; spanId: string; traceFlags: number } = span.spanContext();
void [traceId, spanId, traceFlags, span.isRecording()];
span.end();
// Times as OpenTelemetry's API takes them.
const when: TimeInput = new Date();
const timed = startSpan('timed', { startTime: [1_800_000_000, 5] });
timed.addEvent('at', when).addEvent('with', { a: 1 }, performance.now()).recordException(new Error('x'), Date.now());
timed.recordException('late', { retry: true }, when);
timed.end(when);

const tracer: Tracer = getTracer('acme-db', '2.1.0');
tracer.startSpan('query', { kind: 'client' }).end();
const q: number = tracer.startActiveSpan('nested', { kind: 'client' }, (s) => (s.end(), 1));
const r: Promise<void> = getTracer('acme-http').startActiveSpan('request', async (s) => s.end());
void [q, r];
const n: number = startActiveSpan('sync', () => 1);
const p: Promise<string> = startActiveSpan('async', { kind: 'server' }, async (s) => s.spanContext().traceId);
const w: number = withSpan(span, (s) => (s.isRecording() ? 1 : 0));
void [n, p, w, activeSpan()?.spanContext()];

logger.info('hello', { user: 'ada' });
logger.error('failed');
const headers: Record<string, string> = {};
inject(headers);
inject(new Headers(), span);
const ok: boolean = setBaggage('tenant', 'acme');
const bag: Record<string, string> = getBaggage();
const withMetadata: boolean = setBaggage('tenant', 'acme', 'ttl=60;secure');
const entry: BaggageEntry | undefined = getBaggage('tenant');
const metadata: string | undefined = entry?.metadata;
removeBaggage('tenant');
void [ok, bag];
const d: Diagnostics = diagnostics();
const dropped: number = d.spansDropped + d.exportsRetried + d.recordsRejected;
void dropped;
const done: Promise<void> = flush({ keepalive: true });
const stopped: Promise<void> = shutdown();
void [done, stopped];

// @ts-expect-error: the full entry's switches are not the default entry's
init({ serviceName: 'web', webVitals: false });
// @ts-expect-error: levels are a closed set
init({ logLevel: 'verbose' });
// @ts-expect-error: kinds are a closed set
startSpan('x', { kind: 'sideways' });
span.setAttribute('request', { headers: { accept: 'text/html' }, retries: 2, body: new Uint8Array([1, 2]) });
// @ts-expect-error: functions are not attribute values
span.setAttribute('k', () => 1);
// @ts-expect-error: a string is no time
span.end('now');
void instrument;
