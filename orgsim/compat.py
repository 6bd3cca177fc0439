"""Compatibility with the Mesa versions orgsim may meet.

Mesa 3.3.1 (the newest for Python 3.11) takes ``Model(seed=...)`` or ``Model(rng=...)``; 3.5 deprecates
``seed`` and 4.0 removes it. :func:`mesa_seed_kwargs` gives the keyword the installed Mesa prefers. For an
integer seed both keywords give the same ``random`` and ``rng`` streams in 3.3.1, so results do not change.
"""

from __future__ import annotations

import functools
import inspect
import re

#: The first Mesa release that deprecates ``Model(seed=...)`` in favour of ``rng``.
RNG_PREFERRED_FROM = (3, 5)


def mesa_seed_kwargs(seed: int | None) -> dict[str, int | None]:
    """``{"rng": seed}`` when the installed Mesa's ``Model.__init__`` prefers ``rng``, else ``{"seed": seed}``;
    pass it as ``super().__init__(**mesa_seed_kwargs(seed))``."""
    return {_seed_keyword(): seed}


@functools.lru_cache(maxsize=1)
def _seed_keyword() -> str:
    import mesa

    accepted = set(inspect.signature(mesa.Model.__init__).parameters)
    return seed_keyword(accepted, mesa.__version__)


def seed_keyword(accepted: set[str], version: str) -> str:
    """"rng" or "seed": the keyword a Mesa ``Model.__init__`` accepting ``accepted`` keywords, of release
    ``version``, prefers."""
    if "rng" not in accepted:
        return "seed"
    if "seed" not in accepted:
        return "rng"
    match = re.match(r"(\d+)\.(\d+)", version)
    release = (int(match[1]), int(match[2])) if match else (0, 0)
    return "rng" if release >= RNG_PREFERRED_FROM else "seed"
