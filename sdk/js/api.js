// The public JavaScript API of edgescope, shared by every runtime entry point.
//
// Everything here is a thin shell around the wasm core: it reads config objects by hand,
// turns JavaScript values into the plain values the core takes, and owns the platform work
// (timers, fetch for export). No function here throws into the host: failures are counted in
// the SDK's diagnostics and the call returns a harmless value.
import * as core from './wasm/edgescope.js';

const KINDS = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };
const SEVERITY = { trace: 1, debug: 5, info: 9, warn: 13, error: 17, fatal: 21 };
const DIAGNOSTIC_NAMES = [
  'spansDropped',
  'logsDropped',
  'spansRefused',
  'staleHandles',
  'attributesDropped',
  'eventsDropped',
  'linksDropped',
  'exportsFailed',
  'apiErrors',
];
// A keepalive request may carry at most 64 KiB across all in-flight keepalive requests.
const KEEPALIVE_BUDGET = 60000;

const state = {
  endpoint: 'http://127.0.0.1:4318',
  headers: {},
  /** `http/protobuf` (default) or `http/json`, as OTEL_EXPORTER_OTLP_PROTOCOL names them. */
  protobuf: true,
  /** gzip request bodies when the runtime has CompressionStream. */
  gzip: true,
  scheduleDelay: 1000,
  batchSize: 512,
  timer: 0,
  /** The host's own fetch, captured before instrumentation: exports are never traced. */
  fetch: undefined,
  debug: false,
};

function trouble(kind, error) {
  try {
    core.trouble(kind);
    if (state.debug) console.warn('[edgescope]', error);
  } catch {
    // The core itself failed; there is nowhere left to report to.
  }
}

/** Runs `fn`, turning any exception into a counted trouble and `fallback`. */
export function guard(fn, fallback) {
  try {
    return fn();
  } catch (e) {
    trouble(1, e);
    return fallback;
  }
}

function stageAttributes(attributes) {
  if (attributes && typeof attributes === 'object') {
    for (const key of Object.keys(attributes)) core.attr(key, attributes[key]);
  }
}

/**
 * Configures the SDK. Call once, before creating spans.
 * @param {import('./index').Config} config
 */
export function init(config) {
  guard(() => {
    const c = config && typeof config === 'object' ? config : {};
    if (typeof c.endpoint === 'string') state.endpoint = c.endpoint.replace(/\/+$/, '');
    if (c.headers && typeof c.headers === 'object') state.headers = { ...c.headers };
    if (c.protocol === 'http/json' || c.protocol === 'http/protobuf') state.protobuf = c.protocol === 'http/protobuf';
    if (c.compression === 'none' || c.compression === 'gzip') state.gzip = c.compression === 'gzip';
    if (Number.isFinite(c.scheduleDelayMillis)) state.scheduleDelay = Math.max(0, c.scheduleDelayMillis);
    if (Number.isFinite(c.maxExportBatchSize)) state.batchSize = Math.max(1, c.maxExportBatchSize);
    state.debug = c.debug === true;
    if (!state.fetch) state.fetch = globalThis.fetch;
    const attrs = { ...(c.resourceAttributes || {}) };
    if (typeof c.serviceVersion === 'string') attrs['service.version'] = c.serviceVersion;
    if (typeof c.environment === 'string') attrs['deployment.environment.name'] = c.environment;
    stageAttributes(attrs);
    core.configure(
      typeof c.serviceName === 'string' && c.serviceName ? c.serviceName : 'unknown_service',
      Number.isFinite(c.maxQueueSize) ? c.maxQueueSize : 0,
      state.batchSize,
    );
  });
}

/** A span: an operation with a start, an end, attributes and a status. */
export class Span {
  /** @param {number} handle */
  constructor(handle) {
    /** @private */
    this._h = handle;
  }

  /** Sets an attribute; strings, numbers and booleans are kept, other values ignored. */
  setAttribute(key, value) {
    guard(() => core.spanAttr(this._h, String(key), value));
    return this;
  }

  /** Sets every own property of `attributes` as an attribute. */
  setAttributes(attributes) {
    guard(() => {
      for (const key of Object.keys(attributes || {})) core.spanAttr(this._h, key, attributes[key]);
    });
    return this;
  }

