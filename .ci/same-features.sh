#!/usr/bin/env bash
# Fails if the CLI's release build (`cargo run --release`) and the Python wheel's
# (maturin, crates/python) would compile a shared crate with different features or
# profile settings: CI would then build the release workspace twice (README.md,
# 'Development'). Reads cargo's unit graphs only; compiles nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# `--unit-graph` is unstable: RUSTC_BOOTSTRAP lets the stable cargo print it.
graph() { RUSTC_BOOTSTRAP=1 cargo build --release --locked --unit-graph -Z unstable-options "$@"; }
graph -p delever --bin delever > "$tmp/cli.json"
graph -p delever-python --lib > "$tmp/wheel.json"
python3 - "$tmp/cli.json" "$tmp/wheel.json" <<'PY'
import json, sys

def units(path):
    out = {}
    for u in json.load(open(path))["units"]:
        key = (u["pkg_id"], u["target"]["name"], u["mode"])
        profile = {k: v for k, v in u["profile"].items() if k != "name"}
        out[key] = (sorted(u["features"]), json.dumps(profile, sort_keys=True))
    return out

cli, wheel = units(sys.argv[1]), units(sys.argv[2])
shared = [k for k in cli if k in wheel]
bad = [k for k in shared if cli[k] != wheel[k]]
for k in bad:
    a, b = cli[k][0], wheel[k][0]
    print(f"{k[0]} ({k[1]}, {k[2]}): features only in the CLI build {sorted(set(a) - set(b))}, "
          f"only in the wheel's {sorted(set(b) - set(a))}" + ("" if a != b else "; profile differs"))
if bad:
    print(f"{len(bad)} of {len(shared)} shared crates differ: unify their features in the root "
          "Cargo.toml (see README.md, 'Development')", file=sys.stderr)
    sys.exit(1)
print(f"the CLI and the wheel share all {len(shared)} common units")
PY
