#!/usr/bin/env bash
# Builds every part: the SDK (wasm + JS, optimised with wasm-opt), the viewer (release), and
# the collector. `--debug-collector` builds the collector in the dev profile, sharing its
# dependencies with `cargo test` (what `npm test` uses).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release
[ "${1:-}" = "--debug-collector" ] && profile=dev

step() { printf '\033[1m[build]\033[0m %s\n' "$*"; }
WASM_OPT=node_modules/.bin/wasm-opt
# The features rustc enables by default for wasm32-unknown-unknown; wasm-opt must accept them.
OPT_FEATURES=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-mutable-globals --enable-reference-types --enable-multivalue)

step "SDK: wasm32 release build"
# no_std, small allocator, trapping panics: see the `npm` feature in sdk/Cargo.toml.
cargo build -q -p edgescope --target wasm32-unknown-unknown --profile wasm-release --no-default-features --features npm
rm -rf sdk/dist && mkdir -p sdk/dist/wasm
wasm-bindgen target/wasm32-unknown-unknown/wasm-release/edgescope.wasm \
  --target web --out-dir sdk/dist/wasm --out-name edgescope --no-typescript
"$WASM_OPT" -Oz "${OPT_FEATURES[@]}" sdk/dist/wasm/edgescope_bg.wasm -o sdk/dist/wasm/edgescope_bg.wasm
cp sdk/js/*.js sdk/js/*.d.ts sdk/dist/
step "SDK: $(stat -c %s sdk/dist/wasm/edgescope_bg.wasm) bytes of wasm, $(gzip -9c sdk/dist/wasm/edgescope_bg.wasm | wc -c) gzipped"

if [ -f viewer/Cargo.toml ]; then
  step "viewer: wasm32 release build"
  cargo build -q -p edgescope-viewer --target wasm32-unknown-unknown --profile wasm-release
  rm -rf viewer/dist && mkdir -p viewer/dist
  wasm-bindgen target/wasm32-unknown-unknown/wasm-release/edgescope_viewer.wasm \
    --target web --out-dir viewer/dist --out-name viewer --no-typescript
  "$WASM_OPT" -Oz "${OPT_FEATURES[@]}" viewer/dist/viewer_bg.wasm -o viewer/dist/viewer_bg.wasm
  cp viewer/static/* viewer/dist/
  step "viewer: $(gzip -9c viewer/dist/viewer_bg.wasm | wc -c) bytes of wasm gzipped"
fi

step "collector ($profile)"
cargo build -q -p edgescope-collector --profile "$profile"
