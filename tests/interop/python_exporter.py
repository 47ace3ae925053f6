"""The OpenTelemetry Python SDK exporting one trace and a few log records over OTLP/HTTP.

Usage: python_exporter.py OTLP_BASE_URL (protobuf|json)

Configured as an application would be: a TracerProvider and a LoggerProvider with batch
processors and the OTLP/HTTP exporters of opentelemetry-exporter-otlp-proto-http (protobuf) or
opentelemetry-exporter-otlp-json-http (JSON). An in-memory exporter beside each OTLP one keeps the
SDK's own records, which this script prints on stdout as JSON in the view of view.mjs (ids in
hex, times in decimal nanoseconds, values typed as OTLP's AnyValue), with the results of the OTLP
exports. The node tests compare that view with what the collector returns.
"""

import base64
import json
import sys
import time

from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags, TraceState

RESULTS = []


class Recording:
    """Wraps an exporter, of spans or of log records, to remember the result of every export."""

    def __init__(self, inner):
        self.inner = inner

    def export(self, batch):
        result = self.inner.export(batch)
        RESULTS.append(result.name)
        return result

    def shutdown(self):
        self.inner.shutdown()

    def force_flush(self, timeout_millis=30000):
        return self.inner.force_flush(timeout_millis)


def exporters(protocol):
    if protocol == "protobuf":
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    elif protocol == "json":
        from opentelemetry.exporter.otlp.json.http._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.json.http.trace_exporter import OTLPSpanExporter
    else:
        raise SystemExit(f"unknown protocol {protocol!r}: protobuf or json")
    return OTLPSpanExporter, OTLPLogExporter


# ---- The common view (see view.mjs) ----


