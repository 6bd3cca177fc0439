"""The command line's top-level guard: every error ends in one line on stderr and a documented exit code.

    0   success
    2   bad input: a scenario file, an option, a path (missing, a folder, a FIFO, too long, not writable)
    74  the machine failed, not the input: a full disk or quota, an I/O error, out of memory; free the
        resource and run the same command again (a sweep resumes where it stopped)
    70  a bug in orgsim: the one line says where the full traceback was written
    130 interrupted (Ctrl-C); 141 the reader of the output went away (``| head``)

``--debug`` (or ``ORGSIM_DEBUG=1``) shows the traceback of anything but bad input instead.
"""

from __future__ import annotations

import errno
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable

from orgsim.errors import OrgsimError

BAD_INPUT = 2
RESOURCE = 74  # sysexits.h EX_IOERR
BUG = 70  # sysexits.h EX_SOFTWARE
DEBUG_ENV = "ORGSIM_DEBUG"

#: errno -> (what happened, what to do, exit code).
_OS_ERRORS: dict[int, tuple[str, str, int]] = {
    errno.ENOSPC: ("no space left on the device", "free some space (or use another --out) and run the same "
                   "command again; files already written are complete and kept", RESOURCE),
    errno.EDQUOT: ("disk quota exceeded", "free some space (or use another --out) and run the same command "
                   "again; files already written are complete and kept", RESOURCE),
    errno.EFBIG: ("file too large for this file system", "write to another file system (--out)", RESOURCE),
    errno.EIO: ("input/output error", "check the disk, then run the same command again", RESOURCE),
    errno.EROFS: ("the file system is read-only", "give a folder on a writable file system (--out)", BAD_INPUT),
    errno.EACCES: ("permission denied", "use a file or folder you may read and write, or change its permissions",
                   BAD_INPUT),
    errno.EPERM: ("operation not permitted", "use a file or folder you may read and write", BAD_INPUT),
    errno.ENAMETOOLONG: ("the name is too long for the file system", "use a shorter path", BAD_INPUT),
    errno.EISDIR: ("is a folder", "give a file name", BAD_INPUT),
    errno.ENOTDIR: ("a part of the path is a file, not a folder", "check the path", BAD_INPUT),
    errno.ENOENT: ("no such file or folder", "check the path", BAD_INPUT),
    errno.ELOOP: ("too many levels of symbolic links", "check the path", BAD_INPUT),
    errno.ENXIO: ("no such device or address (a FIFO with no reader?)", "give a regular file", BAD_INPUT),
    errno.ETXTBSY: ("the file is busy", "close what uses it, or give another file", BAD_INPUT),
    errno.EMFILE: ("too many open files", "raise the limit (ulimit -n) and run again", RESOURCE),
    errno.ENOMEM: ("out of memory", "close other programs or run a smaller experiment", RESOURCE),
}


def debugging(argv: list[str]) -> tuple[bool, list[str]]:
    """Whether ``--debug`` was given (anywhere before ``--``) or ORGSIM_DEBUG is set; argv without it."""
    end = argv.index("--") if "--" in argv else len(argv)
    flag = "--debug" in argv[:end]
    if flag:
        argv = [a for i, a in enumerate(argv) if not (a == "--debug" and i < end)]
    env = os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")
    return flag or env, argv


def describe_os_error(err: OSError) -> tuple[str, int]:
    """One line for a file-system error, naming the path and what to do, and the exit code."""
    what, todo, code = _OS_ERRORS.get(err.errno or 0, (None, "check the path and run again", BAD_INPUT))
    what = what or err.strerror or (str(err.args[0]) if err.args else type(err).__name__)
    paths = [p for p in (err.filename, err.filename2) if p is not None]
    where = " -> ".join(str(p) for p in paths)
    return (f"{where}: {what}; {todo}" if where else f"{what}; {todo}"), code


def write_traceback(err: BaseException) -> str | None:
    """Write the full traceback of ``err`` to a file in the system's temporary folder; its path, or None."""
    text = "".join(traceback.format_exception(err))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        fd, path = tempfile.mkstemp(prefix=f"orgsim-traceback-{stamp}-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(f"orgsim {_version()}, Python {sys.version.split()[0]}\n{' '.join(sys.argv)}\n\n{text}")
        return path
    except OSError:
        return None


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("orgsim")
    except Exception:  # noqa: BLE001 - only for the traceback file's header
        return "(unknown version)"


def guarded(action: Callable[[], int], debug: bool = False) -> int:
    """Run ``action``; turn any exception it raises into one line on stderr and an exit code."""
    try:
        return action()
    except OrgsimError as err:
        return _say(str(err), BAD_INPUT)
    except KeyboardInterrupt:
        print("orgsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (e.g. `orgsim compare ... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as err:
        if debug:
            raise
        if isinstance(err, OSError):
            return _say(*describe_os_error(err))
        if isinstance(err, RecursionError):
            return _say("a value is nested too deeply to read (more levels than Python allows); "
                        "flatten the input", BAD_INPUT)
        if isinstance(err, MemoryError):
            return _say("out of memory; run a smaller experiment (fewer seeds, points, ticks or members) "
                        "or close other programs", RESOURCE)
        path = write_traceback(err)
        where = f"the full traceback is in {path}" if path else "the traceback could not be written to a file"
        return _say(f"internal error, a bug in orgsim ({type(err).__name__}: {_first_line(err)}); {where}; "
                    f"please report it (--debug or {DEBUG_ENV}=1 shows it here)", BUG)


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else "no message"


def _say(message: str, code: int) -> int:
    print(f"orgsim: error: {message}", file=sys.stderr)
    return code
