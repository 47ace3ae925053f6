// The handler and config of the edge-case suites (tests/edge/edge_cases.mjs), wrapped by
// `instrument` in workerd (edge_cases_worker.js) and in Deno (tests/deno/edge_cases.mjs). It calls
// the downstream service twice with an `await` between, and writes to the console in between.

/** The handler, calling `downstream`; `ctx` is workerd's (Deno's `info` has no `waitUntil`). */
export function edgeHandler(downstream) {
  return async (request, ctx) => {
    const url = new URL(request.url);
    if (url.pathname === '/ready') return new Response('ready');
    // An ordinary JSON answer, and a body made in memory but larger than what is buffered.
    if (url.pathname === '/json') return new Response(JSON.stringify({ ok: true, items: [1, 2, 3] }), { headers: { 'content-type': 'application/json' } });
    if (url.pathname === '/large') return new Response('x'.repeat(3 * 1024 * 1024));
    const tag = url.searchParams.get('tag') ?? '';
    // Results that are not a Response: the runtime answers them as it would without the SDK.
    if (url.pathname === '/undefined') return undefined;
    if (url.pathname === '/string') return 'not a response';
    // A network error's Response, which the runtime refuses as an answer.
    if (url.pathname === '/error-response') return Response.error();
    // Work left running after the response through the runtime's `waitUntil` (workerd): a log
    // and an outgoing call of the request's trace, done after its own flush.
    if (url.pathname === '/background') {
      if (!ctx || typeof ctx.waitUntil !== 'function') return new Response('no waitUntil');
      ctx.waitUntil(
        (async () => {
          await new Promise((resolve) => setTimeout(resolve, 200));
          console.log('background work', { tag });
          await (await fetch(`${downstream}/background?tag=${tag}`)).text();
        })(),
      );
      return new Response('accepted', { status: 202 });
    }
    // Bodies with a chunk that is not bytes, which the runtime fails: a string there at once,
    // an object after a byte chunk and a timer.
    if (url.pathname === '/not-bytes') {
      const late = url.searchParams.has('late');
      let n = 0;
      return new Response(
        new ReadableStream({
          async pull(controller) {
            if (late) await new Promise((resolve) => setTimeout(resolve, 50));
            controller.enqueue(late && !n++ ? new TextEncoder().encode('bytes first\n') : late ? { not: 'bytes' } : 'text, not bytes');
          },
        }),
      );
    }
    // A traceparent (and tracestate) of the handler's own on its outgoing call.
    if (url.pathname === '/owntp') {
      const headers = { traceparent: url.searchParams.get('tp') };
      if (url.searchParams.get('ts')) headers.tracestate = url.searchParams.get('ts');
      await (await fetch(`${downstream}/first?tag=${tag}`, { headers })).text();
      return new Response('done');
    }
    // A body streamed after the handler has returned: three chunks, a console call while it
    // streams, then its end; `/stream?endless=1` streams until the client goes away.
    if (url.pathname === '/stream') {
      const endless = url.searchParams.has('endless');
      let n = 0;
      let timer;
      const body = new ReadableStream({
        pull(controller) {
          return new Promise((resolve) => {
            timer = setTimeout(() => {
              n++;
              if (!endless && n === 3) console.log('streamed the last chunk', { tag });
              controller.enqueue(new TextEncoder().encode(`chunk ${n}\n`));
              if (!endless && n === 3) controller.close();
              resolve();
            }, 150);
          });
        },
        cancel() {
          clearTimeout(timer);
          console.log('client went away', { tag });
        },
      });
      return new Response(body, { status: 201, headers: { 'x-streamed': tag } });
    }
    await (await fetch(`${downstream}/first?tag=${tag}&delay=${url.searchParams.get('delay') ?? 0}`)).text();
    console.log('downstream answered', { tag });
    console.debug('debug is not captured', tag);
    await (await fetch(`${downstream}/second?tag=${tag}`)).text();
    return new Response('done');
  };
}

/**
 * The config `instrument` gets besides the OTEL_* variables: console capture of three methods,
 * and the SDK's diagnostics printed (`debug`) — `/bad-route` makes `route` throw, which the SDK
 * reports with `console.warn`.
 */
export const edgeConfig = {
  captureConsole: ['log', 'warn', 'error'],
  debug: true,
  route(request) {
    const path = new URL(request.url).pathname;
    if (path === '/bad-route') throw new Error('no route for this path');
    return path;
  },
};
