"""Analysis of a sweep's results folder: tables (pandas DataFrames) and figures, and a Markdown report.

Every table function takes the runs table (:func:`load_runs`) and returns a DataFrame, so notebooks
use them directly::

    runs = load_runs("out/crossover")
    table = crossover(runs)                 # responsive minus silo'd, per point, with 95 % CI
    crossings(table)                        # the turbulence at which they cross
    write_report("out/crossover", "out/crossover/report")
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm  # noqa: E402

from orgsim import atomic  # noqa: E402
from orgsim import recovery as twins  # noqa: E402
from orgsim.environment import LAYERS  # noqa: E402
from orgsim.errors import OrgsimError  # noqa: E402
from orgsim.intervals import measure_interval, table_intervals  # noqa: E402
from orgsim.metrics import mean_ci  # noqa: E402
from orgsim.plotting import colour, projector  # noqa: E402
from orgsim.scenario import UNITS, Scenario, validate_scenario  # noqa: E402
from orgsim.sweep import ID_COLUMNS, TIMESERIES, read_manifest, read_runs  # noqa: E402

VALUE = "mean_value_delivered"
#: Headline measures of the summary table, with their unit.
MEASURE_LABELS: dict[str, str] = {
    "mean_value_delivered": "value delivered (value units / tick)",
    "mean_completed": "demands delivered (per tick)",
    "mean_lead_time": "lead time (ticks)",
    "mean_alignment": "alignment (0-1)",
    "mean_failure_demand": "failure demand (share of arriving demand)",
    "mean_utilisation": "utilisation (share of capacity)",
}
FONT = 15


# --- loading ------------------------------------------------------------------------------------------------
def load_runs(folder: str | Path) -> pd.DataFrame:
    """One row per run: run, run_id, point, organisation, seed, the swept parameters (by key path) and
    every summary measure. Reads runs.parquet and any part files of an unfinished sweep."""
    runs = read_runs(folder)
    if runs.empty:
        raise OrgsimError(f"{folder}: no run results yet; run orgsim sweep into it first")
    return runs


def load_scenario(folder: str | Path) -> Scenario:
    """The scenario a results folder was swept from (as recorded in its manifest)."""
    manifest = read_manifest(folder)
    return validate_scenario(manifest["scenario"], f"{Path(folder) / 'manifest.json'}")


def load_timeseries(
    folder: str | Path, filters: list | None = None, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Per-tick tables of a sweep run with ``timeseries``, read lazily: only the files that ``filters``
    (pyarrow filters on organisation, point, seed, run_id...) select and only ``columns`` are read."""
    path = Path(folder) / TIMESERIES
    if not path.is_dir():
        raise OrgsimError(f"{path}: no per-tick tables; run orgsim sweep with --timeseries")
    return pd.read_parquet(path, filters=filters, columns=list(columns) if columns else None)


def parameters(runs: pd.DataFrame) -> list[str]:
    """The swept parameters of a runs table (their columns are key paths, which contain a dot)."""
    return [c for c in runs.columns if "." in c]


def label(key: str) -> str:
    """Axis label of a parameter key path or measure, with its unit."""
    if key in MEASURE_LABELS:
        return MEASURE_LABELS[key]
    parts = key.split(".")
    name = parts[-1].replace("_", " ") + (" cadence" if len(parts) > 1 and parts[-2] == "cadence" else "")
    if parts[0] == "organisations" and len(parts) > 2:
        name = f"{parts[1]}: {name}" if parts[1] != "*" else name
    unit = UNITS.get(parts[-1])
    return f"{name} ({unit})" if unit else name


