"""Give a closed page's memory back: when Solara closes a session (its page closed, or culled after
``SOLARA_KERNEL_CULL_TIMEOUT``), collect its objects and hand freed heap pages back to the system.

Without this the server's resident memory only grows: CPython's collector runs on allocation counts, not
on time, and glibc keeps freed memory in its arenas. ``install()`` registers the hook once per process.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import threading

import solara.lab

#: Seconds after a session closes before its memory is collected (Solara drops its references first).
DELAY = 2.0
_installed = False


def release() -> None:
    """Collect unreachable objects and return free heap memory to the system (glibc ``malloc_trim``)."""
    gc.collect()
    name = ctypes.util.find_library("c")
    with contextlib.suppress(OSError, AttributeError, TypeError):  # not glibc: the collection alone
        ctypes.CDLL(name).malloc_trim(0)


def _on_kernel_start():
    def closed() -> None:
        timer = threading.Timer(DELAY, release)
        timer.daemon = True
        timer.start()

    return closed


def install() -> None:
    """Release memory after every session closes (idempotent)."""
    global _installed
    if not _installed:
        solara.lab.on_kernel_start(_on_kernel_start)
        _installed = True
