// Fetch instrumentation for browsers: a CLIENT span per request, following the OpenTelemetry
// HTTP semantic conventions, and a `traceparent` header on requests to allowed origins
// (same-origin by default), so that third-party APIs never see a CORS preflight they did not
// ask for. The page's own call always runs and returns exactly what it would have returned.
// A fetch or XHR span is refined from the request's Resource Timing entry (see `timed`).
import { guard, inject, mimic, onFlush, startSpan } from './api.js';

/** The network phases of a Resource Timing entry that become events, as in OpenTelemetry JS's `addSpanNetworkEvents`. */
const PHASES = 'fetchStart domainLookupStart domainLookupEnd connectStart secureConnectionStart connectEnd requestStart responseStart responseEnd';
/** Requests whose span waits for its Resource Timing entry: `{ s: span, u: URL, i: initiator type, t: start, d: done, e: entry, w: timer }`. */
const waiting = new Set();
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
  const request = { s: span, u: none ? undefined : url.href.split('#')[0], i: type, t: performance.now(), d: 0, e: undefined, w: 0 };
  waiting.add(request);
  return request;
}

function match(entry) {
  let best;
  // Chromium's entry keeps the URL's fragment, which the request never sends.
  const name = entry.name.split('#')[0];
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
 * reports it once the body has been read to its end or the read cancelled. A span still waiting
 * when `flush()` is called ends then (see `settle`), so that a `flush()` (the page-hide one
 * too) takes it.
 */
export function done(request, wait, response) {
  request.d = performance.now();
  if (request.e || !wait || !observer || !request.u) end(request);
  else request.w = setTimeout(() => guard(() => (response && response.bodyUsed) || end(request)), wait);
}

/** Ends every span that still waits for its entry (`flush()`, and so page hide). */
export function settle() {
  waiting.forEach((r) => r.d && end(r));
}

function end(request) {
  const { s: span, e: entry } = request;
  clearTimeout(request.w);
  waiting.delete(request);
  if (!entry) return span.end(request.d);
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
        // reads as a URL.
        const text = String(input);
        const request = text === '[object Request]' ? input : undefined;
        const url = resolve(request ? request.url : text);
        if (exporter.to.includes(url.href)) return;
        const out = { input, init };
        let method = (init && init.method) || (request ? request.method : 'GET');
        let add = allowed(url, propagateTo);
        // An `init` that is not a plain object (one made by `Object.create`, a class instance)
        // has members a copy would lose: with trace headers, the Request fetch itself would make of
        // `input` and `init` is sent, with the headers set on it. One fetch refuses is sent as the
        // page made it, to be refused as it would have been.
        if (add && init && Object.getPrototypeOf(init) !== Object.prototype && Object.getPrototypeOf(init) !== null) {
          try {
            out.input = new Request(input, init);
            out.init = undefined;
            method = out.input.method;
          } catch {
            // Sent as the page asked, without trace headers.
            add = false;
          }
        }
        const span = clientSpan(String(method), url);
        out.span = span;
        out.r = timed(span, url, 'fetch');
        // Without the headers if they cannot be added: the span still ends with the request.
        if (add) {
          guard(() => {
            if (out.input !== input) return set(span, out.input.headers);
            const headers = set(span, new Headers(init && init.headers ? init.headers : request && request.headers));
            if (request && !init) out.input = new Request(request, { headers });
            else out.init = { ...init, headers };
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
