#!/usr/bin/env bash
# `npm start`: set up, build, then run on 127.0.0.1 until Ctrl-C: the collector (serving the
# viewer), the to-do demo's two workers in workerd (the to-do API and the audit service it
# calls), and the demo's web server (the page, with /api proxied to the API worker).
# Ports: EDGESCOPE_OTLP_PORT (4318), EDGESCOPE_UI_PORT (16686), EDGESCOPE_DEMO_PORT (8080),
# EDGESCOPE_API_PORT (8787), EDGESCOPE_AUDIT_PORT (8788). Data is kept in .data/ between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
otlp_port=${EDGESCOPE_OTLP_PORT:-4318}
ui_port=${EDGESCOPE_UI_PORT:-16686}
demo_port=${EDGESCOPE_DEMO_PORT:-8080}
api_port=${EDGESCOPE_API_PORT:-8787}
audit_port=${EDGESCOPE_AUDIT_PORT:-8788}

# A port in use (another `npm start`, say) is named before the set-up and the build: a build
# empties sdk/dist and viewer/dist, which a running demo serves.
busy=$(node scripts/free_ports.mjs "$otlp_port" "$ui_port" "$demo_port" "$api_port" "$audit_port") || {
  read -r port why <<<"$busy"
  if [ "$why" = "in use" ]; then
    why="in use: is edgescope already running?): stop what uses it, or choose"
  elif [ "$why" = "given twice" ]; then
    why="given for two servers): choose"
  else
    why="$why): choose"
  fi
  echo "[start] cannot listen on 127.0.0.1:$port ($why other ports with EDGESCOPE_OTLP_PORT, EDGESCOPE_UI_PORT, EDGESCOPE_DEMO_PORT, EDGESCOPE_API_PORT, EDGESCOPE_AUDIT_PORT" >&2
  exit 1
}

bash scripts/setup.sh
bash scripts/build.sh

pids=()
workers_dir=$(mktemp -d "${TMPDIR:-/tmp}/edgescope-workers.XXXXXX")
stop() {
  trap - INT TERM EXIT
  echo
  echo "[start] stopping…"
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  rm -rf "$workers_dir"
}
trap stop INT TERM EXIT

target/release/edgescope serve --otlp-addr "127.0.0.1:$otlp_port" --ui-addr "127.0.0.1:$ui_port" \
  --data-dir .data --ui-dir viewer/dist &
pids+=($!)
# The workers are bundled and configured by www/worker/workerd.mjs, and run by workerd itself,
# so that Ctrl-C stops workerd directly.
node www/worker/workerd.mjs --dir "$workers_dir" --otlp "http://127.0.0.1:$otlp_port" \
  --api-port "$api_port" --audit-port "$audit_port" >/dev/null
node_modules/.bin/workerd serve "$workers_dir/config.capnp" &
pids+=($!)
node www/server.mjs --port "$demo_port" --otlp "http://127.0.0.1:$otlp_port" \
  --api "http://127.0.0.1:$api_port" --viewer "http://127.0.0.1:$ui_port" >/dev/null &
pids+=($!)

up() { curl -sf --max-time 1 -o /dev/null "$1"; }
ports="$otlp_port, $ui_port, $demo_port, $api_port, $audit_port"
ready=
for _ in $(seq 1 200); do
  if up "http://127.0.0.1:$ui_port/health" && up "http://127.0.0.1:$api_port/health" &&
    up "http://127.0.0.1:$audit_port/health" && up "http://127.0.0.1:$demo_port/"; then
    ready=1
    break
  fi
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "[start] a server exited while starting (is one of the ports $ports in use?)" >&2
      exit 1
    fi
  done
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "[start] the servers did not all answer within 20 s (is one of the ports $ports in use?)" >&2
  exit 1
fi

cat <<TXT

  edgescope is running. Open the to-do demo:

    http://127.0.0.1:$demo_port

  Add, complete and delete to-dos, switch the API to slow or failing, then follow a
  trace link on the page (or open the viewer) to see page → API → audit service.

    viewer          http://127.0.0.1:$ui_port    traces and logs from the collector
    OTLP receiver   http://127.0.0.1:$otlp_port     POST /v1/traces, /v1/logs (OTLP protobuf or JSON)
    workers         to-do API on :$api_port (the page calls it at /api), audit service on :$audit_port (workerd)

  Press Ctrl-C to stop.

TXT
wait -n "${pids[@]}"
