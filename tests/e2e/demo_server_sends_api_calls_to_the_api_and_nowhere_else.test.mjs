// The demo's web server proxies /api/* to the to-do API, and only there: a request target that
// names a host of its own (`//elsewhere/api/x`, `/\elsewhere/api/x`) must not make the server an
// open proxy that any page the user visits could send requests through.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { startDemo } from '../../www/server.mjs';

let api, elsewhere, demo;
const seen = { api: [], elsewhere: [] };

const listen = (name) =>
  new Promise((resolve) => {
    const server = createServer((req, res) => {
      seen[name].push(`${req.method} ${req.url}`);
      res.end(name);
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });

before(async () => {
  api = await listen('api');
  elsewhere = await listen('elsewhere');
  demo = await startDemo({ api: `http://127.0.0.1:${api.address().port}` });
});

after(async () => {
  await demo?.close();
  api?.close();
  elsewhere?.close();
});

/** GET with `target` sent exactly as written (fetch would normalise it). */
function get(target) {
  const { port } = new URL(demo.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: target }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('/api/* reaches the API with its path and query', async () => {
  assert.deepEqual(await get('/api/todos?x=1'), { status: 200, body: 'api' });
  assert.deepEqual(seen.api, ['GET /api/todos?x=1']);
});

test('a target naming another host still goes to the API, never to that host', async () => {
  const other = `127.0.0.1:${elsewhere.address().port}`;
  for (const target of [`//${other}/api/secret`, `/\\${other}/api/secret`]) {
    const answer = await get(target);
    assert.equal(answer.body, 'api', target);
  }
  assert.deepEqual(seen.elsewhere, [], 'nothing reached the other host');
});
