"""Stories in scenario files: the format, its bad input (one line, exit 2) and walking a story."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from orgsim.cli import main
from orgsim.errors import OrgsimError
from orgsim.scenario import load_scenario, validate_scenario
from orgsim.story import OVER, RUNNING, WAITING, StoryPlayer

REPO = Path(__file__).resolve().parents[1]
BASE = """description = "story"
[run]
ticks = 100
members = 20
warmup = 10
"""
STORY = BASE + """[story]
title = "A test"
[[story.steps]]
caption = "Calm."
ticks = 30
[[story.steps]]
caption = "A shift."
predict = "Who recovers?"
hits = ["needs", "rules"]
magnitude = 0.5
ticks = 50
[[story.steps]]
caption = "The verdict."
"""


def test_a_story_is_read_with_its_scenario_and_left_out_of_the_fingerprint():
    scenario = validate_scenario(tomllib.loads(STORY), "s.toml")
    story = scenario.story
    assert story.title == "A test" and [s.ticks for s in story.steps] == [30, 50, 0] and story.ticks == 80
    assert story.steps[1].hits == ("needs", "rules") and story.steps[1].magnitude == 0.5
    assert story.steps[0].predict == "" and story.steps[0].hits == ()
    plain = validate_scenario(tomllib.loads(BASE), "s.toml")
    assert plain.story is None and plain.fingerprint() == scenario.fingerprint()


def test_a_shorter_run_shortens_the_story_in_proportion():
    scenario = validate_scenario(tomllib.loads(STORY), "s.toml")
    small = scenario.reduced(ticks=40)
    assert [s.ticks for s in small.story.steps] == [12, 20, 0]
    assert [s.ticks for s in scenario.with_run(ticks=50).story.steps] == [15, 25, 0]
    assert scenario.with_run(ticks=200).story == scenario.story


@pytest.mark.parametrize("name", ["story-leadership", "story-workshop"])
def test_shipped_stories_fit_their_runs_and_end_on_a_verdict(name):
    scenario = load_scenario(REPO / "scenarios" / f"{name}.toml")
    story = scenario.story
    assert len(story.steps) >= 3 and story.ticks <= scenario.run.ticks
    assert story.steps[-1].ticks == 0 and "verdict" in story.steps[-1].caption
    assert any(step.hits for step in story.steps) and not scenario.environment.shocks
    assert all(step.predict for step in story.steps[:-1])


BAD = [
    ("no-title", "[story]\n[[story.steps]]\ncaption = 'x'\n", "story.title: field required"),
    ("no-steps", "[story]\ntitle = 't'\nsteps = []\n", "story.steps: tuple should have at least 1 item"),
    ("unknown-key", "[story]\ntitle = 't'\n[[story.steps]]\ncaption = 'x'\ntick = 5\n",
     "story.steps.0.tick: unknown key (did you mean 'ticks'?); allowed: caption, predict, hits, magnitude, ticks"),
    ("empty-caption", "[story]\ntitle = 't'\n[[story.steps]]\ncaption = ''\n",
     "story.steps.0.caption: string should have at least 1 character"),
    ("layer", "[story]\ntitle = 't'\n[[story.steps]]\ncaption = 'x'\nhits = ['mood']\n",
     "story.steps.0.hits.0: input should be 'needs', 'technology', 'rules' or 'volume' (got 'mood')"),
    ("magnitude", "[story]\ntitle = 't'\n[[story.steps]]\ncaption = 'x'\nmagnitude = 1.5\n",
     "story.steps.0.magnitude: input should be less than or equal to 1 (got 1.5)"),
    ("negative-ticks", "[story]\ntitle = 't'\n[[story.steps]]\ncaption = 'x'\nticks = -1\n",
     "story.steps.0.ticks: input should be greater than or equal to 0 (got -1)"),
    ("past-the-run", "[story]\ntitle = 't'\n[[story.steps]]\ncaption = 'x'\nticks = 60\n"
     "[[story.steps]]\ncaption = 'y'\nticks = 60\n",
     "story.steps.1.ticks: the story would run to tick 120, past the run's 100 ticks (run.ticks); allowed: 0 to 40"),
    ("unknown-section-key", "[story]\ntitel = 't'\n", "story.titel: unknown key (did you mean 'title'?)"),
]


@pytest.mark.parametrize(("name", "text", "expected"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_story_is_one_line_naming_file_and_key_exit_2(name, text, expected, tmp_path, capsys, monkeypatch):
    path = tmp_path / f"{name}.toml"
    path.write_text(BASE + text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["validate", path.name]) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    assert line.startswith(f"orgsim: error: {path.name}: ") and expected in line, line
    assert "Traceback" not in captured.err and captured.out == ""
    with pytest.raises(OrgsimError, match="^" + re.escape(path.name)):
        load_scenario(path.name)


def test_the_player_waits_runs_and_goes_on_step_by_step():
    player = StoryPlayer(validate_scenario(tomllib.loads(STORY), "s.toml").story)
    assert (player.index, player.phase) == (0, WAITING) and player.allow(5) == 0
    assert player.go() == ()  # no shock in the first step
    assert player.phase == RUNNING and player.go() == ()  # a second press while running does nothing
    ran = 0
    while player.phase == RUNNING and player.index == 0:
        k = player.allow(7)
        player.ran(k)
        ran += k
    assert ran == 30 and (player.index, player.phase) == (1, WAITING)
    assert player.go() == ("needs", "rules")
    assert player.allow(100) == 50
    player.ran(50)
    assert (player.index, player.phase) == (2, WAITING)
    assert player.go() == () and player.phase == OVER and player.allow(5) == 0
    assert player.log == [(0, WAITING), (0, RUNNING), (1, WAITING), (1, RUNNING), (2, WAITING), (2, RUNNING),
                          (2, OVER)]


def test_the_player_stops_when_the_run_ends():
    player = StoryPlayer(validate_scenario(tomllib.loads(STORY), "s.toml").story)
    player.go()
    player.ran(10)
    player.stop()
    assert player.phase == OVER and player.allow(10) == 0
