// The browser entries' error capture cleans each stack trace (`cleanStack`): a script URL's
// query and fragment go (a signed URL's `sig`, a token, personal data), its `:line:column`
// stays; also when the query holds parentheses, which end a Chrome frame's location.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanStack } from '../../sdk/dist/api.js';

test('queries and fragments go, line and column stay, in Chrome and Firefox frames', () => {
  const cases = [
    ['    at window.boom (http://h/api/js?email=bob@example.com&filter=(recent)&src=a:1:36)', '    at window.boom (http://h/api/js:1:36)'],
    ['    at http://h/b.js?t=1#f:2:3', '    at http://h/b.js:2:3'],
    ['    at f (https://cdn.test/app.js?sig=abc123&v=1#frag:10:5)', '    at f (https://cdn.test/app.js:10:5)'],
    ['boom@http://h/a.js?q=(1)&k=v:1:36', 'boom@http://h/a.js:1:36'],
    ['f@http://h/c.js#frag:4:5', 'f@http://h/c.js:4:5'],
    ['Error: failed http://h/y?token=1 and more', 'Error: failed http://h/y and more'],
    ['    at g (http://h/a.js:1:2)', '    at g (http://h/a.js:1:2)'],
  ];
  const stack = cases.map(([line]) => line).join('\n');
  assert.equal(cleanStack(stack), cases.map(([, clean]) => clean).join('\n'));
});
