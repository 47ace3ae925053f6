#!/usr/bin/env bash
# Builds every part: the SDK (wasm + JS, optimised with wasm-opt), the viewer (release), and
# the collector. `--debug-collector` builds the collector in the dev profile, sharing its
# dependencies with `cargo test` (what `npm test` uses); `--sdk` builds the SDK alone.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release
[ "${1:-}" = "--debug-collector" ] && profile=dev
sdk_only=false
[ "${1:-}" = "--sdk" ] && sdk_only=true

# Bold on a terminal only: a log file gets the words without escape codes.
if [ -t 1 ]; then step() { printf '\033[1m[build]\033[0m %s\n' "$*"; }; else step() { printf '[build] %s\n' "$*"; }; fi
WASM_OPT=node_modules/.bin/wasm-opt
# The features rustc enables by default for wasm32-unknown-unknown; wasm-opt must accept them.
OPT_FEATURES=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-mutable-globals --enable-reference-types --enable-multivalue)
# The SDK's module is built without reference types (see sdk_wasm below).
SDK_OPT_FEATURES=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-mutable-globals --enable-multivalue)

# The SDK's module is built three times: the lean one (`edgescope_bg.wasm`, OTLP protobuf only)
# for the default browser and the workerd entries, the full one (`edgescope_full_bg.wasm`, with
# OTLP/JSON: the `json` feature) for `edgescope/full`, and the Node/Deno one
# (`edgescope_node_bg.wasm`: `json` and `records`, the encoder of spans recorded in JavaScript,
# ADR 0011, which only that entry uses, so the browser entries do not carry it). None goes through the
# wasm-bindgen CLI: the `npm` feature gives them plain exports and imports, which sdk/js/core.js
# calls (ADR 0010); the check below holds both modules to what core.js provides and calls.
# no_std, small allocator, trapping panics: see the `npm` feature in sdk/Cargo.toml.
# wasm-opt writes each module's function names to target/sdk-wasm/NAME.symbols (for twiggy in
# bench/run.mjs); the shipped module carries none.
sdk_wasm() { # FEATURES OUT-FILE NAME
  # Without reference types, which nothing here uses (wasm-opt below is told the same).
  RUSTFLAGS="-C target-feature=-reference-types" \
    cargo build -q -p edgescope --target wasm32-unknown-unknown --profile wasm-release --no-default-features --features "$1"
  local module="$2.rustc.wasm"
  cp target/wasm32-unknown-unknown/wasm-release/edgescope.wasm "$module"
  mkdir -p target/sdk-wasm
  # The target_features section is for no engine. Rust's module puts its data at
  # 1 MiB and its stack below, growing down: the low 1 KiB would only be reached by a stack
  # 1 MiB deep. --low-memory-unused lets wasm-opt fold pointer arithmetic into load and store
  # offsets (about 0.5 KB raw, 0.15 KB gzip).
  "$WASM_OPT" -Oz --converge --low-memory-unused --symbolmap="target/sdk-wasm/$3.symbols" --strip-debug --strip-producers --strip-target-features \
    "${SDK_OPT_FEATURES[@]}" "$module" -o "$2"
  rm "$module"
}
step "SDK: wasm32 release builds (lean, full, Node/Deno)"
rm -rf sdk/dist && mkdir -p sdk/dist/wasm
sdk_wasm npm sdk/dist/wasm/edgescope_bg.wasm edgescope_bg
sdk_wasm npm,json sdk/dist/wasm/edgescope_full_bg.wasm edgescope_full_bg
sdk_wasm npm,json,records sdk/dist/wasm/edgescope_node_bg.wasm edgescope_node_bg
cp sdk/js/*.js sdk/js/*.d.ts sdk/dist/
node scripts/check_wasm_glue.mjs sdk/dist/core.js sdk/dist/wasm/edgescope_full_bg.wasm sdk/dist/wasm/edgescope_bg.wasm sdk/dist/wasm/edgescope_node_bg.wasm
for w in edgescope_bg edgescope_full_bg edgescope_node_bg; do
  step "SDK: $w.wasm: $(stat -c %s sdk/dist/wasm/$w.wasm) bytes, $(gzip -9c sdk/dist/wasm/$w.wasm | wc -c) gzipped"
done
if $sdk_only; then exit 0; fi

if [ -f viewer/Cargo.toml ]; then
  step "viewer: wasm32 release build"
  cargo build -q -p edgescope-viewer --target wasm32-unknown-unknown --profile wasm-release
  rm -rf viewer/dist && mkdir -p viewer/dist
  wasm-bindgen target/wasm32-unknown-unknown/wasm-release/edgescope_viewer.wasm \
    --target web --out-dir viewer/dist --out-name viewer --no-typescript
  # As for the SDK: --converge and the two sections no browser reads save about 2 KB gzipped,
  # and --low-memory-unused (the stack sits below the data at 1 MiB) 4 KB.
  "$WASM_OPT" -Oz --converge --low-memory-unused --strip-producers --strip-target-features "${OPT_FEATURES[@]}" \
    viewer/dist/viewer_bg.wasm -o viewer/dist/viewer_bg.wasm
  cp viewer/static/* viewer/dist/
  # The glue and the stylesheet minified (their names and exports stay): 2.3 KB gzipped.
  for f in viewer.js style.css; do
    node_modules/.bin/esbuild "viewer/dist/$f" --minify --log-level=warning --allow-overwrite --outfile="viewer/dist/$f"
  done
  # What a user downloads, counted as bench/viewer.mjs counts it (zlib level 9); the budget is 250 KB.
  step "viewer: $(node -e 'const fs = require("fs"), zlib = require("zlib");
    const files = fs.readdirSync(process.argv[1]).filter((f) => /\.(wasm|js|css|html)$/.test(f));
    console.log(files.reduce((n, f) => n + zlib.gzipSync(fs.readFileSync(process.argv[1] + "/" + f), { level: 9 }).length, 0));' viewer/dist) bytes gzipped (wasm + JS + CSS + HTML)"
fi

step "examples/rust-worker: wasm32 release build (a Rust worker for workerd)"
cargo build -q -p edgescope-example-rust-worker --target wasm32-unknown-unknown --profile wasm-release
rm -rf examples/rust-worker/dist && mkdir -p examples/rust-worker/dist
wasm-bindgen target/wasm32-unknown-unknown/wasm-release/edgescope_example_rust_worker.wasm \
  --target web --out-dir examples/rust-worker/dist --out-name rust_worker --no-typescript
"$WASM_OPT" -Oz "${OPT_FEATURES[@]}" examples/rust-worker/dist/rust_worker_bg.wasm -o examples/rust-worker/dist/rust_worker_bg.wasm
cp examples/rust-worker/shim.mjs examples/rust-worker/dist/

step "examples/leptos: wasm32 release build (a Leptos page on the opentelemetry API)"
cargo build -q -p edgescope-example-leptos --target wasm32-unknown-unknown --profile wasm-release
rm -rf examples/leptos/dist && mkdir -p examples/leptos/dist
wasm-bindgen target/wasm32-unknown-unknown/wasm-release/edgescope_example_leptos.wasm \
  --target web --out-dir examples/leptos/dist --out-name leptos_example --no-typescript
"$WASM_OPT" -Oz "${OPT_FEATURES[@]}" examples/leptos/dist/leptos_example_bg.wasm -o examples/leptos/dist/leptos_example_bg.wasm

step "collector ($profile)"
cargo build -q -p edgescope-collector --profile "$profile"
