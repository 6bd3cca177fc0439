"""The leadership view: a few numbers per organisation and one sentence saying what happened.

Everything here is computed from a :class:`~orgsim.dashboard.lockstep.Snapshot`. Recovery is the
twin-based recovery of ``orgsim.recovery``: the run against its no-shock twin (``twins.py``), back
within 10 % of the twin's level (30-tick averages) and held there for ``HOLD`` ticks, before the next
shock. A live run adds one caveat: a recovery is only *confirmed* once it has held for ``HOLD`` ticks,
and a shock that has not hurt yet may still do so, so the page says "too early to tell" until then.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from orgsim.dashboard.lockstep import SHOCK_NOUNS, ShockMark, Snapshot
from orgsim.dashboard.settings import TICKS_PER_UNIT
from orgsim.recovery import CENSORED, NOT_HIT, RECOVERY_MEASURES, RULE, recovery

#: Ticks a recovery must hold before it counts (orgsim.recovery's rule).
HOLD: int = RULE.hold
#: Ticks averaged for "now" figures (failure demand share, alignment now, value rate).
RECENT = 20


def duration(ticks: float, unit: str) -> str:
    """``ticks`` as a duration in ``unit`` ('days' or 'weeks'), e.g. '12 days', '2.4 weeks' (less than
    a week in days)."""
    if ticks < TICKS_PER_UNIT[unit]:
        unit = "days"  # "3 days", not "0.6 weeks"
    value = ticks / TICKS_PER_UNIT[unit]
    text = f"{value:.0f}" if value >= 10 or float(value).is_integer() else f"{value:.1f}"
    return f"{text} {unit[:-1] if text == '1' else unit}"


def when(tick: int, unit: str) -> str:
    """The moment ``tick`` in ``unit``, e.g. 'day 150' or 'week 30'."""
    return f"{unit[:-1]} {tick // TICKS_PER_UNIT[unit]}"


@dataclass(frozen=True)
class Recovery:
    """How one organisation came back from one shock, as far as can be told now."""

    status: str  # "no twin", "too early", "not yet", "no dip", "recovered", "cut short", "unclear"
    ticks: float  # ticks to recover (0: no dip); for "not yet", ticks observed since the shock
    loss: float  # the measure lost against the twin, summed over the window (measure x ticks; NaN if unknown)

    @property
    def confirmed(self) -> bool:
        return self.status in ("no dip", "recovered")

    def text(self, unit: str) -> str:
        """A few words for a card or table cell."""
        return {
            "no twin": "not measured (unplanned)",
            "too early": "too early to tell",
            "not yet": f"not yet ({duration(self.ticks, unit)} so far)",
            "no dip": "no dip",
            "recovered": duration(self.ticks, unit),
            "cut short": "not before the next shock",
            "unclear": "unclear (the next shock came)",
        }[self.status]


def recoveries(frame: pd.DataFrame, twins: Sequence[pd.DataFrame | None], shocks: tuple[ShockMark, ...],
               tick: int, measure: str = "value_delivered") -> list[Recovery]:
    """One :class:`Recovery` per shock of an organisation's run (``frame``: its per-tick table up to ``tick``),
    each against its no-shock twin (``twins``, None for a random shock), up to the next shock with a twin."""
    out = []
    twinned = [i for i, twin in enumerate(twins) if twin is not None]
    for i, (shock, twin) in enumerate(zip(shocks, twins, strict=True)):
        later = [shocks[j].tick for j in twinned if j > i]
        end, last = (later[0], False) if later else (tick, True)
        observed = end - shock.tick
        if twin is None:
            out.append(Recovery("no twin", math.nan, math.nan))
            continue
        if observed <= 0:
            out.append(Recovery("too early" if last else "unclear", 0.0, math.nan))
            continue
        r = recovery(frame[measure].to_numpy(), twin[measure].to_numpy(), shock.tick, end,
                     better=RECOVERY_MEASURES.get(measure, "higher"))
        if r["outcome"] == NOT_HIT:
            status, ticks = ("too early" if last and observed < HOLD else "no dip"), 0.0
        elif r["outcome"] == CENSORED:
            status, ticks = ("not yet" if last else "cut short"), float(observed)
        else:
            status, ticks = "recovered", r["time"]
        out.append(Recovery(status, ticks, r["area"]))
    return out


@dataclass(frozen=True)
class Kpis:
    """The four numbers on an organisation's card."""

    value_total: float  # value delivered since the start (value units)
    value_rate: float  # value delivered per unit of time, last RECENT ticks
    recovery: Recovery | None  # from the last shock (None before any shock)
    failure_share: float  # share of arriving demand that is failure demand (Seddon), last RECENT ticks
    alignment: float  # alignment now, mean of the last RECENT ticks, in [0, 1]


def kpis(snap: Snapshot) -> tuple[Kpis, Kpis]:
    """The card numbers of the left and right organisation."""
    unit_ticks = TICKS_PER_UNIT[snap.settings.time_unit]
    out = []
    for frame, twins in zip(snap.frames, snap.twins, strict=True):
        recent = frame.tail(RECENT)
        rec = [r for r in recoveries(frame, twins, snap.shocks, snap.tick) if r.status != "no twin"]
        out.append(Kpis(
            value_total=float(frame.value_delivered.sum()),
            value_rate=float(recent.value_delivered.mean()) * unit_ticks if len(recent) else math.nan,
            recovery=rec[-1] if rec else None,
            failure_share=float(recent.failure_demand.mean()) if len(recent) else math.nan,
            alignment=float(recent.alignment.mean()) if len(recent) else math.nan,
        ))
    return out[0], out[1]


