#!/usr/bin/env bash
# The soak (issue 7): one `lodger serve` under minutes of mixed load, half
# authenticated API calls (context token + relayed credential), half
# precompressed asset requests, watching for errors, memory growth and file
# descriptor growth.
#
#   bench/soak.sh [seconds] [connections]     (default 300 s, 32 connections)
#
# Loopback only, bounded by time. Samples the server's VmRSS and open file
# descriptors every 10 s; after a 30 s warm-up, RSS may grow less than 5%
# and the descriptor count not at all. Prints a Markdown report and exits 1
# if a check fails. Needs wrk (apt) and python3; builds the lean release.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-300}"
connections="${2:-32}"
warmup=30
work=$(mktemp -d)
pid=""
host_pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  [ -n "$host_pid" ] && kill "$host_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

if ! command -v wrk >/dev/null; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends wrk
fi
cargo build --release --no-default-features --locked --quiet --bin lodger --example bench_tokens
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# The bench tenant's site, which answers lodger's confirmation of the
# credential (issue 13) from a file.
host_port=$(free_port)
mkdir -p "$work/host"
python3 -m http.server --bind 127.0.0.1 --directory "$work/host" "$host_port" >"$work/host.log" 2>&1 &
host_pid=$!
eval "$(BENCH_HOST_BASE_URL="http://127.0.0.1:$host_port" BENCH_HOST_DIR="$work/host" \
  target/release/examples/bench_tokens $((seconds + 600)))"
port=$(free_port)
LODGER_MASTER_KEYS="$BENCH_MASTER_KEYS" LODGER_LOG=warn target/release/lodger serve --port "$port" \
  >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do curl -fs -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.05; done
asset=$(curl -fs "http://127.0.0.1:$port/jira/issue-panel.html" | grep -o '/js/checklist\.[0-9a-f]*\.js' | head -n 1)

# Even requests are API calls, odd ones the asset (brotli, as browsers ask).
cat >"$work/mix.lua" <<LUA
local n = 0
request = function()
  n = n + 1
  if n % 2 == 0 then
    return wrk.format("GET", "/api/whoami", {
      ["Authorization"] = "JWT $BENCH_CONTEXT_TOKEN",
      ["X-Lodger-Installation"] = "$BENCH_CREDENTIAL",
    })
  end
  return wrk.format("GET", "$asset", { ["Accept-Encoding"] = "br, gzip" })
end
LUA

sample() { # prints "seconds rss_kib fds"
  echo "$1 $(awk '/VmRSS/ {print $2}' /proc/$pid/status) $(ls /proc/$pid/fd | wc -l)"
}
: >"$work/samples"
wrk -t2 -c"$connections" -d"${seconds}s" --timeout 5s -s "$work/mix.lua" "http://127.0.0.1:$port" >"$work/wrk.out" &
wrk_pid=$!
elapsed=0
while kill -0 "$wrk_pid" 2>/dev/null; do
  sample "$elapsed" >>"$work/samples"
  sleep 10
  elapsed=$((elapsed + 10))
done
wait "$wrk_pid"
sample "$elapsed" >>"$work/samples"

requests=$(awk '/requests in/ {print $1}' "$work/wrk.out")
rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")
errors=$(awk '/Non-2xx or 3xx/ {print $NF}' "$work/wrk.out"); errors=${errors:-0}
socket_errors=$(awk -F'[ ,]+' '/Socket errors/ {print $4+$6+$8+$10}' "$work/wrk.out"); socket_errors=${socket_errors:-0}
read -r rss_warm fds_warm < <(awk -v w="$warmup" '$1 >= w {print $2, $3; exit}' "$work/samples")
read -r rss_end fds_end < <(tail -n 1 "$work/samples" | awk '{print $2, $3}')
growth=$(awk -v a="$rss_warm" -v b="$rss_end" 'BEGIN {printf "%.1f", (b - a) * 100 / a}')

echo "| soak: $seconds s, $connections connections, half /api/whoami, half $asset | value |"
echo "|---|---|"
echo "| requests | $requests ($rps per second) |"
echo "| non-2xx answers / socket errors | $errors / $socket_errors |"
echo "| RSS after ${warmup} s warm-up → at the end | $((rss_warm / 1024)) MiB → $((rss_end / 1024)) MiB ($growth%) |"
echo "| open file descriptors after warm-up → at the end | $fds_warm → $fds_end |"
echo
echo "samples (seconds, RSS KiB, fds):"; cat "$work/samples"

ok=1
[ "$errors" = 0 ] && [ "$socket_errors" = 0 ] || { echo "FAIL: errors"; ok=0; }
awk -v g="$growth" 'BEGIN {exit !(g < 5)}' || { echo "FAIL: RSS grew $growth%"; ok=0; }
[ "$fds_end" -le "$fds_warm" ] || { echo "FAIL: file descriptors grew"; ok=0; }
[ "$ok" = 1 ]
