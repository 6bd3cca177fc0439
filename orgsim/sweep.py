"""Sweeps: run a scenario's design (parameter point x organisation x seed) and stream results to disk.

``run_sweep(scenario, folder)`` runs every run of the design on a local process pool (one worker per
core by default), a Dask ``LocalCluster`` (``scheduler="local"``) or an existing Dask cluster
(``scheduler="tcp://HOST:PORT"``). A run's result depends only on its spec (point, organisation,
seed), so results are bit-identical whatever the backend and however many workers ran them.

The results folder::

    DIR/manifest.json      scenario text, canonical form and fingerprint, versions (orgsim.provenance), run list,
                           times
    DIR/runs.parquet       one row per run (written when the sweep completes)
    DIR/parts/*.parquet    batches of finished runs, each written atomically while the sweep runs
    DIR/timeseries/organisation=NAME/point=P/RUN_ID.parquet   per-tick tables (``timeseries=True``)

Interrupted sweeps resume: the runs found in ``runs.parquet`` and ``parts/`` are skipped, the rest
run, and at the end everything is consolidated into ``runs.parquet`` (sorted by run, each run once).
A folder holding another scenario's results is refused.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import logging
import multiprocessing
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from orgsim import atomic
from orgsim import recovery as twins
from orgsim.errors import OrgsimError
from orgsim.provenance import versions
from orgsim.scenario import Scenario

RUNS = "runs.parquet"
PARTS = "parts"
MANIFEST = "manifest.json"
TIMESERIES = "timeseries"
LOCK = ".lock"
#: Identity columns of runs.parquet; the swept parameters (by key path) and the summary measures follow.
ID_COLUMNS = ("run", "run_id", "point", "organisation", "seed")


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: everything that determines its result."""

    index: int
    run_id: str
    point: int
    params: tuple[tuple[str, Any], ...]
    organisation: str
    seed: int


def plan(scenario: Scenario) -> list[RunSpec]:
    """Every run of the scenario's design, in order: points, then seeds, then organisations."""
    points = scenario.points()
    width = max(4, len(str(len(points) - 1)))
    specs: list[RunSpec] = []
    for p, point in enumerate(points):
        for seed in scenario.seeds:
            for org in scenario.organisations:
                run_id = f"p{p:0{width}d}-s{seed}-{org}"
                specs.append(RunSpec(len(specs), run_id, p, tuple(point.items()), org, seed))
    return specs


def simulations(scenario: Scenario, specs: list[RunSpec]) -> dict[RunSpec, list[RunSpec]]:
    """Runs grouped by the simulation they are, keyed by the first of each group.

    Runs with the same world, run settings, design and seed give the same result (e.g. the responsive
    organisation at every coupling of a silo'd one), so each group is simulated once.
    """
    groups: dict[bytes, list[RunSpec]] = {}
    point, keys = None, {}
    for spec in specs:
        if spec.point != point:  # specs come point by point
            point = spec.point
            world = scenario.at(dict(spec.params))
            base = world.environment.model_dump_json() + world.run.model_dump_json()
            keys = {org: base + world.design(org).model_dump_json() for org in world.organisations}
        key = hashlib.sha256(f"{keys[spec.organisation]}|{spec.seed}".encode()).digest()
        groups.setdefault(key, []).append(spec)
    return {group[0]: group for group in groups.values()}


@functools.lru_cache(maxsize=4)
def _scenario(text: str) -> Scenario:
    return Scenario.model_validate_json(text)


def execute(
    scenario_json: str, spec: RunSpec, timeseries: bool = False, recovery: bool = True
) -> tuple[dict[str, Any], Any]:
    """Run one spec of the scenario given as JSON; returns its row of runs.parquet and, if asked, its
    per-tick table. With ``recovery``, the row also holds the recovery from each scheduled shock against
    its no-shock twin (``orgsim.recovery.to_columns``). Runs in worker processes: everything it needs
    comes in its arguments."""
    world = _scenario(scenario_json).at(dict(spec.params))
    model = world.model(spec.organisation, spec.seed).run(world.run.ticks)
    summary = model.summary(world.run.warmup)
    row = {
        "run": spec.index, "run_id": spec.run_id, "point": spec.point,
        "organisation": spec.organisation, "seed": spec.seed,
        **dict(spec.params), **{k: float(v) for k, v in summary.items()},
    }
    if recovery and world.environment.shocks:
        series = model.timeseries()
        row.update(twins.to_columns(twins.shock_recoveries(world, spec.organisation, spec.seed, series)))
    return row, (model.timeseries().reset_index() if timeseries else None)


