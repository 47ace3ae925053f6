// Page objects for the viewer's trace view, shared by the viewer_trace_* specs, and the small
// OTLP/JSON trace they open.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { launchChromium, startCollector } from '../support.mjs';

export const TRACE_ID = '5b8efff798038103d269b633813fc60c';
export const LINKED_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
export const SPAN = {
  root: 'eee19b7ec3c1b174',
  auth: 'eee19b7ec3c1b175',
  query: 'eee19b7ec3c1b176',
  payment: 'eee19b7ec3c1b177',
  charge: 'eee19b7ec3c1b178',
};
export const LONG_STATEMENT = `SELECT ${Array.from({ length: 120 }, (_, i) => `col_${i}`).join(', ')} FROM users WHERE id = $1`;

const T = 1_700_000_000_000_000_000n;
const ms = (n) => String(T + BigInt(n) * 1_000_000n);
const str = (key, value) => ({ key, value: { stringValue: value } });

/**
 * Five spans in three services: GET /checkout → auth → SELECT users, and → payment (an
 * error, with an event and a link) → charge card, which starts before its parent (clock skew).
 * The critical path is GET /checkout → payment → charge card.
 */
export function smallTrace(overrides = {}) {
  const span = (id, parent, name, start, end, extra = {}) => ({
    traceId: TRACE_ID,
    spanId: id,
    ...(parent ? { parentSpanId: parent } : {}),
    name,
    kind: 2,
    startTimeUnixNano: ms(start),
    endTimeUnixNano: ms(end),
    ...extra,
    ...(overrides[name] ?? {}),
  });
  const resource = (service, extra = []) => ({ attributes: [str('service.name', service), ...extra] });
  return {
    resourceSpans: [
      {
        resource: resource('web', [str('deployment.environment', 'test')]),
        scopeSpans: [{
          scope: { name: 'edgescope-test', version: '1.2.3' },
          spans: [span(SPAN.root, null, 'GET /checkout', 0, 100, { attributes: [str('http.method', 'GET'), str('http.route', '/checkout')] })],
        }],
      },
      {
        resource: resource('auth'),
        scopeSpans: [{
          scope: { name: 'auth-lib' },
          spans: [
            span(SPAN.auth, SPAN.root, 'authenticate', 5, 30, { attributes: [str('user.id', 'u-42')] }),
            span(SPAN.query, SPAN.auth, 'SELECT users', 8, 18, { kind: 3, attributes: [str('db.statement', LONG_STATEMENT)] }),
          ],
        }],
      },
      {
        resource: resource('payments'),
        scopeSpans: [{
          scope: { name: 'payments-lib' },
          spans: [
            span(SPAN.payment, SPAN.root, 'payment', 25, 95, {
              status: { code: 2, message: 'card declined' },
              events: [{ timeUnixNano: ms(50), name: 'retry', attributes: [str('attempt', '2')] }],
              links: [{ traceId: LINKED_TRACE_ID, spanId: 'aaaaaaaaaaaaaaaa', attributes: [str('link.kind', 'follows')] }],
            }),
            span(SPAN.charge, SPAN.payment, 'charge card', 20, 40),
          ],
        }],
      },
    ],
  };
}

/** Directories of `tempFile`, removed when the test process exits. */
const tempDirs = [];
process.once('exit', () => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Writes `content` (a string, or JSON of an object) to a fresh temporary file, removed when the
 * test process exits; returns its path. */
export function tempFile(name, content) {
  const dir = mkdtempSync(join(tmpdir(), 'edgescope-viewer-'));
  tempDirs.push(dir);
  const file = join(dir, name);
  writeFileSync(file, typeof content === 'string' || Buffer.isBuffer(content) ? content : JSON.stringify(content));
  return file;
}

/** Posts an OTLP/JSON document to the collector. */
export async function ingest(collector, doc) {
  const r = await fetch(`${collector.otlp}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(doc),
  });
  if (!r.ok) throw new Error(`ingest answered ${r.status}: ${await r.text()}`);
}

/**
 * For a test file: a collector holding `doc` and a Chromium, started before its tests and
 * stopped after them (node:test hooks). Their `collector` and `browser` are set once started.
 */
export function collectorWithTrace(doc) {
  const env = {};
  before(async () => {
    env.collector = await startCollector();
    env.browser = await launchChromium();
    await ingest(env.collector, doc);
  });
  after(async () => {
    await env.browser?.close();
    await env.collector?.stop();
  });
  return env;
}

/** The trace view: the header, toolbar, waterfall rows and the span details panel. */
export class TraceView {
  constructor(page) {
    this.page = page;
    this.rows = page.locator('[data-testid=span-row]');
    this.details = page.locator('[data-testid=span-details]');
    this.search = page.locator('[data-testid=trace-search]');
    this.error = page.locator('[data-testid=error]');
  }

  /** Opens `file` through the /open page's file input. */
  static async openFile(browser, collector, file) {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await page.goto(`${collector.ui}/open`);
    await page.setInputFiles('[data-testid=file-input]', file);
    return new TraceView(page);
  }

  /** Opens /trace/{id}, with `?span=` when `span` is given. */
  static async open(browser, collector, traceId, span) {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await page.goto(`${collector.ui}/trace/${traceId}${span ? `?span=${span}` : ''}`);
    return new TraceView(page);
  }

  async ready() {
    await this.rows.first().waitFor();
    return this;
  }

  /** The span names of the rows in the DOM, top to bottom. */
  async names() {
    return this.page.$$eval('[data-testid=span-row]', (rows) =>
      rows
        .sort((a, b) => Number(a.dataset.index) - Number(b.dataset.index))
        .map((r) => r.querySelector('[data-testid=span-name]').textContent));
  }

  row(name) {
    return this.rows.filter({ has: this.page.getByText(name, { exact: true }) });
  }

  async select(name) {
    await this.row(name).locator('[data-testid=span-name]').click();
    await this.details.waitFor();
  }

  async selectedName() {
    return this.page.textContent('[data-testid=span-row].selected [data-testid=span-name]');
  }

  async toggle(name) {
    await this.row(name).locator('[data-testid=toggle]').click();
  }

  async click(testid) {
    await this.page.click(`[data-testid=${testid}]`);
  }

  async header(testid) {
    return (await this.page.textContent(`[data-testid=${testid}]`)).trim();
  }

  /** The key/value rows of a details table (`details-attributes`, `details-resource`, …). */
  async table(testid) {
    return this.page.$$eval(`[data-testid=${testid}] tr`, (trs) =>
      Object.fromEntries(trs.map((tr) => [tr.querySelector('th').textContent, tr.querySelector('td').textContent])));
  }

  /** Presses keys with the focus on the page, outside any input. */
  async press(...keys) {
    for (const key of keys) await this.page.keyboard.press(key);
  }
}
