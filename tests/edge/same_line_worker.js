// A worker that logs the same line ten times through the logger and ten times through the
// console in one request, with no I/O between: workerd's clock stands still meanwhile, so the
// twenty records share one time (and each ten everything else).
import { instrument, logger } from './edgescope/workerd.js';

export default instrument(
  {
    async fetch() {
      for (let i = 0; i < 10; i++) {
        logger.info('retrying');
        console.log('polled', { attempt: 'same' });
      }
      return new Response('ok');
    },
  },
  (env) => ({ serviceName: 'same-line-worker', endpoint: env.OTLP, captureConsole: true }),
);
