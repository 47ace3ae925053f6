// The viewer's log stream in headless Chromium, fed by the Loki stand-in of the end-to-end tests
// (tests/e2e/recorded_loki.mjs) over its live-tail WebSocket:
//   1. 1,000,000 records loaded in the page (a buffer of 1,000,000): a text filter applied,
//      from the input event to the painted count (median of several needles; the store's own
//      filter time too), a regular-expression filter, and the memory held (JS heap and wasm);
//   2. a live tail at 10,000 lines/s for 30 s into the default buffer (100,000 lines): the
//      longest frame, frames over 50 ms, and the lines dropped from the buffer.
// Prints JSON. Needs a built viewer and collector (it serves the viewer). Options: `--records N`,
// `--seconds S`, `--rate R` for quicker runs.
import { launchChromium, startCollector } from '../tests/support.mjs';
import { startRecordedLoki } from '../tests/e2e/recorded_loki.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RECORDS = arg('records', 1_000_000);
const SECONDS = arg('seconds', 30);
const RATE = arg('rate', 10_000);

const services = ['checkout', 'cart', 'catalog', 'payments', 'search', 'auth', 'audit', 'edge-worker'];
const levels = ['info', 'info', 'info', 'debug', 'warn', 'error', 'trace', 'info', 'debug', 'fatal'];
const routes = ['/api/items', '/api/cart', '/api/pay', '/api/search', '/login'];

/** `n` records from number `from` on, as Loki streams (one per service and level). */
function batch(from, n, baseMs) {
  const streams = new Map();
  for (let i = from; i < from + n; i++) {
    const service = services[i % services.length];
    const level = levels[(i * 7) % levels.length];
    const key = `${service}|${level}`;
    if (!streams.has(key)) streams.set(key, { stream: { service_name: service, level }, values: [] });
    const route = routes[i % routes.length];
    const line = level === 'error'
      ? `${route} failed after ${i % 977} ms: upstream timeout on shard ${i % 31} (request ${i})`
      : `GET ${route}/${i % 10007} ${level === 'warn' ? 429 : 200} served in ${i % 997} ms by worker-${i % 13} (request ${i})`;
    const meta = { http_route: route, trace_id: (i * 2654435761).toString(16).padStart(32, '0').slice(-32) };
    streams.get(key).values.push([String(BigInt(baseMs) * 1000000n + BigInt(i) * 1000n), line, { structuredMetadata: meta }]);
  }
  return [...streams.values()];
}

const loki = await startRecordedLoki({ streams: [] });
const collector = await startCollector();
const browser = await launchChromium();
const source = `logs=${encodeURIComponent(`loki:${loki.url}`)}`;
const out = { records: RECORDS };

async function memory(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  // The module is instantiated once; its init returns the same exports again.
  const wasmBytes = await page.evaluate(async () => (await (await import('/viewer.js')).default()).memory.buffer.byteLength);
  return { jsHeapBytes: usedSize, wasmMemoryBytes: wasmBytes };
}

try {
  // 1. A million records, then filters.
  {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${collector.ui}/logs?${source}&live=1&buffer=${RECORDS}`);
    await page.waitForFunction(() => document.querySelector('[data-testid=live-status]')?.textContent === 'live (WebSocket)');
    const base = Date.now() - 3_600_000;
    const t0 = Date.now();
    for (let from = 0; from < RECORDS; from += 10_000) {
      loki.tail(batch(from, Math.min(10_000, RECORDS - from), base));
      // Let the socket drain now and then, as a server would.
      if (from % 100_000 === 0) await new Promise((r) => setTimeout(r, 10));
    }
    await page.waitForFunction((n) => document.querySelector('[data-testid=match-count]')?.textContent === `${n} of ${n} lines`, RECORDS, { timeout: 600_000, polling: 500 });
    out.loadMs = Date.now() - t0;
    await page.click('[data-testid=live-toggle]'); // stop the tail: the filter is measured alone
    Object.assign(out, await memory(page));

    const apply = (text, regex) =>
      page.evaluate(async ({ text, regex }) => {
        const box = document.querySelector('[data-testid=log-regex]');
        if (box.checked !== regex) box.click();
        await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
        const count = document.querySelector('[data-testid=match-count]');
        const before = count.textContent;
        const input = document.querySelector('[data-testid=log-text]');
        const start = performance.now();
        input.value = text;
        input.dispatchEvent(new Event('input', { bubbles: true }));
        await new Promise((resolve) => {
          const check = () => (count.textContent !== before ? resolve() : requestAnimationFrame(check));
          check();
        });
        // Until the frame that shows it has been painted.
        await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
        return { ms: performance.now() - start, storeMs: Number(count.dataset.filterMs), shown: count.textContent };
      }, { text, regex });
    const rounds = [];
    for (const needle of ['worker-7 ', 'upstream timeout', 'request 99999)', 'shard 3 ', 'served in 5']) {
      rounds.push(await apply(needle, false));
      await apply('', false);
    }
    rounds.sort((a, b) => a.ms - b.ms);
    out.textFilterMs = rounds[Math.floor(rounds.length / 2)].ms;
    out.textFilterStoreMs = [...rounds].sort((a, b) => a.storeMs - b.storeMs)[Math.floor(rounds.length / 2)].storeMs;
    out.textFilterRounds = rounds.map((r) => `${r.ms.toFixed(0)} ms (${r.shown})`);
    const re = await apply('(?i)TIMEOUT on shard \\d+ ', true);
    out.regexFilterMs = re.ms;
    out.regexFilterShown = re.shown;
    await page.close();
  }

  // 2. The live tail at RATE lines/s for SECONDS s into the default buffer.
  {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${collector.ui}/logs?${source}&live=1`);
    await page.waitForFunction(() => document.querySelector('[data-testid=live-status]')?.textContent === 'live (WebSocket)');
    await page.evaluate(() => {
      window.__frames = [];
      let last = performance.now();
      const tick = (now) => {
        window.__frames.push(now - last);
        last = now;
        if (!window.__stopFrames) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    const base = Date.now();
    const start = Date.now();
    let sent = 0;
    while (Date.now() - start < SECONDS * 1000) {
      const due = Math.floor(((Date.now() - start) / 1000) * RATE);
      if (due > sent) {
        loki.tail(batch(sent, due - sent, base));
        sent = due;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    await page.waitForFunction((n) => {
      const [m, held] = (document.querySelector('[data-testid=match-count]')?.textContent.match(/\d+/g) ?? []).map(Number);
      const dropped = Number(document.querySelector('[data-testid=dropped-count]')?.dataset.dropped ?? 0);
      return m === held && held + dropped === n;
    }, sent, { timeout: 60_000 });
    const frames = await page.evaluate(() => {
      window.__stopFrames = true;
      const f = window.__frames.slice(1).sort((a, b) => a - b);
      return { count: f.length, max: f.at(-1), p99: f[Math.floor(f.length * 0.99)], over50: f.filter((x) => x > 50).length };
    });
    out.tail = {
      linesSent: sent,
      seconds: SECONDS,
      rate: RATE,
      frames: frames.count,
      maxFrameMs: frames.max,
      p99FrameMs: frames.p99,
      framesOver50Ms: frames.over50,
      droppedLines: Number(await page.getAttribute('[data-testid=dropped-count]', 'data-dropped')),
      held: (await page.textContent('[data-testid=match-count]')).match(/of (\d+)/)[1],
      ...(await memory(page)),
    };
    await page.close();
  }
  console.log(JSON.stringify(out));
} finally {
  await browser.close();
  await collector.stop();
  await loki.stop();
}
