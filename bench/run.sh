#!/usr/bin/env bash
# Side by side: lodger against atlassian-connect-express (bench/ace), nginx
# and a bare warp endpoint, on this machine, in one run (issue 6).
#
#   bench/run.sh            full run (15 s per load case), table into BENCHMARKS.md
#   bench/run.sh --quick    smoke for CI (debug build, 2 s per case, few cold
#                           starts); prints the table, leaves BENCHMARKS.md alone
#
# Everything is on loopback. Each load case starts a fresh server, pinned to
# CPU 0 (taskset), and drives it with wrk (1 thread, pinned to CPU 1, fixed
# connections) for a fixed time; peak RSS is the server's VmHWM after the
# load. Installs its own prerequisites: wrk (apt), bench/ace's node_modules
# (npm ci), nginx with the brotli static module (apt).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[ "${1:-}" = "--quick" ] && quick=1
if [ "$quick" = 1 ]; then
  duration=2; cold_runs=5; ace_cold_runs=3; install_runs=3
else
  duration=15; cold_runs=25; ace_cold_runs=10; install_runs=30
fi
connections=32
work=$(mktemp -d)
# nginx workers run as nobody when started as root: let them read the export.
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf '== %s\n' "$*" >&2; }

# --- prerequisites -----------------------------------------------------------
need=()
command -v wrk >/dev/null || need+=(wrk)
[ -x /usr/sbin/nginx ] || need+=(nginx-light)
[ -e /usr/lib/nginx/modules/ngx_http_brotli_static_module.so ] || need+=(libnginx-mod-http-brotli-static)
if [ ${#need[@]} -gt 0 ]; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  say "installing ${need[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi
if [ ! -d bench/ace/node_modules/atlassian-connect-express ]; then
  say "npm ci bench/ace"
  npm ci --prefix bench/ace --no-audit --no-fund --loglevel=error >&2
fi
# The smoke uses the debug build the tests already made (its numbers mean
# nothing; it checks the harness works); the full run builds release.
profile=release; cargo_profile=(--release)
[ "$quick" = 1 ] && { profile=debug; cargo_profile=(); }
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  say "cargo build ($profile)"
  # The lean build (no dev world): what production runs.
  cargo build "${cargo_profile[@]}" --no-default-features --locked --quiet \
    --bin lodger --example bench_tokens --example bench_server
fi
bin=target/$profile/lodger

pin_server=(); pin_client=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin_server=(taskset -c 0); pin_client=(taskset -c 1)
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The bench tenant's site: lodger confirms the relayed credential with it
# once (GET of the app property lodger-installation, issue 13), then serves
# from memory. A file server answers that one GET; it is not under load.
host_port=$(free_port)
mkdir -p "$work/host"
python3 -m http.server --bind 127.0.0.1 --directory "$work/host" "$host_port" >"$work/host.log" 2>&1 &
pids+=("$!")

# Tokens live an hour: longer than any run.
eval "$(BENCH_HOST_BASE_URL="http://127.0.0.1:$host_port" BENCH_HOST_DIR="$work/host" \
  target/$profile/examples/bench_tokens 3600)"

wait_up() { # url
  for _ in $(seq 1 600); do
    curl -fs -o /dev/null "$1" && return 0
    sleep 0.05
  done
  echo "server did not come up at $1" >&2
  tail -n 20 "$work"/*.log "$work"/nginx/logs/error.log >&2 2>/dev/null || true
  return 1
}

# Starts a server in the background on CPU 0; sets $server_pid.
start() { # log, command...
  local log=$1; shift
  "${pin_server[@]}" "$@" >"$log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
}

stop() { # pid
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# Peak resident set of a process and its children (nginx's worker), KiB.
peak_rss() { # pid
  local total=0 pid
  for pid in "$1" $(pgrep -P "$1" || true); do
    total=$(( total + $(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0) ))
  done
  echo "$total"
}

current_rss() { # pid
  local total=0 pid
  for pid in "$1" $(pgrep -P "$1" || true); do
    total=$(( total + $(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0) ))
  done
  echo "$total"
}

results="$work/results.tsv"
: >"$results"

# Drives url with wrk; appends "case  server  req/s  p50  p99  errors  peakKiB".
# With $post_body set, the requests are POSTs of that JSON body.
load() { # case, server name, pid, url, curl-style headers...
  local case=$1 name=$2 pid=$3 url=$4; shift 4
  local headers=() h
  for h in "$@"; do headers+=(-H "$h"); done
  # Check once that the request succeeds, so a broken case cannot pass as fast.
  local check=() script=()
  for h in "$@"; do check+=(-H "$h"); done
  if [ -n "${post_body:-}" ]; then
    check+=(-H "Content-Type: application/json" --data "$post_body")
    printf 'wrk.method = "POST"\nwrk.body = [[%s]]\nwrk.headers["Content-Type"] = "application/json"\n' "$post_body" >"$work/post.lua"
    script=(-s "$work/post.lua")
  fi
  curl -fs -o /dev/null "${check[@]}" "$url" || { echo "$case / $name: $url does not answer 2xx" >&2; exit 1; }
  say "$case: $name (${duration}s, $connections connections)"
  "${pin_client[@]}" wrk -t1 -c"$connections" -d"${duration}s" --timeout 5s --latency "${script[@]}" "${headers[@]}" "$url" >"$work/wrk.out"
  python3 - "$case" "$name" "$(peak_rss "$pid")" "$work/wrk.out" >>"$results" <<'PY'
import re, sys
case, name, peak, path = sys.argv[1:5]
text = open(path).read()
def ms(value):
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
errors = re.search(r"Socket errors: (.*)", text)
failed = (int(bad.group(1)) if bad else 0)
print("\t".join([case, name, f"{rps:.0f}", f"{p50:.3f}", f"{p99:.3f}", str(failed) + (" (socket errors)" if errors else ""), peak]))
PY
}

master="$BENCH_MASTER_KEYS"
auth=("Authorization: JWT $BENCH_CONTEXT_TOKEN" "X-Lodger-Installation: $BENCH_CREDENTIAL")

# --- 1. authenticated API request: lodger vs ACE ------------------------------
port=$(free_port)
start "$work/lodger.log" env LODGER_MASTER_KEYS="$master" LODGER_LOG=warn "$bin" serve --auth-only --port "$port"
lodger_pid=$server_pid
wait_up "http://127.0.0.1:$port/healthz"
sleep 2
curl -fs -o /dev/null "${auth[@]/#/-H}" "http://127.0.0.1:$port/api/whoami" 2>/dev/null || true
lodger_idle=$(current_rss "$lodger_pid")
load "1. API request (context token + credential)" "lodger" "$lodger_pid" "http://127.0.0.1:$port/api/whoami" "${auth[@]}"
stop "$lodger_pid"

ace_port=$(free_port)
start "$work/ace.log" env NODE_ENV=production PORT="$ace_port" BENCH_CLIENT_INFO="$BENCH_CLIENT_INFO" env -C bench/ace node app.js
ace_pid=$server_pid
wait_up "http://127.0.0.1:$ace_port/healthz"
sleep 2
ace_idle=$(current_rss "$ace_pid")
load "1. API request (context token + credential)" "ACE checkValidToken" "$ace_pid" "http://127.0.0.1:$ace_port/api/whoami" "Authorization: JWT $BENCH_CONTEXT_TOKEN"

# --- 2. iframe page with a host-signed jwt: ACE (still running) vs lodger ------
load "2. iframe page (host-signed jwt)" "ACE authenticate + template" "$ace_pid" "http://127.0.0.1:$ace_port/issue-panel?$BENCH_PAGE_QUERY&jwt=$BENCH_ACE_PAGE_TOKEN"
stop "$ace_pid"

port=$(free_port)
start "$work/lodger-full.log" env LODGER_MASTER_KEYS="$master" LODGER_LOG=warn "$bin" serve --port "$port"
lodger_full_pid=$server_pid
wait_up "http://127.0.0.1:$port/healthz"
load "2. iframe page (host-signed jwt)" "lodger" "$lodger_full_pid" "http://127.0.0.1:$port/jira/issue-panel.html?$BENCH_PAGE_QUERY&jwt=$BENCH_LODGER_PAGE_TOKEN"

# --- 4. static asset: lodger (still running) vs nginx on the export -----------
export_dir="$work/export"
"$bin" export "$export_dir" --base-url "http://127.0.0.1:$port" --auth-url "http://127.0.0.1:9" >/dev/null
asset=$(cd "$export_dir" && ls js/bridge.*.js | grep -v '\.gz$\|\.br$' | head -n 1)
load "4. static asset (/$asset, br)" "lodger" "$lodger_full_pid" "http://127.0.0.1:$port/$asset" "Accept-Encoding: br, gzip"
stop "$lodger_full_pid"

nginx_port=$(free_port)
prefix="$work/nginx"
mkdir -p "$prefix/tmp" "$prefix/logs"
brotli_module=/usr/lib/nginx/modules/ngx_http_brotli_static_module.so
{
  [ -e "$brotli_module" ] && echo "load_module $brotli_module;"
  cat <<EOF
daemon off;
worker_processes 1;
pid $prefix/nginx.pid;
error_log $prefix/logs/error.log warn;
events { worker_connections 512; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  client_body_temp_path $prefix/tmp/body; proxy_temp_path $prefix/tmp/proxy;
  fastcgi_temp_path $prefix/tmp/fastcgi; uwsgi_temp_path $prefix/tmp/uwsgi; scgi_temp_path $prefix/tmp/scgi;
  upstream lodger_auth { server 127.0.0.1:9; }
  server {
    listen 127.0.0.1:$nginx_port;
    root $export_dir;
    include $export_dir/hosting/nginx/locations.conf;
    $([ -e "$brotli_module" ] && echo "include $export_dir/hosting/nginx/brotli.conf;")
  }
}
EOF
} >"$prefix/nginx.conf"
start "$work/nginx.log" /usr/sbin/nginx -p "$prefix" -c "$prefix/nginx.conf"
nginx_pid=$server_pid
wait_up "http://127.0.0.1:$nginx_port/$asset"
load "4. static asset (/$asset, br)" "nginx (brotli_static, 1 worker)" "$nginx_pid" "http://127.0.0.1:$nginx_port/$asset" "Accept-Encoding: br, gzip"
stop "$nginx_pid"

# --- 3. authentication overhead: whoami vs bare warp in one binary ------------
port=$(free_port)
start "$work/bench-server.log" env LODGER_MASTER_KEYS="$master" target/$profile/examples/bench_server "$port"
bench_pid=$server_pid
wait_up "http://127.0.0.1:$port/healthz"
load "3. auth overhead (same binary)" "bare warp hello" "$bench_pid" "http://127.0.0.1:$port/bench/hello"
load "3. auth overhead (same binary)" "lodger /api/whoami" "$bench_pid" "http://127.0.0.1:$port/api/whoami" "${auth[@]}"
stop "$bench_pid"

# --- 8. Forge remote invocation vs Connect API call: one process, both flavours
# The same whoami, asked through Forge's invokeRemote (invocation token,
# RS256, key set cached after the first call) and through a Connect page's
# context token with the relayed credential.
port=$(free_port)
start "$work/lodger-both.log" env LODGER_MASTER_KEYS="$master" LODGER_LOG=warn "$bin" serve --auth-only --port "$port" \
  --forge-app-id "$BENCH_FORGE_APP_ID" --forge-jwks-url "http://127.0.0.1:$host_port/forge/jwks.json"
both_pid=$server_pid
wait_up "http://127.0.0.1:$port/healthz"
load "9. Forge remote vs Connect (same process)" "Connect context token, /api/whoami" "$both_pid" "http://127.0.0.1:$port/api/whoami" "${auth[@]}"
post_body='{"action":"whoami"}' load "9. Forge remote vs Connect (same process)" "lodger Forge invocation token, /forge/invoke whoami" "$both_pid" "http://127.0.0.1:$port/forge/invoke" \
  "Authorization: Bearer $BENCH_FORGE_TOKEN" "x-forge-oauth-system: bench-system-token"
stop "$both_pid"

# --- 5. cold start: spawn to first 200 (median) ------------------------------
cold() { # runs, port, url path, command...
  python3 - "$@" <<'PY'
import http.client, os, statistics, subprocess, sys, time
runs, port, path, command = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]
samples = []
for _ in range(runs):
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.0002)
    samples.append((time.perf_counter() - start) * 1000)
    process.kill()
    process.wait()
print(f"{statistics.median(samples):.1f}")
PY
}
say "5. cold start ($cold_runs / $ace_cold_runs runs)"
port=$(free_port)
lodger_cold=$(LODGER_MASTER_KEYS="$master" LODGER_LOG=warn cold "$cold_runs" "$port" /healthz "$bin" serve --auth-only --port "$port")
ace_cold=$(NODE_ENV=production PORT="$port" cold "$ace_cold_runs" "$port" /healthz env -C bench/ace node app.js)

# --- 7. install through UPM, in the dev world ---------------------------------
# The dev world needs the full build (default features) and connect-js,
# which the example installs with npm when tools/devhost has none.
say "7. install through UPM in the dev world ($install_runs rounds per product)"
cargo run "${cargo_profile[@]}" --locked --quiet --example bench_install -- "$install_runs" >"$work/install.tsv"

# --- the report ---------------------------------------------------------------
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
ace_version=$(node -p 'require("./bench/ace/node_modules/atlassian-connect-express/package.json").version')
report="$work/report.md"
python3 - "$results" "$lodger_idle" "$ace_idle" "$lodger_cold" "$ace_cold" "$cold_runs" "$ace_cold_runs" "$work/install.tsv" >"$report" <<PY
import sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
lodger_idle, ace_idle = int(sys.argv[2]), int(sys.argv[3])
lodger_cold, ace_cold, cold_runs, ace_cold_runs = sys.argv[4:8]
mib = lambda kib: f"{int(kib) / 1024:.1f} MiB"
print("Measured $(date -u +%Y-%m-%d) with \`bench/run.sh$( [ "$quick" = 1 ] && echo ' --quick')\` on $(nproc) CPUs ($cpu), Linux $(uname -r);")
print("$(rustc --version | cut -d' ' -f1-2), node $(node --version), atlassian-connect-express $ace_version, $(/usr/sbin/nginx -v 2>&1 | cut -d: -f2 | xargs), $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2).")
print("Load: wrk, 1 thread, $connections connections, ${duration} s per case; server pinned to CPU 0, wrk to CPU 1; lodger's lean $profile build (\`--no-default-features\`).")
print()
print("| case | server | requests/s | p50 | p99 | non-2xx | peak RSS | throughput vs reference | p99 vs reference |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
# The reference of each case is its other server (ACE, nginx, bare warp).
by_case = {}
for row in rows:
    by_case.setdefault(row[0], []).append(row)
for case, entries in by_case.items():
    lodger = [e for e in entries if e[1].startswith("lodger")]
    reference = [e for e in entries if not e[1].startswith("lodger")]
    for entry in entries:
        name, rps, p50, p99, bad, peak = entry[1:]
        if entry in lodger and reference:
            ref = reference[0]
            ratio = f"**{float(rps) / float(ref[2]):.2f}×** {ref[1].split()[0]}"
            p99_ratio = f"{float(p99) / float(ref[4]):.3f}×"
        else:
            ratio, p99_ratio = "reference", "reference"
        print(f"| {case} | {name} | {float(rps):,.0f} | {float(p50):.2f} ms | {float(p99):.2f} ms | {bad} | {mib(peak)} | {ratio} | {p99_ratio} |")
print()
print("| start-up and memory | lodger | ACE |")
print("|---|---:|---:|")
print(f"| 5. cold start: spawn to first 200 from /healthz (median of {cold_runs} / {ace_cold_runs}) | {lodger_cold} ms | {ace_cold} ms |")
print(f"| 6. idle RSS (2 s after start) | {mib(lodger_idle)} | {mib(ace_idle)} |")
peaks = {e[1]: e[6] for e in by_case.get("1. API request (context token + credential)", [])}
print(f"| 6. peak RSS under load (case 1) | {mib(peaks.get('lodger', 0))} | {mib(peaks.get('ACE checkValidToken', 0))} |")
print()
print("| 7. install: UPM POST until the dev host answers it (installed + enabled) | rounds | median | p90 |")
print("|---|---:|---:|---:|")
for line in open(sys.argv[8]):
    product, rounds, median, p90 = line.split()
    print(f"| {product} | {rounds} | {float(median):.1f} ms | {float(p90):.1f} ms |")
PY

cat "$report"
if [ "$quick" = 0 ]; then
  python3 - BENCHMARKS.md "$report" <<'PY'
import sys
path, report = sys.argv[1], open(sys.argv[2]).read()
text = open(path).read()
start, end = "<!-- bench:start -->", "<!-- bench:end -->"
if start not in text or end not in text:
    sys.exit(f"{path} has no {start} … {end} markers")
before, rest = text.split(start, 1)
_, after = rest.split(end, 1)
open(path, "w").write(f"{before}{start}\n{report}{end}{after}")
PY
  say "BENCHMARKS.md updated"
fi
