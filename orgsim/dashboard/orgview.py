"""The organisation view: every member a dot, where it works now, coloured by skill.

Members of fixed departments (the silo'd way) are drawn inside their department, one cluster per
department, with the pile of demands waiting there (the fixed-stream demands whose next phase is that
department) under it and grey arrows for the hand-offs between departments (the order a demand is
handed on: customer capabilities in list order, compliance last). Members of the fluid pool (the
responsive way) are drawn in the team they are in now: one small cluster per team around the demand
it works on (a black square) on a shaded disc (the team), so teams form and dissolve as play runs;
fluid members in no team stand apart in a row at the bottom. A hybrid shows both. A dot's colour is
the member's strongest capability, so departments show as single-colour blocks and teams as mixed
ones; a hollow dot is a member moved by a re-organisation who is not productive yet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch, Patch

from orgsim.capabilities import Capabilities
from orgsim.dashboard.charts import DPI, LiveFigure, side_colours
from orgsim.dashboard.lockstep import Snapshot
from orgsim.dashboard.settings import Settings
from orgsim.design import OrgDesign
from orgsim.model import apportion

CAPABILITY_COLOURS = {
    "discovery": "#4e79a7", "design": "#f28e2b", "build": "#59a14f",
    "data": "#b07aa1", "compliance": "#e15759", "operations": "#9c755f",
}
_OTHER = ["#76b7b2", "#edc948", "#ff9da7", "#bab0ac", "#86bcb6", "#d37295"]
GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))
CELL = 1.0  # width and height of one department's cell, in axes units
FILL = 0.3  # radius of the largest department, in cells
PILE_COLUMNS = 12  # demands per row of a department's pile
PILE_ROWS = 3  # rows of a pile drawn (one square a demand; a longer queue is cut off)
PILE_STEP = 0.05  # distance between two demands of a pile, in cells
FREE_STRIP = 0.22  # share of the team area's height kept for members in no team
DEMAND_COLOUR = "#222222"
QUEUE_COLOUR = "#8a8a8a"
HANDOFF_COLOUR = "#b0b0b0"
TEAM_COLOUR = "#dfe7f1"


def capability_colours(names: tuple[str, ...]) -> list[str]:
    """A colour per capability: the fixed ones for the default capabilities, then a cycle."""
    extra = iter(_OTHER * (len(names) // len(_OTHER) + 1))
    return [CAPABILITY_COLOURS.get(n) or next(extra) for n in names]


def grid_shape(groups: int) -> tuple[int, int]:
    """Rows and columns of cells for ``groups`` groups (wider than tall)."""
    cols = math.ceil(math.sqrt(groups * 1.5))
    return math.ceil(groups / cols), cols


def ranks(groups: np.ndarray, primary: np.ndarray, n_groups: int) -> np.ndarray:
    """Each member's place in its group (0, 1, ...), members of a group ordered by strongest skill."""
    counts = np.bincount(groups, minlength=n_groups)
    order = np.lexsort((primary, groups))
    rank = np.empty(len(groups), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank[order] = np.arange(len(groups)) - starts[groups[order]]
    return rank


def sunflower(centres: np.ndarray, rank: np.ndarray, spacing: float, skip: int = 0) -> np.ndarray:
    """(N, 2) positions on a sunflower spiral around each member's ``centres`` row, by ``rank``; the
    first ``skip`` places are left empty (room for a demand at the centre)."""
    place = rank + skip
    radius = spacing * np.sqrt(place + 0.5)
    angle = place * GOLDEN_ANGLE
    return centres + np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])


