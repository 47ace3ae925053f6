// The wasm core's JavaScript side (ADR 0010): instantiates the module and offers the functions
// its exports stand for (the same names and arguments wasm-bindgen's generated glue had), with
// no glue of wasm-bindgen's. Numbers cross as they are; strings are written as UTF-8 into the
// module's scratch buffer and cross as a pointer and a length (-1 for a missing one); strings
// and bytes that come back are read where the module left them (see sdk/src/js/raw.rs).

let wasm;
let bytes = new Uint8Array(0);
let view;
/** The scratch buffer's address and size, and where the next argument goes. */
let base = 0;
let room = 0;
let at = 0;
/** The byte length of the string `put` wrote last (-1 for none). */
let len = 0;
/** Where the module leaves the address of its last string or byte result. */
let resultAt = 0;
/** The attribute queue's address in wasm memory (see `queueAttr`) and its size. */
let ops = 0;
const OPS_CAPACITY = 8192;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Up-to-date views of wasm memory (growing it detaches the old ones, whose length becomes 0). */
function memory() {
  if (bytes.byteLength === 0) {
    bytes = new Uint8Array(wasm.memory.buffer);
    view = new DataView(wasm.memory.buffer);
  }
}

/** Makes room for `n` bytes of arguments (at most three per UTF-16 unit) and starts writing at the scratch buffer's start. */
function args(n) {
  if (n > room) {
    base = wasm.scratch(n);
    room = n;
  }
  at = base;
  memory();
}

/**
 * Writes `s` (a string, or null/undefined for none) at the cursor; returns its address and
 * leaves its byte length in `len`. Anything else throws, as wasm-bindgen's glue did, for the
 * caller's guard to count.
 */
function put(s) {
  if (s == null) {
    len = -1;
    return 0;
  }
  if (typeof s !== 'string') throw new TypeError('edgescope: not a string');
  const p = at;
  // ASCII by hand: short keys and values are most strings here, and `encodeInto` (with the
  // `subarray` it needs) costs more than the copy for them. The rest goes through it.
  const n = s.length;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) break;
    bytes[p + i] = c;
  }
  len = i < n ? i + encoder.encodeInto(s.slice(i), bytes.subarray(p + i, p + 3 * n)).written : n;
  at += len;
  return p;
}

/** The room strings need (three bytes per UTF-16 unit). */
const size = (...s) => s.reduce((n, x) => n + (typeof x === 'string' ? 3 * x.length : 0), 0);

/** The module's last result of `n` bytes as a string (`undefined` for -1). */
function text(n) {
  if (n < 0) return undefined;
  memory();
  const p = view.getUint32(resultAt, true);
  return decoder.decode(bytes.subarray(p, p + n));
}

/** A map value read once from a plain object (`normalize`): its keys and values, in order. */
class Entries {
  constructor() {
    this.k = [];
    this.v = [];
  }
}

/** Values a map may hold in all, and how deep maps may nest (a cyclic object ends there). */
const MAX_VALUES = 1024;
const MAX_DEPTH = 8;
let budget = 0;

/**
 * `v` with plain objects read into `Entries` (each getter called once, so measuring and writing
 * see the same values; an `Entries` is kept as it is): at most 8 maps deep and 1,024 values in all; what goes beyond, and
 * objects that are not plain, arrays or `Uint8Array`s, are left out.
 */
export function normalize(v) {
  if (v instanceof Entries || v instanceof Double) return v;
  budget = MAX_VALUES;
  return plain(v, 0, '');
}

/**
 * The app's `redact(key, value)` (as api.js's `hooked`: a rule that throws costs its text), which
 * strings inside maps pass through under their own keys, and those of an array in a map under the array's.
 */
let hook;
export function useRedactHook(fn) {
  hook = fn;
}

function plain(v, depth, key) {
  const t = typeof v;
  if (--budget < 0) return undefined;
  if (t === 'string') return hook && depth > 0 ? hook(key, v) : v;
  if (t === 'number' || t === 'boolean') return v;
  if (t !== 'object' || v === null || depth > MAX_DEPTH) return undefined;
  if (Array.isArray(v)) {
    if (v.length > MAX_ARRAY) return undefined;
    return hook && depth > 0 ? v.map((x) => (typeof x === 'string' ? hook(key, x) : x)) : v;
  }
  if (v instanceof Uint8Array) return v;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const e = new Entries();
  for (const key of Object.keys(v)) {
    const x = plain(v[key], depth + 1, key);
    if (x !== undefined) {
      e.k.push(key);
      e.v.push(x);
    }
  }
  return e;
}

/** A number kept as an OTLP double even when it is whole (a measurement: a web vital's value). */
export class Double {
  constructor(v) {
    this.v = v;
  }
}

