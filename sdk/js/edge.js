// `instrument(handler, config)` for server-side handlers: Cloudflare-style module workers
// (`{ fetch(request, env, ctx) }`), `Deno.serve` handlers and generic `(request) => Response`
// handlers (Vercel Edge, Node with `fetch`). Each request gets a SERVER span continuing its
// `traceparent`; outgoing `fetch` calls inside it get CLIENT spans and trace headers; every
// span and log record of the request is exported through `ctx.waitUntil` where the runtime
// offers it, and otherwise right after the response is produced. `captureConsole` makes console
// calls log records of the request that made them; a request's incoming `baggage` goes out with
// its own outgoing calls.
import { extract, flush, guard, init, inject, startSpan, useAsyncContext, withSpan } from './api.js';
import { METHODS, clientSpan, listed } from './fetch.js';
import { captureConsole } from './console.js';

/** `k=v,k2=v2` with percent-encoded values, as OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS. */
function pairs(text) {
  const out = {};
  for (const part of String(text || '').split(',')) {
    const i = part.indexOf('=');
    if (i > 0) {
      try {
        out[decodeURIComponent(part.slice(0, i).trim())] = decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        // A malformed pair is skipped; the others stand.
      }
    }
  }
  return out;
}

/** The SDK config from OpenTelemetry environment variables (or worker bindings) and `config`. */
export function configFromEnv(env, config) {
  const e = env && typeof env === 'object' ? env : {};
  const fromEnv = {};
  if (typeof e.OTEL_SERVICE_NAME === 'string') fromEnv.serviceName = e.OTEL_SERVICE_NAME;
  if (typeof e.OTEL_EXPORTER_OTLP_ENDPOINT === 'string') fromEnv.endpoint = e.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (typeof e.OTEL_EXPORTER_OTLP_HEADERS === 'string') fromEnv.headers = pairs(e.OTEL_EXPORTER_OTLP_HEADERS);
  if (typeof e.OTEL_EXPORTER_OTLP_PROTOCOL === 'string') fromEnv.protocol = e.OTEL_EXPORTER_OTLP_PROTOCOL;
  if (typeof e.OTEL_TRACES_SAMPLER === 'string') fromEnv.sampler = e.OTEL_TRACES_SAMPLER;
  if (typeof e.OTEL_TRACES_SAMPLER_ARG === 'string') fromEnv.samplerArg = e.OTEL_TRACES_SAMPLER_ARG;
  if (typeof e.OTEL_RESOURCE_ATTRIBUTES === 'string') {
    const attrs = pairs(e.OTEL_RESOURCE_ATTRIBUTES);
    if (!fromEnv.serviceName && attrs['service.name']) fromEnv.serviceName = attrs['service.name'];
    fromEnv.resourceAttributes = attrs;
  }
  const c = typeof config === 'function' ? config(env) : config;
  return { scheduleDelayMillis: 0, ...fromEnv, ...(c && typeof c === 'object' ? c : {}) };
}

/** The one set-up of the isolate, which requests that arrive while it runs wait for too. */
let configured;
let fetchPatched = false;
let propagateTo;
/** `route` of a config given as `(env) => config`, known once the set-up has read it. */
let routeOfConfig;
/**
 * Each request's incoming baggage (its valid members by key), following the request through
 * `await` where the runtime has AsyncLocalStorage. Without it a request's baggage is not sent on:
 * it could not be told from another interleaved request's.
 */
let requestBaggage;

/**
 * W3C Baggage: a member is `key OWS "=" OWS value`, then `OWS ";" OWS property` where a property
 * is `key OWS "=" OWS value` or a `key`; a key is a token, a value baggage-octets (percent-encoded
 * beyond them), so a valid member is ASCII: its length is its size in bytes.
 */
