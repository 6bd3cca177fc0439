"""Helpers for the March (1991) notebook (04): the replication's figures drawn for a room, each titled with
what its numbers say. The model and its figures' tables are ``orgsim.replications.march1991``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from orgsim.replications.march1991 import MarchModel, MarchParams, Rules, figure1, figure2, figure5, knowledge_path
from orgsim.workshop import Size, per_seed, quick, run, said

KNOWLEDGE = "Code knowledge\n(0 = chance, 1 = all facts right)"
RATES = (0.1, 0.5, 0.9)
PERIODS = 120
#: March's Figure 1 as published (rows p2, columns p1; docs/replication-march1991.md).
PUBLISHED = pd.DataFrame([[0.863, 0.799, 0.813], [0.954, 0.811, 0.742], [0.972, 0.840, 0.728]],
                         index=pd.Index([0.1, 0.5, 0.9], name="p2"), columns=pd.Index([0.1, 0.5, 0.9], name="p1"))


def reps(full: int = 200) -> int:
    """Replications per parameter point: ``full``, or 40 in quick mode (ORGSIM_WORKSHOP_QUICK=1)."""
    n = min(full, 40) if quick() else full
    print(f"{n} replications per point" + (" (quick mode)" if n < full else ""))
    return n


def deviance(p1: float, reps: int, periods: int = PERIODS, seed: int = 0) -> np.ndarray:
    """Share of people's beliefs that differ from the code, per period (reps x periods): the variety the
    code can still learn from. Runs the Mesa version of the model (one agent per person)."""
    out = np.zeros((reps, periods))
    for r in range(reps):
        model = MarchModel(MarchParams(p1=p1, p2=0.5), seed=seed + r)
        for t in range(periods):
            if model.running:
                model.step()
            beliefs = np.stack([agent.beliefs for agent in model.agents])
            out[r, t] = (beliefs != model.code).mean()
    return out


def sprint_and_race(reps: int, periods: int = PERIODS, seed: int = 0) -> Figure:
    """Knowledge of the code (top) and disagreement with it (bottom) over time at socialisation rates RATES."""
    rng = np.random.default_rng(seed)
    paths = {p1: knowledge_path(MarchParams(p1=p1, p2=0.5), reps, periods, rng).mean(axis=0) for p1 in RATES}
    variety = {p1: deviance(p1, max(10, reps // 10), periods, seed).mean(axis=0) for p1 in RATES}
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 10), sharex=True, constrained_layout=True)
    t = np.arange(1, periods + 1)
    for p1 in RATES:
        (line,) = top.plot(t, paths[p1], lw=3, label=f"socialisation p1 = {p1}")
        bottom.plot(t, variety[p1], lw=3, color=line.get_color())
    top.set_ylabel(KNOWLEDGE)
    bottom.set_ylabel("Beliefs that differ\nfrom the code (share)")
    bottom.set_xlabel("Period")
    top.legend(loc="lower right")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    fast, slow = paths[max(RATES)], paths[min(RATES)]
    ahead = np.flatnonzero(fast > slow)
    if len(ahead) and slow[-1] > fast[-1]:
        top.set_title(f"Fast socialisation (p1 = 0.9) is ahead until period {ahead[-1] + 1};\n"
                      f"slow (p1 = 0.1) ends higher: {slow[-1]:.2f} vs {fast[-1]:.2f}")
    else:
        top.set_title(f"Period {periods}: slow (p1 = 0.1) {slow[-1]:.2f}, fast (p1 = 0.9) {fast[-1]:.2f}")
    half = {p1: int(np.argmax(variety[p1] < variety[p1][0] / 2)) + 1 for p1 in RATES}
    bottom.set_title("Disagreement with the code halves by period "
                     + ", ".join(f"{half[p1]} (p1 = {p1})" for p1 in sorted(RATES, reverse=True)))
    return said(fig)


def against_published(reps: int, seed: int = 0, rules: Rules | None = None) -> tuple[Figure, pd.DataFrame]:
    """Equilibrium knowledge over p1 and p2 (March's Figure 1) beside the published values, and the table."""
    fig1 = figure1(reps=reps, seed=seed, rules=rules)
    here = fig1.pivot(index="p2", columns="p1", values="knowledge_mean")
    fig, ax = plt.subplots(figsize=(12, 7), constrained_layout=True)
    for p2, rows in fig1.groupby("p2"):
        (line,) = ax.plot(rows.p1, rows.knowledge_mean, "o-", lw=3, ms=9, label=f"code learning p2 = {p2}")
        ax.fill_between(rows.p1, rows.knowledge_ci_low, rows.knowledge_ci_high, color=line.get_color(), alpha=0.2)
        ax.plot(PUBLISHED.columns, PUBLISHED.loc[p2], "x", ms=14, mew=3, color=line.get_color())
    ax.plot([], [], "x", ms=14, mew=3, color="grey", label="published")
    ax.set_xlabel("Socialisation rate p1 (share of differing beliefs adopted per period)")
    ax.set_ylabel("Equilibrium " + KNOWLEDGE[0].lower() + KNOWLEDGE[1:])
    ax.set_xticks(list(RATES))
    ax.grid(alpha=0.3)
    ax.legend()
    gap = (here - PUBLISHED).abs().to_numpy().max()
    ax.set_title(slow_socialisation_sentence(here)
                 + f"\n(this replication within {gap:.3f} of the published values; {reps} runs per point)")
    return said(fig), here.round(3)


def slow_socialisation_sentence(table: pd.DataFrame) -> str:
    """Whether slow socialisation (p1 = 0.1) ends with more knowledge than fast (0.9), per p2 (rows)."""
    holds = [p2 for p2 in table.index if table.loc[p2, 0.1] > table.loc[p2, 0.9]]
    if len(holds) == len(table):
        return "Slow socialisation ends with more knowledge at every p2"
    return f"Slow socialisation ends with more knowledge only at p2 = {holds}" if holds else \
        "Slow socialisation does not end with more knowledge at any p2"


def turnover_under_turbulence(reps: int, seed: int = 0) -> Figure:
    """March's Figure 5: knowledge over time under turbulence, closed (no turnover) vs open (p3 = 0.1)."""
    fig5 = figure5(reps=reps, seed=seed)
    fig, ax = plt.subplots(figsize=(12, 6.5), constrained_layout=True)
    for p3, rows in fig5.groupby("p3"):
        label = "closed: no turnover" if p3 == 0 else f"open: turnover p3 = {p3}"
        (line,) = ax.plot(rows.period, rows.knowledge_mean, lw=3, label=label)
        ax.fill_between(rows.period, rows.knowledge_ci_low, rows.knowledge_ci_high, color=line.get_color(), alpha=0.2)
    ax.axhline(0, color="black", lw=1)
    ax.set_xlabel("Period")
    ax.set_ylabel(KNOWLEDGE)
    ax.grid(alpha=0.3)
    ax.legend()
    last = fig5[fig5.period == fig5.period.max()].set_index("p3").knowledge_mean
    peak = fig5.groupby("p3").knowledge_mean.max()
    ax.set_title(f"Under turbulence the closed organisation falls from {peak[0.0]:.2f} to {last[0.0]:.2f} "
                 f"by period {fig5.period.max()};\nwith turnover it ends at {last[0.1]:.2f} "
                 f"(p1 = p2 = 0.5, p4 = 0.02, {reps} runs)")
    return said(fig)


def equilibrium(reps: int, seed: int = 0, rules: Rules | None = None) -> pd.DataFrame:
    """Equilibrium knowledge of the code, rows p2, columns p1 (March's Figure 1 under ``rules``)."""
    return figure1(reps=reps, seed=seed, rules=rules).pivot(index="p2", columns="p1", values="knowledge_mean").round(3)


def exploration_in_orgsim(size: Size | None = None, explorations: tuple[float, ...] = (0.0, 0.05, 0.15),
                          levels: tuple[float, ...] = (0.0, 0.8)) -> pd.DataFrame:
    """04, exercise 3: value per day of the responsive preset at each ``exploration`` share and turbulence
    level (mean over seeds; rows exploration, columns turbulence), and a sentence on what it costs or pays."""
    orgs = {f"exploration_{round(100 * e)}": {"preset": "responsive", "exploration": e} for e in explorations}
    table = pd.DataFrame({level: per_seed(run({"regime": "complex", "turbulence": level}, orgs, 300, size)).mean()
                          for level in levels})
    table.index = pd.Index([float(name.split("_")[1]) / 100 for name in table.index], name="exploration")
    table = table.sort_index()
    table.columns.name = "turbulence"
    gain = table.loc[max(explorations)] - table.loc[min(explorations)]
    print("Exploration " + "; ".join(f"{'pays' if g > 0 else 'costs'} {abs(g):.1f} value per day at turbulence {t} "
                                     f"({max(explorations)} vs {min(explorations)})" for t, g in gain.items()))
    return table.round(1)


def fast_learners(reps: int, seed: int = 0, n_fast: tuple[int, ...] = (0, 10, 25, 40, 50)) -> str:
    """04, exercise 1 (March's Figure 2): equilibrium knowledge with ``n_fast`` of 50 fast learners."""
    fig2 = figure2(reps=reps, seed=seed, n_fast=list(n_fast)).set_index("n_fast")
    base = fig2.knowledge_mean.loc[n_fast[0]]
    lines = [fig2[["knowledge_mean", "knowledge_ci_low", "knowledge_ci_high"]].round(3).to_string(),
             "Knowledge lost against an all-slow organisation: "
             + ", ".join(f"{k} fast: {base - fig2.knowledge_mean.loc[k]:.3f}" for k in n_fast[1:])]
    return "\n".join(lines)
