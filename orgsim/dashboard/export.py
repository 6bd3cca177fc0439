"""Downloads: the current run's per-tick table (CSV) and the current charts (PNG)."""

from __future__ import annotations

import pandas as pd

from orgsim.dashboard.lockstep import Snapshot


def per_tick_table(snap: Snapshot) -> pd.DataFrame:
    """Long per-tick table of both runs: organisation, side, tick, every measure (``MEASURES``), and
    the shocks that hit before that tick's demand arrived (``layer:magnitude:source``, ``;``-separated)."""
    hits: dict[int, list[str]] = {}
    for s in snap.shocks:
        hits.setdefault(s.tick, []).append(f"{s.layer}:{s.magnitude:.2f}:{s.source}")
    frames = []
    for side, name, frame in zip(("left", "right"), snap.names, snap.frames, strict=True):
        df = frame.reset_index()
        df.insert(0, "side", side)
        df.insert(0, "organisation", name)
        df["shocks_applied"] = [";".join(hits.get(t, [])) for t in df["tick"]]
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def csv_bytes(snap: Snapshot) -> bytes:
    """``per_tick_table`` as UTF-8 CSV."""
    return per_tick_table(snap).to_csv(index=False).encode("utf-8")


def file_stem(snap: Snapshot) -> str:
    """A download name that says what it holds, e.g. ``orgsim-siloed-vs-responsive-seed0-tick120``."""
    kinds = "-vs-".join(side.kind for side in snap.settings.sides)
    return f"orgsim-{kinds}-seed{snap.settings.seed}-tick{snap.tick}"
