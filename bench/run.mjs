// `npm run bench`: measures edgescope against its named peers in one run and rewrites the
// results table in BENCHMARKS.md (one row per figure: ours, the peer's, the ratio, the date,
// the command). Prints the table too. Timings are medians of several rounds; nothing asserts.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { report as wasmReport } from './wasm_top.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const shared = join(root, '..', 'shared', 'bench', 'bundle-size');
const today = new Date().toISOString().slice(0, 10);
const sizesOnly = process.argv.includes('--sizes');
const rows = [];
const row = (figure, ours, peer, peerName, unit, command) =>
  rows.push({ figure, ours, peer, peerName, unit, ratio: peer ? ours / peer : NaN, command });

// The pinned OpenTelemetry JS reference, installed once into a scratch copy (shared/ is read-only).
const lockHash = createHash('sha256').update(readFileSync(join(shared, 'package-lock.json'))).digest('hex').slice(0, 12);
const yard = join(root, 'target', 'bench', `yardstick-${lockHash}`);
if (!existsSync(join(yard, 'node_modules'))) {
  mkdirSync(yard, { recursive: true });
  cpSync(shared, yard, { recursive: true });
  console.log('[bench] installing the pinned OpenTelemetry JS reference (npm ci)…');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: yard, stdio: 'inherit' });
}

