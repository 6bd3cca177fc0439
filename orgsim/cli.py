"""The ``orgsim`` command line.

Every sub-command is a thin layer over the package's Python API. Bad input raises
:class:`orgsim.errors.OrgsimError`; :func:`main` prints its one-line message and exits with code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from orgsim import atomic, budget
from orgsim.errors import OrgsimError
from orgsim.guard import debugging, guarded


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _progress(total: int, what: str):
    """A tqdm bar on a terminal, nothing otherwise."""
    from tqdm import tqdm

    return tqdm(total=total, unit=what, disable=not sys.stderr.isatty(), leave=False)


def _cmd_compare(args: argparse.Namespace) -> int:
    from orgsim.experiment import compare, headline_table
    from orgsim.plotting import DPI, close_figure, plot_comparison
    from orgsim.scenario import load_scenario

    scenario = load_scenario(args.scenario).with_run(_source(args), seeds=args.seeds, ticks=args.ticks)
    work = budget.check(budget.for_scenario(scenario, keep_timeseries=True), _source(args))
    out = atomic.prepare_folder(args.out or Path("out") / Path(args.scenario).stem)
    budget.announce(work)
    with _progress(len(scenario.seeds) * len(scenario.organisations), "run") as bar:
        result = compare(scenario, progress=bar.update)
    summary = result.summary()
    figure = plot_comparison(result)
    with atomic.Batch() as batch:  # all three files, or none
        batch.csv(summary, out / "summary.csv", index=False)
        batch.csv(result.runs, out / "runs.csv", index=False)
        batch.figure(figure, out / "comparison.png", dpi=DPI)
    close_figure(figure)
    print(f"{args.scenario}: {scenario.description}")
    if scenario.sweep is not None:
        print(f"(this file has a [sweep] section: compare runs its base point only; "
              f"`orgsim sweep {args.scenario} --out DIR` runs the sweep)")
    print(f"{len(scenario.seeds)} seeds x {scenario.run.ticks} ticks, {scenario.run.members} members; "
          f"mean over ticks {scenario.run.warmup}+ [95 % CI over seeds]\n")
    print(headline_table(summary))
    print(f"\nwrote {out / 'summary.csv'}, {out / 'runs.csv'} and {out / 'comparison.png'}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from orgsim.experiment import run_one
    from orgsim.scenario import load_scenario

    scenario = load_scenario(args.scenario).with_run(_source(args), ticks=args.ticks)
    organisation = args.organisation or next(iter(scenario.organisations))
    if organisation not in scenario.organisations:
        raise OrgsimError(f"{args.scenario}: --organisation: unknown organisation {organisation!r}; "
                          f"this scenario has: {', '.join(scenario.organisations)}")
    name = f"{Path(args.scenario).stem}-{organisation}-seed{args.seed}.csv"
    out = Path(args.out or Path("out") / name)
    if out.is_dir():
        out = out / name
    atomic.check_file(out)
    budget.check(budget.for_scenario(scenario, single=True), _source(args))  # refused if it cannot fit
    result = run_one(scenario, organisation, args.seed)  # bad input fails before anything is written
    atomic.prepare_folder(out.parent)
    atomic.write_csv(result.timeseries, out)
    print(f"{organisation}, seed {args.seed}: {scenario.run.ticks} ticks, mean value delivered "
          f"{result.summary['mean_value_delivered']:.1f} per tick; wrote {out}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from orgsim.scenario import load_scenario

    failed = 0
    for path in args.files:
        try:
            scenario = load_scenario(path)
            points, seeds, orgs = len(scenario.points()), len(scenario.seeds), len(scenario.organisations)
            print(f"{path}: ok ({_count(points, 'point')} x {_count(seeds, 'seed')} x "
                  f"{_count(orgs, 'organisation')} = {_count(points * seeds * orgs, 'run')} of "
                  f"{scenario.run.ticks} ticks)")
        except OrgsimError as err:
            print(f"orgsim: error: {err}", file=sys.stderr)
            failed += 1
    return 2 if failed else 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def _source(args: argparse.Namespace) -> str:
    """The scenario file, and the --ticks that shortened it, for error messages."""
    return args.scenario if args.ticks is None else f"{args.scenario} with --ticks {args.ticks}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orgsim",
        description="Agent-based simulation of silo'd versus responsive organisations.",
        epilog="Exit codes: 0 done, 2 bad input, 74 disk full or I/O error (free space, run again), "
        "70 a bug in orgsim, 130 interrupted.",
    )
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an unexpected error (also ORGSIM_DEBUG=1; may come anywhere)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("compare", help="run every organisation of a scenario on the same demand, over seeds")
    p.add_argument("scenario", help="scenario file (TOML), e.g. scenarios/demand-shock.toml")
    p.add_argument("--seeds", type=_positive_int, help="seeds per organisation (default: the scenario's)")
    p.add_argument("--ticks", type=_positive_int, help="ticks per run (default: the scenario's)")
    p.add_argument("--out", help="output folder (default: out/<scenario name>)")
    p.set_defaults(handler=_cmd_compare)

    p = sub.add_parser("run", help="run one organisation for one seed and write its per-tick table (CSV)")
    p.add_argument("scenario", help="scenario file (TOML)")
    p.add_argument("--organisation", help="organisation name in the scenario (default: the first)")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--ticks", type=_positive_int, help="ticks (default: the scenario's)")
    p.add_argument("--out", help="CSV file, or a folder to write it in "
                   "(default: out/<scenario>-<organisation>-seed<seed>.csv)")
    p.set_defaults(handler=_cmd_run)

    p = sub.add_parser("validate", help="check scenario files without running them")
    p.add_argument("files", nargs="+", help="scenario files (TOML)")
    p.set_defaults(handler=_cmd_validate)

    from orgsim.attribution_cli import register as register_explain
    from orgsim.dashboard.server import register as register_dashboard
    from orgsim.replications.cli import register as register_replicate
    from orgsim.sweep_cli import register as register_sweep

    register_replicate(sub)
    register_dashboard(sub)
    register_sweep(sub)
    register_explain(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; every error becomes one line and an exit code (``orgsim.guard``)."""
    debug, argv = debugging(list(sys.argv[1:] if argv is None else argv))
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:  # started with it closed (>&-): what would go there is dropped
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as we do
    parser = build_parser()
    args = parser.parse_args(argv)

    def handle() -> int:
        code = int(args.handler(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, where it is caught, not at exit
        return code

    return guarded(handle, debug)


if __name__ == "__main__":
    sys.exit(main())
