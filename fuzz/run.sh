#!/usr/bin/env bash
# Run delever's fuzz targets (cargo-fuzz, libFuzzer) for a bounded time each.
#
#   fuzz/run.sh [TARGET|all] [SECONDS]      # default: all 25
#
# Targets: scenario_yaml account_book holder_table field_path shard_merge (fuzz/README.md).
# The machine has one stable toolchain: cargo-fuzz's nightly flags (-Z sanitizer,
# coverage passes) are enabled with RUSTC_BOOTSTRAP=1. cargo-fuzz is installed (pinned)
# when missing. Inputs found are kept in fuzz/corpus/TARGET (not committed; the committed
# seeds are fuzz/seeds/TARGET and the inputs of past findings fuzz/regressions/TARGET,
# both read only), crashes go to fuzz/artifacts/TARGET/.
# Prints one line per target with its executions; exits 1 if any target crashed.
#
# Environment: FUZZ_SANITIZER (address, the default, or none: no AddressSanitizer, for a
# build that takes less time and runs faster; CI's choice, see docs/reliability.md) and
# FUZZ_JOBS (targets fuzzed at once; default: one a core).
set -euo pipefail
cd "$(dirname "$0")"
CARGO_FUZZ_VERSION=0.13.2
ALL=(scenario_yaml account_book holder_table field_path shard_merge)

which=${1:-all}
secs=${2:-25}
if [[ $which == all ]]; then targets=("${ALL[@]}"); else targets=("$which"); fi
[[ $secs =~ ^[0-9]+$ && $secs -ge 1 ]] || { echo "run.sh: SECONDS must be a whole number ≥ 1" >&2; exit 2; }

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "run.sh: installing cargo-fuzz $CARGO_FUZZ_VERSION" >&2
  cargo install --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi
export RUSTC_BOOTSTRAP=1
# -a: debug assertions and overflow checks on, so an integer overflow is a crash too.
sanitizer=${FUZZ_SANITIZER:-address}
[[ $sanitizer == address || $sanitizer == none ]] || { echo "run.sh: FUZZ_SANITIZER must be address or none" >&2; exit 2; }
jobs=${FUZZ_JOBS:-$(nproc)}
[[ $jobs =~ ^[0-9]+$ && $jobs -ge 1 ]] || { echo "run.sh: FUZZ_JOBS must be a whole number ≥ 1" >&2; exit 2; }
FLAGS=(--debug-assertions --sanitizer "$sanitizer")
# cargo fuzz has no --locked: fetching with it first refuses a stale fuzz/Cargo.lock.
cargo fetch --locked
cargo fuzz build "${FLAGS[@]}"
bin="target/$(rustc -vV | sed -n 's/^host: //p')/release"

# The targets that need files write them under $TMPDIR: a directory of this run's own,
# removed at the end whatever happens.
scratch=$(mktemp -d)
# An interrupted run stops the targets still running (their `timeout`, which passes the
# signal on to the fuzzer, then the subshell) before their scratch files go.
stop_all() {
  local p
  for p in $(jobs -p); do pkill -TERM -P "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  wait || true
  rm -rf "$scratch"
}
trap stop_all EXIT
export TMPDIR=$scratch

# One target a core: libFuzzer runs single-threaded, so on 2 cores two targets fuzz at
# once and the step takes half the time. Each target has its own log; the summary lines
# are printed in target order once all have finished.
run_one() {
  local t=$1 log="$scratch/$1.log" start rc
  local dict=()
  [[ -f dict/$t.dict ]] && dict=(-dict="dict/$t.dict")
  start=$(date +%s)
  set +e
  # libFuzzer stops itself after -max_total_time; the outer timeout is a backstop. The
  # binary is run directly (cargo fuzz run would take the target directory's lock).
  timeout --kill-after=10 $((secs + 120)) \
    "$bin/$t" "corpus/$t" "seeds/$t" "regressions/$t" \
    "${dict[@]}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="artifacts/$t/" >"$log" 2>&1
  rc=$?
  set -e
  echo "$rc $(( $(date +%s) - start ))" >"$scratch/$t.rc"
}

for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t" "seeds/$t" "regressions/$t"
done
running=()
for t in "${targets[@]}"; do
  run_one "$t" &
  running+=($!)
  if (( ${#running[@]} >= jobs )); then
    wait "${running[0]}"
    running=("${running[@]:1}")
  fi
done
wait

failed=0
for t in "${targets[@]}"; do
  log="$scratch/$t.log"
  read -r rc took <"$scratch/$t.rc"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  printf '%-14s %4ss  %10s executions  %s  corpus %s files  exit %s\n' \
    "$t" "$took" "${execs:-?}" "${cov:-cov: ?}" \
    "$(find "corpus/$t" -type f | wc -l)" "$rc"
  if [[ $rc -ne 0 ]]; then
    failed=1
    echo "---- $t failed; the end of its log:" >&2
    tail -n 60 "$log" >&2
    echo "---- crash inputs: $(ls "artifacts/$t" 2>/dev/null | tr '\n' ' ')" >&2
  fi
done
exit $failed
