"""`Scenario.sweep` and `Scenario.mc` rows are `delever sweep` and `delever mc` rows."""

from __future__ import annotations

import math

import pytest

import delever
from delever._frames import frame_from_csv

try:
    import pandas as pd
except ImportError:
    pd = None


def rows(table):
    """Rows of a DataFrame or a list of dicts, as plain lists of dicts."""
    if pd is not None and isinstance(table, pd.DataFrame):
        return table.to_dict("records")
    return table


def same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.keys() == y.keys()
        for k in x:
            if isinstance(x[k], float) and math.isnan(x[k]):
                assert isinstance(y[k], float) and math.isnan(y[k]), k
            else:
                assert x[k] == y[k], (k, x[k], y[k])


def test_a_sweep_is_the_cli_sweep(cli, tmp_path):
    name = delever.DEFAULT_SCENARIO
    got = delever.scenario(name).sweep(
        {"shocks[0].return": [-0.1, -0.2, -0.3], "engine.mode": ["equilibrium", "sequential"]}
    )
    out = cli.run(
        "sweep", name,
        "--vary", "shocks[0].return=-0.1,-0.2,-0.3",
        "--vary", "engine.mode=equilibrium,sequential",
        "--format", "csv",
    ).stdout
    want = frame_from_csv(out, params=[])
    same(rows(got), rows(want))
    assert len(rows(got)) == 6
    first = rows(got)[0]
    assert first["shocks[0].return"] == -0.1 and first["engine.mode"] == "equilibrium"


def test_a_sweep_range_is_the_cli_range(cli):
    name = "deepseek-2025-01-27"
    got = delever.scenario(name).sweep({"shocks[0].return": "-0.05:-0.40:8"}, max_rounds=50)
    out = cli.run(
        "sweep", name, "--vary", "shocks[0].return=-0.05:-0.40:8", "--max-rounds", "50",
        "--format", "csv",
    ).stdout
    same(rows(got), rows(frame_from_csv(out, params=[])))


def test_a_sweep_csv_keeps_every_cli_column(cli):
    name = "deepseek-2025-01-27"
    out = cli.run("sweep", name, "--vary", "shocks[0].return=-0.1,-0.2", "--format", "csv").stdout
    got = delever.scenario(name).sweep({"shocks[0].return": [-0.1, -0.2]})
    header = out.splitlines()[0].split(",")
    cols = list(got.columns) if pd is not None else list(rows(got)[0].keys())
    assert cols == header


@pytest.mark.skipif(pd is None, reason="needs pandas")
def test_sweep_dtypes_are_stable():
    df = delever.scenario("deepseek-2025-01-27").sweep({"shocks[0].return": [-0.1, -0.2]})
    kinds = {c: str(df[c].dtype) for c in df.columns}
    for col in ("index", "rounds", "defaults", "margin_calls"):
        assert kinds[col].startswith("int64"), (col, kinds[col])
    for col in ("shocks[0].return", "total_loss_usd", "amplification"):
        assert kinds[col].startswith("double") or kinds[col] == "float64", (col, kinds[col])
    assert kinds["multiple_equilibria"].startswith("bool")


def test_monte_carlo_draws_and_summary_are_the_cli(cli, tmp_path):
    name = delever.DEFAULT_SCENARIO
    draws_file = tmp_path / "draws.csv"
    summary = cli.run(
        "mc", name, "--draws", "24", "--seed", "7", "--format", "csv",
        "--draws-out", str(draws_file),
    ).stdout
    got, got_summary = delever.scenario(name).mc(24, seed=7, summary=True)
    same(rows(got), rows(frame_from_csv(draws_file.read_text(), params=[])))
    same(rows(got_summary), rows(frame_from_csv(summary, params=[], summary=True)))
    assert len(rows(got)) == 24
    # The seed decides the draws.
    other = delever.scenario(name).mc(24, seed=8)
    assert rows(other) != rows(got)


def test_mc_without_a_monte_carlo_block_raises():
    with pytest.raises(delever.ScenarioError, match="monte_carlo"):
        delever.scenario("deepseek-2025-01-27").mc(10)


def test_a_bad_vary_raises():
    with pytest.raises(delever.ScenarioError):
        delever.scenario().sweep({"shocks[0].nope": [1, 2]})
