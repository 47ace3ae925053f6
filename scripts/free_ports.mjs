// Exits 0 when every port given can be listened on at 127.0.0.1; otherwise prints the first one
// that cannot (in use, or not a port) and exits 1. `npm start` asks before it builds anything.
import { createServer } from 'node:net';

const tryListen = (port) => new Promise((resolve) => {
  const server = createServer();
  server.once('error', () => resolve(false));
  server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
});

for (const arg of process.argv.slice(2)) {
  const port = Number(arg);
  if (!Number.isInteger(port) || port < 1 || port > 65535 || !(await tryListen(port))) {
    console.log(arg);
    process.exit(1);
  }
}
