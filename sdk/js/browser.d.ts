// The default browser entry (`edgescope` under the `browser` condition and by default).
export * from './index.js';
import type { BrowserConfig, RemoteContext } from './index.js';

/** Configures the SDK and instruments the page (fetch, XHR, errors, sessions). */
export declare function init(config?: BrowserConfig): void;
/** Adds `user.id` to every new span and log record; `null` removes it. */
export declare function setUser(id: string | null | undefined): void;
/** The current session id (32 hex digits); `undefined` with `sessions: false`. */
export declare function sessionId(): string | undefined;
/** The page's parent from `<meta name="traceparent">` (and `tracestate`, `baggage`), read by `init`. */
export declare function documentContext(): RemoteContext | undefined;
