#!/usr/bin/env bash
# The auth endpoint's footprint: size of the lean binary (no dev world),
# start-up time to the first successful response, and idle memory.
#
#   bench/auth-only.sh [runs]      (default 25 runs)
#
# Builds `cargo build --release --no-default-features`, then starts
# `lodger serve --auth-only` on a loopback port `runs` times, measuring from
# the spawn to the first 200 from /healthz, and reads VmRSS of an idle
# process after a few seconds. Prints a Markdown table for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-25}"

cargo build --release --no-default-features --locked --quiet -p lodger
bin=target/release/lodger
size_bytes=$(stat -c %s "$bin")
stripped=$(mktemp)
cp "$bin" "$stripped"
strip "$stripped" 2>/dev/null || true
stripped_bytes=$(stat -c %s "$stripped")
rm -f "$stripped"

key=$("$bin" keygen | head -n 1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# Start-up: spawn, then poll /healthz from one Python process (so no client
# start-up is counted), median of the runs.
median_us=$(LODGER_MASTER_KEYS="$key" python3 - "$bin" "$port" "$runs" <<'PY'
import http.client, statistics, subprocess, sys, time
binary, port, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
samples = []
for _ in range(runs):
    start = time.perf_counter()
    process = subprocess.Popen([binary, "serve", "--auth-only", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={"LODGER_LOG": "warn", **__import__("os").environ})
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.0002)
    samples.append((time.perf_counter() - start) * 1e6)
    process.kill()
    process.wait()
print(int(statistics.median(samples)))
PY
)

# Idle memory: one process, a few seconds after start, after one request.
LODGER_MASTER_KEYS="$key" LODGER_LOG=warn "$bin" serve --auth-only --port "$port" >/dev/null 2>&1 &
pid=$!
until curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do sleep 0.01; done
sleep 3
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
kill "$pid"; wait "$pid" 2>/dev/null || true

echo "| measure | value |"
echo "|---|---|"
echo "| lean binary (\`--no-default-features\`, release) | $(( size_bytes / 1024 )) KiB ($(( stripped_bytes / 1024 )) KiB stripped) |"
echo "| start-up to first 200 from /healthz (median of $runs) | $(awk "BEGIN {printf \"%.1f\", $median_us / 1000}") ms |"
echo "| idle RSS (serve --auth-only, 3 s after start) | $(awk "BEGIN {printf \"%.1f\", $rss_kb / 1024}") MiB |"
