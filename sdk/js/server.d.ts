// The server entries (`edgescope` under the `workerd`, `worker` and `edge-light` conditions; `node.d.ts`, Node's and
// Deno's, is this file with an `init` of their own).
export * from './index.js';
import type { Config, InstrumentConfig, ModuleWorker } from './index.js';

/** Configures the SDK; `instrument` sets the runtime up (its config's `instrumentFetch`, `captureConsole`…). */
export declare function init(config?: Config): void;
/**
 * Wraps a request handler so that each request gets
 * a SERVER span continuing its `traceparent`, outgoing `fetch` calls get CLIENT spans and trace
 * headers, and everything is exported through `ctx.waitUntil` (or right after the response).
 * OpenTelemetry variables (`OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP_ENDPOINT`,
 * `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`,
 * `OTEL_RESOURCE_ATTRIBUTES`) from the bindings or environment fill what `config` leaves out.
 */
export declare function instrument<W extends ModuleWorker<any>>(handler: W, config?: InstrumentConfig | ((env: unknown) => InstrumentConfig)): W;
export declare function instrument<H extends (request: Request, ...rest: any[]) => Response | Promise<Response>>(
  handler: H,
  config?: InstrumentConfig | ((env: unknown) => InstrumentConfig),
): H;
