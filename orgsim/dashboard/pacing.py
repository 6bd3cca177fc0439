"""Play paced by what the page has drawn: the next frame is stepped only once the page says it drew the last.

The server can step and render frames faster than a loaded browser (or a loaded server, eight pages on two
cores) delivers them. Unpaced, the model runs ahead of what the room sees: a page sits on week 13 while its
run is at week 60, and Pause or a shock acts on a week nobody has seen. Here each frame carries a number;
the page's :func:`Drawn` element sends the number back once the browser has applied and painted it, and
the play loop waits for that (:meth:`Pacer.wait`) before it steps again. Under load play slows down
instead of running ahead, and Pause stops within the frame on its way. Play frames of all sessions take
turns (:func:`play_turn`), so that clicks are not starved by them.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import solara

#: Longest wait for a page to draw a frame before play stops (a page that has gone, or a hidden tab).
DELIVERY_TIMEOUT = 60.0
#: Frames of play rendered at once in this server process, over all sessions. The server is one Python
#: process (one GIL): eight pages rendering at once each get an eighth of it, and so does a presenter's
#: Step click. Taking turns, play frames leave a click half the processor instead.
_PLAY_SLOTS = threading.BoundedSemaphore(1)


class Pacer:
    """The last frame number sent to a page and the last one it drew, and a way to wait for it."""

    def __init__(self) -> None:
        self._drawn = -1
        self._changed = threading.Condition()

    @property
    def drawn(self) -> int:
        return self._drawn

    def on_drawn(self, frame: int) -> None:
        """Called (from the page) with the number of a frame the page has drawn."""
        with self._changed:
            self._drawn = max(self._drawn, int(frame))
            self._changed.notify_all()

    def wait(self, frame: int, cancel: threading.Event, timeout: float = DELIVERY_TIMEOUT) -> bool:
        """Block until the page has drawn ``frame`` (True), or ``cancel`` is set or ``timeout`` seconds pass
        (False). Wakes up every 0.1 s to look at ``cancel``."""
        remaining = timeout
        with self._changed:
            while self._drawn < frame:
                if cancel.is_set() or remaining <= 0:
                    return False
                self._changed.wait(min(0.1, remaining))
                remaining -= 0.1
        return True


@contextlib.contextmanager
def play_turn(cancel: threading.Event) -> Iterator[bool]:
    """Wait for this session's turn to step and render a frame of play; yields False if ``cancel`` came first."""
    while not _PLAY_SLOTS.acquire(timeout=0.1):
        if cancel.is_set():
            yield False
            return
    try:
        yield True
    finally:
        _PLAY_SLOTS.release()


@solara.component_vue(str(Path(__file__).with_name("drawn.vue")))
def Drawn(frame: int, event_drawn: Callable[[int], None]):
    """An invisible element that reports ``frame`` back through ``event_drawn`` once the page has drawn it.
    Place it after everything the frame shows: widget updates reach the browser in order."""
