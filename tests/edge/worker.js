// The test worker: continues an incoming traceparent with a SERVER span, logs inside it, and
// exports before the request is over through ctx.waitUntil.
import { init, extract, startSpan, withSpan, logger, flush } from './edgescope/workerd.js';

let configured = false;

export default {
  async fetch(request, env, ctx) {
    if (!configured) {
      init({ serviceName: 'edge-test-worker', endpoint: env.OTLP_ENDPOINT });
      configured = true;
    }
    const url = new URL(request.url);
    const span = startSpan(`${request.method} ${url.pathname}`, {
      kind: 'server',
      parent: extract(request.headers),
      attributes: { 'http.request.method': request.method, 'url.path': url.pathname, 'url.scheme': 'http' },
    });
    const body = await withSpan(span, async () => {
      logger.info('worker handled a request', { 'url.path': url.pathname });
      return JSON.stringify(span.spanContext());
    });
    span.setAttribute('http.response.status_code', 200);
    span.end();
    ctx.waitUntil(flush());
    return new Response(body, { headers: { 'content-type': 'application/json' } });
  },
};
