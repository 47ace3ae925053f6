// A page object for the viewer's log stream (`/logs`), shared by its end-to-end tests.

export class LogsPage {
  constructor(page) {
    this.page = page;
  }

  /** Opens `/logs` with a query string and waits for the source's first answer. */
  async open(base, query = '') {
    await this.page.goto(`${base}/logs${query ? `?${query}` : ''}`);
    await this.page.waitForSelector('[data-testid=match-count][data-loading=false]');
    return this;
  }

  /** Starts the live tail and waits until its status reads `status` (`live (WebSocket)`, `live (polling every second)`). */
  async goLive(status) {
    await this.page.click('[data-testid=live-toggle]');
    await this.page.waitForFunction((s) => document.querySelector('[data-testid=live-status]')?.textContent === s, status);
  }

  /** `[matching, held]` from the count above the list. */
  async counts() {
    const text = await this.page.textContent('[data-testid=match-count]');
    return text.match(/(\d+) of (\d+)/).slice(1).map(Number);
  }

  async waitForCount(matching, timeout = 15000) {
    await this.page.waitForFunction(
      (n) => document.querySelector('[data-testid=match-count]')?.textContent.startsWith(`${n} of`),
      matching,
      { timeout },
    );
  }

  /** The rows in the DOM, top (newest) first: `{ level, levelClass, service, message }`. */
  rows() {
    return this.page.$$eval('[data-testid=log-row]', (rows) =>
      rows
        .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
        .map((r) => ({
          level: r.querySelector('[data-testid=log-level]').textContent,
          levelClass: r.querySelector('[data-testid=log-level]').className,
          service: r.querySelector('[data-testid=log-service-name]').textContent,
          message: r.querySelector('[data-testid=log-message]').textContent,
        })),
    );
  }

  async filterText(text, { regex = false } = {}) {
    if ((await this.page.isChecked('[data-testid=log-regex]')) !== regex) await this.page.click('[data-testid=log-regex]');
    await this.page.fill('[data-testid=log-text]', text);
  }

  async filterService(name) {
    await this.page.selectOption('[data-testid=log-service]', name);
  }

  async filterLevel(level) {
    await this.page.selectOption('[data-testid=log-level]', level);
  }

  async filterAttribute(pair) {
    await this.page.fill('[data-testid=log-attribute]', pair);
    await this.page.press('[data-testid=log-attribute]', 'Enter');
  }

  /** Expands the row whose message contains `text` and returns its details element. */
  async expand(text) {
    await this.page.click(`[data-testid=log-row]:has([data-testid=log-message]:text("${text}"))`);
    return this.page.waitForSelector('[data-testid=log-details]');
  }

  /** Drags across the histogram from one fraction of its width to another. */
  async dragHistogram(from, to) {
    const box = await (await this.page.$('[data-testid=log-histogram]')).boundingBox();
    const y = box.y + box.height / 2;
    await this.page.mouse.move(box.x + box.width * from, y);
    await this.page.mouse.down();
    await this.page.mouse.move(box.x + box.width * ((from + to) / 2), y);
    await this.page.mouse.move(box.x + box.width * to, y);
    await this.page.mouse.up();
  }

  status() {
    return this.page.textContent('[data-testid=live-status]');
  }

  async dropped() {
    return Number(await this.page.getAttribute('[data-testid=dropped-count]', 'data-dropped'));
  }
}
