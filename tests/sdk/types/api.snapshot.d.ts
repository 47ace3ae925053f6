// browser.d.ts
export * from './index.js';
import type { BrowserConfig, RemoteContext } from './index.js';
export declare function init(config?: BrowserConfig): void;
export declare function setUser(id: string | null | undefined): void;
export declare function sessionId(): string | undefined;
export declare function documentContext(): RemoteContext | undefined;
// full.d.ts
export * from './browser.js';
import type { FullBrowserConfig } from './index.js';
export declare function init(config?: FullBrowserConfig): void;
// index.d.ts
export interface Config {
  serviceName?: string;
  serviceVersion?: string;
  environment?: string;
  resourceAttributes?: Record<string, string | number | boolean>;
  endpoint?: string | URL;
  protocol?: 'http/protobuf' | 'http/json';
  compression?: 'gzip' | 'none';
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  headers?: Record<string, string> | [string, string][] | { forEach(callback: (value: string, name: string) => void): void };
  scheduleDelayMillis?: number;
  flushDeadlineMillis?: number;
  maxQueueSize?: number;
  maxExportBatchSize?: number;
  timeoutMillis?: number;
  sampler?: string;
  samplerArg?: number | string;
  keepErrors?: boolean;
  attributeValueLengthLimit?: number;
  redaction?: boolean;
  redactQueryParams?: string | string[];
  redact?: (key: string, value: string) => string;
  debug?: boolean;
  logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
}
export interface BrowserConfig extends Config {
  instrumentFetch?: boolean;
  instrumentXHR?: boolean;
  captureErrors?: boolean;
  sessions?: boolean;
  sessionId?: string;
  propagateTraceHeaderCorsUrls?: string | RegExp | Array<string | RegExp>;
}
export interface FullBrowserConfig extends BrowserConfig {
  documentLoad?: boolean;
  navigation?: boolean;
  interactions?: boolean;
  longTasks?: boolean;
  webVitals?: boolean;
  offline?: boolean;
  captureConsole?: boolean | Array<'debug' | 'log' | 'info' | 'warn' | 'error'>;
}
export type SpanKind = 'internal' | 'server' | 'client' | 'producer' | 'consumer';
export type AttributeValue = string | number | boolean | Array<string | number | boolean> | Uint8Array | AttributeMap;
export interface AttributeMap {
  [key: string]: AttributeValue | undefined;
}
export interface RemoteContext {
  traceparent: string;
  tracestate?: string;
  baggage?: Record<string, string>;
}
export interface Link {
  context: Span | RemoteContext;
  attributes?: Record<string, AttributeValue>;
}
export type TimeInput = number | Date | [number, number];
export interface SpanOptions {
  kind?: SpanKind | number;
  startTime?: TimeInput;
  attributes?: Record<string, AttributeValue>;
  links?: Link[];
  parent?: RemoteContext | Span;
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
  end(endTime?: TimeInput): void;
  spanContext(): SpanContext;
  isRecording(): boolean;
}
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
  spansEvicted: number;
  staleHandles: number;
  attributesDropped: number;
  eventsDropped: number;
  linksDropped: number;
  exportsFailed: number;
  exportsRetried: number;
  recordsRejected: number;
  apiErrors: number;
  exportsBlockedByCsp: number;
  logsTruncated: number;
  disabled?: string;
}
export interface Tracer {
  startSpan(name: string, options?: SpanOptions): Span;
  startActiveSpan<T>(name: string, fn: (span: Span) => T): T;
  startActiveSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => T): T;
}
export declare function getTracer(name: string, version?: string): Tracer;
export declare function startSpan(name: string, options?: SpanOptions): Span;
export declare function withSpan<T>(span: Span, fn: (span: Span) => T): T;
export declare function startActiveSpan<T>(name: string, fn: (span: Span) => T): T;
export declare function startActiveSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => T): T;
export declare function activeSpan(): Span | undefined;
export declare const logger: Logger;
export declare function inject(headers: Headers | Record<string, string>, span?: Span): void;
export declare function extract(headers: Headers | Record<string, string | undefined>): RemoteContext | undefined;
export declare function setBaggage(key: string, value: string, metadata?: string): boolean;
export declare function removeBaggage(key: string): void;
export declare function getBaggage(): Record<string, string>;
export declare function getBaggage(key: string): BaggageEntry | undefined;
export interface BaggageEntry {
  value: string;
  metadata?: string;
}
export declare function flush(options?: { keepalive?: boolean; timeoutMillis?: number }): Promise<void>;
export declare function shutdown(options?: { timeoutMillis?: number }): Promise<void>;
export declare function diagnostics(): Diagnostics;
export interface ServerConfig extends Config {
  instrumentFetch?: boolean;
  propagateTraceHeaderUrls?: Array<string | RegExp>;
  captureConsole?: boolean | Array<'debug' | 'log' | 'info' | 'warn' | 'error'>;
}
export interface InstrumentConfig extends ServerConfig {
  route?: (request: Request) => string | undefined;
}
export interface ModuleWorker<Env = unknown> {
  fetch(request: Request, env: Env, ctx: { waitUntil(promise: Promise<unknown>): void }): Response | Promise<Response>;
  [key: string]: unknown;
}
export type RequestHandler = (request: Request, ...rest: any[]) => Response | Promise<Response>;
export interface WorkerHandlers {
  fetch?(request: Request, ...rest: any[]): Response | Promise<Response>;
  scheduled?(...args: any[]): unknown;
  queue?(...args: any[]): unknown;
  email?(...args: any[]): unknown;
  tail?(...args: any[]): unknown;
  trace?(...args: any[]): unknown;
}
// node.d.ts
export * from './server.js';
import type { ServerConfig } from './index.js';
export declare function init(config?: ServerConfig): void;
// server.d.ts
export * from './index.js';
import type { Config, InstrumentConfig, RequestHandler, WorkerHandlers } from './index.js';
export declare function init(config?: Config): void;
export declare function instrument<H extends RequestHandler>(handler: H, config?: InstrumentConfig | ((env: unknown) => InstrumentConfig)): H;
export declare function instrument<C extends new (...args: any[]) => object & WorkerHandlers>(
  handler: C,
  config?: InstrumentConfig | ((env: unknown) => InstrumentConfig),
): C;
export declare function instrument<W extends WorkerHandlers>(handler: W, config?: InstrumentConfig | ((env: unknown) => InstrumentConfig)): W;
