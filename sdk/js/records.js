// Spans recorded in JavaScript and encoded per batch in wasm (ADR 0011), for the entries where
// the cost of a span matters more than the download (Node and Deno, whose module, `edgescope_node_bg.wasm`,
// has the `spanRecords` export): `installRecords()` hands them to api.js.
import * as core from './core.js';
import { internId, internedKeys as keys, useRecords } from './api.js';

const encoder = new TextEncoder();

/**
 * Spans recorded in JavaScript (ADR 0011). A span started with no explicit parent, whose parent
 * is none or another such span, lives in its `Span` object: ids drawn here, the sampling
 * decision made here, attributes kept in an array. When it ends, a sampled span is written as
 * one record (the format is in sdk/src/sdk/records.rs) into `recBytes`; a batch of records
 * crosses into wasm at once (`flushRecords`), where redaction, the value-length limit and the
 * OTLP encoding are applied as for a span the core recorded. What the core must know about (an
 * event, a link, a status, being made active, a log record's span) hands the open span over to
 * the core first (`adopt`), after which it is a core span like any other.
 *
 * The sampler's rule, as `configure` last set it.
 */
const rec = {
  /** The sampler for spans without a parent: 0 keeps none, 1 all, 2 by the trace id's randomness. */
  root: 1,
  /** Children follow their parent's sampled flag. */
  parentBased: true,
  /** The ratio sampler's threshold over the trace id's rightmost 56 bits, in 24 + 32 bits. */
  hi: 0,
  lo: 0,
  /** The core's queue size (`Config::max_queue_size`): more ended spans than it holds are not kept here. */
  queue: 2048,
};

/** The core's `Sampler::from_name` (sdk/src/sampler.rs) as `rec` fields; unknown names are the default. */
function samplerRule(name, arg) {
  let ratio = arg >= 0 && arg <= 1 ? arg : 1;
  const rules = {
    always_on: [1, false],
    always_off: [0, false],
    traceidratio: [2, false],
    parentbased_always_on: [1, true],
    parentbased_always_off: [0, true],
    parentbased_traceidratio: [2, true],
  };
  const key = name.replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, '');
  // Own names only: `constructor` or `toString` is an unknown sampler, not an Object property.
  const [root, parentBased] = Object.hasOwn(rules, key) ? rules[key] : [1, true];
  rec.parentBased = parentBased;
  rec.root = root;
  if (root === 2) {
    if (ratio >= 1) rec.root = 1;
    else if (!(ratio > 0)) rec.root = 0;
    // The core's `((1 - ratio) * 2^56) as u64`: exact in f64, then split.
    const t = Math.floor((1 - ratio) * 2 ** 56);
    rec.hi = Math.floor(t / 2 ** 32);
    rec.lo = t - rec.hi * 2 ** 32;
  }
}

/** Whether a new trace with the id words `ids` (little-endian) is sampled by the root sampler. */
function sampleRoot(ids) {
  if (rec.root !== 2) return rec.root === 1;
  // Bytes 9..16 of the id, big-endian, against the threshold.
  const hi = (((ids[2] >>> 8) & 255) << 16) | (((ids[2] >>> 16) & 255) << 8) | (ids[2] >>> 24);
  const lo = (((ids[3] & 255) << 24) | ((ids[3] >>> 8 & 255) << 16) | ((ids[3] >>> 16 & 255) << 8) | (ids[3] >>> 24)) >>> 0;
  return hi > rec.hi || (hi === rec.hi && lo >= rec.lo);
}

/**
 * Ids (as signed 32-bit words) from xoshiro128++, seeded with the host's cryptographic randomness on first use (inside a
 * request on workerd) and again every 2^17 draws, as the core's generator is (ADR 0009).
 */
// The state lives in a typed array: 32-bit values in module variables would each be a new heap
// number on every store.
const xo = new Int32Array(4);
let draws = 0;
function random() {
  if (draws === 0) {
    crypto.getRandomValues(xo);
    if ((xo[0] | xo[1] | xo[2] | xo[3]) === 0) xo[0] = 1;
    draws = 131072;
  }
  draws--;
  const a = xo[0];
  const b = xo[1];
  const c = xo[2] ^ a;
  const d = xo[3] ^ b;
  const sum = (a + xo[3]) | 0;
  xo[0] = a ^ d;
  xo[1] = b ^ c;
  xo[2] = c ^ (b << 9);
  xo[3] = (d << 11) | (d >>> 21);
  // Signed: a 32-bit value above 2^31 would be a heap number in the ids' array.
  return (((sum << 7) | (sum >>> 25)) + a) | 0;
}

/**
 * Unix milliseconds of a `performance.now()` reading, by the core's rule
 * (`platform::unix_nanos_at`): anchored at `performance.timeOrigin`, checked against
 * `Date.now()` at most every 20 ms and re-anchored when they differ by more than a second.
 */
