"""The live charts: both organisations on shared axes, every shock marked, redrawn fast enough to animate.

Matplotlib draws them into images on the server (so they work offline and export as they look). A live figure
draws its frame, axes and shock markers once, keeps that background, and on each tick only redraws
the moving lines onto it (blitting); the axis limits grow in round steps so that the background
rarely needs redrawing.
"""

from __future__ import annotations

import contextlib
import io
import math
import threading
from collections.abc import Iterator

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.artist import Artist  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

from orgsim.dashboard.lockstep import SHOCK_NOUNS, ShockMark, Snapshot  # noqa: E402
from orgsim.dashboard.settings import TICKS_PER_UNIT, OrgChoice, Settings, work_per_tick  # noqa: E402
from orgsim.metrics import moving_average  # noqa: E402
from orgsim.plotting import COLOURS  # noqa: E402

#: Colour of each side's design (the silo'd and responsive ones are those of every orgsim figure).
KIND_COLOURS = {"siloed": COLOURS["siloed"], "responsive": COLOURS["responsive"], "hybrid": "#6a8d2f"}
#: Second colour for the right side when both sides have the same kind of design.
ALT_COLOURS = {"siloed": "#5b9bd5", "responsive": "#b5451b", "hybrid": "#a3c06b"}
LAYER_COLOURS = {"needs": "#0f8b8d", "technology": "#7b3fa0", "rules": "#c0392b", "volume": "#7f8c8d"}
#: The four live panels: measure, title, how to scale it for display, y-axis unit.
PANELS: tuple[tuple[str, str, str], ...] = (
    ("value_delivered", "Value delivered", "rate"),
    ("alignment", "Alignment with what customers need", "percent"),
    ("lead_time", "Lead time", "duration"),
    ("failure_demand", "Failure demand (customers coming back after a failure)", "percent"),
)
SMOOTHING = 10  # ticks in the trailing mean drawn for every measure (metrics.moving_average)
DPI = 100
FONT = {"font.size": 11, "axes.titlesize": 13, "axes.titleweight": "bold", "axes.labelsize": 11}


def side_colours(sides: tuple[OrgChoice, OrgChoice]) -> tuple[str, str]:
    """Line and card colour of the left and right organisation."""
    left, right = (s.kind for s in sides)
    return KIND_COLOURS[left], (ALT_COLOURS[right] if left == right else KIND_COLOURS[right])


def nice_ceiling(x: float) -> float:
    """The smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten that is >= ``x`` (> 0)."""
    if not math.isfinite(x) or x <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(x))
    return next(m * power for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * power >= x * (1 - 1e-12))