const BAGGAGE_PAIR = /^\s*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*(?:=\s*([\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*)\s*)?$/;
const BAGGAGE_MAX_MEMBERS = 64;
const BAGGAGE_MAX_BYTES = 8192;

/**
 * The valid members of a `baggage` header by key, each as `key=value` with its `;properties`. A
 * member with an invalid property is invalid, and dropped whole, as the core's parser does.
 */
function baggageMembers(header) {
  const members = new Map();
  if (typeof header !== 'string') return members;
  for (const part of header.split(',')) {
    const [pair, ...properties] = part.split(';').map((p) => BAGGAGE_PAIR.exec(p));
    if (pair && pair[2] !== undefined && properties.every(Boolean)) {
      members.set(pair[1], [`${pair[1]}=${pair[2]}`, ...properties.map((p) => p[0].trim())].join(';'));
    }
  }
  return members;
}

/**
 * The `baggage` of an outgoing call: `own` (the header the call has after `inject` — the isolate's
 * `setBaggage` entries, or, without any, one the code set itself) and the request's members, `own`
 * winning for a key both have and coming first within the W3C limits (64 members, 8,192 bytes).
 */
function combinedBaggage(incoming, own) {
  const members = baggageMembers(own);
  for (const [key, member] of incoming) if (!members.has(key)) members.set(key, member);
  let header = '';
  let count = 0;
  for (const member of members.values()) {
    if (count === BAGGAGE_MAX_MEMBERS) break;
    const next = header ? `${header},${member}` : member;
    if (next.length > BAGGAGE_MAX_BYTES) continue;
    header = next;
    count++;
  }
  return header;
}

function setUp(env, config) {
  configured ??= configure(env, config).catch(() => {});
  return configured;
}

async function configure(env, config) {
  const c = configFromEnv(env, config);
  if (typeof config === 'function' && typeof c.route === 'function') routeOfConfig = c.route;
  init(c);
  propagateTo = Array.isArray(c.propagateTraceHeaderUrls) ? c.propagateTraceHeaderUrls : undefined;
  // The active span follows each request through `await` where AsyncLocalStorage exists.
  try {
    const { AsyncLocalStorage } = globalThis.AsyncLocalStorage
      ? globalThis
      : await import('node:async_hooks').catch(() => ({}));
    if (AsyncLocalStorage) {
      useAsyncContext(new AsyncLocalStorage());
      requestBaggage = new AsyncLocalStorage();
    }
  } catch {
    // No async context: spans made after an `await` may miss their request's parent.
  }
  if (c.instrumentFetch !== false) patchFetch();
  // Console calls become log records of the active request's span (once per isolate: a second
  // set-up never wraps the console twice). The SDK's own diagnostics use the console saved
  // before this wrapping, so they print and are never recorded.
  if (c.captureConsole) captureConsole(c.captureConsole);
}


/** Outgoing `fetch`: a CLIENT span, and trace headers for allowed URLs (all by default). */
function patchFetch() {
  if (fetchPatched || typeof globalThis.fetch !== 'function') return;
  fetchPatched = true;
  const original = globalThis.fetch;
  globalThis.fetch = function fetch(input, init) {
    const prepared = guard(() => {
      const request = new Request(input, init);
      const url = new URL(request.url);
      const span = clientSpan(request.method, url);
      if (!propagateTo || listed(url.href, propagateTo)) {
        inject(request.headers, span);
        const incoming = requestBaggage && requestBaggage.getStore();
        const header = incoming && incoming.size ? combinedBaggage(incoming, request.headers.get('baggage')) : '';
        if (header) request.headers.set('baggage', header);
      }
      return { span, request };
    });
    if (!prepared) return original.call(this, input, init);
    const { span, request } = prepared;
    return original.call(this, request).then(
      (response) => {
        guard(() => {
          span.setAttribute('http.response.status_code', response.status);
          if (response.status >= 400) span.setAttribute('error.type', String(response.status)).setStatus({ code: 'error' });
          span.end();
        });
        return response;
      },
      (error) => {
        guard(() => {
          span.setAttribute('error.type', (error && error.name) || 'Error').recordException(error);
          span.setStatus({ code: 'error', message: error && error.message });
          span.end();
        });
        throw error;
      },
    );
  };
}

function clientAddress(request, info) {
  const h = request.headers;
  return (
    h.get('cf-connecting-ip') ||
    (h.get('x-forwarded-for') || '').split(',')[0].trim() ||
    h.get('x-real-ip') ||
    (info && info.remoteAddr && info.remoteAddr.hostname) ||
    undefined
  );
}

async function handle(config, request, env, waitUntil, info, route, call) {
  await setUp(env, config);
  if (route === undefined && routeOfConfig) route = guard(() => routeOfConfig(request));
  const url = guard(() => new URL(request.url));
  // The HTTP conventions: a method they know, exactly as sent; another as `_OTHER` (in a span
  // named `HTTP`), so that a client's made-up methods cannot multiply span names.
  const method = METHODS.includes(request.method) ? request.method : undefined;
  const attributes = {
    'http.request.method': method || '_OTHER',
    'url.path': url ? url.pathname : '',
    'url.scheme': url ? url.protocol.replace(':', '') : '',
  };
  if (url && url.search) attributes['url.query'] = url.search.slice(1);
  const ua = request.headers.get('user-agent');
  if (ua) attributes['user_agent.original'] = ua;
  const client = clientAddress(request, info);
  if (client) attributes['client.address'] = client;
  if (route) attributes['http.route'] = route;
  if (!method) attributes['http.request.method_original'] = request.method;
  // The request's baggage goes on with its own outgoing calls, with or without a traceparent.
  const baggage = requestBaggage && guard(() => baggageMembers(request.headers.get('baggage')));
  const parent = extract(request.headers);
  // Where `requestBaggage` carries the request's baggage (properties kept, with or without a
  // traceparent), the span's remote context does not carry it a second time (see `inject`).
  if (parent && requestBaggage) parent.baggage = undefined;
  const span = startSpan(route ? `${method || 'HTTP'} ${route}` : method || 'HTTP', { kind: 'server', parent, attributes });
  const finish = () => {
    // Without `waitUntil` the export starts now, before the response leaves. With it, it starts
    // once the response is on its way (a zero timer yields to the runtime), so taking and
    // encoding the batch are not part of the request's latency; `waitUntil` gets the promise
    // before the handler returns, so a runtime that freezes the isolate after the response
    // still runs the flush: the timer decides when it starts, never whether.
    if (!waitUntil) return flush();
    const done = new Promise((resolve) => (typeof setTimeout === 'function' ? setTimeout(resolve, 0) : resolve())).then(flush);
    guard(() => waitUntil(done));
    return done;
  };
  try {
    const run = () => withSpan(span, () => call());
    // Every request runs in its own baggage scope, an empty one too: none sees another's.
    const response = await (requestBaggage ? requestBaggage.run(baggage || new Map(), run) : run());
    guard(() => {
      span.setAttribute('http.response.status_code', response.status);
      if (response.status >= 500) span.setAttribute('error.type', String(response.status)).setStatus({ code: 'error' });
      span.end();
    });
    finish();
    return response;
  } catch (error) {
    guard(() => {
      span.recordException(error);
      span.setAttribute('error.type', (error && error.name) || 'Error');
      span.setStatus({ code: 'error', message: error && error.message });
      span.end();
    });
    finish();
    throw error;
  }
}

/**
 * Wraps a request handler. `handler` is a module worker (`{ fetch(request, env, ctx) }`) or a
 * function `(request, info) => Response` (Deno.serve, Vercel Edge, Node). `config` is an SDK
 * config object or `(env) => config`; OpenTelemetry variables in the worker's bindings (or
 * `Deno.env` / `process.env`) fill what it leaves out. `config.route(request)` may name the
 * route for `http.route` and the span name.
 */
export function instrument(handler, config) {
  const route = (request) => guard(() => (config && typeof config.route === 'function' ? config.route(request) : undefined));
  if (handler && typeof handler === 'object' && typeof handler.fetch === 'function') {
    return {
      ...handler,
      fetch(request, env, ctx) {
        const waitUntil = ctx && typeof ctx.waitUntil === 'function' ? (p) => ctx.waitUntil(p) : undefined;
        return handle(config, request, env, waitUntil, undefined, route(request), () => handler.fetch(request, env, ctx));
      },
    };
  }
  if (typeof handler === 'function') {
    return function instrumented(request, info, ...rest) {
      const env = globalThis.Deno?.env?.toObject?.() ?? globalThis.process?.env;
      const waitUntil = info && typeof info.waitUntil === 'function' ? (p) => info.waitUntil(p) : undefined;
      return handle(config, request, env, waitUntil, info, route(request), () => handler.call(this, request, info, ...rest));
    };
  }
  return handler;
}
