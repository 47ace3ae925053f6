// OpenTelemetry JS from npm (sdk-trace-base, sdk-logs and the OTLP/HTTP JSON exporters) exporting
// into the real collector: its spans and log records come back from the query API unchanged.
import { exportWithJsSdk } from './js_sdk.mjs';
import { roundTrip } from './round_trip.mjs';

roundTrip('OpenTelemetry JS over OTLP/JSON', (otlp) => exportWithJsSdk(otlp, 'json'));
