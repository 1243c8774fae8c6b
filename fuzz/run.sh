#!/usr/bin/env bash
# Runs lodger's fuzz targets, each for N seconds (default 60), one after the
# other on one core: `fuzz/run.sh [seconds] [target ...]`.
#
# The build is optimised (`-O`), as long runs want. `FUZZ_BUILD=dev` builds
# without optimisation instead: minutes less to compile from a clean state,
# slower to run; what `.ci/run` uses for its few seconds per target.
#
# Stable Rust is enough: cargo-fuzz with `--sanitizer none` passes only stable
# flags (libFuzzer's coverage instrumentation, no AddressSanitizer; lodger has
# no unsafe code, so panics, overflows in debug assertions, hangs and memory
# blow-ups are what there is to find). cargo-fuzz is installed when missing.
#
# Corpora: fuzz/seeds/<target> (small inputs written for this repo) plus, at
# run time, inputs derived from tests/fixtures/qsh-oracle.json and, when
# present, Atlassian's ../shared/connect-data/jwt-signed-urls.json (which is
# not copied into the repository). New inputs go to fuzz/corpus/<target>
# (git-ignored), crashes to fuzz/artifacts/<target>. Prints one line per
# target: executions, seconds, crashes. Exits non-zero if any target crashed.
set -euo pipefail
cd "$(dirname "$0")"

profile=-O
[ "${FUZZ_BUILD:-}" = dev ] && profile=--dev
seconds=${1:-60}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(qsh jwt sealed lifecycle descriptor jql invocation_token)

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz"
  cargo install cargo-fuzz --locked --version 0.13.2 --quiet
fi

mkdir -p corpus artifacts
for t in "${targets[@]}"; do mkdir -p "corpus/$t"; done

# Inputs derived from the test vectors (written only under git-ignored corpus/).
derive() {
  local qsh=../tests/fixtures/qsh-oracle.json shared=../../shared/connect-data/jwt-signed-urls.json
  if [ -d corpus/qsh ] && [ -f "$qsh" ] && command -v python3 >/dev/null; then
    python3 - "$qsh" corpus/qsh <<'PY'
import json, sys
vectors = json.load(open(sys.argv[1]))["vectors"]
for i, v in enumerate(vectors):
    with open(f"{sys.argv[2]}/oracle-{i:03}", "w") as out:
        out.write(f"{v['method']}\n{v['url']}\n\n{v['baseUrl']}")
PY
  fi
  if [ -f "$shared" ]; then
    local i=0 url
    # Signed URLs: their tokens feed the JWT target, the URLs the qsh target.
    grep -o '"signedUrl": *"[^"]*"' "$shared" | sed 's/.*: *"//; s/"$//; s/\\u0026/\&/g; s/\\u003d/=/g' |
      while read -r url; do
        i=$((i + 1))
        # `if`, not `&&`: a target left out must not end the loop (set -e).
        if [ -d corpus/qsh ]; then printf 'GET\n%s\n\nhttps://example.com' "$url" >"corpus/qsh/shared-$i"; fi
        if [ -d corpus/jwt ]; then printf '%s' "${url##*jwt=}" >"corpus/jwt/shared-$i"; fi
      done
  fi
}
derive

status=0
summary=()
for t in "${targets[@]}"; do
  log="artifacts/$t.log"
  mkdir -p "artifacts/$t"
  start=$(date +%s)
  if nice cargo fuzz run --sanitizer none "$profile" "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
      -print_final_stats=1 -artifact_prefix="artifacts/$t/" >"$log" 2>&1; then
    result=ok
  else
    result="CRASH (see $log and artifacts/$t/)"
    status=1
    tail -n 40 "$log" >&2
  fi
  # libFuzzer's own count and time ("Done N runs in S second(s)"); the wall
  # clock, which includes building, is the fallback.
  took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  took=${took:-$(($(date +%s) - start))}
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
  corpus=$(ls "corpus/$t" | wc -l)
  summary+=("$(printf '%-11s %10s executions in %4ss  corpus %5s  %s' "$t" "${execs:-?}" "$took" "$corpus" "$result")")
  echo "${summary[-1]}"
done
echo
printf '%s\n' "${summary[@]}" >artifacts/summary.txt
exit $status
