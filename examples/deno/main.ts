// A Deno.serve app traced with `instrument`, configured from OTEL_* environment variables:
//   OTEL_SERVICE_NAME=todo-api OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 \
//     deno run --allow-env=PORT,OTEL_SERVICE_NAME,OTEL_EXPORTER_OTLP_ENDPOINT --allow-net --allow-read examples/deno/main.ts
// (after `bash scripts/build.sh`). In your own app, import from "npm:edgescope". Each name in
// `--allow-env` is optional: without PORT the server listens on 8000, and without the OTEL_* names
// (or any `--allow-env`) the SDK uses its defaults.
import { instrument, logger } from '../../sdk/dist/node.js';

/**
 * An environment variable, or undefined when the process may not read it: asked with
 * `Deno.permissions.querySync` first, so that `deno run` in a terminal never stops at a permission
 * prompt, and without `--allow-env` the program runs on its defaults instead of failing.
 */
function env(name: string): string | undefined {
  if (Deno.permissions.querySync({ name: 'env', variable: name }).state !== 'granted') return undefined;
  return Deno.env.get(name);
}

const todos = [{ id: 1, title: 'trace the edge', done: false }];

Deno.serve(
  { hostname: '127.0.0.1', port: Number(env('PORT') || 8000) },
  instrument(async (request: Request) => {
    const url = new URL(request.url);
    if (url.pathname === '/todos') {
      logger.info('listed todos', { count: todos.length });
      return Response.json(todos);
    }
    return new Response('not found', { status: 404 });
  }),
);
