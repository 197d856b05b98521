#!/bin/sh
# The README's demo: installs what it needs, builds, starts the reference
# aggregator and the logferry sidecar next to a sample app that writes logs
# (as it would on a Pod's emptyDir), and shows the entries arriving.
set -eu
cd "$(dirname "$0")/../.."
./tests/install-deps.sh build
build="${LOGFERRY_BUILD_DIR:-build-demo}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOGFERRY_TESTS=OFF
cmake --build "$build" -j "$(nproc)" --target logferry logferry-aggregator

work="$(mktemp -d /tmp/logferry-demo.XXXXXX)"
pids=""
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "demo files kept in $work"
}
trap cleanup EXIT INT TERM
mkdir -p "$work/emptydir" "$work/store" "$work/state"

echo "== starting the aggregator (stores ndjson under $work/store)"
LOGFERRY_AGGREGATOR_LISTEN=127.0.0.1:0 LOGFERRY_AGGREGATOR_DATA_DIR="$work/store" \
  LOGFERRY_LOG_FORMAT=text "$build/logferry-aggregator" >"$work/aggregator.out" 2>"$work/aggregator.err" &
pids="$pids $!"
i=0
until grep -q "listening on" "$work/aggregator.out" 2>/dev/null; do
  i=$((i + 1)); [ "$i" -gt 100 ] && { cat "$work/aggregator.err"; exit 1; }; sleep 0.1
done
port="$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/aggregator.out")"
echo "   listening on 127.0.0.1:$port"

echo "== starting a sample app writing to the shared volume ($work/emptydir/app.log)"
(
  n=0
  while [ "$n" -lt 400 ]; do
    n=$((n + 1))
    printf '{"ts":"%s","level":"info","msg":"order placed","order_id":%d,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}\n' \
      "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" "$n" >>"$work/emptydir/app.log"
    [ $((n % 50)) -eq 0 ] && echo "plain line $n: cache warmed" >>"$work/emptydir/app.log"
    sleep 0.02
  done
) &
pids="$pids $!"

echo "== starting logferry (the sidecar)"
LOGFERRY_FILES="$work/emptydir/*.log" LOGFERRY_OUTPUT="tcp://127.0.0.1:$port" \
  LOGFERRY_CHECKPOINT_DIR="$work/state" LOGFERRY_PARSER=auto \
  POD_NAME=demo-0 POD_NAMESPACE=shop CONTAINER_NAME=app LOGFERRY_LOG_FORMAT=text \
  "$build/logferry" 2>"$work/logferry.err" &
sidecar=$!
pids="$pids $sidecar"

for s in 1 2 3 4 5 6 7 8 9 10; do
  sleep 1
  count="$(cat "$work"/store/*/*/*.ndjson 2>/dev/null | wc -l)"
  echo "   after ${s}s: $count entries stored"
done

echo "== SIGTERM to logferry: it drains and exits"
kill -TERM "$sidecar"
wait "$sidecar" && echo "   logferry exited with 0"
echo "== the last entries stored (shop/demo-0):"
tail -n 3 "$work"/store/shop/demo-0/*.ndjson
echo "== logferry's own log:"
cat "$work/logferry.err"
