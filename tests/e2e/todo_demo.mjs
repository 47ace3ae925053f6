// The to-do demo (www/) for tests and scripts: its whole stack on free 127.0.0.1 ports, and a page
// object for the to-do page.
import { startDemo } from '../../www/server.mjs';
import { startWorkers } from '../../www/worker/workerd.mjs';
import { getJson, launchChromium, startCollector } from '../support.mjs';

/**
 * Starts a collector, the demo's workers in workerd (exporting to it), the demo's web server and
 * Chromium. Resolves to `{ collector, workers, demo, browser, stop() }`.
 */
export async function startTodoStack() {
  const started = [];
  const stack = {
    async stop() {
      while (started.length) await started.pop()();
    },
  };
  try {
    stack.collector = await startCollector();
    started.push(() => stack.collector.stop());
    stack.workers = await startWorkers({ otlp: stack.collector.otlp });
    started.push(() => stack.workers.stop());
    stack.demo = await startDemo({ otlp: stack.collector.otlp, api: stack.workers.api, viewer: stack.collector.ui });
    started.push(() => stack.demo.close());
    stack.browser = await launchChromium();
    started.push(() => stack.browser.close());
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return stack;
}

/**
 * The to-do page. Each action resolves, once the page has listed it under "Recent actions", to
 * that entry: `{ name, status, traceId }` (the span name, the HTTP status, the trace id).
 */
export class TodoPage {
  constructor(page) {
    this.page = page;
  }

  /** Opens the page and waits until the list is loaded (its first action). */
  async open(url) {
    await this.page.goto(url);
    await this.page.waitForSelector('[data-testid=action][data-name="load to-dos"]');
    return this;
  }

  async actionCount() {
    return this.page.locator('[data-testid=action]').count();
  }

  /** Runs `act`, then waits for the action it caused to be listed, and returns it. */
  async #action(act) {
    const before = await this.actionCount();
    await act();
    await this.page.waitForFunction((n) => document.querySelectorAll('[data-testid=action]').length > n, before);
    const entry = await this.page.locator('[data-testid=action]').first().evaluate((li) => ({ ...li.dataset }));
    return { name: entry.name, status: Number(entry.status) || entry.status, traceId: entry.traceId };
  }

  row(title) {
    return this.page.locator('[data-testid=todo]', { has: this.page.locator('.title', { hasText: title }) });
  }

  titles() {
    return this.page.locator('[data-testid=todo] .title').allTextContents();
  }

  add(title) {
    return this.#action(async () => {
      await this.page.fill('#new-title', title);
      await this.page.click('#add');
    });
  }

  complete(title) {
    return this.#action(() => this.row(title).locator('input[type=checkbox]').click());
  }

  remove(title) {
    return this.#action(() => this.row(title).locator('button.delete').click());
  }

  /** The fault switch: '' (healthy), 'slow' or 'fail'. */
  async setFault(fault) {
    await this.page.click(`label:has(input[name=fault][value="${fault}"])`);
  }

  errorMessage() {
    return this.page.textContent('[data-testid=error]');
  }
}

/** The log records of a trace, each with its resource's service name. */
export async function traceLogs(collector, traceId) {
  const doc = await getJson(`${collector.ui}/api/logs?trace_id=${traceId}`);
  return doc.result.resourceLogs.flatMap((rl) => {
    const service = rl.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
    return rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => ({ ...r, service })));
  });
}
