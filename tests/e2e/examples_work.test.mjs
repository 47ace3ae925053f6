// examples/browser-vanilla: the plain page (import map, no bundler) exports its span and log.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { getJson, launchChromium, root, serveDir, startCollector, traceSpans, waitFor } from '../support.mjs';

let collector, browser, site;

before(async () => {
  collector = await startCollector();
  browser = await launchChromium();
  site = await serveDir(root);
});

after(async () => {
  site?.close();
  await browser?.close();
  await collector?.stop();
});

test('the plain HTML example traces its button and logs through the import map', async () => {
  const page = await browser.newPage();
  await page.goto(`${site.url}/examples/browser-vanilla/index.html?otlp=${encodeURIComponent(collector.otlp)}`);
  await page.waitForFunction(() => XMLHttpRequest.prototype.open.__edgescope === true);
  await page.click('#go');
  const status = await waitFor('the status', async () => {
    const t = await page.textContent('#status');
    return t.startsWith('Done') && t;
  });
  const traceId = status.match(/[0-9a-f]{32}/)[0];
  const spans = await waitFor('the span', async () => {
    const s = await traceSpans(collector, traceId).catch(() => []);
    return s.length > 0 && s;
  });
  assert.equal(spans[0].name, 'do work');
  assert.equal(spans[0].service, 'example-vanilla');
  const logs = await waitFor('the log', async () => {
    const doc = await getJson(`${collector.ui}/api/logs?trace_id=${traceId}`);
    return doc.result.resourceLogs.length > 0 && doc;
  });
  assert.equal(logs.result.resourceLogs[0].scopeLogs[0].logRecords[0].body.stringValue, 'work done');
});
