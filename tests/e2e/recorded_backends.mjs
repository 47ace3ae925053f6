// A stand-in for Jaeger (API v3, and an older one with only the legacy API), Grafana Tempo and
// Zipkin on one port, answering with responses recorded from those projects (the fixtures in
// ../shared/fixtures; see MANIFEST.tsv there) or built to their documented shapes (Tempo's search).
// Every request is kept, with its Authorization and Origin headers, so a test can tell the
// gateway path from the direct one. CORS is allowed, as a backend configured for it would.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { root } from '../support.mjs';

const fixture = (name) => JSON.parse(readFileSync(join(root, '..', 'shared', 'fixtures', name), 'utf8'));

export const TEMPO_TRACE_ID = '5b8efff798038103d269b633813fc60c';
export const ZIPKIN_TRACE_ID = 'a03ee8fff1dcd9b9';

/** The two traces of the Jaeger that ignores attribute filters: http.status_code 500, then 200. */
export const ONE_TRACE_ID = '11111111111111111111111111111111';
export const OTHER_TRACE_ID = '22222222222222222222222222222222';
const JAEGER_UI_INDEX = '<!doctype html><html lang="en"><head><title>Jaeger UI</title></head><body><div id="jaeger-ui-root"></div></body></html>';

/** One OTLP resource span of service `shop`: GET /cart with `http.status_code`. */
function cartTrace(traceId, status) {
  return {
    resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] },
    scopeSpans: [{ scope: {}, spans: [{
      traceId, spanId: traceId.slice(16), name: 'GET /cart', kind: 2,
      startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000005000000',
      attributes: [{ key: 'http.status_code', value: { intValue: String(status) } }],
    }] }],
  };
}

