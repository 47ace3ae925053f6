// Uncaught errors and unhandled promise rejections become ERROR log records with
// `exception.type`, `exception.message` and `exception.stacktrace`; the span active at that
// moment, if any, gets an exception event and an error status. The page's own handlers and the
// console see the event as before.
import { activeSpan, cleanStack, guard, logger, show } from './api.js';
import { enabled } from './fetch.js';

/**
 * `error` as an exception: `name` (its type), `message` and `stack`, as `recordException` reads
 * one. A value that is no error (`throw {}`, `reject('text')`) is its own message, an object as
 * the logger records one (its JSON), and its type is its class's name or its `typeof`.
 */
function describe(error, fallbackMessage) {
  const object = error && typeof error === 'object';
  // An error, or one like it (of another realm, a DOMException, `{ name, message }`).
  if (object && typeof error.message === 'string') {
    return {
      name: String(error.name || error.constructor?.name || 'Error'),
      message: error.message,
      stack: typeof error.stack === 'string' ? cleanStack(error.stack) : '',
    };
  }
  // No value (a script of another origin: "Script error.", or a rejection with `null`): an
  // `Error`, not `typeof null`'s "object".
  return error == null
    ? { name: 'Error', message: String(fallbackMessage ?? ''), stack: '' }
    : { name: object ? String(error.constructor?.name || 'Object') : typeof error, message: show(error), stack: '' };
}

function report(error, fallbackMessage, source) {
  guard(() => {
    if (!enabled.errors) return;
    const e = describe(error, fallbackMessage);
    const span = activeSpan();
    if (span) {
      span.recordException(e);
      span.setStatus({ code: 'error', message: e.message });
    }
    logger.error(e.message || e.name, {
      'exception.type': e.name,
      'exception.message': e.message,
      'exception.stacktrace': e.stack,
      'exception.source': source,
    });
  });
}

let listening = false;

/** Listens for `error` and `unhandledrejection` on the page (once; reported while `enabled.errors`). */
export function captureErrors() {
  if (listening || typeof globalThis.addEventListener !== 'function') return;
  listening = true;
  globalThis.addEventListener('error', (event) => {
    // Failed resource loads (`<img>`, `<script>`) also fire `error`, without an `error` object.
    if (event.error === undefined && !event.message) return;
    report(event.error, event.message, 'window.error');
  });
  globalThis.addEventListener('unhandledrejection', (event) => report(event.reason, 'unhandled rejection', 'unhandledrejection'));
}