/**
 * Items an array attribute value may have: a longer array is no value (ignored and counted), so
 * that a sparse one (`a.length = 2 ** 32 - 1`) costs no loop over its holes.
 */
export const MAX_ARRAY = 1 << 20;

/** The bytes of a typed attribute value (see `putValue`), or -1 when it is none. */
function valueSize(v) {
  // `${v}`, not `v`: Node 20's optimising compiler, with this inlined into `setAttribute`,
  // loaded `v.length` before checking that `v` was a string, and crashed on a number.
  if (typeof v === 'string') return 5 + 3 * `${v}`.length;
  if (typeof v === 'number' || v instanceof Double) return 9;
  if (typeof v === 'boolean') return 2;
  if (v instanceof Uint8Array) return 5 + v.length;
  if (v instanceof Entries) {
    let n = 5;
    for (let i = 0; i < v.k.length; i++) n += 4 + 3 * v.k[i].length + valueSize(v.v[i]);
    return n;
  }
  if (!Array.isArray(v) || v.length > MAX_ARRAY) return -1;
  let n = 5;
  // `null`, holes and items that are no values (nested arrays, objects) are empty items (one
  // byte), so that the items after them keep their indices, as OpenTelemetry asks.
  for (let i = 0; i < v.length; i++) n += Array.isArray(v[i]) ? 1 : Math.max(1, valueSize(v[i]));
  return n;
}

/** Writes a typed value at the cursor (see `value` in sdk/src/js/raw.rs). */
function putValue(v) {
  if (typeof v === 'string') {
    bytes[at] = 0;
    at += 5;
    view.setUint32(put(v) - 4, len, true);
  } else if (typeof v === 'number') {
    bytes[at] = 1;
    view.setFloat64(at + 1, v, true);
    at += 9;
  } else if (typeof v === 'boolean') {
    bytes[at] = 2;
    bytes[at + 1] = v ? 1 : 0;
    at += 2;
  } else if (v instanceof Double) {
    bytes[at] = 6;
    view.setFloat64(at + 1, v.v, true);
    at += 9;
  } else if (v instanceof Uint8Array) {
    bytes[at] = 4;
    view.setUint32(at + 1, v.length, true);
    bytes.set(v, at + 5);
    at += 5 + v.length;
  } else if (v instanceof Entries) {
    bytes[at] = 5;
    view.setUint32(at + 1, v.k.length, true);
    at += 5;
    for (let i = 0; i < v.k.length; i++) {
      at += 4;
      view.setUint32(put(v.k[i]) - 4, len, true);
      putValue(v.v[i]);
    }
  } else {
    bytes[at] = 3;
    view.setUint32(at + 1, v.length, true);
    at += 5;
    for (let i = 0; i < v.length; i++) {
      if (!Array.isArray(v[i]) && valueSize(v[i]) >= 0) putValue(v[i]);
      else bytes[at++] = 7;
    }
  }
}

/** `key` and a typed `value` at the cursor: the four numbers of the `attr` and `spanAttr` exports. */
function keyValue(key, value) {
  if (typeof value === 'object') value = normalize(value);
  const n = valueSize(value);
  args(size(key) + Math.max(0, n));
  const k = put(key);
  const kl = len;
  if (n < 0) return [k, kl, 0, -1];
  const v = at;
  putValue(value);
  return [k, kl, v, at - v];
}

/**
 * Queues the attribute `k` (an interned key) = `value` for span handle `h` in wasm memory
 * instead of calling into wasm (see `Ops` in sdk/src/js.rs): the next call into the core,
 * usually `spanEnd`, applies the queue first. False when `value` is no attribute value or does
 * not fit (a very long string), for the caller to send it with a call of its own.
 */
export function queueAttr(h, k, value) {
  const n = 8 + valueSize(value);
  if (n < 8 || n > OPS_CAPACITY - 4) return false;
  memory();
  let used = view.getUint32(ops, true);
  if (used + n > OPS_CAPACITY - 4) {
    wasm.flushOps();
    memory();
    used = 0;
  }
  const p = ops + 4 + used;
  view.setUint32(p, h, true);
  view.setUint32(p + 4, k, true);
  at = p + 8;
  putValue(value);
  view.setUint32(ops, at - ops - 4, true);
  return true;
}

const imports = {
  edgescope: {
    now: () => performance.now(),
    dateNow: () => Date.now(),
    timeOrigin: () => performance.timeOrigin,
    random(p, n) {
      memory();
      crypto.getRandomValues(bytes.subarray(p, p + n));
    },
    number(v, p) {
      memory();
      return encoder.encodeInto(String(v), bytes.subarray(p, p + 32)).written;
    },
  },
};

// The exports that take and return numbers only are the module's own functions.
export let activate, activeSpan, deactivate, diagnostics, encodesJson, opsBuffer, queued, retryDelay, spanEnd, spanStartK, trouble;

