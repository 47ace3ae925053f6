//! The OTLP data model for edgescope, with a strict OTLP/JSON writer and a tolerant reader.
//!
//! Everything in edgescope speaks OTLP: the SDK builds [`TracesData`] and [`LogsData`] and
//! writes them with [`json::write_traces`] / [`json::write_logs`]; the collector and the viewer
//! read whatever other tools produce with [`read::traces`] and [`read::logs`] (behind the
//! default `read` feature, which needs `serde_json`).
//!
//! The crate does no I/O and has no dependencies without the `read` feature, so that the
//! browser SDK can use the writer without paying for a JSON library.
//!
//! ```
//! use edgescope_otlp::{json, AnyValue, KeyValue, Resource, ResourceSpans, ScopeSpans, Span, SpanId, TraceId, TracesData};
//!
//! let span = Span {
//!     trace_id: TraceId([1; 16]),
//!     span_id: SpanId([2; 8]),
//!     name: "GET /todos".into(),
//!     start_time_unix_nano: 1_700_000_000_000_000_000,
//!     end_time_unix_nano: 1_700_000_000_250_000_000,
//!     ..Span::default()
//! };
//! let data = TracesData {
//!     resource_spans: vec![ResourceSpans {
//!         resource: Resource { attributes: vec![KeyValue::new("service.name", AnyValue::from("web"))], ..Default::default() },
//!         scope_spans: vec![ScopeSpans { spans: vec![span], ..Default::default() }],
//!         ..Default::default()
//!     }],
//! };
//! let body = json::write_traces(&data);
//! assert!(body.contains(r#""traceId":"01010101010101010101010101010101""#));
//! ```
// Tests use `std`; the library itself needs only `alloc`.
#![cfg_attr(not(test), no_std)]
#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

extern crate alloc;
#[cfg(all(feature = "std", not(test)))]
extern crate std;

pub mod civil;
mod error;
mod hex;
pub mod json;
mod model;
pub mod proto;
#[cfg(feature = "read")]
pub mod read;
#[cfg(feature = "signals")]
pub mod signals;

pub use error::{Partial, ReadError};
pub use hex::{base64_into, encode as hex};
pub use model::*;
