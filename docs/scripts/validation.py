"""docs/validation.md, its figures and the README's validation summary, regenerated from the current code.

Runs every experiment of ``orgsim.patterns`` on paired seeds (local processes) and March's Figure 1,
records the runs in ``docs/data/validation-runs.csv`` and ``docs/data/validation-march1991.csv``,
computes each pattern's table and verdict, writes them into docs/validation.md and README.md between
``<!-- validation-...:start/end -->`` markers, and draws ``docs/img/validation-*.png``. About 6-8
minutes on a busy 2-core machine at the defaults (6 paired seeds x 250 ticks x 50 members).

    .venv/bin/python docs/scripts/validation.py                # run everything, rewrite the docs
    .venv/bin/python docs/scripts/validation.py --from-runs    # rewrite the docs from the recorded runs
    .venv/bin/python docs/scripts/validation.py --print        # run and print the summary only
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from orgsim import atomic  # noqa: E402
from orgsim import patterns as P  # noqa: E402
from orgsim.docblocks import write_blocks  # noqa: E402
from orgsim.intervals import interval  # noqa: E402
from orgsim.replications.march1991 import PUBLISHED_FIGURE1, figure1  # noqa: E402
from orgsim.scenario import load_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DOC, README = ROOT / "docs" / "validation.md", ROOT / "README.md"
RUNS, MARCH = ROOT / "docs" / "data" / "validation-runs.csv", ROOT / "docs" / "data" / "validation-march1991.csv"
IMG = ROOT / "docs" / "img"
NEW_CAPABILITY = ROOT / "scenarios" / "new-capability.toml"
MARCH_REPS, MARCH_SEED = 1000, 1991


# --- running --------------------------------------------------------------------------------------------
def collect(settings: P.Settings, workers: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every job and March's Figure 1: (runs, figure 1)."""
    environment = load_scenario(NEW_CAPABILITY).environment.model_dump(exclude_unset=True, mode="json")
    jobs = P.jobs(settings, environment)
    print(f"{len(jobs)} runs on {workers} processes ...", file=sys.stderr)
    with ProcessPoolExecutor(workers) as pool:
        march = pool.submit(figure1, MARCH_REPS, MARCH_SEED)
        rows = list(pool.map(P.run_job, jobs, chunksize=4))
        return pd.DataFrame(rows), march.result()


