"""What a run's results depend on besides its scenario: versions of orgsim and its numeric stack, and the
platform. Recorded in every sweep's manifest and compared by ``orgsim reproduce``."""

from __future__ import annotations

import functools
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

#: Distributions whose versions are recorded (the model's numbers go through every one of them).
PACKAGES = ("orgsim", "mesa", "numpy", "pandas", "pyarrow")


def versions() -> dict[str, str | None]:
    """orgsim's version and git commit (None outside a git checkout; ``-dirty`` when tracked files were
    changed), the versions of :data:`PACKAGES`, Python's, and the platform."""
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found | {"git_commit": git_commit(), "python": platform.python_version(), "platform": platform.platform()}


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The commit of the orgsim source tree this process runs, if it is a git checkout with git installed."""
    source = Path(__file__).resolve().parent.parent
    if not (source / ".git").exists():
        return None
    try:
        out = subprocess.run(["git", "-C", str(source), "describe", "--always", "--dirty", "--abbrev=40"],
                             capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def differences(recorded: dict[str, str | None], installed: dict[str, str | None] | None = None) -> dict[str, tuple]:
    """``{key: (recorded, installed)}`` for every key whose value differs between a manifest's versions and
    these (default: :func:`versions`)."""
    installed = versions() if installed is None else installed
    keys = list(dict.fromkeys([*recorded, *installed]))
    return {k: (recorded.get(k), installed.get(k)) for k in keys if recorded.get(k) != installed.get(k)}
