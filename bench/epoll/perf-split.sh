#!/bin/bash
# Where an HTTP server's CPU goes at full load, by binary: the kernel, the node binary (V8's runtime,
# GC, Buffer builtins, libuv), JIT-compiled JavaScript, libc, koffi. The server runs pinned to CPU 0
# under `perf record`, wrk loads it from CPU 1 (wrk -t1 -c50, as bench/http/compare.mjs does).
#
# Run (built first; linux-perf installed; as root or with perf_event_paranoid <= 1):
#   flock /tmp/loop-bench.lock bash bench/epoll/perf-split.sh [server, default epoll] [seconds, default 5]
set -euo pipefail
cd "$(dirname "$0")/../.."
server="${1:-epoll}"
seconds="${2:-5}"
port=18181
data=$(mktemp -d)
echo "command: bash bench/epoll/perf-split.sh $server $seconds"
# --perf-basic-prof names JIT frames for perf; it writes its maps under /tmp and its logs in $data.
(cd "$data" && PORT=$port exec taskset -c 0 node --perf-basic-prof "$OLDPWD/bench/http/servers/$server.mjs") > "$data/server.out" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q listening "$data/server.out" 2>/dev/null && break; sleep 0.1; done
taskset -c 1 wrk -t1 -c50 -d2s "http://127.0.0.1:$port/" > /dev/null # warm-up, not recorded
perf record -F 1999 -g -p "$pid" -o "$data/perf.data" -- sleep "$seconds" > /dev/null 2>&1 &
perf_pid=$!
taskset -c 1 wrk -t1 -c50 -d"${seconds}s" "http://127.0.0.1:$port/" | grep -E "Requests/sec"
wait "$perf_pid"
kill -TERM "$pid"
wait "$pid" || true
echo "share of the server's CPU samples by binary:"
perf report -i "$data/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep -E "^ +[0-9.]+%" | head -8
rm -rf "$data" "/tmp/perf-$pid.map"
