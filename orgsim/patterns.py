"""Pattern-oriented validation: orgsim's output against published findings that nobody here chose.

Each pattern has a source, an experiment (the runs :func:`jobs` lists, on paired seeds: every design
of a pattern meets the same demand stream per seed), a table computed from the runs and a verdict
computed from the table by a rule stated in :class:`Pattern.rule`: ``agrees``, ``partly``,
``disagrees`` or ``not testable``. Nothing here is tuned to make a pattern agree.

Intervals: a paired difference between two designs on the same seeds gets the 95 % t-interval over
seeds (unbounded); a mean of a bounded measure gets a seeded BCa bootstrap interval
(:mod:`orgsim.intervals`). Every table says which.

The module runs models (:func:`run_job`) but reads and writes no files: ``docs/scripts/validation.py``
runs the jobs, records them and writes docs/validation.md, its figures and the README summary.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from orgsim.intervals import interval, measure_interval
from orgsim.metrics import MEASURES
from orgsim.model import OrgModel
from orgsim.validation import kingman, littles_law

AGREES, PARTLY, DISAGREES, UNTESTABLE = "agrees", "partly", "disagrees", "not testable"

#: Worlds ordered by unpredictability (Cynefin regimes; turbulence in [0, 1]).
STRUCTURE_WORLDS: dict[str, dict[str, Any]] = {
    "clear": {"regime": "clear"},
    "complex, turbulence 0.3": {"regime": "complex", "turbulence": 0.3},
    "complex": {"regime": "complex"},
    "chaotic": {"regime": "chaotic"},
}
#: A stable world and two changing ones.
CONTRAST_WORLDS: dict[str, dict[str, Any]] = {k: STRUCTURE_WORLDS[k] for k in ("clear", "complex", "chaotic")}
TURBULENT_WORLDS: dict[str, dict[str, Any]] = {k: STRUCTURE_WORLDS[k] for k in ("complex", "chaotic")}
STABLE = "clear"
COUPLINGS: tuple[float, ...] = tuple(np.round(np.linspace(0.0, 1.0, 6), 3))
LOADS: tuple[float, ...] = (0.6, 0.8, 0.95)
KINGMAN_LOADS: tuple[float, ...] = (0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
FLUIDITY: tuple[float, ...] = (0.0, 0.5, 1.0)
SPECIALISATION: tuple[float, ...] = (0.0, 1.0)
EXPLORATION: tuple[float, ...] = (0.0, 0.05, 0.15)
EXPLORATION_TURBULENCE: tuple[float, ...] = (0.3, 0.6, 1.0)
PRESETS: tuple[str, ...] = ("siloed", "responsive")
#: Share of the best mean within which a structure counts as good (Davis et al.'s range of good structures).
GOOD_WITHIN = 0.10
#: Seddon's range of failure-demand shares in functionally designed public services.
SEDDON_BAND = (0.40, 0.80)
#: Largest |relative error| of Little's law that counts as holding (demands still inside at the end).
LITTLE_TOLERANCE = 0.05
FAILURE_CAUSES: tuple[str, ...] = ("refused", "chased", "returned", "expired")


@dataclass(frozen=True)
class Settings:
    """Size of the validation experiment: paired seeds, ticks, members and warm-up of every run."""

    seeds: int = 6
    ticks: int = 250
    members: int = 50
    warmup: int = 50
    little_ticks: int = 600
    explore_ticks: int = 350
    #: Seeds of the laws of queues (Little, Kingman), which use means, not paired differences.
    law_seeds: int = 3


@dataclass(frozen=True)
class Job:
    """One run: ``design`` (preset name or coupling) with ``levers`` in ``environment``; ``labels``
    (pattern, world, the varied lever) go into its row."""

    labels: dict[str, Any]
    design: str | float
    environment: dict[str, Any]
    seed: int
    ticks: int
    members: int
    warmup: int
    levers: dict[str, Any] = field(default_factory=dict)
    little: bool = False


@dataclass
class Pattern:
    """A published pattern, orgsim's table for it, and the verdict by the stated rule."""

    key: str
    name: str
    source: str
    claim: str
    rule: str
    verdict: str
    numbers: str
    table: pd.DataFrame
    interval: str = ""


