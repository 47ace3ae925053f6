// The public JavaScript API of edgescope, shared by every runtime entry point.
//
// Everything here is a thin shell around the wasm core: it reads config objects by hand,
// turns JavaScript values into the plain values the core takes, and owns the platform work
// (timers, fetch for export). No function here throws into the host: failures are counted in
// the SDK's diagnostics and the call returns a harmless value.
import * as core from './core.js';

const KINDS = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };
const SEVERITY = { trace: 1, debug: 5, info: 9, warn: 13, error: 17, fatal: 21 };
const DIAGNOSTIC_NAMES = [
  'spansDropped',
  'logsDropped',
  'spansEvicted',
  'staleHandles',
  'attributesDropped',
  'eventsDropped',
  'linksDropped',
  'exportsFailed',
  'exportsRetried',
  'recordsRejected',
  'apiErrors',
];
// A keepalive request may carry at most 64 KiB across all in-flight keepalive requests.
const KEEPALIVE_BUDGET = 60000;

// The settings, as `init` leaves them when a field is not given (module variables rather than
// an object's fields: a minifier shortens their names, not property names).
/** Where exports go: `config.endpoint` without its trailing slashes. */
let endpoint = 'http://127.0.0.1:4318';
let exportHeaders = {};
/** `http/protobuf` (default) or `http/json`, as OTEL_EXPORTER_OTLP_PROTOCOL names them. */
let useProtobuf = true;
/** gzip request bodies when the runtime has CompressionStream. */
let useGzip = true;
/** Milliseconds before an export request is abandoned (and retried). */
let timeoutMs = 10000;
let scheduleDelay = 1000;
/** Request-scoped exports (workerd): how long a flush may take before what it could not deliver waits for the next one. */
let flushDeadline = 25000;
let batchSize = 512;
let debug = false;
/** `config.redact(key, value)`: the app's own rule for string values, after the built-in ones. */
let redactHook;

/**
 * A text through the app's rule: a span's or an event's name (key `span.name` or `event.name`),
 * a log message (`log.message`) or a string attribute (its key). A rule that throws costs that
 * text (`REDACTED`), not the span, event or record.
 */
export function hooked(key, value) {
  const text = String(value);
  if (!redactHook) return text;
  try {
    return String(redactHook(key, text));
  } catch (e) {
    trouble(1, e);
    return 'REDACTED';
  }
}

/** `value` through the app's rule under `key`: a string, or each string of an array (strings inside maps pass it in `core.normalize`, under their own keys). */
function hookedValue(key, value) {
  return typeof value === 'string' ? hooked(key, value) : Array.isArray(value) ? value.map((v) => (typeof v === 'string' ? hooked(key, v) : v)) : value;
}
/** Log records below this severity number are not recorded (`config.logLevel`). */
let minSeverity = 1;
/** After `shutdown()`: no spans or log records until the next `init`. */
let off = false;
/**
 * Why the SDK is off for good: its wasm could not be instantiated (a Content-Security-Policy
 * without 'wasm-unsafe-eval', a .wasm that could not be fetched). The page runs on; every call
 * does what it does after `shutdown()`, and `diagnostics().disabled` says why.
 */
export let broken;

/** Internal: turns the SDK off for good, saying why once (see `broken`). */
export function disable(error) {
  broken = `edgescope is off, its WebAssembly could not be loaded: ${(error && error.message) || error}`;
  off = true;
  consoleWarn(`[${broken}]`);
}

/** Internal: instantiates the wasm core with `load`; on failure the SDK is off (see `disable`). Returns whether it loaded. */
export function start(load) {
  try {
    load();
    return true;
  } catch (e) {
    disable(e);
    return false;
  }
}
let exportTimer = 0;
/** The fetch exports use: `config.fetch`, else `hostFetch`. */
let exportFetch;
/** The host's own fetch, captured before instrumentation: exports are never traced. */
let hostFetch;
/** Keeps batches that failed for lack of network (browser full entry); see `useOutbox`. */
let offlineOutbox;

/** The `Span` objects made active by `withSpan`, mirroring the core's stack (same handles). */
const activeStack = [];

/**
 * An `AsyncLocalStorage` holding the active span, where the runtime has one (workerd with
 * `nodejs_compat`, Deno, Node): the active span then follows each request through `await`
 * even when requests interleave in one isolate. Without it, the core's stack is used.
 */
let asyncContext;

/** Internal: makes `withSpan` and `activeSpan` use `storage` (an AsyncLocalStorage). */
export function useAsyncContext(storage) {
  asyncContext = storage && typeof storage.run === 'function' && typeof storage.getStore === 'function' ? storage : undefined;
}

/** Called before each new span and log record (browser sessions keep themselves current). */
let activity;

/** Internal: registers the activity hook. */
export function onActivity(fn) {
  activity = typeof fn === 'function' ? fn : undefined;
}

/**
 * Internal: a stack trace with its script URLs' query and fragment cut (`:line:column` kept),
 * which may carry secrets (a signed script URL's `sig`, a token).
 */
const STACK_URL = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#()]*)[?#]\S*?((?::\d+)*)(?=\)?(?:\s|$))/gim;
export const cleanStack = (stack) => stack.replace(STACK_URL, '$1$2');

/** The longest log body, in bytes: `attributeValueLengthLimit`, else 16 KiB. */
let bodyCap = 16384;
/** Log records whose body was cut to `bodyCap` since `init`. */
let truncated = 0;
/** What `json` may still write: the body is cut at `bodyCap` anyway. */
let room = 0;

/** An error as the console shows it: its stack, after its `name: message` line when the stack has none (Firefox, Safari). */
function errorText(e) {
  const head = String(e);
  const stack = e.stack;
  return typeof stack === 'string' ? cleanStack(stack.startsWith(head) ? stack : `${head}\n${stack}`) : head;
}

/**
 * JSON of `holder[key]` as `JSON.stringify` writes it, but for what it cannot write: an object
 * within itself is "[Circular]" (as pino writes it), an error its stack, a BigInt its digits, a
 * value whose reading throws (a getter, `toJSON`, a Proxy) "[Thrown]", each in its place. No
 * more members are written once `room` is used up.
 */
function json(holder, key, seen) {
  let s;
  // Only what is written here counts against `room`: a nested value's text was counted by its
  // own call (counting it again at every level cut deep objects far short of the cap).
  let leaf = true;
  try {
    let v = holder[key];
    if (typeof v?.toJSON === 'function') v = v.toJSON(key);
    // A Map or Set within itself is a cycle too: `seen` holds the originals.
    const original = v;
    if (v instanceof Error) v = errorText(v);
    // What JSON has no form for, as the console shows it: a Map's entries as keys, a Set's
    // values as a list, a bigint's digits (as a string: a JSON number that long loses them).
    else if (v instanceof Map) v = Object.fromEntries(v);
    else if (v instanceof Set) v = [...v];
    else if (typeof v === 'bigint') v = String(v);
    if (!v || typeof v !== 'object') s = JSON.stringify(v);
    else if (seen.includes(original)) s = '"[Circular]"';
    else {
      const list = Array.isArray(v);
      const keys = list ? v : Object.keys(v);
      const n = keys.length;
      const parts = [];
      seen.push(original);
      leaf = false;
      room -= 2;
      for (let i = 0; i < n && room > 0; i++) {
        const x = json(v, list ? i : keys[i], seen);
        room--;
        if (list) parts.push(x ?? 'null');
        else if (x !== undefined) {
          const k = JSON.stringify(keys[i]);
          room -= k.length + 1;
          parts.push(`${k}:${x}`);
        }
      }
      seen.pop();
      s = list ? `[${parts}]` : `{${parts}}`;
    }
  } catch {
    s = '"[Thrown]"';
    leaf = true;
  }
  if (s && leaf) room -= s.length;
  return s;
}

/**
 * Internal: `value` as a log body shows it (the logger's message, each of a console call's
 * values): a string as it is, an error as its stack, an object as JSON (see `json`), anything
 * else as `String` writes it. Never throws.
 */
export function show(value) {
  try {
    if (value instanceof Error) return errorText(value);
    if (typeof value === 'bigint') return `${value}n`;
    if (!value || typeof value !== 'object') return String(value);
    room = bodyCap;
    const s = json([value], 0, []);
    return s?.[0] === '"' ? JSON.parse(s) : String(s);
  } catch {
    return '[Thrown]';
  }
}

/** Internal: runs the activity hook for a span started past `startSpan` (the full entry's timed spans). */
export function touchActivity() {
  if (activity) activity();
}

/** Interned strings (attribute keys, span names) and their ids in the wasm core's table. */
const interned = new Map();
const MAX_INTERNED = 1024;
/** Internal: the interned strings by id (records.js hands a span's attributes to the core by key). */
export const internedKeys = [];

/** Internal: the id of `s` in the core's string table, or -1 when the table is full. */
export function internId(s) {
  let id = interned.get(s);
  if (id === undefined) {
    if (interned.size >= MAX_INTERNED) return -1;
    id = core.intern(s);
    interned.set(s, id);
    internedKeys[id] = s;
  }
  return id;
}

/** Where the core leaves the ended span's ids and the diagnostics (see `Ops` in sdk/src/js.rs). */
let opsMemory;
let endedBase = 0;
let opsBytes;
let opsView;

/** Up-to-date views of wasm memory (growing it detaches the old ones). */
function opsViews() {
  if (opsBytes === undefined || opsBytes.byteLength === 0) {
    if (opsMemory === undefined) {
      opsMemory = core.wasmMemory();
      // They follow the attribute queue (8,192 bytes, see `queueAttr` in core.js).
      endedBase = core.opsBuffer() + 8192;
    }
    opsBytes = new Uint8Array(opsMemory.buffer);
    opsView = new DataView(opsMemory.buffer);
  }
}

/**
 * Spans recorded in JavaScript (ADR 0011; sdk/js/records.js, which the Node and Deno entry
 * installs): `start`, `attribute`, `end`, `adopt` and `flush` of such spans. Without it every
 * span is the core's.
 */
let recorder;

/** Internal: records spans of the JavaScript API in JavaScript from now on (see `recorder`). */
export function useRecords(r) {
  recorder = r;
}

/** The core's count of queued spans and records when it last gave it. */
let coreQueued = 0;

/** Spans and records waiting for export (in the core, and ended spans' records). */
function queued() {
  coreQueued = core.queued();
  return coreQueued + (recorder ? recorder.count() : 0);
}

/** Hands the ended spans' records to the core, if any (keeping the core's count). */
function flushRecords() {
  const n = recorder && recorder.flush();
  if (n !== undefined) coreQueued = n;
  return n;
}

/**
 * Spans and log records taken for export so far (by `SIGNALS` index): a flush is over once each
 * passes what its queue held at the call.
 */
const taken = [0, 0];

/** What the queue of spans (0) or of log records (1) holds, ended spans' records included. */
const inQueue = (logs) => (logs ? core.queued(1) : queued() - core.queued(1));

