// OpenTelemetry Python from PyPI (opentelemetry-sdk with opentelemetry-exporter-otlp-json-http,
// the Python SDK's OTLP/HTTP JSON exporter) exporting into the real collector: its spans and log
// records come back from the query API unchanged. python_exporter.py runs in
// target/interop-venv, which scripts/setup.sh creates.
import { roundTrip } from './round_trip.mjs';
import { runPythonExporter } from './view.mjs';

roundTrip('OpenTelemetry Python over OTLP/JSON', (otlp) => runPythonExporter(otlp, 'json'));