# --- the experiment ------------------------------------------------------------------------------------
def jobs(settings: Settings, new_capability: dict[str, Any]) -> list[Job]:
    """Every run of the validation. ``new_capability`` is the environment of
    scenarios/new-capability.toml (a frontier capability announced, then a technology shock)."""
    s = settings
    seeds = range(s.seeds)
    out: list[Job] = []

    def add(pattern: str, world: str, env: dict, design: str | float, ticks: int = s.ticks,
            little: bool = False, **labels_levers: Any) -> None:
        levers = {k: v for k, v in labels_levers.items() if k in ("fluidity", "specialisation", "exploration")}
        labels = {"pattern": pattern, "world": world, "design": str(design), **labels_levers}
        for seed in range(s.law_seeds) if pattern in ("little", "kingman") else seeds:
            out.append(Job(labels, design, env, seed, ticks, s.members, s.warmup, levers, little))

    little_env = {"regime": "complex", "load": 0.8, "followup_chance": 0.0}  # follow-ups' times: unrecorded
    for design in PRESETS:
        add("little", "complex, no follow-ups", little_env, design, ticks=s.little_ticks, little=True)
        for load in KINGMAN_LOADS:
            add("kingman", STABLE, {**STRUCTURE_WORLDS[STABLE], "load": load}, design, load=load)
    for world, env in STRUCTURE_WORLDS.items():
        for c in COUPLINGS:
            add("structure", world, env, float(c), coupling=float(c))
    for world, env in CONTRAST_WORLDS.items():
        for load in LOADS:
            for design in PRESETS:
                add("contrast", world, {**env, "load": load}, design, load=load)
    for world, env in TURBULENT_WORLDS.items():
        for fl in FLUIDITY:
            for sp in SPECIALISATION:
                add("hybrid", world, env, "responsive", fluidity=fl, specialisation=sp)
    worlds = {STABLE: STRUCTURE_WORLDS[STABLE]}
    worlds.update({f"new capability, turbulence {t:g}": {**new_capability, "turbulence": t}
                   for t in EXPLORATION_TURBULENCE})
    for world, env in worlds.items():
        for share in EXPLORATION:
            add("exploration", world, env, "responsive", ticks=s.explore_ticks, exploration=share)
    return out


def _count_failures(model: OrgModel) -> Callable[[], np.ndarray] | None:
    """Per tick, customers the model fails (every cause), counted as the model hands them to its
    follow-ups (:class:`orgsim.failure_demand.FollowUps`); filled in as the model runs. None if the
    model has no such hand-over (returns are then not counted)."""
    counts = np.zeros(0)
    fail = getattr(getattr(model, "followups", None), "fail", None)
    if fail is None:
        return None

    def counted(types: np.ndarray) -> int:
        nonlocal counts
        if model.tick >= len(counts):
            counts = np.concatenate([counts, np.zeros(max(64, model.tick + 1 - len(counts)))])
        counts[model.tick] += len(types)
        return fail(types)

    model.followups.fail = counted
    return lambda: counts


def run_job(job: Job) -> dict[str, Any]:
    """Run one job: its labels, the seed and the measures the patterns use (means after the warm-up;
    failed customers by cause summed after it; Little's law over the whole run if asked)."""
    model = OrgModel(job.design, job.environment, members=job.members, seed=job.seed, **job.levers)
    failures = _count_failures(model)
    model.run(job.ticks)
    summary = model.summary(job.warmup)
    ts = model.timeseries()
    after = ts.iloc[job.warmup:]
    causes = {c: float(after[c].sum()) for c in ("refused", "chased", "expired")}
    if "returned" in MEASURES:
        causes["returned"] = float(after["returned"].sum())
    elif failures is None:
        causes["returned"] = np.nan
    else:
        failed = failures()[: len(ts)]
        causes["returned"] = float(failed[job.warmup:].sum()) - sum(causes.values())
    row = {**job.labels, "seed": job.seed, "ticks": job.ticks, "members": job.members, "warmup": job.warmup,
           "value": summary["mean_value_delivered"], "lead_time": summary["mean_lead_time"],
           "wip": summary["mean_wip"], "wip_share": summary["mean_wip"] / (model.wip_limit * job.members),
           "utilisation": summary["mean_utilisation"], "failure_demand": summary["mean_failure_demand"],
           "arrived": float(after["arrived"].sum()), "arrived_failure": float(after["arrived_failure"].sum()),
           **{f"failed_{c}": v for c, v in causes.items()}}
    if job.little:
        law = littles_law(ts, deadline=model.environment.config.deadline)
        row.update({"little_wip": law["wip"], "little_predicted": law["predicted"],
                    "little_error": law["relative_error"]})
    return row


