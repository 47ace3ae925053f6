// The public API every entry point shares, listed once. Entry points re-export this module and
// may replace `init` with their runtime's own.
export {
  Span,
  activeSpan,
  diagnostics,
  extract,
  flush,
  getBaggage,
  getTracer,
  init,
  inject,
  logger,
  removeBaggage,
  setBaggage,
  shutdown,
  startActiveSpan,
  startSpan,
  withSpan,
} from './api.js';
