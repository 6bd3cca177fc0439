"""Little's law and Kingman's convex lead time on the model's own output, for both presets.

    .venv/bin/python scripts/validation.py [--seeds N] [--json]

Prints, per preset: Little's law (mean WIP against accepted arrival rate x (time in system - 1)) in a
complex world, and lead time against load in a clear world with the second differences that make it
convex. docs/scripts/validation.py checks these and the other published patterns for docs/validation.md.
"""

from __future__ import annotations

import argparse
import json

from orgsim import OrgModel
from orgsim.validation import kingman, littles_law, load_curve

LOADS = [0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    out = {}
    for design in ("siloed", "responsive"):
        env = {"regime": "complex", "arrival_rate": 8.0, "followup_chance": 0.0}  # follow-ups' times: unrecorded
        laws = [littles_law(OrgModel(design, env, seed=s).run(1000).timeseries(), deadline=60)
                for s in range(args.seeds)]
        curve = load_curve(design, {"regime": "clear"}, LOADS, range(args.seeds))
        out[design] = {"littles_law": laws, "kingman": kingman(curve),
                       "curve": curve.groupby("load").mean(numeric_only=True).drop(columns="seed").round(4)
                       .reset_index().to_dict("records")}
    if args.json:
        print(json.dumps(out, indent=1))
        return
    for design, res in out.items():
        print(f"{design}: Little's law, complex world, 1000 ticks")
        for s, law in enumerate(res["littles_law"]):
            print(f"  seed {s}: WIP {law['wip']:.1f}, lambda x (W - 1) = {law['arrival_rate']:.2f} x "
                  f"({law['time_in_system']:.2f} - 1) = {law['predicted']:.1f} ({law['relative_error']:+.1%})")
        k = res["kingman"]
        print(f"  Kingman, clear world: loads {k['loads']} (WIP below 80 % of its limit): lead time "
              f"{[round(x, 1) for x in k['lead_time']]}; rises {k['rises']}, curvature {k['curvature']:.1f} "
              f"(convex {k['convex']})")
        for row in res["curve"]:
            print(f"    load {row['load']:.1f}: lead time {row['lead_time']:.1f}, WIP {row['wip']:.1f}, "
                  f"({row['wip_share']:.0%} of its limit), utilisation {row['utilisation']:.2f}, "
                  f"refused {row['refused_share']:.1%}")


if __name__ == "__main__":
    main()
