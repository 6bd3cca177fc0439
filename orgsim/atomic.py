"""Atomic file writes: a file the command line writes is either complete or not there (or the old one).

Each writer writes under a temporary name in the destination's folder (``.NAME.PID-RANDOM.tmp``), then
renames it into place; a failure (a full disk, a read-only file system, Ctrl-C) removes the temporary
file and leaves the destination as it was. ``Batch`` stages several files and renames them only once
all were written, so a set of outputs (a comparison's CSVs and figure) is not left half-updated.

An ``OSError`` raised while writing carries the destination path (``err.filename``), so the top-level
guard (``orgsim.guard``) can name it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orgsim.errors import OrgsimError

#: Pattern of the temporary files this module writes (a killed process may leave some behind).
TMP_GLOB = ".*.tmp"


def temporary(path: Path) -> Path:
    """A fresh temporary name next to ``path``."""
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(3)}.tmp")


def _named(err: OSError, path: Path) -> OSError:
    """The same error, naming ``path`` (the destination, not the temporary file)."""
    strerror = err.strerror or (str(err.args[0]) if err.args else type(err).__name__)
    return type(err)(err.errno, strerror, str(path)) if err.errno else OSError(None, strerror, str(path))


def write(path: str | Path, writer: Callable[[Path], Any]) -> Path:
    """Call ``writer(tmp)`` to write a temporary file, then rename it to ``path``; returns ``path``."""
    path = Path(path)
    check_file(path)
    tmp = temporary(path)
    try:
        writer(tmp)
        os.replace(tmp, path)
    except OSError as err:
        raise _named(err, path) from err
    finally:
        _remove(tmp)
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) atomically."""
    return write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_csv(frame: Any, path: str | Path, **kwargs: Any) -> Path:
    """Write a DataFrame as CSV atomically (``kwargs`` go to ``DataFrame.to_csv``)."""
    return write(path, lambda tmp: frame.to_csv(tmp, **kwargs))


def save_figure(figure: Any, path: str | Path, **kwargs: Any) -> Path:
    """Save a matplotlib figure atomically, in the format of the file's suffix (``.png`` by default)."""
    path = Path(path)
    kwargs.setdefault("format", path.suffix.lstrip(".") or "png")
    return write(path, lambda tmp: figure.savefig(tmp, **kwargs))


class Batch:
    """Stage several files; ``commit()`` renames them all into place, ``discard()`` removes them.

    Used as a context manager, it commits when the block ends normally and discards otherwise.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []

    def write(self, path: str | Path, writer: Callable[[Path], Any]) -> Path:
        path = Path(path)
        check_file(path)
        tmp = temporary(path)
        self._staged.append((tmp, path))
        try:
            writer(tmp)
        except OSError as err:
            raise _named(err, path) from err
        return path

    def csv(self, frame: Any, path: str | Path, **kwargs: Any) -> Path:
        return self.write(path, lambda tmp: frame.to_csv(tmp, **kwargs))

    def text(self, path: str | Path, text: str) -> Path:
        return self.write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))

    def figure(self, figure: Any, path: str | Path, **kwargs: Any) -> Path:
        kwargs.setdefault("format", Path(path).suffix.lstrip(".") or "png")
        return self.write(path, lambda tmp: figure.savefig(tmp, **kwargs))

    def commit(self) -> list[Path]:
        done = []
        try:
            for tmp, path in self._staged:
                try:
                    os.replace(tmp, path)
                except OSError as err:
                    raise _named(err, path) from err
                done.append(path)
        finally:
            self.discard()
        return done

    def discard(self) -> None:
        for tmp, _ in self._staged:
            _remove(tmp)
        self._staged = []

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, kind, value, tb) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


def _remove(tmp: Path) -> None:
    """Remove a temporary file if it is there (a read-only file system refuses even that: ignored)."""
    with contextlib.suppress(OSError):
        tmp.unlink(missing_ok=True)


def kind(path: Path) -> str | None:
    """What is at ``path`` when it is not a regular file or a folder ("a FIFO", "a device", ...), else None."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_file(path: Path) -> None:
    """Refuse to write over a folder, FIFO or device: raises ``OrgsimError`` naming ``path``."""
    if path.is_dir():
        raise OrgsimError(f"{path}: is a folder; give a file name to write")
    if (what := kind(path)) is not None:
        raise OrgsimError(f"{path}: is {what}, not a regular file; give a file name to write")


def prepare_folder(folder: str | Path, what: str = "output folder") -> Path:
    """Create ``folder`` (and its parents) for writing; ``OrgsimError`` if it is a file, FIFO or device or
    cannot be created."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        thing = kind(folder) or "a file"
        raise OrgsimError(f"{folder}: --out must be a folder, and this is {thing}; give the {what} "
                          "(created if missing)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OrgsimError(f"{folder}: cannot create the {what} ({err.strerror}); use a folder you can write") from None
    return folder


def remove_stale(folder: Path) -> None:
    """Remove temporary files left in ``folder`` by a killed writer (call only while holding its lock)."""
    for stale in folder.glob(TMP_GLOB):
        stale.unlink(missing_ok=True)
