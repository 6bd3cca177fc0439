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

from orgsim.errors import OrgsimError


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
    from orgsim.plotting import plot_comparison
    from orgsim.scenario import load_scenario

    scenario = load_scenario(args.scenario).with_run(_source(args), seeds=args.seeds, ticks=args.ticks)
    out = Path(args.out or Path("out") / Path(args.scenario).stem)
    _prepare_out(out)
    with _progress(len(scenario.seeds) * len(scenario.organisations), "run") as bar:
        result = compare(scenario, progress=bar.update)
    summary = result.summary()
    summary.to_csv(out / "summary.csv", index=False)
    result.runs.to_csv(out / "runs.csv", index=False)
    plot_comparison(result, out / "comparison.png")
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
    result = run_one(scenario, organisation, args.seed)  # bad input fails before anything is written
    _prepare_out(out.parent)
    result.timeseries.to_csv(out)
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


def _prepare_out(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise OrgsimError(f"{folder}: --out must be a folder, and this is a file")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OrgsimError(f"{folder}: cannot create the output folder ({err.strerror})") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orgsim",
        description="Agent-based simulation of silo'd versus responsive organisations.",
    )
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
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.handler(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, where it is caught, not at exit
        return code
    except OrgsimError as err:
        print(f"orgsim: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("orgsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (e.g. `orgsim compare ... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