let anchor = NaN;
/** `performance`, read once: in Node the global is a getter, a few nanoseconds a read. */
let clock;
let checked = -Infinity;
function unixMs(perf) {
  let ms = anchor + perf;
  if (anchor !== anchor || perf - checked >= 20) {
    checked = perf;
    const wall = Date.now();
    if (anchor !== anchor) {
      const origin = performance.timeOrigin;
      anchor = origin > 0 ? origin : wall - perf;
    }
    ms = anchor + perf;
    if (Math.abs(ms - wall) > 1000) {
      anchor = wall - perf;
      ms = wall;
    }
  }
  return ms;
}

/** Attributes a span keeps (the core's `Config::max_attributes`); more are dropped and counted. */
const MAX_ATTRIBUTES = 128;
/** Attributes every new span gets (`session.id`, `user.id`), as the core's common attributes. */
const common = new Map();

/** Ended spans' records, waiting to cross into wasm as one batch. */
let recBytes = new Uint8Array(65536);
let recView = new DataView(recBytes.buffer);
let recAt = 0;
let recCount = 0;

/** The bytes of a record value (see records.rs); `${v}`: see `valueSize` in core.js. */
function recValueSize(v) {
  if (typeof v === 'string') return 5 + 3 * `${v}`.length;
  if (typeof v === 'number') return 9;
  if (typeof v === 'boolean') return 2;
  if (v === null) return 1;
  let n = 5;
  for (let i = 0; i < v.length; i++) n += recValueSize(v[i]);
  return n;
}

/** Writes `s` as UTF-8 after its u32 length at `at`; returns the offset after it. */
function recText(s, at) {
  const n = s.length;
  const start = at + 4;
  let i = 0;
  // ASCII by hand (faster for short strings), the rest through `encodeInto`.
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) break;
    recBytes[start + i] = c;
  }
  let written = i;
  if (i < n) written += encoder.encodeInto(s.slice(i), recBytes.subarray(start + i, start + 3 * n)).written;
  recView.setUint32(at, written, true);
  return start + written;
}

function recValue(v, at) {
  if (typeof v === 'string') {
    recBytes[at] = 0;
    return recText(v, at + 1);
  }
  if (typeof v === 'number') {
    recBytes[at] = 1;
    recView.setFloat64(at + 1, v, true);
    return at + 9;
  }
  if (typeof v === 'boolean') {
    recBytes[at] = 2;
    recBytes[at + 1] = v ? 1 : 0;
    return at + 2;
  }
  if (v === null) {
    recBytes[at] = 7;
    return at + 1;
  }
  recBytes[at] = 3;
  recView.setUint32(at + 1, v.length, true);
  at += 5;
  for (let i = 0; i < v.length; i++) at = recValue(v[i], at);
  return at;
}

/** Writes the ended span `span` as a record, ended at `end` (Unix ms). */
function writeRecord(span, end) {
  const a = span._a;
  const name = span._name;
  let need = 72 + 3 * name.length;
  for (let i = 0; i < a.length; i += 2) need += 4 + recValueSize(a[i + 1]);
  if (recAt + need > recBytes.length) {
    let size = recBytes.length;
    while (recAt + need > size) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(recBytes.subarray(0, recAt));
    recBytes = grown;
    recView = new DataView(grown.buffer);
  }
  const v = recView;
  const start = recAt;
  const ids = span._ids;
  for (let i = 0; i < 6; i++) v.setInt32(start + 4 + 4 * i, ids[i], true);
  v.setInt32(start + 28, ids[7], true);
  v.setInt32(start + 32, ids[8], true);
  v.setUint32(start + 36, ids[6] | 0x100, true);
  v.setUint32(start + 40, span._kind, true);
  v.setFloat64(start + 44, ids[9], true);
  v.setFloat64(start + 52, end, true);
  let at = recText(name, start + 60);
  v.setUint32(at, a.length >> 1, true);
  v.setUint32(at + 4, span._drop, true);
  at += 8;
  for (let i = 0; i < a.length; i += 2) {
    v.setUint32(at, a[i], true);
    at = recValue(a[i + 1], at + 4);
  }
  v.setUint32(start, at - start, true);
  recAt = at;
  recCount++;
}

/** Hands the ended spans' records to the core; returns the core's queued count (`undefined` when there are none). */
function flushRecords() {
  if (recCount === 0) return undefined;
  const queued = core.raw('spanRecords', recBytes.subarray(0, recAt), undefined);
  recAt = 0;
  recCount = 0;
  // A batch of very long values does not keep its buffer.
  if (recBytes.length > 1 << 20) {
    recBytes = new Uint8Array(65536);
    recView = new DataView(recBytes.buffer);
  }
  return queued;
}

/**
 * An attribute value as a span records it: arrays copied, with `null` for their items that are
 * none (`null`, holes, nested arrays, values of other types), so that the others keep their
 * indices; `undefined` for none.
 */
