"""Shared fixtures: the repository, the CLI binary the package is compared with, and a
helper that runs it.

The binary is the one `run-tests.sh` built (`DELEVER_BIN`); without that variable the
tests look for target/release/delever, then target/debug/delever, and fail if neither
exists (a comparison with nothing would prove nothing).
"""

from __future__ import annotations

import os
import pathlib
import subprocess
from typing import List, Optional

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]


def _binary() -> pathlib.Path:
    env = os.environ.get("DELEVER_BIN")
    if env:
        return pathlib.Path(env)
    for profile in ("release", "debug"):
        p = REPO / "target" / profile / "delever"
        if p.is_file():
            return p
    raise RuntimeError("no delever binary: set DELEVER_BIN or run `cargo build --release`")


class Cli:
    """The `delever` binary."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path

    def run(self, *args: str, code: Optional[int] = 0, cwd: Optional[pathlib.Path] = None):
        """Run `delever -q ARGS`; check the exit code unless `code` is None."""
        p = subprocess.run(
            [str(self.path), "-q", *args],
            capture_output=True,
            text=True,
            cwd=str(cwd or REPO),
            timeout=300,
        )
        if code is not None:
            assert p.returncode == code, (p.returncode, p.stderr)
        return p


@pytest.fixture(scope="session")
def cli() -> Cli:
    path = _binary()
    assert path.is_file(), f"no binary at {path}"
    return Cli(path)


@pytest.fixture(scope="session")
def repo() -> pathlib.Path:
    return REPO


def shipped_names() -> List[str]:
    return sorted(p.stem for p in (REPO / "scenarios").glob("*.yaml"))
