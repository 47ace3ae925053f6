// Exits 0 when every port given can be listened on at 127.0.0.1 and none is given twice; otherwise
// prints the first one that cannot and why (`8080 in use`, `x not a port`, `4318 given twice`)
// and exits 1. `npm start` asks before it
// builds anything.
import { createServer } from 'node:net';

const tryListen = (port) => new Promise((resolve) => {
  const server = createServer();
  server.once('error', () => resolve(false));
  server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
});

const seen = new Set();
for (const arg of process.argv.slice(2)) {
  const port = Number(arg);
  const why = !/^\d+$/.test(arg) || port < 1 || port > 65535
    ? 'not a port'
    : seen.has(port)
      ? 'given twice'
      : !(await tryListen(port))
        ? 'in use'
        : null;
  seen.add(port);
  if (why) {
    console.log(`${arg} ${why}`);
    process.exit(1);
  }
}
