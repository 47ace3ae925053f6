// Opt-in console capture: `console.debug/log/info/warn/error` calls become log records at the
// matching severity, and the console shows exactly what it showed before. The SDK's own
// diagnostics use the console functions saved before the wrapping, and console calls made while
// one is being recorded, or by an export's `config.fetch`, are not recorded, so they never loop back.
import { guard, inExport, logger, mimic, show } from './api.js';

const LEVELS = { debug: 'debug', log: 'info', info: 'info', warn: 'warn', error: 'error' };

/**
 * `%d`, `%i` or `%f` of `v` as a browser's console writes it: `%d` and `%i` whole numbers, `%f`
 * by `parseFloat`, an object or a symbol NaN. The Node entry gives Node's way (`util.format`).
 */
let number = (c, v) => String(typeof v === 'symbol' || typeof v === 'object' ? NaN : (c === 'f' ? parseFloat : parseInt)(v, 10));

/** Writes `%d`, `%i` and `%f` with `f(c, v)` from now on (the Node entry: as `util.format`). */
export const formatNumbersWith = (f) => (number = f);

/** `number`, NaN for a value that throws when read as a number. */
function numberText(c, v) {
  try {
    return number(c, v);
  } catch {
    return 'NaN';
  }
}

/**
 * The message the console shows for `args`, as Node's `util.format` writes it: a first string's
 * `%s %d %i %f %j %o %O %c` take the next arguments in turn (`%j` as JSON, numbers as `number`
 * writes them: in Node exactly as `util.format`) and `%%` is a `%`
 * (when more than the string was given), and the rest follow, joined by spaces; objects as
 * JSON, errors as their stack (see `show`); no arguments, an empty line.
 */
function format(args) {
  let i = 1;
  const head =
    typeof args[0] === 'string'
      ? args[0].replace(/%([sdifjoOc%])/g, (spec, c) =>
          c === '%'
            ? args.length > 1 ? c : spec
            : i >= args.length
              ? spec
              : ((v) => (c === 'c' ? '' : c === 'j' && (!v || typeof v !== 'object') ? (typeof v === 'bigint' ? '' + v : JSON.stringify(v) ?? 'undefined') : 'dif'.includes(c) ? numberText(c, v) : show(v)))(args[i++]),
        )
      : show(args[0]);
  return args.length ? [head, ...Array.from(args).slice(i).map(show)].join(' ') : '';
}

/** True while a console call is being recorded: what it makes print (a `redact` hook that logs) is not recorded again. */
let busy = false;
/** The methods the latest `init` records; a wrapper stays installed and records while its method is here. */
const recorded = new Set();
/** The methods wrapped: once each, so that a call is never recorded twice when another library has wrapped ours since. */
const wrappedMethods = new Set();

/** Records the console methods named in `levels` (all five when `true`, none when false or absent). */
export function captureConsole(levels) {
  const methods = levels === true ? Object.keys(LEVELS) : Array.isArray(levels) ? levels : [];
  recorded.clear();
  for (const method of methods) {
    const original = console[method];
    if (typeof original !== 'function' || !LEVELS[method]) continue;
    recorded.add(method);
    if (wrappedMethods.has(method)) continue;
    wrappedMethods.add(method);
    // A method, as the host's is: `new console.log()` throws "is not a constructor" and it has
    // no `prototype`, so feature checks see no difference.
    const wrapped = {
      [method]() {
        const args = arguments;
        // Nor is what the SDK's own export prints (a `config.fetch` that logs what it sends).
        if (!busy && recorded.has(method) && !inExport()) {
          busy = true;
          guard(() => logger[LEVELS[method]](format(args), { 'log.source': `console.${method}` }));
          busy = false;
        }
        return original.apply(this, args);
      },
    }[method];
    console[method] = mimic(wrapped, original);
  }
}
