// `instrument(handler, config)` for server-side handlers: Cloudflare-style module workers
// (`{ fetch(request, env, ctx) }`), `Deno.serve` handlers and generic `(request) => Response`
// handlers (Vercel Edge, Node with `fetch`). Each request gets a SERVER span continuing its
// `traceparent`; outgoing `fetch` calls inside it get CLIENT spans and trace headers; every
// span and log record of the request is exported through `ctx.waitUntil` where the runtime
// offers it, and otherwise right after the response is produced. `captureConsole` makes console
// calls log records of the request that made them; a request's incoming `baggage` goes out with
// its own outgoing calls.
import { addBaggage, exportEndpoint, extract, flush, guard, inExport, init, inject, mimic, onFlush, readOptions, startSpan, useAsyncContext, useExportContext, withSpan } from './api.js';
import { METHODS, addServer, clientSpan, listed } from './fetch.js';
import { captureConsole } from './console.js';

/**
 * `k=v,k2=v2` with percent-encoded values, as OTEL_RESOURCE_ATTRIBUTES and
 * OTEL_EXPORTER_OTLP_HEADERS. A malformed pair (no `=`, no key, a bad percent-encoding) is
 * skipped, or with `strict` makes the whole value undefined, as the resource SDK spec asks of
 * OTEL_RESOURCE_ATTRIBUTES. Blank entries (a trailing comma) are no pairs and no error.
 */
function pairs(text, strict) {
  const out = {};
  for (const part of String(text || '').split(',')) {
    if (!part.trim()) continue;
    const i = part.indexOf('=');
    try {
      const key = i > 0 ? decodeURIComponent(part.slice(0, i).trim()) : '';
      if (!key) throw new Error();
      out[key] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      if (strict) return;
    }
  }
  return out;
}

/** The OpenTelemetry environment variables the SDK reads, and nothing else. */
const NAMES = [
  'OTEL_SERVICE_NAME',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
  'OTEL_RESOURCE_ATTRIBUTES',
];

/**
 * The environment of a handler without bindings: `process.env` in Node, and in Deno a view that
 * reads a name with `Deno.env.get` when it is asked for, so that `--allow-env=OTEL_SERVICE_NAME`,
 * or no env permission at all, is enough: a name the process may not read is unset. A name is read
 * only when `Deno.permissions.querySync` says it is granted, so `deno run` in a terminal never
 * stops at a permission prompt.
 */
function hostEnv() {
  const env = globalThis.Deno && globalThis.Deno.env;
  if (!env || typeof env.get !== 'function') return globalThis.process && globalThis.process.env;
  const permissions = globalThis.Deno.permissions;
  const read = (name) => {
    try {
      // Only a name already granted: reading another one in a terminal would stop the program
      // at Deno's permission prompt. A Deno too old to have `querySync` reads it as before.
      if (typeof name !== 'string') return undefined;
      if (permissions && typeof permissions.querySync === 'function' && permissions.querySync({ name: 'env', variable: name }).state !== 'granted') return undefined;
      return env.get(name);
    } catch {
      return undefined;
    }
  };
  return new Proxy({}, { get: (_, name) => read(name), has: (_, name) => read(name) !== undefined });
}

/** The SDK config from OpenTelemetry environment variables (or worker bindings) and `config`. */
export function configFromEnv(env, config) {
  const e = env && typeof env === 'object' ? env : {};
  // In a process that outlives its requests (Node, Deno), a name the handler's `env` lacks is
  // read from the process's environment: an object handler there is called with an adapter's
  // `env` (`@hono/node-server`'s `{ incoming, outgoing }`), not the variables.
  const host = longLived ? guard(hostEnv) : undefined;
  // Each name read once; an empty value is unset, as the OpenTelemetry environment spec says.
  const v = {};
  for (const name of NAMES) {
    let value = e[name];
    if (!(typeof value === 'string' && value.trim()) && host && host !== e) value = guard(() => host[name]);
    if (typeof value === 'string' && value.trim()) v[name] = value;
  }
  const fromEnv = {};
  if (v.OTEL_SERVICE_NAME) fromEnv.serviceName = v.OTEL_SERVICE_NAME;
  if (v.OTEL_EXPORTER_OTLP_ENDPOINT) fromEnv.endpoint = v.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (v.OTEL_EXPORTER_OTLP_HEADERS) fromEnv.headers = pairs(v.OTEL_EXPORTER_OTLP_HEADERS);
  // Enum values are read case-insensitively (and trimmed), as the environment spec says they SHOULD be.
  if (v.OTEL_EXPORTER_OTLP_PROTOCOL) fromEnv.protocol = v.OTEL_EXPORTER_OTLP_PROTOCOL.trim().toLowerCase();
  if (v.OTEL_TRACES_SAMPLER) fromEnv.sampler = v.OTEL_TRACES_SAMPLER.trim().toLowerCase();
  if (v.OTEL_TRACES_SAMPLER_ARG) fromEnv.samplerArg = v.OTEL_TRACES_SAMPLER_ARG;
  // A value with any malformed entry is discarded whole, and counted once the SDK is set up
  // (the resource SDK spec: "the entire environment variable value SHOULD be discarded").
  const attrs = v.OTEL_RESOURCE_ATTRIBUTES && pairs(v.OTEL_RESOURCE_ATTRIBUTES, true);
  if (v.OTEL_RESOURCE_ATTRIBUTES && !attrs) fromEnv[BAD_RESOURCE] = true;
  if (attrs) {
    // OTEL_SERVICE_NAME wins over a `service.name` here; either way it is the service name, not
    // a resource attribute that would replace it.
    if (!fromEnv.serviceName && attrs['service.name']) fromEnv.serviceName = attrs['service.name'];
    delete attrs['service.name'];
    fromEnv.resourceAttributes = attrs;
  }
  let c = config;
  if (typeof config === 'function') {
    // A config function that throws leaves the set-up to the variables, and is counted.
    try {
      c = config(env);
    } catch (error) {
      c = undefined;
      fromEnv[BAD_CONFIG] = error;
    }
  }
  const own = c && typeof c === 'object' ? c : {};
  const merged = { scheduleDelayMillis: longLived ? 1000 : 0, ...fromEnv, ...own };
  // The code's resource attributes win key by key; OTEL_RESOURCE_ATTRIBUTES fills the rest (the
  // resource SDK spec merges it "as the secondary resource").
  if (attrs && own.resourceAttributes && typeof own.resourceAttributes === 'object') {
    merged.resourceAttributes = { ...attrs, ...own.resourceAttributes };
  }
  return merged;
}

