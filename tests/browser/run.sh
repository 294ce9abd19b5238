#!/usr/bin/env bash
# Open delever's HTML reports in a real browser (headless Chromium) and check them: no
# console errors, no network requests, the charts' SVG present, the round-by-round player
# stepping (and a timeline's day player), `?round=N` opening at round N, and the layout at
# 1400x900 and on A4 in print: nothing wider than its card, no SVG text labels
# overlapping, a run's report on at most 4 A4 pages. The browser step is bounded: each
# DevTools call times out after 30 s, and the whole driver after 170 s. Screenshots go to $OUT (under the target directory, which git ignores).
#
# Installs Debian's chromium when it is missing (CI runs as root). Needs python3 (standard
# library only) and a release build of delever (built here if missing).
#
#   tests/browser/run.sh                 # the default set of scenarios
#   tests/browser/run.sh a.yaml b.yaml   # these scenarios instead
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)

target="${CARGO_TARGET_DIR:-target}"
OUT="${OUT:-$target/browser}"
mkdir -p "$OUT"

chromium="${CHROMIUM:-}"
if [ -z "$chromium" ]; then
  chromium="$(command -v chromium || command -v chromium-browser || true)"
fi
if [ -z "$chromium" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: chromium is not installed and this is not root: apt-get install chromium, or set CHROMIUM=/path/to/chrome" >&2
    exit 2
  fi
  echo "installing Debian's chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  chromium="$(command -v chromium)"
fi
"$chromium" --version 2>/dev/null || true
installed=$(date +%s)

# Scenarios: every holder kind, defaults and lenders, interbank claims and many rounds,
# buying ETFs, hostile ids. Shipped scenarios that are not there are skipped.
if [ "$#" -gt 0 ]; then
  scenarios=("$@")
else
  scenarios=()
  for s in scenarios/semis-sentiment-reversal.yaml scenarios/archegos-2021-03.yaml \
           scenarios/cifuentes-shin-ferrucci.yaml scenarios/letf-rebalance-2025-04.yaml \
           tests/fixtures/full-example.yaml tests/browser/hostile.yaml; do
    [ -f "$s" ] && scenarios+=("$s")
  done
fi
if [ "${#scenarios[@]}" -lt 3 ]; then
  echo "error: fewer than 3 scenarios to test: ${scenarios[*]}" >&2
  exit 1
fi

cargo build --release --locked --quiet
delever="$target/release/delever"
reports=()
for s in "${scenarios[@]}"; do
  name="$(basename "$s" .yaml)"
  code=0
  "$delever" --quiet run "$s" --html "$OUT/$name.html" >/dev/null || code=$?
  # 3 = did not converge: the report is still written (and the one-round GLT scenario does that).
  if [ "$code" -ne 0 ] && [ "$code" -ne 3 ]; then
    echo "error: delever run $s --html exited $code" >&2
    exit 1
  fi
  reports+=("$OUT/$name.html")
done

# Sweep and Monte Carlo pages (only with the default set: they use the default scenario).
if [ "$#" -eq 0 ]; then
  "$delever" --quiet sweep --vary 'shocks[0].return=-0.02:-0.40:12' \
    --vary 'defaults.impact.y=0.5,1.0' --vary 'engine.mode=equilibrium,sequential' \
    --html "$OUT/sweep-semis.html" >/dev/null
  # 3: some draws did not converge (a rise makes the vol-target funds' rule non-monotone
  # and a few draws cycle); the page is still written, and says so.
  code=0
  "$delever" --quiet mc --draws 3000 --seed 1 --html "$OUT/mc-semis.html" >/dev/null 2>&1 || code=$?
  if [ "$code" -ne 0 ] && [ "$code" -ne 3 ]; then
    echo "error: delever mc --html exited $code" >&2
    exit 1
  fi
  reports+=("$OUT/sweep-semis.html" "$OUT/mc-semis.html")
  # A timeline's day player: a week of a small market.
  "$delever" --quiet run tests/fixtures/timeline/week.yaml --html "$OUT/timeline-week.html" >/dev/null
  reports+=("$OUT/timeline-week.html")
  # A network of 1,000 holders: drawn as one node per kind and lender, it must stay
  # readable (the layout checks below), and its page print on A4 like any other.
  rm -rf "$OUT/caccioli-1000"
  "$delever" --quiet generate caccioli --banks 1000 --out-dir "$OUT/caccioli-1000" >/dev/null
  gen="$(ls "$OUT"/caccioli-1000/*.yaml | head -n 1)"
  code=0
  "$delever" --quiet run "$gen" --html "$OUT/holders-1000.html" >/dev/null || code=$?
  if [ "$code" -ne 0 ] && [ "$code" -ne 3 ]; then
    echo "error: delever run $gen --html exited $code" >&2
    exit 1
  fi
  rm -rf "$OUT/caccioli-1000"
  reports+=("$OUT/holders-1000.html")
fi

timeout -k 5 170 python3 tests/browser/driver.py "$chromium" "$OUT" "${reports[@]}"
end=$(date +%s)
echo "browser tests: $((end - start)) s (chromium install $((installed - start)) s)"
timeout 900 python3 tests/browser/serve.py "$chromium" "$delever" "$OUT"  # delever serve, driven like a student
