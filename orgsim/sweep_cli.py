"""``orgsim sweep``, ``orgsim report`` and ``orgsim reproduce``: run a scenario's sweep into a folder, report
on it, and check that its runs re-run to the same values."""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path

from orgsim.replications.cli import _whole as whole_number


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``sweep``, ``report`` and ``reproduce`` sub-commands to the ``orgsim`` parser."""
    p = sub.add_parser(
        "sweep", help="run a scenario's sweep (point x organisation x seed) into a results folder",
        description="Run every run of the scenario's design and write DIR/runs.parquet and DIR/manifest.json "
        "(and DIR/timeseries/ with --timeseries). Re-running the same command resumes an interrupted sweep.",
    )
    p.add_argument("scenario", help="scenario file (TOML), e.g. scenarios/crossover.toml")
    p.add_argument("--out", help="results folder (default: out/<scenario name>)")
    p.add_argument("--workers", help="worker processes (default: one per core)")
    p.add_argument("--scheduler", help="'local' (a Dask LocalCluster) or a Dask scheduler address tcp://HOST:PORT")
    p.add_argument("--timeseries", action="store_true", help="also write every run's per-tick table")
    p.add_argument("--ticks", help="ticks per run (default: the scenario's)")
    p.add_argument("--seeds", help="seeds per point (default: the scenario's)")
    p.add_argument("--batch", default="25", help="runs per part file written (default: %(default)s)")
    p.set_defaults(handler=_cmd_sweep)

    p = sub.add_parser("report", help="tables, figures and a Markdown report from a sweep's results folder")
    p.add_argument("folder", help="results folder written by orgsim sweep")
    p.add_argument("--out", help="report folder (default: FOLDER/report)")
    p.add_argument("--where", help="condition for scenario discovery, e.g. \"responsive - siloed > 0\": organisation "
                   "names, numbers, + - * /, comparisons, and, or (default: the two organisations' difference > 0)")
    p.add_argument("--measure", default="mean_value_delivered",
                   help="run measure the condition and the regret table use (default: %(default)s)")
    p.add_argument("--lower-is-better", action="store_true", help="regret: lower values of --measure are better")
    p.set_defaults(handler=_cmd_report)

    p = sub.add_parser(
        "reproduce", help="re-run a sweep's runs from its manifest and check they are bit-identical",
        description="Re-run the finished runs of a results folder (all, or a random sample) from the scenario in "
        "its manifest and compare every value with runs.parquet. Exit 0 when all are bit-identical, 1 otherwise.",
    )
    p.add_argument("folder", help="results folder written by orgsim sweep")
    p.add_argument("--sample", help="re-run only this many runs, drawn at random (default: all)")
    p.add_argument("--seed", default="0", help="seed of the random sample (default: %(default)s)")
    p.add_argument("--workers", default="1", help="worker processes (default: %(default)s)")
    p.set_defaults(handler=_cmd_reproduce)


def _whole(option: str, text: str | None, low: int = 1) -> int | None:
    return None if text is None else whole_number(option, text, low)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _cmd_sweep(args: argparse.Namespace) -> int:
    from orgsim import budget
    from orgsim.scenario import read_scenario
    from orgsim.sweep import run_sweep

    workers = _whole("--workers", args.workers)
    ticks, seeds = _whole("--ticks", args.ticks, 2), _whole("--seeds", args.seeds)
    batch = _whole("--batch", args.batch)
    scenario, text = read_scenario(args.scenario)
    if ticks is not None or seeds is not None:
        scenario = scenario.reduced(ticks=ticks, seeds=seeds, source=args.scenario)
    out = Path(args.out or Path("out") / Path(args.scenario).stem)
    parallel = workers or (os.cpu_count() or 1) if args.scheduler is None else workers or 1
    work = budget.check(budget.for_scenario(scenario, workers=parallel), args.scenario)
    signal.signal(signal.SIGTERM, _interrupt)  # finish writing what is done, as for Ctrl-C
    result = run_sweep(
        scenario, out, workers=workers, scheduler=args.scheduler, timeseries=args.timeseries,
        batch=batch, source=args.scenario, text=text, starting=lambda: budget.announce(work),
    )
    rate = f" ({result.runs_per_second:.1f} runs/s)" if result.ran else ""
    print(f"{args.scenario}: {result.total} runs ({len(scenario.points())} points x {len(scenario.seeds)} seeds x "
          f"{len(scenario.organisations)} organisations); ran {result.ran} ({result.simulated} simulations) in "
          f"{result.seconds:.1f} s{rate}, "
          f"{result.skipped} already done; wrote {out / 'runs.parquet'}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from orgsim.analysis import write_report

    out = Path(args.out) if args.out else Path(args.folder) / "report"
    written = write_report(args.folder, out, condition=args.where, measure=args.measure,
                           higher_is_better=not args.lower_is_better)
    print(f"wrote {len(written)} files to {out}: " + ", ".join(p.name for p in written))
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from orgsim.reproduce import describe, reproduce

    result = reproduce(args.folder, sample=_whole("--sample", args.sample), seed=_whole("--seed", args.seed, 0),
                       workers=_whole("--workers", args.workers))
    print("\n".join(describe(result)))
    return 0 if result.identical else 1
