#!/usr/bin/env bash
# Installs whatever this machine lacks to build and test edgescope. Idempotent: each step checks
# first and is skipped when already satisfied. Used by `npm start`, `npm test` and CI.
set -euo pipefail
cd "$(dirname "$0")/.."

# Bold on a terminal only: a log file gets the words without escape codes.
if [ -t 1 ]; then step() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }; else step() { printf '[setup] %s\n' "$*"; }; fi

# 0. Disk space. A build from a clean checkout writes about 5 GB under target/ (the native, wasm32 and release
#    builds); running out half-way ends in a compiler's "No space left on device" minutes later, so say it now.
need_gb=6
[ -d target/debug ] && need_gb=2
free_kb=$(df -Pk . | awk 'NR == 2 { print $4 }')
if [ -n "$free_kb" ] && [ "$free_kb" -lt $((need_gb * 1024 * 1024)) ]; then
  echo "[setup] only $((free_kb / 1024)) MB free on $(df -P . | awk 'NR == 2 { print $6 }'); the build needs about ${need_gb} GB under $(pwd)/target. Free some space and run again." >&2
  exit 1
fi

# 1. The wasm32 target for the toolchain that rust-toolchain.toml selects.
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# 2. wasm-bindgen CLI at exactly the version the build uses (Cargo.lock is the truth; the
#    workspace and sdk/Cargo.toml pin it with `=`), since the two must match.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  step "installing wasm-bindgen-cli $want (found: ${have:-none}); this takes about 5 minutes"
  # Not --locked: the registry mirror lacks one dependency at the locked version.
  cargo install wasm-bindgen-cli --version "=$want"
fi

# 2b. twiggy, for the size report of bench/run.mjs (where the SDK module's bytes are); only for
#     `npm run bench` (EDGESCOPE_BENCH=1), so that tests do not wait for it on a new machine.
if [ "${EDGESCOPE_BENCH:-}" = 1 ] && ! command -v twiggy >/dev/null; then
  step "installing twiggy 0.8.0 (cargo install)"
  cargo install twiggy --version =0.8.0
fi

# 3. npm tooling (binaryen for wasm-opt, playwright-core, workerd) from the committed lock file.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.edgescope-lock 2>/dev/null || true)" != "$lock_hash" ]; then
  step "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.edgescope-lock
fi

# 4. Chromium and ChromeDriver from Debian, for browser tests and screenshots.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "installing chromium and chromium-driver (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "[setup] Chromium is missing. Install Debian's chromium and chromium-driver (as root:" >&2
    echo "        apt-get install chromium chromium-driver), then run this again." >&2
    exit 1
  fi
fi

# 5. The real OpenTelemetry SDKs that the interop tests export with: JS from tests/interop's own
#    lock file, Python from tests/interop/requirements.txt in a virtualenv under target/ (the
#    system Python is left alone). Each is redone when its pins (or the Python) change.
interop_lock=$(sha256sum tests/interop/package-lock.json | cut -d' ' -f1)
if [ "$(cat tests/interop/node_modules/.edgescope-lock 2>/dev/null || true)" != "$interop_lock" ]; then
  step "installing OpenTelemetry JS for the interop tests (npm ci in tests/interop)"
  (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
  echo "$interop_lock" > tests/interop/node_modules/.edgescope-lock
fi
venv=target/interop-venv
interop_reqs=$( { python3 --version; cat tests/interop/requirements.txt; } | sha256sum | cut -d' ' -f1)
if [ "$(cat "$venv/.edgescope-requirements" 2>/dev/null || true)" != "$interop_reqs" ]; then
  step "installing OpenTelemetry Python for the interop tests (pip, in $venv)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r tests/interop/requirements.txt
  echo "$interop_reqs" > "$venv/.edgescope-requirements"
fi
step "toolchain ready: $(rustc --version), wasm-bindgen $want, node $(node --version)"
