// A stand-in for Grafana Loki, answering in Loki's documented shapes: `query_range` streams
// (at most `limit` entries, the newest or the oldest by `direction`) whose values are
// `[ts, line, {"structuredMetadata": {...}}]` 3-tuples (of the streams the query's
// `service_name="…"` names, and holding the text of its `|= "…"` line filters) with
// `data.encodingFlags: ["categorize-labels"]` when the request carries
// `X-Loki-Response-Encoding-Flags: categorize-labels` (else metadata joins the stream labels, as
// Loki does), `labels` and label values, and the live tail over a WebSocket: a first message of
// records, then whatever the test sends, as `{"streams": [...], "dropped_entries": null}`.
// Every request is kept, so a test can check what the viewer asked. Node has no WebSocket
// server, so the few lines of RFC 6455 a server needs (handshake, unmasked text frames) are here.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';

export const LOKI_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';

/** The recorded streams: records from `now - 50 min` to `now - 1 min`, levels of every kind. */
export function recordedStreams(now = Date.now()) {
  const ns = (msAgo) => String(BigInt(now - msAgo) * 1000000n);
  const minute = 60000;
  const records = [];
  const levels = ['info', 'info', 'debug', 'warn', 'error', 'info', 'trace', 'fatal'];
  for (let i = 0; i < 40; i++) {
    const service = i % 2 === 0 ? 'checkout' : 'cart';
    const level = levels[i % levels.length];
    const meta = { severity_text: level.toUpperCase(), http_route: i % 4 === 0 ? '/pay' : '/items' };
    if (i % 5 === 0) {
      meta.trace_id = LOKI_TRACE_ID;
      meta.span_id = 'b7ad6b7169203331';
    }
    records.push({ service, level, ts: ns((50 - i) * minute), line: `${service} request ${i} ${level === 'error' ? 'failed: upstream timeout' : 'served'}`, meta });
  }
  return toStreams(records);
}

/** Groups records `{service, level, ts, line, meta}` into Loki streams by their labels. */
export function toStreams(records) {
  const streams = new Map();
  for (const r of records) {
    const key = `${r.service}|${r.level}`;
    if (!streams.has(key)) streams.set(key, { stream: { service_name: r.service, level: r.level, deployment_environment: 'prod' }, values: [] });
    streams.get(key).values.push([r.ts, r.line, { structuredMetadata: r.meta ?? {} }]);
  }
  return [...streams.values()];
}

/** Without categorize-labels, Loki merges metadata into the stream labels (one stream per set). */
function uncategorized(streams) {
  const out = [];
  for (const s of streams) for (const [ts, line, extra] of s.values) out.push({ stream: { ...s.stream, ...(extra?.structuredMetadata ?? {}) }, values: [[ts, line]] });
  return out;
}

function frame(text) {
  const payload = Buffer.from(text);
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x81, n]) : n < 65536 ? Buffer.from([0x81, 126, n >> 8, n & 255]) : Buffer.alloc(10);
  if (n >= 65536) {
    head[0] = 0x81;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([head, payload]);
}

/**
 * Starts the stand-in. `websocket: false` refuses the tail's upgrade (as a proxy without
 * WebSocket support would), so that clients poll.
 */
