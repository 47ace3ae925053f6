// `node bench/collector_big_trace.mjs [BIN] [SPANS]`: one trace of SPANS spans (100,000) sent to a
// fresh collector (BIN: target/release/edgescope) in requests of 512 spans (OTLP/JSON, one
// connection), the way a large trace arrives over many exports; prints the total time, the last
// request's time (which grows with the stored trace when a request reads the whole trace) and
// the stored span count after the first request is sent again (a retry: it must stay SPANS).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const bin = process.argv[2] || new URL('../target/release/edgescope', import.meta.url).pathname;
const nArg = process.argv[3];
const N = Number(nArg || 100000), B = 512;
const dir = mkdtempSync(join(tmpdir(), 'bt-'));
const port = 20000 + Math.floor(Math.random() * 20000);
const p = spawn(bin, ['serve', '--otlp-addr', `127.0.0.1:${port}`, '--ui-addr', `127.0.0.1:${port + 1}`, '--data-dir', dir], { stdio: 'ignore' });
for (let i = 0; i < 100; i++) { try { await fetch(`http://127.0.0.1:${port + 1}/api/services`); break; } catch { await new Promise(r => setTimeout(r, 100)); } }
const trace = 'ab'.repeat(16);
const hex = (i) => (i + 1).toString(16).padStart(16, '0');
const body = (from) => JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'big' } }] }, scopeSpans: [{ spans: Array.from({ length: Math.min(B, N - from) }, (_, k) => { const i = from + k; return { traceId: trace, spanId: hex(i), parentSpanId: i ? hex(Math.floor((i - 1) / 4)) : undefined, name: `op${i % 20}`, kind: 1, startTimeUnixNano: String(1.7e18 + i * 1000), endTimeUnixNano: String(1.7e18 + i * 1000 + 500), attributes: [{ key: 'i', value: { intValue: String(i) } }] }; }) }] }] });
const t0 = performance.now();
let last = 0;
for (let from = 0; from < N; from += B) {
  const t = performance.now();
  const r = await fetch(`http://127.0.0.1:${port}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(from) });
  if (r.status !== 200) throw new Error(`${r.status} ${await r.text()}`);
  last = performance.now() - t;
}
const total = performance.now() - t0;
const r = await fetch(`http://127.0.0.1:${port}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(0) });
const stored = (await (await fetch(`http://127.0.0.1:${port + 1}/api/traces?service=big&limit=1`)).json()).traces[0].spanCount;
console.log(JSON.stringify({ bin, spans: N, totalMs: Math.round(total), lastRequestMs: Math.round(last), resent: r.status, stored }));
p.kill();
rmSync(dir, { recursive: true, force: true });
