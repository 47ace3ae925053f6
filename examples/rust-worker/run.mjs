// Runs the Rust worker locally in workerd: `node examples/rust-worker/run.mjs` after
// `bash scripts/build.sh`. Exports to OTEL_EXPORTER_OTLP_ENDPOINT (default http://127.0.0.1:4318).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startWorkerdModules } from '../../tests/edge/workerd.mjs';

const dist = fileURLToPath(new URL('./dist', import.meta.url));
const worker = await startWorkerdModules(
  {
    'shim.mjs': join(dist, 'shim.mjs'),
    'rust_worker.js': join(dist, 'rust_worker.js'),
    'rust_worker_bg.wasm': join(dist, 'rust_worker_bg.wasm'),
  },
  {
    OTEL_SERVICE_NAME: 'rust-worker',
    OTEL_EXPORTER_OTLP_ENDPOINT: process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://127.0.0.1:4318',
  },
);
console.log(`rust worker: ${worker.url}/greet?name=edge   (Ctrl-C stops it)`);
process.on('SIGINT', async () => {
  await worker.stop();
  process.exit(0);
});
