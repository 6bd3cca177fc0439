"""Bounded work: the time and peak memory of a comparison or sweep, estimated from its size before it starts.

Size = points x seeds x organisations runs, each of ``ticks`` ticks of ``members`` members. The constants
below were measured by ``benchmarks/bench_budget.py`` (fresh process per point, responsive preset,
complex regime; 2-CPU machine, Python 3.11): seconds per tick grow with members and with arrivals;
a run's memory grows with members (member arrays, demands in progress) and with ticks (the per-tick
log and its table). A comparison keeps every run's per-tick table until it writes them; a sweep keeps
one run per worker (its per-tick table, with ``--timeseries``, goes to disk at once).

:func:`check` refuses, with the figures, work whose memory would exceed the machine's total memory
(``/proc/meminfo`` MemTotal, else ``os.sysconf``); :func:`announce` prints the estimate on one line
(stderr) when the work starts.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from orgsim.errors import OrgsimError

#: Seconds per tick of one run: fixed + per member + per demand arriving a tick. Fitted by
#: benchmarks/bench_budget.py (model v2) over 100 to 300,000 members on a shared 2-CPU machine (load average
#: 12 to 20, so on a quiet machine runs take less); e.g. 100 members: 6.6 ms, 100,000: 462 ms a tick.
SECONDS_FIXED, SECONDS_PER_MEMBER, SECONDS_PER_ARRIVAL = 5.0e-3, 5.0e-6, 1.3e-4
#: Peak bytes of an orgsim process before any run (imports, matplotlib): a 2-seed comparison of 4 members
#: peaked at 280 MB resident.
PROCESS_BYTES = 280 * 2**20
#: Bytes of one run: fixed + per member (member arrays, agents, demands in progress), fitted by
#: bench_budget.py (8.6 MB + 1,230 bytes a member; 300,000 members: 360 MB).
RUN_BYTES_FIXED, RUN_BYTES_PER_MEMBER = 8.5 * 2**20, 1_230
#: Bytes per demand arriving a tick (the demands in progress): 10,000 members took 11 MB more at 1,000
#: arrivals a tick than at 10.
RUN_BYTES_PER_ARRIVAL = 11_000
#: Bytes of one tick of a per-tick table in memory (a run's log and its DataFrame; 290 bytes each measured).
ROW_BYTES = 580
#: A comparison keeps every run's per-tick table and concatenates them: with model v1, 300 seeds x 2
#: organisations x 500 ticks of 4 members peaked 362 MB above a 2-seed comparison, 1,237 bytes a row, about
#: 3 x its ROW_BYTES then.
COMPARE_COPIES = 3


@dataclass(frozen=True)
class Estimate:
    """Estimated wall-clock seconds and peak resident bytes of some work."""

    runs: int
    seconds: float
    peak_bytes: float
    what: str  # e.g. "2 points x 10 seeds x 2 organisations = 40 runs of 500 ticks, 100 members"

    def line(self, total: float | None = None) -> str:
        machine = f" of the machine's {_bytes(total)}" if total else ""
        return f"estimate: {self.what}: about {_duration(self.seconds)}, peak memory about " \
               f"{_bytes(self.peak_bytes)}{machine}"


def seconds_per_tick(members: int, arrival_rate: float) -> float:
    """Seconds one tick of one run takes (on the calibration machine)."""
    return SECONDS_FIXED + SECONDS_PER_MEMBER * members + SECONDS_PER_ARRIVAL * arrival_rate


def run_bytes(members: int, ticks: int, arrival_rate: float = 0.0) -> float:
    """Peak bytes one run adds to a process: its members and demands, and its per-tick log."""
    return RUN_BYTES_FIXED + RUN_BYTES_PER_MEMBER * members + RUN_BYTES_PER_ARRIVAL * arrival_rate + ROW_BYTES * ticks


def estimate(
    runs: int, ticks: int, members: int, arrival_rate: float, *, workers: int = 1,
    keep_timeseries: bool = False, what: str = "",
) -> Estimate:
    """Time and peak memory of ``runs`` runs on ``workers`` processes.

    ``keep_timeseries``: every run's per-tick table stays in memory until the end (a comparison).
    """
    workers = max(1, min(workers, runs))
    seconds = runs * ticks * seconds_per_tick(members, arrival_rate) / workers
    peak = _peak(run_bytes(members, ticks, arrival_rate), workers, runs * ticks if keep_timeseries else 0)
    return Estimate(runs, seconds, peak, what or f"{runs:,} runs of {ticks:,} ticks, {members:,} members")


def _peak(one_run: float, workers: int, rows_kept: int) -> float:
    """Peak bytes: this process and one run in it, or a run in each worker process; plus the rows kept."""
    runs = PROCESS_BYTES + one_run if workers == 1 else PROCESS_BYTES + workers * (PROCESS_BYTES + one_run)
    return runs + COMPARE_COPIES * rows_kept * ROW_BYTES


def total_memory() -> float | None:
    """The machine's memory in bytes (MemTotal of /proc/meminfo, else os.sysconf), None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return float(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (OSError, ValueError, AttributeError):
        return None


