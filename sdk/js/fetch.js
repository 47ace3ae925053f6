// Fetch instrumentation for browsers: a CLIENT span per request, following the OpenTelemetry
// HTTP semantic conventions, and a `traceparent` header on requests to allowed origins
// (same-origin by default), so that third-party APIs never see a CORS preflight they did not
// ask for. The page's own call always runs and returns exactly what it would have returned.
// A fetch or XHR span is refined from the request's Resource Timing entry (see `timed`).
import { guard, inject, mimic, onFlush, startSpan } from './api.js';

/** The network phases of a Resource Timing entry that become events, as in OpenTelemetry JS's `addSpanNetworkEvents`. */
const PHASES = 'fetchStart domainLookupStart domainLookupEnd connectStart secureConnectionStart connectEnd requestStart responseStart responseEnd';
/**
 * Requests whose span waits for its Resource Timing entry: `{ s: span, u: URL, i: initiator type,
 * t: start, d: done, e: entry, w: timer, b: waiting on a body the page reads, p: the entry of a
 * preload that started before it }`.
 */
const waiting = new Set();
/**
 * How long a fetch span whose body the page reads waits for its entry once the body is in the
 * browser and no entry of its own is known to come: the URL was preloaded (`<link rel=preload
 * as=fetch>`), and Chromium gives a fetch answered from the preload no entry, only the link one.
 * Reading a body the browser holds takes milliseconds, and an entry comes within a task of the
 * read's end, so 2 s leaves room for a busy page (and for a browser that does report the fetch)
 * while the span still goes with the next export rather than at page hide.
 */
const PRELOADED_WAIT = 2000;
/** The `resource` PerformanceObserver (created on the first request), or null where there is none. */
let observer;

/**
 * Watches for the Resource Timing entry of the request `span` stands for, to `url`, starting now
 * (`type`: the entry's `initiatorType`): the browser reports it once the response has been
 * received in full, body included. The entry is given to the request of that type to that URL
 * that started last before it (never one another request took); `done` then ends the span with
 * the entry's times.
 */
export function timed(span, url, type) {
  if (observer === undefined) {
    observer = null;
    onFlush(settle);
    guard(() => {
      const o = new PerformanceObserver((list) => guard(() => list.getEntries().forEach(match)));
      o.observe({ type: 'resource' });
      observer = o;
    });
  }
  // `data:` and `blob:` requests get no entry (Chromium reports none): their spans end at the answer.
  const none = url.protocol === 'data:' || url.protocol === 'blob:';
  const request = { s: span, u: none ? undefined : url.href.split('#')[0], i: type, t: performance.now(), d: 0, e: undefined, w: 0, b: 0, p: undefined };
  waiting.add(request);
  return request;
}

function match(entry) {
  // Chromium's entry keeps the URL's fragment, which the request never sends.
  const name = entry.name.split('#')[0];
  // A preload still loading when a fetch took it over reports its entry now, once its body is in.
  if (entry.initiatorType === 'link') {
    for (const r of waiting) if (r.b && !r.p && preloads(r, entry, name)) preloaded(r, entry);
    return;
  }
  let best;
  for (const r of waiting) {
    if (!r.e && r.u === name && r.i === entry.initiatorType && r.t <= entry.startTime && !(r.d && entry.startTime > r.d) && !(best && best.t > r.t)) best = r;
  }
  if (best) {
    best.e = entry;
    if (best.d) end(best);
  }
}

/**
 * The request has an answer (`wait` > 0: fetch's headers, XHR's `load`) or has failed: its span
 * ends with its entry's times when the entry is there, else when it comes, at most `wait` ms
 * from now (OpenTelemetry JS's 300), else at this moment. A fetch `response` whose body the page
 * has begun to read by then waits for its entry, however long the body streams: the browser
 * reports it once the body has been read to its end or the read cancelled. Only a fetch of a URL
 * the page preloaded, which may have been answered from the preload and so get no entry, waits
 * `PRELOADED_WAIT` ms once the preload's body is in, and then ends with what it has. A span still
 * waiting when `flush()` is called ends then (see `settle`), so that a `flush()` (the page-hide
 * one too) takes it.
 */
export function done(request, wait, response) {
  request.d = performance.now();
  if (request.e || !wait || !observer || !request.u) end(request);
  else request.w = setTimeout(() => guard(() => (response && response.bodyUsed ? reading(request) : end(request))), wait);
}

/**
 * The page reads the body of `request`'s response: it waits for its entry, for a limited time if
 * the URL was preloaded before it started and the preload's entry is there (a preload still
 * loading reports it later, see `match`). The timeline's buffer holds it when the observer did
 * not see it (a `<link>` in the document's head loads before `init`).
 */
function reading(request) {
  request.b = 1;
  const link = performance
    .getEntriesByType('resource')
    .filter((e) => e.initiatorType === 'link' && preloads(request, e, e.name.split('#')[0]))
    .pop();
  if (link) preloaded(request, link);
}

