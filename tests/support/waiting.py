"""The one way tests wait: on the event itself, polled, with a deadline that names it.

A test that sleeps for a guessed time either wastes that time or fails under load;
polling the thing the test waits for ends as soon as it happens, and a deadline
that names what never came turns a hang into a readable failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


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
