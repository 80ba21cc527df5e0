"""The one way tests wait: on the event itself, polled, with a deadline that names it.

A test that sleeps for a guessed time either wastes that time or fails under load;
polling the thing the test waits for ends as soon as it happens, and a deadline
that names what never came turns a hang into a readable failure.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "",
             interval: float = 0.1) -> Any:
    """The first truthy value of `predicate()`; AssertionError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(interval)


def returns(call: Callable[[], T], timeout: float = 30.0, what: str = "") -> T:
    """What `call()` returns, run in a thread; AssertionError naming `what` if it has not
    returned after `timeout` s. A guard against a hang, not a measure: give the call a
    wait of its own far beyond `timeout` (a long-poll of an hour, a stop that would wait
    for a 60 s interval), so that returning at all is the event the test waits for."""
    result: list[T] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            result.append(call())
        except BaseException as exc:  # re-raised in the test's thread
            failed.append(exc)

    thread = threading.Thread(target=run, name="returns", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise AssertionError(f"still waiting after {timeout} s for {what or call}")
    if failed:
        raise failed[0]
    return result[0]


class Waits(threading.Event):
    """A loop's stop event that notes each pause the loop asks for: a test of a pace reads
    the pauses asked for, in order, instead of timing the loop. `stepped`: a pause lasts
    until the test calls step() (or the event is set), not for the time asked."""

    def __init__(self, stepped: bool = False) -> None:
        super().__init__()
        self.asked: list[float | None] = []
        self._stepped = stepped
        self._steps = threading.Semaphore(0)

    def wait(self, timeout: float | None = None) -> bool:
        self.asked.append(timeout)
        if not self._stepped:
            return super().wait(timeout)
        while not self.is_set():
            if self._steps.acquire(timeout=0.05):
                return False
        return True

    def step(self) -> None:
        """End the pause the loop is in (or its next one)."""
        self._steps.release()
