// The reverse-proxy pattern: the incoming request (method, headers, body) forwarded upstream.
import { instrument } from './edgescope/workerd.js';

export default instrument({
  async fetch(request, env) {
    const u = new URL(request.url);
    const target = env.UPSTREAM + u.pathname;
    if (u.pathname === '/init-is-request') return fetch(target, request);
    if (u.pathname === '/own') return fetch(target, { headers: { traceparent: request.headers.get('x-own') } });
    return fetch(new Request(target, request));
  },
});
