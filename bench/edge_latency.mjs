// Added latency per request in real workerd: the same handler with and without `instrument`,
// each in its own workerd process, alternating sequential requests from this process (so both
// see the same machine load). Exports go to a local sink that answers 200 at once. Prints JSON.
// `addedMs` is the figure of the edge issue: each worker is idle between two of its requests,
// so a request's export (which starts after its response) is done before the next one comes.
// `backToBackAddedMs` is the same for blocks of 50 requests sent one after another to one worker
// (the workers taking turns): there the next request also waits for the previous one's export.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startWorkerd, startWorkerdModules } from '../tests/edge/workerd.mjs';

const ROUNDS = 2000;
const WARMUP = 200;
const BLOCK = 50;

// The sink runs in its own process: in this one, its work on an export would land in the time of
// whichever request this process is timing then (with the flush after the response, the next
// request's, often the plain worker's).
const sink = spawn(process.execPath, ['-e', `
  const server = require('node:http').createServer((req, res) => req.resume().on('end', () => res.writeHead(200).end()));
  server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`], { stdio: ['ignore', 'pipe', 'inherit'] });
process.on('exit', () => sink.kill());
const port = await new Promise((resolve) => sink.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
const endpoint = `http://127.0.0.1:${port}`;

const plain = await startWorkerdModules({ 'worker.js': fileURLToPath(new URL('./edge/plain.js', import.meta.url)) }, {});
const instrumented = await startWorkerd(fileURLToPath(new URL('./edge/instrumented.js', import.meta.url)), {
  OTEL_SERVICE_NAME: 'bench-worker',
  OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
});

async function once(url) {
  const t0 = process.hrtime.bigint();
  const response = await fetch(url);
  await response.text();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

try {
  const times = { plain: [], instrumented: [] };
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    const a = await once(`${plain.url}/?name=${i}`);
    const b = await once(`${instrumented.url}/?name=${i}`);
    if (i >= WARMUP) {
      times.plain.push(a);
      times.instrumented.push(b);
    }
  }
  const plainMs = median(times.plain);
  const instrumentedMs = median(times.instrumented);
  const burst = { plain: [], instrumented: [] };
  for (let block = 0; block < (WARMUP + ROUNDS) / BLOCK; block++) {
    for (const [name, worker] of [['plain', plain], ['instrumented', instrumented]]) {
      for (let i = 0; i < BLOCK; i++) {
        const t = await once(`${worker.url}/?name=${i}`);
        if (block * BLOCK >= WARMUP) burst[name].push(t);
      }
    }
  }
  const backToBackAddedMs = median(burst.instrumented) - median(burst.plain);
  console.log(JSON.stringify({ rounds: ROUNDS, plainMs, instrumentedMs, addedMs: instrumentedMs - plainMs, backToBackAddedMs }));
} finally {
  await plain.stop();
  await instrumented.stop();
  sink.kill();
}