function attributeValue(v) {
  const type = typeof v;
  if (type === 'string' || type === 'number' || type === 'boolean') return v;
  if (!Array.isArray(v) || v.length > core.MAX_ARRAY) return undefined;
  const out = new Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const item = v[i];
    const t = typeof item;
    out[i] = t === 'string' || t === 'number' || t === 'boolean' ? item : null;
  }
  return out;
}

function isPlain(v) {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Sets `key` = `value` on a span recorded in JavaScript, as the core's `set_attribute` does. */
function recordAttribute(span, key, value) {
  const v = attributeValue(value);
  // A map (a plain object) or bytes: the core keeps the span from now on. Other objects are no value.
  const handed = v === undefined && (value instanceof Uint8Array || isPlain(value));
  if (v === undefined && !handed) return core.trouble(1);
  if (span._j === 2) return core.trouble(4);
  const a = span._a;
  if (a === null) return;
  if (handed) return core.spanAttr(adopt(span), key, value);
  const k = internId(key);
  if (k < 0) return core.spanAttr(adopt(span), key, v);
  for (let i = 0; i < a.length; i += 2) {
    if (a[i] === k) {
      a[i + 1] = v;
      return;
    }
  }
  if (a.length >= 2 * MAX_ATTRIBUTES) {
    span._drop++;
    return core.trouble(5);
  }
  a.push(k, v);
}

/** Starts a span recorded in JavaScript under `parent` (such a span, or none), at `start` (Unix ms; 0 for now). */
function recordSpan(span, name, kind, parent, start) {
  const now = start || unixMs((clock ??= performance).now());
  let ids;
  let sampled;
  let flags;
  if (parent) {
    const p = parent._ids;
    ids = [p[0], p[1], p[2], p[3], random(), random(), 0, p[4], p[5], now];
    sampled = rec.parentBased ? (p[6] & 1) === 1 : sampleRoot(p);
    // Only the sampled flag may change; the random flag describes the trace id.
    flags = p[6] & ~1;
  } else {
    ids = [random(), random(), random(), random(), random(), random(), 0, 0, 0, now];
    while ((ids[0] | ids[1] | ids[2] | ids[3]) === 0) ids[0] = random();
    sampled = sampleRoot(ids);
    flags = 2;
  }
  while ((ids[4] | ids[5]) === 0) ids[4] = random();
  ids[6] = flags | (sampled ? 1 : 0);
  span._ids = ids;
  span._j = 1;
  span._ts = null;
  span._name = name;
  span._kind = kind;
  if (sampled) {
    span._a = [];
    if (common.size > 0) for (const [key, value] of common) recordAttribute(span, key, value);
  }
  return span;
}

/**
 * The core's handle of the span recorded here, `span`, handed over to the core while open (its
 * attributes follow): from then on it is a core span. 0 (counted as a stale handle) for one that
 * already ended.
 */
function adopt(span) {
  if (span._j === 2) {
    core.trouble(4);
    return 0;
  }
  const ids = new Uint8Array(32);
  const v = new DataView(ids.buffer);
  for (let i = 0; i < 6; i++) v.setInt32(4 * i, span._ids[i], true);
  v.setInt32(24, span._ids[7], true);
  v.setInt32(28, span._ids[8], true);
  const h = core.raw('spanAdopt', ids, span._name, span._kind, span._ids[6], span._ids[9], span._drop);
  const a = span._a;
  span._j = 0;
  span._h = h;
  span._a = null;
  if (a !== null) for (let i = 0; i < a.length; i += 2) core.spanAttr(h, keys[a[i]], a[i + 1]);
  return h;
}

/**
 * Ends `span` at `at` (Unix ms; 0 for now): its record is written (sampled spans); returns the core's queued count when a full
 * batch (or as many records as the core's queue holds, which bounds the memory they take) went
 * to the core, -1 when not, `undefined` for a span that was not open.
 */
function end(span, batchSize, at) {
  if (span._j === 2) {
    core.trouble(4);
    return undefined;
  }
  span._j = 2;
  if (span._a === null) return undefined;
  // The encoder keeps the end from coming before the start.
  writeRecord(span, at || unixMs((clock ??= performance).now()));
  span._a = null;
  return recCount >= batchSize || recCount >= rec.queue ? flushRecords() : -1;
}

/** Records spans of the JavaScript API here from now on, when the module encodes records (the Node/Deno one). */
export function installRecords() {
  if (!core.has('spanRecords')) return;
  const recorder = {
    /** Whether spans are recorded here (not under `keepErrors`); a plain field, read per span. */
    on: false,
    start: recordSpan,
    attribute: recordAttribute,
    end,
    adopt,
    flush: flushRecords,
    count: () => recCount,
    configure(sampler, arg, keepErrors, maxQueueSize) {
      // A new core starts without common attributes.
      common.clear();
      recorder.on = !keepErrors;
      samplerRule(sampler, arg);
      // As the core reads it (a `u32`; 0 for the default).
      rec.queue = maxQueueSize >>> 0 || 2048;
    },
    common(key, value) {
      common.delete(key);
      if (value !== undefined) common.set(key, value);
    },
  };
  useRecords(recorder);
}
