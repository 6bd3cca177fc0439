"""The dashboard under load: one ``orgsim dashboard`` server on 127.0.0.1, several browser pages at once.

What a workshop room does to the server: ``--pages`` headless Chromium pages (each its own browser
context, so its own session) open together, all but one press Play and, ``--pause-after`` seconds later,
Pause; then they play on while the remaining page steps day by day and shocks. Printed:

- time to first cards: seconds from opening until a page shows its KPI cards, for 1 page alone and
  for ``--pages`` pages opened together (the slowest page);
- settings click: seconds from clicking the time unit "days" until the page shows days, while the
  other pages play;
- step latency: seconds from a Step click until the page shows the next day (median and p95), while
  the other pages play;
- pause lag: after Pause, how long the clock kept moving and by how many weeks (median and worst);
- memory: the server's resident memory (RSS, MB) at start, with every page open, and after the pages
  closed and the server culled their sessions, per round; memory per session is the growth with the
  pages open divided by their number.

    python benchmarks/bench_dashboard_load.py [--pages 8] [--rounds 2] [--cull 15s] [--json]

``--cull`` sets SOLARA_KERNEL_CULL_TIMEOUT for the server (default: whatever the launcher sets) so
that freeing can be seen without waiting minutes. Needs Chromium (/usr/bin/chromium) and the local
Solara assets (``make assets``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import psutil

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CLOCK = re.compile(r"(Week|Day) (\d+) of")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, cull: str | None, log: Path) -> subprocess.Popen:
    env = dict(os.environ)
    if cull:
        env["SOLARA_KERNEL_CULL_TIMEOUT"] = cull
    env.setdefault("SOLARA_ASSETS_PROXY_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".solara-assets"))
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "orgsim.cli", "dashboard", "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return proc
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the dashboard server did not start:\n{log.read_text()}")
        time.sleep(0.2)


def rss_mb(proc: subprocess.Popen) -> float:
    """Resident memory of the server and its children (the Solara process), MB."""
    root = psutil.Process(proc.pid)
    return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]) / 2**20


def clock(page) -> tuple[str, int]:
    match = CLOCK.search(page.locator(".orgsim-clock").inner_text())
    return match.group(1), int(match.group(2))


def open_pages(browser, url: str, n: int) -> tuple[list, list[float]]:
    """``n`` pages in their own contexts, opened together; seconds until each shows its cards."""
    contexts = [browser.new_context(viewport={"width": 1600, "height": 1000}) for _ in range(n)]
    for context in contexts:
        context.set_default_timeout(600_000)  # a loaded server may take minutes to answer a click
    pages = [c.new_page() for c in contexts]
    start = time.perf_counter()
    for page in pages:
        page.goto(url, wait_until="commit")
    ready: dict[int, float] = {}
    while len(ready) < n:
        for i, page in enumerate(pages):
            if i not in ready and page.locator(".orgsim-kpi-value").count() >= 8:
                ready[i] = time.perf_counter() - start
        if time.perf_counter() - start > 300:
            raise SystemExit(f"only {len(ready)} of {n} pages showed their cards within 300 s")
        time.sleep(0.05)
    return pages, [ready[i] for i in range(n)]


def wait_stable(page, seconds: float = 2.0, limit: float = 60.0) -> tuple[int, float]:
    """Wait until the clock has not changed for ``seconds``; returns (number shown, when it last changed)."""
    start = time.perf_counter()
    shown, changed = clock(page)[1], start
    while time.perf_counter() - changed < seconds and time.perf_counter() - start < limit:
        time.sleep(0.1)
        now = clock(page)[1]
        if now != shown:
            shown, changed = now, time.perf_counter()
    return shown, changed - start


def measure(pages_n: int, rounds: int, cull: str | None, play_seconds: float, pause_after: float) -> dict:
    from playwright.sync_api import sync_playwright

    port = free_port()
    log = Path(f"/tmp/bench_dashboard_load-{port}.log")
    proc = start_server(port, cull, log)
    url = f"http://127.0.0.1:{port}/"
    out: dict = {"pages": pages_n, "cull": cull or "launcher default", "rounds": []}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            time.sleep(1.0)
            out["rss_start_mb"] = rss_mb(proc)
            single, first = open_pages(browser, url, 1)
            out["first_cards_1_page_s"] = first[0]
            for page in single:
                page.context.close()
            for _ in range(rounds):
                before = rss_mb(proc)
                pages, ready = open_pages(browser, url, pages_n)
                stepper, players = pages[0], pages[1:]
                for page in players:
                    page.get_by_role("button", name="Play").click()
                time.sleep(pause_after)
                lags, moved, finished = [], [], 0
                for page in players:
                    at_click = clock(page)[1]
                    pause = page.get_by_role("button", name="Pause")
                    if not pause.count():  # the run reached its end (or Play was never shown as pressed)
                        finished += 1
                        continue
                    pause.click()
                    shown, lag = wait_stable(page)
                    lags.append(lag)
                    moved.append(shown - at_click)
                lags, moved = lags or [float("nan")], moved or [float("nan")]
                for page in players:  # play on while one page steps and shocks (unless at the end)
                    play = page.get_by_role("button", name="Play")
                    if play.is_enabled():
                        play.click()
                t0 = time.perf_counter()
                stepper.get_by_role("button", name="days").click()
                stepper.locator(".orgsim-clock").filter(has_text="Day").wait_for(timeout=600_000)
                switch = time.perf_counter() - t0
                latencies = []
                deadline = time.perf_counter() + play_seconds
                while time.perf_counter() < deadline or len(latencies) < 5:
                    day = clock(stepper)[1]
                    t0 = time.perf_counter()
                    stepper.get_by_role("button", name="Step").click()
                    while clock(stepper)[1] == day and time.perf_counter() - t0 < 300:
                        time.sleep(0.01)
                    latencies.append(time.perf_counter() - t0)
                stepper.get_by_role("button", name="New regulation").click()
                open_mb = rss_mb(proc)
                for page in pages:
                    page.context.close()
                closed = time.perf_counter()
                settle = _parse_seconds(cull) + 20 if cull else 20
                floor = rss_mb(proc)
                while time.perf_counter() - closed < settle:
                    time.sleep(1.0)
                    floor = min(floor, rss_mb(proc))
                out["rounds"].append({
                    "first_cards_s": {"median": statistics.median(ready), "max": max(ready)},
                    "days_click_s": switch,
                    "step_latency_s": {"n": len(latencies), "median": float(np.median(latencies)),
                                       "p95": float(np.percentile(latencies, 95))},
                    "pause_lag_s": {"median": statistics.median(lags), "max": max(lags)},
                    "weeks_after_pause": {"median": statistics.median(moved), "max": max(moved)},
                    "players_finished_before_pause": finished,
                    "rss_before_mb": before, "rss_open_mb": open_mb, "rss_after_close_mb": floor,
                    "per_session_mb": (open_mb - before) / pages_n,
                })
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    return out


def _parse_seconds(text: str) -> float:
    number, unit = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smh]?)", text).groups()
    return float(number) * {"": 1, "s": 1, "m": 60, "h": 3600}[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cull", help="SOLARA_KERNEL_CULL_TIMEOUT for the server, e.g. 15s")
    parser.add_argument("--play-seconds", type=float, default=20.0, help="how long the pages play")
    parser.add_argument("--pause-after", type=float, default=10.0, help="seconds of play before Pause")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.pages, args.rounds, args.cull, args.play_seconds, args.pause_after)
    result["cpus"] = os.cpu_count()
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"{args.pages} pages on one server, {os.cpu_count()} CPUs; culling: {result['cull']}")
    print(f"  first cards, 1 page alone: {result['first_cards_1_page_s']:.1f} s; server at start "
          f"{result['rss_start_mb']:.0f} MB")
    for i, r in enumerate(result["rounds"], 1):
        print(f"  round {i}: first cards median {r['first_cards_s']['median']:.1f} s, slowest "
              f"{r['first_cards_s']['max']:.1f} s; 'days' click shown after {r['days_click_s']:.1f} s; "
              f"step latency median {r['step_latency_s']['median']:.2f} s, "
              f"p95 {r['step_latency_s']['p95']:.2f} s (n={r['step_latency_s']['n']}); after Pause the clock "
              f"moved {r['pause_lag_s']['median']:.1f} s (worst {r['pause_lag_s']['max']:.1f} s), "
              f"{r['weeks_after_pause']['median']} weeks (worst {r['weeks_after_pause']['max']}); memory "
              f"{r['rss_before_mb']:.0f} -> {r['rss_open_mb']:.0f} MB open ({r['per_session_mb']:.0f} MB a session) "
              f"-> {r['rss_after_close_mb']:.0f} MB after closing")


if __name__ == "__main__":
    main()
