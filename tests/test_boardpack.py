"""The board pack: one PDF with the verdict, the charts, who is where, the why, the settings and versions."""

from __future__ import annotations

import io
import re

import pytest

from orgsim.dashboard import leadership, why
from orgsim.dashboard.band import compute as band_of
from orgsim.dashboard.boardpack import board_pack
from orgsim.dashboard.charts import PANELS, Timeline
from orgsim.dashboard.lockstep import Lockstep
from orgsim.dashboard.orgview import OrgView
from orgsim.dashboard.settings import Settings
from orgsim.provenance import versions

SMALL = Settings().changed(members=30, horizon=100, seed=3)


def _pages(pdf: bytes) -> list[str]:
    """The text of each page (pypdf); without pypdf, one empty string per page object."""
    try:
        from pypdf import PdfReader
    except ImportError:
        return [""] * len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def run():
    live = Lockstep(SMALL)
    live.step(25)
    live.shock("rules", 0.5)
    live.step(25)
    snap = live.snapshot()
    timeline, people = Timeline(SMALL), OrgView(SMALL, live.models[0].capabilities.names)
    for figure in (timeline, people):
        figure.update(snap)
    return snap, timeline, people


def test_the_pack_has_its_five_pages_with_the_verdict_shocks_settings_and_versions(run):
    snap, timeline, people = run
    pdf = board_pack(snap, timeline, people)
    assert pdf.startswith(b"%PDF-") and b"orgsim board pack" in pdf
    pages = _pages(pdf)
    assert len(pages) == 5
    text = [re.sub(r"\s+", " ", page) for page in pages]
    if not any(text):
        pytest.skip("pypdf is not installed: pages counted, text not read")
    assert re.sub(r"\s+", " ", leadership.verdict(snap)) in text[0]
    assert "How sure?" in text[0]  # no band computed: the page says how to get one
    assert "New regulation" in text[1] and "Value delivered" in text[1]  # the charts, the shock marked
    assert "Not computed for this run" in text[3]
    assert "Seed: 3; 30 people" in text[4] and "day 25: rules 50% (you)" in text[4]
    assert f"orgsim {versions()['orgsim']}" in text[4]


def test_the_pack_includes_the_band_sentence_and_the_why_when_computed(run):
    snap, timeline, people = run
    band = band_of(SMALL, snap.shocks, snap.tick, timeline.line, [p[0] for p in PANELS], seeds=2)
    explained = why.compute(SMALL, snap.tick, seeds=1, shocks=snap.shocks)
    pages = _pages(board_pack(snap, timeline, people, band, explained))
    assert len(pages) == 5
    text = [re.sub(r"\s+", " ", page) for page in pages]
    if not any(text):
        pytest.skip("pypdf is not installed: pages counted, text not read")
    assert band.sentence(SMALL.nouns(), SMALL.time_unit) in text[0]
    assert "Not computed" not in text[3] and "by lever group" in text[3]
    assert why.sentence(explained, SMALL.time_unit).split(";")[0] in text[3]
