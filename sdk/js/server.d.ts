// The server entries (`edgescope` under the `workerd`, `worker` and `edge-light` conditions; `node.d.ts`, Node's and
// Deno's, is this file with an `init` of their own).
export * from './index.js';
import type { Config, InstrumentConfig, RequestHandler, WorkerHandlers } from './index.js';

/** Configures the SDK; `instrument` sets the runtime up (its config's `instrumentFetch`, `captureConsole`…). */
export declare function init(config?: Config): void;
/**
 * Wraps a request handler so that each request gets
 * a SERVER span continuing its `traceparent`, outgoing `fetch` calls get CLIENT spans and trace
 * headers, and everything is exported through `ctx.waitUntil` (or right after the response).
 * OpenTelemetry variables (`OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP_ENDPOINT`,
 * `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`,
 * `OTEL_RESOURCE_ATTRIBUTES`) from the bindings or environment fill what `config` leaves out.
 * `handler` is a function `(request, info) => Response`, a worker object (an object literal or a class instance,
 * with a `fetch` or `scheduled`, `queue`… handlers) or a class; it comes back as the same type.
 */
export declare function instrument<H extends RequestHandler>(handler: H, config?: InstrumentConfig | ((env: unknown) => InstrumentConfig)): H;
/** A class (`class extends WorkerEntrypoint`, a Durable Object class) comes back as a subclass, of the same type. */
export declare function instrument<C extends new (...args: any[]) => object & WorkerHandlers>(
  handler: C,
  config?: InstrumentConfig | ((env: unknown) => InstrumentConfig),
): C;
/**
 * An object (an object literal, a class instance) with a `fetch` or other event handlers comes back as an object
 * of the same type, every member kept.
 */
export declare function instrument<W extends WorkerHandlers>(handler: W, config?: InstrumentConfig | ((env: unknown) => InstrumentConfig)): W;