# --- curve shapes and verdict rules ------------------------------------------------------------------
def _t(values: np.ndarray) -> tuple[float, float, float]:
    iv = interval(values)  # unbounded: t-interval
    return iv.estimate, iv.low, iv.high


def curve_shape(x: Sequence[float], samples: np.ndarray, good_within: float = GOOD_WITHIN) -> dict[str, Any]:
    """The shape of a performance curve over ``x`` (sorted), from ``samples`` (seeds x points, paired).

    The peak is the point of the highest mean, the trough that of the lowest. An end is *below* the
    peak when the paired difference peak - end has a 95 % t-interval above 0 (and *above* the trough
    likewise). Shape: ``inverted U`` (interior peak, both ends below it), else ``U`` (interior trough,
    both ends above it), else ``rising`` (only the low-x end below the peak), ``falling`` (only the
    high-x end below it) or ``flat`` (neither).
    ``good`` are the x whose mean is within ``good_within`` of the peak's mean; ``width`` their share
    of the points. ``steeper_low`` (interior peaks only): the paired difference of the mean fall
    per unit of x from the peak to the low-x end minus that to the high-x end, with its t-interval.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(samples, dtype=float)
    mean = y.mean(axis=0)
    p = int(np.argmax(mean))
    low_end = p > 0 and _t(y[:, p] - y[:, 0])[1] > 0
    high_end = p < len(x) - 1 and _t(y[:, p] - y[:, -1])[1] > 0
    shape = {(True, True): "inverted U", (True, False): "rising", (False, True): "falling",
             (False, False): "flat"}[(low_end, high_end)]
    v = int(np.argmin(mean))
    if shape != "inverted U" and 0 < v < len(x) - 1 and _t(y[:, 0] - y[:, v])[1] > 0 and _t(y[:, -1] - y[:, v])[1] > 0:
        shape = "U"
    good = mean >= mean[p] - good_within * abs(mean[p])
    out = {"optimum": float(x[p]), "peak": float(mean[p]), "shape": shape, "good": tuple(x[good].tolist()),
           "width": float(good.mean()),
           "steeper_low": np.nan, "steeper_low_ci_low": np.nan, "steeper_low_ci_high": np.nan}
    if 0 < p < len(x) - 1:
        slopes = (y[:, p] - y[:, 0]) / (x[p] - x[0]) - (y[:, p] - y[:, -1]) / (x[-1] - x[p])
        out["steeper_low"], out["steeper_low_ci_low"], out["steeper_low_ci_high"] = _t(slopes)
    return out


def share_verdict(holds: Sequence[bool]) -> str:
    """``agrees`` if every case holds, ``disagrees`` if none does, ``partly`` otherwise;
    ``not testable`` without cases."""
    holds = list(holds)
    if not holds:
        return UNTESTABLE
    return AGREES if all(holds) else DISAGREES if not any(holds) else PARTLY


def trend_verdict(values: Sequence[float]) -> str:
    """For a quantity that should fall along ``values`` (ordered): ``agrees`` if it never rises and
    ends lower than it starts, ``partly`` if it ends lower but rises somewhere, ``disagrees`` otherwise."""
    v = np.asarray(values, dtype=float)
    if v[-1] >= v[0]:
        return DISAGREES
    return AGREES if np.all(np.diff(v) <= 0) else PARTLY


def _values(values: Sequence[float]) -> str:
    return "{" + ", ".join(f"{v:g}" for v in values) + "}"


def _fmt_ci(estimate: float, low: float, high: float, digits: int = 1) -> str:
    return f"{estimate:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def _paired(a: pd.DataFrame, b: pd.DataFrame, column: str = "value") -> np.ndarray:
    """b - a per seed (both indexed by seed)."""
    return (b.set_index("seed")[column] - a.set_index("seed")[column]).sort_index().to_numpy()


def _bounded(name: str, values: np.ndarray, digits: int = 1) -> str:
    iv = measure_interval(name, values)
    return _fmt_ci(iv.estimate, iv.low, iv.high, digits)


# --- the patterns --------------------------------------------------------------------------------------
def little(runs: pd.DataFrame) -> Pattern:
    """Little's law on every run of the ``little`` experiment."""
    r = runs[runs.pattern == "little"]
    table = r[["design", "seed", "little_wip", "little_predicted", "little_error"]].rename(
        columns={"little_wip": "mean WIP", "little_predicted": "lambda x (W - 1)", "little_error": "relative error"})
    worst = float(r.little_error.abs().max())
    return Pattern(
        "little", "Little's law", "Little, J. D. C. (1961). A proof for the queuing formula L = lambda W. "
        "*Operations Research* 9(3), 383-387.",
        "Over a long window, mean work in progress equals the accepted arrival rate times the mean time in "
        "system (an identity for any system that loses nothing).",
        f"agrees if the absolute relative error is under {LITTLE_TOLERANCE:.0%} in every run, disagrees "
        "otherwise (end-of-tick WIP counts a demand for its lead time - 1 ticks; demands still inside at the end "
        "make a small gap).",
        AGREES if worst < LITTLE_TOLERANCE else DISAGREES,
        f"largest absolute relative error {worst:.1%} over {len(r)} runs", table.reset_index(drop=True))


