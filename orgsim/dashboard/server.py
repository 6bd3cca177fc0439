"""``orgsim dashboard``: start the Solara server on the dashboard page, offline-ready.

    orgsim dashboard [--host 127.0.0.1] [--port 8765] [--scenario FILE]

Binds to 127.0.0.1 unless told otherwise, prints the address to open, and serves Solara's JavaScript
and CSS from the local copy (``orgsim.dashboard.assets``), fetching it first if it is missing.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from pathlib import Path

from orgsim.dashboard.assets import ENV_VAR, default_assets_dir, fetch_assets, missing_assets
from orgsim.errors import OrgsimError

APP = "orgsim.dashboard.app"
DEFAULT_PORT = 8765
#: Environment variable through which the server tells the page which scenario to open on.
SCENARIO_ENV = "ORGSIM_DASHBOARD_SCENARIO"
#: How long Solara keeps the session (models, figures) of a page whose connection has gone, unless
#: SOLARA_KERNEL_CULL_TIMEOUT is set already (Solara's own default is 24 hours). A page that reconnects
#: within it (a laptop waking up) keeps its run.
CULL_TIMEOUT = "2m"
#: glibc malloc arenas: one per thread by default (up to 8 per core), each keeping freed memory; two are
#: enough for a server whose work is serialised by the GIL, and let freed sessions' memory be reused.
MALLOC_ARENAS = "2"


def command(host: str, port: int) -> list[str]:
    """The ``solara run`` command line that serves the dashboard."""
    return [sys.executable, "-m", "solara", "run", APP, "--host", host, "--port", str(port),
            "--no-open", "--production", "--log-level", "warning", "--log-level-uvicorn", "warning"]


def environment(scenario: str | Path | None = None, assets: Path | None = None) -> dict[str, str]:
    """The server's environment: the local asset copy, the scenario to open on, and how long a closed
    page's session is kept (``CULL_TIMEOUT``)."""
    env = dict(os.environ)
    env[ENV_VAR] = str(assets or default_assets_dir())
    env.setdefault("SOLARA_KERNEL_CULL_TIMEOUT", CULL_TIMEOUT)
    env.setdefault("MALLOC_ARENA_MAX", MALLOC_ARENAS)
    if scenario is not None:
        env[SCENARIO_ENV] = str(Path(scenario).resolve())
    return env


def check_port(host: str, port: int) -> None:
    """Raise ``OrgsimError`` unless ``host:port`` can be listened on."""
    if not 1 <= port <= 65535:
        raise OrgsimError(f"--port must be in [1, 65535], got {port}")
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
            sock.bind((host, port))
    except OSError as err:
        raise OrgsimError(f"cannot listen on {host}:{port} ({err.strerror}); pick another --port or --host") from None


def ensure_assets(folder: Path | None = None) -> Path:
    """The local asset copy, fetched now if incomplete. Without internet the server still starts,
    but the page then loads only where a CDN is reachable; a note says so."""
    folder = folder or default_assets_dir()
    if missing_assets(folder):
        print(f"orgsim dashboard: fetching Solara's JavaScript and CSS once, into {folder} ...", flush=True)
        try:
            fetch_assets(folder)
        except OrgsimError as err:
            print(f"orgsim dashboard: warning: {err}. The page needs these files to work offline.", file=sys.stderr)
    return folder


def serve(host: str = "127.0.0.1", port: int = DEFAULT_PORT, scenario: str | Path | None = None) -> int:
    """Check the arguments, then run the server until it is stopped; returns its exit code."""
    if scenario is not None:
        from orgsim.scenario import load_scenario

        load_scenario(scenario)  # a bad file is a one-line error now, not a broken page later
    check_port(host, port)
    assets = ensure_assets()
    shown = f"[{host}]" if ":" in host else host
    print(f"orgsim dashboard: open http://{shown}:{port}/ in a browser (Ctrl+C stops it)", flush=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"orgsim dashboard: listening on {host}: anyone who can reach this machine can open it", flush=True)
    try:
        return subprocess.call(command(host, port), env=environment(scenario, assets))
    except KeyboardInterrupt:
        return 0


def _port(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None


def _cmd_dashboard(args: argparse.Namespace) -> int:
    return serve(args.host, args.port, args.scenario)


def register(sub) -> None:
    """Add the ``dashboard`` sub-command to the ``orgsim`` command line."""
    p = sub.add_parser("dashboard", help="live dashboard: two organisations side by side under the same shocks")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--scenario", help="scenario file to open on (default: the workshop world)")
    p.set_defaults(handler=_cmd_dashboard)
