//! The `opentelemetry` API tests of `otel_api.rs`, run in headless Chromium.
#![cfg(all(target_arch = "wasm32", feature = "otel-api"))]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[path = "otel_api.rs"]
mod otel_api;
