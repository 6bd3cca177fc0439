"""Errors that the command line reports as one line and exit code 2."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any


class OrgsimError(ValueError):
    """Bad input from a user: a scenario file, a parameter, a results folder.

    The message is complete on its own (it names the file, the key and what is allowed), so
    the command line prints it as a single line without a traceback.
    """


def describe_validation_error(err: Any, source: str = "", root: type | None = None) -> str:
    """One line from a pydantic ``ValidationError``: where, what is wrong, and what was given.

    ``source`` (a file name, say) is put in front. For an unknown key, the keys allowed there are
    listed (nearest first) when ``root``, the model validated, is given. Only the first problem is
    described in full; the count of any others follows.
    """
    problems = err.errors()
    first = problems[0]
    loc = [part for part in first["loc"] if not str(part).startswith(("function-", "union["))]
    where = ".".join(str(part) for part in loc)
    if first["type"] == "extra_forbidden":
        allowed = _allowed_keys(root, loc[:-1]) if root is not None else []
        near = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        what = "unknown key"
        if near:
            what += f" (did you mean {near[0]!r}?)"
        if allowed:
            what += f"; allowed: {', '.join(allowed)}"
    else:
        what = first["msg"][0].lower() + first["msg"][1:]
        what = what.removeprefix("value error, ")
        if "input" in first and not isinstance(first["input"], dict | list):
            what += f" (got {first['input']!r})"
    extra = len(problems) - 1
    more = f" (+{extra} more problem{'s' if extra > 1 else ''})" if extra else ""
    parts = [source] if source else []
    if loc:
        parts.append(where)
    return ": ".join([*parts, what + more])


def _allowed_keys(root: Any, path: list) -> list[str]:
    """Field names of the model found by following ``path`` down from ``root``."""
    node = root
    for part in path:
        node = _unwrap(node)
        if isinstance(node, type) and hasattr(node, "model_fields"):
            if part not in node.model_fields:
                return []
            node = node.model_fields[part].annotation
        else:
            args = [a for a in typing.get_args(node) if a is not Ellipsis]  # tuple[X, ...]: X
            node = args[-1] if args else None
    node = _unwrap(node)
    return list(node.model_fields) if isinstance(node, type) and hasattr(node, "model_fields") else []


def _unwrap(annotation: Any) -> Any:
    """``X | None`` -> X."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation
