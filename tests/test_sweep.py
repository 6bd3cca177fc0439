"""The sweep runner: the same results on every backend, resumable after kill -9, never mixed or duplicated.

Runs are tiny (20 members, 60 ticks) so that the whole file stays within about two minutes on 2 cores.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pytest

from orgsim.cli import main
from orgsim.errors import OrgsimError
from orgsim.scenario import load_scenario
from orgsim.sweep import plan, read_runs, run_sweep, simulations

REPO = Path(__file__).resolve().parents[1]
TINY = """description = "tiny sweep for tests"
[run]
ticks = 60
seeds = 3
members = 20
warmup = 10
[environment]
arrival_rate = 2.0
[[environment.shocks]]
tick = 30
layer = "needs"
[organisations.siloed]
coupling = 1.0
[organisations.responsive]
preset = "responsive"
[sweep.parameters]
"environment.turbulence" = { range = [0.0, 1.0], steps = 3 }
"organisations.siloed.coupling" = { values = [0.5, 1.0] }
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "tiny.toml"
    path.write_text(TINY)
    return path


@pytest.fixture(scope="module")
def reference(tiny, tmp_path_factory) -> pd.DataFrame:
    """The tiny sweep run in this process, uninterrupted."""
    out = tmp_path_factory.mktemp("reference")
    result = run_sweep(load_scenario(tiny), out, workers=1)
    assert (result.total, result.ran, result.skipped) == (36, 36, 0)
    return pd.read_parquet(out / "runs.parquet")


def test_runs_table_has_one_row_per_run_with_parameters_and_measures(reference, tiny):
    scenario = load_scenario(tiny)
    assert len(reference) == 6 * 3 * 2 and reference.run_id.is_unique
    assert list(reference.run) == list(range(36))
    assert list(reference.columns[:7]) == ["run", "run_id", "point", "organisation", "seed",
                                           "environment.turbulence", "organisations.siloed.coupling"]
    assert {"mean_value_delivered", "recovery_value_delivered_needs", "total_value_delivered"} <= set(reference)
    assert sorted(reference["environment.turbulence"].unique()) == [0.0, 0.5, 1.0]
    # The row of a run is what running that organisation and seed at that point gives.
    row = reference[reference.run_id == "p0003-s2-siloed"].iloc[0]
    world = scenario.at({"environment.turbulence": 0.5, "organisations.siloed.coupling": 1.0})
    model = world.model("siloed", 2).run(60)
    assert row["mean_value_delivered"] == model.summary(10)["mean_value_delivered"]


def test_identical_runs_are_simulated_once(tiny, reference):
    scenario = load_scenario(tiny)
    groups = simulations(scenario, plan(scenario))
    assert len(plan(scenario)) == 36 and len(groups) == 27  # responsive does not depend on the coupling
    responsive = reference[reference.organisation == "responsive"]
    for _, same in responsive.groupby(["environment.turbulence", "seed"]):
        assert len(same) == 2 and same.mean_value_delivered.nunique() == 1
    siloed = reference[(reference.organisation == "siloed") & (reference["environment.turbulence"] == 1.0)]
    assert siloed.groupby("organisations.siloed.coupling").mean_value_delivered.mean().diff().abs().iloc[-1] > 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def dask_cluster():
    """A Dask scheduler and one worker, started as separate ``dask`` processes on 127.0.0.1."""
    dask = Path(sys.executable).with_name("dask")
    command = [str(dask)] if dask.exists() else [sys.executable, "-m", "dask"]
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    procs = [subprocess.Popen([*command, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)]
    address = f"tcp://127.0.0.1:{port}"
    procs.append(subprocess.Popen([*command, "worker", address, "--nthreads", "1", "--nworkers", "2",
                                   "--no-dashboard"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True))
    try:
        yield address
    finally:
        for proc in reversed(procs):
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.parametrize("backend", ["processes-2", "dask-local", "dask-scheduler"])
def test_every_backend_gives_identical_runs(backend, tiny, reference, tmp_path, request):
    scenario = load_scenario(tiny)
    kwargs = {"processes-2": {"workers": 2}, "dask-local": {"workers": 2, "scheduler": "local"}}.get(backend)
    if backend == "dask-scheduler":
        kwargs = {"scheduler": request.getfixturevalue("dask_cluster")}
    run_sweep(scenario, tmp_path, **kwargs)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "runs.parquet"), reference, check_exact=True)


