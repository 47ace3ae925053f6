// Fetch instrumentation for browsers: a CLIENT span per request, following the OpenTelemetry
// HTTP semantic conventions, and a `traceparent` header on requests to allowed origins
// (same-origin by default), so that third-party APIs never see a CORS preflight they did not
// ask for. The page's own call always runs and returns exactly what it would have returned.
import { guard, inject, startSpan } from './api.js';

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
    rule instanceof RegExp ? rule.test(href) : href.startsWith(rule) && (/[/?#]$/.test(rule) || /^[/?#]/.test(href.slice(rule.length))),
  );
}

/**
 * Where the exporter sends (`endpoint/v1/`, set by `init`): requests there are never traced, so
 * that an export through a `fetch` in the config that calls the page's fetch makes no span (each
 * would be exported in turn, without end).
 */
export const exporter = { to: '\u0000' };

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
  const attributes = {
    'http.request.method': known || '_OTHER',
    'url.full': url.href,
    'server.address': url.hostname,
    'server.port': Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
  };
  if (known !== method) attributes['http.request.method_original'] = method;
  return startSpan(known || 'HTTP', { kind: 'client', attributes });
}

/** Replaces `globalThis.fetch` with a traced version. */
export function instrumentFetch(propagateTo) {
  const original = globalThis.fetch;
  if (typeof original !== 'function' || original.__edgescope) return;
  const traced = function fetch(input, init) {
    const prepared = guard(() => {
      // A Request, of this frame or another (where `instanceof Request` is false), or what fetch
      // reads as a URL.
      const text = String(input);
      const request = text === '[object Request]' ? input : undefined;
      const url = resolve(request ? request.url : text);
      if (url.href.startsWith(exporter.to)) return;
      const span = clientSpan(String((init && init.method) || (request ? request.method : 'GET')), url);
      const out = { span, input, init };
      // Without the headers if they cannot be added: the span still ends with the request.
      if (allowed(url, propagateTo)) {
        guard(() => {
          if (request && !init) {
            const headers = new Headers(request.headers);
            inject(headers, span);
            out.input = new Request(request, { headers });
          } else {
            const headers = new Headers((init && init.headers) || (request ? request.headers : undefined));
            inject(headers, span);
            out.init = { ...init, headers };
          }
        });
      }
      return out;
    });
    if (!prepared) return original.apply(this, arguments);
    const { span } = prepared;
    return original.call(this, prepared.input, prepared.init).then(
      (response) => {
        guard(() => {
          span.setAttribute('http.response.status_code', response.status);
          if (response.status >= 400) {
            span.setAttribute('error.type', String(response.status));
            span.setStatus({ code: 'error' });
          }
          span.end();
        });
        return response;
      },
      (error) => {
        guard(() => {
          span.setAttribute('error.type', (error && error.name) || 'Error');
          span.setStatus({ code: 'error', message: error && error.message });
          span.end();
        });
        throw error;
      },
    );
  };
  traced.__edgescope = true;
  globalThis.fetch = traced;
}
