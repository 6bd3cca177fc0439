"""End to end: the real ``orgsim dashboard`` server on 127.0.0.1, driven in headless Chromium.

Run in its own pytest process (``pytest -m browser tests/browser``): Playwright's sync API and
Solara's in-process test tools do not mix in one process. Skipped, with the reason, only when no
Chromium is installed (``make test`` installs Debian's ``chromium`` when it can).

Set ``ORGSIM_DASHBOARD_SCREENSHOT=docs/img/dashboard.png`` to write the README screenshot, and
``ORGSIM_DASHBOARD_SCREENSHOTS=docs/img`` to write the story, why and board-pack screenshots of
docs/dashboard.md.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from orgsim.dashboard.server import ensure_assets

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def browser_path() -> str:
    path = chromium()
    if path is None:
        reason = "no Chromium found (/usr/bin/chromium); `make test` installs Debian's chromium when run as root"
        print(f"SKIPPED: {reason}")
        pytest.skip(reason)
    return path


@contextlib.contextmanager
def dashboard(log: Path, env: dict[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """``orgsim dashboard`` on a free port (``env`` added to its environment); yields its URL and process;
    stops it (and its children) afterwards."""
    ensure_assets()
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "orgsim.cli", "dashboard", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ, **(env or {})},
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"dashboard server did not come up:\n{log.read_text()}")
            time.sleep(0.2)
        yield url, proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory, browser_path):
    """``orgsim dashboard`` on a free port; yields its URL."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    with dashboard(log) as (url, _):
        assert f"open {url} in a browser" in log.read_text()  # the address is printed
        yield url


def week(clock) -> int:
    return int(re.search(r"(?:Week|Day) (\d+)", clock.inner_text()).group(1))


def play_until(page, clock, at_least: int, fast: bool = False) -> int:
    """Press Play, wait until the clock shows week ``at_least`` or later, press Pause; returns the
    week the run stopped at (once the page has shown every frame sent before the pause)."""
    from playwright.sync_api import expect

    if fast:
        page.get_by_role("button", name="Fast").click()
    page.get_by_role("button", name="Play").click()
    later = "|".join(str(w) for w in range(at_least, 101))
    expect(clock).to_have_text(re.compile(rf"Week ({later}) of 100"), timeout=120_000)
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Play")).to_be_visible(timeout=30_000)
    shown = week(clock)
    while (time.sleep(0.5), week(clock))[1] != shown:  # a loaded machine may still be drawing
        shown = week(clock)
    return shown


def test_step_shock_and_screenshot(server, browser_path, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    shot = Path(os.environ.get("ORGSIM_DASHBOARD_SCREENSHOT") or tmp_path / "dashboard.png")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1250})
            failed = []  # offline: everything must come from the server and its local asset copy
            requested = []
            page.on("request", lambda r: requested.append(r.url))
            page.on("requestfailed", lambda r: failed.append(r.url))
            page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
            page.goto(server)
            clock = page.locator(".orgsim-clock")
            expect(clock).to_have_text("Week 0 of 100", timeout=30_000)
            kpis = page.locator(".orgsim-kpi-value")
            expect(kpis).to_have_count(8)
            before = kpis.all_inner_texts()
            assert before[0] == "0"  # nothing delivered yet

            step = page.get_by_role("button", name="Step")
            for days in range(1, 11):
                step.click()
                if days % 5 == 0:
                    expect(clock).to_have_text(f"Week {days // 5} of 100")
            expect(page.locator(".orgsim-verdict")).to_contain_text("identical demand")
            after_steps = kpis.all_inner_texts()
            assert after_steps != before
            assert re.fullmatch(r"[\d,]+", after_steps[0]) and after_steps[0] != "0"

            # Play to week 16, hit both with a new regulation, play on for 16 more weeks.
            play_until(page, clock, 16, fast=True)
            # The responsive organisation is drawn in the teams it has now: they change as play runs.
            teams = page.locator(".orgsim-teams")
            drawn = page.locator("img").nth(1).get_attribute("src")
            at_16 = teams.inner_text()
            assert re.search(r"Responsive: \d+ teams at work now", at_16)
            page.get_by_role("button", name="New regulation").click()
            table = page.locator(".orgsim-table")
            expect(table).to_contain_text("New regulation")
            shocked = int(re.search(r"week (\d+)", table.inner_text()).group(1))
            assert shocked >= 16
            verdict = page.locator(".orgsim-verdict")
            expect(verdict).to_contain_text(f"new regulation hit both organisations just in week {shocked}")
            marked = kpis.all_inner_texts()
            assert marked[1] == marked[5] == "too early to tell"  # the recovery tiles of both cards
            play_until(page, clock, shocked + 16)
            later = teams.inner_text()
            formed = int(re.search(r"Responsive: \d+ teams at work now, (\d+) of them formed", later).group(1))
            assert later != at_16 and formed > 0
            assert page.locator("img").nth(1).get_attribute("src") != drawn
            final = kpis.all_inner_texts()
            assert final[0] != marked[0] and final[4] != marked[4]  # both delivered more value since
            assert final[1] != "too early to tell" or final[5] != "too early to tell"
            # The sentence speaks of the latest shock measured against a twin: ours (random ones have none).
            expect(verdict).to_contain_text(re.compile(rf"new regulation.* week {shocked}\b", re.I))
            shot.parent.mkdir(parents=True, exist_ok=True)
            # The page scrolls inside Solara's layout: make the window as tall as the content.
            height = page.evaluate("Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight))")
            page.set_viewport_size({"width": 1600, "height": min(int(height) + 20, 4000)})
            page.wait_for_timeout(500)
            page.screenshot(path=str(shot))
            assert failed == []
            web = [u for u in requested if u.startswith(("http:", "https:", "ws:", "wss:"))]
            assert web and [u for u in web if not u.startswith(server)] == []
        finally:
            browser.close()
    assert shot.stat().st_size > 50_000


