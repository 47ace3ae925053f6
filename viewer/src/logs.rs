//! The log stream: records from the collector or Loki (a query, then a live tail over a
//! WebSocket, or polling when that cannot connect) or from an OTLP log file, kept in a columnar
//! [`store`] and shown in a list that holds only the visible rows in the DOM, with filters, a
//! log-volume histogram, context and links to traces.
//!
//! [`store`] and [`loki`] are plain Rust, tested natively; the page is in `page`.

pub mod loki;
pub mod store;

#[cfg(target_arch = "wasm32")]
mod page;
#[cfg(target_arch = "wasm32")]
mod tail;

#[cfg(target_arch = "wasm32")]
pub(crate) use page::LogsPage;