def read_recorded() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The recorded runs and Figure 1 (floats read back exactly)."""
    return pd.read_csv(RUNS), pd.read_csv(MARCH)


# --- Markdown ---------------------------------------------------------------------------------------------
def markdown(frame: pd.DataFrame, formats: dict[str, str] | None = None) -> str:
    """A Markdown table of ``frame``; ``formats`` maps columns to format strings (default str)."""
    formats = formats or {}

    def cell(column: str, value: object) -> str:
        if isinstance(value, float) and np.isnan(value):
            return "-"
        return formats[column].format(value) if column in formats else str(value)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(c, v) for c, v in zip(frame.columns, row, strict=True)) + " |"
              for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def _verdicts(patterns: Sequence[P.Pattern]) -> str:
    return "\n\n".join(f"**{p.name}: {p.verdict}.** {p.numbers}.\n\n*Claim:* {p.claim} *Rule:* {p.rule}"
                       + (f" *Intervals:* {p.interval}." if p.interval else "") for p in patterns)


def _figure(name: str, alt: str) -> str:
    return f"![{alt}](img/validation-{name}.png)"


def _ci(m: float, lo: float, hi: float, digits: int = 1) -> str:
    return f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def block_little(runs: pd.DataFrame, ps: list[P.Pattern]) -> str:
    return "\n\n".join([_verdicts(ps), markdown(ps[0].table, {"mean WIP": "{:.1f}", "lambda x (W - 1)": "{:.1f}",
                                                               "relative error": "{:+.1%}"}),
                        _figure("little", "Little's law: mean WIP against lambda x (W - 1) per run")])


def block_kingman(runs: pd.DataFrame, ps: list[P.Pattern]) -> str:
    r = runs[runs.pattern == "kingman"]
    curve = r.groupby(["load", "design"]).agg(lead_time=("lead_time", "mean"), wip_share=("wip_share", "mean"))
    curve = curve.unstack("design")
    table = pd.DataFrame({"load": curve.index})
    for d in P.PRESETS:
        table[f"lead time {d}"] = curve[("lead_time", d)].to_numpy()
        table[f"WIP / limit {d}"] = curve[("wip_share", d)].to_numpy()
    fmt = {c: "{:.1f}" if c.startswith("lead") else "{:.0%}" for c in table.columns if c != "load"}
    return "\n\n".join([_verdicts(ps), markdown(ps[0].table, {"curvature": "{:.1f}"}),
                        "Mean over seeds at every load (a clear world):", markdown(table, {"load": "{:g}", **fmt}),
                        _figure("kingman", "Lead time against load for both presets")])


def block_davis(runs: pd.DataFrame, ps: list[P.Pattern]) -> str:
    curves = ps[0].table
    shape = pd.DataFrame({
        "world": curves.world, "shape": curves["shape"], "optimum coupling": curves.optimum,
        "best mean value": curves.peak,
        f"couplings within {P.GOOD_WITHIN:.0%} of the best": [
            ", ".join(f"{g:g}" for g in good) + f" ({w:.0%})"
            for good, w in zip(curves.good, curves.width, strict=True)],
        "steeper towards less structure (paired)": [
            "-" if np.isnan(m) else _ci(m, lo, hi) for m, lo, hi in zip(
                curves.steeper_low, curves.steeper_low_ci_low, curves.steeper_low_ci_high, strict=True)]})
    r = runs[runs.pattern == "structure"]
    means = r.groupby(["world", "coupling"], sort=False).value.mean().unstack("coupling")
    means = means.reindex([w for w in P.STRUCTURE_WORLDS if w in means.index]).reset_index()
    means.columns = ["world", *[f"{c:g}" for c in means.columns[1:]]]
    return "\n\n".join([_verdicts(ps), markdown(shape, {"optimum coupling": "{:g}", "best mean value": "{:.1f}"}),
                        "Mean value delivered per tick by coupling (columns) and world:",
                        markdown(means, {c: "{:.1f}" for c in means.columns[1:]}),
                        _figure("davis", "Value delivered against coupling in four worlds")])


def block_burns_stalker(runs: pd.DataFrame, ps: list[P.Pattern]) -> str:
    return "\n\n".join([_verdicts(ps), markdown(ps[0].table, {"load": "{:g}"}),
                        _figure("burns-stalker", "Responsive minus silo'd value against load in three worlds")])


def block_lawrence_lorsch(runs: pd.DataFrame, ps: list[P.Pattern]) -> str:
    grid = ps[0].table.attrs["grid"]
    wide = grid.pivot_table(index=["fluidity", "specialisation"], columns="world", values="value", sort=False)
    wide = wide[[w for w in P.TURBULENT_WORLDS if w in wide.columns]].reset_index()
    return "\n\n".join([_verdicts(ps), markdown(ps[0].table, {"best mean": "{:.1f}"}),
                        "Mean value delivered per tick of every cell (the responsive preset's other levers):",
                        markdown(wide, {"fluidity": "{:g}", "specialisation": "{:g}",
                                        **{w: "{:.1f}" for w in P.TURBULENT_WORLDS}}),
                        _figure("lawrence-lorsch", "Value over fluidity and specialisation in two turbulent worlds")])


def _dominant(causes: pd.DataFrame) -> str:
    """One sentence per preset: the largest cause of failed customers in each world, over loads."""
    out = []
    for design in P.PRESETS:
        parts = []
        for world, g in causes[causes.design == design].groupby("world", sort=False):
            top = g[list(P.FAILURE_CAUSES)].mean().sort_values(ascending=False)
            parts.append(f"{world}: {top.index[0]} ({top.iloc[0]:.0%}), then {top.index[1]} ({top.iloc[1]:.0%})")
        out.append(f"Largest causes of failed customers, {design} (mean over loads): " + "; ".join(parts) + ".")
    return " ".join(out)


def block_seddon(runs: pd.DataFrame, ps: list[P.Pattern]) -> str:
    causes = ps[0].table
    table = causes.rename(columns={"failure_demand": "failure demand"})
    design = ps[1].table
    diff = pd.DataFrame({"world": design.world, "load": design.load, "silo'd": design.fd_siloed,
                         "responsive": design.fd_responsive,
                         "responsive - silo'd (paired)": [_ci(m, lo, hi, 3) for m, lo, hi in zip(
                             design.fd_diff, design.fd_diff_low, design.fd_diff_high, strict=True)]})
    return "\n\n".join([
        _verdicts(ps),
        "Failure demand (mean share of arriving demand after the warm-up) and the failed customers behind it, "
        "by cause, as shares of all failed customers (every failed customer comes back with the same chance, "
        "so these are also the causes' shares of failure demand):",
        markdown(table, {"load": "{:g}", "failure demand": "{:.0%}", **{c: "{:.0%}" for c in P.FAILURE_CAUSES}}),
        _dominant(causes),
        markdown(diff, {"load": "{:g}", "silo'd": "{:.0%}", "responsive": "{:.0%}"}),
        _figure("seddon", "Failure demand by cause, load and preset in three worlds")])


def block_exploration(runs: pd.DataFrame, ps: list[P.Pattern]) -> str:
    t = ps[0].table
    shares = [c for c in t.columns if c not in ("world", "best share", "best > 0", "gain", "gain_low", "gain_high")]
    table = t[["world", *shares, "best share"]].copy()
    table["best > 0 minus none (paired)"] = [f"{b:g}: {_ci(m, lo, hi)}" for b, m, lo, hi in zip(
        t["best > 0"], t.gain, t.gain_low, t.gain_high, strict=True)]
    table.columns = ["world", *[f"value at {s}" for s in shares], "best share", "best > 0 minus none (paired)"]
    return "\n\n".join([_verdicts(ps), markdown(table, {**{f"value at {s}": "{:.1f}" for s in shares},
                                                        "best share": "{:g}"}),
                        _figure("exploration", "Gain in value from exploration shares over none, by world")])


def block_march(runs: pd.DataFrame, ps: list[P.Pattern]) -> str:
    f = ps[0].table
    table = pd.DataFrame({"p1": f.p1, "p2": f.p2, "replication": [_ci(m, lo, hi, 3) for m, lo, hi in zip(
        f.knowledge_mean, f.knowledge_ci_low, f.knowledge_ci_high, strict=True)],
        "published": [PUBLISHED_FIGURE1.get((a, b), np.nan) for a, b in zip(f.p1, f.p2, strict=True)]})
    return "\n\n".join([_verdicts(ps), markdown(table, {"p1": "{:g}", "p2": "{:g}", "published": "{:.3f}"})])


#: Sections of docs/validation.md: block name, pattern keys, formatter.
SECTIONS: tuple[tuple[str, tuple[str, ...], Callable[[pd.DataFrame, list[P.Pattern]], str]], ...] = (
    ("little", ("little",), block_little),
    ("kingman", ("kingman",), block_kingman),
    ("davis", ("davis-u", "davis-optimum", "davis-range", "davis-asymmetry"), block_davis),
    ("burns-stalker", ("burns-stalker",), block_burns_stalker),
    ("lawrence-lorsch", ("lawrence-lorsch",), block_lawrence_lorsch),
    ("seddon", ("seddon-share", "seddon-design"), block_seddon),
    ("exploration", ("explore-stable", "explore-new", "posen-levinthal"), block_exploration),
    ("march", ("march",), block_march),
)


def evaluate(runs: pd.DataFrame, march: pd.DataFrame) -> list[P.Pattern]:
    return [*P.evaluate(runs), P.march(march, PUBLISHED_FIGURE1)]


def settings_line(runs: pd.DataFrame, march: pd.DataFrame) -> str:
    main = runs[runs.pattern == "structure"]
    explore, little = runs[runs.pattern == "exploration"], runs[runs.pattern == "little"]
    return (f"*{main.seed.nunique()} paired seeds x {int(main.ticks.iloc[0])} ticks x {int(main.members.iloc[0])} "
            f"members (exploration: {int(explore.ticks.iloc[0])} ticks; Little's law: {int(little.ticks.iloc[0])}), "
            f"means after tick {int(main.warmup.iloc[0])}; {len(runs)} runs, and March's Figure 1 at "
            f"{int(march.reps.min()):,} replications a point; generated by `docs/scripts/validation.py` from "
            "`docs/data/validation-runs.csv`.*")


def summary(patterns: Sequence[P.Pattern], runs: pd.DataFrame, march: pd.DataFrame, link: str) -> str:
    """The summary table: pattern (linked to its section), verdict, key numbers."""
    section = {key: name for name, keys, _ in SECTIONS for key in keys}
    rows = [f"| [{p.name}]({link}#{section[p.key]}) | **{p.verdict}** | {p.numbers} |" for p in patterns]
    return "\n".join([settings_line(runs, march), "", "| pattern | verdict | key numbers |", "|---|---|---|", *rows])


def blocks(runs: pd.DataFrame, march: pd.DataFrame) -> tuple[dict[str, str], dict[str, str]]:
    """The generated blocks of docs/validation.md and of README.md."""
    patterns = evaluate(runs, march)
    by_key = {p.key: p for p in patterns}
    doc = {"validation-summary": summary(patterns, runs, march, "")}
    for name, keys, fmt in SECTIONS:
        doc[f"validation-{name}"] = fmt(runs, [by_key[k] for k in keys])
    return doc, {"validation-summary": summary(patterns, runs, march, "docs/validation.md")}


# --- figures ------------------------------------------------------------------------------------------------
def _save(fig: plt.Figure, name: str) -> None:
    fig.tight_layout()
    atomic.save_figure(fig, IMG / f"validation-{name}.png", dpi=110)
    plt.close(fig)


def _band(ax: plt.Axes, x: Sequence[float], samples: Sequence[np.ndarray], label: str) -> None:
    ivs = [interval(v) for v in samples]
    ax.plot(x, [i.estimate for i in ivs], marker="o", label=label)
    ax.fill_between(x, [i.low for i in ivs], [i.high for i in ivs], alpha=0.2)


def figures(runs: pd.DataFrame, patterns: Sequence[P.Pattern]) -> None:
    by_key = {p.key: p for p in patterns}
    r = runs[runs.pattern == "little"]
    fig, ax = plt.subplots(figsize=(4.5, 4))
    for d in P.PRESETS:
        g = r[r.design == d]
        ax.scatter(g.little_predicted, g.little_wip, label=d)
    top = float(max(r.little_wip.max(), r.little_predicted.max())) * 1.05
    ax.plot([0, top], [0, top], "k--", lw=1, label="L = lambda (W - 1)")
    ax.set(xlabel="accepted arrivals x (time in system - 1)", ylabel="mean WIP (demands)", title="Little's law")
    ax.legend()
    _save(fig, "little")

    r = runs[runs.pattern == "kingman"]
    fig, ax = plt.subplots(figsize=(6, 4))
    for d in P.PRESETS:
        g = r[r.design == d]
        loads = sorted(g.load.unique())
        _band(ax, loads, [g[g.load == x].lead_time.to_numpy() for x in loads], d)
    ax.set(xlabel="load (offered work / capacity)", ylabel="mean lead time (ticks)",
           title="Kingman: lead time against load (clear world; band: 95 % t)")
    ax.legend()
    _save(fig, "kingman")

    r, curves = runs[runs.pattern == "structure"], by_key["davis-u"].table
    fig, axes = plt.subplots(1, len(curves), figsize=(4 * len(curves), 3.6), sharey=True)
    for ax, c in zip(np.atleast_1d(axes), curves.itertuples(), strict=True):
        g = r[r.world == c.world]
        xs = sorted(g.coupling.unique())
        _band(ax, xs, [g[g.coupling == x].value.to_numpy() for x in xs], "value")
        for i, g in enumerate(c.good):
            ax.axvspan(g - 0.03, g + 0.03, color="green", alpha=0.15,
                       label=f"within {P.GOOD_WITHIN:.0%} of best" if i == 0 else None)
        ax.axvline(c.optimum, color="green", lw=1)
        ax.set(title=f"{c.world}: {c.shape}", xlabel="coupling (0 responsive, 1 silo'd)")
    np.atleast_1d(axes)[0].set_ylabel("value delivered per tick")
    np.atleast_1d(axes)[0].legend(fontsize=8)
    _save(fig, "davis")

    t = P.contrast_table(runs)
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, (world, g) in enumerate(t.groupby("world", sort=False)):
        x = g.load.to_numpy() + (i - 1) * 0.008
        ax.errorbar(x, g["diff"], yerr=[g["diff"] - g.diff_low, g.diff_high - g["diff"]], marker="o", capsize=3,
                    label=world)
    ax.axhline(0, color="k", lw=1)
    ax.set(xlabel="load", ylabel="responsive - silo'd value per tick", title="Burns & Stalker (paired 95 % t)")
    ax.legend()
    _save(fig, "burns-stalker")

    grid = by_key["lawrence-lorsch"].table.attrs["grid"]
    worlds = list(grid.world.unique())
    fig, axes = plt.subplots(1, len(worlds), figsize=(4 * len(worlds), 3.6))
    for ax, world in zip(np.atleast_1d(axes), worlds, strict=True):
        m = grid[grid.world == world].pivot(index="specialisation", columns="fluidity", values="value")
        im = ax.imshow(m.to_numpy(), origin="lower", cmap="viridis")
        for (i, j), v in np.ndenumerate(m.to_numpy()):
            ax.text(j, i, f"{v:.1f}", ha="center", va="center", color="w")
        ax.set_xticks(range(len(m.columns)), [f"{x:g}" for x in m.columns])
        ax.set_yticks(range(len(m.index)), [f"{x:g}" for x in m.index])
        ax.set(title=world, xlabel="fluidity (integration)", ylabel="specialisation (differentiation)")
        fig.colorbar(im, ax=ax, shrink=0.8)
    _save(fig, "lawrence-lorsch")

    causes = by_key["seddon-share"].table
    worlds = list(causes.world.unique())
    fig, axes = plt.subplots(1, len(worlds), figsize=(4.5 * len(worlds), 3.8), sharey=True)
    for ax, world in zip(np.atleast_1d(axes), worlds, strict=True):
        g = causes[causes.world == world].reset_index(drop=True)
        labels = [f"{ld:g}\n{d[:4]}" for ld, d in zip(g.load, g.design, strict=True)]
        bottom = np.zeros(len(g))
        for cause in P.FAILURE_CAUSES:
            height = g.failure_demand.to_numpy() * g[cause].fillna(0).to_numpy()
            ax.bar(labels, height, bottom=bottom, label=cause)
            bottom += height
        ax.axhspan(*P.SEDDON_BAND, color="grey", alpha=0.15)
        ax.set(title=world, xlabel="load, preset")
    np.atleast_1d(axes)[0].set_ylabel("failure demand (share of arrivals)")
    np.atleast_1d(axes)[0].legend(fontsize=8, title="failed by")
    _save(fig, "seddon")

    r = runs[runs.pattern == "exploration"]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for world, g in r.groupby("world", sort=False):
        base = g[g.exploration == 0].set_index("seed").value
        shares = sorted(g.exploration.unique())
        _band(ax, shares, [(g[g.exploration == s].set_index("seed").value - base).to_numpy() for s in shares], world)
    ax.axhline(0, color="k", lw=1)
    ax.set(xlabel="exploration (share of capacity scouting)", ylabel="value per tick minus no exploration",
           title="Exploration (responsive preset; paired 95 % t)")
    ax.legend(fontsize=8)
    _save(fig, "exploration")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-runs", action="store_true", help="use the recorded runs, do not run")
    parser.add_argument("--print", action="store_true", help="print the summary only; write nothing")
    parser.add_argument("--seeds", type=int, default=P.Settings.seeds, help="paired seeds (default 6)")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    RUNS.parent.mkdir(parents=True, exist_ok=True)
    if args.from_runs:
        runs, march = read_recorded()
    else:
        runs, march = collect(P.Settings(seeds=args.seeds), args.workers)
        if not args.print:
            atomic.write_csv(runs, RUNS, index=False)
            atomic.write_csv(march, MARCH, index=False)
    doc, readme = blocks(runs, march)
    print(readme["validation-summary"])
    if not args.print:
        write_blocks(DOC, doc)
        write_blocks(README, readme)
        figures(runs, evaluate(runs, march))
    print(f"{time.perf_counter() - start:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