/** A batch for export (see `core.take`), after the ended spans' records. */
function take(logs, maxBytes, protobuf) {
  const before = inQueue(logs);
  if (!logs) flushRecords();
  const body = core.take(logs, maxBytes, protobuf);
  taken[+logs] += before - inQueue(logs);
  return body;
}

/**
 * The core's handle of `span`: a span recorded in JavaScript that is still open is handed over
 * to the core first (see records.js), and from then on is a core span.
 */
function adopt(span) {
  return span._j === 0 ? span._h : recorder.adopt(span);
}

/** Internal: sets (or with `undefined` removes) an attribute every new span and log record gets. */
export function setCommon(key, value) {
  if (recorder) recorder.common(key, value);
  core.setCommon(key, value);
}

/** The console's own `warn`, saved before any capture wraps it, so diagnostics never loop back. */
const consoleWarn = typeof console !== 'undefined' ? console.warn.bind(console) : () => {};

function trouble(kind, error) {
  try {
    core.trouble(kind);
    if (debug) consoleWarn('[edgescope]', error);
  } catch {
    // The core itself failed; there is nowhere left to report to.
  }
}

/** Runs `fn`, turning any exception into a counted trouble and `fallback`. */
export function guard(fn, fallback) {
  try {
    return fn();
  } catch (e) {
    trouble(1, e);
    return fallback;
  }
}

/**
 * Internal: gives `wrapper` the `name` and `length` of the host function it stands in for, so
 * that a page's feature checks (`fetch.length`, `history.pushState.name`) see what they would see
 * without the SDK. Never throws.
 */
export function mimic(wrapper, original) {
  for (const key of ['name', 'length']) {
    try {
      Object.defineProperty(wrapper, key, { value: original[key], configurable: true });
    } catch {
      // A host function whose name cannot be read: the wrapper keeps its own.
    }
  }
  return wrapper;
}

/** Unix milliseconds beyond which a time is no time (the OTLP nanoseconds, a u64, end in 2554). */
const MAX_MS = 1.8e13;

/**
 * Unix milliseconds of a performance timeline time `t`, by the core's clock rule
 * (sdk/src/platform.rs): from `performance.timeOrigin`, or from `Date.now()` when the two have
 * drifted apart by more than a second (a tab that slept: the timeline stopped, the wall clock did
 * not), so that times from the timeline line up with the spans' own.
 */
export function timelineMs(t) {
  const perf = performance.now();
  const wall = Date.now();
  return (Math.abs(performance.timeOrigin + perf - wall) > 1000 ? wall - perf : performance.timeOrigin) + t;
}

/** Where exports go: `config.endpoint` without its trailing slashes, or the default. */
export const exportEndpoint = () => endpoint;

/** Whether `t` is a time rather than attributes, as OpenTelemetry JS's `isTimeInput` tells them. */
const isTime = (t) => typeof t === 'number' || t instanceof Date || (Array.isArray(t) && t.length === 2 && typeof t[0] === 'number' && typeof t[1] === 'number');

/**
 * A `TimeInput` in Unix milliseconds, or 0 (for now) when absent: a number (Unix ms, or, below
 * `performance.timeOrigin`, a `performance.now()` reading, as OpenTelemetry JS reads it; but a
 * number from 10^12 up, September 2001 in Unix ms and 31 years of a clock's run, is a date: a
 * job's time from before the process started is no reading to add to its start), a
 * `Date` or an `HrTime` `[seconds, nanoseconds]`. Anything else (NaN, a string, a negative or
 * huge time) is counted and read as now.
 */
function unixMs(t) {
  if (t == null) return 0;
  let ms = NaN;
  try {
    ms = isTime(t)
      ? t instanceof Date
        ? t.getTime()
        : typeof t === 'number'
          ? t >= 0 && t < performance.timeOrigin && t < 1e12
            ? timelineMs(t)
            : t
          : t[0] * 1e3 + t[1] / 1e6
      : NaN;
  } catch {
    // A value that throws when looked at (a revoked Proxy) is no time either.
  }
  if (ms > 0 && ms < MAX_MS) return ms;
  core.trouble(1);
  return 0;
}

/**
 * Stages the attributes of an object (but those whose key `skip` has). Attributes that are no
 * map (an array, a string, a Proxy that lists no keys) and each attribute that cannot be read (a
 * throwing getter) or has an empty key are left out and counted: the rest are staged.
 */
function stageAttributes(attributes, skip) {
  if (attributes != null)
    guard(() => {
      for (const key of Object.keys(map(attributes)))
        if (!skip || !Object.hasOwn(skip, key))
          guard(() => {
            const v = attributes[nonEmpty(key)];
            core.attr(key, redactHook ? hookedValue(key, v) : v);
          });
    });
}

/**
 * `attributes` when they are a map (an object, not an array, whose items would become keys "0",
 * "1"…, nor a `Map` or `Headers`, whose entries are no keys of theirs); else throws.
 */
function map(attributes) {
  if (typeof attributes !== 'object' || Array.isArray(attributes) || typeof attributes.forEach === 'function') throw new TypeError('attributes must be an object of keys and values');
  return attributes;
}

/** `key`, which OpenTelemetry says is never empty: an empty one throws. */
function nonEmpty(key) {
  if (key === '') throw new TypeError('empty attribute key');
  return key;
}

/**
 * The type of each option, by the letter of its group: s a string, n a number (or a numeric
 * string), b a boolean, f a function, o an object, l a list (or one value of it), u the endpoint
 * (a string or a URL), e an enumeration, c `captureConsole` (a boolean or a list).
 */
const TYPES = {};
for (const group of [
  'sserviceName serviceVersion environment sampler sessionId',
  'nscheduleDelayMillis flushDeadlineMillis maxQueueSize maxExportBatchSize timeoutMillis attributeValueLengthLimit',
  'bkeepErrors redaction debug instrumentFetch instrumentXHR captureErrors sessions documentLoad navigation interactions longTasks webVitals offline',
  'ffetch redact',
  'oheaders',
  'lredactQueryParams propagateTraceHeaderCorsUrls',
  'uendpoint',
  'eprotocol compression',
  'ccaptureConsole',
]) {
  for (const key of group.slice(1).split(' ')) TYPES[key] = group[0];
}
const ENUMS = ['http/protobuf', 'http/json', 'gzip', 'none'];
/** A size option as the core takes it (a u32): whole, and beyond 2^32 - 1 that (not wrapped to what is left). */
const size = (v) => Math.min(2 ** 32 - 1, Math.max(0, Math.floor(v)));
/** The longest delay timers take (about 24.8 days); a longer one fires at once. */
const MAX_TIMER = 2 ** 31 - 1;

/**
 * `config` as the latest `init` read it: what users reasonably pass made what the SDK reads (a
 * `URL` endpoint as its text, numeric strings as numbers, one value of a list as a list), and
 * options of the wrong type left out (`init` counts and, with `debug`, names them).
 */
export let settings = {};

