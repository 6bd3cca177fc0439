"""Stories: a scripted walk through the argument, for a presenter in front of a room.

A scenario file may hold a ``[story]`` section: a title and a list of steps. Each step shows a
caption in large type and, optionally, a question for the room to predict; when the presenter goes
on (space, right arrow or one click), the step's shocks hit both organisations and its ticks run.
When they have run, the next step's caption shows and the page waits again. A last step with no
ticks is the verdict.

    [story]
    title = "Silos and swarms"

    [[story.steps]]
    caption = "A stable market: the machine organisation is efficient."
    ticks = 100

    [[story.steps]]
    caption = "Customers' needs shift."
    predict = "Who recovers first?"
    hits = ["needs"]
    ticks = 120

The section is validated with the rest of the file (``orgsim.scenario``): bad input is one line
naming the file, the key and what is allowed. :class:`StoryPlayer` walks a story (no UI: the
dashboard drives it, and the tests do).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from orgsim.environment import Layer

#: Most steps a story may have.
MAX_STEPS = 100


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoryStep(_Strict):
    """One step of a story: what the room reads, what it is asked, what then runs."""

    caption: str = Field(min_length=1, max_length=300, description="What the room reads, in large type.")
    predict: str = Field(default="", max_length=300,
                         description="A question for the room, shown while the page waits (empty: none).")
    hits: tuple[Layer, ...] = Field(default=(), max_length=4,
                                    description="Pace layers hit when the presenter goes on: needs, technology, "
                                    "rules, volume.")
    magnitude: float | None = Field(default=None, gt=0.0, le=1.0,
                                    description="Size of those shocks (default: the dashboard's shock size).")
    ticks: int = Field(default=0, ge=0, le=1_000_000,
                       description="Ticks run after the presenter goes on (0: a caption only, e.g. the verdict).")


class Story(_Strict):
    """A scripted walk through a scenario for a presenter: a title and its steps, in order."""

    title: str = Field(min_length=1, max_length=120, description="Shown above the captions.")
    steps: tuple[StoryStep, ...] = Field(min_length=1, max_length=MAX_STEPS, description="The steps, in order.")

    @property
    def ticks(self) -> int:
        """Ticks the whole story runs."""
        return sum(step.ticks for step in self.steps)

    def check_fits(self, run_ticks: int) -> None:
        """Raise ValueError (naming the step) if the story runs past a run of ``run_ticks`` ticks."""
        reached = 0
        for i, step in enumerate(self.steps):
            if reached + step.ticks > run_ticks:
                raise ValueError(
                    f"story.steps.{i}.ticks: the story would run to tick {reached + step.ticks}, past the run's "
                    f"{run_ticks} ticks (run.ticks); allowed: 0 to {run_ticks - reached} in this step")
            reached += step.ticks

    def scaled(self, factor: float, run_ticks: int) -> Story:
        """The story with every step's ticks scaled by ``factor`` (a shorter run), fitting ``run_ticks``."""
        steps, reached = [], 0
        for step in self.steps:
            ticks = min(int(step.ticks * factor), run_ticks - reached)
            reached += ticks
            steps.append(step.model_copy(update={"ticks": ticks}))
        return self.model_copy(update={"steps": tuple(steps)})


#: Phases of a step: the room reads and predicts; the step's ticks run; the story is over.
WAITING, RUNNING, OVER = "waiting", "running", "over"


@dataclass
class StoryPlayer:
    """Where a presentation is in its story: the step shown, and whether it waits or runs.

    ``go()`` is the presenter's key press: on a waiting step it returns the shocks to apply now
    and starts the step's ticks; ``allow(n)`` says how many of ``n`` ticks the play loop may run
    now, and ``ran(k)`` counts those it did; once a step's ticks have run, the next step waits.
    """

    story: Story
    index: int = 0
    phase: str = WAITING
    left: int = 0  # ticks of the current step still to run
    log: list[tuple[int, str]] = field(default_factory=list)  # (step, phase) each time a phase begins

    def __post_init__(self) -> None:
        self.log.append((self.index, self.phase))

    @property
    def step(self) -> StoryStep:
        return self.story.steps[self.index]

    @property
    def last(self) -> bool:
        return self.index == len(self.story.steps) - 1

    def go(self) -> tuple[str, ...]:
        """The presenter goes on. Returns the layers to hit now (empty unless a step starts running)."""
        if self.phase == WAITING:
            hits = self.step.hits
            self.left = self.step.ticks
            self._enter(RUNNING)
            if self.left == 0:
                self._next()
            return hits
        return ()

    def allow(self, ticks: int) -> int:
        """How many of ``ticks`` may run now (0 unless a step is running)."""
        return min(ticks, self.left) if self.phase == RUNNING else 0

    def ran(self, ticks: int) -> None:
        """``ticks`` of the running step have run; at its end, the next step waits."""
        if self.phase != RUNNING:
            return
        self.left -= ticks
        if self.left <= 0:
            self._next()

    def stop(self) -> None:
        """The run cannot go on (its end was reached): the story is over."""
        self.left = 0
        self._enter(OVER)

    def _next(self) -> None:
        if self.last:
            self._enter(OVER)
        else:
            self.index += 1
            self._enter(WAITING)

    def _enter(self, phase: str) -> None:
        self.phase = phase
        self.log.append((self.index, phase))
