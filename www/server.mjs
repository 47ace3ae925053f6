// The demo's web server: the to-do page and, on the same origin, the to-do API it calls.
//   /                          the page (index.html, app.js, style.css)
//   /sdk/*                     the built SDK (sdk/dist), which the page's import map names `edgescope`
//   /config.js                 where the page exports to, and where the viewer is
//   /api/*                     proxied to the to-do API worker (workerd), headers and body unchanged
// Serving the API from the page's origin is what a site does with a worker route: the SDK sends
// `traceparent` to its own origin without any allowlist, and the browser needs no CORS preflight.
// Usage: node www/server.mjs [--port 8080] [--otlp http://127.0.0.1:4318]
//          [--api http://127.0.0.1:8787] [--viewer http://127.0.0.1:16686]
import { createServer, request as httpRequest } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const sdkDist = join(here, '..', 'sdk', 'dist');
const PAGE_FILES = { '/': 'index.html', '/index.html': 'index.html', '/app.js': 'app.js', '/style.css': 'style.css' };
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
};

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

function sendJson(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/**
 * Forwards the request (`url`, its path and query) to the API; a 502 with a JSON error when the
 * API cannot be reached. Only ever to the API: the target is the API's URL with the request's
 * path, never a URL read from the request (`//elsewhere/api/x` names a host of its own).
 */
function proxy(req, res, url, api) {
  const target = new URL(api);
  target.pathname = url.pathname;
  target.search = url.search;
  const client = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  const upstream = httpRequest(
    target,
    {
      method: req.method,
      headers: { ...req.headers, host: target.host, 'x-forwarded-for': client, 'x-forwarded-host': req.headers.host ?? '' },
    },
    (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', (e) => {
    if (res.headersSent) res.destroy();
    else sendJson(res, 502, { error: `the to-do API at ${api} is not reachable (${e.code ?? e.message})` });
  });
  req.pipe(upstream);
}

/**
 * Starts the demo server on 127.0.0.1 (`port` 0 picks a free one). `otlp` is the collector's
 * OTLP/HTTP base URL, `api` the to-do API worker's, `viewer` the viewer's (for trace links).
 * Resolves to `{ url, server, close() }`.
 */
export async function startDemo({ port = 0, otlp = 'http://127.0.0.1:4318', api, viewer = 'http://127.0.0.1:16686' } = {}) {
  const config = `export const otlpEndpoint = ${JSON.stringify(otlp)};\nexport const viewerUrl = ${JSON.stringify(viewer)};\n`;
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://demo');
    try {
      if (url.pathname.startsWith('/api/')) {
        if (!api) return sendJson(res, 502, { error: 'no to-do API is configured (start the server with --api)' });
        return proxy(req, res, url, api);
      }
      if (url.pathname === '/config.js') {
        return res.writeHead(200, { 'content-type': TYPES['.js'], 'cache-control': 'no-cache' }).end(config);
      }
      let file;
      if (PAGE_FILES[url.pathname]) file = join(here, PAGE_FILES[url.pathname]);
      else if (url.pathname.startsWith('/sdk/')) {
        file = normalize(join(sdkDist, url.pathname.slice(5)));
        if (!file.startsWith(sdkDist + '/')) return res.writeHead(404).end('not found');
      } else return res.writeHead(404).end('not found');
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
      res.end(body);
    } catch (e) {
      if (!res.headersSent) res.writeHead(e.code === 'ENOENT' ? 404 : 500).end(String(e.message));
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    server,
    close: () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url } = await startDemo({
    port: Number(option('port', 8080)),
    otlp: option('otlp', 'http://127.0.0.1:4318'),
    api: option('api', 'http://127.0.0.1:8787'),
    viewer: option('viewer', 'http://127.0.0.1:16686'),
  });
  console.log(`demo: ${url}`);
}