# --- tables ------------------------------------------------------------------------------------------------
def summary(runs: pd.DataFrame, measures: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean and 95 % CI over seeds of each measure, per parameter point and organisation.

    Columns: point, the parameters, organisation, measure, estimate (the mean), ci_low, ci_high, n (seeds
    where the measure is defined) and interval: the one its range calls for (:mod:`orgsim.intervals`:
    bootstrap for bounded measures, t for unbounded). Recovery is left to :func:`adaptation`.
    """
    params = parameters(runs)
    measures = list(measures) if measures is not None else [
        c for c in runs.columns if c not in (*ID_COLUMNS, *params) and not _recovery_column(c)
        and pd.api.types.is_numeric_dtype(runs[c])
    ]
    keys = ["point", *params, "organisation"]
    frames = []
    for key, group in runs.groupby(keys, sort=False, dropna=False):
        table = table_intervals(group[measures])
        frames.append(table.assign(**dict(zip(keys, key, strict=True))))
    long = pd.concat(frames, ignore_index=True)
    return long[[*keys, "measure", "estimate", "ci_low", "ci_high", "n", "interval"]].sort_values(
        ["point", "organisation", "measure"], key=_order(runs), kind="stable"
    ).reset_index(drop=True)


def _recovery_column(name: str) -> bool:
    """Columns of recovery from shocks: the model's own (against the pre-shock level) and the twin-based ones."""
    return bool(twins.SELF_BASELINE.fullmatch(name) or re.fullmatch(r"shock\d+_.*", name))


def _order(runs: pd.DataFrame):
    orgs = {org: i for i, org in enumerate(dict.fromkeys(runs["organisation"]))}

    def key(column: pd.Series) -> pd.Series:
        return column.map(orgs) if column.name == "organisation" else column

    return key


def pair(runs: pd.DataFrame, a: str | None = None, b: str | None = None) -> tuple[str, str]:
    """The two organisations compared: ``a`` minus ``b`` (default responsive minus siloed)."""
    orgs = list(dict.fromkeys(runs["organisation"]))
    a = a or ("responsive" if "responsive" in orgs else orgs[-1])
    b = b or ("siloed" if "siloed" in orgs else orgs[0])
    for org in (a, b):
        if org not in orgs:
            raise OrgsimError(f"no organisation {org!r} in these runs; they have: {', '.join(orgs)}")
    if a == b:
        raise OrgsimError("a crossover needs two organisations")
    return a, b


def crossover(
    runs: pd.DataFrame,
    x: str | None = None,
    y: str | None = None,
    measure: str = VALUE,
    a: str | None = None,
    b: str | None = None,
) -> pd.DataFrame:
    """``a`` minus ``b`` (default: responsive minus silo'd) in ``measure`` over one or two parameters.

    The difference is paired by point and seed (both organisations faced the same demand), then
    averaged over seeds and any other swept parameters. Columns: x (and y), a's and b's means,
    difference (mean), ci_low, ci_high (95 %), n, and winner (the organisation whose CI-excluded lead
    it is, or "neither").
    """
    a, b = pair(runs, a, b)
    params = parameters(runs)
    x = x or (params[0] if params else None)
    y = y if y is not None else (params[1] if len(params) > 1 and params[1] != x else None)
    by = [p for p in (x, y) if p is not None]
    for p in by:
        if p not in params:
            raise OrgsimError(f"{p!r} is not a swept parameter; these runs have: {', '.join(params) or 'none'}")
    wide = runs.pivot_table(index=["point", "seed", *by], columns="organisation", values=measure,
                            aggfunc="first", dropna=False).reset_index()
    wide["difference"] = wide[a] - wide[b]
    rows = []
    for key, group in (wide.groupby(by, sort=True) if by else [((), wide)]):
        mean, low, high, n = mean_ci(group["difference"])
        key = key if isinstance(key, tuple) else (key,)
        winner = a if low > 0 else b if high < 0 else "neither"
        rows.append((*key, group[a].mean(), group[b].mean(), mean, low, high, n, winner))
    return pd.DataFrame(rows, columns=[*by, a, b, "difference", "ci_low", "ci_high", "n", "winner"])


def crossings(table: pd.DataFrame, x: str | None = None) -> pd.DataFrame:
    """Where the mean difference of a :func:`crossover` table changes sign along ``x`` (default: its
    first column), interpolated linearly, for each value of its second parameter if it has one.

    Columns: the second parameter (if any), x_cross, and ``direction`` ("b to a": b wins below x_cross).
    """
    params = [c for c in table.columns[: list(table.columns).index("difference") - 2]]
    x = x or params[0]
    others = [p for p in params if p != x]
    a, b = table.columns[len(params)], table.columns[len(params) + 1]
    rows = []
    for key, group in (table.groupby(others, sort=True) if others else [((), table)]):
        g = group.sort_values(x)
        xs, ds = g[x].to_numpy(dtype=float), g["difference"].to_numpy(dtype=float)
        for i in range(len(xs) - 1):
            if np.sign(ds[i]) != np.sign(ds[i + 1]) and ds[i] != 0:
                cross = xs[i] + (0 - ds[i]) * (xs[i + 1] - xs[i]) / (ds[i + 1] - ds[i])
                direction = f"{b} to {a}" if ds[i] < 0 else f"{a} to {b}"
                rows.append((*((key,) if not isinstance(key, tuple) else key), cross, direction))
    return pd.DataFrame(rows, columns=[*others, f"{x} at crossing", "direction"])


def adaptation(runs: pd.DataFrame, by: Sequence[str] = (), measure: str = "value_delivered") -> pd.DataFrame:
    """Recovery of ``measure`` from scheduled shocks, against each run's no-shock twin, per pace layer
    (:func:`orgsim.recovery.summarise`): shocks, not_hit, recovered, censored, the Kaplan-Meier median
    ticks to recover of the shocks that hit (median, ci_low, ci_high; inf = not reached), longest, and
    depth and area of loss with their intervals. Pooled over points unless ``by`` names parameters to
    keep apart; empty when no run had a scheduled shock."""
    long = twins.from_columns(runs, ids=("organisation", *by, "point", "seed"))
    return twins.summarise(long[long.measure == measure], by=("organisation", *by))


def sensitivity(runs: pd.DataFrame, scenario: Scenario, measure: str = VALUE) -> pd.DataFrame:
    """Sobol or Morris indices (SALib) of ``measure`` for each organisation, from a sweep sampled with
    ``sobol`` or ``morris``; the measure is averaged over seeds at each point.

    Sobol columns: organisation, parameter, S1, S1_conf, ST, ST_conf (conf = half-width of the 95 %
    bootstrap interval). Morris: organisation, parameter, mu, mu_star, mu_star_conf, sigma.
    """
    sweep = scenario.sweep
    if sweep is None or sweep.sampling not in ("sobol", "morris"):
        raise OrgsimError("sensitivity indices need a sweep sampled with sobol or morris")
    from SALib.analyze import morris, sobol

    problem, design = scenario.problem(), scenario.design_matrix()
    frames = []
    for org in dict.fromkeys(runs["organisation"]):
        y = runs[runs.organisation == org].groupby("point")[measure].mean().reindex(range(len(design)))
        if y.isna().any():
            missing = int(y.isna().sum())
            raise OrgsimError(f"sensitivity: {measure} of {org} is missing at {missing} of {len(y)} points; "
                              "finish the sweep first")
        if sweep.sampling == "sobol":
            si = sobol.analyze(problem, y.to_numpy(), calc_second_order=sweep.second_order, seed=0)
            cols = ["S1", "S1_conf", "ST", "ST_conf"]
        else:
            si = morris.analyze(problem, design, y.to_numpy(), num_levels=sweep.levels, seed=0)
            cols = ["mu", "mu_star", "mu_star_conf", "sigma"]
        frame = pd.DataFrame({c: np.asarray(si[c], dtype=float) for c in cols})
        frame.insert(0, "parameter", problem["names"])
        frame.insert(0, "organisation", org)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


# --- figures -----------------------------------------------------------------------------------------------
def _save(fig, path: str | Path | None):
    if path is not None:
        atomic.save_figure(fig, path, dpi=120)
        plt.close(fig)
    return fig


def _edges(values: np.ndarray) -> np.ndarray:
    mid = (values[1:] + values[:-1]) / 2
    first = values[0] - (mid[0] - values[0]) if len(values) > 1 else values[0] - 0.5
    last = values[-1] + (values[-1] - mid[-1]) if len(values) > 1 else values[-1] + 0.5
    return np.concatenate([[first], mid, [last]])


@projector(FONT)
def plot_crossover_map(table: pd.DataFrame, path: str | Path | None = None, measure: str = VALUE):
    """Heat map of a two-parameter :func:`crossover` table with the zero contour: where each design wins."""
    x, y = table.columns[0], table.columns[1]
    a, b = table.columns[2], table.columns[3]
    grid = table.pivot(index=y, columns=x, values="difference")
    xs, ys, z = grid.columns.to_numpy(float), grid.index.to_numpy(float), grid.to_numpy(float)
    limit = float(np.nanmax(np.abs(z))) or 1.0
    cmap = LinearSegmentedColormap.from_list("crossover", [colour(b, 0), "#f7f7f7", colour(a, 1)])
    fig, ax = plt.subplots(figsize=(11, 7.5), constrained_layout=True)
    mesh = ax.pcolormesh(_edges(xs), _edges(ys), z, cmap=cmap, norm=TwoSlopeNorm(0.0, -limit, limit))
    if len(xs) > 1 and len(ys) > 1 and np.nanmin(z) < 0 < np.nanmax(z):
        contour = ax.contour(xs, ys, z, levels=[0.0], colors="black", linewidths=3)
        ax.clabel(contour, fmt={0.0: "break-even"}, fontsize=FONT - 2)
    unsure = table[table.winner == "neither"]
    ax.scatter(unsure[x], unsure[y], marker="x", s=60, color="0.3", label="95 % CI includes 0")
    bar = fig.colorbar(mesh, ax=ax)
    unit = label(measure).split("(")[-1].rstrip(")") if "(" in label(measure) else ""
    bar.set_label(f"{a} minus {b} ({unit})\nbelow 0: {b} better, above 0: {a} better")
    ax.set_xlabel(label(x))
    ax.set_ylabel(label(y))
    ax.set_title(f"Where each design wins: {a} minus {b}\n{label(measure)}, mean over seeds")
    if len(unsure):
        ax.legend(loc="upper right")
    return _save(fig, path)


@projector(FONT)
def plot_crossover_line(table: pd.DataFrame, path: str | Path | None = None, measure: str = VALUE):
    """The difference of a one-parameter :func:`crossover` table along its parameter, with its 95 % CI."""
    x, a, b = table.columns[0], table.columns[1], table.columns[2]
    fig, ax = plt.subplots(figsize=(11, 6.5), constrained_layout=True)
    ax.fill_between(table[x], table.ci_low, table.ci_high, color="0.6", alpha=0.4, lw=0, label="95 % CI")
    ax.plot(table[x], table.difference, color="black", lw=2.5, marker="o", label=f"{a} minus {b}")
    ax.axhline(0.0, color="0.3", lw=1.5, ls="--")
    ax.set_xlabel(label(x))
    ax.set_ylabel(f"{a} minus {b}\n{label(measure)}")
    ax.set_title(f"Above 0: {a} delivers more; below 0: {b} does")
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    return _save(fig, path)


@projector(FONT)
def plot_by_parameter(
    runs: pd.DataFrame, x: str, path: str | Path | None = None, measure: str = VALUE, by: str | None = None
):
    """``measure`` of each organisation along parameter ``x``: mean over seeds with its 95 % CI, one line
    per value of parameter ``by`` (drawn once for an organisation it does not change)."""
    fig, ax = plt.subplots(figsize=(11, 6.5), constrained_layout=True)
    styles = ["-", "--", ":", "-."]
    for i, org in enumerate(dict.fromkeys(runs["organisation"])):
        sel = runs[runs.organisation == org]
        groups = list(sel.groupby(by, sort=True)) if by else [(None, sel)]
        lines = []
        for value, group in groups:
            cis = [(v, measure_interval(measure, g[measure])) for v, g in group.groupby(x, sort=True)]
            rows = [(v, ci.estimate, ci.low, ci.high) for v, ci in cis]
            lines.append((value, *(np.array(c, dtype=float) for c in zip(*rows, strict=True))))
        if all(np.array_equal(line[2], lines[0][2]) for line in lines):
            lines = [(None, *lines[0][1:])]
        for j, (value, xs, mean, low, high) in enumerate(lines):
            name = org if value is None else f"{org}, {by.split('.')[-1]} {value:g}"
            ax.fill_between(xs, low, high, color=colour(org, i), alpha=0.15, lw=0)
            ax.plot(xs, mean, color=colour(org, i), lw=2.5, ls=styles[j % 4], marker="o", label=name)
    ax.set_xlabel(label(x))
    ax.set_ylabel(label(measure))
    ax.set_title("Mean over seeds (band: 95 % CI)")
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    return _save(fig, path)


@projector(FONT)
def plot_adaptation(table: pd.DataFrame, path: str | Path | None = None):
    """Bars of the Kaplan-Meier median ticks to recover per pace layer and organisation, with 95 % CIs; a
    median not reached is drawn hatched up to the longest time observed."""
    layers = [layer for layer in LAYERS if layer in set(table.layer)]
    orgs = list(dict.fromkeys(table.organisation))
    width = 0.8 / len(orgs)
    fig, ax = plt.subplots(figsize=(11, 6.5), constrained_layout=True)
    for i, org in enumerate(orgs):
        sel = table[table.organisation == org].set_index("layer").reindex(layers)
        pos = np.arange(len(layers)) + (i - (len(orgs) - 1) / 2) * width
        reached = np.isfinite(sel["median"].to_numpy(dtype=float))
        height = np.where(reached, sel["median"], sel["longest"])
        top = np.where(np.isfinite(sel.ci_high), sel.ci_high, height)
        err = np.vstack([np.where(reached, height - sel.ci_low, 0), np.where(reached, top - height, 0)])
        ax.bar(pos, height, width, yerr=err, capsize=6, color=colour(org, i), label=org,
               hatch=["" if r else "//" for r in reached], edgecolor="white")
        for x, r, h in zip(pos, reached, height, strict=True):
            if not r and np.isfinite(h):
                ax.annotate("not\nreached", (x, h), ha="center", va="bottom", fontsize=FONT - 4)
    ax.set_xticks(np.arange(len(layers)), [f"{layer} shock" for layer in layers])
    ax.set_ylabel("ticks to recover value delivered\n(Kaplan-Meier median over shocks hit)")
    ax.set_title(f"Recovery against a no-shock twin per pace layer (lower is faster)\n{twins.RULE.describe()}; "
                 "bars: 95 % CI", fontsize=FONT - 2)
    ax.legend(loc="best")
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


@projector(FONT)
def plot_sensitivity(table: pd.DataFrame, path: str | Path | None = None, measure: str = VALUE):
    """Bars of Sobol S1 and ST (or Morris mu*) per parameter and organisation, with confidence bounds."""
    orgs = list(dict.fromkeys(table.organisation))
    sobol = "S1" in table.columns
    bars = [("S1", "first order S1"), ("ST", "total ST")] if sobol else [("mu_star", "mu* (mean |effect|)")]
    params = list(dict.fromkeys(table.parameter))
    fig, axes = plt.subplots(1, len(orgs), figsize=(max(12, 7 * len(orgs) + 5), 1.1 * len(params) + 3),
                             sharey=True, squeeze=False, constrained_layout=True)
    for ax, org in zip(axes[0], orgs, strict=True):
        sel = table[table.organisation == org].set_index("parameter").reindex(params)
        height = 0.8 / len(bars)
        for j, (col, name) in enumerate(bars):
            pos = np.arange(len(params)) + (j - (len(bars) - 1) / 2) * height
            ax.barh(pos, sel[col], height, xerr=sel[f"{col}_conf"], capsize=5, label=name,
                    color=["#4c72b0", "#dd8452"][j])
        ax.set_yticks(np.arange(len(params)), [label(p) for p in params])
        ax.invert_yaxis()
        ax.axvline(0, color="0.3", lw=1)
        ax.set_title(org)
        ax.set_xlabel("share of variance" if sobol else label(measure))
        ax.grid(axis="x", alpha=0.3)
        ax.legend(loc="lower right")
    fig.suptitle(f"Sensitivity of {label(measure)}\n({'Sobol' if sobol else 'Morris'} indices, SALib; "
                 "error bars: 95 % confidence bounds)")
    return _save(fig, path)


# --- the report --------------------------------------------------------------------------------------------
def write_report(
    folder: str | Path, out: str | Path | None = None, *, condition: str | None = None, measure: str = VALUE,
    higher_is_better: bool = True,
) -> list[Path]:
    """Write the tables (CSV), figures (PNG) and ``report.md`` for a results folder; returns the paths.

    Always: summary.csv and report.md. With two organisations: crossover.csv; and with a swept
    parameter also crossings.csv, value_delivered.png and crossover_map.png (two or more parameters)
    or crossover.png (one). With shocks: adaptation.csv and adaptation.png. With a sobol or morris
    sweep: sensitivity.csv and sensitivity.png. Scenario discovery (PRIM, CART, feature scores) for the
    ``condition`` on ``measure`` and the regret table: see :func:`orgsim.discovery.write_discovery`.
    """
    folder = Path(folder)
    out = Path(out) if out is not None else folder / "report"
    scenario, runs = load_scenario(folder), load_runs(folder)
    manifest = read_manifest(folder)
    from orgsim.discovery import check_inputs, write_discovery

    check_inputs(runs, condition, measure)  # a bad --where or --measure fails before anything is written
    atomic.prepare_folder(out, "report folder")
    params = parameters(runs)
    orgs = list(dict.fromkeys(runs.organisation))
    written: list[Path] = []
    md = [f"# {scenario.description or manifest.get('source') or 'orgsim sweep'}", ""]
    done = f"{len(runs)} of {len(manifest['runs'])} runs"
    md += [f"Scenario `{manifest.get('source')}` (fingerprint `{manifest['fingerprint'][:12]}`), {done}: "
           f"{manifest['points']} point(s) x {len(manifest['seeds'])} seeds x {len(orgs)} organisations, "
           f"{scenario.run.ticks} ticks of {scenario.run.members} members; means over ticks "
           f"{scenario.run.warmup}+, intervals are 95 % CIs over seeds.", ""]
    if len(runs) < len(manifest["runs"]):
        md += ["**The sweep is not finished**: re-run the same `orgsim sweep` command to complete it.", ""]

    table = summary(runs)
    written.append(_csv(table, out / "summary.csv"))
    md += _headline(table, params)
    md += ["", "- [summary.csv](summary.csv): mean and 95 % CI of every measure, per point and organisation", ""]

    if len(orgs) >= 2 and params:
        a, b = pair(runs)
        cross = crossover(runs)
        written.append(_csv(cross, out / "crossover.csv"))
        where = crossings(cross)
        written.append(_csv(where, out / "crossings.csv"))
        x = params[0]
        md += [f"## {a} versus {b}", ""]
        if len(cross.columns) - 7 >= 2:
            written.append(_png(plot_crossover_map, cross, out / "crossover_map.png"))
            md += ["![crossover map](crossover_map.png)", "",
                   f"Colour: {a} minus {b} in value delivered per tick; black line: break-even.", ""]
        else:
            written.append(_png(plot_crossover_line, cross, out / "crossover.png"))
            md += ["![crossover](crossover.png)", ""]
        md += [_crossing_text(where, cross, x, a, b), ""]
        y = params[1] if len(params) > 1 else None
        written.append(_png(lambda r, p: plot_by_parameter(r, x, p, by=y), runs, out / "value_delivered.png"))
        md += ["![value delivered](value_delivered.png)", "",
               "- [crossover.csv](crossover.csv): difference per point with its 95 % CI and the winner",
               "- [crossings.csv](crossings.csv): where the difference changes sign", ""]
    elif len(orgs) >= 2:
        a, b = pair(runs)
        row = crossover(runs).iloc[0]
        written.append(_csv(crossover(runs), out / "crossover.csv"))
        md += [f"## {a} versus {b}", "",
               f"{a} minus {b}, value delivered per tick (paired by seed): {row.difference:+.2f} "
               f"[{row.ci_low:+.2f}, {row.ci_high:+.2f}]; "
               + (f"{row.winner} delivers more." if row.winner != "neither" else "the 95 % CI includes 0."), "",
               "- [crossover.csv](crossover.csv): the difference with its 95 % CI", ""]

    adapt = adaptation(runs)
    if not adapt.empty:
        written.append(_csv(adapt, out / "adaptation.csv"))
        written.append(_png(plot_adaptation, adapt, out / "adaptation.png"))
        md += ["## Adaptation per pace layer", "", "![adaptation](adaptation.png)", "",
               f"Against each run's no-shock twin: {twins.RULE.describe()}.", "",
               "- [adaptation.csv](adaptation.csv): per layer, shocks not hit, recovered and censored, the "
               "Kaplan-Meier median ticks to recover with its 95 % CI, and the depth and area of loss"
               + (" (pooled over all points)" if params else ""), ""]

    sampled = scenario.sweep is not None and scenario.sweep.sampling in ("sobol", "morris")
    if sampled and len(runs) == len(manifest["runs"]):
        sens = sensitivity(runs, scenario)
        written.append(_csv(sens, out / "sensitivity.csv"))
        written.append(_png(plot_sensitivity, sens, out / "sensitivity.png"))
        md += [f"## Sensitivity ({scenario.sweep.sampling}, SALib)", "", "![sensitivity](sensitivity.png)", "",
               "- [sensitivity.csv](sensitivity.csv): indices with 95 % confidence bounds", ""]
    lines, files = write_discovery(runs, out, condition, measure, higher_is_better)
    md += lines
    written += files
    report = out / "report.md"
    atomic.write_text(report, "\n".join(md) + "\n")
    written.append(report)
    return written


def _csv(table: pd.DataFrame, path: Path) -> Path:
    return atomic.write_csv(table, path, index=False)


def _png(plot, data, path: Path) -> Path:
    plot(data, path)
    return path


def _headline(table: pd.DataFrame, params: list[str]) -> list[str]:
    """Value delivered per organisation (pooled over points when there are many) as a Markdown table."""
    sel = table[table.measure == VALUE]
    if sel.point.nunique() > 12:
        return [f"Value delivered per tick, mean over all {sel.point.nunique()} points: " + ", ".join(
            f"{org} {g.estimate.mean():.1f}" for org, g in sel.groupby("organisation", sort=False)) + "."]
    lines = ["| " + " | ".join([*params, "organisation", "value delivered / tick", "95 % CI (bootstrap)"]) + " |",
             "|" + "---|" * (len(params) + 3)]
    for _, row in sel.iterrows():
        cells = [f"{row[p]:g}" if isinstance(row[p], float) else str(row[p]) for p in params]
        lines.append("| " + " | ".join([*cells, row.organisation, f"{row.estimate:.1f}",
                                        f"[{row.ci_low:.1f}, {row.ci_high:.1f}]"]) + " |")
    return lines


def _crossing_text(where: pd.DataFrame, cross: pd.DataFrame, x: str, a: str, b: str) -> str:
    if where.empty:
        lead = cross.groupby("winner").size().to_dict()
        return f"No crossover along {x}: points won (CI excludes 0): {lead}."
    col = f"{x} at crossing"
    parts = []
    for _, row in where.iterrows():
        at = ", ".join(f"{c} = {row[c]:g}" for c in where.columns if c not in (col, "direction"))
        parts.append(f"{x} = {row[col]:.2f} ({row.direction}{'; ' + at if at else ''})")
    return "They cross at " + "; ".join(parts) + "."
