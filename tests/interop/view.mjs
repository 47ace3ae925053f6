// One plain view of spans and log records, so that what an OpenTelemetry SDK held can be
// compared with what the collector's query API returns: OTLP/JSON field names, ids in lower-case
// hex, times as decimal strings of nanoseconds, attributes as objects keyed by name (OTLP
// attributes are a map, so their order is not compared) and every value typed as OTLP's AnyValue
// types it. An int that came back as a double, a time rounded to microseconds or a dropped
// count that went missing makes two views differ. python_exporter.py writes the same view.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { getJson, root } from '../support.mjs';

// ---- The collector's answers (OTLP/JSON) ----

function anyValue(v) {
  if (v === undefined || v === null) return null;
  if ('stringValue' in v) return { stringValue: v.stringValue };
  if ('boolValue' in v) return { boolValue: v.boolValue };
  // OTLP/JSON writes int64 as a decimal string; a number here would already have lost digits.
  if ('intValue' in v) return { intValue: typeof v.intValue === 'string' ? v.intValue : `number ${v.intValue}` };
  if ('doubleValue' in v) return { doubleValue: v.doubleValue };
  if ('bytesValue' in v) return { bytesValue: v.bytesValue };
  if ('arrayValue' in v) return { arrayValue: (v.arrayValue.values ?? []).map(anyValue) };
  if ('kvlistValue' in v) return { kvlistValue: attributes(v.kvlistValue.values) };
  return null;
}

function attributes(list = []) {
  return Object.fromEntries(list.map((kv) => [kv.key, anyValue(kv.value)]));
}

const resourceOf = (r, schemaUrl) => ({ attributes: attributes(r?.attributes), droppedAttributesCount: r?.droppedAttributesCount ?? 0, schemaUrl: schemaUrl ?? '' });
const scopeOf = (s, schemaUrl) => ({ name: s?.name ?? '', version: s?.version ?? '', attributes: attributes(s?.attributes), schemaUrl: schemaUrl ?? '' });

/** The spans of `{"result": TracesData}` in the common view, sorted by start time then id. */
export function spansFromOtlpJson(doc) {
  const out = [];
  for (const rs of doc.result.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          resource: resourceOf(rs.resource, rs.schemaUrl),
          scope: scopeOf(ss.scope, ss.schemaUrl),
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? '',
          traceState: s.traceState ?? '',
          flags: s.flags ?? 0,
          name: s.name,
          kind: s.kind ?? 0,
          startTimeUnixNano: s.startTimeUnixNano,
          endTimeUnixNano: s.endTimeUnixNano,
          attributes: attributes(s.attributes),
          droppedAttributesCount: s.droppedAttributesCount ?? 0,
          events: (s.events ?? []).map((e) => ({
            name: e.name,
            timeUnixNano: e.timeUnixNano,
            attributes: attributes(e.attributes),
            droppedAttributesCount: e.droppedAttributesCount ?? 0,
          })),
          droppedEventsCount: s.droppedEventsCount ?? 0,
          links: (s.links ?? []).map((l) => ({
            traceId: l.traceId,
            spanId: l.spanId,
            traceState: l.traceState ?? '',
            flags: l.flags ?? 0,
            attributes: attributes(l.attributes),
            droppedAttributesCount: l.droppedAttributesCount ?? 0,
          })),
          droppedLinksCount: s.droppedLinksCount ?? 0,
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
        });
      }
    }
  }
  return sortSpans(out);
}

/** The log records of `{"result": LogsData}` in the common view, sorted by time. */
export function logsFromOtlpJson(doc) {
  const out = [];
  for (const rl of doc.result.resourceLogs ?? []) {
    for (const sl of rl.scopeLogs ?? []) {
      for (const r of sl.logRecords ?? []) {
        out.push({
          resource: resourceOf(rl.resource, rl.schemaUrl),
          scope: scopeOf(sl.scope, sl.schemaUrl),
          timeUnixNano: r.timeUnixNano ?? '0',
          observedTimeUnixNano: r.observedTimeUnixNano ?? '0',
          severityNumber: r.severityNumber ?? 0,
          severityText: r.severityText ?? '',
          body: anyValue(r.body),
          attributes: attributes(r.attributes),
          droppedAttributesCount: r.droppedAttributesCount ?? 0,
          flags: r.flags ?? 0,
          traceId: r.traceId ?? '',
          spanId: r.spanId ?? '',
          eventName: r.eventName ?? '',
        });
      }
    }
  }
  return sortLogs(out);
}

export const sortSpans = (spans) =>
  spans.sort((a, b) => cmpNanos(a.startTimeUnixNano, b.startTimeUnixNano) || a.spanId.localeCompare(b.spanId));
export const sortLogs = (logs) =>
  logs.sort((a, b) => cmpNanos(a.timeUnixNano, b.timeUnixNano) || a.severityNumber - b.severityNumber);
