// Uncaught errors and unhandled promise rejections become ERROR log records with
// `exception.type`, `exception.message` and `exception.stacktrace`; the span active at that
// moment, if any, gets an exception event and an error status. The page's own handlers and the
// console see the event as before.
import { activeSpan, cleanStack, guard, logger } from './api.js';
import { enabled } from './fetch.js';

/** `error` as an exception: `name` (its type), `message` and `stack`, as `recordException` reads one. */
function describe(error, fallbackMessage) {
  if (error && typeof error === 'object') {
    return {
      name: String(error.name || error.constructor?.name || 'Error'),
      message: String(error.message ?? fallbackMessage ?? ''),
      stack: typeof error.stack === 'string' ? cleanStack(error.stack) : '',
    };
  }
  // No error object (a script of another origin: "Script error.", or a rejection with `null`):
  // an `Error`, not `typeof null`'s "object".
  return { name: error == null ? 'Error' : typeof error, message: String(error ?? fallbackMessage ?? ''), stack: '' };
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
