// Calls the worker bound as `env[t]` through its service binding: `k` lists fetch, scheduled, queue;
// `p` is the path fetch asks for.
export default {
  async fetch(request, env) {
    const u = new URL(request.url);
    const target = env[u.searchParams.get('t')];
    const out = {};
    for (const kind of (u.searchParams.get('k') || 'fetch').split(',')) {
      try {
        if (kind === 'fetch') {
          const r = await target.fetch(`http://x${u.searchParams.get('p') || '/'}`);
          out.fetch = `${r.status} ${await r.text()}`;
        }
        if (kind === 'scheduled') out.scheduled = (await target.scheduled({ cron: '*/5 * * * *' })).outcome;
        if (kind === 'queue') out.queue = (await target.queue('jobs', [{ id: '1', timestamp: new Date(), body: 'x', attempts: 1 }])).outcome;
      } catch (e) {
        out[kind] = `threw ${e.name}: ${e.message}`;
      }
    }
    return Response.json(out);
  },
};
