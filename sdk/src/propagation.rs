//! W3C propagation: Trace Context Level 2 (`traceparent`, `tracestate`) and Baggage.
//!
//! Parsing follows each specification's rules for receivers, and an invalid header is never an
//! error for the caller: an invalid `traceparent` means "start a new trace", an invalid
//! `tracestate` is dropped as a whole, and invalid baggage members are skipped one by one.

mod baggage;
mod traceparent;
mod tracestate;

pub use baggage::{Baggage, BaggageEntry, MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBERS};
pub use traceparent::{format_traceparent, parse_traceparent, SpanContext, FLAG_RANDOM, FLAG_SAMPLED};
pub use tracestate::{TraceState, MAX_TRACESTATE_MEMBERS};