def any_value(v):
    """A value typed as both Python exporters type it (`_encode_value`)."""
    if v is None:
        return None
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, str):
        return {"stringValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, bytes):
        return {"bytesValue": base64.b64encode(v).decode()}
    if isinstance(v, (list, tuple)):
        return {"arrayValue": [any_value(x) for x in v]}
    if isinstance(v, dict) or hasattr(v, "items"):
        return {"kvlistValue": attributes(v)}
    raise TypeError(f"no AnyValue for {v!r}")


def attributes(attrs):
    return {k: any_value(v) for k, v in (attrs or {}).items()}


def span_flags(parent):
    """The OTLP span flags as the Python exporters fill them (`_span_flags`): "is_remote is known"
    (0x100) and "the parent is remote" (0x200), but no W3C trace flags in the low byte."""
    return 0x100 | (0x200 if parent is not None and parent.is_remote else 0)


def trace_state(state):
    return ",".join(f"{k}={v}" for k, v in state.items()) if state else ""


def resource_view(resource):
    return {
        "attributes": attributes(resource.attributes),
        "droppedAttributesCount": 0,
        "schemaUrl": resource.schema_url or "",
    }


def scope_view(scope):
    return {
        "name": scope.name,
        "version": scope.version or "",
        "attributes": attributes(scope.attributes),
        "schemaUrl": scope.schema_url or "",
    }


def span_view(s):
    ctx = s.get_span_context()
    return {
        "resource": resource_view(s.resource),
        "scope": scope_view(s.instrumentation_scope),
        "traceId": format(ctx.trace_id, "032x"),
        "spanId": format(ctx.span_id, "016x"),
        "parentSpanId": format(s.parent.span_id, "016x") if s.parent else "",
        "traceState": trace_state(ctx.trace_state),
        "flags": span_flags(s.parent),
        "name": s.name,
        "kind": s.kind.value + 1,  # the API has no "unspecified", OTLP's 0
        "startTimeUnixNano": str(s.start_time),
        "endTimeUnixNano": str(s.end_time),
        "attributes": attributes(s.attributes),
        "droppedAttributesCount": s.dropped_attributes,
        "events": [
            {
                "name": e.name,
                "timeUnixNano": str(e.timestamp),
                "attributes": attributes(e.attributes),
                "droppedAttributesCount": e.dropped_attributes,
            }
            for e in s.events
        ],
        "droppedEventsCount": s.dropped_events,
        "links": [
            {
                "traceId": format(link.context.trace_id, "032x"),
                "spanId": format(link.context.span_id, "016x"),
                # Neither Python exporter sends a link's trace state (`_encode_links`), so the
                # links made below have none.
                "traceState": trace_state(link.context.trace_state),
                "flags": span_flags(link.context),
                "attributes": attributes(link.attributes),
                "droppedAttributesCount": link.dropped_attributes,
            }
            for link in s.links
        ],
        "droppedLinksCount": s.dropped_links,
        "status": {"code": s.status.status_code.value, "message": s.status.description or ""},
    }


def log_view(readable):
    r = readable.log_record
    return {
        "resource": resource_view(readable.resource),
        "scope": scope_view(readable.instrumentation_scope),
        "timeUnixNano": str(r.timestamp),
        "observedTimeUnixNano": str(r.observed_timestamp),
        "severityNumber": r.severity_number.value if r.severity_number else 0,
        "severityText": r.severity_text or "",
        "body": any_value(r.body),
        "attributes": attributes(r.attributes),
        "droppedAttributesCount": readable.dropped_attributes,
        "flags": int(r.trace_flags or 0),
        "traceId": format(r.trace_id, "032x") if r.trace_id else "",
        "spanId": format(r.span_id, "016x") if r.span_id else "",
        "eventName": r.event_name or "",
    }


# ---- The scenario, as js_sdk.mjs does it ----

EVERY_TYPE = {
    "str": "plain",
    "str.escapes": 'quote " backslash \\ newline \n tab \t nul-ish \x01 é 漢字 🚀',
    "str.empty": "",
    "bool.true": True,
    "bool.false": False,
    "int": 42,
    "int.negative": -7,
    "int.zero": 0,
    "int.max": 2**63 - 1,
    "int.min": -(2**63),
    "double": 3.141592653589793,
    "double.tenth": 0.1,
    "double.negative": -2.5e-8,
    "double.tiny": 5e-324,
    "double.huge": 1.7976931348623157e308,
    "double.integral": 2.0,
    "array.str": ["a", "b", ""],
    "array.bool": [True, False],
    "array.int": [1, -2, 2**62],
    "array.double": [1.5, -0.25],
    "array.empty": [],
}


def main():
    otlp, protocol = sys.argv[1].rstrip("/"), sys.argv[2]
    SpanExporterClass, LogExporterClass = exporters(protocol)
    resource = Resource.create(
        {
            "service.name": f"interop-python-{protocol}",
            "service.version": "1.2.3",
            "deployment.environment.name": "test",
            "host.cpu.count": 2,
        },
        schema_url="https://opentelemetry.io/schemas/1.30.0",
    )

    spans_seen = InMemorySpanExporter()
    tracer_provider = TracerProvider(resource=resource, span_limits=SpanLimits(max_links=1))
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans_seen))
    tracer_provider.add_span_processor(
        BatchSpanProcessor(Recording(SpanExporterClass(endpoint=f"{otlp}/v1/traces", timeout=20)))
    )
    logs_seen = InMemoryLogRecordExporter()
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs_seen))
    logger_provider.add_log_record_processor(
        BatchLogRecordProcessor(Recording(LogExporterClass(endpoint=f"{otlp}/v1/logs", timeout=20)))
    )

    # A minute ago, with nanoseconds that no millisecond clock would give.
    t0 = (time.time_ns() // 1_000_000_000 - 60) * 1_000_000_000

    def at(ms, ns):
        return t0 + ms * 1_000_000 + ns

    tracer = tracer_provider.get_tracer(
        "interop-tracer", "4.5.6", schema_url="https://opentelemetry.io/schemas/1.29.0", attributes={"scope.kind": "test"}
    )
    ids = tracer_provider.id_generator
    trace_id = ids.generate_trace_id()
    remote_parent = trace.set_span_in_context(
        NonRecordingSpan(
            SpanContext(
                trace_id,
                ids.generate_span_id(),
                is_remote=True,
                trace_flags=TraceFlags(TraceFlags.SAMPLED),
                trace_state=TraceState([("vendor", "abc"), ("other", "x-1")]),
            )
        )
    )
    linked_trace = ids.generate_trace_id()

    def linked(**attrs):
        ctx = SpanContext(linked_trace, ids.generate_span_id(), is_remote=True, trace_flags=TraceFlags(1))
        return Link(ctx, attributes=attrs or None)

    server = tracer.start_span(
        "GET /orders/{id}",
        context=remote_parent,
        kind=SpanKind.SERVER,
        attributes=EVERY_TYPE,
        links=[linked(**{"link.reason": "retry of", "link.attempt": 2})],
        start_time=at(0, 123_456),
    )
    server.add_event("request.received", {"bytes": 512, "ratio": 0.75, "tags": ["x", "y"], "ok": True}, at(1, 7))
    client = tracer.start_span(
        "GET inventory",
        context=trace.set_span_in_context(server),
        kind=SpanKind.CLIENT,
        attributes={"http.request.method": "GET", "server.port": 8443, "url.full": "https://inventory.internal/items?id=7"},
        # One link per span (SpanLimits above), so that the second is dropped and counted.
        links=[linked(), linked()],
        start_time=at(2, 999_999),
    )
    client.add_event("retry", {"attempt": 1}, at(3, 1))
    client.set_status(Status(StatusCode.OK))
    client.end(at(40, 500_001))
    try:
        raise TypeError("inventory answered 503")
    except TypeError as failure:
        server.record_exception(failure, {"handled": True}, at(41, 42))
    server.set_status(Status(StatusCode.ERROR, "upstream failed: inventory answered 503"))
    server.set_attribute("late.attribute", "set after the child ended")
    server.end(at(45, 1))

    logger = logger_provider.get_logger("interop-logger", "7.8.9")
    logger.emit(
        timestamp=at(1, 11),
        observed_timestamp=at(1, 12),
        severity_number=SeverityNumber.INFO,
        severity_text="INFO",
        body="order 7 received",
        attributes={**EVERY_TYPE, "bytes": b"\x00\x01\xfe\xff"},
        context=trace.set_span_in_context(server),
    )
    logger.emit(
        timestamp=at(3, 21),
        observed_timestamp=at(3, 22),
        severity_number=SeverityNumber.ERROR2,
        severity_text="ERROR",
        event_name="inventory.failed",
        body={"status": 503, "retryable": True, "detail": {"items": [7, "eight", 9.5], "raw": b"hi"}},
        attributes={"http.response.status_code": 503},
        context=trace.set_span_in_context(client),
    )
    logger.emit(
        timestamp=at(50, 31),
        observed_timestamp=at(50, 32),
        severity_number=SeverityNumber.DEBUG,
        severity_text="debug",
        body="outside any trace",
    )

    # Read before shutting down, which may empty the in-memory exporters.
    spans = [span_view(s) for s in spans_seen.get_finished_spans()]
    logs = [log_view(r) for r in logs_seen.get_finished_logs()]
    tracer_provider.shutdown()
    logger_provider.shutdown()
    json.dump({"traceId": format(trace_id, "032x"), "spans": spans, "logs": logs, "results": RESULTS}, sys.stdout)


if __name__ == "__main__":
    main()
