// A collector refuses a request above its body limit with 413 (the OpenTelemetry Collector at
// 20 MiB by default, edgescope's `--max-body-bytes`). The SDK then sends the batch in halves, and
// halves them again as needed, so nothing that fits is lost; a span or record too large alone is
// let go and counted in `exportsFailed`. Against the real collector with an 8 KiB limit, in both
// protocols, spans and log records.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnostics, flush, init, logger, startSpan } from '../../sdk/dist/node.js';
import { getJson, startCollector } from '../support.mjs';

let collector;
before(async () => {
  collector = await startCollector({ args: ['--max-body-bytes', '8192'] });
});
after(() => collector?.stop());

for (const protocol of ['http/protobuf', 'http/json']) {
  test(`a batch the collector finds too large arrives in halves, and an item too large alone is counted (${protocol})`, async () => {
    const service = `halves-${protocol.slice(5)}`;
    init({ serviceName: service, endpoint: collector.otlp, protocol, compression: 'none', scheduleDelayMillis: 0 });
    // 60 spans and 60 records of about 400 bytes each: one batch of each is about 24 KB.
    for (let i = 0; i < 60; i++) {
      startSpan(`span ${i}`, { attributes: { filler: 'x'.repeat(400) } }).end();
      logger.info(`record ${i} ${'y'.repeat(400)}`);
    }
    // And one of each that no request under the limit can hold.
    startSpan('too large', { attributes: { filler: 'z'.repeat(20_000) } }).end();
    logger.info(`too large ${'z'.repeat(20_000)}`);
    await flush();
    assert.equal(diagnostics().exportsFailed, 2, JSON.stringify(diagnostics()));

    const found = await getJson(`${collector.ui}/jaeger/api/traces?service=${service}&limit=1000`);
    const names = found.data.flatMap((t) => t.spans.map((s) => s.operationName));
    assert.equal(names.length, 60, `spans: ${names.length}`);
    assert.equal(new Set(names).size, 60);
    assert.ok(!names.includes('too large'));
    const logs = await getJson(`${collector.ui}/api/logs?limit=1000`);
    const bodies = logs.result.resourceLogs
      .filter((rl) => rl.resource.attributes.some((a) => a.key === 'service.name' && a.value.stringValue === service))
      .flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => r.body.stringValue)));
    assert.equal(bodies.length, 60, `records: ${bodies.length}`);
    assert.equal(new Set(bodies.map((b) => b.split(' ')[1])).size, 60);
  });
}
