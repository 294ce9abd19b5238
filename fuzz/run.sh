#!/usr/bin/env bash
# Run delever's fuzz targets (cargo-fuzz, libFuzzer) for a bounded time each.
#
#   fuzz/run.sh [TARGET|all] [SECONDS]      # default: all 25
#
# Targets: scenario_yaml account_book field_path shard_merge (fuzz/README.md).
# The machine has one stable toolchain: cargo-fuzz's nightly flags (-Z sanitizer,
# coverage passes) are enabled with RUSTC_BOOTSTRAP=1. cargo-fuzz is installed (pinned)
# when missing. Inputs found are kept in fuzz/corpus/TARGET (not committed; the committed
# seeds are fuzz/seeds/TARGET and the inputs of past findings fuzz/regressions/TARGET,
# both read only), crashes go to fuzz/artifacts/TARGET/.
# Prints one line per target with its executions; exits 1 if any target crashed.
set -euo pipefail
cd "$(dirname "$0")"
CARGO_FUZZ_VERSION=0.13.2
ALL=(scenario_yaml account_book field_path shard_merge)

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
FLAGS=(--debug-assertions)
# cargo fuzz has no --locked: fetching with it first refuses a stale fuzz/Cargo.lock.
cargo fetch --locked
cargo fuzz build "${FLAGS[@]}"

# The targets that need files write them under $TMPDIR: a directory of this run's own,
# removed at the end whatever happens.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export TMPDIR=$scratch

failed=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t" "seeds/$t" "regressions/$t"
  dict=()
  [[ -f dict/$t.dict ]] && dict=(-dict="dict/$t.dict")
  log="$scratch/$t.log"
  start=$(date +%s)
  set +e
  # libFuzzer stops itself after -max_total_time; the outer timeout is a backstop.
  timeout --kill-after=10 $((secs + 120)) \
    cargo fuzz run "${FLAGS[@]}" "$t" "corpus/$t" "seeds/$t" "regressions/$t" -- \
    "${dict[@]}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="artifacts/$t/" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  printf '%-14s %4ss  %10s executions  %s  corpus %s files  exit %s\n' \
    "$t" "$(( $(date +%s) - start ))" "${execs:-?}" "${cov:-cov: ?}" \
    "$(find "corpus/$t" -type f | wc -l)" "$rc"
  if [[ $rc -ne 0 ]]; then
    failed=1
    echo "---- $t failed; the end of its log:" >&2
    tail -n 60 "$log" >&2
    echo "---- crash inputs: $(ls "artifacts/$t" 2>/dev/null | tr '\n' ' ')" >&2
  fi
done
exit $failed
