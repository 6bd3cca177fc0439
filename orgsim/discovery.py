"""Scenario discovery and robustness over a sweep's worlds: PRIM, CART, feature scores, minimax regret.

A *world* is one parameter point and one seed: every organisation of the sweep met the same demand
there, so their outcomes are compared world by world. Every function takes the runs table
(:func:`orgsim.analysis.load_runs`) and returns DataFrames::

    runs = load_runs("out/crossover")
    found = discover(runs, "responsive - siloed > 0")      # PRIM: found.trajectory, found.box
    leaves, rules = cart(runs, "responsive - siloed > 0")  # CART: one row per leaf, rules as text
    feature_scores(runs)                                   # extra-trees importance per outcome
    robustness(runs)                                       # mean, 10th percentile, minimax regret

PRIM is the EMA Workbench's (``ema_workbench.analysis.prim.Prim``), feature scoring its extra-trees
scoring, CART scikit-learn's ``DecisionTreeClassifier``; they are imported on first use, so the
command line starts as fast without them.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from orgsim import atomic
from orgsim.analysis import FONT, VALUE, _save, label, parameters
from orgsim.condition import Condition, parse_condition
from orgsim.errors import OrgsimError
from orgsim.plotting import colour, projector

WORLD = ["point", "seed"]
#: Seed of the randomised learners (extra trees), so that a report is reproducible.
RANDOM_STATE = 0


# --- worlds and conditions ------------------------------------------------------------------------------------
def worlds(runs: pd.DataFrame, measure: str = VALUE) -> pd.DataFrame:
    """One row per world (point, seed): the swept parameters and ``measure`` of each organisation (a column
    per organisation)."""
    if measure not in runs.columns or measure in WORLD or measure in parameters(runs):
        known = [c for c in runs.columns if c.startswith(("mean_", "total_"))]
        raise OrgsimError(f"--measure {measure!r}: not a measure of these runs; use one of: {', '.join(known)}")
    params = parameters(runs)
    wide = runs.pivot_table(index=WORLD, columns="organisation", values=measure, aggfunc="first", dropna=False)
    wide = wide[list(dict.fromkeys(runs["organisation"]))]
    wide.columns.name = None
    settings = runs.drop_duplicates(WORLD).set_index(WORLD)[params]
    return settings.join(wide).reset_index()


def condition_holds(runs: pd.DataFrame, where: str | Condition, measure: str = VALUE) -> pd.DataFrame:
    """The worlds (:func:`worlds`) with a boolean column ``holds``: whether ``where`` (e.g. ``"responsive -
    siloed > 0"``, see :mod:`orgsim.condition`) is true there for ``measure``."""
    table = worlds(runs, measure)
    cond = where if isinstance(where, Condition) else parse_condition(where, list(dict.fromkeys(runs.organisation)))
    return table.assign(holds=cond(table))


def _xy(runs: pd.DataFrame, where: str | Condition, measure: str) -> tuple[pd.DataFrame, np.ndarray, str]:
    params = parameters(runs)
    if not params:
        raise OrgsimError("scenario discovery needs a sweep with at least one swept parameter")
    table = condition_holds(runs, where, measure)
    y = table["holds"].to_numpy(dtype=bool)
    text = where.text if isinstance(where, Condition) else where
    if y.all() or not y.any():
        raise OrgsimError(f"--where {text!r}: holds in {'all' if y.all() else 'none'} of the {len(y)} worlds "
                          f"(point x seed) of {measure}; there is no region to discover")
    return table[params].reset_index(drop=True), y, text


# --- PRIM --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PrimResult:
    """PRIM's peeling trajectory and the chosen box.

    ``trajectory``: one row per box peeled (box, coverage, density, mass, res_dim, n, k): coverage is the
    share of the worlds where the condition holds that fall in the box, density the share of the box's
    worlds where it holds, mass the share of all worlds in the box, n and k those counts.
    ``box``: one row per restricted parameter of the chosen box: lower, upper (the box), minimum, maximum
    (the swept range), qp_lower, qp_upper (quasi-p-values of each restriction, Bryant and Lempert 2010;
    NaN where that side is not restricted).
    """

    condition: str
    trajectory: pd.DataFrame
    box: pd.DataFrame
    chosen: int

    @property
    def coverage(self) -> float:
        return float(self.trajectory.loc[self.chosen, "coverage"])

    @property
    def density(self) -> float:
        return float(self.trajectory.loc[self.chosen, "density"])


def discover(
    runs: pd.DataFrame,
    where: str | Condition,
    measure: str = VALUE,
    *,
    box: int | None = None,
    peel_alpha: float = 0.05,
    mass_min: float = 0.05,
) -> PrimResult:
    """PRIM boxes over the swept parameters for the worlds where ``where`` holds.

    The chosen box is ``box`` (its row in the trajectory) or by default the one with the highest harmonic
    mean of coverage and density (its F1 score as a classifier of the worlds). ``peel_alpha`` (share of
    worlds peeled per step) and ``mass_min`` (smallest box, as a share of worlds) are PRIM's own parameters.
    """
    x, y, text = _xy(runs, where, measure)
    return prim(x, y, text, box=box, peel_alpha=peel_alpha, mass_min=mass_min)


def prim(
    x: pd.DataFrame, y: np.ndarray, condition: str = "", *, box: int | None = None, peel_alpha: float = 0.05,
    mass_min: float = 0.05,
) -> PrimResult:
    """PRIM (EMA Workbench) on parameters ``x`` (one row per world) and a boolean ``y``; see :func:`discover`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # EMA warns about optional parallel back-ends it does not need here
        from ema_workbench.analysis.prim import Prim

    x = x.reset_index(drop=True)
    # EMA counts y >= threshold as cases of interest and drops a box whose density is below it: a tiny
    # threshold counts the True worlds and keeps the whole trajectory; the box is chosen below.
    found = Prim(x, np.asarray(y, dtype=bool), threshold=1e-9, peel_alpha=peel_alpha, mass_min=mass_min).find_box()
    trajectory = found.peeling_trajectory.rename(columns={"id": "box"})
    trajectory = trajectory[["box", "coverage", "density", "mass", "res_dim", "n", "k"]].reset_index(drop=True)
    f1 = 2 * trajectory.coverage * trajectory.density / (trajectory.coverage + trajectory.density)
    chosen = int(f1.idxmax()) if box is None else box
    if not 0 <= chosen < len(trajectory):
        raise OrgsimError(f"PRIM box {box}: the trajectory has boxes 0 to {len(trajectory) - 1}")
    limits, initial, qp = found.box_lims[chosen], found.box_lims[0], found.qp[chosen]
    rows = []
    for name in x.columns:
        if name not in qp:
            continue  # not restricted
        low, high = qp[name]
        numeric = pd.api.types.is_numeric_dtype(x[name])
        rows.append({
            "parameter": name,
            "lower": limits.loc[0, name] if numeric else ", ".join(map(str, sorted(limits.loc[0, name]))),
            "upper": limits.loc[1, name] if numeric else "",
            "minimum": initial.loc[0, name] if numeric else ", ".join(map(str, sorted(initial.loc[0, name]))),
            "maximum": initial.loc[1, name] if numeric else "",
            "qp_lower": low if low >= 0 else np.nan,
            "qp_upper": high if high >= 0 else np.nan,
        })
    table = pd.DataFrame(rows, columns=["parameter", "lower", "upper", "minimum", "maximum", "qp_lower", "qp_upper"])
    return PrimResult(condition, trajectory, table, chosen)


@projector(FONT)
def plot_prim_tradeoff(result: PrimResult, path: str | Path | None = None):
    """PRIM's peeling trajectory: density against coverage, coloured by restricted parameters; the chosen
    box is circled."""
    t = result.trajectory
    fig, ax = plt.subplots(figsize=(10, 7), constrained_layout=True)
    points = ax.scatter(t.coverage, t.density, c=t.res_dim, cmap="viridis", s=60)
    ax.plot(t.coverage, t.density, color="0.6", lw=1, zorder=0)
    ax.scatter([result.coverage], [result.density], s=300, facecolors="none", edgecolors="red", lw=2.5,
               label=f"chosen box {result.chosen}: coverage {result.coverage:.2f}, density {result.density:.2f}")
    bar = fig.colorbar(points, ax=ax, ticks=sorted(set(t.res_dim)))
    bar.set_label("restricted parameters")
    ax.set_xlabel("coverage (share of the worlds where it holds that are in the box)")
    ax.set_ylabel("density (share of the box where it holds)")
    ax.set_title(f"PRIM peeling trajectory: {result.condition}")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.legend(loc="lower left")
    ax.grid(alpha=0.3)
    return _save(fig, path)


@projector(FONT)
def plot_prim_box(result: PrimResult, path: str | Path | None = None):
    """The chosen PRIM box: each restricted parameter's range in the box against its swept range, with the
    quasi-p-value of each restricted side."""
    box = result.box
    fig, ax = plt.subplots(figsize=(11, max(6.0, 1.3 * len(box) + 2.5)), constrained_layout=True)
    for i, row in enumerate(box.itertuples()):
        if not isinstance(row.lower, int | float | np.number):
            ax.text(0.5, i, f"{row.parameter} in {{{row.lower}}}", ha="center", va="center")
            continue
        span = float(row.maximum - row.minimum) or 1.0
        low, high = (row.lower - row.minimum) / span, (row.upper - row.minimum) / span
        ax.plot([0, 1], [i, i], color="0.8", lw=10, solid_capstyle="butt")
        ax.plot([low, high], [i, i], color=colour("responsive", 1), lw=10, solid_capstyle="butt")
        for x, value, qp in ((low, row.lower, row.qp_lower), (high, row.upper, row.qp_upper)):
            note = f"{value:.3g}" + (f"\nqp {qp:.1e}" if not np.isnan(qp) else "")
            ax.annotate(note, (x, i), xytext=(0, 14), textcoords="offset points", ha="center", va="bottom",
                        fontsize=FONT - 3)
    ax.set_yticks(range(len(box)), [label(p) for p in box.parameter])
    ax.set_ylim(len(box) - 0.4, -0.7)
    ax.set_xlim(-0.05, 1.05)
    ax.set_xticks([0, 1], ["swept minimum", "swept maximum"])
    ax.set_title(f"PRIM box {result.chosen} for: {result.condition}\ncoverage {result.coverage:.2f}, "
                 f"density {result.density:.2f} (qp: quasi-p-value of each restriction)")
    return _save(fig, path)


# --- CART ---------------------------------------------------------------------------------------------------
def cart(
    runs: pd.DataFrame, where: str | Condition, measure: str = VALUE, *, max_depth: int = 3,
    min_samples_leaf: float = 0.05,
) -> tuple[pd.DataFrame, str, Any]:
    """A classification tree (scikit-learn) of where ``where`` holds, over the swept parameters.

    Returns (leaves, rules, tree): ``leaves`` has one row per leaf with its rule (the conditions on the
    path), n (worlds), density (share where it holds), coverage (share of the worlds where it holds that
    fall in this leaf) and the class it predicts; ``rules`` is ``export_text`` of the tree; ``tree`` the
    fitted ``DecisionTreeClassifier`` (depth at most ``max_depth``, leaves of at least ``min_samples_leaf``
    of the worlds).
    """
    from sklearn.tree import DecisionTreeClassifier, export_text

    x, y, _ = _xy(runs, where, measure)
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=min_samples_leaf,
                                  random_state=RANDOM_STATE).fit(x, y)
    t, names = tree.tree_, list(x.columns)
    leaves, stack = [], [(0, [])]
    while stack:
        node, path = stack.pop()
        if t.children_left[node] == -1:
            inside = tree.apply(x) == node
            held = int(y[inside].sum())
            leaves.append({"leaf": node, "rule": " and ".join(path) or "(all)", "n": int(inside.sum()),
                           "density": held / max(int(inside.sum()), 1), "coverage": held / int(y.sum()),
                           "predicts": bool(tree.classes_[np.argmax(t.value[node][0])])})
            continue
        name, cut = names[t.feature[node]], t.threshold[node]
        stack.append((t.children_right[node], [*path, f"{name} > {cut:.4g}"]))
        stack.append((t.children_left[node], [*path, f"{name} <= {cut:.4g}"]))
    rules = export_text(tree, feature_names=names, decimals=3, show_weights=True)
    return pd.DataFrame(leaves), rules, tree


@projector(FONT - 3)
def plot_cart(tree, names: Sequence[str], path: str | Path | None = None, title: str = ""):
    """The fitted tree of :func:`cart` drawn by scikit-learn (class True: the condition holds)."""
    from sklearn.tree import plot_tree

    fig, ax = plt.subplots(figsize=(16, 9), constrained_layout=True)
    plot_tree(tree, feature_names=list(names), class_names=["does not hold", "holds"], filled=True,
              impurity=False, proportion=True, rounded=True, ax=ax, fontsize=FONT - 4)
    ax.set_title(title)
    return _save(fig, path)


# --- feature scoring ------------------------------------------------------------------------------------------
def feature_scores(
    runs: pd.DataFrame, measures: Sequence[str] | None = None, where: str | Condition | None = None,
    measure: str = VALUE,
) -> pd.DataFrame:
    """Extra-trees feature importance (the EMA Workbench's ``get_ex_feature_scores``, seeded) of every swept
    parameter for each organisation's ``measures`` (default: the headline measures present), one run per
    row; and, with ``where``, for whether the condition holds on ``measure`` (one world per row).

    Columns: parameter, then one column per outcome ("ORG: measure", and the condition's text), each
    summing to 1 over parameters.
    """
    from orgsim.analysis import MEASURE_LABELS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis.feature_scoring import get_ex_feature_scores
        from ema_workbench.analysis.scenario_discovery_util import RuleInductionType

    params = parameters(runs)
    if not params:
        raise OrgsimError("feature scoring needs a sweep with at least one swept parameter")
    measures = list(measures) if measures is not None else [m for m in MEASURE_LABELS if m in runs.columns]
    # EMA's default max_features (a third of the parameters, rounded) is 0 for one parameter.
    options = {"max_features": max(1, round(len(params) / 3)), "random_state": RANDOM_STATE}

    def score(x: pd.DataFrame, y: np.ndarray, mode) -> pd.Series:
        table, _ = get_ex_feature_scores(x, y, mode=mode, **options)
        return table.iloc[:, 0]

    columns = {}
    for org, group in runs.groupby("organisation", sort=False):
        for m in measures:
            ok = group[m].notna()
            if ok.sum() >= 2 and group.loc[ok, m].nunique() > 1:
                columns[f"{org}: {m}"] = score(group.loc[ok, params], group.loc[ok, m].to_numpy(float),
                                               RuleInductionType.REGRESSION)
    if where is not None:
        x, y, text = _xy(runs, where, measure)
        columns[text] = score(x, y.astype(int), RuleInductionType.CLASSIFICATION)
    table = pd.DataFrame(columns).reindex(params)
    table.index.name = "parameter"
    return table.reset_index()


@projector(FONT)
def plot_feature_scores(table: pd.DataFrame, path: str | Path | None = None):
    """Heat map of :func:`feature_scores`: parameters by outcome, darker is more important."""
    data = table.set_index("parameter")
    fig, ax = plt.subplots(figsize=(max(11, 1.1 * data.shape[1] + 6), max(6.0, data.shape[0] + 4.0)),
                           constrained_layout=True)
    image = ax.imshow(data.to_numpy(float), cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for (i, j), v in np.ndenumerate(data.to_numpy(float)):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", color="white" if v > 0.6 else "black")
    ax.set_xticks(range(data.shape[1]), data.columns, rotation=35, ha="right")
    ax.set_yticks(range(data.shape[0]), [label(p) for p in data.index])
    fig.colorbar(image, ax=ax).set_label("extra-trees importance (sums to 1 per outcome)")
    ax.set_title("Which swept parameters drive each outcome")
    return _save(fig, path)


# --- robustness across futures ------------------------------------------------------------------------------------
def regret(runs: pd.DataFrame, measure: str = VALUE, higher_is_better: bool = True) -> pd.DataFrame:
    """Regret of each organisation in each world: the best ``measure`` any organisation got in that world
    minus this one's (the other way round when lower is better); 0 for the best, never negative.

    Columns: point, seed, the swept parameters, organisation, value, best, regret. NaN where the
    organisation's value is undefined in that world.
    """
    table = worlds(runs, measure)
    orgs = list(dict.fromkeys(runs.organisation))
    values = table[orgs]
    best = values.max(axis=1) if higher_is_better else values.min(axis=1)
    long = table.melt(id_vars=[*WORLD, *parameters(runs)], value_vars=orgs, var_name="organisation",
                      value_name="value")
    long["best"] = np.tile(best.to_numpy(), len(orgs))
    long["regret"] = (long.best - long.value) if higher_is_better else (long.value - long.best)
    return long


def robustness(runs: pd.DataFrame, measure: str = VALUE, higher_is_better: bool = True) -> pd.DataFrame:
    """Per organisation over the sampled worlds (point x seed): mean and 10th / 90th percentile of
    ``measure``, mean and maximum regret (:func:`regret`), and ``minimax``, True for the organisation whose
    maximum regret is smallest (the safest when the world is unknown). Sorted by maximum regret."""
    table = regret(runs, measure, higher_is_better)
    rows = []
    for org, group in table.groupby("organisation", sort=False):
        v, r = group.value.dropna(), group.regret.dropna()
        rows.append({"organisation": org, "worlds": len(v), "mean": v.mean(), "p10": np.percentile(v, 10),
                     "p90": np.percentile(v, 90), "mean_regret": r.mean(), "max_regret": r.max(),
                     "share_best": float((r == 0).mean())})
    out = pd.DataFrame(rows).sort_values("max_regret", kind="stable").reset_index(drop=True)
    out["minimax"] = out.max_regret == out.max_regret.min()
    return out


@projector(FONT)
def plot_regret(table: pd.DataFrame, path: str | Path | None = None, measure: str = VALUE):
    """Regret of each organisation over the worlds of :func:`regret`: its distribution (box and points)
    with the maximum marked; the organisation with the smallest maximum is the minimax-regret choice."""
    orgs = list(dict.fromkeys(table.organisation))
    fig, ax = plt.subplots(figsize=(11, max(6.0, 1.6 * len(orgs) + 3)), constrained_layout=True)
    data = [table.loc[table.organisation == org, "regret"].dropna().to_numpy() for org in orgs]
    ax.boxplot(data, vert=False, widths=0.5, showfliers=False, tick_labels=orgs)
    rng = np.random.default_rng(RANDOM_STATE)  # jitter only
    for i, (org, d) in enumerate(zip(orgs, data, strict=True), start=1):
        ax.scatter(d, i + rng.uniform(-0.18, 0.18, len(d)), s=10, alpha=0.35, color=colour(org, i - 1))
        ax.scatter([d.max()], [i], marker="D", s=90, color="black", zorder=3)
        ax.annotate(f"max {d.max():.2f}", (d.max(), i), xytext=(6, 8), textcoords="offset points")
    safest = orgs[int(np.argmin([d.max() for d in data]))]
    ax.set_xlim(right=1.15 * max(d.max() for d in data) or 1.0)  # room for the labels
    ax.set_xlabel(f"regret: best {label(measure)} in that world minus this organisation's")
    ax.set_title(f"Regret over {len(data[0])} worlds (point x seed); smallest maximum regret: {safest}")
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


# --- the report's sections --------------------------------------------------------------------------------------
def default_condition(runs: pd.DataFrame) -> str | None:
    """``"A - B > 0"`` for the report's pair of organisations (responsive and silo'd by default), if two."""
    from orgsim.analysis import pair

    if runs.organisation.nunique() < 2:
        return None
    a, b = pair(runs)
    return f"{a} - {b} > 0"


def check_inputs(runs: pd.DataFrame, where: str | None, measure: str = VALUE) -> Condition | None:
    """The parsed condition (``where``, default :func:`default_condition`), having checked that ``measure``
    is one of the runs; raises :class:`OrgsimError` for bad input."""
    worlds(runs, measure)
    text = where if where is not None else default_condition(runs)
    return parse_condition(text, list(dict.fromkeys(runs.organisation))) if text else None


def write_discovery(
    runs: pd.DataFrame, out: Path, where: str | None = None, measure: str = VALUE, higher_is_better: bool = True,
) -> tuple[list[str], list[Path]]:
    """Write the scenario-discovery and robustness files into ``out``; returns (Markdown lines, paths).

    With swept parameters and a condition (``where``, default :func:`default_condition`): prim_trajectory.csv,
    prim_box.csv, prim_tradeoff.png, prim_box.png, cart_rules.txt, cart_leaves.csv, cart_tree.png. With
    swept parameters: feature_scores.csv and .png. With two or more organisations: regret.csv (per
    organisation) and regret.png.
    """
    orgs = list(dict.fromkeys(runs.organisation))
    condition = check_inputs(runs, where, measure)
    text = condition.text if condition is not None else None
    md: list[str] = []
    written: list[Path] = []

    def csv(table: pd.DataFrame, name: str) -> None:
        written.append(atomic.write_csv(table, out / name, index=False))

    if parameters(runs) and condition is not None:
        md += [f"## Where `{text}` holds ({label(measure)}): scenario discovery", ""]
        try:
            found = discover(runs, condition, measure)
        except OrgsimError as err:
            md += [f"No scenario discovery: {str(err).split(': ', 1)[-1]}.", ""]
            condition = None  # nothing to score either
        else:
            csv(found.trajectory, "prim_trajectory.csv")
            csv(found.box, "prim_box.csv")
            written += [out / "prim_tradeoff.png", out / "prim_box.png"]
            plot_prim_tradeoff(found, out / "prim_tradeoff.png")
            plot_prim_box(found, out / "prim_box.png")
            leaves, rules, tree = cart(runs, condition, measure)
            written.append(atomic.write_text(out / "cart_rules.txt",
                                             f"# where {text} ({measure}); class True: it holds\n{rules}"))
            csv(leaves, "cart_leaves.csv")
            plot_cart(tree, parameters(runs), out / "cart_tree.png", title=f"CART: where {text} ({measure})")
            written.append(out / "cart_tree.png")
            bounds = "; ".join(_bound(row) for row in found.box.itertuples()) or "no restriction"
            md += [
                f"PRIM box {found.chosen}: {bounds} (coverage {found.coverage:.2f}, density {found.density:.2f}).",
                "",
                "![PRIM trade-off](prim_tradeoff.png)", "", "![PRIM box](prim_box.png)", "",
                "- [prim_trajectory.csv](prim_trajectory.csv) and prim_tradeoff.png: PRIM (EMA Workbench) peels "
                "the swept space box by box; each box trades coverage (share of the worlds where the condition "
                "holds that it contains) against density (share of its worlds where it holds).",
                "- [prim_box.csv](prim_box.csv) and prim_box.png: the chosen box (the best harmonic mean of "
                "coverage and density), its bounds on each restricted parameter against the swept "
                "range. Each quasi-p-value tests whether dropping that restriction would leave as dense a box: "
                "small values (below 0.05) mark restrictions that matter.",
                "- [cart_rules.txt](cart_rules.txt), [cart_leaves.csv](cart_leaves.csv) and "
                "[cart_tree.png](cart_tree.png): a classification tree (scikit-learn, depth at most 3) splits "
                "the same worlds into leaves by thresholds on the parameters. Each leaf is a box too, with its "
                "density and coverage, a second view that checks PRIM's.", "",
            ]
    if parameters(runs):
        scores = feature_scores(runs, where=condition, measure=measure)
        csv(scores, "feature_scores.csv")
        plot_feature_scores(scores, out / "feature_scores.png")
        written.append(out / "feature_scores.png")
        md += ["## Which parameters drive each outcome", "", "![feature scores](feature_scores.png)", "",
               "- [feature_scores.csv](feature_scores.csv): extra-trees importance of each swept parameter for "
               "each organisation's headline measures (and the condition), as the EMA Workbench scores "
               "features. Each column sums to 1; it ranks drivers, including through interactions, but is not "
               "a variance share like Sobol indices.", ""]
    if len(orgs) >= 2:
        per_world = regret(runs, measure, higher_is_better)
        table = robustness(runs, measure, higher_is_better)
        csv(table, "regret.csv")
        plot_regret(per_world, out / "regret.png", measure)
        written.append(out / "regret.png")
        safest = table.loc[table.minimax, "organisation"].tolist()
        md += ["## Robustness across futures", "",
               "| organisation | mean | 10th percentile | mean regret | maximum regret |", "|---|---|---|---|---|"]
        md += [f"| {r.organisation} | {r.mean:.2f} | {r.p10:.2f} | {r.mean_regret:.2f} | {r.max_regret:.2f} |"
               for r in table.itertuples()]
        md += ["", "![regret](regret.png)", "",
               f"- [regret.csv](regret.csv): per organisation over all {int(table.worlds.max())} worlds (point x "
               f"seed), the mean and 10th percentile of {label(measure)} and its regret, the best value any "
               f"organisation got in that world minus its own. The minimax-regret choice, the design whose worst "
               f"regret is smallest, is {' and '.join(safest)}.", ""]
    return md, written


def _bound(row) -> str:
    if not isinstance(row.lower, int | float | np.number):
        return f"{row.parameter} in {{{row.lower}}}"
    sides = []
    if not np.isnan(row.qp_lower):
        sides.append(f"{row.parameter} >= {row.lower:.3g} (qp {row.qp_lower:.2g})")
    if not np.isnan(row.qp_upper):
        sides.append(f"{row.parameter} <= {row.upper:.3g} (qp {row.qp_upper:.2g})")
    return ", ".join(sides)
