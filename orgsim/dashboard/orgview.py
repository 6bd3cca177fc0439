"""The organisation view: every member a dot, grouped where they sit or where they work, coloured by skill.

A silo'd organisation is drawn by home department (its structure), a responsive one by what each
member works on now (its teams); a hybrid by whichever holds most of its capacity. A dot's colour is
the member's strongest capability, so silos show as single-colour blocks and swarms as mixed ones;
a hollow dot is a member moved by a re-organisation who is not productive yet.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Patch

from orgsim.dashboard.charts import DPI, LiveFigure, side_colours
from orgsim.dashboard.lockstep import Snapshot
from orgsim.dashboard.settings import Settings
from orgsim.model import apportion

CAPABILITY_COLOURS = {
    "discovery": "#4e79a7", "design": "#f28e2b", "build": "#59a14f",
    "data": "#b07aa1", "compliance": "#e15759", "operations": "#9c755f",
}
_OTHER = ["#76b7b2", "#edc948", "#ff9da7", "#bab0ac", "#86bcb6", "#d37295"]
GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))
CELL = 1.0  # width and height of one group's cell, in axes units
FILL = 0.38  # radius of the largest group, in cells


def capability_colours(names: tuple[str, ...]) -> list[str]:
    """A colour per capability: the fixed ones for the default capabilities, then a cycle."""
    extra = iter(_OTHER * (len(names) // len(_OTHER) + 1))
    return [CAPABILITY_COLOURS.get(n) or next(extra) for n in names]


def grid_shape(groups: int) -> tuple[int, int]:
    """Rows and columns of cells for ``groups`` groups (wider than tall)."""
    cols = math.ceil(math.sqrt(groups * 1.5))
    return math.ceil(groups / cols), cols


def group_by(fluidity: float) -> str:
    """'home' (departments) when most capacity stays in home units, else 'focus' (current work)."""
    return "home" if fluidity < 0.5 else "focus"


def layout(groups: np.ndarray, primary: np.ndarray, n_groups: int, room_for: int = 1) -> tuple[np.ndarray, float]:
    """Dot positions (N, 2) and the spacing between dots, in axes units.

    Each group fills a sunflower spiral in its own cell of a grid; members of a group are ordered by
    their strongest capability, so the colours form rings. Spacing is the same for every group,
    chosen so that the largest group (or ``room_for`` dots, if more) fills ``FILL`` of a cell.
    """
    rows, cols = grid_shape(n_groups)
    counts = np.bincount(groups, minlength=n_groups)
    spacing = FILL * CELL / math.sqrt(max(int(counts.max()), room_for, 1))
    order = np.lexsort((primary, groups))
    rank = np.empty(len(groups), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank[order] = np.arange(len(groups)) - starts[groups[order]]
    radius = spacing * np.sqrt(rank + 0.5)
    angle = rank * GOLDEN_ANGLE
    centre_x = (groups % cols + 0.5) * CELL
    centre_y = (rows - 1 - groups // cols + 0.6) * CELL  # room for a label under each cell
    return np.column_stack([centre_x + radius * np.cos(angle), centre_y + radius * np.sin(angle)]), spacing


class OrgView(LiveFigure):
    """Both organisations' members, side by side, with a ring per group showing how many people
    today's demand needs there."""

    def __init__(self, settings: Settings, capabilities: tuple[str, ...], width: float = 12.0,
                 height: float = 5.0) -> None:
        fig = Figure(figsize=(width, height), dpi=DPI, facecolor="white")
        super().__init__(fig)
        self.capabilities = capabilities
        self.colours = np.array(capability_colours(capabilities))
        self.rows, self.cols = grid_shape(len(capabilities))
        self.modes = [group_by(side.design().fluidity) for side in settings.sides]
        axes = fig.subplots(1, 2)
        fig.subplots_adjust(left=0.01, right=0.99, top=0.9, bottom=0.17, wspace=0.04)
        self.axes = list(axes)
        self.dots, self.rings = [], []
        centres = [self._centre(k) for k in range(len(capabilities))]
        for ax, name, colour, mode in zip(axes, settings.names(), side_colours(settings.sides), self.modes,
                                          strict=True):
            ax.set_xlim(0, self.cols * CELL)
            ax.set_ylim(0, self.rows * CELL)
            ax.set_aspect("equal")
            ax.set_axis_off()
            how = "by home department" if mode == "home" else "by what they work on now"
            ax.set_title(f"{name}: people {how}", color=colour, fontsize=13, fontweight="bold")
            rings = [ax.add_patch(Circle(c, 0.0, facecolor="#f1f1f1", edgecolor="#9a9a9a", ls="--", lw=1.2))
                     for c in centres]
            dots = ax.scatter([], [], s=30, linewidths=1.2, zorder=3)
            for (x, y), name in zip(centres, capabilities, strict=True):
                ax.text(x, y - 0.52 * CELL, name, ha="center", va="center", fontsize=11, color="#333333")
            self.dots.append(dots)
            self.rings.append(rings)
            self.animate(*rings, dots)
        handles = [Patch(color=c, label=n) for n, c in zip(capabilities, self.colours, strict=True)]
        handles.append(Patch(facecolor="white", edgecolor="#555555", label="moved, not yet productive"))
        handles.append(Patch(facecolor="#f1f1f1", edgecolor="#9a9a9a", ls="--", label="people today's work needs"))
        fig.legend(handles=handles, loc="lower center", ncols=4, frameon=False, fontsize=11,
                   title="colour = strongest skill", title_fontsize=10)

    def _centre(self, k: int) -> tuple[float, float]:
        return (k % self.cols + 0.5) * CELL, (self.rows - 1 - k // self.cols + 0.6) * CELL

    def update(self, snap: Snapshot) -> None:
        """Place and colour every member as they are in ``snap``; size the rings to today's need."""
        with self._lock:
            px_per_unit = self.axes[0].bbox.width / (self.cols * CELL)
            for side, mode, members in zip(range(2), self.modes, snap.members, strict=True):
                groups = members[mode]
                primary = np.argmax(members["skills"], axis=1)
                needed = apportion(len(groups), snap.need)
                xy, spacing = layout(groups, primary, len(self.capabilities), int(needed.max()))
                colours = self.colours[primary]
                dots = self.dots[side]
                dots.set_offsets(xy)
                dots.set_facecolors(np.where(members["onboarding"] > 0, "white", colours))
                dots.set_edgecolors(colours)
                dots.set_sizes(np.full(len(xy), (0.8 * spacing * px_per_unit * 72 / DPI) ** 2))
                for ring, n in zip(self.rings[side], needed, strict=True):
                    ring.set_radius(spacing * (math.sqrt(n) + 0.5) if n else 0.0)