def test_story_by_keys_why_view_and_board_pack(browser_path, tmp_path):
    """The leadership story played from start to verdict by key presses, the why view opened, the board pack
    downloaded and read back; the responsive organisation's teams change from step to step."""
    from playwright.sync_api import expect, sync_playwright

    from orgsim.dashboard.server import SCENARIO_ENV

    shots = Path(os.environ.get("ORGSIM_DASHBOARD_SCREENSHOTS") or tmp_path)
    story = Path(__file__).resolve().parents[2] / "scenarios" / "story-leadership.toml"
    with dashboard(tmp_path / "server.log", {SCENARIO_ENV: str(story)}) as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1250}, accept_downloads=True)
            page.goto(url)
            clock = page.locator(".orgsim-clock")
            expect(clock).to_have_text(re.compile(r"Week 0 of 72"), timeout=30_000)
            page.get_by_role("button", name="Fast").click()
            page.get_by_role("button", name=re.compile("Play the story")).click()
            caption = page.locator(".orgsim-story-caption")
            status = page.locator(".orgsim-story-hint")
            teams = page.locator(".orgsim-teams")
            expect(caption).to_contain_text("Two organisations, the same people", timeout=30_000)
            expect(page.locator(".orgsim-story-predict")).to_contain_text("which one delivers more value?")
            seen_teams = []
            for steps in range(4):  # three steps that run, then the verdict step
                expect(status).to_contain_text("press space", timeout=180_000)
                seen_teams.append(teams.inner_text())
                if steps == 1:  # the room is asked about the shock to come, with the calm weeks on screen
                    page.screenshot(path=str(shots / "dashboard-story.png"))
                before = caption.inner_text()
                caption.click()  # nothing focused: the key goes to the page, as a presenter's clicker does
                page.keyboard.press("Space" if steps % 2 == 0 else "ArrowRight")
                if steps < 3:
                    expect(caption).not_to_have_text(before, timeout=180_000)
            expect(status).to_contain_text("the end", timeout=30_000)
            expect(clock).to_have_text(re.compile(r"Week 68 of 72"))  # 80 + 120 + 140 days
            verdict = page.locator(".orgsim-verdict").inner_text()
            assert page.locator(".orgsim-story-predict").inner_text() == verdict  # the verdict, in large type
            # The responsive organisation's teams are drawn as they are now: they changed from step to step.
            counts = [re.search(r"Responsive: (\d+) teams at work now, (\d+) of them formed", t) for t in seen_teams]
            assert all(counts) and len(set(seen_teams[1:])) == len(seen_teams) - 1
            assert all(int(c.group(2)) > 0 for c in counts[1:])
            # Why: the gap attributed to lever groups, computed on demand with progress shown.
            page.get_by_role("button", name=re.compile("Why\\? Attribute the gap")).click()
            expect(page.get_by_text(re.compile(r"^\d+ of \d+ runs$"))).to_be_visible(timeout=30_000)  # progress
            sentence = page.locator(".orgsim-kpi-words", has_text="of the difference comes from")
            expect(sentence).to_be_visible(timeout=600_000)
            assert re.match(r"(Silo'd|Responsive) delivers [\d,]+ more value a week than", sentence.inner_text())
            waterfall = page.locator("img").nth(2)
            expect(waterfall).to_be_visible()
            waterfall.scroll_into_view_if_needed()
            page.screenshot(path=str(shots / "dashboard-why.png"))
            # The board pack: one click, a PDF of five pages holding the verdict and the why.
            with page.expect_download(timeout=120_000) as download:
                page.get_by_role("button", name="Board pack (PDF)").click()
            pdf = tmp_path / "pack.pdf"
            download.value.save_as(pdf)
            from pypdf import PdfReader

            pages = [re.sub(r"\s+", " ", pg.extract_text()) for pg in PdfReader(pdf).pages]
            assert len(pages) == 5
            assert re.sub(r"\s+", " ", verdict) in pages[0]
            assert "Not computed" not in pages[3] and "by lever group" in pages[3]
            assert "story-leadership.toml" in pages[4]
        finally:
            browser.close()