def shock_noun(shock: ShockMark) -> str:
    """'the new regulation', or 'the unplanned customer needs shift' for a random one."""
    return f"the {'unplanned ' if shock.source == 'world' else ''}{SHOCK_NOUNS[shock.layer]}"


def verdict(snap: Snapshot) -> str:
    """One plain-language sentence stating what happened so far, computed from the numbers."""
    unit = snap.settings.time_unit
    if snap.tick == 0:
        return ("Both organisations are about to receive exactly the same customer demand. "
                "Press Play, then hit them with a shock.")
    a, b = snap.settings.nouns()
    ka, kb = kpis(snap)
    measured = [s for s in snap.shocks if s.source != "world"]  # random shocks have no twin to compare with
    if not measured:
        return _value_sentence(f"After {duration(snap.tick, unit)} of identical demand", a, b, ka, kb)
    last = measured[-1]
    ra, rb = ka.recovery, kb.recovery
    since = f"after {shock_noun(last)} in {when(last.tick, unit)}"
    elapsed = duration(snap.tick - last.tick, unit)
    if ra.confirmed and rb.confirmed:
        if ra.status == rb.status == "no dip":
            return f"Neither organisation lost value {since}."
        if "no dip" in (ra.status, rb.status):
            held, hit = (a, b) if ra.status == "no dip" else (b, a)
            took = rb if held == a else ra
            return f"{_cap(since)}, {held} kept delivering while {hit} needed {duration(took.ticks, unit)} to recover."
        (fast, rf), (slow, rs) = sorted([(a, ra), (b, rb)], key=lambda x: x[1].ticks)
        if rf.ticks == rs.ticks:
            return f"{_cap(since)}, both organisations recovered in {duration(rf.ticks, unit)}."
        return (f"{_cap(since)}, {fast} recovered in {duration(rf.ticks, unit)}, "
                f"{slow} in {duration(rs.ticks, unit)}.")
    if ra.confirmed or rb.confirmed:
        good, bad = (a, b) if ra.confirmed else (b, a)
        rgood = ra if ra.confirmed else rb
        done = "kept delivering" if rgood.status == "no dip" else f"recovered in {duration(rgood.ticks, unit)}"
        return f"{_cap(since)}, {good} {done}; {bad} has not recovered after {elapsed}."
    if "not yet" in (ra.status, rb.status) and snap.tick - last.tick >= HOLD:
        since_shock = [float(f.value_delivered.iloc[last.tick:].sum()) for f in snap.frames]
        gap = _more((a, since_shock[0]), (b, since_shock[1]))
        return f"{_cap(elapsed)} {since}, neither organisation has recovered yet{gap and '; since then ' + gap}."
    ago = "just" if snap.tick == last.tick else f"{elapsed} ago,"
    return (f"{_cap(shock_noun(last))} hit both organisations {ago} in {when(last.tick, unit)}: "
            "too early to tell who recovers faster.")


def _value_sentence(lead: str, a: str, b: str, ka: Kpis, kb: Kpis) -> str:
    gap = _more((a, ka.value_total), (b, kb.value_total))
    if not gap:
        if ka.value_total <= 0 and kb.value_total <= 0:
            return f"{lead}, neither organisation has delivered anything yet."
        return f"{lead}, both organisations have delivered about the same value ({ka.value_total:,.0f})."
    best, worst = (ka, kb) if ka.value_total >= kb.value_total else (kb, ka)
    return (f"{lead}, {gap}, with {best.failure_share:.0%} of its recent demand customers coming back after a "
            f"failure, against {worst.failure_share:.0%}.")


def _more(a: tuple[str, float], b: tuple[str, float]) -> str:
    """'the responsive organisation has delivered 12% more value than the silo'd organisation', or ''
    when neither delivered anything or they are within 3 % of each other."""
    (best, top), (worst, low) = sorted([a, b], key=lambda x: -x[1])
    if top <= 0:
        return ""
    if low <= 0:
        return f"{best} has delivered all of the value"
    more = top / low - 1
    return f"{best} has delivered {more:.0%} more value than {worst}" if more >= 0.03 else ""


def _cap(text: str) -> str:
    return text[0].upper() + text[1:]


@dataclass(frozen=True)
class AdaptationRow:
    """One shock in the adaptation table: what and when, and how each organisation came back."""

    shock: ShockMark
    value: tuple[Recovery, Recovery]  # value delivered
    alignment: tuple[Recovery, Recovery]


def adaptation_rows(snap: Snapshot) -> list[AdaptationRow]:
    """Recovery of value delivered and alignment, per shock so far, for both organisations."""
    per_org = [
        {m: recoveries(frame, twins, snap.shocks, snap.tick, m) for m in ("value_delivered", "alignment")}
        for frame, twins in zip(snap.frames, snap.twins, strict=True)
    ]
    return [
        AdaptationRow(
            shock,
            (per_org[0]["value_delivered"][i], per_org[1]["value_delivered"][i]),
            (per_org[0]["alignment"][i], per_org[1]["alignment"][i]),
        )
        for i, shock in enumerate(snap.shocks)
    ]