class LiveFigure:
    """A matplotlib figure rendered to PNG, redrawing only its animated artists when it can."""

    def __init__(self, figure: Figure) -> None:
        self.figure = figure
        self.canvas = FigureCanvasAgg(figure)
        self._animated: list[Artist] = []
        self._background = None
        self._lock = threading.RLock()

    def animate(self, *artists: Artist) -> None:
        for artist in artists:
            artist.set_animated(True)
        self._animated.extend(artists)

    def invalidate(self) -> None:
        """Redraw everything on the next ``frame`` (after a change of anything not animated)."""
        self._background = None

    def frame(self) -> bytes:
        """The figure now, as a JPEG image (a tenth of the time PNG takes, and as sharp at this quality)."""
        with self._lock:
            if self._background is None:
                self.canvas.draw()
                self._background = self.canvas.copy_from_bbox(self.figure.bbox)
            else:
                self.canvas.restore_region(self._background)
            for artist in self._animated:
                self.figure.draw_artist(artist)
            size = self.canvas.get_width_height()
            image = Image.frombuffer("RGBA", size, self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
            out = io.BytesIO()
            image.save(out, format="jpeg", quality=90, subsampling=0)
            return out.getvalue()

    @contextlib.contextmanager
    def still(self) -> Iterator[Figure]:
        """The figure with its moving parts drawn like the rest, for saving it whole (a PNG, a PDF page)."""
        with self._lock:
            for artist in self._animated:
                artist.set_animated(False)
            try:
                yield self.figure
            finally:
                for artist in self._animated:
                    artist.set_animated(True)
                self.invalidate()

    def export_png(self, dpi: int = 150) -> bytes:
        """The whole figure at print resolution (a download), moving parts included."""
        with self.still() as figure:
            out = io.BytesIO()
            figure.savefig(out, format="png", dpi=dpi, facecolor="white")
            return out.getvalue()


class Timeline(LiveFigure):
    """Value delivered, alignment, lead time and failure demand of both organisations over time.

    One per run: ``update`` only adds ticks and shocks (build a new one after a reset).
    """

    def __init__(self, settings: Settings, width: float = 12.0, height: float = 6.4) -> None:
        with matplotlib.rc_context(FONT):
            fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained", facecolor="white")
            super().__init__(fig)
            self.unit = settings.time_unit
            self.per_unit = TICKS_PER_UNIT[self.unit]
            names, colours = settings.names(), side_colours(settings.sides)
            axes = fig.subplots(2, 2, sharex=True)
            self.axes = list(axes.flat)
            self.lines: list[tuple] = []
            x_max = settings.horizon / self.per_unit
            for ax, (_, title, scale) in zip(self.axes, PANELS, strict=True):
                ax.set_title(title, loc="left")
                ax.set_xlim(0, x_max)
                ax.set_ylabel(self._ylabel(scale))
                ax.grid(alpha=0.3)
                ax.spines[["top", "right"]].set_visible(False)
                if scale == "percent":
                    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
                    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(5, steps=[1, 2, 5, 10]))
                pair = tuple(ax.plot([], [], color=c, lw=2.6, label=n)[0] for c, n in zip(colours, names, strict=True))
                self.lines.append(pair)
                self.animate(*pair)
            for ax in self.axes[2:]:
                ax.set_xlabel(f"time ({self.unit})")
            fig.legend(handles=list(self.lines[0]), loc="outside upper right", ncols=2, frameon=False, fontsize=12)
            fig.suptitle(f"Both organisations, same demand ({SMOOTHING}-day average)", x=0.01, ha="left",
                         fontsize=12, color="#555555")
        self._limits = self._initial_limits(settings)
        for ax, limits in zip(self.axes, self._limits, strict=True):
            ax.set_ylim(*limits)
        self._marked = 0
        self._band: list = []  # the uncertainty band's patches, if one is shown

    def _ylabel(self, scale: str) -> str:
        unit = self.unit[:-1]
        return {"rate": f"value units per {unit}", "percent": "", "duration": self.unit}[scale]

    def _display(self, measure: str, scale: str, frame: pd.DataFrame) -> np.ndarray:
        y = moving_average(frame[measure].to_numpy(), SMOOTHING)
        if scale == "rate":
            return y * self.per_unit
        if scale == "duration":
            return y / self.per_unit
        return y

    def line(self, measure: str, frame: pd.DataFrame) -> np.ndarray:
        """The line drawn for ``measure`` (one of ``PANELS``) of a per-tick table: smoothed and scaled."""
        scale = next(scale for name, _, scale in PANELS if name == measure)
        return self._display(measure, scale, frame)

    def show_band(self, band) -> None:
        """Draw ``band`` (``orgsim.dashboard.band.Band``) behind the lines: each organisation's 10th to 90th
        percentile over seeds, in its colour; a new band replaces the last one."""
        with self._lock:
            for patch in self._band:
                patch.remove()
            x = np.arange(band.ticks) / self.per_unit
            self._band = [
                ax.fill_between(x, band.low[measure][side], band.high[measure][side], color=line.get_color(),
                                alpha=0.18, lw=0, zorder=1)
                for ax, (measure, _, _), pair in zip(self.axes, PANELS, self.lines, strict=True)
                for side, line in enumerate(pair)
            ]
            # The axes grow to hold the band, as they grow to hold the lines.
            for i, (measure, _, scale) in enumerate(PANELS):
                edges = np.concatenate([np.ravel(band.low[measure]), np.ravel(band.high[measure])])
                limits = self._fit(measure, scale, edges, self._limits[i])
                if limits != self._limits[i]:
                    self._limits[i] = limits
                    self.axes[i].set_ylim(*limits)
            self.invalidate()

    def update(self, snap: Snapshot) -> None:
        """Show ``snap``: new line data, axis limits grown if needed, new shocks marked."""
        with self._lock:
            x = np.arange(snap.tick) / self.per_unit
            for i, ((measure, _, scale), pair) in enumerate(zip(PANELS, self.lines, strict=True)):
                ys = [self._display(measure, scale, frame) for frame in snap.frames]
                for line, y in zip(pair, ys, strict=True):
                    line.set_data(x, y)
                limits = self._fit(measure, scale, np.concatenate(ys), self._limits[i])
                if limits != self._limits[i]:
                    self._limits[i] = limits
                    self.axes[i].set_ylim(*limits)
                    self.invalidate()
            for shock in snap.shocks[self._marked:]:
                self._mark(shock)
                self._marked += 1

    def _initial_limits(self, settings: Settings) -> list[tuple[float, float]]:
        """Axis limits that will rarely need to grow (each growth redraws the whole figure): value up to
        1.2 times what customers ask for, lead time up to half the deadline, failure demand to 20 %."""
        top = {
            "value_delivered": nice_ceiling(1.2 * work_per_tick(settings) * self.per_unit),
            "alignment": 1.0,
            "lead_time": nice_ceiling(0.5 * settings.environment.deadline / self.per_unit),
            "failure_demand": 0.2,
        }
        return [(0.5 if measure == "alignment" else 0.0, top[measure]) for measure, _, _ in PANELS]

    @staticmethod
    def _fit(measure: str, scale: str, y: np.ndarray, current: tuple[float, float]) -> tuple[float, float]:
        """Axis limits that hold ``y`` and never shrink during a run: from 0 up to a round number
        (at most 100 % for a share); alignment from 50 % (or lower, in steps of 10 %) up to 100 %."""
        finite = y[np.isfinite(y)]
        if measure == "alignment":
            low = min(current[0], 0.5, math.floor(float(finite.min()) * 10) / 10 if len(finite) else 0.5)
            return (max(low, 0.0), 1.0)
        top = nice_ceiling(float(finite.max()) * 1.1) if len(finite) else current[1]
        if scale == "percent":
            top = min(top, 1.0)
        return (0.0, max(top, current[1]))

    def _mark(self, shock: ShockMark) -> None:
        x = shock.tick / self.per_unit
        colour = LAYER_COLOURS[shock.layer]
        style = "-" if shock.source != "world" else ":"
        for i, ax in enumerate(self.axes):
            ax.axvline(x, color=colour, ls=style, lw=2.0, alpha=0.9)
            if i < 2:
                label = SHOCK_NOUNS[shock.layer].capitalize() + (" (unplanned)" if shock.source == "world" else "")
                height = 0.03 + 0.09 * (self._marked % 3)  # staggered, in the empty bottom of the panel
                ax.annotate(label, (x, height), xycoords=("data", "axes fraction"), xytext=(4, 0),
                            textcoords="offset points", va="bottom", fontsize=10, color=colour, fontweight="bold",
                            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
        self.invalidate()