/**
 * Set by the Node/Deno entry: the process outlives its requests, so the export timer is on as
 * in a browser (work after a response, a timer's spans, leave within a second, not with the next
 * request). A worker isolate (workerd, Vercel Edge) exports from its requests' flushes only.
 */
let longLived = false;
export const runsLong = () => (longLived = true);

/** `telemetry.sdk.language` where it is not the core's `webjs` (set by the Node entry). */
let language;

/**
 * `config` with `telemetry.sdk.language` `nodejs` in Node, the value the semantic conventions give
 * Node.js; elsewhere the core's `webjs` stands (the conventions have no value for Deno or workerd,
 * which run the web platform's APIs). A value the config sets itself wins.
 */
export function withLanguage(config, lang) {
  if (lang) language = lang;
  try {
    const ra = config && config.resourceAttributes;
    if (!language || (ra != null && (typeof ra !== 'object' || Array.isArray(ra)))) return config;
    // A copy of the options, each read as the app gives it (a Proxy's `get` too) and defined, not
    // assigned (a `__proto__` key stays an option); one that throws when read throws again in the
    // copy, for `init` to count by itself rather than lose the language.
    const copy = {};
    if (config && typeof config === 'object') {
      // Its symbols too, as a spread copies them (`configFromEnv`'s marks of what it dropped).
      const symbols = Object.getOwnPropertySymbols(config).filter((key) => Object.prototype.propertyIsEnumerable.call(config, key));
      for (const key of [...Object.keys(config), ...symbols]) {
        let read;
        try {
          read = { value: config[key], writable: true };
        } catch (error) {
          read = {
            get() {
              throw error;
            },
          };
        }
        Object.defineProperty(copy, key, { ...read, enumerable: true, configurable: true });
      }
    }
    const attributes = { 'telemetry.sdk.language': language, ...ra };
    return Object.defineProperty(copy, 'resourceAttributes', { value: attributes, enumerable: true, writable: true, configurable: true });
  } catch {
    // A config that throws when read is `init`'s to report, as it is.
    return config;
  }
}

/** Marks a config whose OTEL_RESOURCE_ATTRIBUTES was discarded (reported after `init`). */
const BAD_RESOURCE = Symbol('bad OTEL_RESOURCE_ATTRIBUTES');
const BAD_CONFIG = Symbol('a config function that threw');

/** The one set-up of the isolate, which requests that arrive while it runs wait for too. */
let configured;
let fetchPatched = false;
/** Whether the last set-up traces `fetch` (patched once, then passed through when off). */
let fetchOn = false;
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
// `inject` in a request (for a transport of the app's own: a queue message, a WebSocket) sends
// the request's baggage as its `fetch` calls do.
addBaggage((header) => {
  const incoming = requestBaggage && requestBaggage.getStore();
  return incoming && incoming.size ? combinedBaggage(incoming, header) : header;
});

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

/**
 * The ends of the SERVER spans whose response body nobody has begun to read, each with its
 * request's scope (the object its `requestBaggage` store is, where AsyncLocalStorage exists). An
 * app's own `flush()` ends those of its own request when it runs inside one (in the handler, in
 * a `waitUntil` it started), none when it runs outside any request (a timer of a long-running
 * server: the others end when read, cancelled or collected, with their real durations), and all
 * of them where the requests cannot be told apart (no AsyncLocalStorage), so that they are
 * exported; a body being read goes on. (The browser's fetch.js uses the same hook; no entry has
 * both.)
 */
