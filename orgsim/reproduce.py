"""Re-run the runs of a sweep's results folder from its manifest and check that they are bit-identical.

``reproduce(folder)`` re-runs every finished run (or a seeded random sample of ``sample`` of them) from
the scenario recorded in ``manifest.json`` and compares every value of its row of ``runs.parquet`` with
the re-run's: floats must have the same 64 bits (NaN matches NaN). A difference names the run, the
column, both values and the versions recorded in the manifest against the ones installed.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from orgsim.errors import OrgsimError
from orgsim.provenance import differences, versions
from orgsim.scenario import validate_scenario
from orgsim.sweep import MANIFEST, _executor, _stream, execute, plan, read_manifest, read_runs, simulations


@dataclass(frozen=True)
class Mismatch:
    """One value that differs between the recorded run and its re-run."""

    run_id: str
    column: str
    recorded: Any
    rerun: Any


@dataclass
class Reproduction:
    """What :func:`reproduce` found: the runs checked, the differing values, and version differences."""

    folder: Path
    checked: list[str]
    mismatches: list[Mismatch] = field(default_factory=list)
    versions: dict[str, tuple] = field(default_factory=dict)  # key: (recorded, installed), where they differ
    total: int = 0  # finished runs in the folder

    @property
    def identical(self) -> bool:
        return not self.mismatches

    def table(self) -> pd.DataFrame:
        """One row per run checked: run_id, identical, differing (the columns that differ, comma-separated)."""
        bad: dict[str, list[str]] = {}
        for m in self.mismatches:
            bad.setdefault(m.run_id, []).append(m.column)
        return pd.DataFrame({"run_id": self.checked, "identical": [r not in bad for r in self.checked],
                             "differing": [", ".join(bad.get(r, [])) for r in self.checked]})


def same(a: Any, b: Any) -> bool:
    """Bit-identical floats (NaN matches NaN), equal otherwise."""
    if isinstance(a, float | np.floating) and isinstance(b, float | np.floating):
        return (math.isnan(a) and math.isnan(b)) or np.float64(a).tobytes() == np.float64(b).tobytes()
    return a == b


def reproduce(
    folder: str | Path,
    sample: int | None = None,
    seed: int = 0,
    workers: int | None = 1,
    progress: Callable[[int], Any] | None = None,
) -> Reproduction:
    """Re-run the finished runs of ``folder`` (all, or ``sample`` drawn at random with ``seed``) on
    ``workers`` local processes and compare them with the recorded ones."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    where = folder / MANIFEST
    try:
        scenario = validate_scenario(manifest["scenario"], str(where))
        recorded_runs, recorded_versions = manifest["runs"], manifest["versions"]
    except (KeyError, TypeError):
        raise OrgsimError(f"{where}: not an orgsim sweep manifest (needs scenario, runs and versions)") from None
    specs = plan(scenario)
    if [s.run_id for s in specs] != recorded_runs:
        raise OrgsimError(f"{where}: its run list is not the plan of its scenario; this orgsim plans sweeps "
                          "differently from the one that wrote it")
    runs = read_runs(folder).set_index("run_id", drop=False)
    finished = [s for s in specs if s.run_id in runs.index]
    if not finished:
        raise OrgsimError(f"{folder}: no finished runs to reproduce")
    if sample is not None:
        if sample < 1:
            raise OrgsimError(f"--sample must be at least 1, got {sample}")
        chosen = np.random.default_rng(seed).choice(len(finished), size=min(sample, len(finished)), replace=False)
        finished = [finished[i] for i in sorted(chosen)]
    result = Reproduction(folder, [s.run_id for s in finished], versions=differences(recorded_versions, versions()),
                          total=len(runs))
    world = scenario.model_copy(update={"sweep": None}).model_dump_json()  # as run_sweep hands it to workers
    groups = simulations(scenario, finished)
    with _executor(workers, None) as (executor, slots):
        for lead, (row, _) in _stream(executor, functools.partial(execute, world), list(groups), 4 * slots):
            for spec in groups[lead]:
                rerun = {**row, "run": spec.index, "run_id": spec.run_id, "point": spec.point, **dict(spec.params)}
                recorded = runs.loc[spec.run_id]
                for column in dict.fromkeys([*recorded.index, *rerun]):
                    a, b = recorded.get(column, "(missing)"), rerun.get(column, "(missing)")
                    if not same(a, b):
                        result.mismatches.append(Mismatch(spec.run_id, column, a, b))
                if progress is not None:
                    progress(1)
    return result


def describe(result: Reproduction) -> list[str]:
    """The lines ``orgsim reproduce`` prints: one per run, then the versions where a run differs, then a total."""
    bad: dict[str, list[Mismatch]] = {}
    for m in result.mismatches:
        bad.setdefault(m.run_id, []).append(m)
    lines = []
    for run_id in result.checked:
        if run_id not in bad:
            lines.append(f"{run_id}: identical")
            continue
        for m in bad[run_id]:
            lines.append(f"{run_id}: DIFFERS in {m.column}: recorded {_show(m.recorded)}, re-run {_show(m.rerun)}")
    n, differ = len(result.checked), len(bad)
    if differ:
        if result.versions:
            lines.append("versions (recorded in the manifest -> installed): " + "; ".join(
                f"{k} {a} -> {b}" for k, (a, b) in result.versions.items()))
        else:
            lines.append("versions: the installed ones are those recorded in the manifest")
    scope = f"{n} of {result.total} runs" if n < result.total else f"all {n} runs"
    lines.append(f"{result.folder}: {scope} re-run; " + (
        f"{differ} differ" if differ else "every value is bit-identical"))
    return lines


def _show(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value)!r} ({float(value).hex()})"
    return repr(value)