def test_sigkill_halfway_then_rerun_gives_exactly_the_uninterrupted_runs(orgsim_command, tmp_path):
    # Bigger than the tiny sweep so that it is surely killed halfway: 11 x 2 points x 6 seeds x 2 = 264 runs.
    path = tmp_path / "kill.toml"
    path.write_text(TINY.replace("seeds = 3", "seeds = 6").replace("steps = 3", "steps = 11"))
    out = tmp_path / "out"
    proc = subprocess.Popen([*orgsim_command, "sweep", str(path), "--out", str(out), "--workers", "2",
                             "--batch", "4"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while len(list((out / "parts").glob("part-*.parquet"))) < 3 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "runs.parquet").exists(), "the sweep finished before it was killed"
    halfway = read_runs(out)
    assert 0 < len(halfway) < 264 and halfway.run_id.is_unique
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["finished"] is None and len(manifest["runs"]) == 264

    scenario = load_scenario(path)
    resumed = run_sweep(scenario, out, workers=2)
    assert resumed.skipped == len(halfway) and resumed.ran == 264 - len(halfway)
    assert not list((out / "parts").iterdir())  # consolidated: no part files, no temporary files left
    after = pd.read_parquet(out / "runs.parquet")
    fresh = tmp_path / "fresh"
    run_sweep(scenario, fresh, workers=2)
    pd.testing.assert_frame_equal(after, pd.read_parquet(fresh / "runs.parquet"), check_exact=True)
    again = run_sweep(scenario, out, workers=2)  # nothing left to do, nothing duplicated
    assert (again.ran, again.skipped) == (0, 264)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "runs.parquet"), after, check_exact=True)
    assert json.loads((out / "manifest.json").read_text())["finished"] is not None


def test_manifest_records_the_scenario_versions_and_runs(tiny, tmp_path):
    text = tiny.read_text()
    run_sweep(load_scenario(tiny), tmp_path, workers=1, source=str(tiny), text=text)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["scenario_text"] == text and manifest["source"] == str(tiny)
    assert manifest["fingerprint"] == load_scenario(tiny).fingerprint()
    assert set(manifest["versions"]) == {"orgsim", "git_commit", "mesa", "numpy", "pandas", "pyarrow", "python",
                                         "platform"}
    assert manifest["runs"] == [s.run_id for s in plan(load_scenario(tiny))]
    assert manifest["started"] <= manifest["finished"]
    assert manifest["sessions"][0]["ran"] == 36


def test_another_scenarios_folder_is_refused(tiny, tmp_path, capsys):
    run_sweep(load_scenario(tiny).reduced(seeds=1), tmp_path, workers=1)
    before = (tmp_path / "runs.parquet").read_bytes()
    assert main(["sweep", str(tiny), "--out", str(tmp_path), "--workers", "1"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"orgsim: error: {tmp_path}: holds the results of another scenario")
    assert (tmp_path / "runs.parquet").read_bytes() == before


def test_results_without_manifest_corrupt_parts_and_a_busy_folder_are_refused(tiny, tmp_path):
    scenario = load_scenario(tiny).reduced(seeds=1)
    run_sweep(scenario, tmp_path / "a", workers=1)
    (tmp_path / "a" / "manifest.json").unlink()
    with pytest.raises(OrgsimError, match="holds run results but no manifest.json"):
        run_sweep(scenario, tmp_path / "a", workers=1)

    run_sweep(scenario, tmp_path / "b", workers=1, batch=1)
    (tmp_path / "b" / "parts" / "part-0000000-broken.parquet").write_bytes(b"PAR1 half a file")
    with pytest.raises(OrgsimError, match=r"part-0000000-broken.parquet: not a readable Parquet file"):
        run_sweep(scenario, tmp_path / "b", workers=1)

    with open(tmp_path / "b" / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with pytest.raises(OrgsimError, match="another sweep is writing here"):
            run_sweep(scenario, tmp_path / "b", workers=1)


def test_timeseries_are_partitioned_and_read_lazily(tiny, tmp_path):
    scenario = load_scenario(tiny).reduced(seeds=1)
    run_sweep(scenario, tmp_path, workers=1)
    before = pd.read_parquet(tmp_path / "runs.parquet")
    # Asked for later, the per-tick tables are made: the runs run again, and are still recorded once.
    assert run_sweep(scenario, tmp_path, workers=2, timeseries=True).ran == 12
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "runs.parquet"), before, check_exact=True)
    files = list((tmp_path / "timeseries").rglob("*.parquet"))
    assert len(files) == 12
    dataset = ds.dataset(tmp_path / "timeseries", format="parquet", partitioning="hive")
    table = dataset.to_table(filter=(ds.field("organisation") == "responsive") & (ds.field("point") == 4),
                             columns=["run_id", "tick", "value_delivered"]).to_pandas()
    assert list(table.run_id.unique()) == ["p0004-s0-responsive"] and list(table.tick) == list(range(60))
    runs = pd.read_parquet(tmp_path / "runs.parquet").set_index("run_id")
    assert table.value_delivered.iloc[10:].mean() == pytest.approx(
        runs.loc["p0004-s0-responsive", "mean_value_delivered"], rel=1e-12)


