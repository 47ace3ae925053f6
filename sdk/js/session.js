// Browser sessions: a `session.id` on every span and log record, kept in `sessionStorage` (one
// per tab, surviving reloads), rotated after 15 minutes without activity or 4 hours in all.
// `setUser(id)` adds `user.id`. Activity is any span or log record the page makes.
import { guard, onActivity, setCommon } from './api.js';

const KEY = 'edgescope.session';
const IDLE_MS = 15 * 60 * 1000;
const MAX_MS = 4 * 60 * 60 * 1000;
/** How often the last-activity time is written back (each write is a storage call). */
const WRITE_EVERY_MS = 5000;

let session;
/** Whether `startSessions` ran (`sessions: false` leaves it off). */
let started = false;
/** The `setUser` id, if any. */
let user;

function newId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function save() {
  try {
    globalThis.sessionStorage?.setItem(KEY, JSON.stringify(session));
  } catch {
    // Storage may be disabled or full: the session lives in memory only.
  }
}

function load() {
  try {
    const stored = JSON.parse(globalThis.sessionStorage?.getItem(KEY) || 'null');
    if (stored && /^[0-9a-f]{32}$/.test(stored.id) && Number.isFinite(stored.start) && Number.isFinite(stored.last)) {
      return stored;
    }
  } catch {
    // A damaged entry starts a new session.
  }
  return undefined;
}

/**
 * The session `init({ sessionId })` joined (a Web Worker's, given the page's `sessionId()`:
 * workers have no `sessionStorage`), which this context never rotates: the page does.
 */
let joined;

/** Keeps the session current: called on every span and log record. */
function touch() {
  if (joined) return;
  const now = Date.now();
  if (!session) session = load();
  if (!session || now - session.last > IDLE_MS || now - session.start > MAX_MS) {
    session = { id: newId(), start: now, last: now };
    setCommon('session.id', session.id);
    save();
  } else if (now - session.last > WRITE_EVERY_MS) {
    session.last = now;
    save();
  }
}

/**
 * Starts session tracking, or (`false`) stops it: the browser entry's `init` calls it. Stopped,
 * nothing is read or stored and `restoreCommon` gives the fresh core no `session.id`.
 */
export function startSessions(enabled, given) {
  started = enabled;
  joined = enabled && typeof given === 'string' && /^[0-9a-f]{32}$/.test(given) ? given : undefined;
  // A joined session is never rotated here: no call per span and record to keep it current.
  onActivity(enabled && !joined && touch);
  if (!enabled) return;
  if (joined) {
    session = { id: joined };
    setCommon('session.id', joined);
    return;
  }
  session = load();
  if (session) setCommon('session.id', session.id);
  touch();
}

/** The current session id; `undefined` with `sessions: false` (nothing is made or stored then). */
export function sessionId() {
  return guard(() => {
    if (!started) return undefined;
    touch();
    return session.id;
  });
}

/** Adds `user.id` to every new span and log record; `undefined` or `null` removes it. */
export function setUser(id) {
  guard(() => {
    user = id == null ? undefined : String(id);
    setCommon('user.id', user);
  });
}

/**
 * Internal: gives `session.id` and `user.id` back to the fresh core an `init` called again (or
 * after `shutdown()`) starts, which has no common attributes.
 */
export function restoreCommon() {
  guard(() => {
    if (started && session) setCommon('session.id', session.id);
    if (user !== undefined) setCommon('user.id', user);
  });
}