@dataclass(frozen=True)
class SweepResult:
    """What a call of :func:`run_sweep` did."""

    folder: Path
    total: int  # runs in the design
    skipped: int  # runs already in the folder
    ran: int  # runs done by this call
    simulated: int  # simulations they took (identical runs are simulated once)
    seconds: float

    @property
    def runs_per_second(self) -> float:
        return self.ran / self.seconds if self.seconds > 0 else float("nan")


def run_sweep(
    scenario: Scenario,
    folder: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    timeseries: bool = False,
    recovery: bool = True,
    batch: int = 25,
    flush_seconds: float = 5.0,
    progress: bool | None = None,
    source: str | None = None,
    text: str | None = None,
    starting: Callable[[], Any] | None = None,
) -> SweepResult:
    """Run every run of ``scenario`` not yet in ``folder`` and consolidate ``folder/runs.parquet``.

    Parameters
    ----------
    workers:
        Local processes (default: one per core; 1 runs in this process), or LocalCluster workers.
    scheduler:
        None (local processes), ``"local"`` (a Dask LocalCluster) or a Dask scheduler address
        ``"tcp://HOST:PORT"``; the cluster's workers must be able to import orgsim.
    timeseries:
        Also write each run's per-tick table under ``folder/timeseries/``.
    recovery:
        Also measure each run's recovery from every scheduled shock against a no-shock twin (one more
        run per shock, up to the next shock).
    batch, flush_seconds:
        Finished runs are written as one part file every ``batch`` runs or ``flush_seconds`` seconds,
        whichever comes first; an interruption loses at most those and the runs in flight.
    progress:
        Show a progress bar (default: when stderr is a terminal).
    source, text:
        The scenario file's name and text, recorded in the manifest.
    starting:
        Called once the folder and the workers are ready, just before runs start (not if every run is done).
    """
    if workers is not None and workers < 1:
        raise OrgsimError(f"workers must be at least 1, got {workers}")
    if batch < 1:
        raise OrgsimError(f"batch must be at least 1, got {batch}")
    folder = Path(folder)
    specs = plan(scenario)
    started = time.perf_counter()
    with _locked(folder):
        manifest = _open_manifest(folder, scenario, specs, source, text)
        done = completed_ids(folder)
        if timeseries:  # a run asked for with its per-tick table is done only once that is written too
            done &= {path.stem for path in (folder / TIMESERIES).rglob("*.parquet")}
        jobs = {}
        for lead, group in simulations(scenario, specs).items():
            if missing := [s for s in group if s.run_id not in done]:
                jobs[lead] = missing
        skipped = len(specs) - sum(len(m) for m in jobs.values())
        ran = 0
        if jobs:
            session = {"started": _now(), "backend": scheduler or "processes", "workers": workers}
            manifest["sessions"].append(session)
            _write_json(folder / MANIFEST, manifest)
            world = scenario.model_copy(update={"sweep": None}).model_dump_json()
            run = functools.partial(execute, world, timeseries=timeseries, recovery=recovery)
            bar = _bar(len(specs), skipped, progress)
            writer = _PartWriter(folder, batch, flush_seconds)
            try:
                with _executor(workers, scheduler) as (executor, slots):
                    if starting is not None:
                        starting()
                    for lead, (row, series) in _stream(executor, run, list(jobs), 4 * slots):
                        for spec in jobs[lead]:
                            if series is not None:
                                _write_timeseries(folder, spec, series)
                            writer.add({**row, "run": spec.index, "run_id": spec.run_id, "point": spec.point,
                                        **dict(spec.params)})
                            ran += 1
                            bar.update(1)
            finally:
                writer.flush()
                bar.close()
                session.update(finished=_now(), ran=ran)
                _write_json(folder / MANIFEST, manifest)
        consolidate(folder, [s.run_id for s in specs])
        manifest["finished"] = _now()
        _write_json(folder / MANIFEST, manifest)
    return SweepResult(folder, len(specs), skipped, ran, len(jobs), time.perf_counter() - started)


