// `setBaggage(key, value, metadata)`: a page-wide entry's W3C member properties (`ttl=60;secure`),
// validated as `extract` validates a member's; `inject` writes them after the member and
// `getBaggage(key)` gives them back beside the value. Metadata that is not valid W3C properties
// is dropped (the entry is set without it) and counted in `diagnostics().apiErrors`, never thrown.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import * as sdk from '../../sdk/dist/node.js';

sdk.init({ serviceName: 'baggage-metadata', endpoint: 'http://127.0.0.1:9', scheduleDelayMillis: 0 });

afterEach(() => {
  for (const key of Object.keys(sdk.getBaggage())) sdk.removeBaggage(key);
});

const injected = () => {
  const headers = {};
  const span = sdk.startSpan('out');
  sdk.inject(headers, span);
  span.end();
  return headers.baggage;
};

test('an entry set with metadata goes out with its properties, and getBaggage(key) reads them', () => {
  assert.equal(sdk.setBaggage('tenant', 'a b', 'ttl=60;secure'), true);
  assert.equal(sdk.setBaggage('user', 'alice'), true);
  assert.equal(injected(), 'tenant=a%20b;ttl=60;secure,user=alice');
  assert.deepEqual(sdk.getBaggage(), { tenant: 'a b', user: 'alice' }, 'values by key, as before');
  assert.deepEqual(sdk.getBaggage('tenant'), { value: 'a b', metadata: 'ttl=60;secure' });
  assert.deepEqual(sdk.getBaggage('user'), { value: 'alice' });
  assert.equal(sdk.getBaggage('nobody'), undefined);
  // What extract reads back is what was set.
  const parent = sdk.extract({ traceparent: `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`, baggage: injected() });
  assert.deepEqual(parent.baggage, { tenant: 'a b', user: 'alice' });
  // Setting it again without metadata drops the old metadata.
  sdk.setBaggage('tenant', 'c');
  assert.deepEqual(sdk.getBaggage('tenant'), { value: 'c' });
});

test('metadata that is not valid W3C properties is dropped and counted, never thrown; the entry is set', () => {
  for (const bad of ['ttl=6 0', ';ttl=60', 'a=b;;c', 'k=v,x=y', 'ü=1', '=1', {}]) {
    const before = sdk.diagnostics().apiErrors;
    assert.equal(sdk.setBaggage('tenant', 'v', bad), true, String(bad));
    assert.equal(sdk.diagnostics().apiErrors, before + 1, `${bad}: counted`);
    assert.deepEqual(sdk.getBaggage('tenant'), { value: 'v' }, String(bad));
    assert.equal(injected(), 'tenant=v', String(bad));
  }
  // A key that is not a token is refused as before, metadata or not, and not counted twice.
  const before = sdk.diagnostics().apiErrors;
  assert.equal(sdk.setBaggage('bad key', 'v', 'ttl=60'), false);
  assert.equal(sdk.diagnostics().apiErrors, before);
  // Hostile arguments never throw into the host.
  const hostile = { toString: () => { throw new Error('no'); } };
  assert.equal(sdk.setBaggage('tenant', 'v', hostile), false);
  assert.doesNotThrow(() => sdk.getBaggage(hostile));
});

test('metadata that would take the entry past the header limit is dropped and counted, and the entry kept', () => {
  const before = sdk.diagnostics().apiErrors;
  assert.equal(sdk.setBaggage('big', 'v', `p=${'x'.repeat(9000)}`), true);
  assert.deepEqual(sdk.getBaggage('big'), { value: 'v' });
  assert.equal(injected(), 'big=v');
  assert.equal(sdk.diagnostics().apiErrors, before + 1);
});

test("getBaggage(key) reads an entry's own metadata, never an inherited member", () => {
  sdk.setBaggage('constructor', 'x');
  sdk.setBaggage('other', 'y', 'ttl=1');
  assert.deepEqual(sdk.getBaggage('constructor'), { value: 'x' });
  assert.equal(sdk.getBaggage('toString'), undefined);
});

test('an entry the header has no room for (a 65th member, or past 8,192 bytes) is refused and counted, not kept hidden', () => {
  for (let i = 0; i < 64; i++) assert.equal(sdk.setBaggage(`k${i}`, 'v'), true);
  const before = sdk.diagnostics().apiErrors;
  assert.equal(sdk.setBaggage('tenant', 'acme'), false, 'the 65th member');
  assert.equal(sdk.diagnostics().apiErrors, before + 1);
  assert.equal(sdk.getBaggage('tenant'), undefined);
  assert.equal(sdk.setBaggage('k3', 'replaced'), true, 'a member already sent may change');
  sdk.removeBaggage('k0');
  assert.equal(sdk.getBaggage('tenant'), undefined, 'the refused entry does not come back when room is made');
  assert.equal(sdk.setBaggage('tenant', 'acme'), true);
  assert.equal(sdk.getBaggage('tenant').value, 'acme');
  for (const key of Object.keys(sdk.getBaggage())) sdk.removeBaggage(key);

  assert.equal(sdk.setBaggage('big', 'x'.repeat(8000)), true);
  assert.equal(sdk.setBaggage('more', 'y'.repeat(300)), false, 'past 8,192 bytes');
  assert.equal(Object.keys(sdk.getBaggage()).join(), 'big');
  assert.match(injected(), /^big=x+$/);
});

test('a refused replacement leaves the entry it would have replaced as it was; __proto__ is a key like any other', () => {
  assert.equal(sdk.setBaggage('user', 'alice'), true);
  assert.equal(sdk.setBaggage('tenant', 'acme', 'ttl=60'), true);
  const before = sdk.diagnostics().apiErrors;
  assert.equal(sdk.setBaggage('tenant', 'x'.repeat(9000)), false);
  assert.equal(sdk.diagnostics().apiErrors, before + 1);
  assert.deepEqual(sdk.getBaggage('tenant'), { value: 'acme', metadata: 'ttl=60' });
  assert.equal(injected(), 'user=alice,tenant=acme;ttl=60');
  assert.equal(sdk.setBaggage('__proto__', 'v'), true);
  assert.deepEqual(sdk.getBaggage('__proto__'), { value: 'v' });
  assert.deepEqual(Object.keys(sdk.getBaggage()), ['user', 'tenant', '__proto__']);
  assert.equal(sdk.getBaggage('toString'), undefined, 'no inherited property is an entry');
});
