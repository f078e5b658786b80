#!/usr/bin/env bash
# Runs two Inlet instances on this machine against one Redis, as a scale-out does behind a load
# balancer: both serve the same config, share deduplication and take runs from one queue.
#
#   scripts/two-instances.sh                 # ports 3001 and 3002, redis://127.0.0.1:6379
#   INLET_STORE=redis://host:6380 INLET_PORTS="4001 4002 4003" scripts/two-instances.sh
#
# Every other INLET_* variable (INLET_DIR, INLET_JWT_SECRET, INLET_ADMIN_TOKEN, INLET_CONCURRENCY,
# INLET_REDIS_PREFIX, …) is passed to each instance unchanged. Ctrl-C stops them gracefully.
set -euo pipefail

cd "$(dirname "$0")/.."
export INLET_STORE="${INLET_STORE:-redis://127.0.0.1:6379}"
ports="${INLET_PORTS:-3001 3002}"

case "$INLET_STORE" in
  redis://* | rediss://*) ;;
  *)
    echo "INLET_STORE must be a redis:// URL: instances only share state through Redis" >&2
    exit 1
    ;;
esac
if [ -z "${INLET_JWT_SECRET:-}" ]; then
  echo "note: INLET_JWT_SECRET is unset; the instances share a secret generated and kept in Redis" >&2
fi
[ -f dist/src/main.js ] || npm run build

pids=()
stop() {
  trap - INT TERM
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM

for port in $ports; do
  # npm start's flags (package.json; README § Performance).
  PORT="$port" node --max-semi-space-size=32 --min-semi-space-size=32 --single-threaded-gc --v8-pool-size=0 --no-allocation-site-pretenuring dist/src/main.js serve &
  pids+=("$!")
  echo "instance $! → http://localhost:$port (store $INLET_STORE)" >&2
done

# Whichever instance ends first (a crash, or a signal to one of them) stops the others too.
set +e
wait -n "${pids[@]}"
status=$?
stop
exit "$status"
