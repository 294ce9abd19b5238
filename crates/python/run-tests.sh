#!/usr/bin/env bash
# The Python package's tests, run by .ci/run: build the extension with maturin into a
# virtual environment in a temporary directory, run pytest without pandas and then with
# pandas and pyarrow, execute the notebook with nbclient, and remove the environment.
#
# Bounded: 4-7 minutes on 2 cores after the workspace's release build, depending on the
# machine's load (50 s of CPU; the wheel reuses the compiled crates; docs/python.md,
# 'Tests'). Writes only under a mktemp directory and cargo's target/. Starts nothing that outlives it (nbclient's kernel is
# shut down by nbclient).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
start=$SECONDS
phase() { echo "--- $* ($((SECONDS - start)) s so far)"; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/delever-python.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

phase "the CLI (cargo build --release) and a virtual environment with maturin and pytest"
# The CLI the tests compare against, built as the rest of CI builds it.
cargo build --release --locked --quiet -p delever --bin delever
export DELEVER_BIN="$root/target/release/delever"

python="${PYTHON:-python3}"
"$python" -m venv "$tmp/venv"
py="$tmp/venv/bin/python"
# Nothing is written beside the sources: no bytecode caches, no pytest cache.
export PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
"$py" -m pip install --quiet "maturin>=1.7,<2" "pytest>=7"
phase "building the wheel (maturin, --locked)"

# One wheel, built against the workspace's lock file, installed as a user would.
"$tmp/venv/bin/maturin" build --release --locked --quiet \
    --manifest-path crates/python/Cargo.toml --interpreter "$py" --out "$tmp/wheels"
"$py" -m pip install --quiet --no-index --find-links "$tmp/wheels" delever

tests() {
    # Tests run from the temporary directory so that `import delever` is the installed
    # wheel, not the source tree.
    (cd "$tmp" && "$py" -m pytest -q -p no:cacheprovider --rootdir "$tmp" "$here/tests" "$@")
}

phase "pytest without pandas (tables are lists of dicts)"
tests

phase "pytest with pandas and pyarrow (DataFrames, Arrow-backed)"
"$py" -m pip install --quiet pandas pyarrow matplotlib nbclient nbformat ipykernel
tests

phase "the notebook, top to bottom (nbclient, matplotlib's Agg backend)"
MPLBACKEND=Agg MPLCONFIGDIR="$tmp/mpl" "$py" "$here/tests/run_notebook.py" \
    "$root/docs/notebooks/first-cascade.ipynb" "$tmp"

phase "removing the virtual environment"
rm -rf "$tmp"
trap - EXIT
echo "python package: passed in $((SECONDS - start)) s"
