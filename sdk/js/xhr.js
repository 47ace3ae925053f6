// XMLHttpRequest instrumentation for browsers: a CLIENT span per request with the HTTP semantic
// conventions, and trace headers for allowed origins (same-origin by default), as for fetch.
// The page's calls behave exactly as before; a failure inside the instrumentation is counted.
import { guard, inject, startSpan } from './api.js';
import { allowed, exporter, resolve } from './fetch.js';

const INFO = Symbol('edgescope.xhr');

/** Patches `XMLHttpRequest.prototype.open` and `send`. */
export function instrumentXHR(propagateTo) {
  const proto = globalThis.XMLHttpRequest && globalThis.XMLHttpRequest.prototype;
  if (!proto || proto.open.__edgescope) return;
  const { open, send } = proto;
  proto.open = function (method, url) {
    guard(() => {
      this[INFO] = { method: String(method).toUpperCase(), url: resolve(String(url)) };
    });
    return open.apply(this, arguments);
  };
  proto.open.__edgescope = true;
  proto.send = function () {
    guard(() => {
      const info = this[INFO];
      if (!info || info.url.href.startsWith(exporter.to)) return;
      const span = startSpan(info.method, {
        kind: 'client',
        attributes: {
          'http.request.method': info.method,
          'url.full': info.url.href,
          'server.address': info.url.hostname,
          'server.port': Number(info.url.port) || (info.url.protocol === 'https:' ? 443 : 80),
        },
      });
      if (allowed(info.url, propagateTo)) {
        const headers = {};
        inject(headers, span);
        for (const name of Object.keys(headers)) this.setRequestHeader(name, headers[name]);
      }
      this.addEventListener('loadend', () =>
        guard(() => {
          if (this.status === 0) {
            span.setAttribute('error.type', 'network_error').setStatus({ code: 'error', message: 'network error' });
          } else {
            span.setAttribute('http.response.status_code', this.status);
            if (this.status >= 400) span.setAttribute('error.type', String(this.status)).setStatus({ code: 'error' });
          }
          span.end();
        }),
      );
    });
    return send.apply(this, arguments);
  };
}