/** Whether the `link` entry `entry`, of the URL `name`, is of a preload started before `request`. */
function preloads(request, entry, name) {
  return request.i === 'fetch' && request.u === name && entry.startTime <= request.t;
}

/** The body of `request`'s response, if it came from the preload whose entry is `link`, is in: its entry has a short time left. */
function preloaded(request, link) {
  request.p = link;
  request.w = setTimeout(() => guard(() => end(request)), PRELOADED_WAIT);
}

/** Ends every span that still waits for its entry (`flush()`, and so page hide). */
export function settle() {
  waiting.forEach((r) => r.d && end(r));
}

function end(request) {
  const { s: span, e: entry } = request;
  clearTimeout(request.w);
  waiting.delete(request);
  // Without an entry: at the answer, or when the preload it was answered from had its body in.
  if (!entry) return span.end(Math.max(request.d, request.p ? request.p.responseEnd : 0));
  // Times as `performance.now()` readings, which the API turns into Unix time. Another origin's
  // entry without Timing-Allow-Origin has 0 for every phase but `fetchStart` and `responseEnd`,
  // and for the size.
  for (const phase of PHASES.split(' ')) if (entry[phase] > 0) span.addEvent(phase, entry[phase]);
  if (entry.encodedBodySize > 0) span.setAttribute('http.response.body.size', entry.encodedBodySize);
  span.end(entry.responseEnd || request.d);
}

/**
 * Whether `url` (a URL) may receive trace headers: same-origin, or matching a configured rule, a
 * regular expression or a prefix that ends where the URL's host or a path segment does, so that
 * `https://api.example.com` does not let `https://api.example.com.evil.test` have them.
 */
export function allowed(url, propagateTo) {
  return url.origin === globalThis.location.origin || listed(url.href, propagateTo);
}

