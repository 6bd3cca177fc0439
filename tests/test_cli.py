"""The ``orgsim`` console script (compare, run, validate) run as a user runs it, in a subprocess; more bad
input through the same entry point (``cli.main``) in process."""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from orgsim.cli import main
from orgsim.experiment import compare
from orgsim.metrics import MEASURES
from orgsim.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]
TINY = """\
description = "tiny: two organisations, one needs shock"
[run]
ticks = 60
seeds = 2
warmup = 10
members = 20
[environment]
regime = "complex"
load = 0.7
[[environment.shocks]]
tick = 30
layer = "needs"
magnitude = 0.8
"""

# name: (scenario text or None for a missing file, extra arguments, key the message must name)
BAD_INPUT = {
    "missing file": (None, [], "no such scenario file"),
    "malformed TOML": ('[run]\nticks = 50\n[environment\nregime = "clear"\n', [], "malformed TOML"),
    "out of range": ("[environment]\narrival_rate = -3\n", [], "environment.arrival_rate"),
    "unknown key": ('[environment]\nregim = "clear"\n', [], "environment.regim"),
    "shock after the last tick": (
        '[run]\nticks = 50\nwarmup = 5\n[[environment.shocks]]\ntick = 80\nlayer = "needs"\n', [],
        "environment.shocks.0.tick",
    ),
}
# More bad input, checked in process through the same entry point (cli.main) to keep the suite fast.
MORE_BAD_INPUT = {
    "load and arrival rate": ("[environment]\nload = 0.9\narrival_rate = 2.0\n", [],
                              "environment: give either load or arrival_rate, not both"),
    "out of range lever": ("[organisations.a]\npreset = 'siloed'\nhandoff_error = 1.5\n", [],
                           "organisations.a.handoff_error"),
    "unknown preset": ("[organisations.a]\npreset = 'hierarchy'\n", [], "organisations.a"),
    "shock after --ticks": (TINY, ["--ticks", "20"], "with --ticks 20: environment.shocks.0.tick"),
    "--out is a file": (TINY, ["--out", "taken"], "taken: --out must be a folder"),
    "run: unknown organisation": (TINY, ["--organisation", "matrix"],
                                  "unknown organisation 'matrix'; this scenario has: siloed, responsive"),
    "run: negative seed": (TINY, ["--seed", "-1"], "seed must be a whole number in [0, inf], got -1"),
}


