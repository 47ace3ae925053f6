//! The edgescope viewer: a Leptos client-side app that lists recent traces and log records
//! from the collector, draws a trace as a waterfall, and links log records to their trace.
//!
//! [`model`] (plain Rust, tested natively) turns OTLP into rows; `api` fetches from the
//! collector's query API; `app` holds the views. The app is served by the collector, so every
//! request goes to its own origin.
#![warn(missing_docs, missing_debug_implementations)]

pub mod file_url;
pub mod logs;
pub mod model;
pub mod num;
pub mod service_map;
pub mod sources;

#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod health;
#[cfg(target_arch = "wasm32")]
mod router;
#[cfg(target_arch = "wasm32")]
mod search;
#[cfg(target_arch = "wasm32")]
mod settings;
#[cfg(target_arch = "wasm32")]
mod trace_view;

/// Mounts the app on `<body>` when the module is instantiated (not in the component tests,
/// which mount their own components into the test page).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    if cfg!(not(test)) {
        leptos::mount::mount_to_body(app::App);
    }
}
