// The declarations every entry shares (the types, and the API of `public.js`). Each entry's own
// file adds its `init` and its own functions: `browser.d.ts` (the default and `edgescope/full`'s
// browser entries), `server.d.ts` (workerd, Vercel Edge), `node.d.ts` (Node, Deno: `server.d.ts`
// with an `init` that sets the runtime up); package.json's `exports` give each runtime condition
// its file. Relative imports name the `.js` file, as ESM declarations under `nodenext` must.

/** Settings for `init`. Every field is optional. */
export interface Config {
  /** `service.name` of every span and log record. Default `unknown_service`. */
  serviceName?: string;
  /** `service.version`. */
  serviceVersion?: string;
  /** `deployment.environment.name`. */
  environment?: string;
  /** More resource attributes. */
  resourceAttributes?: Record<string, string | number | boolean>;
  /** Base URL of an OTLP/HTTP receiver; `/v1/traces` and `/v1/logs` are appended. Default `http://127.0.0.1:4318`. One with credentials (`user:pass@`), a query or a fragment is ignored and counted: send credentials in `headers`. */
  endpoint?: string | URL;
  /** `http/protobuf` (default) or `http/json` (`edgescope/full`, Node and Deno; the default browser and workerd entries send protobuf). */
  protocol?: 'http/protobuf' | 'http/json';
  /** `gzip` (default, where the runtime has CompressionStream; never for the page-hide flush, nor for a request's batch under 1 KiB in workerd and Vercel Edge) or `none`. */
  compression?: 'gzip' | 'none';
  /** The `fetch` used for exports (default: the host's own, captured before instrumentation). */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Extra headers on export requests (for example `authorization`): an object, a `Headers`, a `Map` or name-value pairs. */
  headers?: Record<string, string> | [string, string][] | { forEach(callback: (value: string, name: string) => void): void };
  /** Milliseconds between an ended span and its export; 0 exports only on `flush()`. Default 1000 (browser), 0 (workers; workerd and Vercel Edge export only on `flush()`). */
  scheduleDelayMillis?: number;
  /** workerd and Vercel Edge: milliseconds a request's `flush()` may take (the runtime ends `waitUntil` about 30 s after the response); batches it could not deliver by then are kept in the isolate and sent first by the next flush. Default 25000. */
  flushDeadlineMillis?: number;
  /** Spans (and, separately, log records) kept for export; more are dropped and counted. Default 2048. */
  maxQueueSize?: number;
  /** Spans or records per export request. Default 512. */
  maxExportBatchSize?: number;
  /** Milliseconds before an export request is abandoned and retried. Default 10000. Times of 2^31 ms (about 24.8 days) or more count as that long. */
  timeoutMillis?: number;
  /** An `OTEL_TRACES_SAMPLER` name: `always_on`, `always_off`, `traceidratio`, `parentbased_always_on` (default), `parentbased_always_off`, `parentbased_traceidratio`. */
  sampler?: string;
  /** The ratio (0–1) for the `traceidratio` samplers. */
  samplerArg?: number | string;
  /** Record traces the sampler dropped and export them when any of their spans in this page ends with an error. Default false. */
  keepErrors?: boolean;
  /**
   * Longest string attribute value in characters (longer values are cut; byte arrays in bytes); 0 or absent for
   * no limit. A log body is cut to this many bytes (16 KiB without it).
   */
  attributeValueLengthLimit?: number;
  /**
   * Mask secrets (default true): secret-looking query, fragment and path parameters in URL attributes, users and
   * passwords in URLs, secret keys' values (`password=…`, `"api_key": "…"`, an attribute keyed `db.password`), and
   * Luhn-valid card numbers, JWTs, bearer tokens and Basic credentials in any string attribute or log message.
   */
  redaction?: boolean;
  /** More query parameter names to treat as secrets. */
  redactQueryParams?: string | string[];
  /** The app's own rule, applied to string attribute values (and `log.message`) before the built-in ones. */
  redact?: (key: string, value: string) => string;
  /** Print the SDK's own troubles with `console.warn`. Default false. */
  debug?: boolean;
  /**
   * The lowest severity the logger records: `debug` by default in development (`environment`, or the resource's
   * `deployment.environment.name`, is `development`, `dev` or `local`; without one, a page served from
   * localhost), `info` otherwise.
   */
  logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
}

