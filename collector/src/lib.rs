//! The embedded default backend of edgescope: an OTLP/HTTP receiver that stores spans and
//! log records in SQLite, a query API that the viewer reads, and a static server for the viewer.
//!
//! [`run`] serves two listeners until a shutdown future completes: the OTLP port (4318 by
//! convention) takes `POST /v1/traces` and `POST /v1/logs`; the UI port serves the query API,
//! the built viewer and the same OTLP routes, so that a page served from it can export to its
//! own origin. The query API answers the Jaeger query API v3 HTTP shapes (services,
//! operations, trace search and trace by id), so that Jaeger clients can read it, Jaeger's older
//! JSON API under `/jaeger/api/…` (what Grafana's Jaeger data source and Jaeger UI call), and Loki's
//! HTTP API shapes for log records (`query_range` with a LogQL subset, labels, label values and
//! the live tail over WebSocket), so that Loki clients can. A background
//! task applies retention by age and by database size; `/metrics` reports counters in the
//! Prometheus text format.
#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

mod attribute_filter;
mod gateway;
mod group_commit;
mod jaeger;
mod jaeger_legacy;
mod logql;
mod loki;
mod metrics;
mod server;
pub mod store;

pub use gateway::Upstream;
pub use server::{open_data_dir, run, Settings};