const unread = new Map();
/** True while `instrument` flushes a request's own telemetry, which leaves other requests' spans alone. */
let ownFlush = false;
onFlush(() => {
  if (ownFlush) return;
  const current = requestBaggage && requestBaggage.getStore();
  unread.forEach((scope, end) => (!requestBaggage || scope === current) && end());
});
/**
 * A body that is never read nor cancelled (its response dropped) must not keep its span, and the
 * original body, alive for the life of a long-running process: once the wrapping stream is
 * garbage collected, its span ends (where the runtime has FinalizationRegistry).
 */
const dropped = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry((end) => end()) : undefined;

function requestFlush() {
  ownFlush = true;
  try {
    return flush();
  } finally {
    ownFlush = false;
  }
}

/**
 * Without `waitUntil` (Node, Deno), one flush at a time serves every request: a request that ends
 * while one runs gets the next, shared by all that end meanwhile, which starts when the running one
 * is done and takes what they queued. While the collector is down a flush can take long (retries,
 * backoff); a flush per request would pile up one waiting drain per request, and memory with them.
 */
let serverFlush;
let serverFlushNext;
function sharedFlush() {
  if (!serverFlush) {
    serverFlush = requestFlush().finally(() => (serverFlush = undefined));
    return serverFlush;
  }
  serverFlushNext ??= serverFlush.then(() => {
    serverFlushNext = undefined;
    return sharedFlush();
  });
  return serverFlushNext;
}

function setUp(env, config) {
  // After the Node/Deno entry's own `init`, a handler wrapped without a config keeps that set-up;
  // one with a config (a `route`, say) adds it to init's, rather than starting from nothing.
  configured ??= explicitInit && config == null ? Promise.resolve() : configure(env, explicitInit ? onInit(config) : config).catch(() => {});
  return configured;
}

/** The AsyncLocalStorage of the active span and of the request's baggage. */
let stores;
/** Set when the Node/Deno entry's `init` has set the SDK up itself, with this config. */
let explicitInit = false;
let initConfig;

/** An `instrument` config on top of the last `init`'s (either may be a function of `env`). */
const onInit = (config) => (typeof config === 'function' ? (env) => ({ ...initConfig, ...config(env) }) : { ...initConfig, ...config });

async function configure(env, config) {
  const c = withLanguage(configFromEnv(env, config));
  if (typeof config === 'function' && typeof c.route === 'function') routeOfConfig = c.route;
  init(c);
  // Counted in `diagnostics()` (and printed with `debug`) now that `init` has reset the counters.
  if (c[BAD_RESOURCE]) guard(() => {
    throw new Error('OTEL_RESOURCE_ATTRIBUTES has a malformed entry; the whole value is ignored');
  });
  if (c[BAD_CONFIG]) guard(() => {
    throw new Error(`instrument's config function threw (${c[BAD_CONFIG]?.message ?? c[BAD_CONFIG]}); set up from the environment alone`);
  });
  // The active span follows each request through `await` where AsyncLocalStorage exists.
  let storage;
  try {
    ({ AsyncLocalStorage: storage } = globalThis.AsyncLocalStorage ? globalThis : await import('node:async_hooks').catch(() => ({})));
  } catch {
    // No async context: spans made after an `await` may miss their request's parent.
  }
  setUpRuntime(c, storage);
}

/**
 * The server runtime's part of a set-up, after `init(c)`: AsyncLocalStorage (the class, where the
 * runtime has it) carries the active span and the request's baggage through `await`; global `fetch`
 * is traced unless `instrumentFetch` is false; console calls become log records with
 * `captureConsole`.
 */
function setUpRuntime(c, AsyncLocalStorage) {
  propagateTo = Array.isArray(c.propagateTraceHeaderUrls) ? c.propagateTraceHeaderUrls : undefined;
  if (typeof AsyncLocalStorage === 'function') {
    try {
      // Made once: a later `init` keeps the active span of work already under way.
      stores ??= [new AsyncLocalStorage(), new AsyncLocalStorage(), new AsyncLocalStorage()];
      useAsyncContext(stores[0]);
      requestBaggage = stores[1];
      useExportContext(stores[2]);
    } catch {
      // Left without async context, as where the runtime has none.
    }
  }
  fetchOn = c.instrumentFetch !== false;
  if (fetchOn) patchFetch();
  // Console calls become log records of the active request's span (once per isolate: a second
  // set-up never wraps the console twice). The SDK's own diagnostics use the console saved
  // before this wrapping, so they print and are never recorded.
  captureConsole(c.captureConsole);
}

/**
 * `init` for the Node and Deno entries: the SDK and the runtime's part at once, so that the
 * active span follows `await`, global `fetch` is traced and `captureConsole` works without an
 * `instrument`ed request; a handler `instrument`ed without a config afterwards keeps this set-up.
 */
export function initServer(config, AsyncLocalStorage) {
  const c = withLanguage(config);
  init(c);
  explicitInit = true;
  initConfig = config && typeof config === 'object' ? config : undefined;
  // The options as `init` reads them (also when the SDK is off): one that throws when read is
  // counted there, once.
  guard(() => setUpRuntime(readOptions(c)[0], AsyncLocalStorage));
}

