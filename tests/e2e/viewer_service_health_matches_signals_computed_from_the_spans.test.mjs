// The service health page: request rate, error rate and latency percentiles per bucket, each
// checked against values this test computes itself from the spans it sent; a point lists
// example traces (errors first, then slowest) that open the trace; the service map shows the
// calls between services. Twice: computed by the collector, and computed in the page from the
// search answers of a Jaeger source (the collector's Jaeger API v3, read as Jaeger).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium, startCollector } from '../support.mjs';

let collector, browser;
const sent = [];

const hex = (n, width) => n.toString(16).padStart(width, '0');

function request(i, startNs, durationNs, error) {
  const traceId = hex(i + 1, 32);
  const span = (spanId, parentSpanId, name, kind, d, status) => ({
    traceId, spanId, ...(parentSpanId ? { parentSpanId } : {}), name, kind,
    startTimeUnixNano: String(startNs), endTimeUnixNano: String(startNs + BigInt(d)), status,
  });
  const resource = (service, spans) => ({
    resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
    scopeSpans: [{ spans }],
  });
  return {
    resourceSpans: [
      resource('web', [span('00000000000000a1', null, 'click buy', 1, durationNs + 2_000_000, {})]),
      resource('api', [span('00000000000000b2', '00000000000000a1', 'POST /buy', 2, durationNs, error ? { code: 2 } : {})]),
    ],
  };
}

before(async () => {
  collector = await startCollector();
  browser = await launchChromium();
  const now = BigInt(Date.now()) * 1_000_000n;
  for (let i = 0; i < 45; i++) {
    const start = now - BigInt(600 - i * 13) * 1_000_000_000n; // spread over the last 10 minutes
    const duration = (1 + ((i * 7) % 23)) * 1_000_000;
    const error = i % 6 === 0;
    sent.push({ start, duration, error, traceId: hex(i + 1, 32) });
    const r = await fetch(`${collector.otlp}/v1/traces`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request(i, start, duration, error)),
    });
    assert.equal(r.status, 200);
  }
});

after(async () => {
  await browser?.close();
  await collector?.stop();
});

const nearestRank = (values, p) => {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.ceil((p * v.length) / 100) - 1];
};

const SOURCES = [
  ['the collector', () => ''],
  ['a Jaeger source, in the page', () => `&traces=${encodeURIComponent(`jaeger:${collector.ui}`)}`],
];

for (const [name, query] of SOURCES) {
  test(`each chart point of a service equals what the spans of its bucket give (${name})`, async () => {
    const page = await browser.newPage();
    await page.goto(`${collector.ui}/services?service=api${query()}`);
    await page.waitForSelector('[data-testid=point-latency]', { timeout: 20000 });
    const sampled = await page.$('[data-testid=health-sample]');
    assert.equal(!!sampled, query() !== '', 'the page says when it computed the signals itself');
    assert.match(await page.textContent('[data-testid=health-title]'), /^api/);
    const read = (id) => page.$$eval(`[data-testid=point-${id}]`, (points) => points.map((p) => ({ ...p.dataset })));
    const [rate, errors, latency] = [await read('rate'), await read('errors'), await read('latency')];
    assert.equal(rate.length, 60, 'a point per bucket of the hour');
    const step = 60_000_000_000n; // an hour in 60 buckets
    let total = 0;
    for (const point of rate) {
      const start = BigInt(point.bucket);
      const inBucket = sent.filter((s) => s.start >= start && s.start < start + step);
      total += inBucket.length;
      assert.ok(Math.abs(Number(point.value) - inBucket.length / 60) < 1e-9, `rate at ${point.bucket}: ${point.value}`);
      if (inBucket.length === 0) {
        assert.equal(errors.find((x) => x.bucket === point.bucket), undefined, 'no error rate without requests');
        continue;
      }
      const e = errors.find((x) => x.bucket === point.bucket);
      const expectedErrors = (100 * inBucket.filter((s) => s.error).length) / inBucket.length;
      assert.ok(Math.abs(Number(e.value) - expectedErrors) < 1e-9, `error rate at ${point.bucket}`);
      const l = latency.find((x) => x.bucket === point.bucket);
      for (const p of [50, 95, 99]) {
        assert.equal(Number(l[`p${p}`]), nearestRank(inBucket.map((s) => s.duration), p), `p${p} at ${point.bucket}`);
      }
    }
    assert.equal(total, sent.length, 'every request lands in exactly one bucket');
    const counts = await page.$$eval('[data-testid=op-count]', (cells) => cells.map((c) => Number(c.textContent)));
    assert.deepEqual(counts, [45, 45], 'all entry spans, then the one operation');

    // The service map: web calls api 45 times, 8 of them failing.
    const edge = await page.$eval('[data-testid=map-edge]', (g) => ({ ...g.dataset }));
    assert.deepEqual(edge, { testid: 'map-edge', parent: 'web', child: 'api', calls: '45', errors: String(sent.filter((s) => s.error).length) });
    await page.close();
  });

  test(`a point lists its bucket’s traces, errors first then slowest, and one opens the trace (${name})`, async () => {
    const page = await browser.newPage();
    await page.goto(`${collector.ui}/services?service=api${query()}`);
    await page.waitForSelector('[data-testid=point-latency]', { timeout: 20000 });
    // The bucket with the most requests.
    const points = await page.$$eval('[data-testid=point-rate]', (ps) => ps.map((p) => ({ ...p.dataset })));
    const busiest = points.reduce((a, b) => (Number(b.value) > Number(a.value) ? b : a));
    await page.click(`[data-testid=point-latency][data-bucket="${busiest.bucket}"]`);
    await page.waitForSelector('[data-testid=example]');
    const start = BigInt(busiest.bucket);
    const expected = sent
      .filter((s) => s.start >= start && s.start < start + 60_000_000_000n)
      .sort((a, b) => Number(b.error) - Number(a.error) || b.duration - a.duration);
    const hrefs = await page.$$eval('[data-testid=example] a', (as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(hrefs, expected.slice(0, 10).map((s) => `/trace/${s.traceId}?span=00000000000000b2`));
    await page.click('[data-testid=example] a');
    await page.waitForSelector('[data-testid=span-row]');
    assert.match(page.url(), new RegExp(`/trace/${expected[0].traceId}`));
    await page.close();
  });
}