/** Internal: `[settings, names of the options of the wrong type]` for `config`. */
export function readOptions(config) {
  const c = {};
  const wrong = [];
  // Option by option, so that one that throws when read (a getter, a Proxy) costs only itself.
  let keys = [];
  if (config && typeof config === 'object') {
    try {
      keys = Object.keys(config);
    } catch {
      wrong.push('config');
    }
  }
  for (const key of keys) {
    try {
      // Defined, not assigned: a `__proto__` key (JSON.parse makes one) is an option, not c's prototype.
      Object.defineProperty(c, key, { value: config[key], enumerable: true, writable: true, configurable: true });
    } catch {
      wrong.push(key);
    }
  }
  for (const key in c) {
    let v = c[key];
    try {
    const t = TYPES[key];
    if (t === 'n' && typeof v === 'string' && v.trim()) v = Number(v);
    if (t === 'l' && (typeof v === 'string' || v instanceof RegExp)) v = [v];
    if (t === 'u' && v instanceof URL) v = v.href;
    // A pasted endpoint's surrounding spaces would end up inside the export URL.
    if (t === 'u' && typeof v === 'string') v = v.trim();
    c[key] = v;
    const ok = {
      s: typeof v === 'string',
      // A time-out of 0 or less would fail every export (and, made 1 ms, send it five times).
      n: Number.isFinite(v) && (v > 0 || key[0] !== 't'),
      b: typeof v === 'boolean',
      f: typeof v === 'function',
      o: v && typeof v === 'object',
      l: Array.isArray(v) && v.every((x) => typeof x === 'string' || (x instanceof RegExp && key[0] === 'p')),
      u: typeof v === 'string' && httpUrl(v),
      e: ENUMS.includes(v) && (key[0] === 'p') === (v[0] === 'h'),
      c: typeof v === 'boolean' || Array.isArray(v),
    }[t];
    if (t && v !== undefined && !ok) {
      wrong.push(key);
      delete c[key];
    } else if (t === 'o' && ok) {
      // Headers `fetch` would refuse (a name that is no token, a value with a line break or
      // beyond Latin-1) would fail every export: they are left out, the others kept. Besides a
      // plain object, what `fetch` takes as headers: a `Headers` (or a `Map`) and pairs.
      const given = [];
      if (typeof v.forEach === 'function' && !Array.isArray(v)) v.forEach((x, name) => given.push([name, x]));
      else if (Array.isArray(v)) for (const pair of v) given.push(Array.isArray(pair) && pair.length === 2 ? pair : [undefined]);
      else for (const name in v) given.push([name, v[name]]);
      const kept = {};
      for (const [name, x] of given) {
        if (/^[\w!#$%&'*+.^`|~-]+$/.test(name) && (typeof x === 'string' || typeof x === 'number') && !/[^\t\x20-\x7e\x80-\xff]/.test(x)) kept[name] = x;
      }
      if (Object.keys(kept).length < given.length) wrong.push(key);
      c[key] = kept;
    }
    } catch {
      wrong.push(key);
      delete c[key];
    }
  }
  return [c, wrong];
}

/**
 * Whether `s` is an http(s) URL, or a path on the page's origin in a browser, that the signal
 * paths can be appended to: `fetch` refuses a URL with credentials (send them in `headers`), and
 * a query or fragment would take the appended path in.
 */
function httpUrl(s) {
  try {
    const url = new URL(s, globalThis.location?.href);
    return /^https?:$/.test(url.protocol) && !url.username && !url.password && !/[?#]/.test(s);
  } catch {
    return false;
  }
}

/**
 * Configures the SDK. Call once, before creating spans.
 * @param {import('./index').Config} config
 */
export function init(config) {
  if (broken) return;
  guard(() => {
    const [c, wrong] = readOptions(config);
    settings = c;
    // Calling `init` again starts a fresh core: what the old one still holds is sent first,
    // with the old settings (the batches are taken synchronously). What the export slots cannot
    // take now (two exports under way) is sent too rather than lost with the old core, or, for
    // spans recorded in JavaScript, encoded by the new one with its settings; the old core's
    // queue is bounded.
    // After `shutdown()` what ended since is left to the old core, which is then dropped.
    if (off) flushRecords();
    else if (hostFetch && queued() > 0) {
      flush();
      for (const [path, logs] of SIGNALS) for (let body; (body = take(logs, 0, useProtobuf)); ) send(path, body, false);
    }
    off = debug = givenUp = false;
    redactHook = undefined;
    endpoint = (c.endpoint ?? 'http://127.0.0.1:4318').replace(/\/+$/, '');
    exportHeaders = { ...c.headers };
    useProtobuf = c.protocol !== 'http/json';
    // The lean module (default browser and workerd entries) writes protobuf only: said and
    // counted once the new core is configured (which starts its counts afresh).
    const noJson = !useProtobuf && !core.encodesJson();
    if (noJson) useProtobuf = true;
    useGzip = c.compression !== 'none';
    // Timers fire at once for 2^31 ms or more: longer times are as good as that long.
    scheduleDelay = Math.min(MAX_TIMER, Math.max(0, c.scheduleDelayMillis ?? (ownExports ? 0 : 1000)));
    batchSize = Math.max(1, size(c.maxExportBatchSize ?? 512));
    timeoutMs = Math.min(MAX_TIMER, Math.max(1, c.timeoutMillis ?? 10000));
    flushDeadline = Math.min(MAX_TIMER, Math.max(0, c.flushDeadlineMillis ?? 25000));
    debug = !!c.debug;
    // The host's fetch is captured at the first `init`, before any instrumentation wraps it, so
    // exports are never traced; a custom `fetch` (a proxy, a test double) replaces it.
    if (!hostFetch) hostFetch = globalThis.fetch;
    exportFetch = c.fetch || hostFetch;
    // The app's rule applies to the resource's values too, so it is in place before they are staged.
    redactHook = c.redact;
    const ra = c.resourceAttributes;
    const plainObject = ra && typeof ra === 'object' && !Array.isArray(ra);
    // The config's own fields first, so that the resource's attribute limit never drops them, and
    // over the same keys of `resourceAttributes`.
    const own = {};
    if (c.serviceVersion !== undefined) own['service.version'] = c.serviceVersion;
    if (c.environment !== undefined) own['deployment.environment.name'] = c.environment;
    stageAttributes(own);
    if (plainObject) stageAttributes(ra, own);
    const sampler = c.sampler ?? '';
    const maxQueueSize = size(c.maxQueueSize ?? 0);
    cores++;
    const known = core.configure(
      c.serviceName || defaultService,
      maxQueueSize,
      batchSize,
      sampler,
      c.samplerArg === undefined ? undefined : Number(c.samplerArg),
      c.keepErrors === true,
      size(c.attributeValueLengthLimit ?? 0),
    );
    bodyCap = size(c.attributeValueLengthLimit ?? 0) || 16384;
    truncated = 0;
    if (!known) trouble(1, new Error(`unknown sampler ${sampler}; using parentbased_always_on`));
    if (noJson) trouble(1, new Error('http/json needs edgescope/full or the Node entry; exporting http/protobuf'));
    if (ra != null && !plainObject) trouble(1, new Error('resourceAttributes must be an object of attributes; ignored'));
    if (wrong.length) {
      for (const _ of wrong) core.trouble(1);
      if (debug) consoleWarn(`[edgescope] init options of the wrong type, ignored: ${wrong.join(', ')}`);
    }
    // (After `configure`, which starts the counters afresh.) Debug records in development, from info up elsewhere: development is what `environment`
    // (or the resource's `deployment.environment.name`) says, else a page served from loopback.
    const env = c.environment ?? (plainObject && ra['deployment.environment.name']);
    const dev =
      typeof env === 'string' ? /^(dev|development|local)$/i.test(env) : /^(localhost|127\.0\.0\.1|\[::1\])$/.test(globalThis.location?.hostname ?? '');
    minSeverity = dev ? SEVERITY.debug : SEVERITY.info;
    if (c.logLevel !== undefined) {
      if (Object.hasOwn(SEVERITY, c.logLevel)) minSeverity = SEVERITY[c.logLevel];
      else trouble(1, new Error(`unknown logLevel ${String(c.logLevel)}; using ${dev ? 'debug' : 'info'}`));
    }
    if (recorder) recorder.configure(sampler, c.samplerArg === undefined ? undefined : Number(c.samplerArg), c.keepErrors === true, maxQueueSize);
    core.setRedaction(c.redaction !== false, c.redactQueryParams ? c.redactQueryParams.join('\n') : '');
    core.useRedactHook(redactHook && hooked);
  });
}

/** A span: an operation with a start, an end, attributes and a status. */
export class Span {
  /** @param {number} handle */
  constructor(handle) {
    /** @private The core's handle (0 while JavaScript records the span, or for a no-op span). */
    this._h = handle;
    /** @private 0 a core span, 1 open and 2 ended while recorded in JavaScript (see `rec`). */
    this._j = 0;
    /**
     * @private The ids: six little-endian words of the trace and span ids, then the W3C flags;
     * recorded in JavaScript, then the parent span id's two words and the start (Unix ms). One
     * array of numbers: a number field of its own would be a heap number per span.
     */
    this._ids = undefined;
    /**
     * @private `traceparent` and `tracestate` once read; `_ts` is `null` from the start when the
     * span is known to have none (a root, or the child of a span without one), and is read
     * before `end` otherwise, so that work that outlives the span sends it on with the ids.
     */
    this._tp = undefined;
    this._ts = undefined;
    /** @private Recorded in JavaScript: the name and kind. */
    this._name = '';
    this._kind = 1;
    /** @private Recorded in JavaScript and sampled: interned key ids and values, alternating. */
    this._a = null;
    /** @private Attributes dropped beyond the limit. */
    this._drop = 0;
    /** @private Ended through this object: a second `end()` (as after `startActiveSpan`'s own) does nothing. */
    this._e = false;
    /** @private The baggage of the remote context the span is under (`parent.baggage`, or its parent span's): `inject` sends it on. */
    this._bg = undefined;
  }

  /** Sets an attribute: a string, number, boolean, array of those, `Uint8Array` or plain object (a map); others are ignored and counted. */
  setAttribute(key, value) {
    try {
      nonEmpty(String(key));
      if (redactHook) value = hookedValue(String(key), value);
      if (this._j !== 0) {
        recorder.attribute(this, String(key), value);
        return this;
      }
      // An interned key's value goes through the attribute queue in wasm memory (no call into
      // wasm per attribute); other keys, and what is no value or does not fit, cross now.
      const k = typeof key === 'string' ? internId(key) : -1;
      // A map is read once, whichever way it crosses.
      if (typeof value === 'object') value = core.normalize(value);
      if (k < 0 || !core.queueAttr(this._h, k, value)) core.spanAttr(this._h, String(key), value);
    } catch (e) {
      trouble(1, e);
    }
    return this;
  }

  /** Sets every own property of `attributes` as an attribute (one that cannot be read is counted, the others set). */
  setAttributes(attributes) {
    guard(() => {
      for (const key of Object.keys(map(attributes || {}))) guard(() => this.setAttribute(key, attributes[key]));
    });
    return this;
  }

  /** Sets the status: `{ code: 'ok' | 'error' | 'unset', message? }`. */
  setStatus(status) {
    guard(() => {
      const code = { unset: 0, ok: 1, error: 2 }[status && status.code] ?? Number(status && status.code) ?? 0;
      // A message that cannot be read or made text costs only itself (counted): the code holds.
      const message = guard(() => String((status && status.message) || ''), '');
      core.spanStatus(adopt(this), code | 0, message);
    });
    return this;
  }

  /** Adds an event with attributes, at `time` (a `TimeInput`, also as the second argument) or now. */
  addEvent(name, attributes, time) {
    guard(() => {
      if (isTime(attributes)) {
        time = attributes;
        attributes = undefined;
      }
      const ms = unixMs(time);
      const h = adopt(this);
      stageAttributes(attributes);
      core.spanEvent(h, hooked('event.name', name), ms);
    });
    return this;
  }

  /**
   * Records an exception as an `exception` event (`exception.type`, `.message`, `.stacktrace`).
   * It does not change the status: call `setStatus({ code: 'error' })` for a failed operation.
   * At `time` (a `TimeInput`, also as the second argument, as OpenTelemetry's) or now.
   */
  recordException(exception, attributes, time) {
    guard(() => {
      if (isTime(attributes)) {
        time = attributes;
        attributes = undefined;
      }
      const ms = unixMs(time);
      const object = exception && typeof exception === 'object';
      const e = object ? exception : { message: String(exception) };
      const h = adopt(this);
      stageAttributes(attributes);
      core.spanException(
        h,
        // A thrown string's type is `string`, as the error capture names it; `null`'s, `Error`.
        object ? String(e.name || e.constructor?.name || 'Error') : exception == null ? 'Error' : typeof exception,
        String(e.message ?? ''),
        typeof e.stack === 'string' ? cleanStack(e.stack) : '',
        ms,
      );
    });
    return this;
  }

  /**
   * Links this span to another span — a `Span` (open or ended: a batch's spans are linked once
   * done) or a `{ traceparent, tracestate }` from `extract`; what is neither is counted in `apiErrors`.
   */
  addLink(target, attributes) {
    guard(() => {
      const span = target instanceof Span;
      const open = span && isOpen(target);
      // An ended span links with the ids it kept (its handle may be another span's by now) and the
      // tracestate read while it was open, if any.
      const tp = span ? (open || target._tp !== undefined || target._ids ? traceparentOf(target) : undefined) : target && target.traceparent;
      const ts = span ? (open ? tracestateOf(target) : target._ts ?? undefined) : target && target.tracestate;
      if (typeof tp !== 'string') return core.trouble(1);
      const h = adopt(this);
      stageAttributes(attributes);
      if (!core.spanLink(h, tp, ts, span)) core.trouble(1);
    });
    return this;
  }

  /** Renames the span. */
  updateName(name) {
    guard(() => {
      const text = hooked('span.name', name);
      if (this._j === 1) this._name = text;
      else core.spanName(adopt(this), text);
    });
    return this;
  }

  /** Ends the span, at `endTime` (a `TimeInput`) or now, never before its start; later calls do nothing. */
  end(endTime) {
    if (this._e) return;
    this._e = true;
    try {
      const ms = endTime === undefined ? 0 : unixMs(endTime);
      if (this._j !== 0) {
        // Recorded: a full batch of records goes to the core (which bounds its queue), and a
        // full batch in all is exported.
        const n = recorder.end(this, batchSize, ms);
        if (n === undefined) return;
        if (n >= 0) return scheduleExport((coreQueued = n));
        return scheduleExport(recorder.count() + coreQueued >= batchSize ? undefined : 0);
      }
      // The spans JavaScript recorded go first, in the order they ended.
      flushRecords();
      if (this._ts === undefined) tracestateOf(this);
      const queued = (coreQueued = core.spanEnd(this._h, performance.now(), ms));
      if (this._tp === undefined) {
        // The core frees the span: keep its ids (25 bytes it left in memory) for `spanContext()`.
        opsViews();
        // Six little-endian words and the flags: an array of small numbers costs a third of a
        // typed-array copy, and most spans are never asked for their context after `end`.
        if (opsBytes[endedBase + 25] === 1) {
          const w = (i) => opsView.getInt32(endedBase + 4 * i, true);
          this._ids = [w(0), w(1), w(2), w(3), w(4), w(5), opsBytes[endedBase + 24]];
        }
      }
      scheduleExport(queued);
    } catch (e) {
      trouble(1, e);
    }
  }

  /** `{ traceId, spanId, traceFlags }` in lowercase hex (empty ids for a span that was never recorded). */
  spanContext() {
    return guard(() => parseTraceparent(traceparentOf(this)), parseTraceparent(undefined));
  }

  /** True while the span is open and recording. */
  isRecording() {
    // Open, and sampled (or, under `keepErrors`, recorded in case its trace fails), as OpenTelemetry's.
    return guard(() => isOpen(this) && (this._j ? this._ids[6] & 1 : settings.keepErrors === true || parseInt(traceparentOf(this).slice(-1), 16) & 1) > 0, false);
  }
}

/** Whether `span` is open (neither ended nor a no-op span): it still parents spans and records, sampled or not. */
const isOpen = (span) => (span._j === 0 ? core.header(0, span._h) !== undefined : span._j === 1);

/**
 * `current` (a request's active span, through AsyncLocalStorage) when it has ended and its ids are
 * known: work that outlives it (a timer, a call after the response) continues its trace.
 */
const endedActive = (current) => (current instanceof Span && !isOpen(current) ? endedSpan(current) : undefined);

/** `span`, ended, when its ids are known (a span never recorded has none: no parent then). */
const endedSpan = (span) => (typeof span._tp === 'string' || (span._tp === undefined && span._ids !== undefined) ? span : undefined);

/**
 * The span's `traceparent`, read from the core once and kept: a span's context never changes,
 * and `inject` is called on hot paths.
 */
function traceparentOf(span) {
  if (span._tp === undefined) span._tp = span._ids ? traceparentFromIds(span._ids) : core.header(0, span._h) ?? null;
  return span._tp ?? undefined;
}

/** The span's `tracestate`, read once (none for spans recorded in JavaScript). */
function tracestateOf(span) {
  if (span._ts === undefined) span._ts = core.header(1, span._h) ?? null;
  return span._ts ?? undefined;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** `00-{trace id}-{span id}-{flags}` from the ids `end` kept: six words of the 24 id bytes, then the flags. */
function traceparentFromIds(ids) {
  const hex = (from, to) => {
    let s = '';
    for (let i = from; i < to; i++) for (let b = 0; b < 32; b += 8) s += HEX[(ids[i] >>> b) & 255];
    return s;
  };
  return `00-${hex(0, 4)}-${hex(4, 6)}-${HEX[ids[6]]}`;
}

function parseTraceparent(tp) {
  if (!tp) return { traceId: '', spanId: '', traceFlags: 0 };
  return { traceId: tp.slice(3, 35), spanId: tp.slice(36, 52), traceFlags: parseInt(tp.slice(53, 55), 16) };
}

/**
 * Starts a span. Its parent is `options.parent` (from `extract`), else the active span.
 * @param {string} name
 * @param {import('./index').SpanOptions} [options]
 */
export function startSpan(name, options) {
  // try/catch rather than `guard`: no closure per span on this hot path.
  try {
    return startSpanUnguarded(name, options);
  } catch (e) {
    trouble(1, e);
    return new Span(0);
  }
}

const NO_OPTIONS = Object.freeze({});

function startSpanUnguarded(name, options) {
  if (off) return new Span(0);
  if (activity) activity();
  if (redactHook) name = hooked('span.name', name);
  // Read once: options that throw when read (a revoked Proxy) are counted and the span starts without them.
  const o = options && typeof options === 'object' ? guard(() => ({ kind: options.kind, parent: options.parent, root: options.root, startTime: options.startTime, attributes: options.attributes, links: options.links }), NO_OPTIONS) : NO_OPTIONS;
  // A number is OpenTelemetry JS's `SpanKind` (INTERNAL 0 … CONSUMER 4), one more in OTLP.
  const kind = typeof o.kind === 'number' ? (o.kind >= 0 && o.kind <= 4 ? (o.kind | 0) + 1 : 1) : KINDS[o.kind] || 1;
  let parent = o.parent && typeof o.parent === 'object' ? o.parent : undefined;
  // A span of this process as the parent (open or ended), as a remote context would be.
  let parentSpan;
  if (parent instanceof Span) {
    parentSpan = parent;
    parent = undefined;
  } else if (parent) {
    // A remote context read once, before any span starts: fields that throw when read, or that
    // are no text, are left out (counted), as a context without them would be.
    const given = parent;
    const read = (field) => guard(() => given[field]);
    parent = { traceparent: read('traceparent'), tracestate: read('tracestate'), baggage: read('baggage') };
    for (const field of ['traceparent', 'tracestate']) {
      if (parent[field] != null && typeof parent[field] !== 'string') trouble(1, new TypeError(`parent.${field} is no text`));
      if (typeof parent[field] !== 'string') parent[field] = undefined;
    }
  }
  // `root: true` (OpenTelemetry's option): a new trace, whatever span is active.
  const root = !parent && !parentSpan && o.root === true;
  const start = o.startTime === undefined ? 0 : unixMs(o.startTime);
  // The active span: the request's own where there is AsyncLocalStorage, else the core's
  // (which JavaScript knows to be none when nothing was made active).
  const current = asyncContext ? asyncContext.getStore() : undefined;
  let span;
  if (recorder && recorder.on && !parent && !parentSpan && !scoped && (root || (asyncContext ? !(current instanceof Span) || current._j !== 0 : activeStack.length === 0))) {
    // Recorded in JavaScript: a root, or the child of a span recorded there, open or ended (work
    // that outlives its span stays in its trace, as OpenTelemetry's context keeps an ended span).
    // Its parent span, if any, has no remote context above it; a root started under one (`root:
    // true`) keeps that context's baggage, as OpenTelemetry keeps the context's baggage.
    span = recorder.start(new Span(0), String(name), kind, !root && current instanceof Span && current._j !== 0 ? current : undefined, start);
    span._ts = null;
    const context = root ? (asyncContext ? current : activeStack.at(-1)) : current;
    if (context instanceof Span && context._bg !== undefined) span._bg = context._bg;
    span.setAttributes(o.attributes);
  } else {
    stageAttributes(o.attributes);
    let handle;
    // The span the new one is the child of, if JavaScript knows it: its tracestate goes on.
    let above;
    const kindAndScope = kind | (scoped << 8);
    const ended = parentSpan ? (isOpen(parentSpan) ? undefined : endedSpan(parentSpan)) : !parent && !root && endedActive(current);
    if (root) {
      handle = core.spanStart(String(name), kindAndScope, 0, false, undefined, undefined, start);
    } else if (ended) {
      above = ended;
      // The request's active span has ended: its child continues the trace by the ids it kept.
      // Its parent is local, not remote (`ENDED_PARENT` in js.rs).
      handle = core.spanStart(String(name), kindAndScope | 0x1000000, 0, false, traceparentOf(ended), ended._ts ?? undefined, start);
    } else if (parentSpan) {
      above = parentSpan;
      // (An ended span whose ids are unknown, one never recorded, parents nothing.)
      handle = core.spanStart(String(name), kindAndScope, isOpen(parentSpan) ? adopt(parentSpan) : 0, false, undefined, undefined, start);
    } else if (!parent && asyncContext) {
      // The request's own active span, not whatever another request made active.
      // (A span JavaScript records is handed to the core first: a tracer's span starts there.)
      const h = current instanceof Span && current._j !== 2 ? adopt(current) : 0;
      if (h) above = current;
      handle = core.spanStart(String(name), kindAndScope, h, false, undefined, undefined, start);
    } else {
      // A name seen before crosses as its interned id, with the start time read here.
      const id = !parent && !start && typeof name === 'string' ? internId(name) : -1;
      if (!parent) above = activeStack.at(-1);
      handle =
        id >= 0
          ? core.spanStartK(id, kindAndScope, performance.now())
          : core.spanStart(String(name), kindAndScope, 0, true, parent && parent.traceparent, parent && parent.tracestate, start);
    }
    span = new Span(handle);
    // Known to have no tracestate: a root, a child of a span without one, or of a remote
    // context without one (only the core knows whether one it was given is valid).
    if (parent ? !parent.tracestate : above ? above._ts === null : true) span._ts = null;
    // A child's tracestate is its parent's (as the core copies it): known, it costs no call.
    else if (above && typeof above._ts === 'string') span._ts = above._ts;
    // Under a remote context with one, read once now (the core keeps it only if valid), so that
    // the spans under this one know theirs without a call each.
    else if (parent) tracestateOf(span);
    // A root (`root: true`) keeps the baggage of the context it starts in: only the trace is new.
    span._bg = parent ? parent.baggage : (parentSpan || (asyncContext ? current : activeStack.at(-1)))?._bg;
  }
  // A link that throws when read is left out (counted); the span keeps the others.
  if (Array.isArray(o.links)) for (const link of o.links) guard(() => span.addLink(link && link.context, link && link.attributes));
  return span;
}

/** Internal: makes `span` active (the parent of new spans, the span of new log records). */
export function activate(span) {
  // An ended span is not made active, nor counted (as the core does with its own).
  const h = span instanceof Span && span._j !== 2 ? adopt(span) : 0;
  core.activate(h);
  if (h) activeStack.push(span);
}

/** Internal: undoes one `activate(span)`. */
export function deactivate(span) {
  core.deactivate(span instanceof Span ? span._h : 0);
  const i = activeStack.lastIndexOf(span);
  if (i >= 0) activeStack.splice(i, 1);
}

function isThenable(v) {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function';
}

/**
 * Runs `fn(span)` with `span` active: spans started and records logged inside it are attached to
 * `span`. Where the runtime has AsyncLocalStorage (Node, Deno, workerd with `nodejs_compat`) that
 * holds after `await` in an async `fn` too. Elsewhere (browsers) only while `fn` runs
 * synchronously, as with OpenTelemetry JS's StackContextManager: code that runs after an `await`
 * cannot be told from the page's unrelated code running meanwhile (a timer, another click), which
 * would otherwise become the span's children too.
 */
export function withSpan(span, fn) {
  if (typeof fn !== 'function') return noFunction();
  if (asyncContext) return asyncContext.run(guard(() => span instanceof Span) ? span : undefined, () => fn(span));
  guard(() => activate(span));
  try {
    return fn(span);
  } finally {
    guard(() => deactivate(span));
  }
}

/** What `withSpan` and `startActiveSpan` do without a function to run: count it, run nothing. */
function noFunction() {
  trouble(1, new TypeError('withSpan and startActiveSpan need a function'));
}

/**
 * Marks `span` failed by `e`, whatever `e` is: a value `String()` cannot convert (an object of
 * `Object.create(null)`, a Proxy whose traps throw) costs only the status's message, never the
 * exception the caller re-throws nor the span's end.
 */
function recordError(span, e) {
  span.recordException(e);
  span.setStatus({ code: 'error', message: guard(() => (e && e.message ? String(e.message) : String(e)), '') });
}

/**
 * Starts a span, runs `fn(span)` with it active, and ends it when `fn` returns or its promise
 * settles. An exception marks the span as an error and is re-thrown unchanged.
 */
export function startActiveSpan(name, options, fn) {
  return runActive(startSpan, name, options, fn);
}

/**
 * Starts a span with `start(name, options)` (`options` may be left out, the function then
 * coming second), runs `fn(span)` with it active and ends the span when `fn` returns or settles.
 * Without a function no span is started.
 */
function runActive(start, name, options, fn) {
  if (typeof options === 'function') {
    fn = options;
    options = undefined;
  }
  if (typeof fn !== 'function') return noFunction();
  const span = start(name, options);
  let result;
  try {
    result = withSpan(span, fn);
  } catch (e) {
    recordError(span, e);
    span.end();
    throw e;
  }
  // A result whose `then` cannot be read or called is the app's to meet: the span ends now.
  let chained = false;
  let settled;
  guard(() => {
    if (!isThenable(result)) return;
    settled = result.then(
      (v) => {
        span.end();
        return v;
      },
      (e) => {
        recordError(span, e);
        span.end();
        throw e;
      },
    );
    chained = true;
  });
  if (chained) return settled;
  span.end();
  return result;
}

/**
 * While a tracer of `getTracer` starts a span: its scope's id in the core (0: none, the SDK's
 * own). The span is then the core's, started with the id beside its kind (see `kind_and_scope`
 * in sdk/src/js.rs).
 */
let scoped = 0;
/** How many times `init` has started a fresh core: a tracer's scope id holds for one core. */
let cores = 0;

/**
 * A tracer whose spans carry the instrumentation scope `name` and `version`, as OpenTelemetry's
 * `trace.getTracer` gives one, so that a library's spans say where they come from. Its
 * `startSpan` and `startActiveSpan` take what the module's functions of those names take.
 */
export function getTracer(name, version) {
  // A name that is missing or not a string gives a working tracer of an empty scope name, as
  // OpenTelemetry's API specification has it (not the SDK's own scope, which would pass a
  // library's spans off as the SDK's).
  const scope = typeof name === 'string' ? name : '';
  if (!scope && debug) consoleWarn('[edgescope] getTracer needs a library name; its spans get an empty scope name');
  const scopeVersion = typeof version === 'string' ? version : '';
  // The scope's id in the current core, looked up at the tracer's first span (and after `init`).
  let id = 0;
  let of = -1;
  const start = (spanName, options) => {
    try {
      if (of !== cores) {
        id = core.useScope(scope, scopeVersion);
        of = cores;
      }
      scoped = id;
      return startSpan(spanName, options);
    } catch (e) {
      trouble(1, e);
      return new Span(0);
    } finally {
      scoped = 0;
    }
  };
  return {
    startSpan: start,
    startActiveSpan: (spanName, options, fn) => runActive(start, spanName, options, fn),
  };
}

/** The active span, or `undefined`. */
export function activeSpan() {
  return guard(() => {
    if (asyncContext) {
      const current = asyncContext.getStore();
      return current instanceof Span && isOpen(current) ? current : undefined;
    }
    const h = core.activeSpan();
    if (!h) return undefined;
    for (let i = activeStack.length - 1; i >= 0; i--) if (activeStack[i]._h === h) return activeStack[i];
    return new Span(h);
  });
}

function emit(severity, message, attributes, event) {
  if ((severity < minSeverity && event === undefined) || off) return;
  guard(() => {
    if (activity) activity();
    // The message first: showing it may call the app's getters, which may log.
    let text = message === undefined ? '' : show(message);
    if (redactHook) text = hooked('log.message', text);
    stageAttributes(attributes);
    const current = asyncContext ? asyncContext.getStore() : undefined;
    const span = current instanceof Span && isOpen(current) ? current : undefined;
    // A record written after the request's span ended (a timer, work after the response) still
    // belongs to its trace, by the ids the span kept.
    const ended = span ? undefined : endedActive(current);
    // The core cuts it to `bodyCap` bytes after redaction, so that a secret the cut splits is masked
    // whole: it gets the cap and 64 Ki characters more (room for any secret it knows), never a whole
    // huge message, whose copy in wasm memory would stay.
    if (text.length > bodyCap + 65536) text = text.slice(0, bodyCap + 65536);
    if (core.log(severity, text, span ? adopt(span) : 0, ended && traceparentOf(ended), event, bodyCap)) truncated++;
    scheduleExport();
  });
}

/** Log records correlated with the active span: `trace`, `debug`, `info`, `warn`, `error`, `fatal` (one per `SEVERITY`). */
export const logger = {};
for (const level in SEVERITY) logger[level] = (message, attributes) => emit(SEVERITY[level], message, attributes);

/**
 * Internal: an event (a web vital) as an INFO log record with the LogRecord event name `name`,
 * whatever `logLevel` says (it is for the logger).
 */
export const logEvent = (name, message, attributes) => emit(SEVERITY.info, message, attributes, name);

/** Internal: a number kept as a double when it is whole (a measurement). */
export const double = (v) => new core.Double(v);

function setHeader(headers, name, value) {
  if (typeof headers.set === 'function') headers.set(name, value);
  else headers[name] = value;
}

function getHeader(headers, name) {
  if (!headers) return undefined;
  if (typeof headers.get === 'function') return headers.get(name) ?? undefined;
  for (const key of Object.keys(headers)) if (key.toLowerCase() === name) return headers[key];
  return undefined;
}

/** Writes `traceparent` (and `tracestate`) of `span`, else of the active span, into `headers`. */
export function inject(headers, span) {
  // On hot paths (every request a page or worker sends): no closure through `guard`, and the
  // request's span read from AsyncLocalStorage once.
  try {
    let s = span instanceof Span ? span : undefined;
    let ended;
    if (!s && asyncContext) {
      const current = asyncContext.getStore();
      if (current instanceof Span) s = isOpen(current) ? current : (ended = endedSpan(current));
    } else if (!s) {
      s = activeSpan();
    }
    const tp = s && traceparentOf(s);
    if (!tp || !headers) return;
    setHeader(headers, 'traceparent', tp);
    // An ended span's tracestate is the one read before it ended (its handle is free).
    const ts = ended || s._e ? s._ts ?? undefined : tracestateOf(s);
    if (ts) setHeader(headers, 'tracestate', ts);
    if (baggageHeader === undefined) baggageHeader = core.header(2, 0) ?? '';
    let header = typeof s._bg === 'object' ? withRemote(s._bg) : baggageHeader;
    // (Without entries of its own, those already in `headers` stand for them, as on a fetch call.)
    if (moreBaggage) header = moreBaggage(header || getHeader(headers, 'baggage') || '');
    if (header) setHeader(headers, 'baggage', header);
  } catch (e) {
    trouble(1, e);
  }
}

/**
 * The service name without `serviceName`: OpenTelemetry's `unknown_service`, with the process's
 * executable name where there is a process (`unknown_service:node`), as the resource spec says.
 */
let defaultService = 'unknown_service';
/** Internal: sets it (the Node and Deno entry). */
export const setDefaultService = (name) => (defaultService = name);

/**
 * Internal: what `inject` adds to the baggage header it wrote (the edge entry's: the request's
 * own baggage, which its spans do not carry), given that header.
 */
let moreBaggage;
export const addBaggage = (fn) => (moreBaggage = fn);

/** The page-wide baggage header, computed once per change. */
let baggageHeader;
/** The page-wide baggage's keys. */
const pageKeys = new Set();

/**
 * The `baggage` of a span under a remote context with baggage (`remote`, as `{ key: value }`):
 * the page-wide members first, winning for a key both have (as the edge entry's per-request
 * baggage), then the remote ones. The core adds those to the page-wide set for as long as it
 * writes the header (validating the keys, percent-encoding, keeping to 64 members and 8,192
 * bytes by dropping whole members as for `setBaggage`), and takes them out again.
 */
function withRemote(remote) {
  const added = [];
  try {
    const properties = (remote && remote[PROPERTIES]) || {};
    // Own properties only: a member named `constructor` or `toString` has no metadata of Object's.
    const metadata = (key) => (Object.prototype.hasOwnProperty.call(properties, key) ? properties[key] : undefined);
    for (const key in remote) if (!pageKeys.has(key) && core.baggageSet(key, String(remote[key]), metadata(key))) added.push(key);
    return core.header(2, 0);
  } finally {
    for (const key of added) core.baggageRemove(key);
  }
}

/**
 * Sets a page-wide W3C baggage entry, sent (percent-encoded, within 64 members and 8,192
 * bytes) with every request that gets `traceparent`, with its member properties `metadata`
 * (`ttl=60;secure`) where given and valid: invalid ones are dropped and counted (`apiErrors`).
 * Returns false for an invalid key, and for an entry the header has no room for (counted).
 */
export function setBaggage(key, value, metadata) {
  return guard(() => {
    baggageHeader = undefined;
    key = String(key);
    value = String(value);
    const m = metadata === undefined ? '' : String(metadata);
    // An entry the header leaves out (the 65th member, or one past 8,192 bytes) is not kept
    // either: it would be set but neither read back nor sent.
    const sent = () => Object.hasOwn(baggageObject(core.header(2, 0) ?? ''), key);
    // The entry it replaces, if any, which a refused one leaves as it was.
    const previous = pageKeys.has(key) ? getBaggage(key) : undefined;
    let set = core.baggageSet(key, value, m);
    // Metadata that takes the entry past the header's 8,192 bytes would cost the whole entry.
    if (set && !sent()) {
      core.baggageRemove(key);
      set = false;
      if (m && core.baggageSet(key, value)) {
        if (sent()) {
          set = true;
          trouble(1, `baggage metadata of ${key} dropped: ${m}`);
        } else core.baggageRemove(key);
      }
      if (!set) {
        trouble(1, `baggage entry ${key} dropped: the header holds 64 members and 8,192 bytes at most`);
        if (previous) core.baggageSet(key, previous.value, previous.metadata ?? '');
      }
    } else if (!set && m && (set = core.baggageSet(key, value))) trouble(1, `baggage metadata of ${key} dropped: ${m}`);
    if (set) pageKeys.add(key);
    return set;
  }, false);
}

/** Removes a page-wide baggage entry. */
export function removeBaggage(key) {
  guard(() => {
    baggageHeader = undefined;
    pageKeys.delete((key = String(key)));
    core.baggageRemove(key);
  });
}

/**
 * The page-wide baggage as `{ key: value }`, or with a `key` that entry as `{ value, metadata }`
 * (`metadata` where it has properties), undefined where there is none.
 */
export function getBaggage(key) {
  return guard(() => {
    const all = baggageObject(core.header(2, 0) ?? '');
    if (key === undefined) return all;
    const value = Object.hasOwn(all, (key = String(key))) ? all[key] : undefined;
    const metadata = all[PROPERTIES] && Object.hasOwn(all[PROPERTIES], key) && all[PROPERTIES][key];
    return typeof value == 'string' ? (metadata ? { value, metadata } : { value }) : undefined;
  }, key === undefined ? {} : undefined);
}

/**
 * The member properties (`;ttl=60`) of an `extract`ed baggage object, by key: not enumerable, so
 * the object still reads as `{ key: value }`; `inject` sends them on with their members.
 */
const PROPERTIES = Symbol('baggage properties');

/** The entries of a `baggage` header as `{ key: value }`, with their properties under `PROPERTIES` where any has some. */
function baggageObject(header) {
  const out = {};
  let properties;
  for (let i = 0, n = core.baggageParse(header); i < n; i++) {
    const key = core.header(3, 3 * i);
    // Defined, not assigned: a key `__proto__` (a valid token) is an entry like any other.
    Object.defineProperty(out, key, { value: core.header(3, 3 * i + 1), enumerable: true, writable: true, configurable: true });
    const p = core.header(3, 3 * i + 2);
    if (p) Object.defineProperty((properties ??= {}), key, { value: p, enumerable: true });
  }
  if (properties) Object.defineProperty(out, PROPERTIES, { value: properties });
  return out;
}

/**
 * Reads a remote parent from `headers` (a `Headers` or a plain object): pass the result as
 * `startSpan(name, { parent })`. Its `baggage` holds the request's valid baggage entries.
 * `undefined` when there is no valid `traceparent`.
 */
export function extract(headers) {
  return guard(() => {
    const tp = getHeader(headers, 'traceparent');
    const valid = typeof tp === 'string' ? core.parseTraceparent(tp) : undefined;
    if (!valid) return undefined;
    const ts = getHeader(headers, 'tracestate');
    const bg = getHeader(headers, 'baggage');
    return {
      traceparent: valid,
      // Validated whole, as a span started from it would: an invalid one is dropped.
      tracestate: typeof ts === 'string' ? core.parseTracestate(ts) : undefined,
      baggage: typeof bg === 'string' ? baggageObject(bg) : {},
    };
  });
}

/**
 * Whether each `flush()` owns the exports it starts (workerd and Vercel Edge entries). In
 * workerd every request runs in its own I/O context: a promise or request belongs to the
 * request that made it, and a continuation that another request settles is queued for the
 * first one's context and dropped when that request has ended ("IoContext dropped queued
 * cross-context actions"). So there a `flush()` sends what it takes from the queue and waits
 * for those exports only, never for another request's, and no export starts outside a
 * `flush()` (not from `span.end()` nor from another export's completion): everything a
 * request's `ctx.waitUntil(flush())` waits for belongs to that request. Spans that another
 * request's flush took are covered by that request's `waitUntil`. Elsewhere a `flush()` also
 * waits for the exports it did not start.
 */
let ownExports = false;

/**
 * Internal: each `flush()` owns its exports (see `ownExports`), and there is no export timer
 * unless `scheduleDelayMillis` asks for one (workerd and Vercel Edge: `waitUntil(flush())`).
 */
export function useRequestScopedExports() {
  ownExports = true;
}

/**
 * Exports what is due: full batches while export slots are free, and what is left when the
 * timer fires. `queued`: the core's count, when known.
 */
function scheduleExport(count) {
  // Per request, only a flush (under the request's `waitUntil`) starts exports; the queue is
  // bounded meanwhile.
  if (ownExports || off) return;
  if ((count ?? queued()) >= batchSize) exportFullBatches();
  if (scheduleDelay > 0 && !exportTimer && typeof setTimeout === 'function') {
    // The timer's export leaves request spans to their Resource Timing entry; `flush()` does not.
    exportTimer = setTimeout(() => {
      exportTimer = 0;
      if (!off) drain();
    }, scheduleDelay);
    // In Node and Deno the export timer does not keep the process alive (a script that ends
    // calls `flush()`, as the README says), as OpenTelemetry JS's batch processor does.
    if (typeof exportTimer === 'object' && typeof exportTimer.unref === 'function') exportTimer.unref();
  }
}

/**
 * Starts an export per full batch while slots are free. A partial batch stays for the timer or
 * `flush()`, so that a steady stream of spans leaves in full batches, not in whatever piled up
 * while an export was under way. (The count is of spans and log records together: when both
 * queues are part full, each sends what it has.)
 */
function exportFullBatches() {
  guard(() => {
    while (inflight < MAX_INFLIGHT && queued() >= batchSize) {
      let started = false;
      for (const [path, logs] of SIGNALS) {
        const body = inflight < MAX_INFLIGHT ? take(logs, 0, useProtobuf) : undefined;
        if (body === undefined) continue;
        send(path, body, false);
        started = true;
      }
      if (!started) return;
    }
  });
}

/** OTLP/HTTP paths, and whether each takes log records from the core. */
const SIGNALS = [
  ['/v1/traces', false],
  ['/v1/logs', true],
];

/** Request-scoped exports (see `ownExports`) send bodies below this many bytes uncompressed. */
const GZIP_MIN_BYTES = 1024;

/** gzip through CompressionStream; `undefined` when the runtime cannot. */
async function gzip(body) {
  if (typeof CompressionStream !== 'function') return undefined;
  try {
    const stream = new Blob([body]).stream().pipeThrough(new CompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch {
    return undefined;
  }
}

/** The ends of the retry waits under way: a shutdown whose time is up ends them at once. */
const waits = new Set();
const sleep = (ms) =>
  new Promise((resolve) => {
    const end = () => {
      clearTimeout(timer);
      waits.delete(end);
      resolve();
    };
    const timer = setTimeout(end, ms);
    waits.add(end);
  });
/** Set when `shutdown()` ran out of time: exports waiting to retry give up, counted. */
let givenUp = false;

/** `promise`, or a rejection after `ms`; the timer is cleared either way. */
function withTimeout(ms, promise) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
    // In Node and Deno the timer alone must not keep a process alive (a pending real request
    // does that by itself).
    timer?.unref?.();
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/**
 * `Retry-After` in milliseconds from now: delay-seconds, or an HTTP date still to come in one of
 * RFC 9110's three forms; `undefined` (so the usual backoff) for anything else, as `1.5` or `-5`,
 * which `Date.parse` would read as dates long past.
 */
function retryAfterMs(header) {
  if (header == null) return undefined;
  const text = String(header).trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/^[A-Z][a-z]{2,8},? [\w -]+ \d\d:\d\d:\d\d (GMT|\d{4})$/.test(text)) return undefined;
  const wait = Date.parse(text) - Date.now();
  return wait > 0 ? wait : undefined;
}

/**
 * `partial_success` (field 1) of a protobuf `Export…ServiceResponse`: `[rejected, errorMessage]`
 * from its fields 1 and 2, by a two-level walk over varints and length-delimited fields, enough
 * for this one message.
 */
function protobufPartial(bytes) {
  let pos = 0;
  let rejected = 0;
  let message;
  const varint = (end) => {
    let v = 0;
    for (let shift = 0; pos < end && shift < 53; shift += 7) {
      const b = bytes[pos++];
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
    throw new Error('bad varint');
  };
  const walk = (end, path) => {
    while (pos < end) {
      const key = varint(end);
      const [field, wire] = [Math.floor(key / 8), key & 7];
      if (wire === 0) {
        const v = varint(end);
        if (path && field === 1) rejected = v;
      } else if (wire === 2) {
        const stop = varint(end) + pos;
        if (stop > end) throw new Error('truncated');
        if (!path && field === 1) walk(stop, 1);
        else if (path && field === 2) message = new TextDecoder().decode(bytes.subarray(pos, stop));
        pos = stop;
      } else if (wire === 1) pos += 8;
      else if (wire === 5) pos += 4;
      else throw new Error('bad wire type');
    }
  };
  walk(bytes.length, 0);
  return [rejected, message];
}

/**
 * Counts what the receiver rejected in a partial success and, with `debug`, shows its message,
 * also when it rejected nothing (a warning, as OTLP allows); never throws.
 */
async function readPartialSuccess(response, headers) {
  try {
    let rejected = 0;
    let message;
    // Read as the request was sent (`init` may have changed the protocol since, or the outbox's
    // batch be older).
    if (headers['content-type'] !== 'application/json') {
      [rejected, message] = protobufPartial(new Uint8Array(await response.arrayBuffer()));
    } else {
      const text = await response.text();
      const partial = text ? JSON.parse(text).partialSuccess : undefined;
      rejected = Number((partial && (partial.rejectedSpans ?? partial.rejectedLogRecords)) || 0);
      message = partial && partial.errorMessage;
    }
    if (rejected > 0) core.trouble(3, rejected);
    if (debug && (rejected > 0 || message)) {
      consoleWarn(rejected > 0 ? '[edgescope] the receiver rejected ' + rejected + ' records:' : '[edgescope] the receiver warned:', message ?? '');
    }
  } catch {
    // An unreadable success answer is still a success.
  }
}

/**
 * Sends one batch. Retries network errors, timeouts, 429, 502, 503 and 504 with backoff (or
 * after `Retry-After`), never other answers; a page-hide flush gets a single attempt.
 */
async function post(path, body, keepalive, deadline, protobuf = useProtobuf) {
  // Everything that depends on the settings is read now, before the first `await`: a batch
  // goes (and is retried) where and how it was first meant to, even if `init` runs meanwhile.
  const headers = { 'content-type': protobuf ? 'application/x-protobuf' : 'application/json', ...exportHeaders };
  const batch = { url: endpoint + path, path, headers, body, send: exportFetch || globalThis.fetch, timeout: timeoutMs, split: true };
  const outbox = offlineOutbox;
  // A page that is going away cannot wait for compression: its request must start now. A
  // request-scoped flush (workerd) leaves a small body as it is: there a request's batch is a
  // few hundred bytes, which gzip shrinks by about a tenth, and its CompressionStream was most of
  // the time the SDK still added to requests in bench/edge_latency.mjs.
  const small = ownExports && body.length < GZIP_MIN_BYTES;
  const compressed = useGzip && !keepalive && !small ? await gzip(body) : undefined;
  if (compressed) {
    headers['content-encoding'] = 'gzip';
    batch.body = compressed;
  }
  if ((await deliver(batch, keepalive, deadline, outbox, 1)) !== 413) return;
  // Too large for the collector (413): each half is sent on its own, and halved again as
  // needed; an item too large alone is let go, counted.
  const halves = guard(() => halve(body, protobuf));
  if (halves) await Promise.all(halves.map((half) => post(path, half, keepalive, deadline, protobuf)));
  else trouble(0, new Error(`export to ${path}: the collector takes no request of ${body.length} bytes (413), and it holds one span or record`));
}

/**
 * The two halves of an OTLP export request (`ExportTraceServiceRequest` or
 * `ExportLogsServiceRequest`, which share their shape: resources in field 1, their scopes in 2,
 * the scope's spans or records in 2), or `undefined` when it holds one span or record.
 */
function halve(body, protobuf) {
  if (!protobuf) {
    const doc = JSON.parse(new TextDecoder().decode(body));
    const keys = doc.resourceSpans ? ['resourceSpans', 'scopeSpans', 'spans'] : ['resourceLogs', 'scopeLogs', 'logRecords'];
    const cut = (o, depth) => {
      const list = o[keys[depth]] || [];
      const mid = list.length >> 1;
      if (mid) return [list.slice(0, mid), list.slice(mid)].map((part) => ({ ...o, [keys[depth]]: part }));
      if (list.length && depth < 2) return cut(list[0], depth + 1)?.map((half) => ({ ...o, [keys[depth]]: [half] }));
    };
    return cut(doc, 0)?.map((half) => new TextEncoder().encode(JSON.stringify(half)));
  }
  const varint = (v) => {
    const out = [];
    for (; v > 127; v >>>= 7) out.push((v & 127) | 128);
    out.push(v);
    return out;
  };
  const join = (parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
    return out;
  };
  const cut = (msg, depth) => {
    // Every field of these messages is length-delimited: the repeated one, and the rest
    // (resource, scope, schema URL) that each half keeps.
    const list = [];
    const rest = [];
    for (let pos = 0; pos < msg.length; ) {
      let tag = 0;
      let len = 0;
      let shift = 0;
      for (let b = 128; b > 127; shift += 7) tag += ((b = msg[pos++]) & 127) * 2 ** shift;
      shift = 0;
      for (let b = 128; b > 127; shift += 7) len += ((b = msg[pos++]) & 127) * 2 ** shift;
      if ((tag & 7) !== 2 || pos + len > msg.length) return;
      (tag >>> 3 === (depth ? 2 : 1) ? list : rest).push(msg.subarray(pos, pos + len), tag);
      pos += len;
    }
    const field = (tag, bytes) => join([varint(tag), varint(bytes.length), bytes]);
    const keep = [];
    for (let i = 0; i < rest.length; i += 2) keep.push(field(rest[i + 1], rest[i]));
    const items = [];
    for (let i = 0; i < list.length; i += 2) items.push(field(list[i + 1], list[i]));
    const mid = items.length >> 1;
    if (mid) return [items.slice(0, mid), items.slice(mid)].map((part) => join([...keep, ...part]));
    if (items.length && depth < 2) return cut(list[0], depth + 1)?.map((half) => join([...keep, field(list[1], half)]));
  };
  return cut(body, 0);
}

/**
 * Batches a request-scoped flush (workerd) could not deliver before its deadline — the runtime
 * ends a request's `waitUntil` about 30 s after the response — with the attempt they are at.
 * The next flush in the isolate sends them first, so a collector that is down or slow for a
 * while loses nothing while the isolate lives. At most `MAX_CARRIED`; beyond, the oldest is
 * let go and counted.
 */
const carried = [];
const MAX_CARRIED = 16;
/** The answers OTLP/HTTP calls retryable, and 0 for a network error or timeout (see sdk/src/retry.rs). */
const RETRYABLE = [0, 429, 502, 503, 504];

/** Keeps `batch` of a request's flush for the next flush (see `carried`), at its `attempt`. */
function carry(batch, path, attempt) {
  if (carried.length >= MAX_CARRIED) {
    carried.shift();
    trouble(0, new Error(`export to ${path} let go: ${MAX_CARRIED} batches already wait for the collector`));
  }
  // (Sent again alone: a 413 then is a failed export, the halves being `post`'s to make.)
  carried.push({ batch: { ...batch, split: false }, attempt });
}

/** Exports whose `config.fetch` call is under way (its synchronous part): see `inExport`. */
let sending = 0;
/** A server entry's AsyncLocalStorage whose store is `true` in an export's own async work. */
let exportContext;

/** Internal: makes exports run in `storage` (an AsyncLocalStorage), so that `inExport` follows their `await`s. */
export function useExportContext(storage) {
  exportContext = storage && typeof storage.run === 'function' ? storage : undefined;
}

/**
 * Internal: whether the code running is the SDK's own export (a `config.fetch` adding a token or
 * logging), which is never traced nor recorded: its span or record would be exported, and that
 * export traced in turn, without end. With AsyncLocalStorage (Node, Deno, workerd) this holds
 * through the export's `await`s; elsewhere in its synchronous part.
 */
export const inExport = () => sending > 0 || exportContext?.getStore() === true;

/**
 * Calls `send` as the SDK's own export (see `inExport`), with the host's own fetch as the global
 * one, so that a `config.fetch` that calls `fetch` (to add a token, to log) is never traced (OTel
 * JS exports under `suppressTracing` for the same reason). In a browser, a `config.fetch` that
 * awaits before it calls `fetch` gets the traced one, which leaves the exporter's URLs alone.
 */
function untraced(send) {
  const traced = globalThis.fetch;
  let swap = false;
  if (hostFetch !== undefined && traced !== hostFetch) {
    // Only a plain writable `fetch` is swapped: assigning a read-only one throws (every export
    // failed), and a setter (a library's accessor) would keep the untraced fetch for good.
    const d = Object.getOwnPropertyDescriptor(globalThis, 'fetch');
    if (d && d.writable) {
      globalThis.fetch = hostFetch;
      swap = true;
    }
  }
  sending++;
  try {
    return exportContext ? exportContext.run(true, send) : send();
  } finally {
    sending--;
    if (swap && globalThis.fetch === hostFetch) globalThis.fetch = traced;
  }
}

/**
 * Browser: export URLs the page's Content-Security-Policy refused (`securitypolicyviolation`
 * events, see page.js), and the exports not sent for that. A refused request is never retried
 * nor stored: the policy will not change while the page lives.
 */
const refused = [];
let cspWatched = false;
let cspBlocked = 0;

/** Failed exports waiting for a violation event, which comes a few milliseconds after the failure. */
let waiting = [];

/** Internal (page.js): watches for refusals; `uri` is a refused request's (the event's `blockedURI`). */
export function cspRefused(uri) {
  cspWatched = true;
  if (uri && !refused.includes(String(uri))) refused.push(String(uri));
  waiting.forEach((wake) => wake());
  waiting = [];
}

const isRefused = (url) => refused.some((uri) => url === uri || url.startsWith(`${uri.replace(/\/+$/, '')}/`));

/** Whether the CSP refused the request to `url` that failed: a violation event for it within 300 ms. */
async function blockedByCsp(url) {
  if (!cspWatched) return false;
  for (const until = Date.now() + 300; !isRefused(url) && Date.now() < until; ) {
    await new Promise((wake) => {
      waiting.push(wake);
      setTimeout(wake, until - Date.now());
    });
  }
  return refusedNow(url);
}

/** Whether the CSP is known to refuse `url` (then counted and, the first time, said). */
function refusedNow(url) {
  if (!cspWatched || !isRefused(url)) return false;
  const said = `[edgescope] the page's Content-Security-Policy blocks exports to ${url}: add it to connect-src`;
  if (!cspBlocked++) consoleWarn(said);
  trouble(0, said);
  return true;
}

/** Whether the browser says it has no network. */
function isOffline() {
  return globalThis.navigator?.onLine === false;
}

/** Sends a prepared batch, retrying as the core's policy says; never rejects. */
async function deliver(batch, keepalive, deadline, outbox, first) {
  const { url, path, headers, body: payload, send } = batch;
  let to = url;
  let hops = 0;
  for (let attempt = first; ; attempt++) {
    // Synchronously: a page-hide export must start before the page goes.
    if (refusedNow(url)) return;
    let status = 0;
    let retryAfter;
    try {
      const timeout = deadline === undefined ? batch.timeout : Math.max(1, Math.min(batch.timeout, deadline - Date.now()));
      const until = Date.now() + timeout;
      const signal = typeof AbortSignal !== 'undefined' && AbortSignal.timeout ? AbortSignal.timeout(timeout) : undefined;
      // The timeout also holds for a `fetch` that ignores its signal, so a hung request cannot
      // keep an export slot forever.
      const response = await withTimeout(timeout, untraced(() => send.call(globalThis, to, {
        method: 'POST',
        headers,
        body: payload,
        keepalive,
        signal,
        redirect: 'manual',
      })));
      // A browser hides a redirect it was told not to follow (its Location cannot be read), and
      // following it there would turn 301-303 into a GET without the batch and take the
      // configured headers to any host: it counts as a failed export.
      const next = response.type === 'opaqueredirect' ? null : redirectOf(response, to);
      if (next !== undefined) {
        if (next && hops++ < 5) {
          if (debug) consoleWarn('[edgescope] the endpoint redirects to', next, '- set endpoint to it');
          to = next;
          attempt--;
          continue;
        }
        trouble(0, new Error(`export to ${path} redirected (${response.status || 'to a URL the browser hides'}) ${response.headers.get('location') ?? ''}: not followed, set endpoint to the collector's URL`));
        return;
      }
      if (response.ok) {
        if (outbox) outbox.sent();
        // Its body's read has the time left too: a success whose body stalls (from a `fetch`
        // that ignores its signal) must not keep the export slot, and is still a success.
        return await withTimeout(Math.max(1, until - Date.now()), readPartialSuccess(response, headers)).catch(() => response.body?.cancel().catch(() => {}));
      }
      status = response.status;
      // Too large: `post` sends it in halves.
      if (status === 413 && batch.split) return 413;
      retryAfter = response.headers.get('retry-after') ?? undefined;
    } catch {
      // Offline, the network failed it: no wait for a CSP report (a batch the CSP refuses is kept
      // and let go, counted, when it is sent again).
      if (!isOffline() && (await blockedByCsp(url))) return;
      status = 0;
    }
    // Offline: retrying is pointless, and the outbox (if installed) keeps the batch for later.
    const offline = status === 0 && isOffline();
    const delay = keepalive || offline ? -1 : core.retryDelay(attempt, status, retryAfterMs(retryAfter), Math.random());
    if (delay < 0) {
      if (status === 0 && outbox) {
        // Without the configured headers (an `authorization`): `resend` adds the current ones.
        outbox.keep({ url, headers: { 'content-type': headers['content-type'], 'content-encoding': headers['content-encoding'] }, body: payload });
        return;
      }
      // A request's flush (workerd) whose retries all failed as a collector that is down
      // fails them (refused at once, five attempts in under 10 s) keeps the batch as one its
      // deadline cut: the next request's flush tries it again, once.
      if (deadline !== undefined && RETRYABLE.includes(status)) return carry(batch, path, attempt + 1);
      trouble(0, new Error(`export to ${path} failed (${status || 'network error'}) after ${attempt} attempt(s)`));
      return;
    }
    core.trouble(2);
    // The request's time is up: the next flush retries it.
    if (deadline !== undefined && Date.now() + delay >= deadline) return carry(batch, path, attempt + 1);
    if (!givenUp) await sleep(delay);
    if (givenUp) {
      trouble(0, new Error(`export to ${path} given up: shutdown() ran out of time before its retry`));
      return;
    }
  }
}

/**
 * Where a redirect answer sends the export: `undefined` for any other answer; the URL, to post
 * the batch to again (as `fetch` would for 307 and 308 only: for 301, 302 and 303 it would send
 * a GET without the batch, whose 2xx would count as delivered), when it stays on the origin or
 * only moves it from http to https on the default ports; else `null` (the configured headers, an
 * `authorization`, would go to another service).
 */
function redirectOf(response, from) {
  const location = [301, 302, 303, 307, 308].includes(response.status) && response.headers.get('location');
  if (!location) return undefined;
  try {
    const a = new URL(from);
    const b = new URL(location, a);
    const upgrade = a.protocol === 'http:' && b.protocol === 'https:' && a.hostname === b.hostname && !a.port && !b.port;
    return b.origin === a.origin || upgrade ? b.href : null;
  } catch {
    return null;
  }
}

/** Internal: sends a stored batch once; resolves to true when the receiver answered 2xx. */
export async function resend(batch) {
  try {
    const send = exportFetch || globalThis.fetch;
    const headers = { ...batch.headers, ...exportHeaders };
    for (const name in headers) if (headers[name] === undefined) delete headers[name];
    const response = await untraced(() => send.call(globalThis, batch.url, { method: 'POST', headers, body: batch.body }));
    if (response.ok) await readPartialSuccess(response, headers);
    // A client error will not get better: the batch is let go (and counted).
    if (!response.ok && response.status < 500 && response.status !== 429) trouble(0, new Error(`stored export answered ${response.status}`));
    return response.ok || (response.status < 500 && response.status !== 429);
  } catch {
    // A batch the page's CSP refuses is let go (and counted).
    return blockedByCsp(batch.url);
  }
}

/** Internal: where batches go when the network is down (the browser's IndexedDB outbox). */
export function useOutbox(outbox) {
  offlineOutbox = outbox;
}

/** Export requests under way. Beyond MAX_INFLIGHT, batches wait in the core's bounded queue. */
let inflight = 0;
const MAX_INFLIGHT = 2;
/** Keepalive requests under way and their bytes: browsers allow 64 KiB and 9 requests. */
let keepaliveCount = 0;
let keepaliveBytes = 0;
const MAX_KEEPALIVE_REQUESTS = 9;

/** Every export under way, so that `flush()` also waits for those it did not start. */
const pending = new Set();

/** Starts exporting `body` (OTLP bytes or JSON text) and tracks it. */
function send(path, body, keepalive, deadline) {
  return track(() => post(path, body, keepalive, deadline), keepalive, body.length);
}

/** Starts exporting a batch a request-scoped flush carried over (see `carried`) and tracks it. */
function sendCarried(entry, deadline) {
  return track(() => deliver(entry.batch, false, deadline, undefined, entry.attempt), false, 0);
}

/** Counts an export under way (in the keepalive budget, or in the slots) until it settles. */
function track(start, keepalive, bytes) {
  if (keepalive) {
    keepaliveCount++;
    keepaliveBytes += bytes;
  } else {
    inflight++;
  }
  const request = start().finally(() => {
    pending.delete(request);
    if (keepalive) {
      keepaliveCount--;
      keepaliveBytes -= bytes;
    } else {
      inflight--;
      // A full batch that waited for a free slot goes now.
      scheduleExport();
    }
  });
  pending.add(request);
  return request;
}

/**
 * Ends the SDK's work: from now on spans are not recorded and log records not kept (until `init`
 * is called again), and what is queued is exported. Resolves when those exports have settled.
 */
export async function shutdown(options) {
  off = true;
  await bounded(drain(), options, true);
}

/**
 * `done`, or nothing once `options.timeoutMillis` (30 s by default) have passed, as OpenTelemetry
 * asks of a flush and a shutdown: a collector that keeps answering 429 with a long `Retry-After`
 * must not hold a process past its grace period. Exports still retrying then go on behind it.
 * (A request's flush in workerd has its own deadline, `flushDeadlineMillis`.)
 */
function bounded(done, options, stopping) {
  // Read once, as a number; what cannot be read or made one is the default, counted.
  const ms = guard(() => {
    const t = options && options.timeoutMillis;
    if (t == null) return t;
    const n = Number(t);
    if (Number.isNaN(n)) throw new TypeError('timeoutMillis is no number');
    return n;
  }) ?? 30000;
  // 0 (or less) is no limit, and so is a time beyond what timers take (`Infinity`).
  if (!(ms > 0) || ms > MAX_TIMER || ownExports) return done;
  let timer;
  const late = new Promise((resolve) => (timer = setTimeout(resolve, ms))).then(() => {
    // A process that shuts down must be free to exit: exports still waiting to retry give up.
    if (stopping && off) {
      givenUp = true;
      waits.forEach((end) => end());
    }
  });
  return Promise.race([done, late]).finally(() => clearTimeout(timer));
}

/**
 * Exports queued spans and log records now. At most two exports are under way at a time: when
 * the collector is slow or down, further batches wait in the bounded queue (spans and records
 * that arrive when it is full are dropped and counted in `diagnostics()`), so memory stays flat. With `{ keepalive: true }` (page hide) the
 * batches are cut to fit the browser's keepalive budget. Resolves when everything queued has
 * been sent and every export under way is answered (or given up); never rejects. After
 * `shutdown()` it sends nothing. With
 * `ownExports` (workerd): at most two of this flush's own exports at a time, and it waits for
 * those only.
 */
export function flush(options) {
  if (off) return Promise.resolve();
  if (settleHook) guard(settleHook);
  return bounded(drain(options), options);
}

/** What records its telemetry when the page is hidden, before that flush: web vitals (vitals.js). */
const hideHooks = [];
export function beforeHide(fn) {
  hideHooks.push(fn);
}

/** Internal: the page is hidden (or going away); what the hooks record goes with the rest. */
export function pageHidden() {
  for (const fn of hideHooks) guard(fn);
  return flush({ keepalive: true });
}

/** What `flush()` ends first: request spans still waiting for their Resource Timing entry (fetch.js). */
let settleHook;
export function onFlush(fn) {
  settleHook = fn;
}

/**
 * Page hide: what the keepalive budget holds goes first (log records, which are few and carry
 * the page's errors and web vitals, get up to half of it before spans; spans then the rest;
 * log records whatever spans left). While the page lives on (a tab switched away from), each
 * round that settles frees the budget for the next, until what was queued at the call has
 * gone: nothing waits for telemetry the page may never record again.
 */
const KEEPALIVE_ROUNDS = [
  ['/v1/logs', true, 0.5],
  ['/v1/traces', false, 1],
  ['/v1/logs', true, 1],
];

async function drainKeepalive() {
  const target = guard(() => taken.map((n, i) => n + inQueue(i)), [0, 0]);
  for (;;) {
    const requests = [];
    guard(() => {
      const budget = KEEPALIVE_BUDGET - keepaliveBytes;
      for (const [path, logs, share] of KEEPALIVE_ROUNDS) {
        let used = 0;
        while (taken[+logs] < target[+logs] && keepaliveCount < MAX_KEEPALIVE_REQUESTS) {
          const left = KEEPALIVE_BUDGET - keepaliveBytes;
          const room = Math.min(left, budget * share - used);
          if (room <= 1024) break;
          const body = take(logs, room, useProtobuf);
          if (body === undefined) break;
          used += body.length;
          // A single item larger than what is left still goes, without keepalive.
          requests.push(send(path, body, body.length <= left));
        }
      }
    });
    if (requests.length === 0) return;
    await Promise.all(requests);
    if (taken[0] >= target[0] && taken[1] >= target[1]) return;
  }
}

async function drain(options) {
  const keepalive = !!guard(() => options && options.keepalive);
  guard(() => {
    if (exportTimer) {
      clearTimeout(exportTimer);
      exportTimer = 0;
    }
  });
  if (keepalive) return drainKeepalive();
  // Drain: start what the free slots allow, wait for those, repeat until the queue is empty
  // (so that `ctx.waitUntil(flush())` covers every batch of a request). With `ownExports` the
  // slots are this flush's own and it never waits for another's exports.
  const protobuf = useProtobuf;
  // A request's flush ends by its deadline; what it could not deliver by then is carried to
  // the next flush, which sends it first.
  const deadline = ownExports ? Date.now() + flushDeadline : undefined;
  const carry = ownExports ? carried.splice(0) : [];
  // What was queued at the call, and no more: telemetry that exports make themselves (an
  // exporter `fetch` that logs or calls a traced URL after an `await`, which only
  // AsyncLocalStorage can tell apart) waits for the next export instead of keeping this flush
  // going for ever.
  const target = guard(() => taken.map((n, i) => n + inQueue(i)), [Infinity, Infinity]);
  for (;;) {
    const started = [];
    guard(() => {
      while (carry.length > 0 && started.length < MAX_INFLIGHT) started.push(sendCarried(carry.shift(), deadline));
      for (const [path, logs] of SIGNALS) {
        while (taken[+logs] < target[+logs] && (ownExports ? started.length : inflight) < MAX_INFLIGHT) {
          const body = take(logs, 0, protobuf);
          if (body === undefined) break;
          started.push(send(path, body, false, deadline));
        }
      }
    });
    const awaited = started.length > 0 || ownExports ? started : [...pending];
    if (awaited.length === 0) return;
    await Promise.all(awaited);
    // Only other exports were waited for: once they carry all of it, so is this flush done.
    if (started.length === 0 && ((taken[0] >= target[0] && taken[1] >= target[1]) || !guard(queued, 0))) return;
  }
}

/** Counters of what the SDK dropped or could not do. */
export function diagnostics() {
  return guard(() => {
    const out = { exportsBlockedByCsp: cspBlocked, logsTruncated: truncated };
    if (broken) {
      for (const name of DIAGNOSTIC_NAMES) out[name] = 0;
      out.disabled = broken;
      return out;
    }
    flushRecords();
    core.diagnostics();
    opsViews();
    // The core leaves the counters as f64s after the ended span's ids (see `Ops` in sdk/src/js.rs).
    DIAGNOSTIC_NAMES.forEach((name, i) => (out[name] = opsView.getFloat64(endedBase + 32 + 8 * i, true)));
    return out;
  }, {});
}