def kingman_pattern(runs: pd.DataFrame) -> Pattern:
    """Kingman: lead time convex in load below saturation, for each preset."""
    r = runs[runs.pattern == "kingman"]
    rows, holds, numbers = [], [], []
    for design in PRESETS:
        res = kingman(r[r.design == design])
        holds.append(res["rises"] and res["convex"])
        numbers.append(f"{design}: lead time {res['lead_time'][0]:.1f} to {res['lead_time'][-1]:.1f} ticks over loads "
                       f"{res['loads'][0]:g}-{res['loads'][-1]:g}, curvature {res['curvature']:.1f}")
        rows.append({"design": design, "loads (WIP < 80 % of limit)": ", ".join(f"{x:g}" for x in res["loads"]),
                     "lead time": ", ".join(f"{x:.1f}" for x in res["lead_time"]),
                     "curvature": res["curvature"], "rises": res["rises"], "convex": res["convex"]})
    table = pd.DataFrame(rows)
    return Pattern(
        "kingman", "Kingman: lead time convex in load",
        "Kingman, J. F. C. (1961). The single server queue in heavy traffic. *Mathematical Proceedings of the "
        "Cambridge Philosophical Society* 57(4), 902-904.",
        "Waiting grows like rho / (1 - rho) in the load rho: lead time rises, and ever faster, as load "
        "approaches 1 (until a WIP limit caps the queue).",
        "per preset, over the loads at which mean WIP stays below 80 % of the WIP limit: the pattern holds if "
        "lead time at the highest of them exceeds that at the lowest and a least-squares quadratic of the mean "
        "lead time in load has positive curvature; agrees if it holds for both presets, partly for one, "
        "disagrees for none.",
        share_verdict(holds),
        "; ".join(numbers), table)


def structure_curves(runs: pd.DataFrame) -> pd.DataFrame:
    """Per world (in order of unpredictability): :func:`curve_shape` of value delivered over coupling."""
    r = runs[runs.pattern == "structure"]
    rows = []
    for world in STRUCTURE_WORLDS:
        w = r[r.world == world].pivot(index="seed", columns="coupling", values="value").sort_index(axis=1)
        if w.empty:
            continue
        rows.append({"world": world, **curve_shape(w.columns.to_numpy(), w.to_numpy())})
    return pd.DataFrame(rows)


