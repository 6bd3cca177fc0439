"""``orgsim explain``: attribute the difference between two organisations of a scenario to lever groups."""

from __future__ import annotations

import argparse
from pathlib import Path

from orgsim.sweep_cli import _whole


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``explain`` sub-command to the ``orgsim`` parser."""
    p = sub.add_parser(
        "explain", help="attribute the difference between two organisations to groups of levers (Shapley)",
        description="Run every hybrid that takes some lever groups from A and the rest from B on the same "
        "seeds, and write DIR/attribution.csv (Shapley value of each group with its 95 % CI, their total "
        "and the direct difference B - A) and the waterfall chart DIR/attribution.png.",
    )
    p.add_argument("scenario", help="scenario file (TOML), e.g. scenarios/demand-shock.toml")
    p.add_argument("--between", nargs=2, metavar=("A", "B"),
                   help="the two organisations (default: the scenario's first two); attributes B minus A")
    p.add_argument("--measure", default="value_delivered",
                   help="per-tick measure (its run mean) or run summary key (default: %(default)s)")
    p.add_argument("--seeds", help="seeds (default: the scenario's)")
    p.add_argument("--ticks", help="ticks per run (default: the scenario's)")
    p.add_argument("--workers", help="worker processes (default: one per core)")
    p.add_argument("--out", help="output folder (default: out/<scenario name>-explain)")
    p.set_defaults(handler=_cmd_explain)


def _cmd_explain(args: argparse.Namespace) -> int:
    from orgsim import attribution
    from orgsim.atomic import prepare_folder
    from orgsim.errors import OrgsimError
    from orgsim.scenario import load_scenario

    seeds, ticks = _whole("--seeds", args.seeds), _whole("--ticks", args.ticks, 2)
    workers = _whole("--workers", args.workers)
    scenario = load_scenario(args.scenario)
    if seeds is not None or ticks is not None:
        scenario = scenario.reduced(ticks=ticks, seeds=seeds, source=args.scenario)
    a, b = args.between or (None, None)
    for name in (a, b):
        if name is not None and name not in scenario.organisations:
            raise OrgsimError(f"{args.scenario}: --between: unknown organisation {name!r}; "
                              f"this scenario has: {', '.join(scenario.organisations)}")
    attribution.measure_key(args.measure)  # fail before running anything
    out = Path(args.out or Path("out") / f"{Path(args.scenario).stem}-explain")
    prepare_folder(out)
    result = attribution.explain(scenario, a, b, args.measure, folder=out / "hybrids", workers=workers)
    written = attribution.write(result, out)
    print(f"{args.scenario}: {result.b} minus {result.a} in {result.measure}, {len(scenario.seeds)} seeds "
          f"x {scenario.run.ticks} ticks; Shapley values of lever groups [95 % CI over seeds]\n")
    for row in result.table.itertuples(index=False):
        print(f"  {row.group:<28}{row.contribution:+10.3f}  [{row.ci_low:+.3f}, {row.ci_high:+.3f}]  ({row.interval})")
    print(f"\nwrote {', '.join(str(p) for p in written)}")
    return 0