  /** Sets the status: `{ code: 'ok' | 'error' | 'unset', message? }`. */
  setStatus(status) {
    guard(() => {
      const code = { unset: 0, ok: 1, error: 2 }[status && status.code] ?? Number(status && status.code) ?? 0;
      core.spanStatus(this._h, code | 0, String((status && status.message) || ''));
    });
    return this;
  }

  /** Renames the span. */
  updateName(name) {
    guard(() => core.spanName(this._h, String(name)));
    return this;
  }

  /** Ends the span; later calls do nothing. */
  end() {
    guard(() => {
      core.spanEnd(this._h);
      scheduleExport();
    });
  }

  /** `{ traceId, spanId, traceFlags }` in lowercase hex; empty ids once the span has ended. */
  spanContext() {
    return guard(() => parseTraceparent(core.spanTraceparent(this._h)), parseTraceparent(undefined));
  }

  /** True while the span is open and recording. */
  isRecording() {
    return guard(() => core.spanTraceparent(this._h) !== undefined, false);
  }
}

function parseTraceparent(tp) {
  if (!tp) return { traceId: '', spanId: '', traceFlags: 0 };
  return { traceId: tp.slice(3, 35), spanId: tp.slice(36, 52), traceFlags: parseInt(tp.slice(53, 55), 16) };
}

/**
 * Starts a span. Its parent is `options.parent` (from `extract`), else the active span.
 * @param {string} name
 * @param {import('./index').SpanOptions} [options]
 */
export function startSpan(name, options) {
  return guard(() => {
    const o = options && typeof options === 'object' ? options : {};
    stageAttributes(o.attributes);
    const kind = typeof o.kind === 'number' ? o.kind : KINDS[o.kind] || 1;
    const parent = o.parent && typeof o.parent === 'object' ? o.parent : undefined;
    return new Span(core.spanStart(String(name), kind, parent && parent.traceparent, parent && parent.tracestate));
  }, new Span(0));
}

function isThenable(v) {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function';
}

/**
 * Runs `fn(span)` with `span` active: spans started and records logged inside it, including
 * after `await` in an async `fn` until its promise settles, are attached to `span`.
 */
export function withSpan(span, fn) {
  const h = span instanceof Span ? span._h : 0;
  guard(() => core.activate(h));
  let result;
  try {
    result = fn(span);
  } catch (e) {
    guard(() => core.deactivate(h));
    throw e;
  }
  if (isThenable(result)) {
    return result.then(
      (v) => {
        guard(() => core.deactivate(h));
        return v;
      },
      (e) => {
        guard(() => core.deactivate(h));
        throw e;
      },
    );
  }
  guard(() => core.deactivate(h));
  return result;
}

function recordError(span, e) {
  span.setStatus({ code: 'error', message: e && e.message ? String(e.message) : String(e) });
}

/**
 * Starts a span, runs `fn(span)` with it active, and ends it when `fn` returns or its promise
 * settles. An exception marks the span as an error and is re-thrown unchanged.
 */
export function startActiveSpan(name, options, fn) {
  if (typeof options === 'function') return startActiveSpan(name, undefined, options);
  const span = startSpan(name, options);
  let result;
  try {
    result = withSpan(span, fn);
  } catch (e) {
    recordError(span, e);
    span.end();
    throw e;
  }
  if (isThenable(result)) {
    return result.then(
      (v) => {
        span.end();
        return v;
      },
      (e) => {
        recordError(span, e);
        span.end();
        throw e;
      },
    );
  }
  span.end();
  return result;
}

/** The active span, or `undefined`. */
export function activeSpan() {
  return guard(() => {
    const h = core.activeSpan();
    return h ? new Span(h) : undefined;
  });
}

function emit(severity, message, attributes) {
  guard(() => {
    stageAttributes(attributes);
    core.log(severity, typeof message === 'string' ? message : String(message));
    scheduleExport();
  });
}

/** Log records correlated with the active span. */
export const logger = {
  trace: (message, attributes) => emit(SEVERITY.trace, message, attributes),
  debug: (message, attributes) => emit(SEVERITY.debug, message, attributes),
  info: (message, attributes) => emit(SEVERITY.info, message, attributes),
  warn: (message, attributes) => emit(SEVERITY.warn, message, attributes),
  error: (message, attributes) => emit(SEVERITY.error, message, attributes),
  fatal: (message, attributes) => emit(SEVERITY.fatal, message, attributes),
};

