#!/usr/bin/env bash
# Runs every test: formatting and lints, native Rust tests, the SDK's wasm tests in Node and in
# headless Chromium, and the cross-component suites (browser end to end, workerd).
# Each level can also be run alone; README.md lists the commands.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$(date +%s)
# Each step says when it starts (seconds since the first), so a log shows where the time goes.
# Bold on a terminal only: a log file gets the words without escape codes.
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s[test]%s %s (at %d s)\n' "$bold" "$plain" "$*" "$(( $(date +%s) - start ))"; }

bash scripts/setup.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (native, and wasm32 for the SDK and viewer)"
cargo clippy -q --workspace --all-targets -- -D warnings
cargo clippy -q -p edgescope -p edgescope-viewer -p edgescope-example-rust-worker -p edgescope-example-leptos --target wasm32-unknown-unknown --all-targets -- -D warnings
cargo clippy -q -p edgescope --target wasm32-unknown-unknown --features otel-api,js-exports --all-targets -- -D warnings
cargo clippy -q -p edgescope --target wasm32-unknown-unknown --no-default-features --features npm -- -D warnings
cargo clippy -q -p edgescope --target wasm32-unknown-unknown --no-default-features --features npm,json -- -D warnings
cargo clippy -q -p edgescope --target wasm32-unknown-unknown --no-default-features --features npm,json,records -- -D warnings
cargo clippy -q -p edgescope --features otel-api --all-targets -- -D warnings

step "native tests (cargo test)"
cargo test -q --workspace
cargo test -q -p edgescope --features otel-api

step "build (SDK, viewer, collector)"
bash scripts/build.sh --debug-collector

step "SDK wasm tests in Node"
cargo test -p edgescope --target wasm32-unknown-unknown --features otel-api,js-exports --lib --test core --test otel_api --test otel_export

# ChromeDriver leaves each session's Chrome profile (about 17 MB) in the temporary folder, which
# on a shared machine adds up run after run: the browser steps get a folder of their own.
browser_tmp=$(mktemp -d)
trap 'rm -rf "$browser_tmp"' EXIT

step "SDK wasm tests in headless Chromium"
TMPDIR="$browser_tmp" CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_WEBDRIVER_JSON="$root/tests/webdriver.json" \
  cargo test -p edgescope --target wasm32-unknown-unknown --features otel-api,js-exports --test browser --test otel_api_in_browser --test otel_export_in_browser

step "viewer component tests in headless Chromium (the model and the waterfall mounted in the page)"
TMPDIR="$browser_tmp" CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_WEBDRIVER_JSON="$root/tests/webdriver.json" \
  cargo test -p edgescope-viewer --target wasm32-unknown-unknown --lib

step "end-to-end: browser → collector → viewer, and workerd"
# Two files at a time (Node's default is one per core less one: a single file on this 2-core
# machine kind). The suites wait on browsers, runtimes and servers far more than they compute;
# each one starts its own servers on ports of its own.
EDGESCOPE_BIN="$root/target/debug/edgescope" node --test --test-concurrency=2 tests/

printf '\n%s[test]%s all tests passed in %d s\n' "$bold" "$plain" "$(( $(date +%s) - start ))"
