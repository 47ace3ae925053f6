// The baseline: the same handler as instrumented.js, without edgescope.
export default {
  async fetch(request) {
    const url = new URL(request.url);
    return new Response(`hello ${url.searchParams.get('name') ?? 'world'}`);
  },
};
