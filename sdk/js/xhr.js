// XMLHttpRequest instrumentation for browsers: a CLIENT span per request with the HTTP semantic
// conventions, and trace headers for allowed origins (same-origin by default), as for fetch.
// The page's calls behave exactly as before; a failure inside the instrumentation is counted.
// As in OpenTelemetry JS's XHR instrumentation, a request's span ends at its `load`, `error`,
// `timeout` or `abort` (no error: the page cancelled it), or when `open` drops it, once, and
// an object used again gets a new span per request. After `load` the span waits up to 300 ms
// (OpenTelemetry JS's OBSERVER_WAIT_TIME_MS) for the request's Resource Timing entry.
import { guard, mimic } from './api.js';
import { allowed, answered, clientSpan, done, enabled, exporter, resolve, timed, traceHeaders } from './fetch.js';

const INFO = Symbol('edgescope.xhr');
const EVENTS = ['load', 'error', 'timeout', 'abort'];

/** Ends the span of `xhr`'s request under way, if any, for `why` (an event type or an exception name). */
function end(xhr, why, status) {
  const info = xhr[INFO];
  const span = info && info.span;
  if (!span) return;
  info.span = undefined;
  info.off();
  if (why === 'load') answered(span, status);
  else if (why !== 'abort') {
    span.setAttribute('error.type', why).setStatus({ code: 'error', message: why });
  }
  done(info.r, why === 'load' ? 300 : 0);
}

/**
 * Patches `XMLHttpRequest.prototype.open`, `setRequestHeader` (to know the headers the page set
 * for the request: those win over ours, see `traceHeaders`) and `send`.
 */
let patched = false;

export function instrumentXHR(propagateTo) {
  const proto = globalThis.XMLHttpRequest && globalThis.XMLHttpRequest.prototype;
  // Once only, even when another library has wrapped `open` since.
  if (!proto || patched) return;
  patched = true;
  const { open, send, setRequestHeader } = proto;
  proto.setRequestHeader = function (name) {
    const result = setRequestHeader.apply(this, arguments);
    // Set (so a valid name, after `open`): remembered until the next `open`.
    guard(() => this[INFO] && this[INFO].own.add(String(name).toLowerCase()));
    return result;
  };
  proto.open = function (method, url) {
    // What the request under way (if any) came to, before `open` resets it.
    const { readyState, status } = this;
    const result = open.apply(this, arguments);
    guard(() => {
      // Done but not yet told (the page reopens from its own `load` or `error` handler), or dropped.
      end(this, readyState === 4 ? (status ? 'load' : 'error') : 'abort', status);
      this[INFO] = { method: String(method), url: resolve(String(url)), own: new Set() };
    });
    return result;
  };
  proto.open.__edgescope = true;
  proto.send = function () {
    // The span this call starts, even when adding its listeners or headers failed.
    let span;
    guard(() => {
      const info = this[INFO];
      if (!info || !enabled.xhr || info.span || exporter.to.includes(info.url.href)) return;
      span = clientSpan(info.method, info.url);
      info.span = span;
      info.r = timed(span, info.url, 'xmlhttprequest');
      const on = (event) => guard(() => end(this, event.type, this.status));
      info.off = () => EVENTS.forEach((type) => this.removeEventListener(type, on));
      EVENTS.forEach((type) => this.addEventListener(type, on));
      if (allowed(info.url, propagateTo)) {
        const headers = traceHeaders(span, (name) => info.own.has(name));
        for (const name in headers) setRequestHeader.call(this, name, headers[name]);
      }
    });
    try {
      return send.apply(this, arguments);
    } catch (e) {
      // Not sent (sent twice, or not opened), or a synchronous request that failed.
      if (span) guard(() => end(this, (e && e.name) || 'Error', 0));
      throw e;
    }
  };
  // Their names and lengths as the host's, for pages that check them.
  mimic(proto.setRequestHeader, setRequestHeader);
  mimic(proto.open, open);
  mimic(proto.send, send);
}
