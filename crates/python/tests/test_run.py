"""`Report.to_json()` is `delever run --format json`, byte for byte, and the ways into a
run (shipped name, file, text, variant, --set, mode, --max-rounds) match the CLI's."""

from __future__ import annotations

import threading
import time
import warnings

import pytest

import delever
from conftest import REPO, shipped_names


def test_the_shipped_list_is_the_scenarios_directory():
    assert delever.shipped() == shipped_names()
    assert delever.DEFAULT_SCENARIO in delever.shipped()


@pytest.mark.parametrize("name", shipped_names())
def test_every_shipped_scenario_reports_as_the_cli(cli, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", delever.NotConvergedWarning)
        report = delever.scenario(name).run()
    expected = cli.run("run", name, "--format", "json", code=None)
    assert expected.returncode in (0, 3), expected.stderr
    assert report.exit_code == expected.returncode
    assert report.to_json() == expected.stdout


def test_a_file_reports_as_the_cli(cli):
    path = REPO / "scenarios" / "cifuentes-shin-ferrucci.yaml"
    report = delever.load(path).run()
    assert report.to_json() == cli.run("run", str(path), "--format", "json").stdout
    # A path given as text is a path too.
    assert delever.load(str(path)).run().to_json() == report.to_json()


def test_yaml_text_reports_as_the_file(cli):
    path = REPO / "scenarios" / "deepseek-2025-01-27.yaml"
    from_text = delever.load(path.read_text()).run()
    assert from_text.to_json() == cli.run("run", str(path), "--format", "json").stdout


def test_the_default_is_the_cli_default(cli):
    assert delever.scenario().run().to_json() == cli.run("run", "--format", "json").stdout


def test_a_variant_reports_as_the_cli(cli):
    s = delever.scenario(delever.DEFAULT_SCENARIO)
    assert s.variants, "the default scenario has variants"
    v = s.variants[0]
    got = s.run(variant=v).to_json()
    want = cli.run("run", delever.DEFAULT_SCENARIO, "--variant", v, "--format", "json").stdout
    assert got == want
    assert got != s.run().to_json()


def test_set_and_mode_report_as_the_cli(cli):
    name = "deepseek-2025-01-27"
    s = delever.scenario(name)
    got = s.run(set={"shocks[0].return": -0.3}).to_json()
    want = cli.run("run", name, "--set", "shocks[0].return=-0.3", "--format", "json").stdout
    assert got == want
    got = s.run(mode="sequential").to_json()
    want = cli.run("run", name, "--set", "engine.mode=sequential", "--format", "json").stdout
    assert got == want
    assert delever.Report  # noqa: the class is public


def test_max_rounds_one_warns_and_reports_as_the_cli(cli):
    name = delever.DEFAULT_SCENARIO
    with pytest.warns(delever.NotConvergedWarning):
        report = delever.scenario(name).run(max_rounds=1)
    assert not report.converged
    assert report.exit_code == 3
    want = cli.run("run", name, "--max-rounds", "1", "--format", "json", code=3).stdout
    assert report.to_json() == want


def test_csv_and_table_are_the_cli(cli):
    name = "deepseek-2025-01-27"
    report = delever.scenario(name).run()
    assert report.to_csv() == cli.run("run", name, "--format", "csv").stdout
    assert report.to_table() == cli.run("run", name, "--color", "never").stdout


def test_totals_and_headline_fields_come_from_the_json():
    report = delever.scenario().run()
    doc = report.json
    assert report.totals == doc["totals"]
    assert report.mode == doc["mode"] and report.termination == doc["termination"]
    assert report.rounds == doc["rounds"] and report.scenario == delever.DEFAULT_SCENARIO
    assert "amplification" in repr(report)


def test_html_report_renders_in_jupyter():
    report = delever.scenario("deepseek-2025-01-27").run()
    page = report.to_html()
    assert page.lstrip().lower().startswith("<!doctype html")
    assert "deepseek-2025-01-27" in page
    frame = report._repr_html_()
    assert frame.startswith("<iframe") and "srcdoc=" in frame
    # The page is escaped into the attribute: no raw tag of it leaks out.
    assert "<script" not in frame


def _sweep_while_sampling(s, points):
    """Run a sweep of `points` variants in a thread; return its span and the main
    thread's timestamps taken meanwhile."""
    vary = {"shocks[0].return": f"-0.02:-0.40:{points}"}
    span = {}

    def work():
        span["start"] = time.perf_counter()
        s.sweep(vary)
        span["end"] = time.perf_counter()

    t = threading.Thread(target=work)
    stamps = []
    t.start()
    while t.is_alive():
        stamps.append(time.perf_counter())
        time.sleep(0.001)
    t.join()
    return span["end"] - span["start"], [x for x in stamps if span["start"] < x < span["end"]]


def test_the_gil_is_released_while_the_engine_runs():
    s = delever.scenario(delever.DEFAULT_SCENARIO)
    # Enough work to see, whatever the machine's speed: the sweep grows until it takes
    # a fifth of a second (40 variants took 33 ms on an idle 2-core machine).
    points = 40
    busy, inside = _sweep_while_sampling(s, points)
    while busy < 0.2 and points < 10_000:
        points *= 4
        busy, inside = _sweep_while_sampling(s, points)
    gaps = [b - a for a, b in zip(inside, inside[1:])]
    # With the GIL held through the sweep this thread would stall for all of it.
    assert busy > 0.05, busy
    assert inside and max(gaps, default=busy) < busy / 2, (busy, max(gaps, default=None))