/** Instantiates the module (a `WebAssembly.Module`, or its bytes) once; later calls do nothing. */
export function initSync({ module }) {
  if (wasm) return;
  wasm = new WebAssembly.Instance(module instanceof WebAssembly.Module ? module : new WebAssembly.Module(module), imports).exports;
  ({ activate, activeSpan, deactivate, diagnostics, encodesJson, opsBuffer, queued, retryDelay, spanEnd, spanStartK, trouble } = wasm);
  resultAt = wasm.resultAt();
  ops = opsBuffer();
}

/** The module's `WebAssembly.Memory`, for api.js to read the numbers the core leaves there. */
export const wasmMemory = () => wasm.memory;

export function intern(s) {
  args(size(s));
  return wasm.intern(put(s), len);
}

export function configure(serviceName, maxQueueSize, maxExportBatchSize, sampler, samplerArg, keepErrors, maxAttributeValueLength) {
  args(size(serviceName, sampler));
  return wasm.configure(put(serviceName), len, maxQueueSize, maxExportBatchSize, put(sampler), len, samplerArg, keepErrors, maxAttributeValueLength) !== 0;
}

export function setCommon(key, value) {
  args(size(key, value));
  wasm.setCommon(put(key), len, put(value), len);
}

export function setRedaction(enabled, extraParams) {
  args(size(extraParams));
  wasm.setRedaction(enabled, put(extraParams), len);
}

export function attr(key, value) {
  wasm.attr(...keyValue(key, value));
}

export function spanAttr(span, key, value) {
  wasm.spanAttr(span, ...keyValue(key, value));
}

export function spanStart(name, kind, parent, useActive, traceparent, tracestate, startMs) {
  args(size(name, traceparent, tracestate));
  return wasm.spanStart(put(name), len, kind, parent, useActive, put(traceparent), len, put(tracestate), len, startMs);
}

export function useScope(name, version) {
  args(size(name, version));
  return wasm.useScope(put(name), len, put(version), len);
}

export function spanStatus(span, code, message) {
  args(size(message));
  wasm.spanStatus(span, code, put(message), len);
}

export function spanName(span, name) {
  args(size(name));
  wasm.spanName(span, put(name), len);
}

export const header = (which, span) => text(wasm.header(which, span));

/** Whether the module has the export `name` (records.js: the Node/Deno module's `spanRecords`). */
export const has = (name) => typeof wasm[name] === 'function';

/**
 * Calls the export `name` with `data` (bytes) and `s` (a string or undefined) written to the
 * scratch buffer: its arguments are their addresses and lengths, then `rest` (records.js).
 */
export function raw(name, data, s, ...rest) {
  args(data.length + size(s));
  bytes.set(data, base);
  at += data.length;
  const p = put(s);
  return wasm[name](base, data.length, p, len, ...rest);
}

export function spanEvent(span, name, timeMs) {
  args(size(name));
  wasm.spanEvent(span, put(name), len, timeMs);
}

/**
 * Records a log line; its body is cut to `max` bytes at a character boundary by the core, after
 * redaction (which sees the whole message). True when it was cut.
 */
export function log(severity, message, span, ended, eventName = '', max) {
  args(size(message, ended, eventName));
  return wasm.log(severity, put(message), len, span, put(ended), len, put(eventName), len, max) !== 0;
}

export function spanException(span, kind, message, stacktrace, timeMs) {
  args(size(kind, message, stacktrace));
  wasm.spanException(span, put(kind), len, put(message), len, put(stacktrace), len, timeMs);
}

export function spanLink(span, traceparent, tracestate, local) {
  args(size(traceparent, tracestate));
  return wasm.spanLink(span, put(traceparent), len, put(tracestate), len, local ? 1 : 0) !== 0;
}

export function baggageSet(key, value, properties = '') {
  args(size(key, value, properties));
  const k = put(key);
  const kl = len;
  const v = put(value);
  const vl = len;
  return wasm.baggageSet(k, kl, v, vl, put(properties), len) !== 0;
}

export function baggageRemove(key) {
  args(size(key));
  wasm.baggageRemove(put(key), len);
}

export function baggageParse(header) {
  args(size(header));
  return wasm.baggageParse(put(header), len);
}

export function parseTraceparent(header) {
  args(size(header));
  return text(wasm.parseTraceparent(put(header), len));
}

export function parseTracestate(header) {
  args(size(header));
  return text(wasm.parseTracestate(put(header), len));
}

/** One batch as OTLP bytes (a copy), or `undefined` when none is queued. */
export function take(logs, maxBytes, protobuf) {
  const n = wasm.take(logs, maxBytes, protobuf);
  if (n < 0) return undefined;
  memory();
  const p = view.getUint32(resultAt, true);
  return bytes.slice(p, p + n);
}
