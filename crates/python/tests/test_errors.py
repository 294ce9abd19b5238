"""Errors raise `delever.ScenarioError` with the CLI's locations and text."""

from __future__ import annotations

import pytest

import delever
from conftest import REPO

ERRORS = REPO / "tests" / "errors"

# Files whose first problem has a line, a column and a field path.
LOCATED = [
    "unknown_key.yaml",
    "many_problems.yaml",
    "maintenance_above_one.yaml",
    "unknown_lender.yaml",
    "wrong_type_number.yaml",
    "csv_bad_row.yaml",
]


@pytest.mark.parametrize("name", LOCATED)
def test_a_bad_file_raises_with_the_cli_diagnostics(cli, name):
    path = ERRORS / name
    with pytest.raises(delever.ScenarioError) as info:
        delever.load(path)
    e = info.value
    # The text is what `delever validate` prints.
    want = cli.run("validate", str(path), code=2).stderr.strip()
    assert str(e).strip() in want
    assert e.diagnostics and e.file == e.diagnostics[0]["file"]
    assert isinstance(e.line, int) and isinstance(e.column, int)
    assert e.message == e.diagnostics[0]["message"]
    first = e.diagnostics[0]
    assert want.splitlines()[0].startswith(f"{first['file']}:{first['line']}:{first['column']}")


def test_unknown_key_carries_file_line_column_path_and_hint():
    path = ERRORS / "unknown_key.yaml"
    with pytest.raises(delever.ScenarioError) as info:
        delever.load(path)
    e = info.value
    assert e.file == str(path)
    assert (e.line, e.column) == (13, 45)
    assert e.path == "holders[0].margin.maintenence"
    assert "unknown key `maintenence`" in e.message
    assert e.hint == "did you mean `maintenance`?"
    # A ValueError too, for code that catches those.
    assert isinstance(e, ValueError) and isinstance(e, delever.ScenarioError)


def test_many_problems_are_all_listed():
    with pytest.raises(delever.ScenarioError) as info:
        delever.load(ERRORS / "many_problems.yaml")
    diags = info.value.diagnostics
    assert len(diags) > 1
    assert all({"file", "line", "column", "path", "message", "hint", "text"} <= d.keys() for d in diags)
    assert [d["line"] for d in diags] == sorted(d["line"] for d in diags)


def test_yaml_text_errors_are_located_in_the_text():
    text = (ERRORS / "unknown_key.yaml").read_text()
    with pytest.raises(delever.ScenarioError) as info:
        delever.load(text)
    e = info.value
    assert e.file == "<string>"
    assert (e.line, e.column, e.path) == (13, 45, "holders[0].margin.maintenence")


def test_a_missing_file_raises_naming_it():
    with pytest.raises(delever.ScenarioError) as info:
        delever.load("no/such/scenario.yaml")
    assert "no/such/scenario.yaml" in str(info.value)


def test_an_unknown_shipped_name_lists_the_shipped():
    with pytest.raises(ValueError, match="delever.shipped"):
        delever.scenario("semis-sentiment-reversl")


def test_a_bad_set_path_raises_like_the_cli(cli):
    s = delever.scenario("deepseek-2025-01-27")
    with pytest.raises(delever.ScenarioError) as info:
        s.run(set={"shocks[0].retrun": -0.3})
    want = cli.run(
        "run", "deepseek-2025-01-27", "--set", "shocks[0].retrun=-0.3", code=2
    ).stderr
    assert "retrun" in str(info.value)
    assert "retrun" in want


def test_a_refused_set_value_is_located_in_the_scenario(cli):
    s = delever.scenario("deepseek-2025-01-27")
    with pytest.raises(delever.ScenarioError) as info:
        s.run(set={"shocks[0].return": -2})
    e = info.value
    assert e.path == "shocks[0].return" and e.line is not None and e.column is not None
    want = cli.run("run", "deepseek-2025-01-27", "--set", "shocks[0].return=-2", code=2).stderr
    assert f":{e.line}:{e.column}: shocks[0].return" in want


def test_an_unknown_variant_names_the_known_ones():
    with pytest.raises(delever.ScenarioError, match="hint"):
        delever.scenario().run(variant="no-such-variant")


def test_variant_and_set_do_not_combine():
    s = delever.scenario()
    with pytest.raises(ValueError, match="cannot be combined"):
        s.run(variant=s.variants[0], set={"shocks[0].return": -0.1})


def test_zero_rounds_is_refused():
    with pytest.raises(delever.ScenarioError, match="at least 1"):
        delever.scenario().run(max_rounds=0)


def test_errors_share_a_base_class():
    assert issubclass(delever.ScenarioError, ValueError)
    assert issubclass(delever.DeleverError, RuntimeError)
