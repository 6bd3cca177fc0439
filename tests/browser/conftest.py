"""The browser tests' shared fixture: the Chromium to drive (skipping, with the reason, without one)."""

from __future__ import annotations

import pytest
from test_dashboard_e2e import chromium


@pytest.fixture(scope="module")
def browser_path() -> str:
    path = chromium()
    if path is None:
        reason = "no Chromium found (/usr/bin/chromium); `make test` installs Debian's chromium when run as root"
        print(f"SKIPPED: {reason}")
        pytest.skip(reason)
    return path
