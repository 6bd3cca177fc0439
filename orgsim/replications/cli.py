"""``orgsim replicate march1991``: write each figure's table (CSV) and plot (PNG) of the March (1991)
replication."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from orgsim import atomic
from orgsim.errors import OrgsimError
from orgsim.replications.march1991 import FIGURES, Knowledge, Move, Rules, Superior


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``replicate`` sub-command to the ``orgsim`` parser."""
    replicate = sub.add_parser("replicate", help="reproduce a published model's results")
    models = replicate.add_subparsers(dest="model", required=True, metavar="MODEL")
    parser = models.add_parser(
        "march1991",
        help="March (1991) exploration and exploitation in organisational learning",
        description="Write DIR/figN.csv and DIR/figN.png for March's (1991) Figures 1, 2, 4 and 5.",
    )
    parser.add_argument("--figure", default="all", help="1, 2, 4, 5 or all (default: all)")
    parser.add_argument("--reps", default="1000", help="replications per point, >= 2 (default: 1000)")
    parser.add_argument("--out", default="results/march1991", help="output folder (default: %(default)s)")
    parser.add_argument("--seed", default="0", help="random seed, a whole number >= 0 (default: 0)")
    rules = Rules()
    parser.add_argument("--superior", default=rules.superior.value,
                        help="superior group scored on actions|beliefs (default: %(default)s)")
    parser.add_argument("--belief-move", default=rules.belief_move.value,
                        help="a socialised belief moves one step|jumps (default: %(default)s)")
    parser.add_argument("--code-move", default=rules.code_move.value,
                        help="the learning code moves one step|jumps (default: %(default)s)")
    parser.add_argument("--knowledge", default=rules.knowledge.value,
                        help="knowledge metric score|share (default: %(default)s)")
    parser.set_defaults(handler=run)


def _whole(option: str, text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if value < low:
        raise OrgsimError(f"{option} {text!r} is not allowed; use a whole number >= {low}")
    return value


def _choice(option: str, text: str, kind: type) -> str:
    if text not in set(kind):
        raise OrgsimError(f"{option} {text!r} is not allowed; use {'|'.join(kind)}")
    return kind(text)


def _figures(text: str) -> list[str]:
    if text == "all":
        return list(FIGURES)
    if text not in FIGURES:
        raise OrgsimError(f"--figure {text!r} is not allowed; use {'|'.join(FIGURES)}|all")
    return [text]


def _out_dir(text: str) -> Path:
    return atomic.prepare_folder(text)


def run(args: argparse.Namespace) -> int:
    """Compute and write the requested figures; return the exit code."""
    figures = _figures(args.figure)
    reps = _whole("--reps", args.reps, 2)
    seed = _whole("--seed", args.seed, 0)
    rules = Rules(superior=_choice("--superior", args.superior, Superior),
                  belief_move=_choice("--belief-move", args.belief_move, Move),
                  code_move=_choice("--code-move", args.code_move, Move),
                  knowledge=_choice("--knowledge", args.knowledge, Knowledge))
    out = _out_dir(args.out)
    progress = sys.stdout.isatty()
    from orgsim.replications.plots import plot_figure

    for key in figures:
        if progress:
            print(f"March (1991) figure {key}, {reps} replications per point", flush=True)
        table = FIGURES[key](reps=reps, seed=seed, rules=rules, progress=progress)
        csv = out / f"fig{key}.csv"
        atomic.write_csv(table, csv, index=False)
        png = plot_figure(key, table, out / f"fig{key}.png")
        print(f"wrote {csv} and {png}")
    return 0