// 1. Bundle size, gzip -9 and brotli-11 of JS + wasm, with the yardstick's esbuild settings.
// The yardstick leaves each bundle in a new temporary folder; it gets a private TMPDIR that is removed afterwards.
const measure = (entries, extra = []) => {
  const scratch = mkdtempSync(join(tmpdir(), 'edgescope-yardstick-'));
  try {
    const out = execFileSync('node', [join(yard, 'measure.mjs'), '--json', ...entries, ...extra],
      { encoding: 'utf8', env: { ...process.env, TMPDIR: scratch } });
    return JSON.parse(out);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
};
const sizes = measure([join(root, 'bench', 'entries', 'browser-default.js'), join(root, 'bench', 'entries', 'browser-full.js')]);
const edge = measure([join(root, 'bench', 'entries', 'workerd.js')], ['--', '{"conditions":["workerd","worker"],"loader":{".wasm":"file"}}']);
const ref = Object.fromEntries(sizes.map((r) => [r.entry, r]));
const browser = ref['browser-default.js'];
const otelWeb = ref['otel-tracing-fetch-docload.js'];
const sizeCmd = 'npm run bench';
row('browser entry, gzip -9 (JS + wasm)', browser.gzip, otelWeb.gzip, 'OTel JS sdk-trace-web + OTLP + fetch + document-load', 'B', sizeCmd);
row('browser entry, brotli-11 (JS + wasm)', browser.brotli, otelWeb.brotli, 'same', 'B', sizeCmd);
row('browser entry with every instrumentation (edgescope/full), gzip -9', ref['browser-full.js'].gzip, otelWeb.gzip, 'same (which does less)', 'B', sizeCmd);
row('browser entry with every instrumentation (edgescope/full), brotli-11', ref['browser-full.js'].brotli, otelWeb.brotli, 'same (which does less)', 'B', sizeCmd);
const workerd = edge.find((r) => r.entry === 'workerd.js');
row('workerd entry, gzip -9 (JS + wasm)', workerd.gzip, 82 * 1024, '@microlabs/otel-cf-workers (82 KB, figure from the issue, not measured here)', 'B', sizeCmd);
row('workerd entry, brotli-11 (JS + wasm)', workerd.brotli, NaN, '(no peer figure)', 'B', sizeCmd);

// Where those bytes are: each entry's JavaScript and wasm apart, and the modules' top
// contributors (twiggy), printed and written into the notes of BENCHMARKS.md.
const packed = (file) => {
  const bytes = readFileSync(join(root, 'sdk', 'dist', 'wasm', file));
  return { gzip: gzipSync(bytes, { level: 9 }).length, brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length };
};
const split = [
  ['browser default', browser, packed('edgescope_bg.wasm')],
  ['edgescope/full', ref['browser-full.js'], packed('edgescope_full_bg.wasm')],
  ['workerd', workerd, packed('edgescope_bg.wasm')],
]
  .map(([name, all, wasm]) => `${name} ${all.gzip.toLocaleString('en')} B gzip (wasm ${wasm.gzip.toLocaleString('en')}, JavaScript ${(all.gzip - wasm.gzip).toLocaleString('en')}), ${all.brotli.toLocaleString('en')} B brotli (wasm ${wasm.brotli.toLocaleString('en')}, JavaScript ${(all.brotli - wasm.brotli).toLocaleString('en')})`)
  .join('; ');
let sizeNotes = `- Bundle sizes by part (${today}, \`npm run bench\`; each file compressed alone, as the yardstick does): ${split}.`;
try {
  sizeNotes += `\n- Where the wasm bytes are (twiggy, raw bytes of the shipped modules; \`node bench/wasm_top.mjs\`):\n${wasmReport(12).replace(/^/gm, '  ')}`;
} catch (e) {
  sizeNotes += `\n- (twiggy did not run: ${e.message.split('\n')[0]}; \`bash scripts/setup.sh\` installs it.)`;
}
console.log(sizeNotes);

// 1b. What each browser instrumentation adds (JS only, gzip; the wasm is shared).
const isizes = JSON.parse(execFileSync('node', [join(root, 'bench', 'instrumentation_sizes.mjs')], { encoding: 'utf8' }));
row('browser: the JS API alone (no instrumentation), JS gzip -9', isizes.baseGzip, NaN, '(the core every entry has)', 'B', 'node bench/instrumentation_sizes.mjs');
for (const m of isizes.modules) {
  row(`browser instrumentation \`${m.name}\` (${m.what}), added JS gzip -9`, m.gzip, NaN, '(no peer)', 'B', 'node bench/instrumentation_sizes.mjs');
}

// `--sizes`: only the size rows and notes (deterministic, so a loaded machine may measure them);
// the timing rows keep their figures and dates.
if (!sizesOnly) {
  // 2. Per-span cost in Node 20: start, three attributes, end, batch processing, a discarding export.
  const spanBench = JSON.parse(
    execFileSync('node', [join(root, 'bench', 'spans.mjs')], { encoding: 'utf8', env: { ...process.env, NODE_PATH: join(yard, 'node_modules') } }),
  );
  row('ns per span (start, 3 attributes, end, batch, export)', spanBench.ours, spanBench.otel, '@opentelemetry/sdk-trace-base BatchSpanProcessor', 'ns', 'node bench/spans.mjs');
  const leanBench = JSON.parse(
    execFileSync('node', [join(root, 'bench', 'spans.mjs'), '--lean'], { encoding: 'utf8', env: { ...process.env, NODE_PATH: join(yard, 'node_modules') } }),
  );
  row(
    'ns per span through the browser and workerd module (the core records the span; in Node)',
    leanBench.ours,
    leanBench.otel,
    '@opentelemetry/sdk-trace-base BatchSpanProcessor',
    'ns',
    'node bench/spans.mjs --lean',
  );
  row('ns per inject into a plain object', spanBench.oursInject, spanBench.otelInject, '@opentelemetry/core W3CTraceContextPropagator', 'ns', 'node bench/spans.mjs');

  // 3. Bytes on the wire per span, and memory with an exporter that never answers.
  const wire = JSON.parse(
    execFileSync('node', ['--expose-gc', join(root, 'bench', 'wire_and_memory.mjs')], {
      encoding: 'utf8',
      env: { ...process.env, NODE_PATH: join(yard, 'node_modules') },
    }),
  );
  const wireCmd = 'node --expose-gc bench/wire_and_memory.mjs';
  row('bytes on the wire per span (protobuf + gzip)', wire.oursBytesPerSpan, wire.otelJsonBytesPerSpan, 'OTel JS OTLP/HTTP JSON exporter body', 'B', wireCmd);
  row('same, against the peer body gzipped', wire.oursBytesPerSpan, wire.otelJsonGzipBytesPerSpan, 'OTel JS OTLP/JSON body, gzip', 'B', wireCmd);
  row('JS heap growth, 1,000,000 spans, blocked exporter', wire.oursHeap, wire.otelHeap, '@opentelemetry/sdk-trace-base BatchSpanProcessor (queue 2048)', 'B', wireCmd);
  row('wasm memory after those 1,000,000 spans', wire.wasmBytes, NaN, '(no peer: OTel JS has no wasm)', 'B', wireCmd);

  // 3b. Added latency per request in workerd: the same handler with and without `instrument`.
  const edgeLatency = JSON.parse(execFileSync('node', [join(root, 'bench', 'edge_latency.mjs')], { encoding: 'utf8' }));
  const edgeCmd = 'node bench/edge_latency.mjs';
  row('workerd: median request latency, instrumented (SERVER span, log, waitUntil export)', edgeLatency.instrumentedMs, edgeLatency.plainMs, 'the same handler uninstrumented, same run', 'ms', edgeCmd);
  row('workerd: added latency per request at the median', edgeLatency.addedMs, 0.2, 'target from the edge issue (0.2 ms)', 'ms', edgeCmd);
  row('workerd: same, back-to-back requests to one worker (blocks of 50)', edgeLatency.backToBackAddedMs, 0.2, 'target from the edge issue (0.2 ms), measured there with idle gaps', 'ms', edgeCmd);

  // 4. The viewer on a 99,936-span trace file, in headless Chromium. The peer figures are Jaeger
  // UI 2.20's as the viewer issue reports them for a trace built the same way (not measured here).
  const viewer = JSON.parse(execFileSync('node', [join(root, 'bench', 'viewer.mjs')], { encoding: 'utf8' }));
  const viewerCmd = 'node bench/viewer.mjs';
  row('viewer: 99,936-span file to first painted row', viewer.firstPaintMs, 8600, 'Jaeger UI 2.20 (figure from the issue, not measured here)', 'ms', viewerCmd);
  row('viewer: one page-down scroll on that trace', viewer.pageDownMs, 1600, 'Jaeger UI 2.20, worst page-down (issue figure)', 'ms', viewerCmd);
  row('viewer: JS heap with that trace open (wasm memory not included)', viewer.jsHeapBytes, 257e6, 'Jaeger UI 2.20 JS heap (issue figure)', 'B', viewerCmd);
  row('viewer: expand all on that trace', viewer.expandAllMs, 2600, 'Jaeger UI 2.20, expand all (issue figure)', 'ms', viewerCmd);
  row('viewer: collapse all on that trace', viewer.collapseAllMs, NaN, '(no peer figure; target 50 ms)', 'ms', viewerCmd);
  row('viewer: search keystroke on that trace (first key)', viewer.searchFirstKeyMs, NaN, '(no peer figure; target 50 ms)', 'ms', viewerCmd);
  row('viewer: search keystroke on that trace (next key)', viewer.searchNextKeyMs, NaN, '(no peer figure; target 50 ms)', 'ms', viewerCmd);
  row('viewer: wasm memory with that trace open', viewer.wasmMemoryBytes, NaN, '(no peer: Jaeger UI has no wasm)', 'B', viewerCmd);
  row('viewer download: wasm + JS + CSS + HTML, gzip -9', viewer.viewerGzipBytes, 250 * 1024, 'budget from the viewer issue (250 KB)', 'B', viewerCmd);

  // 4b. The viewer's log stream, in headless Chromium, fed by the Loki stand-in over the live tail.
  // The peer figures are the targets of the viewer-logs issue.
  const logs = JSON.parse(execFileSync('node', [join(root, 'bench', 'logs.mjs')], { encoding: 'utf8', maxBuffer: 1 << 24 }));
  const logsCmd = 'node bench/logs.mjs';
  row('viewer logs: text filter over 1,000,000 records, input to painted count (median of 5 needles)', logs.textFilterMs, 100, 'target from the viewer-logs issue', 'ms', logsCmd);
  row('viewer logs: the same filter in the wasm store alone', logs.textFilterStoreMs, 100, 'same', 'ms', logsCmd);
  row('viewer logs: regular-expression filter over 1,000,000 records', logs.regexFilterMs, NaN, '(no target)', 'ms', logsCmd);
  row('viewer logs: memory with 1,000,000 records loaded (JS heap + wasm memory)', logs.jsHeapBytes + logs.wasmMemoryBytes, NaN, '(no target)', 'B', logsCmd);
  row('viewer logs: live tail at 10,000 lines/s for 30 s, longest frame', logs.tail.maxFrameMs, 50, 'target from the viewer-logs issue (frames under 50 ms)', 'ms', logsCmd);
  row('viewer logs: same, frames over 50 ms', logs.tail.framesOver50Ms, NaN, `(of ${logs.tail.frames.toLocaleString('en')} frames)`, 'frames', logsCmd);
  row('viewer logs: same, oldest lines dropped from the 100,000-line buffer', logs.tail.droppedLines, NaN, `(of ${logs.tail.linesSent.toLocaleString('en')} sent)`, 'lines', logsCmd);
  row('viewer logs: memory after that tail (JS heap + wasm memory)', logs.tail.jsHeapBytes + logs.tail.wasmMemoryBytes, NaN, '(no target)', 'B', logsCmd);

  // 5. The collector: ingest of protobuf batches of 512 spans over loopback HTTP (4 keep-alive
  // connections), trace-by-id latency at 1,000,000 stored spans, resident memory. The peer
  // figures are the targets of the collector issue (no other collector runs here).
  // Random trace ids, as real traffic has them (sequential ones fill the indexes at their end
  // and flatter the store); each figure is the median of 3 runs, each with a fresh database.
  const ingest = (random) =>
    [1, 2, 3]
      .map(() =>
        JSON.parse(
          execFileSync('cargo', ['run', '-q', '--release', '-p', 'edgescope-collector', '--example', 'ingest_bench', ...(random ? ['--', '--random-trace-ids'] : [])], {
            cwd: root,
            encoding: 'utf8',
          }),
        ),
      );
  const mid = (runs, key) => runs.map((r) => r[key]).sort((a, b) => a - b)[1];
  const randomRuns = ingest(true);
  const sequentialRuns = ingest(false);
  const collectorCmd = 'cargo run --release -p edgescope-collector --example ingest_bench -- --random-trace-ids';
  row('collector: spans ingested per second, random trace ids (protobuf, 512-span batches; median of 3)', mid(randomRuns, 'spansPerSecond'), 100000, 'target from the collector issue', 'spans/s', collectorCmd);
  row('collector: spans ingested per second, sequential trace ids (median of 3)', mid(sequentialRuns, 'spansPerSecond'), 100000, 'target from the collector issue', 'spans/s', 'cargo run --release -p edgescope-collector --example ingest_bench');
  row('collector: trace by id, p99, 1,000,000 spans stored (random ids, median of 3)', mid(randomRuns, 'traceByIdP99Ms'), 20, 'target from the collector issue', 'ms', collectorCmd);
  row('collector: resident memory after ingesting 1,000,000 spans (random ids, median of 3)', mid(randomRuns, 'rssBytes'), NaN, '(no target)', 'B', collectorCmd);
}

const fmt = (v, unit) =>
  Number.isNaN(v)
    ? '–'
    : unit === 'B' || unit === 'spans/s' || unit === 'lines' || unit === 'frames'
      ? `${Math.round(v).toLocaleString('en')} ${unit}`
      : `${v < 10 ? v.toFixed(2) : v.toFixed(0)} ${unit}`;
const line = (r) =>
  `| ${r.figure} | ${fmt(r.ours, r.unit)} | ${r.peerName} | ${fmt(r.peer, r.unit)} | ${Number.isNaN(r.ratio) ? '–' : r.ratio.toFixed(2)} | ${today} | \`${r.command}\` |`;
const file = join(root, 'BENCHMARKS.md');
const text = readFileSync(file, 'utf8');
const start = text.indexOf('<!-- results -->');
const end = text.indexOf('<!-- /results -->');
// With `--sizes`, the rows measured replace theirs (by figure) and the others stay as they were.
const kept = text
  .slice(start, end)
  .split('\n')
  .filter((l) => l.startsWith('| ') && !l.startsWith('| figure'));
const figureOf = (l) => l.slice(2, l.indexOf(' | '));
const measured = new Map(rows.map((r) => [r.figure, line(r)]));
const body = sizesOnly
  ? [...kept.map((l) => measured.get(figureOf(l)) ?? l), ...rows.filter((r) => !kept.some((l) => figureOf(l) === r.figure)).map(line)]
  : rows.map(line);
const table = ['| figure | edgescope | peer | peer value | ratio | date | command |', '|---|---:|---|---:|---:|---|---|', ...body].join('\n');
console.log(table);

let updated = `${text.slice(0, start)}<!-- results -->\n${table}\n${text.slice(end)}`;
// The size notes are generated too: between their markers, placed first under Notes.
const sizesStart = updated.indexOf('<!-- sizes -->');
const sizesEnd = updated.indexOf('<!-- /sizes -->');
const sizesBlock = `<!-- sizes -->\n${sizeNotes}\n<!-- /sizes -->`;
updated =
  sizesStart >= 0 && sizesEnd > sizesStart
    ? `${updated.slice(0, sizesStart)}${sizesBlock}${updated.slice(sizesEnd + '<!-- /sizes -->'.length)}`
    : updated.replace('## Notes\n\n', `## Notes\n\n${sizesBlock}\n`);
writeFileSync(file, updated);