def cell_centres(n: int, cols: int, rows: int) -> np.ndarray:
    """(n, 2) centres of the first ``n`` cells of a ``rows`` x ``cols`` grid, filled row by row from the top."""
    k = np.arange(n)
    return np.column_stack([(k % cols + 0.5) * CELL, (rows - 1 - k // cols + 0.62) * CELL])


@dataclass(frozen=True)
class Box:
    """A rectangle of an axes, in axes units."""

    x: float
    y: float
    width: float
    height: float


def team_layout(team: np.ndarray, primary: np.ndarray, box: Box) -> tuple[np.ndarray, np.ndarray, float]:
    """Positions of fluid members: in teams, and apart in a strip at the bottom of ``box`` if free.

    ``team`` (M,) is the uid of each member's demand (-1: in no team). Teams are laid out in a grid of
    slots in uid order (oldest demand first), each a sunflower around its demand. Returns member
    positions (M, 2), demand positions (teams, 2) and the spacing between dots.
    """
    in_team = team >= 0
    uids, which = np.unique(team[in_team], return_inverse=True)
    n_teams = len(uids)
    top = Box(box.x, box.y + FREE_STRIP * box.height, box.width, (1 - FREE_STRIP) * box.height)
    xy = np.zeros((len(team), 2))
    spacing = math.inf
    demands = np.zeros((0, 2))
    if n_teams:
        cols = max(1, min(n_teams, math.ceil(math.sqrt(n_teams * top.width / top.height))))
        rows = math.ceil(n_teams / cols)
        slot_w, slot_h = top.width / cols, top.height / rows
        k = np.arange(n_teams)
        demands = np.column_stack([top.x + (k % cols + 0.5) * slot_w, top.y + top.height - (k // cols + 0.5) * slot_h])
        largest = int(np.bincount(which).max())
        spacing = 0.45 * min(slot_w, slot_h) / math.sqrt(largest + 1.5)
        xy[in_team] = sunflower(demands[which], ranks(which, primary[in_team], n_teams), spacing, skip=1)
    free = np.flatnonzero(~in_team)
    if len(free):
        strip_h = FREE_STRIP * box.height * 0.7
        cols = max(1, math.ceil(math.sqrt(len(free) * box.width / strip_h)))
        step = min(box.width / cols, strip_h / math.ceil(len(free) / cols))
        cols = max(1, int(box.width / step))
        k = np.arange(len(free))[np.argsort(primary[free], kind="stable")]
        order = np.empty(len(free), dtype=np.int64)
        order[k] = np.arange(len(free))
        xy[free] = np.column_stack([box.x + (order % cols + 0.5) * step,
                                    box.y + 0.3 * FREE_STRIP * box.height + strip_h - (order // cols + 0.5) * step])
        spacing = min(spacing, step)
    return xy, demands, (0.1 if math.isinf(spacing) else spacing)


def pile(counts: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """(sum of shown, 2) positions of each department's waiting demands, in rows under its cluster
    (at most ``PILE_COLUMNS`` x ``PILE_ROWS`` per department)."""
    shown = np.minimum(counts, PILE_COLUMNS * PILE_ROWS)
    dept = np.repeat(np.arange(len(counts)), shown)
    k = np.arange(int(shown.sum())) - np.repeat(np.cumsum(shown) - shown, shown)
    x = centres[dept, 0] + ((k % PILE_COLUMNS) - (PILE_COLUMNS - 1) / 2) * PILE_STEP * CELL
    y = centres[dept, 1] - (FILL + 0.06 + (k // PILE_COLUMNS) * PILE_STEP) * CELL
    return np.column_stack([x, y])


def _points(ax) -> float:
    """Points per axes unit along x (arrow ends are shrunk in points)."""
    fig = ax.figure
    x0, x1 = ax.get_xlim()
    return ax.get_position().width * fig.get_figwidth() * 72 / (x1 - x0)


def has_departments(design: OrgDesign) -> bool:
    """True if some members of this design stay in fixed departments (a gate's compliance staff always do)."""
    return design.fluidity < 1.0 or design.constraints == "gate"


class _Side:
    """The artists of one organisation's axes and where its departments and team area are."""

    def __init__(self, ax, design: OrgDesign, name: str, colour: str, capabilities: tuple[str, ...]) -> None:
        n_caps = len(capabilities)
        self.flow = Capabilities(capabilities).flow_order.tolist()
        self.handoffs_drawn = False
        self.ax = ax
        self.departments = has_departments(design)
        self.teams = design.fluidity > 0.0
        cells = n_caps * self.departments + self.teams
        self.rows, self.cols = grid_shape(n_caps) if cells in (1, n_caps) else grid_shape(cells)
        ax.set_xlim(0, self.cols * CELL)
        ax.set_ylim(0, self.rows * CELL)
        ax.set_aspect("equal")
        ax.set_axis_off()
        how = {(True, False): "in their departments", (False, True): "in the teams they are in now"}
        ax.set_title(f"{name}: people {how.get((self.departments, self.teams), 'in departments and teams')}",
                     color=colour, fontsize=13, fontweight="bold")
        self.centres = cell_centres(n_caps + 1, self.cols, self.rows)
        self.rings = []
        if self.departments:
            for (x, y), cap in zip(self.centres[:n_caps], capabilities, strict=True):
                self.rings.append(ax.add_patch(Circle((x, y), 0.0, facecolor="#f1f1f1", edgecolor="#9a9a9a",
                                                      ls="--", lw=1.2)))
                ax.text(x, y - 0.53 * CELL, cap, ha="center", va="center", fontsize=10, color="#333333")
        if self.teams and cells == 1:
            self.box = Box(0.0, 0.0, self.cols * CELL, self.rows * CELL)
        else:
            x, y = self.centres[n_caps]
            self.box = Box(x - 0.48 * CELL, y - 0.6 * CELL, 0.96 * CELL, 0.98 * CELL)
        self.hulls = ax.scatter([], [], s=0, color=TEAM_COLOUR, linewidths=0, zorder=1)
        self.queue = ax.scatter([], [], s=9, marker="s", color=QUEUE_COLOUR, zorder=2)
        self.demands = ax.scatter([], [], s=22, marker="s", color=DEMAND_COLOUR, zorder=2)
        self.dots = ax.scatter([], [], s=30, linewidths=1.2, zorder=3)
        # No text moves: drawing text is slow (two lines of counts would double the redraw time), so the
        # counts go in ``OrgView.caption``, which the page shows under the image.
        self.artists = [*self.rings, self.hulls, self.queue, self.demands, self.dots]

    def draw_handoffs(self, staffed: np.ndarray) -> None:
        """Arrows for the hand-offs between the ``staffed`` departments (bool per capability), in flow order;
        drawn once a run (they are part of the background)."""
        flow = [k for k in self.flow if staffed[k]]
        shrink = 0.36 * CELL * _points(self.ax)
        for a, b in zip(flow[:-1], flow[1:], strict=True):
            self.ax.add_patch(FancyArrowPatch(self.centres[a], self.centres[b], arrowstyle="-|>", mutation_scale=16,
                                              shrinkA=shrink, shrinkB=shrink, color=HANDOFF_COLOUR, lw=2.0,
                                              zorder=1, connectionstyle="arc3,rad=0.12"))
        self.handoffs_drawn = True


class OrgView(LiveFigure):
    """Both organisations' members, side by side: departments with their piles of waiting demands,
    teams around their demands, and a ring per department showing how many people today's demand
    needs there."""

    def __init__(self, settings: Settings, capabilities: tuple[str, ...], width: float = 12.0,
                 height: float = 5.0) -> None:
        fig = Figure(figsize=(width, height), dpi=DPI, facecolor="white")
        super().__init__(fig)
        self.capabilities = capabilities
        self.colours = np.array(capability_colours(capabilities))
        axes = fig.subplots(1, 2)
        fig.subplots_adjust(left=0.01, right=0.99, top=0.9, bottom=0.17, wspace=0.04)
        self.sides = [
            _Side(ax, side.design(), name, colour, capabilities)
            for ax, side, name, colour in zip(axes, settings.sides, settings.names(), side_colours(settings.sides),
                                              strict=True)
        ]
        for side in self.sides:
            self.animate(*side.artists)
        self.names = settings.names()
        self._formed: list[dict[int, int]] = [{}, {}]  # per side: team (its demand's uid) -> tick first drawn
        self.caption = ""
        handles = [Patch(color=c, label=n) for n, c in zip(capabilities, self.colours, strict=True)]
        handles.append(Patch(facecolor="white", edgecolor="#555555", label="moved, not yet productive"))
        if any(s.departments for s in self.sides):
            handles.append(Patch(facecolor="#f1f1f1", edgecolor="#9a9a9a", ls="--", label="people today's work needs"))
            handles.append(Line2D([], [], ls="", marker="s", color=QUEUE_COLOUR, label="demand waiting there"))
            handles.append(Line2D([], [], color=HANDOFF_COLOUR, lw=2, marker=">", label="hand-off"))
        if any(s.teams for s in self.sides):
            handles.append(Line2D([], [], ls="", marker="s", color=DEMAND_COLOUR, label="demand a team works on"))
            handles.append(Patch(facecolor=TEAM_COLOUR, label="a team"))
        fig.legend(handles=handles, loc="lower center", ncols=6, frameon=False, fontsize=10,
                   title="colour = strongest skill", title_fontsize=10)

    def update(self, snap: Snapshot) -> None:
        """Place and colour every member as they are in ``snap``; size rings and piles to today's need
        and queues."""
        n_caps = len(self.capabilities)
        sentences: list[str] = []
        with self._lock:
            for index, side, members in zip(range(2), self.sides, snap.members, strict=True):
                px_per_unit = side.ax.bbox.width / (side.cols * CELL)
                primary = np.argmax(members["skills"], axis=1)
                fluid = members["fluid"]
                xy = np.zeros((len(primary), 2))
                spacing = math.inf
                if side.departments:
                    fixed = ~fluid
                    needed = apportion(int(fixed.sum()), snap.need)
                    home = members["home"][fixed]
                    room = max(int(np.bincount(home, minlength=n_caps).max(initial=0)), int(needed.max()), 1)
                    spacing = FILL * CELL / math.sqrt(room)
                    xy[fixed] = sunflower(side.centres[home], ranks(home, primary[fixed], n_caps), spacing)
                    if not side.handoffs_drawn:
                        side.draw_handoffs(np.bincount(home, minlength=n_caps) > 0)
                        self.invalidate()
                    for ring, n in zip(side.rings, needed, strict=True):
                        ring.set_radius(spacing * (math.sqrt(n) + 0.5) if n else 0.0)
                    queue = members["queue"]
                    side.queue.set_offsets(pile(queue, side.centres[:n_caps]))
                    sentences.append(f"{self.names[index]}: {int(queue.sum())} demands waiting in departments.")
                if side.teams:
                    team = members["team"][fluid]
                    xy[fluid], demands, team_spacing = team_layout(team, primary[fluid], side.box)
                    spacing = min(spacing, team_spacing)
                    side.demands.set_offsets(demands)
                    sizes = np.unique(team[team >= 0], return_counts=True)[1]
                    radius = team_spacing * (np.sqrt(sizes + 1.5) + 0.6) * px_per_unit * 72 / DPI
                    side.hulls.set_offsets(demands)
                    side.hulls.set_sizes((2 * radius) ** 2)
                    sentences.append(self._teams_sentence(index, team, snap.tick)
                                     + f" {int(np.sum(team < 0))} people in no team, "
                                     f"{int(members['unstaffed'][0])} demands waiting for a team.")
                colours = self.colours[primary]
                side.dots.set_offsets(xy)
                side.dots.set_facecolors(np.where(members["onboarding"] > 0, "white", colours))
                side.dots.set_edgecolors(colours)
                side.dots.set_sizes(np.full(len(xy), (0.8 * spacing * px_per_unit * 72 / DPI) ** 2))
            self.caption = " ".join(sentences)

    def _teams_sentence(self, index: int, team: np.ndarray, tick: int) -> str:
        """How many teams one side has now and how many of them formed in the last five days."""
        uids = np.unique(team[team >= 0]).tolist()
        formed = {uid: self._formed[index].get(uid, tick) for uid in uids}
        self._formed[index] = formed
        recent = sum(1 for first in formed.values() if first > tick - 5)
        return f"{self.names[index]}: {len(uids)} teams at work now, {recent} of them formed in the last five days;"