const cmpNanos = (a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

/** Every span of a trace, as the collector's Jaeger-shaped API returns it. */
export async function storedSpans(collector, traceId) {
  return spansFromOtlpJson(await getJson(`${collector.ui}/api/v3/traces/${traceId}`));
}

/** The log records the collector returns, all of them or those of one trace. */
export async function storedLogs(collector, traceId) {
  const query = traceId ? `?trace_id=${traceId}` : '';
  return logsFromOtlpJson(await getJson(`${collector.ui}/api/logs${query}`));
}

// ---- The OpenTelemetry JS SDK's own records ----

/** A JS attribute value typed as the JS exporters type it (`toAnyValue` in otlp-transformer). */
export function jsValue(v) {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  if (v instanceof Uint8Array) return { bytesValue: Buffer.from(v).toString('base64') };
  if (Array.isArray(v)) return { arrayValue: v.map(jsValue) };
  return { kvlistValue: jsAttributes(v) };
}

const jsAttributes = (attrs = {}) => Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, jsValue(v)]));

/** An `HrTime` (`[seconds, nanoseconds]`) as decimal nanoseconds, exactly. */
export const hrNanos = ([s, ns]) => (BigInt(s) * 1_000_000_000n + BigInt(ns)).toString();

// The OTLP span flags: W3C trace flags in the low byte, then "is_remote is known" (0x100) and
// "the parent is remote" (0x200), as the JS exporters fill them.
const jsFlags = (traceFlags, isRemote) => (traceFlags & 0xff) | 0x100 | (isRemote ? 0x200 : 0);

const jsResource = (r) => ({ attributes: jsAttributes(r.attributes), droppedAttributesCount: 0, schemaUrl: r.schemaUrl ?? '' });
const jsScope = (s) => ({ name: s.name, version: s.version ?? '', attributes: {}, schemaUrl: s.schemaUrl ?? '' });

/** A JS SDK `ReadableSpan` in the common view. */
export function jsSpan(span) {
  const ctx = span.spanContext();
  return {
    resource: jsResource(span.resource),
    scope: jsScope(span.instrumentationScope),
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? '',
    traceState: ctx.traceState?.serialize() ?? '',
    flags: jsFlags(ctx.traceFlags, span.parentSpanContext?.isRemote),
    name: span.name,
    kind: span.kind + 1, // the API has no "unspecified", OTLP's 0
    startTimeUnixNano: hrNanos(span.startTime),
    endTimeUnixNano: hrNanos(span.endTime),
    attributes: jsAttributes(span.attributes),
    droppedAttributesCount: span.droppedAttributesCount,
    events: span.events.map((e) => ({
      name: e.name,
      timeUnixNano: hrNanos(e.time),
      attributes: jsAttributes(e.attributes),
      droppedAttributesCount: e.droppedAttributesCount ?? 0,
    })),
    droppedEventsCount: span.droppedEventsCount,
    links: span.links.map((l) => ({
      traceId: l.context.traceId,
      spanId: l.context.spanId,
      traceState: l.context.traceState?.serialize() ?? '',
      flags: jsFlags(l.context.traceFlags, l.context.isRemote),
      attributes: jsAttributes(l.attributes),
      droppedAttributesCount: l.droppedAttributesCount ?? 0,
    })),
    droppedLinksCount: span.droppedLinksCount,
    status: { code: span.status.code, message: span.status.message ?? '' },
  };
}

/** A JS SDK `ReadableLogRecord` in the common view. */
export function jsLog(r) {
  return {
    resource: jsResource(r.resource),
    scope: jsScope(r.instrumentationScope),
    timeUnixNano: hrNanos(r.hrTime),
    observedTimeUnixNano: hrNanos(r.hrTimeObserved),
    severityNumber: r.severityNumber ?? 0,
    severityText: r.severityText ?? '',
    body: jsValue(r.body),
    attributes: jsAttributes(r.attributes),
    droppedAttributesCount: r.droppedAttributesCount,
    flags: r.spanContext?.traceFlags ?? 0,
    traceId: r.spanContext?.traceId ?? '',
    spanId: r.spanContext?.spanId ?? '',
    eventName: r.eventName ?? '',
  };
}

// ---- The OpenTelemetry Python SDK, run as a child process ----

export const venvPython = join(root, 'target', 'interop-venv', 'bin', 'python');

/**
 * Runs python_exporter.py against `otlp` with `protocol` (`protobuf` or `json`) and resolves to
 * the view it prints. Killed after `timeout` ms.
 */
export function runPythonExporter(otlp, protocol, timeout = 60000) {
  if (!existsSync(venvPython)) {
    throw new Error(`no ${venvPython}: run \`bash scripts/setup.sh\` to create the interop virtualenv`);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(venvPython, [join(root, 'tests', 'interop', 'python_exporter.py'), otlp, protocol], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', OTEL_SDK_DISABLED: 'false' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`python_exporter.py ${protocol} exited with ${code ?? signal}:\n${err}`));
      try {
        const view = JSON.parse(out);
        resolve({ ...view, spans: sortSpans(view.spans), logs: sortLogs(view.logs) });
      } catch (e) {
        reject(new Error(`python_exporter.py printed no JSON (${e.message}):\n${out}\n${err}`));
      }
    });
  });
}
