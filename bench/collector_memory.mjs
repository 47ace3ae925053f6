// `node bench/collector_memory.mjs [BIN]`: the collector's peak resident size (VmHWM) under two
// loads, each on a fresh collector (BIN: target/release/edgescope):
// - 60 OTLP/JSON exports of 15.6 MB sent at once: how many got 200 and 503, and the peak
//   (export bodies are bounded by --max-body-memory-mb; 503s are sent again by real exporters);
// - one trace of 100,000 spans with 10 attributes each, then that trace read through the Jaeger
//   API (`/jaeger/api/traces/{id}`, Grafana's and Jaeger UI's) and the API v3 (the viewer's): the
//   answer's size, the time and the peak after each.
// Not a comparison with a peer: a check of memory bounds, with figures for the README.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = process.argv[2] || new URL('../target/release/edgescope', import.meta.url).pathname;
const hex = (n, width = 16) => n.toString(16).padStart(width, '0');

async function collector() {
  const dir = mkdtempSync(join(tmpdir(), 'cm-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const p = spawn(bin, ['serve', '--otlp-addr', `127.0.0.1:${port}`, '--ui-addr', `127.0.0.1:${port + 1}`, '--data-dir', dir], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try { await fetch(`http://127.0.0.1:${port + 1}/health`); break; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  const peak = () => Number(readFileSync(`/proc/${p.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+)/)[1]) / 1024;
  const stop = () => { p.kill(); rmSync(dir, { recursive: true, force: true }); };
  return { otlp: `http://127.0.0.1:${port}`, ui: `http://127.0.0.1:${port + 1}`, peak, stop };
}

const exportOf = (spans) => JSON.stringify({ resourceSpans: [{
  resource: { attributes: [{ key: 'service.name', value: { stringValue: 'memory' } }] },
  scopeSpans: [{ spans }],
}] });

{
  const c = await collector();
  const spans = (k) => Array.from({ length: 25000 }, (_, i) => ({ traceId: hex(k + 1, 32), spanId: hex(i + 1), name: 'op',
    startTimeUnixNano: '1764000000000000000', endTimeUnixNano: '1764000000000001000',
    attributes: [{ key: 'a', value: { stringValue: 'x'.repeat(400) } }] }));
  const bodies = Array.from({ length: 60 }, (_, k) => exportOf(spans(k)));
  const started = performance.now();
  const statuses = await Promise.all(bodies.map((body) => fetch(`${c.otlp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    .then((r) => r.status, (e) => `error ${e.cause?.code ?? e.message}`)));
  const count = {};
  for (const s of statuses) count[s] = (count[s] ?? 0) + 1;
  console.log(`60 exports of ${(bodies[0].length / 1e6).toFixed(1)} MB at once: ${JSON.stringify(count)} in ${((performance.now() - started) / 1000).toFixed(1)} s; peak ${c.peak().toFixed(0)} MB`);
  c.stop();
}

{
  const c = await collector();
  const trace = 'ab'.repeat(16);
  const t0 = 1764000000000000000n;
  for (let b = 0; b < 20; b++) {
    const spans = Array.from({ length: 5000 }, (_, i) => {
      const n = b * 5000 + i + 1;
      return { traceId: trace, spanId: hex(n), parentSpanId: n > 1 ? hex(1) : '', name: `op${n % 50}`, kind: 1,
        startTimeUnixNano: String(t0 + BigInt(n) * 1000n), endTimeUnixNano: String(t0 + BigInt(n) * 1000n + 500000n),
        attributes: Array.from({ length: 10 }, (_, k) => ({ key: `attr.${k}`, value: { stringValue: `value-${k}-${n}` } })) };
    });
    const r = await fetch(`${c.otlp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: exportOf(spans) });
    if (r.status !== 200) throw new Error(`${r.status} ${await r.text()}`);
  }
  console.log(`a 100,000-span trace stored; peak ${c.peak().toFixed(0)} MB`);
  for (const path of [`/jaeger/api/traces/${trace}`, `/api/v3/traces/${trace}`]) {
    const started = performance.now();
    const r = await fetch(c.ui + path);
    const size = (await r.arrayBuffer()).byteLength;
    console.log(`GET ${path.replace(trace, '{id}')}: ${r.status}, ${(size / 1e6).toFixed(1)} MB in ${((performance.now() - started) / 1000).toFixed(1)} s; peak ${c.peak().toFixed(0)} MB`);
  }
  c.stop();
}