/** Browser settings. */
export interface BrowserConfig extends Config {
  /** Trace `fetch` calls. Default true. */
  instrumentFetch?: boolean;
  /** Trace `XMLHttpRequest` calls. Default true. */
  instrumentXHR?: boolean;
  /** Uncaught errors and unhandled rejections become ERROR log records (and mark the active span). Default true. */
  captureErrors?: boolean;
  /** `session.id` on every span and record, kept in sessionStorage, rotated after 15 minutes idle or 4 hours. Default true. */
  sessions?: boolean;
  /** The session to join instead of making one (32 lowercase hex digits): in a Web Worker, which has no sessionStorage, the page's `sessionId()`, so that the worker's telemetry carries the tab's `session.id`. It is not rotated here. */
  sessionId?: string;
  /** Cross-origin URLs that may receive `traceparent`: regular expressions, or prefixes that match where a host or path segment ends. Same-origin always may. */
  propagateTraceHeaderCorsUrls?: string | RegExp | Array<string | RegExp>;
}

/** Settings of the `edgescope/full` browser entry: every instrumentation, each switchable. */
export interface FullBrowserConfig extends BrowserConfig {
  /** A `documentLoad` span tree from Navigation and Resource Timing. Default true. */
  documentLoad?: boolean;
  /** A `navigation` span per `pushState`, `replaceState` and `popstate`. Default true. */
  navigation?: boolean;
  /** A `click`/`submit` span, active while the page's handlers run. Default true. */
  interactions?: boolean;
  /** A `longtask` span per long task the browser reports. Default true. */
  longTasks?: boolean;
  /** LCP, INP, CLS, FCP and TTFB as `browser.web_vital` log records when the page is first hidden. Default true. */
  webVitals?: boolean;
  /** Keep batches that fail for lack of network in IndexedDB and send them when back online, once. Default true. */
  offline?: boolean;
  /** Console calls as log records: `true` for debug/log/info/warn/error, or the method names. Default off. */
  captureConsole?: boolean | Array<'debug' | 'log' | 'info' | 'warn' | 'error'>;
}

export type SpanKind = 'internal' | 'server' | 'client' | 'producer' | 'consumer';
export type AttributeValue = string | number | boolean | Array<string | number | boolean> | Uint8Array | AttributeMap;
/** A map value (OTLP `kvlistValue`): a plain object, at most 8 maps deep and 1,024 values in all. */
export interface AttributeMap {
  [key: string]: AttributeValue | undefined;
}

/** A remote parent read from incoming headers by `extract`. */
export interface RemoteContext {
  traceparent: string;
  tracestate?: string;
  /**
   * The request's valid W3C baggage entries, decoded. A span started with this context as its
   * parent carries them, and so do the spans under it: `inject` for them (and fetch and XHR started
   * under them) sends them after the page-wide `setBaggage` entries, which win for a key both have.
   */
  baggage?: Record<string, string>;
}

export interface Link {
  context: Span | RemoteContext;
  attributes?: Record<string, AttributeValue>;
}

/**
 * A time, as OpenTelemetry's `TimeInput`: Unix milliseconds (or, below `performance.timeOrigin`,
 * a `performance.now()` reading), a `Date`, or `[seconds, nanoseconds]` since the epoch.
 * Anything else (NaN, a string, a negative or huge number) is ignored (the time is now) and
 * counted in `diagnostics().apiErrors`.
 */
export type TimeInput = number | Date | [number, number];

