"""`voxtrald selftest` with the smallest bundled model, with every CPU kept busy.

The self-check guards updates: one that fails on a good installation keeps an
install on that model from ever updating. So it runs as an update runs it, a
real subprocess loading tiny.en, while busy loops take every CPU. Once here:
the loops slow every other test running beside this one, and how often it
passes in a row is benchmarks/bench_selftest.py's to count (20 runs per model).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

RUNS = 1


def _burn(stop: mp.synchronize.Event) -> None:  # type: ignore[name-defined]
    while not stop.is_set():
        sum(range(10_000))


@pytest.fixture
def full_load() -> Iterator[None]:
    stop = mp.Event()
    burners = [mp.Process(target=_burn, args=(stop,), daemon=True)
               for _ in range(os.cpu_count() or 1)]
    for p in burners:
        p.start()
    yield
    stop.set()
    for p in burners:
        p.join()


@pytest.mark.usefixtures("full_load")
def test_selftest_passes_with_tiny_en_under_full_load() -> None:
    for _ in range(RUNS):
        done = subprocess.run([sys.executable, "-m", "voxtrald", "selftest", "--model",
                               "tiny.en", "--json"], capture_output=True, text=True,
                              timeout=600, stdin=subprocess.DEVNULL)
        result = json.loads(done.stdout)
        assert done.returncode == 0 and result["ok"], result
        assert result["model"] == "tiny.en"


def test_selftest_refuses_a_model_that_hears_nothing_right() -> None:
    """The judge still fails what a broken installation would produce."""
    from voxtrald.install.selftest import judge

    assert judge("") is not None
    assert judge("Thank you. Thank you. Thank you.") is not None
    assert judge("the quick brown fox " * 30) is not None
    # What tiny.en hears: a few words misheard is a working installation.
    assert judge("The quick round fox jump over the lazy dog. Please call Taylor. Ask her "
                 "to bring these things with her from the store.") is None
