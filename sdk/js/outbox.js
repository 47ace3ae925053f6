// Offline delivery for browsers: a batch whose export fails for lack of network is kept in
// IndexedDB (at most 200 batches and 5 MB; the oldest go first, counted as failed exports) and
// sent again on the next `online` event or page load, or after the next export that succeeds (a
// collector that was down while the browser stayed online). Each stored batch is taken out of the
// store in the same transaction that reads it, so two tabs never send it twice, and put back
// only if sending fails again for lack of network: every batch is delivered once.
import { guard, resend, useOutbox } from './api.js';
import * as core from './core.js';

const DB = 'edgescope';
const STORE = 'outbox';
const MAX_BATCHES = 200;
const MAX_BYTES = 5 * 1024 * 1024;

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { autoIncrement: true });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(tx.error);
  });
}

/**
 * Walks `store` with a cursor while `each(cursor)` returns true; rejects when the request fails
 * (its transaction aborted: a full quota is found when the transaction commits).
 */
function walk(store, each) {
  return new Promise((resolve, reject) => {
    const request = store.openCursor();
    request.onsuccess = () => (request.result && each(request.result) ? request.result.continue() : resolve());
    request.onerror = () => reject(request.error);
  });
}

/**
 * Stores `batch`, as the newest, or under `key`: where a batch taken out of the store and not
 * delivered goes back, still the oldest (sent first, dropped first).
 */
async function keep(batch, key) {
  const db = await open();
  try {
    const tx = db.transaction(STORE, 'readwrite');
    const store = tx.objectStore(STORE);
    store.add({ url: batch.url, headers: batch.headers, body: batch.body, bytes: batch.body.length }, key);
    // Bound the store: drop the oldest batches beyond the limits.
    const all = [];
    await walk(store, (cursor) => all.push([cursor.key, cursor.value.bytes || 0]));
    let bytes = all.reduce((n, [, b]) => n + b, 0);
    let count = all.length;
    for (const [key, b] of all) {
      if (count <= MAX_BATCHES && bytes <= MAX_BYTES) break;
      store.delete(key);
      count--;
      bytes -= b;
      core.trouble(0);
    }
    await done(tx);
    stored = true;
  } finally {
    db.close();
  }
}

let draining = false;
/**
 * Whether this page stored a batch since its last drain began (or may find some at load): a
 * successful export drains only then, so that exports do not open IndexedDB for nothing.
 */
let stored = true;

/** Sends every stored batch, oldest first. */
export async function drain() {
  if (draining || typeof indexedDB === 'undefined') return;
  draining = true;
  stored = false;
  let db;
  try {
    db = await open();
    for (;;) {
      // Take one batch out of the store, in one transaction.
      const tx = db.transaction(STORE, 'readwrite');
      let taken;
      let key;
      await walk(tx.objectStore(STORE), (cursor) => {
        taken = cursor.value;
        key = cursor.key;
        cursor.delete();
      });
      await done(tx);
      if (!taken) break;
      if (!(await resend(taken))) {
        await keep(taken, key);
        break;
      }
    }
  } finally {
    db?.close();
    draining = false;
  }
}

let outboxOn = false;
let listening = false;

/**
 * Turns the outbox on (failed batches are kept, and sent when the browser is back online) or off
 * (nothing more is kept or sent from it), as each `init` says.
 */
export function startOutbox(enabled = true) {
  if (typeof indexedDB === 'undefined') return;
  const was = outboxOn;
  outboxOn = enabled;
  useOutbox(
    enabled
      ? {
          keep: (batch) => keep(batch).catch(() => core.trouble(0)),
          // An export got through: the collector is back, whether or not the browser was offline.
          sent: () => outboxOn && stored && drain().catch(() => {}),
        }
      : undefined,
  );
  if (!enabled || was) return;
  if (!listening) {
    listening = true;
    addEventListener('online', () => guard(() => outboxOn && drain().catch(() => {})));
  }
  guard(() => drain().catch(() => {}));
}
