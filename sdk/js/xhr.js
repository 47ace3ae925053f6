// XMLHttpRequest instrumentation for browsers: a CLIENT span per request with the HTTP semantic
// conventions, and trace headers for allowed origins (same-origin by default), as for fetch.
// The page's calls behave exactly as before; a failure inside the instrumentation is counted.
// As in OpenTelemetry JS's XHR instrumentation, a request's span ends at its `load`, `error`,
// `timeout` or `abort` (no error: the page cancelled it), or when `open` drops it, once, with
// that outcome also when the page reopens the object from the event's own handler to retry,
// and an object used again gets a new span per request. After `load` the span waits up to 300 ms
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
 * What ended the request `xhr` had under way, seen from `open` at `readyState` 4 with `status`:
 * the event being dispatched when the page reopens from its own `timeout`, `abort` or `error`
 * listener (ours, a capture listener, has usually ended the span by then: this is for a page's
 * capture listener added before ours, or a browser that runs the listeners at the target in the
 * order they were added), else `load` for an answer and `error` without one (reopened from
 * `readystatechange`, before the event, which the object no longer tells apart).
 */
function outcome(xhr, status) {
  const event = globalThis.event;
  if (event && event.target === xhr && EVENTS.includes(event.type)) return event.type;
  return status ? 'load' : 'error';
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
  const host = { open: proto.open, send: proto.send, setRequestHeader: proto.setRequestHeader };
  // Methods, as the host's are: `new` on them throws "is not a constructor" and they have no
  // `prototype`, so feature checks see no difference. (A method's own name is no binding in its
  // body: `host.open` is the host's.)
  const wrappers = {
    setRequestHeader(name) {
      const result = host.setRequestHeader.apply(this, arguments);
      // Set (so a valid name, after `open`): remembered until the next `open`.
      guard(() => this[INFO] && this[INFO].own.add(String(name).toLowerCase()));
      return result;
    },
    open(method, url) {
      // What the request under way (if any) came to, before `open` resets it.
      const { readyState, status } = this;
      const result = host.open.apply(this, arguments);
      guard(() => {
        // Done but not yet told (the page reopens from its own `load`, `error`, `timeout` or
        // `abort` handler, before our listener ran), or dropped.
        end(this, readyState === 4 ? outcome(this, status) : 'abort', status);
        this[INFO] = { method: String(method), url: resolve(String(url)), own: new Set() };
      });
      return result;
    },
    send() {
      // The span this call starts, even when adding its listeners or headers failed.
      let span;
      guard(() => {
        const info = this[INFO];
        if (!info || !enabled.xhr || info.span || exporter.to.includes(info.url.href)) return;
        span = clientSpan(info.method, info.url);
        info.span = span;
        info.r = timed(span, info.url, 'xmlhttprequest');
        // Capture listeners: at the target they run before the page's own listeners and its
        // `onload`-style handlers, so the span ends with the event that ended the request even
        // when a handler reopens the object to retry, or stops the event's propagation.
        const on = (event) => guard(() => end(this, event.type, this.status));
        info.off = () => EVENTS.forEach((type) => this.removeEventListener(type, on, true));
        EVENTS.forEach((type) => this.addEventListener(type, on, true));
        if (allowed(info.url, propagateTo)) {
          const headers = traceHeaders(span, (name) => info.own.has(name));
          for (const name in headers) host.setRequestHeader.call(this, name, headers[name]);
        }
      });
      try {
        return host.send.apply(this, arguments);
      } catch (e) {
        // Not sent (sent twice, or not opened), or a synchronous request that failed.
        if (span) guard(() => end(this, (e && e.name) || 'Error', 0));
        throw e;
      }
    },
  };
  // Assigned (the host's own properties, so their attributes stay the host's), with the host's
  // names and lengths, for pages that check them.
  for (const key of Object.keys(wrappers)) proto[key] = mimic(wrappers[key], host[key]);
  // The sign that the SDK is in, which the test suites wait for; not enumerable, so that a
  // page's `Object.keys` or `for…in` over the method finds nothing the host's has not.
  Object.defineProperty(proto.open, '__edgescope', { value: true });
}
