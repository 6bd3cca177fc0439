"""Story mode in the page: the story of the scenario shown, its captions in large type, and a key press
(space, right arrow) or one click on **Go on** to move it on. The walk itself is ``orgsim.story.StoryPlayer``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import solara

from orgsim.errors import OrgsimError
from orgsim.scenario import load_scenario
from orgsim.story import OVER, RUNNING, WAITING, Story, StoryPlayer

CSS = """
.orgsim-story { border-radius: 6px; padding: 14px 22px; background: #263238; color: #fff; margin: 6px 0 10px; }
.orgsim-story-title { font-size: 1rem; opacity: .8; text-transform: uppercase; letter-spacing: .04em; }
.orgsim-story-caption { font-size: 2rem; line-height: 1.3; font-weight: 600; margin: 6px 0; }
.orgsim-story-predict { font-size: 1.5rem; line-height: 1.3; color: #ffd54f; margin: 4px 0 8px; }
.orgsim-story-hint { font-size: .95rem; color: #eceff1 !important; }
"""


def story_of(scenario: str) -> Story | None:
    """The story of scenario file ``scenario`` ('' or a file without one: None)."""
    if not scenario:
        return None
    try:
        return load_scenario(Path(scenario)).story
    except OrgsimError:
        return None  # the page shows the file's error already (from_scenario read it first)


def status(player: StoryPlayer) -> str:
    """Where the story is, e.g. 'Step 2 of 5: press space when the room has guessed'."""
    n = len(player.story.steps)
    where = f"Step {player.index + 1} of {n}"
    if player.phase == RUNNING:
        return f"{where}: running"
    if player.phase == OVER:
        return f"{where}: the end. Leave the story to explore freely."
    return f"{where}: press space, the right arrow or Go on when the room is ready"


@solara.component
def StoryPanel(player: StoryPlayer, verdict: str, go: Callable[[], None], leave: Callable[[], None], frame: int):
    """The current step: caption, question for the room (while it waits), the verdict at the end."""
    step = player.step
    with solara.Div(classes=["orgsim-story"]).meta(ref="story"):
        solara.Div(children=[player.story.title], classes=["orgsim-story-title"])
        solara.Div(children=[step.caption], classes=["orgsim-story-caption"]).meta(ref="story-caption")
        if player.phase == WAITING and step.predict:
            solara.Div(children=[step.predict], classes=["orgsim-story-predict"]).meta(ref="story-predict")
        if player.phase == OVER or (player.last and step.ticks == 0):
            solara.Div(children=[verdict], classes=["orgsim-story-predict"]).meta(ref="story-verdict")
        with solara.Row(style={"align-items": "center", "gap": "10px", "background": "transparent"}):
            solara.Button("Go on", icon_name="mdi-arrow-right", color="primary", on_click=go,
                          disabled=player.phase != WAITING).meta(ref="story-go")
            solara.Button("Leave the story", text=True, on_click=leave, style={"color": "#fff"}).meta(ref="story-leave")
            solara.Text(status(player), classes=["orgsim-story-hint"]).meta(ref="story-status")


@solara.component_vue(str(Path(__file__).with_name("keys.vue")))
def Keys(event_key: Callable[[str], None]):
    """An invisible element that reports space and right-arrow presses (outside text fields)."""