function setHeader(headers, name, value) {
  if (typeof headers.set === 'function') headers.set(name, value);
  else headers[name] = value;
}

function getHeader(headers, name) {
  if (!headers) return undefined;
  if (typeof headers.get === 'function') return headers.get(name) ?? undefined;
  for (const key of Object.keys(headers)) if (key.toLowerCase() === name) return headers[key];
  return undefined;
}

/** Writes `traceparent` (and `tracestate`) of `span`, else of the active span, into `headers`. */
export function inject(headers, span) {
  guard(() => {
    const h = span instanceof Span ? span._h : core.activeSpan();
    const tp = h && core.spanTraceparent(h);
    if (!tp || !headers) return;
    setHeader(headers, 'traceparent', tp);
    const ts = core.spanTracestate(h);
    if (ts) setHeader(headers, 'tracestate', ts);
  });
}

/**
 * Reads a remote parent from `headers` (a `Headers` or a plain object): pass the result as
 * `startSpan(name, { parent })`. `undefined` when there is no valid `traceparent`.
 */
export function extract(headers) {
  return guard(() => {
    const tp = getHeader(headers, 'traceparent');
    const valid = typeof tp === 'string' ? core.parseTraceparent(tp) : undefined;
    if (!valid) return undefined;
    const ts = getHeader(headers, 'tracestate');
    return { traceparent: valid, tracestate: typeof ts === 'string' ? ts : undefined };
  });
}

function scheduleExport() {
  if (core.queued() >= state.batchSize) {
    flush();
  } else if (state.scheduleDelay > 0 && !state.timer && typeof setTimeout === 'function') {
    state.timer = setTimeout(() => {
      state.timer = 0;
      flush();
    }, state.scheduleDelay);
  }
}

/** gzip through CompressionStream; `undefined` when the runtime cannot. */
async function gzip(body) {
  if (typeof CompressionStream !== 'function') return undefined;
  try {
    const stream = new Blob([body]).stream().pipeThrough(new CompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch {
    return undefined;
  }
}

async function post(path, body, keepalive) {
  const send = state.fetch || globalThis.fetch;
  const headers = { 'content-type': state.protobuf ? 'application/x-protobuf' : 'application/json', ...state.headers };
  // A page that is going away cannot wait for compression: its request must start now.
  const compressed = state.gzip && !keepalive ? await gzip(body) : undefined;
  if (compressed) headers['content-encoding'] = 'gzip';
  const payload = compressed || body;
  try {
    const response = await send.call(globalThis, state.endpoint + path, {
      method: 'POST',
      headers,
      body: payload,
      keepalive: keepalive && payload.length < KEEPALIVE_BUDGET,
    });
    if (!response.ok) trouble(0, new Error(`export to ${path} answered ${response.status}`));
  } catch (e) {
    trouble(0, e);
  }
}

/**
 * Exports every queued span and log record now. Resolves when the requests are answered;
 * never rejects. Pass `{ keepalive: true }` when the page is going away.
 */
export async function flush(options) {
  const keepalive = !!(options && options.keepalive);
  const requests = [];
  guard(() => {
    if (state.timer) {
      clearTimeout(state.timer);
      state.timer = 0;
    }
    const [traces, logs] = state.protobuf ? [core.takeTracesProto, core.takeLogsProto] : [core.takeTraces, core.takeLogs];
    for (let body; (body = traces()) !== undefined; ) requests.push(post('/v1/traces', body, keepalive));
    for (let body; (body = logs()) !== undefined; ) requests.push(post('/v1/logs', body, keepalive));
  });
  await Promise.all(requests);
}

/** Counters of what the SDK dropped or could not do. */
export function diagnostics() {
  return guard(() => {
    const values = core.diagnostics();
    const out = {};
    DIAGNOSTIC_NAMES.forEach((name, i) => (out[name] = values[i]));
    return out;
  }, {});
}

/** Internal: the handle of a span, for the instrumentations. */
export function handleOf(span) {
  return span instanceof Span ? span._h : 0;
}

/** Internal: the host fetch captured by `init`. */
export function hostFetch() {
  return state.fetch;
}
