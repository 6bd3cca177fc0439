"""``orgsim reproduce``: an untouched sweep re-runs bit for bit; a tampered runs.parquet is caught by name."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from orgsim.cli import main
from orgsim.provenance import versions
from orgsim.reproduce import reproduce, same
from orgsim.scenario import validate_scenario
from orgsim.sweep import run_sweep

SMALL = {
    "run": {"ticks": 50, "seeds": 2, "members": 20, "warmup": 10},
    "environment": {"arrival_rate": 2.0, "shocks": [{"tick": 25, "layer": "needs"}]},
    "organisations": {"siloed": {"coupling": 1.0}, "responsive": {"preset": "responsive"}},
    "sweep": {"parameters": {"environment.turbulence": {"values": [0.2, 0.8]}}},
}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    run_sweep(validate_scenario(SMALL), out, workers=1, source="small.toml", text="(small)")
    return out


@pytest.fixture
def copy(sweep, tmp_path):
    shutil.copytree(sweep, tmp_path / "sweep")
    return tmp_path / "sweep"


def test_an_untouched_sweep_reproduces_bit_for_bit(sweep, capsys):
    assert main(["reproduce", str(sweep)]) == 0
    lines = capsys.readouterr().out.splitlines()
    ids = json.loads((sweep / "manifest.json").read_text())["runs"]
    assert lines[:-1] == [f"{run_id}: identical" for run_id in ids] and len(ids) == 8
    assert lines[-1] == f"{sweep}: all 8 runs re-run; every value is bit-identical"


def test_a_tampered_value_is_named_with_both_values_and_the_versions(copy, capsys):
    runs = pd.read_parquet(copy / "runs.parquet")
    row = 5
    was = runs.loc[row, "mean_lead_time"]
    runs.loc[row, "mean_lead_time"] = np.nextafter(was, np.inf)  # one bit off
    runs.to_parquet(copy / "runs.parquet", index=False)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["versions"]["numpy"] = "1.0.0"
    (copy / "manifest.json").write_text(json.dumps(manifest))

    assert main(["reproduce", str(copy)]) == 1
    lines = capsys.readouterr().out.splitlines()
    run_id = runs.loc[row, "run_id"]
    bad = [line for line in lines if "DIFFERS" in line]
    tampered = float(np.nextafter(was, np.inf))
    assert bad == [f"{run_id}: DIFFERS in mean_lead_time: recorded {tampered!r} ({tampered.hex()}), "
                   f"re-run {float(was)!r} ({float(was).hex()})"]
    assert sum(line.endswith(": identical") for line in lines) == 7
    assert f"numpy 1.0.0 -> {versions()['numpy']}" in lines[-2] and lines[-2].startswith("versions (recorded")
    assert lines[-1] == f"{copy}: all 8 runs re-run; 1 differ"


def test_a_seeded_sample_re_runs_that_many_runs(sweep, capsys):
    assert main(["reproduce", str(sweep), "--sample", "3", "--seed", "4"]) == 0
    first = capsys.readouterr().out.splitlines()
    assert len(first) == 4 and first[-1] == f"{sweep}: 3 of 8 runs re-run; every value is bit-identical"
    assert reproduce(sweep, sample=3, seed=4).checked == [line.split(":")[0] for line in first[:-1]]
    assert reproduce(sweep, sample=3, seed=5).checked != reproduce(sweep, sample=3, seed=4).checked


def test_the_manifest_records_what_a_re_run_needs(sweep):
    manifest = json.loads((sweep / "manifest.json").read_text())
    assert manifest["scenario_text"] == "(small)"
    recorded = manifest["versions"]
    assert set(recorded) >= {"orgsim", "git_commit", "python", "numpy", "pandas", "pyarrow", "mesa", "platform"}
    assert recorded == versions()
    assert recorded["git_commit"] is None or re.fullmatch(r"[0-9a-f]{40}(-dirty)?", recorded["git_commit"])


def _empty_manifest(folder):
    (folder / "manifest.json").write_text("{}")


@pytest.mark.parametrize(("spoil", "options", "message"), [
    (shutil.rmtree, [], "manifest.json: no such file; is "),
    (_empty_manifest, [], "manifest.json: not an orgsim sweep manifest (no fingerprint, runs and scenario)"),
    (None, ["--sample", "0"], "--sample '0' is not allowed; use a whole number >= 1"),
    (None, ["--workers", "two"], "--workers 'two' is not allowed; use a whole number >= 1"),
])
def test_bad_input_is_one_line_and_exit_2(copy, capsys, spoil, options, message):
    if spoil is not None:
        spoil(copy)
    assert main(["reproduce", str(copy), *options]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("orgsim: error: ") and message in line


def test_same_means_the_same_bits():
    assert same(0.1 + 0.2, 0.30000000000000004) and not same(0.1 + 0.2, 0.3)
    assert same(float("nan"), np.float64("nan")) and not same(0.0, -0.0) and not same(1.0, float("nan"))
    assert same("p0-s1-siloed", "p0-s1-siloed") and same(3, np.int64(3))