def davis(runs: pd.DataFrame) -> list[Pattern]:
    """Davis, Eisenhardt & Bingham (2009): four claims about performance over the amount of structure."""
    curves = structure_curves(runs)
    source = ("Davis, J. P., Eisenhardt, K. M. & Bingham, C. B. (2009). Optimal structure, market dynamism, and "
              "the strategy of simple rules. *Administrative Science Quarterly* 54(3), 413-452.")
    axis = "value delivered per tick over `coupling` (0 = the responsive preset, 1 = the silo'd one)"
    shapes = "; ".join(f"{w}: {s}" for w, s in zip(curves.world, curves["shape"], strict=True))
    optima = ", ".join(f"{o:g}" for o in curves.optimum)
    widths = ", ".join(f"{v:.0%}" for v in curves.width)
    judged = curves.dropna(subset=["steeper_low"])
    steeper = [bool(lo > 0) for lo in judged.steeper_low_ci_low]
    asym = "; ".join(f"{w}: {_fmt_ci(m, lo, hi)}" for w, m, lo, hi in zip(
        judged.world, judged.steeper_low, judged.steeper_low_ci_low, judged.steeper_low_ci_high, strict=True))
    return [
        Pattern("davis-u", "Davis et al.: inverted U in structure", source,
                "Performance is an inverted U in the amount of structure.",
                f"{axis}; per world, the shape rule of the curve (interior peak with both ends below it, paired "
                "95 % t-intervals); agrees if an inverted U in every world, partly in some, disagrees in none.",
                share_verdict([s == "inverted U" for s in curves["shape"]]), shapes, curves,
                "ends against the peak (and the trough): paired t-intervals over seeds"),
        Pattern("davis-optimum", "Davis et al.: optimum moves to less structure", source,
                "More unpredictability moves the optimal amount of structure towards less structure.",
                "the coupling of the highest mean, in worlds ordered by unpredictability: agrees if it never rises "
                "and ends lower than in the stable world, partly if it ends lower but rises somewhere, "
                "disagrees otherwise.",
                trend_verdict(curves.optimum), f"optimum coupling {optima} (clear to chaotic)", curves),
        Pattern("davis-range", "Davis et al.: range of good structures narrows", source,
                "More unpredictability narrows the range of structures that perform well.",
                f"the share of the couplings tried whose mean is within {GOOD_WITHIN:.0%} of the best, in worlds "
                "ordered by unpredictability: agrees if it never rises and ends lower, partly if it ends lower "
                "but rises somewhere, disagrees otherwise.",
                trend_verdict(curves.width), f"good range {widths} of the couplings (clear to chaotic)", curves),
        Pattern("davis-asymmetry", "Davis et al.: too little structure worse than too much", source,
                "Performance falls more steeply with too little structure than with too much.",
                "in each world whose peak is interior, the paired difference of the mean fall in value per unit "
                "of coupling from the peak to coupling 0 minus that to coupling 1 (95 % t-interval over seeds); "
                "it holds if the interval is above 0; agrees if it holds in every such world, partly in some, "
                "disagrees in none, not testable if no world has an interior peak.",
                share_verdict(steeper), asym or "no world with an interior peak", curves,
                "difference in steepness: paired t-interval over seeds"),
    ]


def contrast_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per world and load: value of each preset (BCa bootstrap intervals) and the paired difference
    responsive - silo'd (t-interval); failure-demand shares and their paired difference."""
    r = runs[runs.pattern == "contrast"]
    rows = []
    for (world, load), g in r.groupby(["world", "load"], sort=False):
        s, o = g[g.design == "siloed"], g[g.design == "responsive"]
        diff = _t(_paired(s, o))
        fd = _t(_paired(s, o, "failure_demand"))
        rows.append({"world": world, "load": load, "siloed": s.value.to_numpy(), "responsive": o.value.to_numpy(),
                     "diff": diff[0], "diff_low": diff[1], "diff_high": diff[2],
                     "fd_siloed": s.failure_demand.mean(), "fd_responsive": o.failure_demand.mean(),
                     "fd_diff": fd[0], "fd_diff_low": fd[1], "fd_diff_high": fd[2]})
    return pd.DataFrame(rows)