# --- running ---------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _executor(workers: int | None, scheduler: str | None) -> Iterator[tuple[Executor | None, int]]:
    """(executor, slots): None runs in this process."""
    if scheduler is None:
        n = workers or os.cpu_count() or 1
        if n == 1:
            yield None, 1
            return
        # fork (where there is one): workers start at once with orgsim imported, instead of re-importing it.
        fork = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context(fork))
        try:
            yield pool, n
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        return
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(
            n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
            host="127.0.0.1", dashboard_address=None, silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    else:
        if not scheduler.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
            raise OrgsimError(f"--scheduler {scheduler!r}: use 'local' or an address like tcp://HOST:PORT")
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as err:
            raise OrgsimError(f"--scheduler {scheduler}: cannot connect to a Dask scheduler there ({err})") from None
    try:
        try:
            client.wait_for_workers(1, timeout=30)
        except TimeoutError:
            raise OrgsimError(f"--scheduler {scheduler}: no Dask worker joined within 30 s") from None
        slots = sum(client.nthreads().values()) or 1
        executor = client.get_executor(pure=False)
        try:
            yield executor, slots
        finally:
            executor.shutdown(wait=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _stream(
    executor: Executor | None, fn: Callable[[RunSpec], Any], specs: Iterable[RunSpec], inflight: int
) -> Iterator[tuple[RunSpec, Any]]:
    """(spec, fn(spec)) as runs finish, with at most ``inflight`` submitted at a time."""
    if executor is None:
        for spec in specs:
            yield spec, fn(spec)
        return
    queue = iter(specs)
    pending: dict[Any, RunSpec] = {}
    try:
        while True:
            while len(pending) < inflight and (spec := next(queue, None)) is not None:
                pending[executor.submit(fn, spec)] = spec
            if not pending:
                return
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=lambda f: pending[f].index):
                spec = pending.pop(future)
                try:
                    result = future.result()
                except Exception as err:  # a failed run stops the sweep; finished runs are kept
                    raise OrgsimError(f"run {spec.run_id} failed: {type(err).__name__}: {err}") from err
                yield spec, result
    finally:
        for future in pending:
            future.cancel()


def _bar(total: int, initial: int, progress: bool | None):
    from tqdm import tqdm

    show = sys.stderr.isatty() if progress is None else progress
    return tqdm(total=total, initial=initial, unit="run", disable=not show, smoothing=0.1, dynamic_ncols=True)


# --- the results folder -----------------------------------------------------------------------------------
@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on the folder (the kernel drops it if the process dies)."""
    if folder.exists() and not folder.is_dir():
        raise OrgsimError(f"{folder}: --out must be a folder, and this is a file")
    try:
        (folder / PARTS).mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OrgsimError(f"{folder}: cannot create the results folder ({err.strerror})") from None
    with open(folder / LOCK, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OrgsimError(f"{folder}: another sweep is writing here; wait for it or use another folder") from None
        for where in (folder, folder / PARTS):  # half-written files of a killed sweep; nobody writes them now
            atomic.remove_stale(where)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _open_manifest(
    folder: Path, scenario: Scenario, specs: list[RunSpec], source: str | None, text: str | None
) -> dict[str, Any]:
    """The folder's manifest, new or checked against this scenario (refusing another's results)."""
    path = folder / MANIFEST
    fingerprint = scenario.fingerprint()
    if path.exists():
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            theirs = manifest["fingerprint"]
        except (OSError, ValueError, KeyError, TypeError):
            raise OrgsimError(f"{path}: not an orgsim sweep manifest; use another --out folder") from None
        if theirs != fingerprint:
            raise OrgsimError(
                f"{folder}: holds the results of another scenario ({manifest.get('source') or 'unknown file'}, "
                f"fingerprint {theirs[:12]}, this one {fingerprint[:12]}); use another --out folder"
            )
        if manifest.get("versions", {}).get("orgsim") != versions()["orgsim"]:
            raise OrgsimError(
                f"{folder}: written by orgsim {manifest.get('versions', {}).get('orgsim')}, this is "
                f"{versions()['orgsim']}; results would mix versions, so use another --out folder"
            )
        return manifest
    if completed_ids(folder):
        raise OrgsimError(f"{folder}: holds run results but no {MANIFEST}; use another --out folder")
    manifest = {
        "source": source,
        "fingerprint": fingerprint,
        "scenario_text": text,
        "scenario": scenario.model_dump(mode="json"),
        "versions": versions(),
        "parameters": scenario.parameters,
        "organisations": list(scenario.organisations),
        "seeds": scenario.seeds,
        "points": len({s.point for s in specs}),
        "runs": [s.run_id for s in specs],
        "started": _now(),
        "finished": None,
        "sessions": [],
    }
    _write_json(path, manifest)
    return manifest


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest of a results folder."""
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OrgsimError(f"{path}: no such file; is {folder} the --out folder of a sweep?") from None
    except ValueError as err:
        raise OrgsimError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(manifest, dict) or not {"fingerprint", "runs", "scenario"} <= set(manifest):
        raise OrgsimError(f"{path}: not an orgsim sweep manifest (no fingerprint, runs and scenario); "
                          f"is {folder} the --out folder of a sweep?")
    return manifest


