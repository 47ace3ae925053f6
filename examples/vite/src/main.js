// The npm package in a Vite app: `import 'edgescope'` resolves to the browser entry, and Vite
// ships its .wasm as an asset.
import { init, startActiveSpan, logger } from 'edgescope';

const otlp = new URLSearchParams(location.search).get('otlp') ?? 'http://127.0.0.1:4318';
init({ serviceName: 'example-vite', endpoint: otlp, scheduleDelayMillis: 200 });

document.getElementById('go').addEventListener('click', () =>
  startActiveSpan('vite work', async (span) => {
    logger.info('vite work done');
    document.getElementById('status').textContent = `Done in trace ${span.spanContext().traceId}`;
  }),
);