def burns_stalker(runs: pd.DataFrame) -> Pattern:
    """Burns & Stalker (1961): mechanistic suits stable, organic suits changing, at every load."""
    t = contrast_table(runs)
    holds = [(hi < 0) if w == STABLE else (lo > 0) for w, lo, hi in zip(t.world, t.diff_low, t.diff_high,
                                                                           strict=True)]
    table = pd.DataFrame({
        "world": t.world, "load": t.load,
        "silo'd (mechanistic)": [_bounded("mean_value_delivered", v) for v in t.siloed],
        "responsive (organic)": [_bounded("mean_value_delivered", v) for v in t.responsive],
        "responsive - silo'd (paired)": [_fmt_ci(m, lo, hi) for m, lo, hi in zip(t["diff"], t.diff_low, t.diff_high,
                                                                                   strict=True)],
        "as Burns & Stalker": ["yes" if h else "no" for h in holds]})
    return Pattern(
        "burns-stalker", "Burns & Stalker: mechanistic for stable, organic for changing worlds",
        "Burns, T. & Stalker, G. M. (1961). *The Management of Innovation*. London: Tavistock.",
        "Mechanistic organisations suit stable conditions, organic ones changing conditions.",
        f"per world and load, the paired difference responsive - silo'd in value delivered per tick (95 % "
        f"t-interval): it holds in the stable world ({STABLE}) if the interval is below 0, in the changing "
        "worlds if it is above 0; agrees if it holds in every cell, partly in some, disagrees in none.",
        share_verdict(holds), f"holds in {sum(holds)} of {len(holds)} world x load cells", table,
        "silo'd and responsive: mean value per tick with a BCa bootstrap interval; difference: paired t-interval")


def lawrence_lorsch(runs: pd.DataFrame) -> Pattern:
    """Lawrence & Lorsch (1967): in turbulent worlds the best combine differentiation and integration."""
    r = runs[runs.pattern == "hybrid"]
    rows, holds = [], []
    for world in TURBULENT_WORLDS:
        w = r[r.world == world]
        if w.empty:
            continue
        means = w.groupby(["fluidity", "specialisation"]).value.mean()
        best = means.idxmax()
        combined = means[[(f >= 0.5 and s >= 0.5) for f, s in means.index]]
        others = means[[not (f >= 0.5 and s >= 0.5) for f, s in means.index]]
        top_c, top_o = combined.idxmax(), others.idxmax()

        def cell(fs: tuple[float, float], g: pd.DataFrame = w) -> pd.DataFrame:
            return g[(g.fluidity == fs[0]) & (g.specialisation == fs[1])]

        diff = _t(_paired(cell(top_o), cell(top_c)))
        row = {"world": world, "best (fluidity, specialisation)": f"({best[0]:g}, {best[1]:g})",
               "best mean": means[best], "best combining": f"({top_c[0]:g}, {top_c[1]:g})",
               "best not combining": f"({top_o[0]:g}, {top_o[1]:g})",
               "combining - not combining (paired)": _fmt_ci(*diff)}
        rows.append(row)
        holds.append(diff[1] > 0)
    table = pd.DataFrame(rows)
    grid = r.groupby(["world", "fluidity", "specialisation"], sort=False).value.mean().reset_index()
    pattern = Pattern(
        "lawrence-lorsch", "Lawrence & Lorsch: differentiation with integration in turbulent worlds",
        "Lawrence, P. R. & Lorsch, J. W. (1967). Differentiation and integration in complex organizations. "
        "*Administrative Science Quarterly* 12(1), 1-47; and *Organization and Environment*. Boston: Harvard.",
        "In turbulent environments the best performers combine high differentiation (specialised units) with "
        "high integration (teams that span them).",
        "on the responsive preset, a grid of `specialisation` (differentiation: specialists) x `fluidity` "
        f"(integration: share of capacity in teams that span the capabilities), {_values(SPECIALISATION)} x "
        f"{_values(FLUIDITY)}; a cell combines "
        "both if both are >= 0.5. In each turbulent world it holds if the best combining cell beats the best "
        "other cell (paired 95 % t-interval above 0); agrees if it holds in every turbulent world, partly in "
        "some, disagrees in none.",
        share_verdict(holds),
        "best (fluidity, specialisation): " + ", ".join(f"{row['world']} {row['best (fluidity, specialisation)']}"
                                                       for row in rows)
        + "; best combining minus best other: " + ", ".join(
            f"{row['world']} {row['combining - not combining (paired)']}" for row in rows),
        table, "difference: paired t-interval over seeds")
    pattern.table.attrs["grid"] = grid
    return pattern


def failure_causes(runs: pd.DataFrame) -> pd.DataFrame:
    """Per world, load and preset: failure demand (mean share of arrivals) and the failed customers
    by cause as shares of all failed customers (summed over seeds)."""
    r = runs[runs.pattern == "contrast"]
    cols = [f"failed_{c}" for c in FAILURE_CAUSES]
    g = r.groupby(["world", "load", "design"], sort=False)
    total = g[cols].sum()
    shares = total.div(total.sum(axis=1).where(lambda v: v > 0), axis=0)
    shares.columns = list(FAILURE_CAUSES)
    out = pd.concat([g.failure_demand.mean().rename("failure_demand"), shares], axis=1).reset_index()
    return out