/** The `traceparent` headers of the requests being handled, with how many carry each. */
const incomingParents = new Map();

/** Outgoing `fetch`: a CLIENT span, and trace headers for allowed URLs (all by default). */
function patchFetch() {
  if (fetchPatched || typeof globalThis.fetch !== 'function') return;
  fetchPatched = true;
  const original = globalThis.fetch;
  // A method, as the host's is: not constructible, no `prototype`.
  const traced = {
    fetch(input, init) {
      // The SDK's own exports (a `config.fetch` that awaits a token first) are never traced, nor
      // is anything sent to the exporter's URLs: each such span would be exported in turn.
      if (!fetchOn || inExport()) return original.call(this, input, init);
      const prepared = guard(() => {
        const request = new Request(input, init);
        const url = new URL(request.url);
        const own = exportEndpoint();
        if (url.href === new URL(`${own}/v1/traces`).href || url.href === new URL(`${own}/v1/logs`).href) return { request };
        const span = clientSpan(request.method, url);
        if (!propagateTo || listed(url.href, propagateTo)) {
          // A traceparent the worker set itself goes out as it set it (with its own tracestate,
          // or none), as in a browser.
          // One that is an incoming request's own (a forwarded request: `fetch(url, request)`) is
          // replaced, as W3C Trace Context §3.4 asks: the callee's parent is this CLIENT span.
          const h = request.headers;
          const sent = h.get('traceparent');
          const own = incomingParents.has(sent) ? null : sent;
          const state = h.get('tracestate');
          inject(h, span);
          if (own !== null) {
            h.set('traceparent', own);
            if (state !== null) h.set('tracestate', state);
            else h.delete('tracestate');
          }
          const incoming = requestBaggage && requestBaggage.getStore();
          const header = incoming && incoming.size ? combinedBaggage(incoming, request.headers.get('baggage')) : '';
          if (header) request.headers.set('baggage', header);
        }
        return { span, request };
      });
      if (!prepared) return original.call(this, input, init);
      const { span, request } = prepared;
      if (!span) return original.call(this, request);
      const answer = original.call(this, request);
      // A fetch put in place before `init` (a test's stub) may answer with no promise: the caller
      // gets it untouched, and the span ends now, with no status.
      if (!(answer instanceof Promise)) {
        guard(() => span.end());
        return answer;
      }
      return answer.then(
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
    },
  }.fetch;
  globalThis.fetch = mimic(traced, original);
}

function clientAddress(header, info) {
  return (
    header('cf-connecting-ip') ||
    (header('x-forwarded-for') || '').split(',')[0].trim() ||
    header('x-real-ip') ||
    (info && info.remoteAddr && info.remoteAddr.hostname) ||
    undefined
  );
}

/**
 * What a request's span is made of: its method, attributes, remote context, baggage and
 * incoming traceparent. Throws for a request whose parts throw when read.
 */
function requestParts(request, info, route) {
  // A header as `fetch`'s `Headers` gives it: text, or nothing.
  const header = (name) => {
    const v = request.headers.get(name);
    return typeof v === 'string' ? v : null;
  };
  const url = guard(() => new URL(request.url));
  // The HTTP conventions: a method they know, exactly as sent; another as `_OTHER` (in a span
  // named `HTTP`), so that a client's made-up methods cannot multiply span names.
  const given = request.method;
  const method = METHODS.includes(given) ? given : undefined;
  const attributes = {
    'http.request.method': method || '_OTHER',
    'url.path': url ? url.pathname : '',
    'url.scheme': url ? url.protocol.replace(':', '') : '',
  };
  if (url && url.search) attributes['url.query'] = url.search.slice(1);
  // The server as the client addressed it (the request's host), as the conventions recommend.
  if (url) addServer(attributes, url);
  const ua = header('user-agent');
  if (ua) attributes['user_agent.original'] = ua;
  const client = clientAddress(header, info);
  if (client) attributes['client.address'] = client;
  if (route) attributes['http.route'] = route;
  if (!method) attributes['http.request.method_original'] = given;
  // The request's baggage goes on with its own outgoing calls, with or without a traceparent.
  const baggage = requestBaggage && guard(() => baggageMembers(header('baggage')));
  const parent = extract(request.headers);
  // Where `requestBaggage` carries the request's baggage (properties kept, with or without a
  // traceparent), the span's remote context does not carry it a second time (see `inject`).
  if (parent && requestBaggage) parent.baggage = undefined;
  return { method, attributes, baggage, parent, incoming: header('traceparent') };
}

async function handle(config, request, env, waitUntil, info, route, call) {
  // What is no request (a unit test's or an adapter's call) goes to the handler untraced.
  if (!guard(() => typeof request.url === 'string' && typeof request.headers.get === 'function')) return call();
  await setUp(env, config);
  if (route === undefined && routeOfConfig) route = guard(() => routeOfConfig(request));
  // A request whose parts throw when read (or a `get` that does) goes to the handler untraced too.
  const parts = guard(() => requestParts(request, info, route));
  if (!parts) return call();
  const { method, attributes, baggage, parent, incoming } = parts;
  // Until the handler is done, an outgoing call with this traceparent forwards the request.
  if (incoming) incomingParents.set(incoming, (incomingParents.get(incoming) || 0) + 1);
  // Without a traceparent a new trace: never a child of what was active when the server started.
  const span = startSpan(route ? `${method || 'HTTP'} ${route}` : method || 'HTTP', { kind: 'server', parent, root: true, attributes });
  // Nor does it take the remote baggage of that context (a root keeps it, as in OpenTelemetry):
  // the request's own baggage comes with the request.
  if (!parent) span._bg = undefined;
  const finish = (sent) => {
    if (incoming) {
      const n = incomingParents.get(incoming) - 1;
      if (n > 0) incomingParents.set(incoming, n);
      else incomingParents.delete(incoming);
    }
    // Without `waitUntil` the export starts now (or once a streamed body has been sent), before
    // the response leaves. With it, it starts once the response is on its way (a zero timer
    // yields to the runtime), so taking and encoding the batch are not part of the request's
    // latency; `waitUntil` gets the promise before the handler returns, so a runtime that
    // freezes the isolate after the response still runs the flush: the timer decides when it
    // starts, never whether.
    if (!waitUntil) return sent ? sent.then(sharedFlush) : sharedFlush();
    const done = (sent || Promise.resolve())
      .then(() => new Promise((resolve) => (typeof setTimeout === 'function' ? setTimeout(resolve, 0) : resolve())))
      .then(requestFlush)
      .then(() => afterWorks(waitUntil.works));
    guard(() => waitUntil(done));
    return done;
  };
  try {
    const run = () => withSpan(span, () => call());
    // Every request runs in its own baggage scope, an empty one too: none sees another's.
    const scope = baggage || new Map();
    const response = await (requestBaggage ? requestBaggage.run(scope, run) : run());
    const status = guard(() => response && typeof response === 'object' && response.status);
    if (typeof status !== 'number' || status === 0) {
      // Not a Response, or a network error's (`Response.error()`, status 0): the runtime answers
      // it as it would without the SDK (an error, as a rule), and the span says so.
      guard(() => {
        span.setAttribute('error.type', 'TypeError');
        const what = status === 0 ? 'an error Response (Response.error())' : `not a Response (${response === null ? 'null' : typeof response})`;
        span.setStatus({ code: 'error', message: `the handler's result is ${what}` });
        span.end();
      });
      finish();
      return response;
    }
    guard(() => {
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setAttribute('error.type', String(status)).setStatus({ code: 'error' });
    });
    // A body is sent after the handler returns, streamed perhaps: the span ends when it has
    // been sent in full, has failed or was cancelled (the client went away), and the request's
    // telemetry leaves after that, log records written meanwhile included.
    let streamed;
    try {
      streamed = await sending(response, span, requestBaggage && scope);
    } catch (e) {
      guard(() => {
        throw e;
      });
    }
    if (streamed && streamed.sent) {
      finish(streamed.sent);
      return streamed.response;
    }
    guard(() => span.end());
    finish();
    return streamed ? streamed.response : response;
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

/** At most this many bytes of a body that is already there are read ahead, to send it whole. */
const WHOLE_MAX = 1 << 20;
const LATE = {};

/**
 * A promise of `LATE` at the runtime's next turn, and `stop()` to clear its timer: one deadline
 * for the whole read-ahead, so that a stream whose chunks each come quickly is still handed on
 * after one turn, not read to its end.
 */
function nextTurn() {
  let timer;
  const late = new Promise((resolve) => (timer = setTimeout(resolve, 0, LATE)));
  return { late, stop: () => clearTimeout(timer) };
}

/**
 * What to send for `response`: `{ response }` to send as it is made (its span ends with the
 * handler), or `{ response, sent }`, its body passed on chunk by chunk as the runtime reads it,
 * where `sent` resolves once the body has been read to its end, has failed (the span is an
 * error then), was cancelled or was garbage collected unread, having ended `span`; `scope` is
 * the request's (see `unread`). Undefined for a response without a body, one whose body is
 * already being read, or one that declares its length: those go out untouched.
 *
 * A body that is already all there by the runtime's next turn (a string, a buffer, a stream
 * that has ended: what `new Response(JSON.stringify(x))` makes), up to 1 MiB, is read at once
 * and sent whole in a new `Response`, so that the runtime sends its Content-Length rather than
 * chunks. Any other body is read no further than what was there by then, and streamed on.
 */
async function sending(response, span, scope) {
  const body = response.body;
  if (!body || typeof body.getReader !== 'function' || body.locked || typeof ReadableStream !== 'function') return;
  // A body of declared length (a download, a proxied answer) goes out as it is: passed through a
  // stream of ours it would lose its Content-Length and go out chunked.
  if (response.headers.has('content-length')) return;
  const reader = body.getReader();
  /** Chunks read ahead, not yet passed on. */
  const chunks = [];
  let size = 0;
  /** A read begun ahead that the first pull takes over. */
  let next = reader.read();
  /** The error of a chunk read ahead that is not bytes. */
  let bad;
  const turn = nextTurn();
  try {
    for (;;) {
      const chunk = await Promise.race([next.then((c) => c, () => LATE), turn.late]);
      if (chunk === LATE) break;
      if (chunk.done) {
        next = undefined;
        try {
          // The response as it was, its body aside (`new Response(body, response)` copies the
          // status, status text and headers, and what a runtime adds: workerd's `cf`, `encodeBody`).
          return { response: new Response(chunks.length === 1 ? chunks[0] : concat(chunks, size), response) };
        } catch {
          break;
        }
      }
      if (!(chunk.value instanceof Uint8Array)) {
        // Not a Uint8Array (a runtime may reject it, or take it as it is): passed on as it came.
        chunks.push(chunk.value);
        bad = notBytes(chunk.value);
        next = undefined;
        break;
      }
      chunks.push(chunk.value);
      size += chunk.value.byteLength;
      next = size > WHOLE_MAX ? undefined : reader.read();
      if (!next) break;
    }
  } finally {
    turn.stop();
  }
  let ended;
  const sent = new Promise((resolve) => (ended = resolve));
  let over = false;
  const end = (error) => {
    if (over) return;
    over = true;
    unread.delete(end);
    guard(() => {
      if (error !== undefined) {
        span.recordException(error);
        span.setAttribute('error.type', (error && error.name) || 'Error');
        span.setStatus({ code: 'error', message: error && error.message });
      }
      span.end();
    });
    ended();
  };
  const stream = new ReadableStream(
    {
      async pull(controller) {
        unread.delete(end);
        if (chunks.length) {
          controller.enqueue(chunks.shift());
          return;
        }
        let chunk;
        try {
          chunk = await (next || reader.read());
          next = undefined;
        } catch (error) {
          end(error === undefined ? new Error('the response body failed') : error);
          controller.error(error);
          return;
        }
        if (chunk.done) {
          controller.close();
          end();
        } else {
          // A chunk that is not bytes fails the response in the runtime, which reports it as it
          // would without the SDK: the span ends now, as an error, and the chunk goes on as it is.
          const error = notBytes(chunk.value);
          if (error) end(error);
          controller.enqueue(chunk.value);
        }
      },
      cancel(reason) {
        end();
        // The body's own `cancel` (a client gone: an SSE stream's clean-up) logs in the request's
        // trace and baggage, as its `pull` does.
        const cancel = () => withSpan(span, () => reader.cancel(reason));
        return requestBaggage && scope ? requestBaggage.run(scope, cancel) : cancel();
      },
    },
    { highWaterMark: 0 },
  );
  const wrapped = new Response(stream, response);
  if (bad) {
    end(bad);
    return { response: wrapped, sent };
  }
  unread.set(end, scope);
  // `end` holds neither the stream nor the response, so they can be collected.
  if (dropped) dropped.register(stream, end);
  return { response: wrapped, sent };
}

/** workerd takes any typed array, DataView or ArrayBuffer as a chunk of a body; Node and Deno a Uint8Array only. */
const ANY_VIEW = globalThis.navigator?.userAgent === 'Cloudflare-Workers';

/**
 * The error a runtime fails a response with for `chunk` of its body, or undefined for the bytes
 * it takes.
 */
function notBytes(chunk) {
  if (chunk instanceof Uint8Array || (ANY_VIEW && (ArrayBuffer.isView(chunk) || chunk instanceof ArrayBuffer))) return;
  return new TypeError(`a chunk of the response body is not bytes (${chunk === null ? 'null' : typeof chunk})`);
}

/** The `size` bytes of `chunks` (Uint8Arrays, as the read-ahead keeps only those) in one array. */
function concat(chunks, size) {
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return all;
}

/**
 * For a handler's `ctx` (workerd) or `context` (Vercel Edge): `{ ctx, waitUntil }`, where `ctx` is
 * the runtime's object as the handler sees it, except that what the handler hands to its
 * `waitUntil` (work left running after the response: a write, a call) is also kept in
 * `waitUntil.works`, and `waitUntil` is what the SDK's flushes use. The request's flush exports
 * what that work made once all of it has settled (`afterWorks`): one more export at most, not
 * one per call. Without a `waitUntil`, `ctx` as it is.
 */
function requestContext(ctx) {
  if (!ctx || typeof ctx !== 'object' || typeof ctx.waitUntil !== 'function') return { ctx, waitUntil: undefined };
  const waitUntil = (p) => ctx.waitUntil(p);
  const works = (waitUntil.works = []);
  const own = function waitUntil(promise) {
    const result = ctx.waitUntil(promise);
    works.push(promise);
    return result;
  };
  const bound = new WeakMap();
  const seen = guard(
    () =>
      new Proxy(ctx, {
        get(target, key) {
          const d = Reflect.getOwnPropertyDescriptor(target, key);
          // A frozen property comes back as it is (a Proxy must): its work is not followed.
          if (d && 'value' in d && !d.configurable && !d.writable) return d.value;
          if (key === 'waitUntil') return own;
          const value = Reflect.get(target, key);
          if (typeof value !== 'function') return value;
          // Its methods run on the object itself (workerd's check their `this`), the same
          // function at each read.
          let b = bound.get(value);
          if (!b) bound.set(value, (b = value.bind(target)));
          return b;
        },
      }),
  );
  return { ctx: seen || ctx, waitUntil };
}

/** Once every work in `works` has settled (more may be added meanwhile), one export of what it made. */
async function afterWorks(works) {
  if (!works || !works.length) return;
  for (let settled = -1; settled !== works.length; ) {
    settled = works.length;
    await Promise.allSettled(works);
  }
  return requestFlush();
}

/** The events of a module worker besides `fetch` (workerd's handler names). */
const EVENTS = ['scheduled', 'queue', 'email', 'tail', 'trace', 'tailStream', 'test'];

/** `span`, an event's own: without the remote baggage of what was active when the worker began. */
function ownContext(span) {
  span._bg = undefined;
  return span;
}

/**
 * Runs the `name` event of a module worker (`scheduled(controller, env, ctx)`, `queue(batch, env,
 * ctx)`, …) as `fetch` is run: the isolate is set up first, and the telemetry made meanwhile is
 * exported through `ctx.waitUntil` (or before it returns, without one). `scheduled` and `queue`
 * get a span of their own (FaaS and messaging conventions), which the event's spans, logs and
 * outgoing calls are part of.
 */
async function handleEvent(config, name, event, env, ctx, call, works) {
  await setUp(env, config);
  const span = guard(() => {
    if (name === 'scheduled') {
      const attributes = { 'faas.trigger': 'timer' };
      if (event && typeof event.cron === 'string') attributes['faas.cron'] = event.cron;
      return ownContext(startSpan('scheduled', { kind: 'server', root: true, attributes }));
    }
    if (name === 'queue') {
      const attributes = { 'faas.trigger': 'pubsub', 'messaging.operation.type': 'process' };
      if (event && typeof event.queue === 'string') attributes['messaging.destination.name'] = event.queue;
      if (event && Array.isArray(event.messages)) attributes['messaging.batch.message_count'] = event.messages.length;
      return ownContext(startSpan(`process ${attributes['messaging.destination.name'] || 'queue'}`, { kind: 'consumer', root: true, attributes }));
    }
  });
  const finish = () => {
    const done = Promise.resolve()
      .then(requestFlush)
      .then(() => afterWorks(works));
    if (ctx && typeof ctx.waitUntil === 'function' && guard(() => (ctx.waitUntil(done), true))) return;
    return done;
  };
  try {
    const run = () => (span ? withSpan(span, call) : call());
    const result = await (requestBaggage ? requestBaggage.run(new Map(), run) : run());
    if (span) guard(() => span.end());
    await finish();
    return result;
  } catch (error) {
    if (span) {
      guard(() => {
        span.recordException(error);
        span.setAttribute('error.type', (error && error.name) || 'Error');
        span.setStatus({ code: 'error', message: error && error.message });
        span.end();
      });
    }
    await finish();
    throw error;
  }
}

/**
 * `handler` (an object, a class instance) with every method it has, its prototypes' too: `fetch`
 * traced, the events of `EVENTS` set up and flushed, and every method called with `handler` as
 * `this`, so that state kept on `this` is one for all of them; its other properties read and
 * written through.
 */
function wrapObject(handler, config, route) {
  const out = {};
  for (let o = handler; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const key of Object.getOwnPropertyNames(o)) {
      if (key === 'constructor' || Object.hasOwn(out, key)) continue;
      const d = Object.getOwnPropertyDescriptor(o, key);
      if (typeof d.value !== 'function') {
        Object.defineProperty(out, key, { get: () => handler[key], set: (v) => (handler[key] = v), enumerable: d.enumerable, configurable: true });
      } else if (key === 'fetch') {
        out.fetch = function fetch(request, env, ctx) {
          // `deno serve` calls a default export's `fetch(request, info)`: its environment is Deno.env.
          const info = guard(() => globalThis.Deno && (env === undefined || (env && typeof env === 'object' && 'remoteAddr' in env)));
          const { ctx: seen, waitUntil } = requestContext(ctx);
          const e = info ? (configured ? undefined : hostEnv()) : env;
          return handle(config, request, e, waitUntil, info ? env : undefined, route(request), () => handler.fetch(request, env, seen));
        };
      } else if (EVENTS.includes(key)) {
        out[key] = (event, env, ctx, ...rest) => {
          const { ctx: seen, waitUntil } = requestContext(ctx);
          return handleEvent(config, key, event, env, ctx, () => handler[key](event, env, seen, ...rest), waitUntil?.works);
        };
      } else {
        out[key] = (...args) => handler[key](...args);
      }
    }
  }
  return out;
}

/** Requests and events a class handler's wrapper traces (see `wrapClass`). */
const traced = new WeakSet();

/** The runtime's own `ctx` of a class handler's instance whose `this.ctx` the SDK replaced. */
const runtimeCtx = new WeakMap();

/**
 * For a call of a class handler's method: the request context (see `requestContext`) of the
 * instance's `ctx`, which becomes its `this.ctx` for the call, so that what the method hands to
 * `this.ctx.waitUntil` is followed as a module worker's `ctx.waitUntil` is. A `ctx` that cannot
 * be replaced stays, unfollowed.
 */
function classContext(self) {
  const ctx = runtimeCtx.get(self) || self.ctx;
  const context = requestContext(ctx);
  if (context.ctx !== ctx && guard(() => Reflect.set(self, 'ctx', context.ctx) && self.ctx === context.ctx)) runtimeCtx.set(self, ctx);
  return context;
}

/**
 * A subclass of `Base` (a `WorkerEntrypoint`, a Durable Object, any class workerd instantiates)
 * whose `fetch` is traced and whose events of `EVENTS` are set up and flushed, with `this.env`
 * and `this.ctx` (whose `waitUntil` work is followed); workerd still gets a class.
 */
function wrapClass(Base, config, route) {
  const proto = Base.prototype;
  // A call that an outer wrapper of the same request or event is tracing (a constructor that
  // bound the traced `fetch` into a field of its own, which is wrapped too) goes straight on.
  const once = (what, trace, direct) => {
    if (!what || typeof what !== 'object') return trace();
    if (traced.has(what)) return direct();
    traced.add(what);
    return Promise.resolve(trace()).finally(() => traced.delete(what));
  };
  const tracedFetch = (original) =>
    function fetch(request, ...rest) {
      const call = () => original.call(this, request, ...rest);
      return once(request, () => {
        const { waitUntil } = classContext(this);
        return handle(config, request, this.env, waitUntil, undefined, route(request), call);
      }, call);
    };
  const tracedEvent = (key, original) =>
    function (...args) {
      const call = () => original.apply(this, args);
      return once(args[0], () => {
        const { waitUntil } = classContext(this);
        return handleEvent(config, key, args[0], this.env, runtimeCtx.get(this) || this.ctx, call, waitUntil?.works);
      }, call);
    };
  const Traced = class extends Base {
    constructor(...args) {
      super(...args);
      // A `fetch` (or an event) written as a class field is the instance's own, which hides the
      // prototype's: traced the same way.
      for (const key of ['fetch', ...EVENTS]) {
        guard(() => {
          const own = Object.getOwnPropertyDescriptor(this, key);
          if (own && typeof own.value === 'function' && own.writable) {
            // Bound: an arrow function field keeps its instance when called detached.
            this[key] = (key === 'fetch' ? tracedFetch(own.value) : tracedEvent(key, own.value)).bind(this);
          }
        });
      }
    }
  };
  const define = (key, value) => Object.defineProperty(Traced.prototype, key, { value, writable: true, configurable: true });
  if (typeof proto.fetch === 'function') define('fetch', tracedFetch(proto.fetch));
  for (const key of EVENTS) {
    if (typeof proto[key] === 'function') define(key, tracedEvent(key, proto[key]));
  }
  return Traced;
}

/**
 * Wraps a request handler. `handler` is a module worker (`{ fetch(request, env, ctx) }`, a class
 * instance too: every method is kept, `scheduled`, `queue` and the other events set up and
 * flushed as `fetch`), a class (`class extends WorkerEntrypoint`: a subclass is returned), or a
 * function `(request, info) => Response` (Deno.serve, Vercel Edge, Node), also given as a module
 * worker's `fetch` and called `(request, env, ctx)`. `config` is an SDK
 * config object or `(env) => config`; OpenTelemetry variables in the worker's bindings (or
 * `Deno.env` / `process.env`) fill what it leaves out. `config.route(request)` may name the
 * route for `http.route` and the span name.
 */
export function instrument(handler, config) {
  const route = (request) => guard(() => (config && typeof config.route === 'function' ? config.route(request) : undefined));
  const shape = guard(() =>
    handler && typeof handler === 'object' && typeof handler.fetch === 'function'
      ? 'object'
      : typeof handler === 'function' && handler.prototype && (typeof handler.prototype.fetch === 'function' || /^class\b/.test(Function.prototype.toString.call(handler)))
        ? 'class'
        : typeof handler,
  );
  if (shape === 'object') return guard(() => wrapObject(handler, config, route), handler);
  if (shape === 'class') return guard(() => wrapClass(handler, config, route), handler);
  if (typeof handler === 'function') {
    return function instrumented(request, info, ...rest) {
      // A module worker's `fetch: instrument(app.fetch)` is called as `(request, env, ctx)`: the
      // bindings are its environment, and `ctx.waitUntil` carries its flush.
      const ctx = rest[0];
      if (guard(() => !!ctx && typeof ctx === 'object' && typeof ctx.waitUntil === 'function')) {
        const { ctx: seen, waitUntil } = requestContext(ctx);
        return handle(config, request, info, waitUntil, undefined, route(request), () => handler.call(this, request, info, seen, ...rest.slice(1)));
      }
      // The environment is read for the isolate's one set-up only.
      const env = configured ? undefined : hostEnv();
      const { ctx: seen, waitUntil } = requestContext(info);
      return handle(config, request, env, waitUntil, info, route(request), () => handler.call(this, request, seen, ...rest));
    };
  }
  return handler;
}
