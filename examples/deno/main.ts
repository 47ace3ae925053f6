// A Deno.serve app traced with `instrument`, configured from OTEL_* environment variables:
//   OTEL_SERVICE_NAME=todo-api OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 \
//     deno run --allow-env=PORT,OTEL_SERVICE_NAME,OTEL_EXPORTER_OTLP_ENDPOINT --allow-net --allow-read examples/deno/main.ts
// (after `bash scripts/build.sh`). In your own app, import from "npm:edgescope".
import { instrument, logger } from '../../sdk/dist/node.js';

const todos = [{ id: 1, title: 'trace the edge', done: false }];

Deno.serve(
  { hostname: '127.0.0.1', port: Number(Deno.env.get('PORT') ?? 8000) },
  instrument(async (request: Request) => {
    const url = new URL(request.url);
    if (url.pathname === '/todos') {
      logger.info('listed todos', { count: todos.length });
      return Response.json(todos);
    }
    return new Response('not found', { status: 404 });
  }),
);
