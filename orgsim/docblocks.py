"""Generated blocks in Markdown files: text between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``.

The scripts under ``docs/scripts/`` write their numbers into README.md and the guides between such
markers, so that hand-written prose around them stays and a test can check a block against the
script's output.
"""

from __future__ import annotations

import re
from pathlib import Path

from orgsim import atomic
from orgsim.errors import OrgsimError


def markers(name: str) -> tuple[str, str]:
    """The start and end markers of block ``name``."""
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def _pattern(name: str) -> re.Pattern[str]:
    start, end = markers(name)
    return re.compile(re.escape(start) + r"\n?(.*?)\n?" + re.escape(end), re.S)


def read_block(text: str, name: str) -> str:
    """The text of block ``name`` in ``text`` (without its markers); OrgsimError if it has none."""
    found = _pattern(name).search(text)
    if found is None:
        raise OrgsimError(f"no {' ... '.join(markers(name))} markers")
    return found.group(1)


def replace_block(text: str, name: str, block: str) -> str:
    """``text`` with block ``name`` replaced by ``block``; OrgsimError if it has no such markers."""
    read_block(text, name)
    start, end = markers(name)
    return _pattern(name).sub(lambda _: f"{start}\n{block}\n{end}", text, count=1)


def write_blocks(path: str | Path, blocks: dict[str, str]) -> None:
    """Replace each named block of the file at ``path`` (every block must have its markers there)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    for name, block in blocks.items():
        try:
            text = replace_block(text, name, block)
        except OrgsimError as err:
            raise OrgsimError(f"{path}: {err}") from None
    atomic.write_text(path, text)