@pytest.mark.parametrize("path", sorted((REPO / "scenarios").glob("*.toml")), ids=lambda p: p.stem)
def test_every_shipped_scenario_runs_small(path, tmp_path):
    small = load_scenario(path).reduced(ticks=60, members=20, seeds=1, values=2, samples=2)
    if small.environment.arrival_rate is not None:  # a rate set for the full headcount; load scales by itself
        small = small.model_copy(update={"environment": small.environment.model_copy(update={"arrival_rate": 2.0})})
    result = run_sweep(small, tmp_path, workers=1)
    runs = pd.read_parquet(tmp_path / "runs.parquet")
    assert len(runs) == result.total == len(small.points()) * len(small.organisations)
    assert (runs.mean_value_delivered > 0).all()


def test_bad_sweep_options_are_one_line_errors(tiny, tmp_path, capsys):
    for argv, expected in [
        (["--workers", "0"], "--workers '0' is not allowed; use a whole number >= 1"),
        (["--scheduler", "nowhere"], "--scheduler 'nowhere': use 'local' or an address like tcp://HOST:PORT"),
        (["--ticks", "x"], "--ticks 'x' is not allowed"),
    ]:
        assert main(["sweep", str(tiny), "--out", str(tmp_path / "o"), *argv]) == 2
        (line,) = capsys.readouterr().err.splitlines()
        assert line == f"orgsim: error: {expected}" or line.startswith(f"orgsim: error: {expected}")
    (tmp_path / "file").write_text("")
    assert main(["sweep", str(tiny), "--out", str(tmp_path / "file")]) == 2
    assert "--out must be a folder" in capsys.readouterr().err


def test_ctrl_c_keeps_the_finished_runs_and_the_command_line_is_quiet_off_a_terminal(tiny, tmp_path, monkeypatch,
                                                                                    capsys):
    import orgsim.sweep as sweep

    scenario = load_scenario(tiny)
    calls = []
    real = sweep.execute

    def interrupted(*args, **kwargs):
        if len(calls) == 5:
            raise KeyboardInterrupt
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(sweep, "execute", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(scenario, tmp_path, workers=1, batch=100)
    kept = read_runs(tmp_path)  # the batch was not full: written on the way out
    # 5 simulations: 3 silo'd runs and 2 responsive ones that stand for 2 runs each (coupling 0.5 and 1)
    assert len(kept) == 7 and not (tmp_path / "runs.parquet").exists()
    monkeypatch.setattr(sweep, "execute", real)
    assert main(["sweep", str(tiny), "--out", str(tmp_path), "--workers", "1"]) == 0
    captured = capsys.readouterr()
    # no progress bar when stderr is not a terminal: only the estimate (orgsim.budget)
    assert [line.split(":")[1] for line in captured.err.splitlines()] == [" estimate"]
    assert captured.out.startswith(f"{tiny}: 36 runs (6 points x 3 seeds x 2 organisations); ran 29 (22 simulations)")
    assert len(pd.read_parquet(tmp_path / "runs.parquet")) == 36
