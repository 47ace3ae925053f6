// Malformed input gets an error panel naming the file and what is wrong, not a blank page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TraceView, tempFile } from './viewer_pages.mjs';
import { collectorAndBrowser } from './viewer_env.mjs';

const env = collectorAndBrowser();

const cases = [
  ['broken.json', '{"resourceSpans": [', /broken\.json is not a trace file: invalid JSON/],
  ['bad-id.json', '[{"traceId":"zz","id":"0000000000000001"}]', /bad-id\.json is not a trace file: \[0\]\.traceId: not a hex trace id/],
  ['empty.json', '{"resourceSpans": []}', /empty\.json holds no spans/],
  ['latin1.json', Buffer.from([0x5b, 0xe9, 0x5d]), /latin1\.json is not a trace file: not UTF-8/],
  ['span.json', '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"01","spanId":"02","name":5}]}]}]}', /span\.json is not a trace file: resourceSpans\[0\]/],
];

for (const [name, content, message] of cases) {
  test(`${name}: the error names the file and the problem`, async () => {
    const view = await TraceView.openFile(env.browser, env.collector, tempFile(name, content));
    assert.match(await view.error.textContent(), message);
    assert.equal(await view.rows.count(), 0);
  });
}
