// The core cuts a log body to attributeValueLengthLimit after redaction; what it is given is the
// limit and 64 Ki characters beyond it (room for any secret it recognises), never a whole message
// of many megabytes, whose copy (3 bytes a character reserved) would grow wasm memory for good.
import { test } from 'node:test';
import assert from 'node:assert/strict';

// The module's memory, as the SDK instantiates it.
const memories = [];
const Instance = WebAssembly.Instance;
WebAssembly.Instance = function (module, imports) {
  const instance = new Instance(module, imports);
  if (instance.exports.memory) memories.push(instance.exports.memory);
  return instance;
};
const { exportSink } = await import('../support.mjs');
const { diagnostics, flush, init, logger } = await import('../../sdk/dist/node.js');

test('a message of 20 million characters grows wasm memory by less than a megabyte, and its secret near the cut is masked', async () => {
  const { logs, fetch } = exportSink();
  init({ serviceName: 'huge', fetch, protocol: 'http/json', compression: 'none', scheduleDelayMillis: 60_000 });
  logger.info('warm up');
  await flush();
  assert.ok(memories.length >= 1, 'the module was instantiated');
  const memory = memories.at(-1);
  const before = memory.buffer.byteLength;
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJodWdlIjoieWVzIn0.CANARYHUGEJWT1';
  logger.info(`${'a'.repeat(16_370)} ${jwt} ${'b'.repeat(20_000_000)}`);
  await flush();
  const grown = memory.buffer.byteLength - before;
  assert.ok(grown < 1 << 20, `wasm memory grew by ${grown} bytes`);
  const body = logs.at(-1).body.stringValue;
  assert.equal(Buffer.byteLength(body), 16_384, 'cut to the limit');
  assert.ok(!body.includes('CANARYHUGEJWT1') && !body.includes(jwt.slice(0, 14)), body.slice(16_360));
  assert.ok(diagnostics().logsTruncated >= 1);
});
