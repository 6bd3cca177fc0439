"""Shared fixtures: small organisations (fast to run) and the real ``orgsim`` console script."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from orgsim.environment import EnvironmentConfig
from orgsim.model import OrgModel

# On CI (CI=true) hypothesis draws the same examples every run, so a submission cannot go red or green by
# chance; on a developer's machine it keeps exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

#: Headcount of the small organisations the tests run; arrivals scale with it as in the default.
SMALL_MEMBERS = 30


def small_arrival_rate(members: int = SMALL_MEMBERS) -> float:
    """The arrival rate of the default load for ``members`` members of capacity 1."""
    return EnvironmentConfig().rate(members * 1.0)


@pytest.fixture
def small_model() -> Callable[..., OrgModel]:
    """Factory: ``small_model(design, seed=0, members=30, levers=None, **environment)``; arrivals scale
    with members unless ``arrival_rate`` is given."""

    def make(design: Any = "siloed", seed: int = 0, members: int = SMALL_MEMBERS,
             levers: dict | None = None, **environment: Any) -> OrgModel:
        environment.setdefault("arrival_rate", small_arrival_rate(members))
        return OrgModel(design, environment, members=members, seed=seed, **(levers or {}))

    return make


@pytest.fixture(scope="session")
def orgsim_command() -> list[str]:
    """The installed ``orgsim`` console script (next to this Python), else ``python -m orgsim.cli``."""
    script = Path(sys.executable).with_name("orgsim")
    return [str(script)] if script.exists() else [sys.executable, "-m", "orgsim.cli"]