export interface SpanOptions {
  /** A name, or a number as OpenTelemetry JS's `SpanKind` has it (INTERNAL 0, SERVER 1, CLIENT 2, PRODUCER 3, CONSUMER 4). */
  kind?: SpanKind | number;
  /** When the span started (now when absent). */
  startTime?: TimeInput;
  attributes?: Record<string, AttributeValue>;
  links?: Link[];
  /**
   * The parent: a remote context (its `baggage` goes on with this span and those under it) or a span of this
   * process, open or ended; without it the active span, if any, is the parent.
   */
  parent?: RemoteContext | Span;
  /** A new trace, whatever span is active (as OpenTelemetry's `root`); `parent` wins over it. */
  root?: boolean;
}

export interface SpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

export declare class Span {
  private constructor();
  setAttribute(key: string, value: AttributeValue): this;
  setAttributes(attributes: Record<string, AttributeValue>): this;
  setStatus(status: { code: 'unset' | 'ok' | 'error'; message?: string }): this;
  updateName(name: string): this;
  addEvent(name: string, attributesOrTime?: Record<string, AttributeValue> | TimeInput, time?: TimeInput): this;
  recordException(exception: unknown, attributesOrTime?: Record<string, AttributeValue> | TimeInput, time?: TimeInput): this;
  addLink(target: Span | RemoteContext, attributes?: Record<string, AttributeValue>): this;
  /** Ends the span, at `endTime` when given (never before its start); later calls do nothing. */
  end(endTime?: TimeInput): void;
  spanContext(): SpanContext;
  /** False once ended, and for a span the sampler dropped (its context still propagates); true under `keepErrors`, which records such spans. */
  isRecording(): boolean;
}

/**
 * Log records carrying the active trace and span ids. A message that is no string is recorded as a console shows
 * it: an object as JSON (a cycle as "[Circular]"), an error as its stack; no message as an empty body.
 */
export interface Logger {
  trace(message?: unknown, attributes?: Record<string, AttributeValue>): void;
  debug(message?: unknown, attributes?: Record<string, AttributeValue>): void;
  info(message?: unknown, attributes?: Record<string, AttributeValue>): void;
  warn(message?: unknown, attributes?: Record<string, AttributeValue>): void;
  error(message?: unknown, attributes?: Record<string, AttributeValue>): void;
  fatal(message?: unknown, attributes?: Record<string, AttributeValue>): void;
}

export interface Diagnostics {
  spansDropped: number;
  logsDropped: number;
  /** Open spans dropped unended (the oldest first) when 10,000 were open, to make room for new ones. */
  spansEvicted: number;
  staleHandles: number;
  attributesDropped: number;
  eventsDropped: number;
  linksDropped: number;
  exportsFailed: number;
  exportsRetried: number;
  recordsRejected: number;
  apiErrors: number;
  /** Browser: exports not sent because the page's Content-Security-Policy (`connect-src`) refuses the endpoint. */
  exportsBlockedByCsp: number;
  /** Log records whose body was cut to `attributeValueLengthLimit` bytes, or 16 KiB without one, since `init`. */
  logsTruncated: number;
  /** Why the SDK is off, when its WebAssembly could not be loaded (a CSP without 'wasm-unsafe-eval', an unfetchable .wasm). */
  disabled?: string;
}

/** Starts spans that carry an instrumentation scope of their own (a library's name and version). */
export interface Tracer {
  startSpan(name: string, options?: SpanOptions): Span;
  startActiveSpan<T>(name: string, fn: (span: Span) => T): T;
  startActiveSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => T): T;
}

/** A tracer whose spans carry the instrumentation scope `name` (and `version`); the module's `startSpan` uses the SDK's own. */
export declare function getTracer(name: string, version?: string): Tracer;
export declare function startSpan(name: string, options?: SpanOptions): Span;
export declare function withSpan<T>(span: Span, fn: (span: Span) => T): T;
export declare function startActiveSpan<T>(name: string, fn: (span: Span) => T): T;
export declare function startActiveSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => T): T;
export declare function activeSpan(): Span | undefined;
export declare const logger: Logger;
export declare function inject(headers: Headers | Record<string, string>, span?: Span): void;
export declare function extract(headers: Headers | Record<string, string | undefined>): RemoteContext | undefined;
/**
 * Sets a page-wide W3C baggage entry; `metadata` is its member properties as W3C Baggage writes them
 * (`"ttl=60;secure"`), sent after the member. Invalid metadata is dropped (the entry is set without it) and
 * counted in `diagnostics().apiErrors`. Returns false for a key that is not a token, and for an entry the
 * header has no room for (64 members and 8,192 bytes at most; counted).
 */
