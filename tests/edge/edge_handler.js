// The handler and config of the edge-case suites (tests/edge/edge_cases.mjs), wrapped by
// `instrument` in workerd (edge_cases_worker.js) and in Deno (tests/deno/edge_cases.mjs). It calls
// the downstream service twice with an `await` between, and writes to the console in between.

/** The handler, calling `downstream`. */
export function edgeHandler(downstream) {
  return async (request) => {
    const url = new URL(request.url);
    if (url.pathname === '/ready') return new Response('ready');
    const tag = url.searchParams.get('tag') ?? '';
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
