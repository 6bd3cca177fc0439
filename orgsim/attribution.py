"""Why one organisation beats another: the difference in a measure, attributed to groups of levers.

Two organisations A and B of a scenario differ in their levers. Each *hybrid* takes the levers of some
groups (:data:`LEVER_GROUPS`) from B and the rest from A; every hybrid runs on the same seeds (paired:
the same demand), so the outcome ``f(S)`` of the hybrid taking the groups in S from B is known per seed.
The exact Shapley value of group g,

    phi_g = sum over S not holding g of |S|! (n - |S| - 1)! / n! x (f(S + g) - f(S)),

is its average marginal contribution over every order in which the groups could be switched from A to
B. The values add up to f(all) - f(none) = B - A (efficiency), a group whose levers A and B share gets
exactly 0, and an additive outcome gets exactly its parts. Shapley values are linear in the outcomes,
so they are computed per seed and their 95 % intervals taken over seeds (t-intervals: a contribution
has no bounded range).

Hybrids are run by the sweep machinery (:func:`orgsim.sweep.run_sweep`: process pool or Dask, resumable);
hybrids that are the same design (groups A and B share) are simulated once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from orgsim import atomic
from orgsim.design import OrgDesign  # noqa: E402
from orgsim.errors import OrgsimError  # noqa: E402
from orgsim.intervals import interval  # noqa: E402
from orgsim.metrics import MEASURES  # noqa: E402
from orgsim.plotting import projector  # noqa: E402
from orgsim.scenario import Organisation, Scenario  # noqa: E402

#: Every lever of OrgDesign, in exactly one group (tests/test_attribution.py checks it): a new lever goes
#: into the group of what it changes.
LEVER_GROUPS: dict[str, tuple[str, ...]] = {
    "management": ("cadence", "sensing_delay", "sensing_noise", "strategy_threshold", "memory", "probing",
                   "planning_cost"),
    "structure": ("fluidity", "specialisation", "restructure_cost", "coordination_cost", "team_cover", "patience"),
    "hand-offs": ("handoff_delay", "handoff_error", "rework_fraction", "standardisation"),
    "constraints": ("constraints",),
    "exploration": ("exploration",),
    "learning": ("learning_rate", "forgetting_rate", "knowledge_transfer"),
}
VALUE = "mean_value_delivered"


def ungrouped_levers() -> tuple[list[str], list[str], list[str]]:
    """(levers of OrgDesign in no group, levers in more than one group, names in a group that are no lever)."""
    names = [lever for levers in LEVER_GROUPS.values() for lever in levers]
    fields = list(OrgDesign.model_fields)
    return ([f for f in fields if f not in names], sorted({n for n in names if names.count(n) > 1}),
            [n for n in names if n not in fields])


# --- the arithmetic --------------------------------------------------------------------------------------------
def shapley(outcome: Callable[[int], np.ndarray | float], n: int) -> np.ndarray:
    """Exact Shapley values of ``n`` players for the value function ``outcome(mask)`` (bit i of ``mask``
    set: player i is in the coalition). Outcomes may be arrays (one value per seed): the result then has
    shape (*outcome shape, n)."""
    values = {mask: np.asarray(outcome(mask), dtype=float) for mask in range(2**n)}
    phi = np.zeros((*values[0].shape, n))
    for i in range(n):
        bit = 1 << i
        for mask in range(2**n):
            if mask & bit:
                continue
            size = bin(mask).count("1")
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            phi[..., i] += weight * (values[mask | bit] - values[mask])
    return phi


def hybrid(a: OrgDesign, b: OrgDesign, groups: Sequence[str], mask: int) -> OrgDesign:
    """The design with the levers of ``groups[i]`` from ``b`` where bit i of ``mask`` is set, else from ``a``."""
    levers = a.model_dump()
    other = b.model_dump()
    for i, group in enumerate(groups):
        if mask >> i & 1:
            levers.update({lever: other[lever] for lever in LEVER_GROUPS[group]})
    return OrgDesign.model_validate(levers)


# --- running it -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Attribution:
    """The attribution of B - A in ``measure``: ``table`` (group, contribution, ci_low, ci_high, n, interval;
    then a ``total`` row, the sum of the groups, and the ``direct B - A`` row, the difference of the two
    organisations' own runs, as a check) and ``per_seed`` (seed x group Shapley values)."""

    a: str
    b: str
    measure: str
    table: pd.DataFrame
    per_seed: pd.DataFrame
    level_a: float  # mean of the measure for A over seeds
    level_b: float


def measure_key(measure: str) -> str:
    """The run summary key of ``measure``: a per-tick measure name means its run mean."""
    if measure in MEASURES:
        return f"mean_{measure}"
    if measure.startswith("mean_") and measure.removeprefix("mean_") in MEASURES or measure == "total_value_delivered":
        return measure
    allowed = ", ".join([*MEASURES, "total_value_delivered"])
    raise OrgsimError(f"--measure: unknown measure {measure!r}; allowed: {allowed} (or mean_<measure>)")


def hybrids_scenario(scenario: Scenario, a: str, b: str) -> tuple[Scenario, list[str], dict[int, str]]:
    """The scenario whose organisations are the distinct hybrids of ``a`` and ``b`` (named by their groups
    from B), the groups in bit order, and the organisation name of each mask."""
    da, db = scenario.design(a), scenario.design(b)
    groups = list(LEVER_GROUPS)
    names: dict[int, str] = {}
    organisations: dict[str, Organisation] = {}
    seen: dict[str, str] = {}
    for mask in range(2 ** len(groups)):
        design = hybrid(da, db, groups, mask)
        key = design.model_dump_json()
        if key not in seen:
            seen[key] = "h" + "".join(str(mask >> i & 1) for i in range(len(groups)))
            organisations[seen[key]] = Organisation.model_validate(design.model_dump())
        names[mask] = seen[key]
    world = Scenario.model_validate({**scenario.model_dump(exclude={"sweep", "organisations"}),
                                     "organisations": {k: v.model_dump() for k, v in organisations.items()}})
    return world, groups, names


def explain(
    scenario: Scenario,
    a: str | None = None,
    b: str | None = None,
    measure: str = VALUE,
    folder: str | Path | None = None,
    workers: int | None = None,
    progress: bool | None = None,
) -> Attribution:
    """Attribute ``b`` minus ``a`` (default: the scenario's first two organisations) in ``measure`` (a run
    summary key or a per-tick measure name) to the lever groups, over the scenario's seeds.

    The hybrids' runs are kept in ``folder`` (a sweep results folder; default: a temporary one), so a
    repeated call resumes rather than re-runs. ``workers`` as for :func:`orgsim.sweep.run_sweep`.
    """
    import tempfile

    from orgsim.sweep import read_runs, run_sweep

    orgs = list(scenario.organisations)
    if len(orgs) < 2 and (a is None or b is None):
        raise OrgsimError("explain needs two organisations; this scenario has " + ", ".join(orgs))
    a, b = a or orgs[0], b or orgs[1]
    if a == b:
        raise OrgsimError(f"--between: give two different organisations, got {a} twice")
    key = measure_key(measure)
    world, groups, names = hybrids_scenario(scenario, a, b)
    with tempfile.TemporaryDirectory(prefix="orgsim-explain-") as tmp:
        where = Path(folder) / world.fingerprint()[:12] if folder is not None else Path(tmp)
        run_sweep(world, where, workers=workers, progress=progress, recovery=False)
        runs = read_runs(where)
    wide = runs.pivot(index="seed", columns="organisation", values=key)
    if wide.isna().any().any():
        raise OrgsimError(f"{key} is undefined in some runs (e.g. a lead time with nothing delivered); "
                          "choose another --measure")
    return attribute(wide, names, groups, a, b, key)


def attribute(wide: pd.DataFrame, names: dict[int, str], groups: list[str], a: str, b: str, key: str
              ) -> Attribution:
    """The :class:`Attribution` of ``b`` minus ``a`` from the hybrids' outcomes: ``wide`` has a row per seed
    and a column per hybrid, ``names[mask]`` is the column of the hybrid taking ``groups`` set in
    ``mask`` from ``b``, as :func:`hybrids_scenario` names them."""
    phi = shapley(lambda mask: wide[names[mask]].to_numpy(), len(groups))
    per_seed = pd.DataFrame(phi, index=wide.index, columns=groups)
    direct = wide[names[2 ** len(groups) - 1]] - wide[names[0]]
    rows = []
    for name, values in [*per_seed.items(), ("total", per_seed.sum(axis=1)), (f"direct {b} - {a}", direct)]:
        ci = interval(values.to_numpy())
        rows.append((name, ci.estimate, ci.low, ci.high, ci.n, ci.method))
    table = pd.DataFrame(rows, columns=["group", "contribution", "ci_low", "ci_high", "n", "interval"])
    return Attribution(a, b, key, table, per_seed, float(wide[names[0]].mean()),
                       float(wide[names[2 ** len(groups) - 1]].mean()))


@projector(15)
def plot_waterfall(result: Attribution, path: str | Path | None = None):
    """Waterfall from A's level to B's: one bar per lever group (its Shapley contribution, 95 % CI)."""
    groups = result.table.iloc[:-2]
    fig, ax = plt.subplots(figsize=(12, 6.5), constrained_layout=True)
    level = result.level_a
    ax.bar(0, level, color="#1f4e79", label=result.a)
    for i, row in enumerate(groups.itertuples(index=False), start=1):
        colour = "#2a9d8f" if row.contribution >= 0 else "#c0392b"
        ax.bar(i, row.contribution, bottom=level, color=colour)
        top = level + row.contribution
        ax.errorbar(i, top, yerr=[[row.contribution - row.ci_low], [row.ci_high - row.contribution]],
                    color="0.2", capsize=6, lw=1.5)
        ax.plot([i - 0.4, i + 1.4], [top, top], color="0.5", lw=1, ls=":")
        level = top
    end = len(groups) + 1
    ax.bar(end, result.level_b, color="#d9730d", label=result.b)
    ax.set_xticks(range(end + 1), [result.a, *groups.group, result.b], rotation=20)
    ax.set_ylabel(result.measure.removeprefix("mean_").replace("_", " ") + " (mean over seeds)")
    total = result.table.iloc[-2]
    ax.set_title(f"{result.b} minus {result.a}: {total.contribution:+.2f} [{total.ci_low:+.2f}, {total.ci_high:+.2f}]"
                 "\nby lever group (Shapley values over paired seeds; error bars: 95 % CI)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="best")
    if path is not None:
        atomic.save_figure(fig, path, dpi=120)
        plt.close(fig)
    return fig


def write(result: Attribution, out: str | Path) -> list[Path]:
    """Write ``out/attribution.csv`` and ``out/attribution.png``; returns their paths."""
    out = Path(out)
    csv, png = out / "attribution.csv", out / "attribution.png"
    atomic.write_csv(result.table, csv, index=False)
    plot_waterfall(result, png)
    return [csv, png]
