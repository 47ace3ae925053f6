// Exits 0 when every port given can be listened on at 127.0.0.1 and none is given twice; otherwise
// prints the first one that cannot and why (`8080 in use`, `x not a port`, `4318 given twice`,
// `80 refused: EACCES` for a port this user may not listen on) and exits 1. `npm start` asks before it
// builds anything.
import { createServer } from 'node:net';

/** Why `port` cannot be listened on at 127.0.0.1, or null when it can. */
const whyNot = (port) => new Promise((resolve) => {
  const server = createServer();
  server.once('error', (e) => resolve(e.code === 'EADDRINUSE' ? 'in use' : `refused: ${e.code ?? e.message}`));
  server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(null)));
});

const seen = new Set();
for (const arg of process.argv.slice(2)) {
  const port = Number(arg);
  const why = !/^\d+$/.test(arg) || port < 1 || port > 65535
    ? 'not a port'
    : seen.has(port)
      ? 'given twice'
      : await whyNot(port);
  seen.add(port);
  if (why) {
    console.log(`${arg} ${why}`);
    process.exit(1);
  }
}