def check(work: Estimate, source: str, total: float | None = None) -> Estimate:
    """Raise ``OrgsimError`` (with the figures) if ``work`` needs more memory than the machine has;
    ``total`` defaults to :func:`total_memory`. Returns ``work``."""
    total = total_memory() if total is None else total
    if total is not None and work.peak_bytes > total:
        raise OrgsimError(
            f"{source}: {work.what} would need about {_bytes(work.peak_bytes)} of memory at its peak, more "
            f"than this machine's {_bytes(total)}; use fewer seeds, points, ticks, members or workers"
        )
    return work


def announce(work: Estimate, stream=None) -> None:
    """Print the estimate as one line on stderr (when the work starts)."""
    print(f"orgsim: {work.line(total_memory())}", file=stream or sys.stderr, flush=True)


def _bytes(n: float) -> str:
    for unit, size in (("TB", 2**40), ("GB", 2**30), ("MB", 2**20)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n / 2**10:,.0f} kB"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:,.0f} days"


def for_scenario(scenario, *, workers: int = 1, keep_timeseries: bool = False, single: bool = False) -> Estimate:
    """The estimate of every run of a scenario (each sweep point with its own ticks, members and arrivals),
    or of one run at its base point (``single``). ``scenario`` is an :class:`orgsim.scenario.Scenario`.
    """
    run, env = scenario.run, scenario.environment
    seeds, orgs = (1, 1) if single else (len(scenario.seeds), len(scenario.organisations))
    points = [{}] if single else scenario.points()
    runs = len(points) * seeds * orgs
    workers = max(1, min(workers, runs))
    tick_seconds, ticks_kept, one_run = 0.0, 0, 0.0
    for point in points:
        ticks = int(point.get("run.ticks", run.ticks))
        members = int(point.get("run.members", run.members))
        capacity = float(point.get("run.capacity", run.capacity))
        world = env.model_copy(update={k.split(".", 1)[1]: v for k, v in point.items() if k.startswith("environment.")})
        rate = world.rate(members * capacity)
        tick_seconds += ticks * seconds_per_tick(members, rate)
        ticks_kept += ticks
        one_run = max(one_run, run_bytes(members, ticks, rate))
    peak = _peak(one_run, workers, ticks_kept * seeds * orgs if keep_timeseries else 0)
    size = f"{len(points):,} points x " if len(points) > 1 else ""
    what = (f"{size}{seeds:,} seeds x {orgs} organisations = {runs:,} runs" if runs > 1 else "1 run")
    what += f" of {run.ticks:,} ticks, {run.members:,} members" + (f", on {workers} workers" if workers > 1 else "")
    return Estimate(runs, tick_seconds * seeds * orgs / workers, peak, what)
