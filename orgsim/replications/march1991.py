"""March (1991) mutual-learning model: individuals and an organisational code learn from each other.

Two engines share the rule functions below:

* :func:`equilibrium_knowledge` and :func:`knowledge_path` run many replications at once with numpy
  (arrays of shape ``(reps, n, m)``); the figure tables use them.
* :class:`MarchModel` is the same model as a Mesa model with one :class:`Individual` agent per person,
  kept as the readable reference; a test checks both engines give the same distribution of results.

Knowledge values are fractions: the ``score`` metric is ``sum(code * reality) / m`` in [-1, 1] (0 is
chance), the ``share`` metric is the share of dimensions the code gets right, in [0, 1] (0.5 is chance
for a code without neutral beliefs). Confidence intervals are t-based, 95 %, over replications.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

import mesa
import numpy as np
import pandas as pd
from tqdm import tqdm

from orgsim.errors import OrgsimError
from orgsim.metrics import t_half_width

Beliefs = np.ndarray  # int8 values in {-1, 0, 1}


class Superior(StrEnum):
    """Open rule 1: how individuals are scored to decide who beats the code (and what they vote)."""

    ACTIONS = "actions"  # a neutral (0) belief acts as a fair coin flip each period
    BELIEFS = "beliefs"  # beliefs are scored as they are; a neutral belief abstains from the vote


class Move(StrEnum):
    """Open rule 2: how far a belief (or the code) moves when it changes."""

    STEP = "step"  # one step: opposite -> 0 -> value
    JUMP = "jump"  # straight to the other value


class Knowledge(StrEnum):
    """Open rule 3: the knowledge metric, used both to form the superior group and to report."""

    SCORE = "score"  # (right - wrong) / m, in [-1, 1]
    SHARE = "share"  # right / m, in [0, 1]


@dataclass(frozen=True)
class Rules:
    """The combination of open rules. The default reproduces March's (1991) Figure 1."""

    superior: Superior = Superior.ACTIONS
    belief_move: Move = Move.STEP
    code_move: Move = Move.JUMP
    knowledge: Knowledge = Knowledge.SCORE

    def __post_init__(self) -> None:
        for name, kind in (("superior", Superior), ("belief_move", Move), ("code_move", Move),
                           ("knowledge", Knowledge)):
            value = getattr(self, name)
            if value not in set(kind):
                allowed = "|".join(kind)
                raise OrgsimError(f"rule {name}={value!r} is not allowed; use {allowed}")
            object.__setattr__(self, name, kind(value))


