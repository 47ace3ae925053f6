// A log body is cut to `attributeValueLengthLimit` bytes (16 KiB without one) and a span
// attribute value to that limit; the cut comes after redaction, which sees the whole text, so
// a secret that straddles the cut (a JWT, a bearer token, a card number, a URL's `?token=` or
// password, a JSON password) is masked whole and no byte of the part before the cut leaves.
// Every byte exported (OTLP protobuf, uncompressed) is searched for each canary's kept part.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SECRETS } from '../secrets_at_the_cut.mjs';

// The console as the host had it, quiet (console capture still prints through it).
console.log = () => {};
const { flush, init, logger, startSpan } = await import('../../sdk/dist/node.js');
const { captureConsole } = await import('../../sdk/dist/console.js');

let sent = [];
const capture = async (url, request) => {
  sent.push(Buffer.from(request.body).toString('latin1'));
  return new Response(null, { status: 200 });
};

/** `secret` placed so that a cut at `cap` bytes falls right after its kept part, then more text. */
const straddling = (cap, [context, kept, rest]) => `${'.'.repeat(cap - context.length - kept.length - 1)} ${context}${kept}${rest} and more text after it`;

function assertNoneLeft() {
  const all = sent.join('');
  assert.ok(all.length > 0, 'something was exported');
  const left = Object.entries(SECRETS).filter(([, [, kept]]) => all.includes(kept)).map(([name]) => name);
  assert.deepEqual(left, [], 'no part of a secret before the cut leaves');
}

for (const cap of [undefined, 200]) {
  test(`a secret straddling the cut of a log body (${cap ?? 'default 16,384'} bytes) is masked whole`, async () => {
    sent = [];
    init({ serviceName: 'cut', fetch: capture, compression: 'none', scheduleDelayMillis: 60_000, attributeValueLengthLimit: cap });
    const limit = cap ?? 16_384;
    for (const secret of Object.values(SECRETS)) logger.warn(straddling(limit, secret));
    captureConsole(['log']);
    try {
      for (const secret of Object.values(SECRETS)) console.log(straddling(limit, secret));
      for (const secret of Object.values(SECRETS)) console.log('%s', straddling(limit, secret));
    } finally {
      captureConsole(false);
    }
    await flush();
    assertNoneLeft();
  });
}

test('a secret straddling the cut of a span attribute value is masked whole', async () => {
  sent = [];
  init({ serviceName: 'cut', fetch: capture, compression: 'none', scheduleDelayMillis: 60_000, attributeValueLengthLimit: 200 });
  const span = startSpan('values');
  for (const [name, secret] of Object.entries(SECRETS)) span.setAttribute(`app.${name}`, straddling(200, secret));
  span.setAttribute('app.list', Object.values(SECRETS).map((s) => straddling(200, s)));
  span.end();
  await flush();
  assertNoneLeft();
});
