// Opt-in console capture: `console.debug/log/info/warn/error` calls become log records at the
// matching severity, and the console shows exactly what it showed before. The SDK's own
// diagnostics use the console functions saved before the wrapping, and console calls made while
// one is being recorded are not recorded, so they never loop back.
import { guard, logger } from './api.js';

const LEVELS = { debug: 'debug', log: 'info', info: 'info', warn: 'warn', error: 'error' };

function text(value) {
  if (typeof value === 'string') return value;
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** True while a console call is being recorded: what it makes print (a `redact` hook that logs) is not recorded again. */
let busy = false;

/** Wraps the console methods named in `levels` (all five when `true`). */
export function captureConsole(levels) {
  const methods = levels === true ? Object.keys(LEVELS) : Array.isArray(levels) ? levels : [];
  for (const method of methods) {
    const original = console[method];
    if (typeof original !== 'function' || !LEVELS[method] || original.__edgescope) continue;
    const wrapped = function () {
      const args = arguments;
      if (!busy) {
        busy = true;
        guard(() => logger[LEVELS[method]](Array.from(args, text).join(' '), { 'log.source': `console.${method}` }));
        busy = false;
      }
      return original.apply(this, args);
    };
    wrapped.__edgescope = true;
    console[method] = wrapped;
  }
}
