// The search form's fields show the search of the address: after Back, for a link's `lookback`
// the Time field does not offer (`2h`, as itself), and for a service or operation the source does
// not list (an option of its own), so that Search with the form untouched searches what it shows.
// A duration no source takes (`inf`, `1e400`) is the form's error, not blamed on the source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ingest, smallTrace } from './viewer_pages.mjs';
import { collectorAndBrowser } from './viewer_env.mjs';

const env = collectorAndBrowser();

/** Each select's value and the text of the option it shows. */
const fields = (page) => page.evaluate(() => Object.fromEntries(['service', 'operation', 'lookback'].map((id) => {
  const select = document.querySelector(`[data-testid=${id}]`);
  return [id, `${select.value} (${select.selectedOptions[0]?.textContent})`];
})));

/** Waits until the address's `lookback` is `want` and the Time field shows it. */
const lookbackShown = (page, want) => page.waitForFunction((want) =>
  new URLSearchParams(location.search).get('lookback') === want
    && document.querySelector('[data-testid=lookback]').value === want, want, { timeout: 10000 });

async function choose(page, lookback) {
  await page.selectOption('[data-testid=lookback]', lookback);
  await page.click('[data-testid=search]');
  await page.waitForFunction((want) => new URLSearchParams(location.search).get('lookback') === want, lookback);
}

test('after Back the Time field shows the window searched, a link’s own window as itself', async () => {
  await ingest(env.collector, smallTrace());
  const page = await env.browser.newPage();
  await page.goto(`${env.collector.ui}/?lookback=15m&service=web`);
  await page.waitForSelector('[data-testid=service] option[value=payments]', { state: 'attached' });
  assert.deepEqual(await fields(page), { service: 'web (web)', operation: ' (Any operation)', lookback: '15m (Last 15 minutes)' });
  await choose(page, '7d');
  await page.goBack();
  await lookbackShown(page, '15m');
  // The form untouched searches what it shows.
  await page.click('[data-testid=search]');
  await lookbackShown(page, '15m');

  await page.goto(`${env.collector.ui}/?lookback=2h`);
  await page.waitForSelector('[data-testid=service] option[value=payments]', { state: 'attached' });
  assert.equal((await fields(page)).lookback, '2h (Last 2h)');
  await choose(page, '15m');
  await page.goBack();
  await lookbackShown(page, '2h');
  assert.equal((await fields(page)).lookback, '2h (Last 2h)');
  await page.goForward();
  await lookbackShown(page, '15m');
  await page.close();
});

test('a service or operation the source does not list shows as itself, not as any', async () => {
  await ingest(env.collector, smallTrace());
  const page = await env.browser.newPage();
  await page.goto(`${env.collector.ui}/?lookback=all&service=no-such-svc&operation=no-such-op`);
  await page.waitForSelector('[data-testid=service] option[value=payments]', { state: 'attached' });
  await page.waitForSelector('[data-testid=empty]');
  const shown = await fields(page);
  assert.equal(shown.service, 'no-such-svc (no-such-svc)');
  assert.equal(shown.operation, 'no-such-op (no-such-op)');
  // Choosing a listed service leaves the unlisted one out.
  await page.selectOption('[data-testid=service]', 'web');
  await page.click('[data-testid=search]');
  await page.waitForFunction(() => new URLSearchParams(location.search).get('service') === 'web');
  assert.deepEqual(await page.$$eval('[data-testid=service] option[value=no-such-svc]', (o) => o.length), 0);
  await page.goBack();
  await page.waitForFunction(() => document.querySelector('[data-testid=service]').value === 'no-such-svc', null, { timeout: 10000 });
  await page.close();
});

test('a duration no source takes is the form’s error, and nothing is asked', async () => {
  for (const value of ['inf', '1e400', '-inf']) {
    const page = await env.browser.newPage();
    const asked = [];
    page.on('request', (r) => asked.push(new URL(r.url()).pathname));
    await page.goto(`${env.collector.ui}/?lookback=1h&minDuration=${value}`);
    await page.waitForSelector('[data-testid=error]');
    assert.match(await page.textContent('[data-testid=error]'), new RegExp(`^minimum duration \`${value}\`: write a duration`));
    assert.equal(await page.locator('[data-testid=sources-hint]').count(), 0, value);
    assert.deepEqual(asked.filter((p) => p.startsWith('/api/v3/traces')), [], value);
    await page.close();
  }
});
