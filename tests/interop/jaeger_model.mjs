// What OpenTelemetry's Jaeger mapping makes of a span in the common view of view.mjs: the
// fields of Jaeger's JSON model (microsecond times, references, tags, logs, process) that
// /jaeger/api/traces/{id} must answer with. Written from the mapping's rules, not from the
// collector's code, so that the two can disagree.

const KINDS = { 2: 'server', 3: 'client', 4: 'producer', 5: 'consumer' };
const micros = (nanos) => Number(BigInt(nanos) / 1000n);

/** A view AnyValue as the plain JSON value it stands for. */
function plain(v) {
  if (v === null) return null;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('bytesValue' in v) return v.bytesValue;
  if ('arrayValue' in v) return v.arrayValue.map(plain);
  return Object.fromEntries(Object.entries(v.kvlistValue).map(([k, x]) => [k, plain(x)]));
}

/** A tag as Jaeger types it; arrays and maps as JSON text (parsed back here to compare values). */
function tag(key, v) {
  if ('stringValue' in v) return { key, type: 'string', value: v.stringValue };
  if ('boolValue' in v) return { key, type: 'bool', value: v.boolValue };
  if ('intValue' in v) return { key, type: 'int64', value: Number(v.intValue) };
  if ('doubleValue' in v) return { key, type: 'float64', value: v.doubleValue };
  if ('bytesValue' in v) return { key, type: 'binary', value: v.bytesValue };
  return { key, type: 'string', value: plain(v) };
}

const tags = (attributes) => Object.entries(attributes).map(([k, v]) => tag(k, v));
const byKey = (list) => [...list].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

/** An answered tag in the same form: JSON text of arrays and maps parsed. */
export function answeredTag(t) {
  if (t.type === 'string' && /^[[{]/.test(t.value)) {
    try {
      return { ...t, value: JSON.parse(t.value) };
    } catch {
      return t;
    }
  }
  return t;
}

/** The expected Jaeger span (without processID) and process for a view span. */
export function expectedJaeger(span) {
  const spanTags = tags(span.attributes);
  if (span.scope.name) spanTags.push({ key: 'otel.scope.name', type: 'string', value: span.scope.name });
  if (span.scope.version) spanTags.push({ key: 'otel.scope.version', type: 'string', value: span.scope.version });
  if (KINDS[span.kind]) spanTags.push({ key: 'span.kind', type: 'string', value: KINDS[span.kind] });
  if (span.status.code !== 0) {
    spanTags.push({ key: 'otel.status_code', type: 'string', value: span.status.code === 2 ? 'ERROR' : 'OK' });
    if (span.status.message) spanTags.push({ key: 'otel.status_description', type: 'string', value: span.status.message });
  }
  if (span.status.code === 2) {
    const i = spanTags.findIndex((t) => t.key === 'error');
    if (i >= 0) spanTags.splice(i, 1);
    spanTags.push({ key: 'error', type: 'bool', value: true });
  }
  if (span.traceState) spanTags.push({ key: 'w3c.tracestate', type: 'string', value: span.traceState });
  for (const [key, n] of [
    ['otel.dropped_attributes_count', span.droppedAttributesCount],
    ['otel.dropped_events_count', span.droppedEventsCount],
    ['otel.dropped_links_count', span.droppedLinksCount],
  ]) {
    if (n > 0) spanTags.push({ key, type: 'int64', value: n });
  }
  const short = (id) => (id.startsWith('0000000000000000') ? id.slice(16) : id);
  const references = [];
  if (span.parentSpanId) references.push({ refType: 'CHILD_OF', traceID: short(span.traceId), spanID: span.parentSpanId });
  for (const l of span.links) references.push({ refType: 'FOLLOWS_FROM', traceID: short(l.traceId), spanID: l.spanId });
  const serviceName = plain(span.resource.attributes['service.name'] ?? { stringValue: '' });
  const resourceTags = Object.entries(span.resource.attributes)
    .filter(([k]) => k !== 'service.name')
    .map(([k, v]) => tag(k, v));
  return {
    span: {
      traceID: short(span.traceId),
      spanID: span.spanId,
      operationName: span.name,
      references,
      startTime: micros(span.startTimeUnixNano),
      duration: micros(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)),
      tags: byKey(spanTags),
      logs: span.events.map((e) => ({
        timestamp: micros(e.timeUnixNano),
        fields: byKey([
          ...('event' in e.attributes ? [] : [{ key: 'event', type: 'string', value: e.name }]),
          ...tags(e.attributes),
        ]),
      })),
    },
    process: { serviceName, tags: byKey(resourceTags) },
  };
}

/** An answered Jaeger span and its process in the same form as `expectedJaeger`. */
export function answeredJaeger(span, processes) {
  const process = processes[span.processID];
  return {
    span: {
      traceID: span.traceID,
      spanID: span.spanID,
      operationName: span.operationName,
      references: span.references,
      startTime: span.startTime,
      duration: span.duration,
      tags: byKey(span.tags.map(answeredTag)),
      logs: span.logs.map((l) => ({ timestamp: l.timestamp, fields: byKey(l.fields.map(answeredTag)) })),
    },
    process: { serviceName: process.serviceName, tags: byKey(process.tags.map(answeredTag)) },
  };
}