export declare function setBaggage(key: string, value: string, metadata?: string): boolean;
export declare function removeBaggage(key: string): void;
export declare function getBaggage(): Record<string, string>;
/** One page-wide baggage entry: its value, and its metadata (member properties) where it has some. */
export declare function getBaggage(key: string): BaggageEntry | undefined;
export interface BaggageEntry {
  value: string;
  metadata?: string;
}
/**
 * Exports what is queued; resolves when those exports are answered (or given up), or after `timeoutMillis`
 * (default 30000; exports still retrying then go on), never rejects. In browsers, Node and Deno it also waits
 * for exports already under way. In workerd and Vercel Edge it waits only for the exports it starts, all made in
 * the calling request, so `ctx.waitUntil(flush())` settles on its own (by `flushDeadlineMillis`).
 */
export declare function flush(options?: { keepalive?: boolean; timeoutMillis?: number }): Promise<void>;
/**
 * Stops the SDK: spans started afterwards are not recorded and log records are not kept, until `init` is called
 * again; what is queued is exported. Resolves when those exports have settled, or after `timeoutMillis` (default
 * 30000), never rejects.
 */
export declare function shutdown(options?: { timeoutMillis?: number }): Promise<void>;
export declare function diagnostics(): Diagnostics;

/**
 * The SDK config and the server runtime's set-up: what `instrument` takes besides `route`, and
 * what `init` takes in Node and Deno (where it sets the runtime up itself).
 */
export interface ServerConfig extends Config {
  /** Trace outgoing `fetch` (inside handlers, and everywhere after Node's and Deno's `init`). Default true. */
  instrumentFetch?: boolean;
  /** URLs that may receive trace headers: regular expressions, or prefixes that match where a host or path segment ends; default all. */
  propagateTraceHeaderUrls?: Array<string | RegExp>;
  /**
   * Console calls as log records of the request that made them (through AsyncLocalStorage where
   * the runtime has it): `true` for debug/log/info/warn/error, or the method names. The console
   * still prints them. Default off.
   */
  captureConsole?: boolean | Array<'debug' | 'log' | 'info' | 'warn' | 'error'>;
}

/** Options of `instrument`, besides the SDK config. */
export interface InstrumentConfig extends ServerConfig {
  /** Names the route of a request (`/todos/:id`) for `http.route` and the span name. */
  route?: (request: Request) => string | undefined;
}

/** A Cloudflare-style module worker with a `fetch` (one of the shapes `instrument` takes; see `WorkerHandlers`). */
export interface ModuleWorker<Env = unknown> {
  fetch(request: Request, env: Env, ctx: { waitUntil(promise: Promise<unknown>): void }): Response | Promise<Response>;
  [key: string]: unknown;
}

/** A function `instrument` takes: `(request, info) => Response` (Deno.serve, Vercel Edge, Node). */
export type RequestHandler = (request: Request, ...rest: any[]) => Response | Promise<Response>;

/**
 * The handlers of a worker that `instrument` sets up: those an object (an object literal, a class instance, an
 * interface such as wrangler's `ExportedHandler<Env>`) or a class's instances have must be functions, and an
 * object must have at least one of them (`fetch`, or a cron-only `scheduled`…). Its other members are kept as
 * they are.
 */
export interface WorkerHandlers {
  fetch?(request: Request, ...rest: any[]): Response | Promise<Response>;
  scheduled?(...args: any[]): unknown;
  queue?(...args: any[]): unknown;
  email?(...args: any[]): unknown;
  tail?(...args: any[]): unknown;
  trace?(...args: any[]): unknown;
}