/** Whether `href` matches one of `rules` (regular expressions, or prefixes that end at a host or path boundary). */
export function listed(href, rules) {
  return rules.some((rule) =>
    // `search`, not `test`: a RegExp with the g or y flag matches every time (no `lastIndex` kept).
    rule instanceof RegExp ? href.search(rule) >= 0 : href.startsWith(rule) && (/[/?#]$/.test(rule) || /^([/?#]|$)/.test(href.slice(rule.length))),
  );
}

/**
 * Where the exporter sends (`endpoint/v1/traces` and `/v1/logs`, set by `init`): requests to
 * exactly those URLs are never traced, so that an export through a `fetch` in the config that
 * calls the page's fetch makes no span (each would be exported in turn, without end). The app's
 * own requests beside them (a versioned API at `/v1/users`) are.
 */
export const exporter = { to: [] };

/** `href` resolved as the browser resolves a request URL: against the document's base URL (`<base href>`). */
export function resolve(href) {
  return new URL(href, globalThis.document?.baseURI || globalThis.location.href);
}

// The methods the HTTP conventions know; fetch and XHR uppercase the first six when they send.
export const METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'CONNECT', 'TRACE', 'PATCH'];

/**
 * A CLIENT span for a request, as the HTTP conventions name it: a known method (in any case) by
 * its name, another as `_OTHER` in a span named `HTTP`, with `http.request.method_original`
 * when the method sent is not the known name (the browser uppercases the first six only).
 */
export function clientSpan(method, url) {
  const upper = method.toUpperCase();
  const i = METHODS.indexOf(upper);
  if (i >= 0 && i < 6) method = upper;
  const known = i >= 0 ? upper : undefined;
  // A `data:` URL is its scheme and media type (the payload may be megabytes), with no server.
  const data = url.protocol === 'data:';
  const attributes = {
    'http.request.method': known || '_OTHER',
    'url.full': data ? `${url.href.split(',', 1)[0].slice(0, 200)},…` : url.href,
  };
  addServer(attributes, url);
  if (known !== method) attributes['http.request.method_original'] = method;
  return startSpan(known || 'HTTP', { kind: 'client', attributes });
}

/**
 * `server.address` and `server.port` of `url` into `attributes`: none for a URL without a host
 * (`data:`, `blob:`), nor a port where its scheme has none known.
 */
export function addServer(attributes, url) {
  if (url.hostname) {
    attributes['server.address'] = url.hostname;
    const port = Number(url.port) || { 'https:': 443, 'http:': 80 }[url.protocol];
    if (port) attributes['server.port'] = port;
  }
}

/**
 * The trace headers of `span` for a request whose own headers `has` (lowercase name) knows: a
 * header the page set itself goes out as the page set it (XHR would join ours to it, "a, b",
 * an invalid traceparent), and without its traceparent ours has no tracestate either.
 */
export function traceHeaders(span, has) {
  const headers = {};
  inject(headers, span);
  if (has('traceparent')) headers.tracestate = undefined;
  for (const name in headers) if (has(name) || !headers[name]) delete headers[name];
  return headers;
}

/** Records the answer's status on a request's span: an error from 400 up, as the HTTP conventions say for a client. */
export function answered(span, status) {
  span.setAttribute('http.response.status_code', status);
  if (status >= 400) span.setAttribute('error.type', String(status)).setStatus({ code: 'error' });
}

/**
 * Which instrumentation the latest `init` left on (`fetch`, `xhr`, `errors`): installed once, a wrapper
 * whose switch is off passes every call through untouched.
 */
export const enabled = { fetch: false, xhr: false, errors: false };

/** Sets `span`'s trace headers on `headers` (a `Headers`), as `traceHeaders` says; returns `headers`. */
function set(span, headers) {
  const add = traceHeaders(span, (name) => headers.has(name));
  for (const name in add) headers.set(name, add[name]);
  return headers;
}

/**
 * Whether `globalThis.fetch` was wrapped: once only, so that a call is never traced twice when
 * another library has wrapped ours since (a second `init` after Sentry's or MSW's wrapper).
 */
let wrapped = false;

/** Replaces `globalThis.fetch` with a traced version. */
export function instrumentFetch(propagateTo) {
  const original = globalThis.fetch;
  if (typeof original !== 'function' || wrapped) return;
  wrapped = true;
  // A method, as the host's fetch is no constructor: `new fetch()` throws as it would.
  const traced = {
    fetch(input, init) {
      const prepared = guard(() => {
        // `fetch()` without arguments is refused by the host's own fetch, as it would be.
        if (!enabled.fetch || !arguments.length) return;
        // A Request, of this frame or another (where `instanceof Request` is false), or what fetch
        // reads as a URL. Another object than a URL (one with its own `toString`) goes on as the
        // text it was read as, so that it is read once, as the host's fetch reads it.
        const text = String(input);
        const request = text === '[object Request]' ? input : undefined;
        const url = resolve(request ? request.url : text);
        if (exporter.to.includes(url.href)) return;
        const out = { input: request || (input instanceof URL ? input : text), init };
        let add = allowed(url, propagateTo);
        // With trace headers, fetch is given its own `init`, read here once (as the host's fetch
        // reads it; `init` getters may count or change): `given`, whose members the span and the
        // headers are taken from. A plain object is copied; one whose members cannot be read (a
        // getter that throws, counted in diagnostics) is sent as the page made it, without trace
        // headers. Another object (one made by `Object.create`, a class instance) has members a
        // copy would lose: the Request fetch itself would make of `input` and `init` is sent,
        // with the headers set on it; one fetch refuses is sent as the page made it, to be
        // refused as it would have been.
        let given = init;
        if (add && init) {
          const proto = Object.getPrototypeOf(init);
          if (proto === Object.prototype || proto === null) {
            given = guard(() => (out.init = { ...init }), init);
            add = given !== init;
          } else {
            try {
              given = out.input = new Request(out.input, init);
              out.init = undefined;
            } catch {
              add = false;
            }
          }
        }
        const span = clientSpan(String((given && given.method) || (request ? request.method : 'GET')), url);
        out.span = span;
        out.r = timed(span, url, 'fetch');
        // Without the headers if they cannot be added: the span still ends with the request.
        if (add) {
          guard(() => {
            if (given && given === out.input) return set(span, given.headers);
            const headers = set(span, new Headers((given && given.headers) || (request && request.headers)));
            if (request && !given) out.input = new Request(request, { headers });
            else out.init = { ...given, headers };
          });
        }
        return out;
      });
      if (!prepared) return original.apply(this, arguments);
      const { span, r } = prepared;
      const failed = (error) => {
        guard(() => {
          span.setAttribute('error.type', (error && error.name) || 'Error').setStatus({ code: 'error', message: error && error.message });
          done(r, 0);
        });
        throw error;
      };
      let answer;
      try {
        answer = original.call(this, prepared.input, prepared.init);
      } catch (error) {
        // A fetch that throws instead of rejecting (another library's wrapper): the span ends too.
        failed(error);
      }
      // A fetch replaced before `init` (a test's stub, a polyfill) may return what is no promise:
      // `undefined`, or a thenable whose `then` returns nothing or does work each time it is
      // called (a lazy query). The page gets that very value, untouched, and the span ends now,
      // with no answer known. A promise, of this frame or another (a fetch taken from an iframe),
      // is chained, as its `then` does nothing more.
      if (!guard(() => answer instanceof Promise || Object.prototype.toString.call(answer) === '[object Promise]')) {
        guard(() => done(r, 0));
        return answer;
      }
      return answer.then(
        (response) => {
          guard(() => {
            answered(span, response.status);
            // The entry comes once the body has been received and read: the span ends then, not
            // at the headers (see `done`).
            done(r, 300, response);
          });
          return response;
        },
        failed,
      );
    },
  }.fetch;
  globalThis.fetch = mimic(traced, original);
}