export async function startRecordedLoki({ streams = recordedStreams(), tailBacklog = [], websocket = true } = {}) {
  const requests = [];
  const sockets = new Set();
  // While down, every connection is cut unanswered, as by a Loki that is restarting.
  let down = false;
  // How many of the next `query_range` answers carry an entry of another shape.
  let malformed = 0;
  // Tail upgrades cut while down.
  let refused = 0;
  const server = createServer((req, res) => {
    if (down) return req.socket.destroy();
    const url = new URL(req.url, 'http://x');
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', 'authorization, accept, x-loki-response-encoding-flags');
    if (req.method === 'OPTIONS') return res.writeHead(204).end();
    const flags = req.headers['x-loki-response-encoding-flags'];
    requests.push({ path: url.pathname, params: Object.fromEntries(url.searchParams), flags, authorization: req.headers.authorization });
    const json = (body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.pathname === '/loki/api/v1/query_range') {
      const categorize = flags === 'categorize-labels';
      const query = url.searchParams.get('query') ?? '';
      const traceFilter = /\| trace_id="([0-9a-f]+)"/.exec(query)?.[1];
      // The LogQL the viewer writes: a service in the selector, line filters as Go strings.
      const service = /service_name="((?:[^"\\]|\\.)*)"/.exec(query)?.[1];
      const contains = [...query.matchAll(/\|= "((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`));
      // Loki's window: start inclusive, end exclusive (nanoseconds here).
      const start = BigInt(url.searchParams.get('start') ?? '0');
      const end = BigInt(url.searchParams.get('end') ?? String(BigInt(Date.now()) * 1000000n));
      const keep = (s, v) => BigInt(v[0]) >= start && BigInt(v[0]) < end && (!traceFilter || v[2]?.structuredMetadata?.trace_id === traceFilter)
        && (service === undefined || s.stream.service_name === JSON.parse(`"${service}"`)) && contains.every((text) => v[1].includes(text));
      // As Loki: at most `limit` entries over all streams, the newest (`backward`, the default)
      // or the oldest (`forward`).
      const limit = Number(url.searchParams.get('limit') ?? 100);
      const forward = url.searchParams.get('direction') === 'forward';
      const entries = streams.flatMap((s, i) => s.values.filter((v) => keep(s, v)).map((v) => [BigInt(v[0]), i, v]));
      entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0) * (forward ? 1 : -1));
      const chosen = new Set(entries.slice(0, limit).map((e) => e[2]));
      const result = streams.map((s) => ({ ...s, values: s.values.filter((v) => chosen.has(v)) })).filter((s) => s.values.length);
      if (malformed > 0) {
        malformed -= 1;
        result.push({ stream: { service_name: 'web' }, values: [[5, 'a number for the time']] });
      }
      const data = { resultType: 'streams', result: categorize ? result : uncategorized(result), stats: {} };
      if (categorize) data.encodingFlags = ['categorize-labels'];
      return json({ status: 'success', data });
    }
    if (url.pathname === '/loki/api/v1/labels') return json({ status: 'success', data: ['deployment_environment', 'level', 'service_name'] });
    const values = /^\/loki\/api\/v1\/label\/([^/]+)\/values$/.exec(url.pathname);
    if (values) {
      const set = new Set(streams.map((s) => s.stream[decodeURIComponent(values[1])]).filter(Boolean));
      return json({ status: 'success', data: [...set] });
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found');
  });
  server.on('upgrade', (req, socket) => {
    if (down) {
      refused += 1;
      return socket.destroy();
    }
    const url = new URL(req.url, 'http://x');
    requests.push({ path: url.pathname, params: Object.fromEntries(url.searchParams), upgrade: true });
    if (url.pathname !== '/loki/api/v1/tail' || !websocket) return socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    sockets.add(socket);
    socket.on('data', (d) => {
      if ((d[0] & 0x0f) === 8) socket.end();
    });
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => sockets.delete(socket));
    socket.write(frame(JSON.stringify({ streams: tailBacklog, dropped_entries: null })));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    requests,
    /** Stores more records, for `query_range` to find. */
    append(more) {
      streams.push(...more);
    },
    /** Gives the next `n` `query_range` answers an entry whose time is a number. */
    malformNext(n) {
      malformed = n;
    },
    /** Cuts every connection, open and to come, until `down(false)`. */
    down(value) {
      down = value;
      if (value) for (const s of sockets) s.destroy();
    },
    /** Tail connections open now. */
    tails: () => sockets.size,
    /** Tail upgrades cut while down, so far. */
    refusedUpgrades: () => refused,
    /** Sends one tail message to every open tail. */
    tail(streams, droppedEntries = null) {
      const text = JSON.stringify({ streams, dropped_entries: droppedEntries });
      for (const s of sockets) s.write(frame(text));
    },
    stop: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(r));
    },
  };
}