def orgsim(command: list[str], *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([*command, *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture(scope="module")
def bad_runs(orgsim_command, tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, str, Path]]:
    """Every bad input, run through ``orgsim compare`` at once (they only load and fail)."""
    root = tmp_path_factory.mktemp("bad")
    jobs = {}
    for i, (name, (text, extra, key)) in enumerate(BAD_INPUT.items()):
        folder = root / f"case{i}"
        folder.mkdir()
        (folder / "taken").write_text("a results file that must survive\n")
        scenario = folder / f"case{i}.toml"
        if text is not None:
            scenario.write_text(text)
        jobs[name] = (folder, scenario.name, extra, key)
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(orgsim, orgsim_command, "compare", file, *extra, cwd=folder)
                   for name, (folder, file, extra, _) in jobs.items()}
        return {name: (futures[name].result(), jobs[name][1], jobs[name][0]) for name in jobs}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_one_line_exit_2_no_traceback(case, bad_runs):
    result, file, folder = bad_runs[case]
    key = BAD_INPUT[case][2]
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("orgsim: error: ")
    assert file in line  # names the file ...
    assert key in line  # ... and the key
    assert "Traceback" not in result.stderr + result.stdout
    assert not (folder / "out").exists()  # nothing written
    assert (folder / "taken").read_text() == "a results file that must survive\n"


@pytest.mark.parametrize("case", list(MORE_BAD_INPUT))
def test_more_bad_input_is_one_line_exit_2(case, tmp_path, monkeypatch, capsys):
    text, extra, key = MORE_BAD_INPUT[case]
    (tmp_path / "taken").write_text("results\n")
    (tmp_path / "case.toml").write_text(text)
    monkeypatch.chdir(tmp_path)
    command = "run" if case.startswith("run:") else "compare"
    assert main([command, "case.toml", *extra]) == 2
    out, err = capsys.readouterr()
    (line,) = err.splitlines()
    assert line.startswith("orgsim: error: ") and key in line
    if case.startswith(("out", "unknown", "shock", "run: unknown")):
        assert "case.toml" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.toml", "taken"]
    assert (tmp_path / "taken").read_text() == "results\n"


def test_unknown_key_suggests_the_nearest(bad_runs):
    line = bad_runs["unknown key"][0].stderr
    assert "unknown key (did you mean 'regime'?)" in line
    assert "allowed: regime" in line


def test_out_of_range_says_what_is_allowed(bad_runs):
    assert "greater than 0" in bad_runs["out of range"][0].stderr
    assert "allowed: 0 to 49" in bad_runs["shock after the last tick"][0].stderr


def test_compare_writes_summary_and_figure(orgsim_command, tmp_path):
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY)
    result = orgsim(orgsim_command, "compare", "tiny.toml", "--out", "results", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "value delivered per tick" in result.stdout
    assert "siloed" in result.stdout and "responsive" in result.stdout
    summary = pd.read_csv(tmp_path / "results" / "summary.csv")
    assert summary.columns.tolist() == ["organisation", "measure", "mean", "ci_low", "ci_high", "n"]
    assert set(summary.organisation) == {"siloed", "responsive"}
    assert {f"mean_{m}" for m in MEASURES} <= set(summary.measure)
    assert summary.n.between(0, 2).all()
    defined = summary.dropna(subset=["mean"])
    assert (defined.n >= 1).all()
    assert (defined.ci_low <= defined["mean"] + 1e-12).all() and (defined["mean"] <= defined.ci_high + 1e-12).all()
    # The file holds the same numbers the Python API gives: same seeds, same results, any process.
    expected = compare(load_scenario(scenario)).summary()
    pd.testing.assert_frame_equal(summary, expected, check_exact=False, rtol=1e-12, check_dtype=False)
    png = (tmp_path / "results" / "comparison.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000


def test_run_writes_the_per_tick_table(orgsim_command, tmp_path):
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY)
    result = orgsim(orgsim_command, "run", "tiny.toml", "--organisation", "responsive", "--seed", "3",
                    "--ticks", "40", "--out", "table.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "table.csv" in result.stdout
    table = pd.read_csv(tmp_path / "table.csv", index_col="tick")
    assert table.columns.tolist() == list(MEASURES)
    assert table.index.tolist() == list(range(40))
    model = load_scenario(scenario).with_run(ticks=40).model("responsive", 3).run(40)
    pd.testing.assert_frame_equal(table, model.timeseries(), check_exact=False, rtol=1e-12, check_dtype=False)


def test_run_defaults_to_the_first_organisation_and_out_folder(tmp_path, monkeypatch):
    (tmp_path / "tiny.toml").write_text(TINY)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "tiny.toml", "--ticks", "40"]) == 0
    assert len(pd.read_csv(tmp_path / "out" / "tiny-siloed-seed0.csv")) == 40
    (tmp_path / "results").mkdir()
    assert main(["run", "tiny.toml", "--ticks", "35", "--seed", "2", "--out", "results"]) == 0
    assert len(pd.read_csv(tmp_path / "results" / "tiny-siloed-seed2.csv")) == 35  # a folder: the file goes in it


def test_validate_checks_every_file(orgsim_command, tmp_path):
    shipped = [str(REPO / "scenarios" / name) for name in ("demand-shock.toml", "stable-market.toml")]
    (tmp_path / "bad.toml").write_text("[run]\nseeds = 0\n")
    result = orgsim(orgsim_command, "validate", *shipped, "bad.toml", cwd=tmp_path)
    assert result.returncode == 2
    ok = result.stdout.splitlines()
    assert len(ok) == len(shipped) and all(line.startswith(f"{p}: ok") for line, p in zip(ok, shipped, strict=True))
    (line,) = result.stderr.splitlines()
    assert line.startswith("orgsim: error: bad.toml: run.seeds: ")
    assert orgsim(orgsim_command, "validate", *shipped, cwd=tmp_path).returncode == 0


def test_bad_command_line_arguments_exit_2(orgsim_command, tmp_path, capsys):
    (tmp_path / "tiny.toml").write_text(TINY)
    result = orgsim(orgsim_command, "compare", "tiny.toml", "--seeds", "0", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("orgsim compare: error: argument --seeds")
    for args in (["compare", "tiny.toml", "--ticks", "many"], ["frobnicate"]):
        with pytest.raises(SystemExit) as exit_:
            main(args)
        assert exit_.value.code == 2
        assert capsys.readouterr().err.splitlines()[-1].startswith("orgsim")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]


def test_compare_into_a_closed_pipe_still_writes_its_files(orgsim_command, tmp_path):
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY)
    command = " ".join([*orgsim_command, "compare", "tiny.toml", "--seeds", "2", "--out", "res"])
    # `true` exits at once without reading, and unbuffered, every print of ours meets the closed pipe.
    result = subprocess.run(f"{command} | true", shell=True, cwd=tmp_path, capture_output=True, text=True,
                            timeout=300, env={**os.environ, "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"})
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr
    assert sorted(p.name for p in (tmp_path / "res").iterdir()) == ["comparison.png", "runs.csv", "summary.csv"]
