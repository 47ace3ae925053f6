// Runs the example worker locally in workerd (npm `workerd`), bundled with esbuild as wrangler
// would: `node examples/cloudflare-worker/run.mjs` after `bash scripts/build.sh`. Exports to
// OTEL_EXPORTER_OTLP_ENDPOINT (default http://127.0.0.1:4318); prints the worker's URL.
import { bundleExampleWorker } from './bundle.mjs';
import { startWorkerdModules } from '../../tests/edge/workerd.mjs';

const modules = await bundleExampleWorker();
const worker = await startWorkerdModules(
  modules,
  {
    OTEL_SERVICE_NAME: 'edgescope-example-worker',
    OTEL_EXPORTER_OTLP_ENDPOINT: process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://127.0.0.1:4318',
  },
  ['nodejs_compat'],
);
console.log(`example worker: ${worker.url}/hello   (Ctrl-C stops it)`);
process.on('SIGINT', async () => {
  await worker.stop();
  process.exit(0);
});
