#!/usr/bin/env bash
# `npm start`: set up, build, then run the collector (serving the viewer) and the demo page on
# 127.0.0.1 until Ctrl-C. Ports: EDGESCOPE_OTLP_PORT (4318), EDGESCOPE_UI_PORT (16686),
# EDGESCOPE_DEMO_PORT (8080). Data is kept in .data/ between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
otlp_port=${EDGESCOPE_OTLP_PORT:-4318}
ui_port=${EDGESCOPE_UI_PORT:-16686}
demo_port=${EDGESCOPE_DEMO_PORT:-8080}

bash scripts/setup.sh
bash scripts/build.sh

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "[start] stopping…"
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

target/release/edgescope serve --otlp-addr "127.0.0.1:$otlp_port" --ui-addr "127.0.0.1:$ui_port" \
  --data-dir .data --ui-dir viewer/dist &
pids+=($!)
node www/server.mjs --port "$demo_port" --otlp "http://127.0.0.1:$otlp_port" &
pids+=($!)

for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$ui_port/health" >/dev/null 2>&1 && curl -sf "http://127.0.0.1:$demo_port/" >/dev/null 2>&1 && break
  sleep 0.1
done
cat <<TXT

  edgescope is running
    demo page       http://127.0.0.1:$demo_port     click the button, then open the viewer
    viewer          http://127.0.0.1:$ui_port    traces and logs from the collector
    OTLP receiver   http://127.0.0.1:$otlp_port     POST /v1/traces, /v1/logs (OTLP protobuf or JSON)

  Press Ctrl-C to stop.

TXT
wait -n "${pids[@]}"