export async function startRecordedBackends() {
  const otlpTrace = fixture('otlp-proto-trace.json');
  const legacyTrace = fixture('jaeger-uimodel-ui_01.json');
  const zipkinTrace = fixture('zipkin-lens-yelp.json');
  const routes = [
    [/^\/jaeger\/api\/v3\/services$/, () => fixture('jaeger-apiv3-GetServices.json')],
    [/^\/jaeger\/api\/v3\/operations$/, () => fixture('jaeger-apiv3-GetOperations.json')],
    [/^\/jaeger\/api\/v3\/traces$/, () => fixture('jaeger-apiv3-FindTraces.json')],
    [/^\/jaeger\/api\/v3\/traces\/[0-9a-f]+$/, () => fixture('jaeger-apiv3-GetTrace.json')],
    [/^\/jaeger-legacy\/api\/v3\//, () => [404, '404 page not found']],
    // A Jaeger whose API v3 over HTTP ignores query.attributes (its grpc-gateway before the
    // filter was read): two traces, whatever the filter.
    [/^\/jaeger-noattrs\/api\/v3\/traces$/, () => ({ result: { resourceSpans: [cartTrace(ONE_TRACE_ID, 500), cartTrace(OTHER_TRACE_ID, 200)] } })],
    // A Jaeger older than API v3 over HTTP: its UI's index.html, with 200, for any unknown path.
    [/^\/jaeger-html\/api\/services$/, () => ({ data: ['service-x'] })],
    [/^\/jaeger-html\/api\/services\/[^/]+\/operations$/, () => ({ data: ['some-operation'] })],
    [/^\/jaeger-html\/api\/traces$/, () => ({ data: [legacyTrace] })],
    [/^\/jaeger-html\/api\/traces\/[0-9a-f]+$/, () => ({ data: [legacyTrace] })],
    [/^\/jaeger-html\//, () => [200, JAEGER_UI_INDEX]],
    [/^\/jaeger-legacy\/api\/services$/, () => ({ data: ['service-x', 'service-y'] })],
    [/^\/jaeger-legacy\/api\/services\/[^/]+\/operations$/, () => ({ data: ['some-operation'] })],
    [/^\/jaeger-legacy\/api\/traces$/, () => ({ data: [legacyTrace] })],
    [/^\/jaeger-legacy\/api\/traces\/[0-9a-f]+$/, () => ({ data: [legacyTrace] })],
    [/^\/tempo\/api\/v2\/search\/tag\/resource\.service\.name\/values$/, () => ({ tagValues: [{ type: 'string', value: 'my.service' }] })],
    [/^\/tempo\/api\/v2\/search\/tag\/name\/values$/, () => ({ tagValues: [{ type: 'string', value: "I'm a server span" }] })],
    // Tag names, grouped by scope (Tempo 2.x); an older Tempo has only /api/search/tags.
    [/^\/tempo\/api\/v2\/search\/tags$/, () => ({
      scopes: [
        { name: 'resource', tags: ['service.name', 'host.name'] },
        { name: 'span', tags: ['http.method', 'service.name'] },
        { name: 'intrinsic', tags: ['duration', 'kind', 'name', 'status'] },
      ],
    })],
    [/^\/tempo-v1\/api\/v2\//, () => [404, '404 page not found']],
    [/^\/tempo-v1\/api\/search\/tags$/, () => ({ tagNames: ['k8s.pod.name', 'http.status_code'] })],
    // A search for the operation "quick" finds a trace shorter than a millisecond, whose summary
    // leaves `durationMs` out as Tempo's protobuf JSON leaves out zeros.
    [/^\/tempo\/api\/search$/, (url) => /name = "quick"/.test(url.searchParams.get('q') ?? '') ? ({
      traces: [{ traceID: '1c0ffee', rootServiceName: 'my.service', rootTraceName: 'quick', startTimeUnixNano: '1544712660000000000' }],
    }) : ({
      traces: [{
        traceID: TEMPO_TRACE_ID.replace(/^0+/, ''), rootServiceName: 'my.service', rootTraceName: "I'm a server span",
        startTimeUnixNano: '1544712660000000000', durationMs: 1000,
        serviceStats: { 'my.service': { spanCount: 1 } },
      }],
    })],
    [/^\/tempo\/api\/v2\/traces\/[0-9a-f]+$/, () => ({ trace: otlpTrace, status: 'PARTIAL', message: 'trace exceeds max bytes' })],
    // Loki, answering a trace's records with the categorize-labels encoding.
    [/^\/loki\/loki\/api\/v1\/query_range$/, (url) => ({
      status: 'success',
      data: {
        resultType: 'streams',
        encodingFlags: ['categorize-labels'],
        result: /trace_id="5b8efff798038103d269b633813fc60c"/.test(url.searchParams.get('query') ?? '')
          ? [{
            stream: { service_name: 'my.service', level: 'warn' },
            values: [['1544712660500000000', 'half way through the server span',
              { structuredMetadata: { trace_id: TEMPO_TRACE_ID, span_id: 'eee19b7ec3c1b174' } }]],
          }]
          : [],
      },
    })],
    [/^\/zipkin\/api\/v2\/services$/, () => ['mobile_api', 'routing']],
    [/^\/zipkin\/api\/v2\/spans$/, () => ['post', 'get']],
    [/^\/zipkin\/api\/v2\/traces$/, () => [zipkinTrace]],
    [/^\/zipkin\/api\/v2\/trace\/[0-9a-f]+$/, () => zipkinTrace],
    // A Zipkin whose search answer holds a trace that cannot be read (a span without an id) beside a good one.
    [/^\/zipkin-torn\/api\/v2\/services$/, () => ['mobile_api']],
    [/^\/zipkin-torn\/api\/v2\/spans$/, () => ['post']],
    [/^\/zipkin-torn\/api\/v2\/traces$/, () => [[{ traceId: 'abc', name: 'no id' }], zipkinTrace]],
  ];
  const requests = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', 'authorization, accept, x-loki-response-encoding-flags');
    if (req.method === 'OPTIONS') return res.writeHead(204).end();
    requests.push({ path: url.pathname, query: url.search, authorization: req.headers.authorization, origin: req.headers.origin });
    const route = routes.find(([re]) => re.test(url.pathname));
    if (!route) return res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found');
    const answer = route[1](url);
    if (Array.isArray(answer) && answer[0] === 404) return res.writeHead(404, { 'content-type': 'text/plain' }).end(answer[1]);
    if (Array.isArray(answer) && answer[0] === 200) return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(answer[1]);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return { url, requests, stop: () => new Promise((r) => server.close(r)) };
}