def seddon(runs: pd.DataFrame) -> list[Pattern]:
    """Seddon: failure-demand shares of 40-80 % in functional designs; designing against demand cuts them."""
    causes = failure_causes(runs)
    t = contrast_table(runs)
    lo, hi = SEDDON_BAND
    silo = causes[causes.design == "siloed"]
    in_band = [bool(lo <= v <= hi) for v in silo.failure_demand]
    cuts = [bool(h < 0) for h in t.fd_diff_high]
    source = ("Seddon, J. (2003). *Freedom from Command and Control*. Buckingham: Vanguard; Seddon, J. (2008). "
              "*Systems Thinking in the Public Sector*. Axminster: Triarchy Press.")
    table = causes.copy()
    k = int(np.argmin(silo.failure_demand.to_numpy())), int(np.argmax(silo.failure_demand.to_numpy()))
    ends = [f"{silo.failure_demand.iloc[i]:.0%} ({silo.world.iloc[i]}, load {silo.load.iloc[i]:g})" for i in k]
    band_text = f"silo'd from {ends[0]} to {ends[1]}; within the band in {sum(in_band)} of {len(in_band)} cells"
    diffs = (f"lower in {sum(cuts)} of {len(cuts)} cells; paired difference from {t.fd_diff.min():+.2f} to "
             f"{t.fd_diff.max():+.2f}")
    return [
        Pattern("seddon-share", "Seddon: failure demand is a large share in functional designs", source,
                f"In functionally designed service organisations failure demand is a large share of demand "
                f"(his studies: roughly {lo:.0%}-{hi:.0%} in some public services).",
                f"the silo'd preset's failure demand (mean share of arrivals after the warm-up) per world and load: "
                f"it holds in a cell if the share is within {lo:.0%}-{hi:.0%}; agrees if in every cell, partly in "
                "some, disagrees in none.",
                share_verdict(in_band), band_text, table),
        Pattern("seddon-design", "Seddon: designing against demand cuts failure demand", source,
                "An organisation designed against customer demand (the responsive preset) has less failure "
                "demand than a functional one.",
                "per world and load, the paired difference responsive - silo'd in failure demand (95 % "
                "t-interval): it holds if the interval is below 0; agrees if in every cell, partly in some, "
                "disagrees in none.",
                share_verdict(cuts), diffs, t[["world", "load", "fd_siloed", "fd_responsive", "fd_diff",
                                               "fd_diff_low", "fd_diff_high"]],
                "difference: paired t-interval over seeds"),
    ]


