// The demo: a small page that uses the edgescope SDK, and the API it calls. Serves
//   /            the demo page          /sdk/*        the built SDK (sdk/dist)
//   /config.js   where to export        /api/hello    the demo endpoint (records `traceparent`)
//   /api/seen    the requests /api/hello received, with their `traceparent` (for tests)
// Usage: node www/server.mjs [--port 8080] [--otlp http://127.0.0.1:4318]
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const sdkDist = join(here, '..', 'sdk', 'dist');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

/** Starts the demo server; resolves to `{ url, server, seen }`. */
export async function startDemo({ port = 0, otlp = 'http://127.0.0.1:4318' } = {}) {
  const seen = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://demo');
    try {
      if (url.pathname === '/api/hello') {
        const traceparent = req.headers.traceparent ?? null;
        seen.push({ method: req.method, origin: req.headers.origin ?? null, traceparent });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ greeting: 'hello from the demo API', traceparent }));
      } else if (url.pathname === '/api/seen') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(seen));
      } else if (url.pathname === '/config.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' });
        res.end(`export const otlpEndpoint = ${JSON.stringify(otlp)};\n`);
      } else if (url.pathname === '/' || url.pathname === '/index.html') {
        res.writeHead(200, { 'content-type': TYPES['.html'] });
        res.end(await readFile(join(here, 'index.html')));
      } else if (url.pathname.startsWith('/sdk/')) {
        const file = normalize(join(sdkDist, url.pathname.slice(5)));
        if (!file.startsWith(sdkDist)) throw Object.assign(new Error('outside sdk/dist'), { code: 'ENOENT' });
        const body = await readFile(file);
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
        res.end(body);
      } else {
        res.writeHead(404).end('not found');
      }
    } catch (e) {
      res.writeHead(e.code === 'ENOENT' ? 404 : 500).end(String(e.message));
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, server, seen };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url } = await startDemo({ port: Number(option('port', 8080)), otlp: option('otlp', 'http://127.0.0.1:4318') });
  console.log(`demo: ${url}`);
}