def _check_rate(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise OrgsimError(f"{name}={value} is not a probability; use a number in [0, 1]")


def _check_count(name: str, value: int, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise OrgsimError(f"{name}={value!r} is not allowed; use a whole number >= {low}")


@dataclass(frozen=True)
class MarchParams:
    """Parameters of one organisation (March 1991, p. 74-79).

    m: dimensions of reality (>= 1); n: individuals (>= 1).
    p1: socialisation rate, per dimension and period, in [0, 1]; the first ``n_fast`` individuals
    socialise at ``p1_fast`` instead (Figure 2's mix of slow and fast learners).
    p2: code learning rate in [0, 1]; p3: turnover, per individual and period, in [0, 1];
    p4: turbulence, per dimension of reality and period, in [0, 1].
    max_periods: cap on the run to equilibrium (>= 1); runs that hit it are reported as unfinished.
    """

    m: int = 30
    n: int = 50
    p1: float = 0.5
    p2: float = 0.5
    p3: float = 0.0
    p4: float = 0.0
    n_fast: int = 0
    p1_fast: float = 0.9
    max_periods: int = 5000
    rules: Rules = field(default_factory=Rules)

    def __post_init__(self) -> None:
        for name in ("p1", "p2", "p3", "p4", "p1_fast"):
            _check_rate(name, getattr(self, name))
        for name, low in (("m", 1), ("n", 1), ("n_fast", 0), ("max_periods", 1)):
            _check_count(name, getattr(self, name), low)
        if self.n_fast > self.n:
            raise OrgsimError(f"n_fast={self.n_fast} is more than n={self.n}; use 0..n")

    @property
    def socialisation_rates(self) -> np.ndarray:
        """Per-individual socialisation rate, shape (n,)."""
        rates = np.full(self.n, self.p1)
        rates[: self.n_fast] = self.p1_fast
        return rates


# --- rules shared by both engines; arrays broadcast over leading axes -------------------------------


def random_beliefs(rng: np.random.Generator, shape: tuple[int, ...]) -> Beliefs:
    """Beliefs -1, 0 or +1 with equal probability."""
    return rng.integers(-1, 2, size=shape, dtype=np.int8)


def act(beliefs: Beliefs, rules: Rules, rng: np.random.Generator) -> Beliefs:
    """What individuals are scored on: beliefs, or actions where a neutral belief is a coin flip."""
    if rules.superior is Superior.BELIEFS:
        return beliefs
    actions = beliefs.copy()
    neutral = actions == 0
    actions[neutral] = 2 * rng.integers(0, 2, size=int(neutral.sum()), dtype=np.int8) - 1
    return actions


def knowledge(x: Beliefs, reality: Beliefs, metric: Knowledge) -> np.ndarray:
    """Knowledge of beliefs ``x`` (..., m) about ``reality`` (broadcastable), as a fraction."""
    m = x.shape[-1]
    if metric is Knowledge.SHARE:
        return (x == reality).sum(axis=-1, dtype=np.int16) / m
    return (x * reality).sum(axis=-1, dtype=np.int16) / m


def _move(old: Beliefs, target: Beliefs, change: np.ndarray, how: Move) -> Beliefs:
    """Move ``old`` towards a +-1 ``target`` where ``change``; ``old`` differs from it there."""
    if how is Move.JUMP:
        return np.where(change, target, old).astype(np.int8)
    return (old + change * target).astype(np.int8)


def socialise(beliefs: Beliefs, code: Beliefs, p1: np.ndarray | float, u: np.ndarray, how: Move) -> Beliefs:
    """Beliefs after one period of socialisation.

    Where the code is non-zero and a belief differs from it, the belief changes with probability
    ``p1`` (compared with uniforms ``u`` of the beliefs' shape; ``p1`` broadcasts).
    """
    change = (code != 0) & (beliefs != code) & (u < p1)
    return _move(beliefs, code, change, how)


def learn_code(code: Beliefs, votes: Beliefs, superior: np.ndarray, p2: float, u: np.ndarray,
               how: Move) -> Beliefs:
    """The code after learning from the superior group's majority.

    code (reps, m); votes (reps, n, m) of the individuals; superior (reps, n) bool; u (reps, m) uniforms.
    The margin k is (votes for the majority value) - (votes against); a tie changes nothing. Where the
    code differs from the majority it changes with probability 1 - (1 - p2) ** k.
    """
    counted = votes * superior[..., None]
    margin = counted.sum(axis=-2, dtype=np.int16)
    majority = np.sign(margin).astype(np.int8)
    change = (majority != 0) & (code != majority) & (u < 1.0 - (1.0 - p2) ** np.abs(margin))
    return _move(code, majority, change, how)


def absorbed(beliefs: Beliefs, code: Beliefs, reality: Beliefs, rules: Rules) -> np.ndarray:
    """Closed-system equilibrium of each organisation: nothing can change any more.

    beliefs (..., n, m), code and reality (..., m). No belief can be socialised (each equals the code
    wherever the code is non-zero) and nobody can beat the code (even with lucky coin flips for neutral
    beliefs under the actions rule). When the code has no neutral dimension this is "every belief
    equals the code"; it also stops runs frozen with a neutral code dimension (code_move=step).
    """
    code_ = code[..., None, :]
    settled = ((beliefs == code_) | (code_ == 0)).all(axis=(-2, -1))
    if not settled.any():
        return settled
    reality_ = reality[..., None, :]
    best = beliefs if rules.superior is Superior.BELIEFS else np.where(beliefs == 0, reality_, beliefs)
    beaten = knowledge(best, reality_, rules.knowledge) > knowledge(code, reality, rules.knowledge)[..., None]
    return settled & ~beaten.any(axis=-1)


def _superior_group(scored: Beliefs, code: Beliefs, reality: Beliefs, metric: Knowledge) -> np.ndarray:
    """Individuals (reps, n) whose knowledge beats the code's."""
    return knowledge(scored, reality[..., None, :], metric) > knowledge(code, reality, metric)[..., None]


# --- vectorised engine --------------------------------------------------------------------------------


@dataclass
class _Population:
    """State of ``reps`` independent organisations."""

    reality: Beliefs  # (reps, m)
    beliefs: Beliefs  # (reps, n, m)
    code: Beliefs  # (reps, m)
    rates: np.ndarray  # (1, n, 1) socialisation rate per individual

    @classmethod
    def start(cls, params: MarchParams, reps: int, rng: np.random.Generator) -> _Population:
        reality = 2 * rng.integers(0, 2, size=(reps, params.m), dtype=np.int8) - 1
        beliefs = random_beliefs(rng, (reps, params.n, params.m))
        code = np.zeros((reps, params.m), dtype=np.int8)
        return cls(reality, beliefs, code, params.socialisation_rates[None, :, None])

    def keep(self, rows: np.ndarray) -> None:
        self.reality, self.beliefs, self.code = self.reality[rows], self.beliefs[rows], self.code[rows]

    def knowledge(self, metric: Knowledge) -> np.ndarray:
        return knowledge(self.code, self.reality, metric)


    def period(self, params: MarchParams, rng: np.random.Generator) -> np.ndarray:
        """Advance one period; return the code's knowledge as measured within it, shape (reps,)."""
        rules = params.rules
        if params.p4 > 0:
            flip = rng.random(self.reality.shape) < params.p4
            self.reality = np.where(flip, -self.reality, self.reality).astype(np.int8)
        if params.p3 > 0:
            leave = rng.random(self.beliefs.shape[:2]) < params.p3
            self.beliefs[leave] = random_beliefs(rng, (int(leave.sum()), params.m))
        measured = self.knowledge(rules.knowledge)
        scored = act(self.beliefs, rules, rng)
        superior = _superior_group(scored, self.code, self.reality, rules.knowledge)
        u = rng.random(self.beliefs.shape, dtype=np.float32)
        self.beliefs = socialise(self.beliefs, self.code[:, None, :], self.rates, u, rules.belief_move)
        u_code = rng.random(self.code.shape)
        self.code = learn_code(self.code, scored, superior, params.p2, u_code, rules.code_move)
        return measured


def equilibrium_knowledge(params: MarchParams, reps: int, rng: np.random.Generator
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Run ``reps`` organisations to equilibrium (see :func:`absorbed`) or ``max_periods``.

    Returns the code's final knowledge, shape (reps,), and a bool array marking unfinished runs.
    Meant for the closed system (p3 = p4 = 0); with turnover or turbulence most runs hit the cap.
    """
    _check_count("reps", reps, 1)
    pop = _Population.start(params, reps, rng)
    out = np.empty(reps)
    index = np.arange(reps)
    for _ in range(params.max_periods):
        pop.period(params, rng)
        done = absorbed(pop.beliefs, pop.code, pop.reality, params.rules)
        out[index[done]] = pop.knowledge(params.rules.knowledge)[done]
        index = index[~done]
        pop.keep(~done)
        if index.size == 0:
            break
    out[index] = pop.knowledge(params.rules.knowledge)
    unfinished = np.zeros(reps, dtype=bool)
    unfinished[index] = True
    return out, unfinished


def knowledge_path(params: MarchParams, reps: int, periods: int, rng: np.random.Generator) -> np.ndarray:
    """Code knowledge measured in periods 1..``periods`` (after turbulence and turnover, before
    learning), shape (reps, periods)."""
    _check_count("reps", reps, 1)
    _check_count("periods", periods, 1)
    pop = _Population.start(params, reps, rng)
    return np.stack([pop.period(params, rng) for _ in range(periods)], axis=1)


# --- Mesa engine --------------------------------------------------------------------------------------


class Individual(mesa.Agent):
    """One member of the organisation: beliefs (m,) in {-1, 0, 1} and a socialisation rate p1."""

    def __init__(self, model: MarchModel, p1: float) -> None:
        super().__init__(model)
        self.p1 = p1
        self.beliefs = random_beliefs(model.rng, (model.params.m,))
        self.scored = self.beliefs

    def act(self) -> None:
        """Fix what this period's knowledge score and vote are based on."""
        self.scored = act(self.beliefs, self.model.params.rules, self.model.rng)

    def socialise(self) -> None:
        """Learn from the organisational code."""
        model = self.model
        u = model.rng.random(self.beliefs.shape)
        self.beliefs = socialise(self.beliefs, model.code, self.p1, u, model.params.rules.belief_move)


class MarchModel(mesa.Model):
    """March (1991) as a Mesa model: ``n`` :class:`Individual` agents and an organisational code."""

    def __init__(self, params: MarchParams | None = None, seed: int | None = None) -> None:
        super().__init__(seed=seed)
        self.params = params or MarchParams()
        self.reality = 2 * self.rng.integers(0, 2, size=self.params.m, dtype=np.int8) - 1
        self.code = np.zeros(self.params.m, dtype=np.int8)
        self.measured = 0.0
        for p1 in self.params.socialisation_rates:
            Individual(self, float(p1))

    @property
    def knowledge(self) -> float:
        """The code's knowledge of reality now (a fraction; see the module docstring)."""
        return float(knowledge(self.code, self.reality, self.params.rules.knowledge))

    @property
    def at_equilibrium(self) -> bool:
        """Nothing can change any more (see :func:`absorbed`)."""
        beliefs = np.stack([a.beliefs for a in self.agents])
        return bool(absorbed(beliefs, self.code, self.reality, self.params.rules))

    def step(self) -> None:
        """One period: turbulence, turnover, measure, superior group, socialise, code learns."""
        p = self.params
        flip = self.rng.random(p.m) < p.p4
        self.reality = np.where(flip, -self.reality, self.reality).astype(np.int8)
        for agent in list(self.agents):
            if self.rng.random() < p.p3:
                agent.remove()
                Individual(self, agent.p1)
        self.measured = self.knowledge
        members = list(self.agents)
        self.agents.do("act")
        scored = np.stack([a.scored for a in members])[None]
        superior = _superior_group(scored, self.code[None], self.reality[None], p.rules.knowledge)
        self.agents.do("socialise")
        u = self.rng.random((1, p.m))
        self.code = learn_code(self.code[None], scored, superior, p.p2, u, p.rules.code_move)[0]
        self.running = not (p.p3 == 0 and p.p4 == 0 and self.at_equilibrium)

    def run_to_equilibrium(self) -> tuple[float, bool]:
        """Step until equilibrium or ``max_periods``; return the code's knowledge and whether it finished."""
        while self.running and self.steps < self.params.max_periods:
            self.step()
        return self.knowledge, not self.running


# --- figure tables --------------------------------------------------------------------------------------

FIGURE1_RATES = (0.1, 0.5, 0.9)
#: Equilibrium code knowledge (score metric, closed system) of a 10,000-replication re-implementation of
#: March's Figure 1: {(p1, p2): knowledge}. tests/test_march1991.py and docs/validation.md check against it.
PUBLISHED_FIGURE1: dict[tuple[float, float], float] = {
    (0.1, 0.1): 0.863, (0.5, 0.1): 0.799, (0.9, 0.1): 0.813,
    (0.1, 0.5): 0.954, (0.5, 0.5): 0.811, (0.9, 0.5): 0.742,
    (0.1, 0.9): 0.972, (0.5, 0.9): 0.840, (0.9, 0.9): 0.728,
}
FIGURE2_FAST = tuple(range(0, 51, 5))
FIGURE4_TURNOVER = tuple(round(0.05 * i, 2) for i in range(11))
FIGURE4_P1 = (0.1, 0.5, 0.9)
FIGURE4_PERIOD = 20
FIGURE5_TURNOVER = (0.0, 0.1)
FIGURE5_PERIODS = 100


def summarise(values: np.ndarray) -> dict[str, float]:
    """Mean and t-based 95 % confidence interval of a sample, with its size."""
    reps = values.size
    mean = float(values.mean())
    half = float(t_half_width(values.std(ddof=1), reps)) if reps > 1 else np.nan
    return {"knowledge_mean": mean, "knowledge_ci_low": mean - half, "knowledge_ci_high": mean + half,
            "reps": reps}


def _grid(points: Sequence[dict], run: Callable[[dict, np.random.Generator], list[dict]], seed: int,
          progress: bool) -> pd.DataFrame:
    """Run each parameter point with its own generator spawned from ``seed``; one table of all rows."""
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(points))]
    rows: list[dict] = []
    for point, rng in tqdm(list(zip(points, rngs, strict=True)), disable=not progress, unit="point"):
        rows.extend(run(point, rng))
    return pd.DataFrame(rows)


def _equilibrium_table(base: MarchParams, points: Sequence[dict], reps: int, seed: int,
                       progress: bool) -> pd.DataFrame:
    def run(point: dict, rng: np.random.Generator) -> list[dict]:
        values, unfinished = equilibrium_knowledge(replace(base, **point), reps, rng)
        return [{**point, **summarise(values), "unfinished": int(unfinished.sum())}]

    return _grid(points, run, seed, progress)


def figure1(reps: int = 1000, seed: int = 0, rules: Rules | None = None, progress: bool = False,
            rates: Sequence[float] = FIGURE1_RATES) -> pd.DataFrame:
    """Figure 1: equilibrium code knowledge by socialisation rate p1 and code learning rate p2
    (closed system). Columns p1, p2, knowledge_mean, knowledge_ci_low, knowledge_ci_high, reps,
    unfinished."""
    points = [{"p1": p1, "p2": p2} for p2 in rates for p1 in rates]
    return _equilibrium_table(MarchParams(rules=rules or Rules()), points, reps, seed, progress)


def figure2(reps: int = 1000, seed: int = 0, rules: Rules | None = None, progress: bool = False,
            n_fast: Sequence[int] = FIGURE2_FAST) -> pd.DataFrame:
    """Figure 2: equilibrium code knowledge by the number of fast learners (p1 = 0.9) among the 50,
    the rest slow (p1 = 0.1), p2 = 0.5. Columns n_fast plus those of :func:`figure1`."""
    base = MarchParams(p1=0.1, p1_fast=0.9, p2=0.5, rules=rules or Rules())
    return _equilibrium_table(base, [{"n_fast": k} for k in n_fast], reps, seed, progress)


def _path_table(base: MarchParams, points: Sequence[dict], reps: int, periods: int, seed: int,
                progress: bool, keep: Callable[[int], bool]) -> pd.DataFrame:
    def run(point: dict, rng: np.random.Generator) -> list[dict]:
        path = knowledge_path(replace(base, **point), reps, periods, rng)
        return [{**point, "period": t, **summarise(path[:, t - 1])} for t in range(1, periods + 1) if keep(t)]

    return _grid(points, run, seed, progress)


def figure4(reps: int = 1000, seed: int = 0, rules: Rules | None = None, progress: bool = False,
            turnover: Sequence[float] = FIGURE4_TURNOVER, p1_values: Sequence[float] = FIGURE4_P1,
            period: int = FIGURE4_PERIOD) -> pd.DataFrame:
    """Figure 4 (turnover): code knowledge in period 20 by turnover p3 (0 to 0.5), for slow to fast
    socialisation p1, p2 = 0.5. Columns p1, p3, period and the knowledge columns of :func:`figure1`."""
    points = [{"p1": p1, "p3": p3} for p1 in p1_values for p3 in turnover]
    base = MarchParams(p2=0.5, rules=rules or Rules())
    return _path_table(base, points, reps, period, seed, progress, lambda t: t == period)


def figure5(reps: int = 1000, seed: int = 0, rules: Rules | None = None, progress: bool = False,
            turnover: Sequence[float] = FIGURE5_TURNOVER, periods: int = FIGURE5_PERIODS) -> pd.DataFrame:
    """Figure 5 (turbulence): code knowledge over periods 1..100 with p4 = 0.02, p1 = p2 = 0.5,
    without and with turnover (p3 = 0, 0.1). Columns p3, period and the knowledge columns."""
    base = MarchParams(p1=0.5, p2=0.5, p4=0.02, rules=rules or Rules())
    return _path_table(base, [{"p3": p3} for p3 in turnover], reps, periods, seed, progress, lambda t: True)


FIGURES: dict[str, Callable[..., pd.DataFrame]] = {"1": figure1, "2": figure2, "4": figure4, "5": figure5}