def exploration_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per world: mean value at each exploration share, the best share, and the paired difference of
    the best positive share minus none (t-interval)."""
    r = runs[runs.pattern == "exploration"]
    rows = []
    for world, w in r.groupby("world", sort=False):
        means = w.groupby("exploration").value.mean()
        positive = means[means.index > 0]
        top = positive.idxmax()
        diff = _t(_paired(w[w.exploration == 0], w[w.exploration == top]))
        rows.append({"world": world, **{f"{s:g}": means[s] for s in means.index}, "best share": means.idxmax(),
                     "best > 0": top, "gain": diff[0], "gain_low": diff[1], "gain_high": diff[2]})
    return pd.DataFrame(rows)


def exploration(runs: pd.DataFrame) -> list[Pattern]:
    """Exploration: none pays in a stable world, some pays when new capabilities arrive, and the best
    share falls again at the highest turbulence (Posen & Levinthal 2012)."""
    t = exploration_table(runs)
    stable, new = t[t.world == STABLE], t[t.world != STABLE]
    first = new.iloc[0]
    pays = AGREES if first.gain_low > 0 else PARTLY if first["best share"] > 0 else DISAGREES
    best = new["best share"].to_numpy()
    paying = (new["gain_low"] > 0).to_numpy()[:-1]  # a positive share beats none, below the highest turbulence
    peak = new["best > 0"].to_numpy()[:-1][paying].max() if paying.any() else 0.0
    falls = UNTESTABLE if len(best) < 2 or not paying.any() else AGREES if best[-1] < peak else DISAGREES
    march = ("March, J. G. (1991). Exploration and exploitation in organizational learning. *Organization "
             "Science* 2(1), 71-87.")
    posen = ("Posen, H. E. & Levinthal, D. A. (2012). Chasing a moving target: exploitation and exploration in "
             "dynamic environments. *Management Science* 58(3), 587-601.")
    gain = f"best share {stable['best share'].iloc[0]:g}, gain of {stable['best > 0'].iloc[0]:g} over none " \
           f"{_fmt_ci(stable.gain.iloc[0], stable.gain_low.iloc[0], stable.gain_high.iloc[0])}"
    return [
        Pattern("explore-stable", "Exploration does not pay in a stable world", march,
                "In a stable world exploration costs and does not pay: the best share of exploration is none.",
                f"in the stable world ({STABLE}) the share of capacity scouting (responsive preset) with the highest "
                "mean value: agrees if it is 0, disagrees otherwise.",
                AGREES if stable["best share"].iloc[0] == 0 else DISAGREES, gain, t,
                "gain: paired t-interval over seeds"),
        Pattern("explore-new", "Exploration pays when new capabilities arrive", march,
                "When new demand types and capabilities arrive, some exploration pays.",
                f"in {first.world!r} (scenarios/new-capability.toml's world): agrees if the best positive share "
                "beats none (paired 95 % t-interval above 0), partly if a positive share has the highest mean but "
                "the interval includes 0, disagrees otherwise.",
                pays, f"best share {first['best share']:g}; gain of {first['best > 0']:g} over none "
                      f"{_fmt_ci(first.gain, first.gain_low, first.gain_high)}", t,
                "gain: paired t-interval over seeds"),
        Pattern("posen-levinthal", "Posen & Levinthal: less exploration at the highest turbulence", posen,
                "Beyond some turbulence the best share of exploration falls again: change erodes what "
                "exploration finds.",
                "over turbulence with new capabilities, the lower turbulences at which some exploration pays (the "
                "best positive share beats none, paired 95 % t-interval above 0): agrees if the best share at the "
                "highest turbulence is lower than the largest of theirs, disagrees otherwise; not testable if "
                "exploration pays at no lower turbulence (nothing to fall from).",
                falls, "best share " + ", ".join(f"{b:g}" for b in best) + " at turbulence "
                + ", ".join(f"{x:g}" for x in EXPLORATION_TURBULENCE), t),
    ]


def march(figure1: pd.DataFrame, published: dict[tuple[float, float], float], tolerance: float = 0.02) -> Pattern:
    """March (1991): the replication's Figure 1 against the published values."""
    got = {(p1, p2): k for p1, p2, k in zip(figure1.p1, figure1.p2, figure1.knowledge_mean, strict=True)}
    errors = {key: abs(got[key] - value) for key, value in published.items() if key in got}
    worst = max(errors.values()) if errors else float("nan")
    return Pattern(
        "march", "March (1991): mutual learning (replication)",
        "March, J. G. (1991). Exploration and exploitation in organizational learning. *Organization Science* "
        "2(1), 71-87.",
        "Slow socialisation (low p1) ends with more organisational knowledge than fast socialisation; "
        "Figure 1's equilibrium knowledge.",
        f"the replication's Figure 1 (1,000 replications a point) against the published values: agrees if every "
        f"point is within {tolerance} of them, disagrees otherwise (tests/test_march1991.py checks this and the "
        "paper's other results).",
        AGREES if errors and worst < tolerance else DISAGREES,
        f"largest deviation from the published Figure 1 {worst:.3f} over {len(errors)} points", figure1,
        "replication: t-intervals over replications")


PATTERNS: tuple[Callable[[pd.DataFrame], Pattern | list[Pattern]], ...] = (
    little, kingman_pattern, davis, burns_stalker, lawrence_lorsch, seddon, exploration)


def evaluate(runs: pd.DataFrame) -> list[Pattern]:
    """Every pattern of :data:`PATTERNS` on the recorded runs, in order."""
    out: list[Pattern] = []
    for pattern in PATTERNS:
        result = pattern(runs)
        out.extend(result if isinstance(result, list) else [result])
    return out