def _result_files(folder: Path) -> list[Path]:
    runs = folder / RUNS
    return ([runs] if runs.exists() else []) + sorted((folder / PARTS).glob("part-*.parquet"))


def _read(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    try:
        return pq.read_table(path, columns=columns).to_pandas()
    except (OSError, ValueError) as err:
        raise OrgsimError(f"{path}: not a readable Parquet file ({err}); delete it to re-run its runs") from None


def completed_ids(folder: str | Path) -> set[str]:
    """Run ids with a result in the folder (runs.parquet and part files)."""
    ids: set[str] = set()
    for path in _result_files(Path(folder)):
        ids.update(_read(path, ["run_id"])["run_id"])
    return ids


def read_runs(folder: str | Path) -> pd.DataFrame:
    """Every run result in the folder, each run once, sorted by run (complete or not)."""
    frames = [_read(path) for path in _result_files(Path(folder))]
    if not frames:
        return pd.DataFrame(columns=list(ID_COLUMNS))
    runs = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return runs.drop_duplicates("run_id").sort_values("run", kind="stable").reset_index(drop=True)


def consolidate(folder: str | Path, expected: list[str]) -> bool:
    """Merge part files into runs.parquet once every expected run has a result; True if complete."""
    folder = Path(folder)
    parts = sorted((folder / PARTS).glob("part-*.parquet"))
    if not parts:
        return (folder / RUNS).exists() and completed_ids(folder) >= set(expected)
    runs = read_runs(folder)
    if not set(expected) <= set(runs["run_id"]):
        return False
    atomic.write(folder / RUNS, lambda tmp: runs.to_parquet(tmp, index=False))
    for part in parts:
        part.unlink()
    return True


class _PartWriter:
    """Buffers finished rows and writes them as one atomic part file per batch."""

    def __init__(self, folder: Path, batch: int, seconds: float) -> None:
        self.folder, self.batch, self.seconds = folder, batch, seconds
        self.rows: list[dict[str, Any]] = []
        self.last = time.monotonic()

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.batch or time.monotonic() - self.last >= self.seconds:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            frame = pd.DataFrame(self.rows)
            name = f"part-{min(r['run'] for r in self.rows):07d}-{uuid.uuid4().hex[:8]}.parquet"
            atomic.write(self.folder / PARTS / name, lambda tmp: frame.to_parquet(tmp, index=False))
            self.rows = []
        self.last = time.monotonic()


def _write_timeseries(folder: Path, spec: RunSpec, series: pd.DataFrame) -> None:
    where = folder / TIMESERIES / f"organisation={spec.organisation}" / f"point={spec.point}"
    where.mkdir(parents=True, exist_ok=True)
    frame = series.assign(run_id=spec.run_id, seed=spec.seed)
    frame = frame[["run_id", "seed", *[c for c in series.columns]]]
    atomic.write(where / f"{spec.run_id}.parquet", lambda tmp: frame.to_parquet(tmp, index=False))


def _write_json(path: Path, data: dict[str, Any]) -> None:
    atomic.write(path, lambda tmp: tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8"))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
